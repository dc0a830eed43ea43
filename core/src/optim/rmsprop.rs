//! RMSprop: AdaGrad with a forgetting sum, `h ← decay·h + (1 − decay)·dW²;
//! W ← W − lr·dW / (√h + 1e-7)` (the book's `RMSprop`, decay 0.99).

use super::{check_learning_rate, for_each_element, state, Optimizer, EPSILON};
use crate::{Float, Result};
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};
use std::collections::HashMap;

/// RMSprop with learning rate `lr` and `decay_rate` (0.99); one moving average `h` per parameter.
#[derive(Clone, Debug)]
pub struct RmsProp<F> {
    /// The learning rate (the book's default 0.01).
    pub lr: F,
    /// How much of the old average is kept each step (0.99).
    pub decay_rate: F,
    h: HashMap<String, ArrayD<F>>,
}

impl<F: Float> RmsProp<F> {
    /// RMSprop with decay 0.99 and learning rate `lr` (positive, finite).
    pub fn new(lr: f64) -> Result<Self> {
        check_learning_rate(lr)?;
        Ok(RmsProp {
            lr: F::of(lr),
            decay_rate: F::of(0.99),
            h: HashMap::new(),
        })
    }
}

impl<F: Float> Optimizer<F> for RmsProp<F> {
    fn learning_rate(&self) -> f64 {
        self.lr.to_f64()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = F::of(lr);
    }

    fn update(&mut self, key: &str, param: ArrayViewMutD<F>, grad: ArrayViewD<F>) {
        let (lr, decay, eps) = (self.lr, self.decay_rate, F::of(EPSILON));
        let h = state(&mut self.h, key, || ArrayD::zeros(grad.raw_dim()));
        for_each_element(param, grad, [h], |w, g, [h]| {
            *h = decay * *h + (F::one() - decay) * g * g;
            *w -= lr * g / (h.sqrt() + eps);
        });
    }

    fn state_slots(&self) -> &'static [&'static str] {
        &["h"]
    }

    fn state(&self) -> Vec<(String, ArrayD<F>)> {
        super::export_slot("h", self.h.iter())
    }

    fn set_state(
        &mut self,
        state: Vec<(String, ArrayD<F>)>,
        _updates: usize,
    ) -> std::result::Result<(), String> {
        super::set_single_slot("h", &mut self.h, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::tests::assert_two_updates;

    #[test]
    fn two_updates_follow_the_book() {
        // h1 = 0.01·g1² = (0.0025, 0.01), √h1 = (0.05, 0.1).
        let w1 = [
            1.0 - 0.1 * 0.5 / (0.05 + 1e-7),
            -2.0 + 0.1 * 1.0 / (0.1 + 1e-7),
        ];
        // h2 = 0.99·h1 + 0.01·g2² = (0.002475 + 0.0004, 0.0099 + 0.0016) = (0.002875, 0.0115).
        let w2 = [
            w1[0] - 0.1 * 0.2 / (0.002875f64.sqrt() + 1e-7),
            w1[1] - 0.1 * 0.4 / (0.0115f64.sqrt() + 1e-7),
        ];
        assert_two_updates(&mut RmsProp::new(0.1).unwrap(), w1, w2);
    }
}
