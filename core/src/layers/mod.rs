//! Layers with `forward` beside `backward`, as in the book's chapter 5.
//!
//! Each layer owns the buffers it writes into (its output and its input gradient), so a
//! training step reuses the same memory every iteration; buffers are resized only when the
//! batch size changes. `forward` returns a view of the layer's output, `backward` a view of
//! `dx`. Gradients of parameters (`dW`, `db`) are *overwritten* by each `backward`, as the book
//! does (never accumulated). `Dropout` and `BatchNorm` (chapter 6) behave differently in
//! training and evaluation: their `forward` takes the book's `train_flg`.

pub mod affine;
pub mod batch_norm;
pub mod convolution;
pub mod dropout;
pub mod pooling;
pub mod relu;
pub mod sigmoid;
pub mod softmax_with_loss;

pub use crate::kernels::{copy_into, ensure_shape, AsInput, Input, SparseRows, SparseView};
pub use affine::Affine;
pub use batch_norm::BatchNorm;
pub use convolution::Convolution;
pub use dropout::{set_rng_states, Dropout};
pub use pooling::Pooling;
pub use relu::Relu;
pub use sigmoid::Sigmoid;
pub use softmax_with_loss::{SoftmaxWithLoss, Targets};

use crate::choice::{display_and_parse, Choice};
use crate::Float;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// The hidden layers' activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// The book's chapter-4 choice: smooth, but its gradient vanishes in deep stacks.
    Sigmoid,
    /// `max(0, x)`: the chapter-5/6 choice for deeper networks.
    Relu,
}

impl Choice for Activation {
    const ALL: &'static [Self] = &[Activation::Sigmoid, Activation::Relu];

    fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Relu => "relu",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Activation::Sigmoid => {
                "The book's chapter-4 choice: smooth, but its gradient vanishes in deep stacks"
            }
            Activation::Relu => "`max(0, x)`: the chapter-5/6 choice for deeper networks",
        }
    }
}

display_and_parse!(Activation);

/// A Sigmoid or ReLU layer, chosen at run time.
#[derive(Clone)]
pub enum ActivationLayer<F: Float> {
    /// See [`Sigmoid`].
    Sigmoid(Sigmoid<F>),
    /// See [`Relu`].
    Relu(Relu<F>),
}

impl<F: Float> ActivationLayer<F> {
    /// A fresh layer of the given kind.
    pub fn new(kind: Activation) -> Self {
        match kind {
            Activation::Sigmoid => ActivationLayer::Sigmoid(Sigmoid::default()),
            Activation::Relu => ActivationLayer::Relu(Relu::default()),
        }
    }

    /// The activation applied to x: (N, D) → (N, D).
    pub fn forward(&mut self, x: ArrayView2<F>) -> ArrayView2<'_, F> {
        match self {
            ActivationLayer::Sigmoid(layer) => layer.forward(x),
            ActivationLayer::Relu(layer) => layer.forward(x),
        }
    }

    /// The gradient passed back: dout (N, D) → dx (N, D).
    pub fn backward(&mut self, dout: ArrayView2<F>) -> ArrayView2<'_, F> {
        match self {
            ActivationLayer::Sigmoid(layer) => layer.backward(dout),
            ActivationLayer::Relu(layer) => layer.backward(dout),
        }
    }
}

/// Applies `kind` to every element in place (for evaluation, where nothing is kept).
pub fn activate_inplace<F: Float>(kind: Activation, x: &mut Array2<F>) {
    match kind {
        Activation::Sigmoid => x.mapv_inplace(crate::functions::sigmoid_scalar),
        Activation::Relu => x.mapv_inplace(|v| v.max(F::zero())),
    }
}

#[cfg(test)]
pub(crate) mod gradcheck {
    //! The book's gradient check for a single layer: backprop against central differences.
    use ndarray::{Array2, ArrayView2};

    /// Numerical derivative of `loss(x) = Σ forward(x) ⊙ dout` with respect to each element of x.
    pub fn numerical_dx(
        x: &Array2<f64>,
        dout: &Array2<f64>,
        mut forward: impl FnMut(ArrayView2<f64>) -> Array2<f64>,
    ) -> Array2<f64> {
        let h = 1e-5;
        let mut x = x.clone();
        let mut grad = Array2::zeros(x.dim());
        for idx in 0..x.len() {
            let (i, j) = (idx / x.ncols(), idx % x.ncols());
            let keep = x[[i, j]];
            x[[i, j]] = keep + h;
            let up = (&forward(x.view()) * dout).sum();
            x[[i, j]] = keep - h;
            let down = (&forward(x.view()) * dout).sum();
            x[[i, j]] = keep;
            grad[[i, j]] = (up - down) / (2.0 * h);
        }
        grad
    }

    /// Largest absolute difference between two arrays.
    pub fn max_diff(a: &Array2<f64>, b: ArrayView2<f64>) -> f64 {
        (a - &b).iter().fold(0.0, |m, v| m.max(v.abs()))
    }
}
