//! Compressed sparse rows (CSR): a batch stored as its nonzero entries.
//!
//! About 80 % of MNIST's pixels are 0. Storing each row as the list of its nonzero pixels
//! (index, value) lets the products of [`super::sparse`] skip the zeros' work.

use crate::Float;
use ndarray::{Array2, ArrayView2};
use std::ops::Range;

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

    /// The column numbers of every entry of the block, row after row.
    pub fn indices(&self) -> &'a [u32] {
        &self.indices[self.indptr[0]..self.indptr[self.nrows()]]
    }

    /// The dense (rows, cols) matrix.
    pub fn to_dense(&self) -> Array2<F> {
        let mut x = Array2::zeros((self.nrows(), self.cols));
        for (n, row) in x
            .as_slice_mut()
            .expect("fresh")
            .chunks_exact_mut(self.cols.max(1))
            .enumerate()
        {
            self.write_row_into(n, row);
        }
        x
    }

    /// Row `n` written densely into `out` (cols,): its zeros, then its nonzero entries.
    pub fn write_row_into(&self, n: usize, out: &mut [F]) {
        out.fill(F::zero());
        let (indices, values) = self.row(n);
        for (&i, &v) in indices.iter().zip(values) {
            out[i as usize] = v;
        }
    }

    /// Number of stored (nonzero) entries.
    pub fn nnz(&self) -> usize {
        self.indptr[self.nrows()] - self.indptr[0]
    }

    /// Writes the transpose (cols, rows) into `t`: see [`SparseRows::transpose_into`].
    pub fn transpose_into(&self, t: &mut SparseRows<F>) {
        self.transpose_columns_into(0..self.cols, t, &mut Vec::new());
    }

    /// Writes the transpose of columns `cols` into `t`: (cols.len(), rows), row r of `t`
    /// holding column `cols.start + r` — a block of [`SparseRows::transpose_into`]'s rows.
    /// `spans` is scratch: each row's positions within `cols`.
    pub fn transpose_columns_into(
        &self,
        cols: Range<usize>,
        t: &mut SparseRows<F>,
        spans: &mut Vec<Range<usize>>,
    ) {
        assert!(
            cols.start <= cols.end && cols.end <= self.cols,
            "columns out of range"
        );
        let (lo, width) = (cols.start, cols.len());
        // Each row's entries in `cols` (its column numbers rise): found by bisection, except
        // at the ends of the row.
        let cut = |indices: &[u32], at: usize| match at {
            0 => 0,
            at if at == self.cols => indices.len(),
            at => indices.partition_point(|&i| (i as usize) < at),
        };
        spans.clear();
        spans.extend((0..self.nrows()).map(|n| {
            let (indices, _) = self.row(n);
            let (start, end) = (cut(indices, cols.start), cut(indices, cols.end));
            self.indptr[n] + start..self.indptr[n] + end
        }));
        t.cols = self.nrows();
        // Count the entries of every column, then turn counts into start positions.
        t.indptr.clear();
        t.indptr.resize(width + 1, 0);
        for range in spans.iter() {
            for &i in &self.indices[range.clone()] {
                t.indptr[i as usize - lo + 1] += 1;
            }
        }
        for i in 0..width {
            t.indptr[i + 1] += t.indptr[i];
        }
        let entries = t.indptr[width];
        t.indices.resize(entries, 0);
        t.values.resize(entries, F::zero());
        // Place each entry at its column's next free slot; rows are visited in order, so each
        // column's entries come out sorted by row. `indptr[i]` serves as column i's cursor and
        // ends at the next column's start, so shifting it back by one restores the starts.
        for (n, range) in spans.iter().enumerate() {
            for k in range.clone() {
                let i = self.indices[k] as usize - lo;
                let slot = t.indptr[i];
                t.indices[slot] = n as u32;
                t.values[slot] = self.values[k];
                t.indptr[i] += 1;
            }
        }
        for i in (0..width).rev() {
            t.indptr[i + 1] = t.indptr[i];
        }
        t.indptr[0] = 0;
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

    /// The matrix made of its parts: `indptr` (rows + 1 positions, rising from 0 to the
    /// number of entries), each entry's column number in `indices` (below `cols`, rising within
    /// a row) and its value in `values`.
    pub fn from_parts(cols: usize, indptr: Vec<usize>, indices: Vec<u32>, values: Vec<F>) -> Self {
        assert!(cols <= u32::MAX as usize, "SparseRows: too many columns");
        assert_eq!(indptr.first(), Some(&0), "indptr starts at 0");
        assert_eq!(
            indptr.last(),
            Some(&indices.len()),
            "indptr ends at the entry count"
        );
        assert_eq!(indices.len(), values.len(), "one value per column number");
        debug_assert!(indptr.windows(2).all(|w| w[0] <= w[1]));
        debug_assert!(indices.iter().all(|&i| (i as usize) < cols));
        SparseRows {
            cols,
            indptr,
            indices,
            values,
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
    /// this matrix's columns (CSC). A counting sort: O(nnz + cols); it allocates a row's worth of
    /// scratch (the training step uses [`SparseView::transpose_columns_into`] with its own).
    pub fn transpose_into(&self, t: &mut SparseRows<F>) {
        self.view().transpose_into(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::tests::{matrix, rng};

    #[test]
    fn round_trips_transposes_and_slices() {
        let mut rng = rng(5);
        let x = matrix(&mut rng, (7, 11), 0.7);
        let s = SparseRows::from_dense(x.view());
        assert_eq!(s.to_dense(), x);
        assert_eq!(s.nnz(), x.iter().filter(|v| **v != 0.0).count());
        let mut t = SparseRows::new();
        s.transpose_into(&mut t);
        assert_eq!(t.to_dense(), x.t());
        let block = s.view().slice_rows(2..5);
        assert_eq!(block.to_dense(), x.slice(ndarray::s![2..5, ..]));
        block.transpose_into(&mut t);
        assert_eq!(t.to_dense(), x.slice(ndarray::s![2..5, ..]).t());
        let mut copy = SparseRows::new();
        copy.assign_view(block);
        assert_eq!(copy.to_dense(), block.to_dense());
        copy.gather(s.view(), &[4, 0, 4]);
        assert_eq!(copy.to_dense(), x.select(ndarray::Axis(0), &[4, 0, 4]));
        // Refilling reuses the buffers.
        let x2 = matrix(&mut rng, (3, 11), 0.2);
        copy.assign(x2.view());
        copy.transpose_into(&mut t);
        assert_eq!(t.to_dense(), x2.t());
        let mut rows = Vec::new();
        SparseRows::from_dense(ndarray::array![[0.0, 1.0], [0.0, 0.0], [2.0, 0.0]].view())
            .nonempty_rows(&mut rows);
        assert_eq!(rows, [0, 2]);
    }
}
