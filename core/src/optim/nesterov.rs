//! Nesterov's accelerated gradient, in the book's form (`Nesterov`):
//! `v ← momentum·v − lr·dW; W ← W + momentum²·v − (1 + momentum)·lr·dW`.

use super::{check_learning_rate, for_each_element, state, Optimizer};
use crate::{Float, Result};
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};
use std::collections::HashMap;

/// Nesterov momentum with learning rate `lr` and `momentum` (0.9); one `v` per parameter.
#[derive(Clone, Debug)]
pub struct Nesterov<F> {
    /// The learning rate (the book's default 0.01).
    pub lr: F,
    /// How much of the last velocity is kept (0.9).
    pub momentum: F,
    v: HashMap<String, ArrayD<F>>,
}

impl<F: Float> Nesterov<F> {
    /// Nesterov with momentum 0.9 and learning rate `lr` (positive, finite).
    pub fn new(lr: f64) -> Result<Self> {
        check_learning_rate(lr)?;
        Ok(Nesterov {
            lr: F::of(lr),
            momentum: F::of(0.9),
            v: HashMap::new(),
        })
    }
}

impl<F: Float> Optimizer<F> for Nesterov<F> {
    fn learning_rate(&self) -> f64 {
        self.lr.to_f64()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = F::of(lr);
    }

    fn update(&mut self, key: &str, param: ArrayViewMutD<F>, grad: ArrayViewD<F>) {
        let (lr, m) = (self.lr, self.momentum);
        let v = state(&mut self.v, key, || ArrayD::zeros(grad.raw_dim()));
        for_each_element(param, grad, [v], |w, g, [v]| {
            *v = m * *v - lr * g;
            *w += m * m * *v - (F::one() + m) * lr * g;
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
        // v1 = (−0.05, 0.1): W += 0.81·v1 − 0.19·g1 = (−0.0405 − 0.095, 0.081 + 0.19).
        let w1 = [0.8645, -1.729];
        // v2 = (−0.065, 0.05): W += 0.81·v2 − 0.19·g2 = (−0.05265 − 0.038, 0.0405 − 0.076).
        let w2 = [0.77385, -1.7645];
        assert_two_updates(&mut Nesterov::new(0.1).unwrap(), w1, w2);
    }
}
