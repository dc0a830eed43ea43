//! A network's input batch, dense or as its nonzero entries, and the rule that picks the
//! kernels' route for it.

use super::csr::{SparseRows, SparseView};
use crate::Float;
use ndarray::{Array2, ArrayView2, CowArray, Ix2, Zip};
use std::ops::Range;

/// Inputs with at most this fraction of nonzero entries take the sparse path.
///
/// Measured (`cargo bench --bench train -- first_layer_batch_100`, x·W1 + b1 for 100 rows,
/// 784-50, medians): the dense route (gemm) takes 76 µs whatever the density; the sparse one,
/// including building the nonzero list from a dense batch, 68 µs at MNIST's 19 %, 127 µs at
/// 50 % and 197 µs at 100 % — so with the build the two cross near 23 %. The trainer builds a
/// dataset's list once, so its batches skip the build and cross higher (not measured apart).
/// On this project's workloads the choice between 0.2 and 0.4 changes nothing measurable: the
/// users' run and a 784-100-100-10 ReLU/Adam run train at the same speed, to the same weights,
/// with either. Backward's xᵀ·dout follows the same route.
pub const SPARSE_MAX_DENSITY: f64 = 0.4;

/// Whether `nonzero` entries out of `len` are few enough for the sparse route (at most
/// [`SPARSE_MAX_DENSITY`] of them; an empty input counts as all zero).
pub fn few_nonzeros(nonzero: usize, len: usize) -> bool {
    len == 0 || nonzero as f64 / len as f64 <= SPARSE_MAX_DENSITY
}

/// The number of nonzero entries of x.
fn nonzeros<F: Float>(x: ArrayView2<F>) -> usize {
    match x.as_slice() {
        Some(s) => s.iter().filter(|&&v| v != F::zero()).count(),
        None => x.iter().filter(|&&v| v != F::zero()).count(),
    }
}

/// The fraction of nonzero entries of x (0 for an empty x).
pub fn density<F: Float>(x: ArrayView2<F>) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    nonzeros(x) as f64 / x.len() as f64
}

/// Whether a dense x takes the sparse route: at most [`SPARSE_MAX_DENSITY`] of it nonzero.
pub fn mostly_zero<F: Float>(x: ArrayView2<F>) -> bool {
    few_nonzeros(nonzeros(x), x.len())
}

/// A network's input batch: a dense (N, D) array, or the nonzero entries of a mostly-zero one.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a, F> {
    /// Every entry, (N, D).
    Dense(ArrayView2<'a, F>),
    /// Only the nonzero entries, (N, D).
    Sparse(SparseView<'a, F>),
}

impl<'a, F: Float> Input<'a, F> {
    /// The rows `rows` of the batch (a view: nothing is copied).
    pub fn slice_rows(&self, rows: Range<usize>) -> Input<'a, F> {
        match *self {
            Input::Dense(x) => Input::Dense(x.slice_move(ndarray::s![rows, ..])),
            Input::Sparse(x) => Input::Sparse(x.slice_rows(rows)),
        }
    }

    /// Number of rows (samples).
    pub fn nrows(&self) -> usize {
        match self {
            Input::Dense(x) => x.nrows(),
            Input::Sparse(x) => x.nrows(),
        }
    }

    /// Number of columns (features).
    pub fn ncols(&self) -> usize {
        match self {
            Input::Dense(x) => x.ncols(),
            Input::Sparse(x) => x.ncols(),
        }
    }

    /// The rows `rows`, in that order, written densely into `x_batch` (the book's
    /// `x[batch_mask]`): (rows.len(), D). Allocates nothing once `x_batch` has that shape.
    pub fn gather_rows_into(&self, rows: &[usize], x_batch: &mut Array2<F>) {
        super::ensure_shape(x_batch, rows.len(), self.ncols());
        for (mut out, &n) in x_batch.rows_mut().into_iter().zip(rows) {
            match *self {
                Input::Dense(x) => match (out.as_slice_mut(), x.row(n).as_slice()) {
                    (Some(d), Some(s)) => d.copy_from_slice(s),
                    _ => Zip::from(&mut out).and(x.row(n)).for_each(|d, &s| *d = s),
                },
                Input::Sparse(x) => {
                    x.write_row_into(n, out.as_slice_mut().expect("a row of a standard array"))
                }
            }
        }
    }

    /// The nonzero entries of a dense input that is [`mostly_zero`], for the kernels' faster
    /// route; `None` for any other (a sparse one already is).
    pub fn sparse_copy(&self) -> Option<SparseRows<F>> {
        match *self {
            Input::Dense(x) if mostly_zero(x) => Some(SparseRows::from_dense(x)),
            _ => None,
        }
    }

    /// This input as the kernels read it best: `copy` (its nonzero entries, from
    /// [`Input::sparse_copy`]) when there is one, else itself.
    pub fn with_copy<'s>(self, copy: &'s Option<SparseRows<F>>) -> Input<'s, F>
    where
        'a: 's,
    {
        copy.as_ref()
            .map_or(self.reborrow(), |x| Input::Sparse(x.view()))
    }

    /// The batch as a dense array (a copy only for a sparse one).
    pub fn to_dense(&self) -> CowArray<'a, F, Ix2> {
        match *self {
            Input::Dense(x) => x.into(),
            Input::Sparse(x) => x.to_dense().into(),
        }
    }

    /// The batch in the form the kernels should read it in: a dense batch that is
    /// [`mostly_zero`] becomes its nonzero entries, written into `scratch`; any other is
    /// returned as it is.
    pub fn routed<'s>(self, scratch: &'s mut SparseRows<F>) -> Input<'s, F>
    where
        'a: 's,
    {
        match self {
            Input::Dense(x) if mostly_zero(x) => {
                scratch.assign(x);
                Input::Sparse(scratch.view())
            }
            x => x.reborrow(),
        }
    }

    /// The same batch, borrowed for a shorter lifetime.
    pub fn reborrow<'s>(self) -> Input<'s, F>
    where
        'a: 's,
    {
        match self {
            Input::Dense(x) => Input::Dense(x.reborrow()),
            Input::Sparse(x) => Input::Sparse(x),
        }
    }
}

/// A set of samples (N, D), owned: dense, or its nonzero entries when mostly zero — how a
/// dataset keeps MNIST (19 % of its pixels nonzero) in about a third of the memory.
#[derive(Clone, Debug)]
pub enum Samples<F> {
    /// Every entry, (N, D).
    Dense(Array2<F>),
    /// Only the nonzero entries, (N, D).
    Sparse(SparseRows<F>),
}

impl<F: Float> Samples<F> {
    /// All samples, borrowed.
    pub fn view(&self) -> Input<'_, F> {
        match self {
            Samples::Dense(x) => Input::Dense(x.view()),
            Samples::Sparse(x) => Input::Sparse(x.view()),
        }
    }

    /// Number of samples (rows).
    pub fn nrows(&self) -> usize {
        self.view().nrows()
    }

    /// Number of features (columns).
    pub fn ncols(&self) -> usize {
        self.view().ncols()
    }

    /// Every sample's nonzero entries (a copy).
    pub fn to_sparse(&self) -> SparseRows<F> {
        match self {
            Samples::Dense(x) => SparseRows::from_dense(x.view()),
            Samples::Sparse(x) => x.clone(),
        }
    }

    /// Rows `rows`, dense: (rows.len(), D).
    pub fn rows_dense(&self, rows: Range<usize>) -> Array2<F> {
        self.view().slice_rows(rows).to_dense().into_owned()
    }

    /// The rows numbered in `rows`, in that order, dense: (rows.len(), D).
    pub fn select_dense(&self, rows: &[usize]) -> Array2<F> {
        let mut x = Array2::zeros((0, 0));
        self.view().gather_rows_into(rows, &mut x);
        x
    }
}

impl<F: Float> AsInput<F> for Samples<F> {
    fn as_input(&self) -> Input<'_, F> {
        self.view()
    }
}

/// Anything a network takes as an input batch (N, D): a dense array or view, a [`SparseRows`]
/// or its view, an [`Input`].
pub trait AsInput<F> {
    /// The batch, borrowed.
    fn as_input(&self) -> Input<'_, F>;
}

impl<F: Float> AsInput<F> for Input<'_, F> {
    fn as_input(&self) -> Input<'_, F> {
        self.reborrow()
    }
}

impl<F: Float> AsInput<F> for ArrayView2<'_, F> {
    fn as_input(&self) -> Input<'_, F> {
        Input::Dense(self.view())
    }
}

impl<F: Float> AsInput<F> for Array2<F> {
    fn as_input(&self) -> Input<'_, F> {
        Input::Dense(self.view())
    }
}

impl<F: Float> AsInput<F> for CowArray<'_, F, Ix2> {
    fn as_input(&self) -> Input<'_, F> {
        Input::Dense(self.view())
    }
}

impl<F: Float> AsInput<F> for SparseView<'_, F> {
    fn as_input(&self) -> Input<'_, F> {
        Input::Sparse(*self)
    }
}

impl<F: Float> AsInput<F> for SparseRows<F> {
    fn as_input(&self) -> Input<'_, F> {
        Input::Sparse(self.view())
    }
}

impl<F: Float, T: AsInput<F> + ?Sized> AsInput<F> for &T {
    fn as_input(&self) -> Input<'_, F> {
        (**self).as_input()
    }
}

impl<'a, F> From<ArrayView2<'a, F>> for Input<'a, F> {
    fn from(x: ArrayView2<'a, F>) -> Self {
        Input::Dense(x)
    }
}

impl<'a, F> From<SparseView<'a, F>> for Input<'a, F> {
    fn from(x: SparseView<'a, F>) -> Self {
        Input::Sparse(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn mostly_zero_batches_are_routed_as_their_nonzeros() {
        assert!((density(Array2::<f64>::eye(4).view()) - 0.25).abs() < 1e-15);
        assert_eq!(density(Array2::<f64>::zeros((0, 3)).view()), 0.0);
        let (sparse, dense) = (array![[0.0, 0.0, 1.0]], array![[0.0, 2.0, 1.0]]);
        let mut scratch = SparseRows::new();
        let routed = sparse.as_input().routed(&mut scratch);
        assert!(matches!(routed, Input::Sparse(_)));
        assert_eq!(routed.to_dense(), sparse);
        let routed = dense.as_input().routed(&mut scratch);
        assert!(matches!(routed, Input::Dense(_)));
        let rows = SparseRows::from_dense(dense.view());
        assert_eq!(rows.as_input().slice_rows(0..1).to_dense(), dense);
        assert_eq!(rows.as_input().nrows(), 1);
    }
}
