//! Optimizers: how a parameter moves given its gradient. One type per rule, behind one trait.

pub mod sgd;

pub use sgd::Sgd;

use crate::net::Network;
use crate::Float;
use ndarray::{ArrayViewD, ArrayViewMutD};

/// An update rule, applied parameter by parameter; `key` names the parameter (`W1`, `b1`, …)
/// so that rules with state (momentum, Adam) keep one state per parameter.
pub trait Optimizer<F: Float> {
    /// Moves `param` using its gradient `grad` (same shape).
    fn update(&mut self, key: &str, param: ArrayViewMutD<F>, grad: ArrayViewD<F>);
}

/// Applies `optimizer` to every parameter of `net`, with the gradients of its last `gradient`.
pub fn step<F: Float, N: Network<F> + ?Sized>(net: &mut N, optimizer: &mut dyn Optimizer<F>) {
    for i in 0..net.param_names().len() {
        let p = net.param(i);
        optimizer.update(p.name, p.value, p.grad);
    }
}
