//! The Sigmoid layer: `out = 1 / (1 + e^-x)`, whose derivative is `out·(1 - out)`.

use super::{copy_into, ensure_shape};
use crate::functions::sigmoid_scalar;
use crate::Float;
use ndarray::{Array2, ArrayView2, Zip};

/// Sigmoid activation; keeps its output `out` for `backward` (the book's `self.out`).
#[derive(Clone)]
pub struct Sigmoid<F: Float> {
    out: Array2<F>,
    dx: Array2<F>,
}

impl<F: Float> Default for Sigmoid<F> {
    fn default() -> Self {
        Sigmoid {
            out: Array2::zeros((0, 0)),
            dx: Array2::zeros((0, 0)),
        }
    }
}

impl<F: Float> Sigmoid<F> {
    /// `out = sigmoid(x)`, element by element; x: (N, D) → (N, D).
    pub fn forward(&mut self, x: ArrayView2<F>) -> ArrayView2<'_, F> {
        copy_into(&mut self.out, x);
        self.out.mapv_inplace(sigmoid_scalar);
        self.out.view()
    }

    /// `dx = dout · out · (1 - out)`; dout: (N, D) → dx: (N, D).
    pub fn backward(&mut self, dout: ArrayView2<F>) -> ArrayView2<'_, F> {
        ensure_shape(&mut self.dx, dout.nrows(), dout.ncols());
        Zip::from(&mut self.dx)
            .and(dout)
            .and(&self.out)
            .for_each(|dx, &d, &y| *dx = d * y * (F::one() - y));
        self.dx.view()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{max_diff, numerical_dx};
    use ndarray::array;

    #[test]
    fn backward_matches_numerical_gradient() {
        let x = array![[1.0, -2.0, 0.3], [0.0, 4.0, -0.7]];
        let dout = array![[0.5, 1.0, -2.0], [1.5, -0.1, 0.2]];
        let mut layer = Sigmoid::default();
        layer.forward(x.view());
        let dx = layer.backward(dout.view()).to_owned();
        let num = numerical_dx(&x, &dout, |x| crate::functions::sigmoid(&x));
        assert!(max_diff(&num, dx.view()) < 1e-9);
    }
}
