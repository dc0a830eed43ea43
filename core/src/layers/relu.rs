//! The ReLU layer: `out = max(0, x)`; the gradient passes only where x was positive.

use super::ensure_shape;
use crate::Float;
use ndarray::{Array2, ArrayView2, Zip};

/// Arrays of at least this many values are split over rayon's threads (a conv layer's output:
/// SimpleConvNet's first is 1.7 M for a batch of 100); each value is its own, so the split
/// changes no bit.
const PARALLEL_ELEMENTS: usize = 1 << 16;

/// ReLU activation; keeps `mask` (where x ≤ 0) for `backward`, as the book does.
#[derive(Clone)]
pub struct Relu<F: Float> {
    mask: Array2<bool>,
    out: Array2<F>,
    dx: Array2<F>,
}

impl<F: Float> Default for Relu<F> {
    fn default() -> Self {
        Relu {
            mask: Array2::from_elem((0, 0), false),
            out: Array2::zeros((0, 0)),
            dx: Array2::zeros((0, 0)),
        }
    }
}

impl<F: Float> Relu<F> {
    /// `out = max(0, x)`; x: (N, D) → (N, D).
    pub fn forward(&mut self, x: ArrayView2<F>) -> ArrayView2<'_, F> {
        if self.mask.dim() != x.dim() {
            self.mask = Array2::from_elem(x.dim(), false);
        }
        ensure_shape(&mut self.out, x.nrows(), x.ncols());
        let zip = Zip::from(&mut self.mask).and(&mut self.out).and(x);
        let relu = |m: &mut bool, out: &mut F, &v: &F| {
            *m = v <= F::zero();
            *out = if *m { F::zero() } else { v };
        };
        if x.len() < PARALLEL_ELEMENTS {
            zip.for_each(relu);
        } else {
            zip.par_for_each(relu);
        }
        self.out.view()
    }

    /// `dx = dout` where x > 0, else 0; dout: (N, D) → dx: (N, D).
    pub fn backward(&mut self, dout: ArrayView2<F>) -> ArrayView2<'_, F> {
        ensure_shape(&mut self.dx, dout.nrows(), dout.ncols());
        let zip = Zip::from(&mut self.dx).and(dout).and(&self.mask);
        let relu = |dx: &mut F, &d: &F, &m: &bool| *dx = if m { F::zero() } else { d };
        if dout.len() < PARALLEL_ELEMENTS {
            zip.for_each(relu);
        } else {
            zip.par_for_each(relu);
        }
        self.dx.view()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{max_diff, numerical_dx};
    use ndarray::array;

    #[test]
    fn forward_clips_and_backward_matches_numerical_gradient() {
        let x = array![[1.0, -2.0, 0.3], [-0.5, 4.0, -0.7]];
        let dout = array![[0.5, 1.0, -2.0], [1.5, -0.1, 0.2]];
        let mut layer = Relu::default();
        assert_eq!(
            layer.forward(x.view()),
            array![[1.0, 0.0, 0.3], [0.0, 4.0, 0.0]]
        );
        let dx = layer.backward(dout.view()).to_owned();
        let num = numerical_dx(&x, &dout, |x| crate::functions::relu(&x));
        assert!(max_diff(&num, dx.view()) < 1e-9);
    }
}
