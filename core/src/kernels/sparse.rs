//! The Affine layer's products for a mostly-zero x, from its nonzero entries only.
//!
//! In `a = x·W + b` a zero pixel contributes `0 · W[i, :]`, nothing; in `dW = xᵀ·dout` it
//! contributes `0 · dout[n, :]`, nothing. From the nonzero entries of each row ([`SparseRows`])
//! both products skip that work: `a[n, :] = b + Σ_{i: x[n,i]≠0} x[n,i] · W[i, :]`. The sums
//! are the plain product's sums without their zero terms, added in the same order, so they are
//! equal to it (the tests check this bit for bit against [`super::dense`]'s references).

use super::csr::{SparseRows, SparseView};
use super::rows::{add_rows, axpy, zero};
use super::{ensure_shape, kernel, team};
use crate::Float;
use ndarray::{Array1, Array2, ArrayView2};
use std::ops::Range;

/// `out = x·W + b` for a sparse x: (N, in), W: (in, out) in standard layout, b: (out,) →
/// out: (N, out), each row `b + Σ_{i: x[n,i]≠0} x[n,i] · W[i, :]`.
pub fn affine_into<F: Float>(
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
    ensure_shape(out, x.nrows(), W.ncols());
    let w = W.as_slice().expect("W is in standard layout");
    let b = b.as_slice().expect("b is contiguous");
    let out = out.as_slice_mut().expect("out is in standard layout");
    if b.is_empty() {
        return;
    }
    // Rows are independent: blocks of them on the team's threads, same numbers.
    team::for_even_row_blocks(out, b.len(), x.nnz() * b.len(), |rows, out| {
        sparse_rows_times(x.slice_rows(rows), w, b, out)
    });
}

kernel! {
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

/// Batches of at least this many rows compute dW from xᵀ (see [`weight_grad`]).
///
/// Measured (CPU time, 784-hidden-10 net): at batch 100 the transposed form is 6 % (hidden 50)
/// to 50 % (hidden 800) faster than adding sample by sample, whose every nonzero loads and
/// stores a row of dW; at batch 1 transposing (a pass over all 784 columns) costs more than the
/// ~150 row updates themselves.
pub const TRANSPOSE_MIN_ROWS: usize = 4;

/// `dW = xᵀ·dout` for a sparse x: (N, in), dout: (N, out) → dW: (in, out), where dW is 0
/// outside the rows `rows` (the last call's): row i becomes `Σ_{n: x[n,i]≠0} x[n,i] · dout[n, :]`,
/// samples added in order. Rows of xᵀ·dout for columns of x without a nonzero are 0: only the
/// old rows are cleared and only the pixels nonzero somewhere in the batch computed (about 150
/// of MNIST's 784 at batch 1). `rows` becomes the rows written (x's nonzero columns).
///
/// Small batches add `v · dout[n, :]` into row i for each nonzero (i, v) of each sample n.
/// From [`TRANSPOSE_MIN_ROWS`] rows on, x is first transposed (its columns as lists of
/// (sample, value)), so that each row of dW sums its terms in registers, four at a time, and
/// is stored once; dW's rows are then split into blocks of pixels, one per thread of the team
/// (each block transposes and sums its own columns). Both add the same terms in the same
/// order: same result.
pub fn weight_grad<F: Float>(
    x: SparseView<F>,
    dout: ArrayView2<F>,
    dW: &mut Array2<F>,
    rows: &mut Vec<u32>,
    scratch: &mut GradScratch<F>,
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
    if width == 0 {
        return nonzero_columns(x, &mut scratch.seen, rows);
    }
    if x.nrows() < TRANSPOSE_MIN_ROWS {
        clear_rows(dW, width, rows, 0..x.ncols());
        nonzero_columns(x, &mut scratch.seen, rows);
        return sample_by_sample(x, dout, width, dW);
    }
    // Each row of dW is summed whole by one part: same numbers for any number of parts.
    let parts = team::parts_for(x.nnz() * width, team::MIN_PART_WORK, x.ncols());
    let bounds = team::even_bounds(x.ncols(), parts);
    if scratch.parts.len() < parts {
        scratch.parts.resize_with(parts, || PartScratch {
            x_t: SparseRows::new(),
            rows: Vec::new(),
            spans: Vec::new(),
        });
    }
    let old: &[u32] = rows;
    team::for_row_blocks(dW, width, &bounds, &mut scratch.parts, |cols, dW, part| {
        clear_rows(dW, width, old, cols.clone());
        x.transpose_columns_into(cols, &mut part.x_t, &mut part.spans);
        part.x_t.nonempty_rows(&mut part.rows);
        transposed_times(&part.x_t, &part.rows, dout, width, dW);
    });
    rows.clear();
    for (part, &first) in scratch.parts.iter().zip(bounds.iter()).take(parts) {
        rows.extend(part.rows.iter().map(|&i| i + first as u32));
    }
}

/// What [`weight_grad`] reuses from call to call: per block of pixels, its columns of x
/// transposed and their nonempty rows; one flag per pixel.
#[derive(Clone, Debug)]
pub struct GradScratch<F> {
    parts: Vec<PartScratch<F>>,
    seen: Vec<bool>,
}

impl<F> Default for GradScratch<F> {
    fn default() -> Self {
        GradScratch {
            parts: Vec::new(),
            seen: Vec::new(),
        }
    }
}

#[derive(Clone, Debug)]
struct PartScratch<F> {
    x_t: SparseRows<F>,
    rows: Vec<u32>,
    spans: Vec<Range<usize>>,
}

/// Zeroes the rows `rows` of dW that lie in `block` (dW holding that block's rows, each
/// `width` long).
fn clear_rows<F: Float>(dW: &mut [F], width: usize, rows: &[u32], block: Range<usize>) {
    for &i in rows.iter().filter(|&&i| block.contains(&(i as usize))) {
        let at = (i as usize - block.start) * width;
        zero(&mut dW[at..at + width]);
    }
}

kernel! {
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

kernel! {
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
    for &i in x.indices() {
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
    use crate::kernels::dense::tests::{case, plain_products, SHAPES};
    use crate::kernels::tests::{at_every_level, rng, ForceParts};
    use ndarray::s;

    #[test]
    fn sparse_products_are_the_plain_ordered_sums_at_every_simd_level() {
        let mut rng = rng(6);
        let cases: Vec<_> = SHAPES.iter().map(|&s| case(&mut rng, s, 0.8)).collect();
        at_every_level(|level| {
            for (x, w, b, dout) in &cases {
                let s = SparseRows::from_dense(x.view());
                let mut out = Array2::zeros((0, 0));
                affine_into(s.view(), w.view(), b, &mut out);
                let [want_out, ..] = plain_products(x, w, b, dout);
                assert!(out == want_out, "{level:?}, {:?}: x·W + b", x.dim());
                // Both ways (sample by sample below TRANSPOSE_MIN_ROWS), on blocks of rows too.
                let n = x.nrows();
                for rows in [0..n, 0..n.min(2), n / 2..n] {
                    let block = s.view().slice_rows(rows.clone());
                    let (x, dout) = (x.slice(s![rows.clone(), ..]), dout.slice(s![rows, ..]));
                    let mut dw = Array2::zeros(w.dim());
                    let (mut touched, mut scratch) = (Vec::new(), GradScratch::default());
                    weight_grad(block, dout, &mut dw, &mut touched, &mut scratch);
                    let [_, want_dw, _] = plain_products(&x.to_owned(), w, b, &dout.to_owned());
                    assert!(dw == want_dw, "{level:?}, {:?}: dW", x.dim());
                    touched.sort_unstable();
                    let nonzero: Vec<u32> = (0..x.ncols() as u32)
                        .filter(|&i| x.column(i as usize).iter().any(|&v| v != 0.0))
                        .collect();
                    assert_eq!(
                        touched, nonzero,
                        "the rows of dW written: x's nonzero columns"
                    );
                }
            }
        });
    }

    #[test]
    fn products_split_into_parts_equal_the_whole_ones_batch_after_batch() {
        let mut rng = rng(7);
        let (x1, w, b, dout1) = case(&mut rng, (60, 97, 23), 0.8);
        // A small batch (sample by sample, its rows in order of first appearance), then one
        // whose columns 0–9, 40–44 and 90–96 are all zero: rows of dW the earlier batches
        // wrote must be cleared, in every block of pixels.
        let (x_small, _, _, dout_small) = case(&mut rng, (3, 97, 23), 0.3);
        let (mut x2, _, _, dout2) = case(&mut rng, (60, 97, 23), 0.6);
        for col in (0..10).chain(40..45).chain(90..97) {
            x2.column_mut(col).fill(0.0);
        }
        let batches = [(&x1, &dout1), (&x_small, &dout_small), (&x2, &dout2)];
        for parts in 1..=5 {
            let _parts = ForceParts::new(parts);
            let mut out = Array2::zeros((0, 0));
            let s1 = SparseRows::from_dense(x1.view());
            affine_into(s1.view(), w.view(), &b, &mut out);
            let [want_out, ..] = plain_products(&x1, &w, &b, &dout1);
            assert!(out == want_out, "{parts} parts: x·W + b");
            // The batches into one dW: each clears the last one's rows and writes its own.
            let (mut dw, mut rows, mut scratch) =
                (Array2::zeros(w.dim()), vec![], Default::default());
            for (x, dout) in batches {
                let s = SparseRows::from_dense(x.view());
                weight_grad(s.view(), dout.view(), &mut dw, &mut rows, &mut scratch);
                let [_, want_dw, _] = plain_products(x, &w, &b, dout);
                assert!(dw == want_dw, "{parts} parts, batch of {}: dW", x.nrows());
            }
            let nonzero: Vec<u32> = (0..97u32)
                .filter(|&i| x2.column(i as usize).iter().any(|&v| v != 0.0))
                .collect();
            assert_eq!(nonzero.len(), 97 - 22);
            assert_eq!(rows, nonzero, "{parts} parts: the rows written, rising");
        }
    }

    #[test]
    fn nonzero_columns_come_in_order_of_first_appearance() {
        let x = SparseRows::from_dense(ndarray::array![[0.0, 2.0, 1.0], [3.0, 2.0, 0.0]].view());
        let (mut seen, mut columns) = (Vec::new(), Vec::new());
        nonzero_columns(x.view(), &mut seen, &mut columns);
        assert_eq!((columns, seen), (vec![1, 2, 0], vec![false; 3]));
    }
}
