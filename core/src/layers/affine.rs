//! The Affine layer: `out = x·W + b` (the book's fully connected layer).
//!
//! ```python
//! def forward(self, x):              def backward(self, dout):
//!     self.x = x                         dx = np.dot(dout, self.W.T)
//!     out = np.dot(x, self.W) + self.b   self.dW = np.dot(self.x.T, dout)
//!     return out                         self.db = np.sum(dout, axis=0)
//!                                        return dx
//! ```
//!
//! The products are [`crate::kernels`]': from x's nonzero entries when x is mostly zeros
//! (MNIST's pixels, ReLU outputs), from all of them otherwise; each gives the plain product's
//! numbers, bit for bit.

use crate::kernels::{self, Input, SparseRows, Workspace};
use crate::Float;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

/// A fully connected layer with weights `W: (in, out)` and bias `b: (out,)`.
#[derive(Clone)]
pub struct Affine<F: Float> {
    /// Weights, (in, out): the book's `W`.
    pub W: Array2<F>,
    /// Bias, (out,): the book's `b`.
    pub b: Array1<F>,
    /// Gradient of the loss with respect to `W`, written by `backward`. After a sparse input
    /// only the rows that [`Affine::arrays_mut`] lists can be nonzero, and `backward` counts on
    /// the others staying 0: change dW outside `backward` only through
    /// [`Affine::add_weight_decay`].
    pub dW: Array2<F>,
    /// Gradient of the loss with respect to `b`, written by `backward`.
    pub db: Array1<F>,
    /// Whether `backward` computes `dx` (the first layer's input needs no gradient).
    pub needs_dx: bool,
    /// The last input (the book's `self.x`) and the products' scratch.
    work: Workspace<F>,
    out: Array2<F>,
    dx: Array2<F>,
}

impl<F: Float> Affine<F> {
    /// A layer from given weights `W: (in, out)` and bias `b: (out,)`.
    pub fn new(W: Array2<F>, b: Array1<F>) -> Self {
        assert_eq!(
            W.ncols(),
            b.len(),
            "Affine: W has {} columns, b has {} entries",
            W.ncols(),
            b.len()
        );
        // The kernels read W row by row.
        let W = W.as_standard_layout().into_owned();
        let (dW, db) = (Array2::zeros(W.dim()), Array1::zeros(b.len()));
        Affine {
            W,
            b,
            dW,
            db,
            needs_dx: true,
            work: Workspace::default(),
            out: Array2::zeros((0, 0)),
            dx: Array2::zeros((0, 0)),
        }
    }

    /// `out = x·W + b` for a dense or sparse x: (N, in) → out: (N, out). Keeps x for
    /// `backward` (as its nonzero entries when mostly zeros).
    pub fn forward<'x>(&mut self, x: impl Into<Input<'x, F>>) -> ArrayView2<'_, F>
    where
        F: 'x,
    {
        self.work.keep(x.into());
        kernels::affine_into(self.work.x(), self.W.view(), &self.b, &mut self.out);
        self.out.view()
    }

    /// From dout: (N, out), writes `dW = xᵀ·dout`, `db = Σ_rows dout` and returns
    /// `dx = dout·Wᵀ`: (N, in) (an empty view when `needs_dx` is false).
    pub fn backward(&mut self, dout: ArrayView2<F>) -> ArrayView2<'_, F> {
        self.work.weight_grad(dout, &mut self.dW);
        // db[j] = Σ_n dout[n, j], rows added in order.
        self.db.fill(F::zero());
        for row in dout.rows() {
            self.db += &row;
        }
        if !self.needs_dx {
            return self.dx.slice(ndarray::s![0..0, ..]);
        }
        self.work.input_grad(dout, &self.W, &mut self.dx);
        self.dx.view()
    }

    /// `out = x·W + b` for evaluation, keeping nothing; x: (N, in) → out: (N, out). A
    /// mostly-zero dense x is listed as its nonzero entries first (this allocates: it suits
    /// evaluation blocks, not the training loop, for which `forward` reuses its buffers).
    pub fn forward_eval_into<'x>(&self, x: impl Into<Input<'x, F>>, out: &mut Array2<F>)
    where
        F: 'x,
    {
        let mut rows = SparseRows::new();
        let W = self.W.as_standard_layout();
        kernels::affine_into(x.into().routed(&mut rows), W.view(), &self.b, out);
    }

    /// W, dW, the rows outside which dW is exactly 0, b and db, for an update: the rows are
    /// the last input's nonzero columns when it was sparse (`None` when any row may be
    /// nonzero), so an update rule for which a zero gradient changes nothing (SGD) need only
    /// touch those rows of W.
    #[allow(clippy::type_complexity)]
    pub fn arrays_mut(
        &mut self,
    ) -> (
        ArrayViewMut2<'_, F>,
        ArrayView2<'_, F>,
        Option<&[u32]>,
        ArrayViewMut1<'_, F>,
        ArrayView1<'_, F>,
    ) {
        let rows = self.work.dW_rows();
        (
            self.W.view_mut(),
            self.dW.view(),
            rows,
            self.b.view_mut(),
            self.db.view(),
        )
    }

    /// `dW += λ·W`: the gradient of the L2 penalty `½·λ·ΣW²`, added after `backward`.
    pub fn add_weight_decay(&mut self, lambda: F) {
        self.dW.scaled_add(lambda, &self.W);
        self.work.dW_changed();
    }
}

#[cfg(test)]
mod tests;
