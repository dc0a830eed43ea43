//! The Affine layer: `out = x·W + b` (the book's fully connected layer).

use super::{copy_into, ensure_shape};
use crate::Float;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, Axis};

/// A fully connected layer with weights `W: (in, out)` and bias `b: (out,)`.
#[derive(Clone)]
pub struct Affine<F: Float> {
    /// Weights, (in, out): the book's `W`.
    pub W: Array2<F>,
    /// Bias, (out,): the book's `b`.
    pub b: Array1<F>,
    /// Gradient of the loss with respect to `W`, written by `backward`.
    pub dW: Array2<F>,
    /// Gradient of the loss with respect to `b`, written by `backward`.
    pub db: Array1<F>,
    /// Whether `backward` computes `dx` (the first layer's input needs no gradient).
    pub needs_dx: bool,
    x: Array2<F>,
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
        let (dW, db) = (Array2::zeros(W.dim()), Array1::zeros(b.len()));
        Affine {
            W,
            b,
            dW,
            db,
            needs_dx: true,
            x: Array2::zeros((0, 0)),
            out: Array2::zeros((0, 0)),
            dx: Array2::zeros((0, 0)),
        }
    }

    /// `out = x·W + b`; x: (N, in) → out: (N, out). Keeps a copy of x for `backward`.
    pub fn forward(&mut self, x: ArrayView2<F>) -> ArrayView2<'_, F> {
        copy_into(&mut self.x, x);
        affine_into(x, &self.W, &self.b, &mut self.out);
        self.out.view()
    }

    /// From dout: (N, out), writes `dW = xᵀ·dout`, `db = Σ_rows dout` and returns
    /// `dx = dout·Wᵀ`: (N, in) (an empty view when `needs_dx` is false).
    pub fn backward(&mut self, dout: ArrayView2<F>) -> ArrayView2<'_, F> {
        general_mat_mul(F::one(), &self.x.t(), &dout, F::zero(), &mut self.dW);
        for (db, col) in self.db.iter_mut().zip(dout.axis_iter(Axis(1))) {
            *db = col.sum();
        }
        if !self.needs_dx {
            return self.dx.slice(ndarray::s![0..0, ..]);
        }
        ensure_shape(&mut self.dx, dout.nrows(), self.W.nrows());
        general_mat_mul(F::one(), &dout, &self.W.t(), F::zero(), &mut self.dx);
        self.dx.view()
    }
}

/// `out = x·W + b` into a reused buffer; x: (N, in), W: (in, out), b: (out,) → out: (N, out).
pub fn affine_into<F: Float>(x: ArrayView2<F>, W: &Array2<F>, b: &Array1<F>, out: &mut Array2<F>) {
    ensure_shape(out, x.nrows(), W.ncols());
    // Start from the bias broadcast over rows, then add x·W on top (beta = 1).
    for mut row in out.rows_mut() {
        row.assign(b);
    }
    general_mat_mul(F::one(), &x, W, F::one(), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{max_diff, numerical_dx};
    use ndarray::array;

    #[test]
    fn forward_is_x_dot_w_plus_b() {
        let mut layer = Affine::new(
            array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
            array![0.5, -0.5],
        );
        let out = layer.forward(array![[1.0, 0.0, -1.0]].view()).to_owned();
        assert_eq!(out, array![[-3.5, -4.5]]);
    }

    #[test]
    fn backward_matches_numerical_gradients() {
        let w = array![[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]];
        let b = array![0.1, -0.2];
        let x = array![[1.0, 2.0, -1.0], [0.5, -0.3, 0.8]];
        let dout = array![[0.3, -1.2], [0.9, 0.4]];
        let mut layer = Affine::new(w.clone(), b.clone());
        layer.forward(x.view());
        let dx = layer.backward(dout.view()).to_owned();
        let num_dx = numerical_dx(&x, &dout, |x| {
            let mut out = Array2::zeros((0, 0));
            affine_into(x, &w, &b, &mut out);
            out
        });
        assert!(max_diff(&num_dx, dx.view()) < 1e-7);
        let num_dw = numerical_dx(&w, &dout, |w| {
            let mut out = Array2::zeros((0, 0));
            affine_into(x.view(), &w.to_owned(), &b, &mut out);
            out
        });
        assert!(max_diff(&num_dw, layer.dW.view()) < 1e-7);
        assert!((layer.db[0] - 1.2).abs() < 1e-15 && (layer.db[1] + 0.8).abs() < 1e-15);
    }
}
