//! What the Affine layer keeps from forward for backward, and the scratch its products reuse.
//!
//! The book's `Affine` keeps `self.x`; here x is kept in the form the products read it in — its
//! nonzero entries when it is mostly zeros — and backward's two products take the matching
//! route. Every buffer keeps its capacity, so a training step allocates nothing once the
//! buffers have grown to the largest batch.

use super::csr::SparseRows;
use super::input::{mostly_zero, Input};
use super::{copy_into, dense, sparse};
use crate::Float;
use ndarray::{Array2, ArrayView2};

/// The last input of an Affine layer and the scratch of its backward products.
#[derive(Clone)]
pub struct Workspace<F: Float> {
    /// The last input, dense (N, in) — when it was not mostly zeros.
    x: Array2<F>,
    /// The last input's nonzero entries, when it was sparse or mostly zeros (`sparse`).
    x_sparse: SparseRows<F>,
    /// Which of `x` and `x_sparse` holds the last input.
    sparse: bool,
    /// When `dW_sparse`, dW is 0 outside these rows (the last sparse input's nonzero columns).
    dW_rows: Vec<u32>,
    dW_sparse: bool,
    /// Scratch: the sparse dW's (xᵀ as rows of nonzeros), Wᵀ (out, in).
    grad: sparse::GradScratch<F>,
    w_t: Array2<F>,
}

impl<F: Float> Default for Workspace<F> {
    fn default() -> Self {
        Workspace {
            x: Array2::zeros((0, 0)),
            x_sparse: SparseRows::new(),
            sparse: false,
            // A new layer's dW is all zeros: zero outside the empty list of rows.
            dW_rows: Vec::new(),
            dW_sparse: true,
            grad: Default::default(),
            w_t: Array2::zeros((0, 0)),
        }
    }
}

impl<F: Float> Workspace<F> {
    /// Keeps x: (N, in) for backward (the book's `self.x = x`), as its nonzero entries when it
    /// is sparse or [`mostly_zero`], else as a dense copy.
    pub fn keep(&mut self, x: Input<F>) {
        self.sparse = match x {
            Input::Sparse(x) => {
                self.x_sparse.assign_view(x);
                true
            }
            Input::Dense(x) if mostly_zero(x) => {
                self.x_sparse.assign(x);
                true
            }
            Input::Dense(x) => {
                copy_into(&mut self.x, x);
                false
            }
        };
    }

    /// The kept x, in the form the products read it in.
    pub fn x(&self) -> Input<'_, F> {
        if self.sparse {
            Input::Sparse(self.x_sparse.view())
        } else {
            Input::Dense(self.x.view())
        }
    }

    /// `dW = xᵀ·dout` with the kept x: (N, in); dout: (N, out) → dW: (in, out), overwritten.
    pub fn weight_grad(&mut self, dout: ArrayView2<F>, dW: &mut Array2<F>) {
        if !self.sparse {
            dense::weight_grad(self.x.view(), dout, dW);
            self.dW_sparse = false;
            return;
        }
        // Row i of xᵀ·dout is 0 unless input column i has a nonzero: the sparse product clears
        // the rows the last one wrote and writes this batch's rows only (all of dW is cleared
        // first when it was written whole).
        if !self.dW_sparse {
            dW.fill(F::zero());
            self.dW_rows.clear();
        }
        let x = self.x_sparse.view();
        sparse::weight_grad(x, dout, dW, &mut self.dW_rows, &mut self.grad);
        self.dW_sparse = true;
    }

    /// `dx = dout·Wᵀ`; dout: (N, out), W: (in, out) → dx: (N, in).
    pub fn input_grad(&mut self, dout: ArrayView2<F>, W: &Array2<F>, dx: &mut Array2<F>) {
        dense::input_grad(dout, W, &mut self.w_t, dx);
    }

    /// The rows of dW outside which it is exactly 0, when the last input was sparse (its
    /// nonzero columns); `None` when any row may be nonzero.
    pub fn dW_rows(&self) -> Option<&[u32]> {
        self.dW_sparse.then_some(&self.dW_rows[..])
    }

    /// Records that dW was changed outside [`Workspace::weight_grad`] (weight decay): any of
    /// its rows may now be nonzero.
    pub fn dW_changed(&mut self) {
        self.dW_sparse = false;
    }
}
