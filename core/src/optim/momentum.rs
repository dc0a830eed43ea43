//! Momentum SGD: `v ← momentum·v − lr·dW; W ← W + v` (the book's `Momentum`).

use super::{check_learning_rate, for_each_element, state, Optimizer};
use crate::{Float, Result};
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};
use std::collections::HashMap;

/// Momentum with learning rate `lr` and `momentum` (0.9); one velocity `v` per parameter.
#[derive(Clone, Debug)]
pub struct Momentum<F> {
    /// The learning rate (the book's default 0.01).
    pub lr: F,
    /// How much of the last velocity is kept (0.9).
    pub momentum: F,
    v: HashMap<String, ArrayD<F>>,
}

impl<F: Float> Momentum<F> {
    /// Momentum 0.9 with learning rate `lr` (positive, finite).
    pub fn new(lr: f64) -> Result<Self> {
        check_learning_rate(lr)?;
        Ok(Momentum {
            lr: F::of(lr),
            momentum: F::of(0.9),
            v: HashMap::new(),
        })
    }
}

impl<F: Float> Optimizer<F> for Momentum<F> {
    fn learning_rate(&self) -> f64 {
        self.lr.to_f64()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = F::of(lr);
    }

    fn update(&mut self, key: &str, param: ArrayViewMutD<F>, grad: ArrayViewD<F>) {
        let (lr, momentum) = (self.lr, self.momentum);
        let v = state(&mut self.v, key, || ArrayD::zeros(grad.raw_dim()));
        for_each_element(param, grad, [v], |w, g, [v]| {
            *v = momentum * *v - lr * g;
            *w += *v;
        });
    }

    fn state_slots(&self) -> &'static [&'static str] {
        &["v"]
    }

    fn state(&self) -> Vec<(String, ArrayD<F>)> {
        super::export_slot("v", self.v.iter())
    }

    fn set_state(
        &mut self,
        state: Vec<(String, ArrayD<F>)>,
        _updates: usize,
    ) -> std::result::Result<(), String> {
        super::set_single_slot("v", &mut self.v, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::tests::assert_two_updates;

    #[test]
    fn two_updates_follow_the_book() {
        // v1 = −0.1·g1 = (−0.05, 0.1); v2 = 0.9·v1 − 0.1·g2 = (−0.065, 0.05).
        let w1 = [1.0 - 0.05, -2.0 + 0.1];
        let w2 = [w1[0] - 0.065, w1[1] + 0.05];
        assert_two_updates(&mut Momentum::new(0.1).unwrap(), w1, w2);
    }
}
