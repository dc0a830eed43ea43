//! The book's gradient check: backpropagation against numerical gradients, in f64.
//!
//! Backprop is fast but easy to get wrong; the numerical gradient is slow but follows the
//! definition. Where they agree to ~1e-10, the backward passes are right.

use crate::layers::Targets;
use crate::net::{numerical_gradient, Network};
use crate::Float;
use ndarray::ArrayView2;

/// The largest mean absolute difference that counts as agreement.
pub const TOLERANCE: f64 = 1e-7;

/// One parameter's comparison: the mean of |backprop − numerical| over its elements.
#[derive(Clone, Debug)]
pub struct ParamCheck {
    /// `W1`, `b1`, …
    pub name: String,
    /// Mean absolute difference between the two gradients.
    pub mean_abs_diff: f64,
}

/// Compares backprop with numerical gradients for every parameter of `net` on the batch (x, t).
pub fn gradient_check<F: Float, N: Network<F> + Clone>(
    net: &N,
    x: ArrayView2<F>,
    t: &[usize],
) -> Vec<ParamCheck> {
    let numerical = numerical_gradient(net, x, Targets::Labels(t));
    let mut net = net.clone();
    net.gradient(x, Targets::Labels(t));
    numerical
        .iter()
        .enumerate()
        .map(|(i, num)| {
            let p = net.param(i);
            let total: f64 = p
                .grad
                .iter()
                .zip(num)
                .map(|(a, b)| (*a - *b).to_f64().abs())
                .sum();
            ParamCheck {
                name: p.name.to_string(),
                mean_abs_diff: total / num.len().max(1) as f64,
            }
        })
        .collect()
}
