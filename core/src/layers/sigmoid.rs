//! The Sigmoid layer: `out = 1 / (1 + e^-x)`, whose derivative is `out·(1 - out)`.

use super::ensure_shape;
use crate::functions::sigmoid_scalar;
use crate::kernels::team;
use crate::Float;
use ndarray::{Array2, ArrayView2, Zip};

/// An exponential's cost in multiply-adds, roughly, for splitting work between threads: a
/// scalar `exp` takes tens of cycles, in which a vector kernel does hundreds of multiply-adds.
const EXP_COST: usize = 128;

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
    /// `out = sigmoid(x)`, element by element; x: (N, D) → (N, D). Blocks of rows go to the
    /// kernels' team of threads (an exponential per element is worth splitting).
    pub fn forward(&mut self, x: ArrayView2<F>) -> ArrayView2<'_, F> {
        let (n, d) = x.dim();
        ensure_shape(&mut self.out, n, d);
        let out = self.out.as_slice_mut().expect("fresh arrays are standard");
        team::for_even_row_blocks(out, d, n * d * EXP_COST, |rows, out| {
            for (y, &x) in out.iter_mut().zip(x.slice(ndarray::s![rows, ..])) {
                *y = sigmoid_scalar(x);
            }
        });
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
    use crate::kernels::tests::ForceParts;

    #[test]
    fn forward_in_any_number_of_parts_is_the_elementwise_sigmoid() {
        let x = ndarray::Array2::from_shape_fn((7, 5), |(i, j)| i as f32 - 2.5 * j as f32);
        let want = x.mapv(sigmoid_scalar);
        for parts in 1..=4 {
            let _parts = ForceParts::new(parts);
            let mut layer = Sigmoid::default();
            assert_eq!(
                layer.forward(x.t()),
                want.t(),
                "{parts} parts, transposed x"
            );
            assert_eq!(layer.forward(x.view()), want, "{parts} parts");
        }
    }
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
