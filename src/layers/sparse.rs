//! Mostly-zero inputs: a batch stored as its nonzero entries, and the first layer's products
//! computed from them.
//!
//! About 80 % of MNIST's pixels are 0. In `a = x·W + b` a zero pixel contributes `0 · W[i, :]`,
//! nothing; in `dW = xᵀ·dout` it contributes `0 · dout[n, :]`, nothing. Storing each row as the
//! list of its nonzero pixels (index, value) — compressed sparse rows, CSR — lets both products
//! skip that work: `a[n, :] = b + Σ_{i: x[n,i]≠0} x[n,i] · W[i, :]`. The sums are the dense
//! product's sums without their zero terms, so the result is the same up to the order of
//! additions (which is fixed, so results are reproducible).

use crate::simd::{add_rows, axpy};
use crate::Float;
use ndarray::{Array1, Array2, ArrayView2};
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

/// A (rows, cols) matrix stored row by row as its nonzero entries (CSR).
///
/// Row `n`'s entries are `indices[indptr[n]..indptr[n + 1]]` (column numbers, increasing) and
/// the `values` at the same positions. Buffers keep their capacity when refilled, so reusing
/// one `SparseRows` for every batch allocates nothing once it has seen the largest batch.
#[derive(Clone, Debug, Default)]
pub struct SparseRows<F> {
    cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<F>,
}

/// A block of consecutive rows of a [`SparseRows`], borrowed (cheap to copy and to split).
#[derive(Clone, Copy, Debug)]
pub struct SparseView<'a, F> {
    cols: usize,
    /// `indptr[n]..indptr[n + 1]` are row n's positions in `indices` and `values`.
    indptr: &'a [usize],
    indices: &'a [u32],
    values: &'a [F],
}

impl<'a, F: Float> SparseView<'a, F> {
    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.cols
    }

    /// Row `n`'s nonzero entries: (column numbers, values).
    #[inline]
    pub fn row(&self, n: usize) -> (&'a [u32], &'a [F]) {
        let range = self.indptr[n]..self.indptr[n + 1];
        (&self.indices[range.clone()], &self.values[range])
    }

    /// Rows `rows` of this block.
    pub fn slice_rows(&self, rows: Range<usize>) -> SparseView<'a, F> {
        SparseView {
            indptr: &self.indptr[rows.start..rows.end + 1],
            ..*self
        }
    }

    /// The dense (rows, cols) matrix.
    pub fn to_dense(&self) -> Array2<F> {
        let mut x = Array2::zeros((self.nrows(), self.cols));
        for (n, mut row) in x.rows_mut().into_iter().enumerate() {
            let (indices, values) = self.row(n);
            for (&i, &v) in indices.iter().zip(values) {
                row[i as usize] = v;
            }
        }
        x
    }
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

    /// The batch as a dense array (a copy only for a sparse one).
    pub fn to_dense(&self) -> ndarray::CowArray<'_, F, ndarray::Ix2> {
        match self {
            Input::Dense(x) => x.view().into(),
            Input::Sparse(x) => x.to_dense().into(),
        }
    }
}

impl<F: Float> SparseRows<F> {
    /// All rows, borrowed.
    pub fn view(&self) -> SparseView<'_, F> {
        SparseView {
            cols: self.cols,
            indptr: &self.indptr,
            indices: &self.indices,
            values: &self.values,
        }
    }

    /// Replaces the contents with a copy of `x`.
    pub fn assign_view(&mut self, x: SparseView<F>) {
        self.clear(x.ncols());
        let (start, end) = (x.indptr[0], x.indptr[x.nrows()]);
        self.indices.extend_from_slice(&x.indices[start..end]);
        self.values.extend_from_slice(&x.values[start..end]);
        self.indptr.extend(x.indptr[1..].iter().map(|&p| p - start));
    }

    /// Replaces the contents with the rows `rows` of `x`, in that order (the book's
    /// `x[batch_mask]`); the columns are x's.
    pub fn gather(&mut self, x: SparseView<F>, rows: &[usize]) {
        self.clear(x.ncols());
        for &n in rows {
            let (indices, values) = x.row(n);
            self.indices.extend_from_slice(indices);
            self.values.extend_from_slice(values);
            self.indptr.push(self.indices.len());
        }
    }

    /// An empty (0, 0) matrix.
    pub fn new() -> Self {
        SparseRows {
            cols: 0,
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
        }
    }

    /// The nonzero entries of a dense x: (rows, cols), replacing the current contents.
    pub fn from_dense(x: ArrayView2<F>) -> Self {
        let mut s = Self::new();
        s.assign(x);
        s
    }

    /// Replaces the contents with the nonzero entries of x: (rows, cols).
    pub fn assign(&mut self, x: ArrayView2<F>) {
        self.clear(x.ncols());
        for row in x.rows() {
            match row.as_slice() {
                Some(row) => self.push_row(row),
                None => self.push_row(&row.to_vec()),
            }
        }
    }

    /// Empties the matrix, making it (0, cols); capacity is kept.
    pub fn clear(&mut self, cols: usize) {
        assert!(cols <= u32::MAX as usize, "SparseRows: too many columns");
        self.cols = cols;
        self.indptr.clear();
        self.indptr.push(0);
        self.indices.clear();
        self.values.clear();
    }

    /// Appends a dense row of `cols` values, keeping its nonzero entries.
    pub fn push_row(&mut self, row: &[F]) {
        debug_assert_eq!(row.len(), self.cols);
        // Branch-free compaction: write every entry at the next free slot and advance the
        // slot only past nonzeros (zeros are overwritten by the next entry, then cut off).
        let start = self.indices.len();
        self.indices.resize(start + row.len(), 0);
        self.values.resize(start + row.len(), F::zero());
        let (indices, values) = (&mut self.indices[start..], &mut self.values[start..]);
        let mut k = 0;
        for (i, &v) in row.iter().enumerate() {
            indices[k] = i as u32;
            values[k] = v;
            k += usize::from(v != F::zero());
        }
        self.indices.truncate(start + k);
        self.values.truncate(start + k);
        self.indptr.push(start + k);
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.cols
    }

    /// Number of stored (nonzero) entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row `n`'s nonzero entries: (column numbers, values).
    #[inline]
    pub fn row(&self, n: usize) -> (&[u32], &[F]) {
        self.view().row(n)
    }

    /// The dense (rows, cols) matrix.
    pub fn to_dense(&self) -> Array2<F> {
        self.view().to_dense()
    }

    /// The numbers of the rows that have at least one nonzero entry, into `rows` (in order).
    pub fn nonempty_rows(&self, rows: &mut Vec<u32>) {
        rows.clear();
        for (i, ends) in self.indptr.windows(2).enumerate() {
            if ends[0] != ends[1] {
                rows.push(i as u32);
            }
        }
    }

    /// Writes the transpose (cols, rows) into `t`, still as rows of nonzero entries — that is,
    /// this matrix's columns (CSC). A counting sort: O(nnz + cols), no allocation once `t` has
    /// grown to size.
    pub fn transpose_into(&self, t: &mut SparseRows<F>) {
        self.view().transpose_into(t);
    }
}

impl<'a, F: Float> SparseView<'a, F> {
    /// Writes the transpose (cols, rows) into `t`: see [`SparseRows::transpose_into`].
    pub fn transpose_into(&self, t: &mut SparseRows<F>) {
        let (start, end) = (self.indptr[0], self.indptr[self.nrows()]);
        t.cols = self.nrows();
        // Count the entries of every column, then turn counts into start positions.
        t.indptr.clear();
        t.indptr.resize(self.cols + 1, 0);
        for &i in &self.indices[start..end] {
            t.indptr[i as usize + 1] += 1;
        }
        for i in 0..self.cols {
            t.indptr[i + 1] += t.indptr[i];
        }
        t.indices.resize(end - start, 0);
        t.values.resize(end - start, F::zero());
        // Place each entry at its column's next free slot; rows are visited in order, so each
        // column's entries come out sorted by row. `indptr[i]` serves as column i's cursor and
        // ends at the next column's start, so shifting it back by one restores the starts.
        for n in 0..self.nrows() {
            for k in self.indptr[n]..self.indptr[n + 1] {
                let i = self.indices[k] as usize;
                let slot = t.indptr[i];
                t.indices[slot] = n as u32;
                t.values[slot] = self.values[k];
                t.indptr[i] += 1;
            }
        }
        for i in (0..self.cols).rev() {
            t.indptr[i + 1] = t.indptr[i];
        }
        t.indptr[0] = 0;
    }
}

/// The fraction of nonzero entries of x (0 for an empty x).
pub fn density<F: Float>(x: ArrayView2<F>) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let nonzero = match x.as_slice() {
        Some(s) => s.iter().filter(|&&v| v != F::zero()).count(),
        None => x.iter().filter(|&&v| v != F::zero()).count(),
    };
    nonzero as f64 / x.len() as f64
}

/// `out = x·W + b` for a sparse x: (N, in), W: (in, out) in standard layout, b: (out,) →
/// out: (N, out), each row `b + Σ_{i: x[n,i]≠0} x[n,i] · W[i, :]`.
pub fn sparse_affine_into<F: Float>(
    x: SparseView<F>,
    W: ArrayView2<F>,
    b: &Array1<F>,
    out: &mut Array2<F>,
) {
    assert_eq!(
        x.ncols(),
        W.nrows(),
        "x·W: x has {} columns, W {} rows",
        x.ncols(),
        W.nrows()
    );
    super::ensure_shape(out, x.nrows(), W.ncols());
    let w = W.as_slice().expect("W is in standard layout");
    let b = b.as_slice().expect("b is contiguous");
    let out = out.as_slice_mut().expect("out is in standard layout");
    if !b.is_empty() {
        sparse_rows_times(x, w, b, out);
    }
}

crate::kernel! {
    /// out (N, width) = b + x·w, for x sparse (N, in), w (in, width) and b (width,) as slices.
    fn sparse_rows_times<F>(x: SparseView<F>, w: &[F], b: &[F], out: &mut [F]) {
        let width = b.len();
        for (n, out_row) in out.chunks_exact_mut(width).enumerate() {
            out_row.copy_from_slice(b);
            let (indices, values) = x.row(n);
            add_rows(out_row, values, |k| {
                let i = indices[k] as usize;
                &w[i * width..(i + 1) * width]
            });
        }
    }
}

/// Batches of at least this many rows compute dW from xᵀ (see [`sparse_weight_grad`]).
///
/// Measured (CPU time, 784-hidden-10 net): at batch 100 the transposed form is 6 % (hidden 50)
/// to 50 % (hidden 800) faster than adding sample by sample, whose every nonzero loads and
/// stores a row of dW; at batch 1 transposing (a pass over all 784 columns) costs more than the
/// ~150 row updates themselves.
pub const TRANSPOSE_MIN_ROWS: usize = 4;

/// `dW += xᵀ·dout` for a sparse x: (N, in), dout: (N, out), dW: (in, out), where dW is 0 on
/// the rows of x's nonzero columns: row i becomes `Σ_{n: x[n,i]≠0} x[n,i] · dout[n, :]`,
/// samples added in order. The other rows of xᵀ·dout are 0 and are not touched — only the
/// pixels nonzero somewhere in the batch count (about 150 of MNIST's 784 at batch 1; the
/// `Affine` layer keeps dW zero elsewhere).
///
/// Small batches add `v · dout[n, :]` into row i for each nonzero (i, v) of each sample n.
/// From [`TRANSPOSE_MIN_ROWS`] rows on, x is first transposed into `x_t` (its columns as
/// lists of (sample, value)), so that each row of dW sums its terms in registers, four at a
/// time, and is stored once. Both add the same terms in the same order: same result.
///
/// Also writes the rows of dW it touched (x's nonzero columns) into `rows`; `x_t` and `seen`
/// are scratch.
pub fn sparse_weight_grad<F: Float>(
    x: SparseView<F>,
    dout: ArrayView2<F>,
    dW: &mut Array2<F>,
    rows: &mut Vec<u32>,
    (x_t, seen): (&mut SparseRows<F>, &mut Vec<bool>),
) {
    assert_eq!(
        x.nrows(),
        dout.nrows(),
        "xᵀ·dout: x has {} rows, dout {}",
        x.nrows(),
        dout.nrows()
    );
    assert_eq!(dW.dim(), (x.ncols(), dout.ncols()), "dW is (in, out)");
    let width = dout.ncols();
    let dout = dout.as_standard_layout();
    let dout = dout.as_slice().expect("standard layout");
    let dW = dW.as_slice_mut().expect("dW is in standard layout");
    if x.nrows() >= TRANSPOSE_MIN_ROWS {
        x.transpose_into(x_t);
        x_t.nonempty_rows(rows);
        if width > 0 {
            transposed_times(x_t, rows, dout, width, dW);
        }
    } else {
        nonzero_columns(x, seen, rows);
        if width > 0 {
            sample_by_sample(x, dout, width, dW);
        }
    }
}

crate::kernel! {
    /// dW (in, width) += xᵀ·dout: row i of dW gains v · dout[n, :] for each entry (i, v) of
    /// row n of x, samples in order.
    fn sample_by_sample<F>(x: SparseView<F>, dout: &[F], width: usize, dW: &mut [F]) {
        for (n, dout_row) in dout.chunks_exact(width).enumerate().take(x.nrows()) {
            let (indices, values) = x.row(n);
            for (&i, &v) in indices.iter().zip(values) {
                let i = i as usize;
                axpy(v, dout_row, &mut dW[i * width..(i + 1) * width]);
            }
        }
    }
}

crate::kernel! {
    /// For each listed row i of x_t (in, N), dW[i, :] (in, width) += Σ over its entries (n, v)
    /// of v · dout[n, :].
    fn transposed_times<F>(
        x_t: &SparseRows<F>,
        rows: &[u32],
        dout: &[F],
        width: usize,
        dW: &mut [F],
    ) {
        for &i in rows {
            let i = i as usize;
            let (samples, values) = x_t.row(i);
            add_rows(&mut dW[i * width..(i + 1) * width], values, |k| {
                let n = samples[k] as usize;
                &dout[n * width..(n + 1) * width]
            });
        }
    }
}

/// The distinct columns holding a nonzero in some row of x, into `columns` (in order of first
/// appearance); `seen` is scratch with one flag per column, all false before and after.
pub fn nonzero_columns<F: Float>(x: SparseView<F>, seen: &mut Vec<bool>, columns: &mut Vec<u32>) {
    seen.resize(x.ncols(), false);
    columns.clear();
    let (start, end) = (x.indptr[0], x.indptr[x.nrows()]);
    for &i in &x.indices[start..end] {
        if !seen[i as usize] {
            seen[i as usize] = true;
            columns.push(i);
        }
    }
    for &i in columns.iter() {
        seen[i as usize] = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::randn;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A random (rows, cols) matrix with about `zeros` of its entries set to 0.
    fn sparse_matrix(rng: &mut ChaCha8Rng, rows: usize, cols: usize, zeros: f64) -> Array2<f64> {
        use rand::Rng;
        let mut x = randn(rng, rows, cols, 1.0);
        x.mapv_inplace(|v| if rng.random::<f64>() < zeros { 0.0 } else { v });
        x
    }

    #[test]
    fn round_trips_and_transposes() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x = sparse_matrix(&mut rng, 7, 11, 0.7);
        let s = SparseRows::from_dense(x.view());
        assert_eq!(s.to_dense(), x);
        assert_eq!(s.nnz(), x.iter().filter(|v| **v != 0.0).count());
        let mut t = SparseRows::new();
        s.transpose_into(&mut t);
        assert_eq!(t.to_dense(), x.t());
        // Refilling reuses the buffers.
        let x2 = sparse_matrix(&mut rng, 3, 11, 0.2);
        s.clone().assign(x2.view());
        SparseRows::from_dense(x2.view()).transpose_into(&mut t);
        assert_eq!(t.to_dense(), x2.t());
    }

    #[test]
    fn products_match_the_dense_ones() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        for (n, d_in, d_out) in [(1, 5, 3), (9, 40, 17), (30, 64, 50)] {
            let x = sparse_matrix(&mut rng, n, d_in, 0.8);
            let w = randn(&mut rng, d_in, d_out, 1.0);
            let b = randn(&mut rng, 1, d_out, 1.0)
                .into_shape_with_order(d_out)
                .unwrap();
            let s = SparseRows::from_dense(x.view());
            let mut out = Array2::zeros((0, 0));
            sparse_affine_into(s.view(), w.view(), &b, &mut out);
            let expected = x.dot(&w) + &b;
            assert!((&out - &expected).iter().all(|v| v.abs() < 1e-12));

            let dout = randn(&mut rng, n, d_out, 1.0);
            // Both ways (sample by sample below TRANSPOSE_MIN_ROWS), on a block of rows too.
            for rows in [0..n, 0..n.min(2), n / 2..n] {
                let mut dw = Array2::zeros((d_in, d_out));
                let block = s.view().slice_rows(rows.clone());
                let scratch = (&mut SparseRows::new(), &mut Vec::new());
                let dout_block = dout.slice(ndarray::s![rows.clone(), ..]);
                sparse_weight_grad(block, dout_block, &mut dw, &mut Vec::new(), scratch);
                let expected = x
                    .slice(ndarray::s![rows.clone(), ..])
                    .t()
                    .dot(&dout.slice(ndarray::s![rows, ..]));
                assert!((&dw - &expected).iter().all(|v| v.abs() < 1e-12));
            }
        }
        assert!((density(Array2::<f64>::eye(4).view()) - 0.25).abs() < 1e-15);
        let x = SparseRows::from_dense(ndarray::array![[0.0, 2.0, 1.0], [3.0, 2.0, 0.0]].view());
        let (mut seen, mut columns) = (Vec::new(), Vec::new());
        nonzero_columns(x.view(), &mut seen, &mut columns);
        assert_eq!((columns, seen), (vec![1, 2, 0], vec![false; 3]));
    }
}
