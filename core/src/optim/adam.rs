//! Adam, in the book's form (`Adam`): with `t` the update count of the parameter,
//! `lr_t = lr·√(1 − β2ᵗ)/(1 − β1ᵗ); m ← m + (1 − β1)(dW − m); v ← v + (1 − β2)(dW² − v);
//! W ← W − lr_t·m / (√v + 1e-7)`.

use super::{check_learning_rate, for_each_element, state, Optimizer, EPSILON};
use crate::{Float, Result};
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};
use std::collections::HashMap;

/// Adam with learning rate `lr`, `beta1` (0.9) and `beta2` (0.999); per parameter, the moments
/// `m`, `v` and the number of updates so far.
#[derive(Clone, Debug)]
pub struct Adam<F> {
    /// The learning rate (the book's default 0.001).
    pub lr: f64,
    /// Decay of the first moment (0.9).
    pub beta1: f64,
    /// Decay of the second moment (0.999).
    pub beta2: f64,
    moments: HashMap<String, Moments<F>>,
}

/// One parameter's Adam state.
#[derive(Clone, Debug)]
struct Moments<F> {
    iter: i32,
    m: ArrayD<F>,
    v: ArrayD<F>,
}

impl<F: Float> Adam<F> {
    /// Adam with β1 0.9, β2 0.999 and learning rate `lr` (positive, finite).
    pub fn new(lr: f64) -> Result<Self> {
        check_learning_rate(lr)?;
        Ok(Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            moments: HashMap::new(),
        })
    }
}

impl<F: Float> Optimizer<F> for Adam<F> {
    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn update(&mut self, key: &str, param: ArrayViewMutD<F>, grad: ArrayViewD<F>) {
        let s = state(&mut self.moments, key, || Moments {
            iter: 0,
            m: ArrayD::zeros(grad.raw_dim()),
            v: ArrayD::zeros(grad.raw_dim()),
        });
        s.iter += 1;
        let lr_t = F::of(
            self.lr * (1.0 - self.beta2.powi(s.iter)).sqrt() / (1.0 - self.beta1.powi(s.iter)),
        );
        let (b1, b2, eps) = (
            F::of(1.0 - self.beta1),
            F::of(1.0 - self.beta2),
            F::of(EPSILON),
        );
        for_each_element(param, grad, [&mut s.m, &mut s.v], |w, g, [m, v]| {
            *m += b1 * (g - *m);
            *v += b2 * (g * g - *v);
            *w -= lr_t * *m / (v.sqrt() + eps);
        });
    }

    fn state_slots(&self) -> &'static [&'static str] {
        &["m", "v"]
    }

    fn state(&self) -> Vec<(String, ArrayD<F>)> {
        let mut out = super::export_slot("m", self.moments.iter().map(|(k, s)| (k, &s.m)));
        out.extend(super::export_slot(
            "v",
            self.moments.iter().map(|(k, s)| (k, &s.v)),
        ));
        out
    }

    /// Every parameter has been updated `updates` times: that is Adam's `t` for each.
    fn set_state(
        &mut self,
        mut state: Vec<(String, ArrayD<F>)>,
        updates: usize,
    ) -> std::result::Result<(), String> {
        let m = super::import_slot("m", &mut state);
        let mut v = super::import_slot("v", &mut state);
        if let Some((name, _)) = state.first() {
            return Err(format!("optimizer state {name} does not belong to Adam"));
        }
        self.moments = m
            .into_iter()
            .map(|(key, m)| {
                let v = v
                    .remove(&key)
                    .ok_or_else(|| format!("optimizer state m/{key} has no v/{key}"))?;
                let iter = i32::try_from(updates)
                    .map_err(|_| format!("{updates} updates are too many for Adam's counter"))?;
                Ok((key, Moments { iter, m, v }))
            })
            .collect::<std::result::Result<_, String>>()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::tests::assert_two_updates;

    #[test]
    fn two_updates_follow_the_book() {
        // t = 1: lr_t = 0.1·√0.001/0.1; m = 0.1·g1 = (0.05, −0.1); v = 0.001·g1² = (0.00025, 0.001).
        let lr_t = 0.1 * 0.001f64.sqrt() / 0.1;
        let w1 = [
            1.0 - lr_t * 0.05 / (0.00025f64.sqrt() + 1e-7),
            -2.0 + lr_t * 0.1 / (0.001f64.sqrt() + 1e-7),
        ];
        // t = 2: lr_t = 0.1·√(1 − 0.999²)/(1 − 0.81); m = (0.05 + 0.1·0.15, −0.1 + 0.1·0.5);
        // v = (0.00025 + 0.001·(0.04 − 0.00025), 0.001 + 0.001·(0.16 − 0.001)).
        let lr_t = 0.1 * 0.001999f64.sqrt() / 0.19;
        let w2 = [
            w1[0] - lr_t * 0.065 / (0.00028975f64.sqrt() + 1e-7),
            w1[1] + lr_t * 0.05 / (0.001159f64.sqrt() + 1e-7),
        ];
        assert_two_updates(&mut Adam::new(0.1).unwrap(), w1, w2);
        // The first step of Adam moves every weight by about lr, whatever its gradient's size.
        assert!((w1[0] - 0.9).abs() < 1e-5 && (w1[1] + 1.9).abs() < 1e-5);
    }
}
