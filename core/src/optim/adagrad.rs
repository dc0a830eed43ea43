//! AdaGrad: each weight's step shrinks with the sum of its squared gradients,
//! `h ← h + dW²; W ← W − lr·dW / (√h + 1e-7)` (the book's `AdaGrad`).

use super::{check_learning_rate, for_each_element, state, Optimizer, EPSILON};
use crate::{Float, Result};
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};
use std::collections::HashMap;

/// AdaGrad with learning rate `lr`; one sum of squared gradients `h` per parameter.
#[derive(Clone, Debug)]
pub struct AdaGrad<F> {
    /// The learning rate (the book's default 0.01).
    pub lr: F,
    h: HashMap<String, ArrayD<F>>,
}

impl<F: Float> AdaGrad<F> {
    /// AdaGrad with learning rate `lr` (positive, finite).
    pub fn new(lr: f64) -> Result<Self> {
        check_learning_rate(lr)?;
        Ok(AdaGrad {
            lr: F::of(lr),
            h: HashMap::new(),
        })
    }
}

impl<F: Float> Optimizer<F> for AdaGrad<F> {
    fn learning_rate(&self) -> f64 {
        self.lr.to_f64()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = F::of(lr);
    }

    fn update(&mut self, key: &str, param: ArrayViewMutD<F>, grad: ArrayViewD<F>) {
        let (lr, eps) = (self.lr, F::of(EPSILON));
        let h = state(&mut self.h, key, || ArrayD::zeros(grad.raw_dim()));
        for_each_element(param, grad, [h], |w, g, [h]| {
            *h += g * g;
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
        // h1 = g1² = (0.25, 1), √h1 = (0.5, 1).
        let w1 = [
            1.0 - 0.1 * 0.5 / (0.5 + 1e-7),
            -2.0 + 0.1 * 1.0 / (1.0 + 1e-7),
        ];
        // h2 = h1 + g2² = (0.29, 1.16).
        let w2 = [
            w1[0] - 0.1 * 0.2 / (0.29f64.sqrt() + 1e-7),
            w1[1] - 0.1 * 0.4 / (1.16f64.sqrt() + 1e-7),
        ];
        assert_two_updates(&mut AdaGrad::new(0.1).unwrap(), w1, w2);
    }
}
