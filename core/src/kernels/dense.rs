//! The Affine layer's products for a dense x, on one of two routes (thresholds below,
//! measured with `cargo bench --bench train`, but the small-product one, a first guess):
//! - small products (the users' 50→10 layer, batch 100): row kernels built on
//!   [`add_rows`], which need no packing, no threads and no allocation;
//! - large products: [`product_into`]'s packed, register-blocked kernels, on every core for
//!   the largest.
//!
//! Both routes compute every output element in the same order, the plain loops' (their tests'
//! references): from the bias (or 0), then the terms in ascending order of the summed index,
//! whatever the SIMD level, the tile sizes or the number of threads.

use super::packed::product_into;
use super::rows::{add_rows, axpy};
use super::{ensure_shape, kernel, team};
use crate::Float;
use ndarray::{Array1, Array2, ArrayView2};

/// Products of at most this many multiply-adds (N·in·out) use the row kernels; larger ones use
/// [`product_into`]'s packed kernels, whose packing pays off only on large matrices.
pub const SMALL_PRODUCT: usize = 1 << 21;

/// `out = x·W + b` for a dense x: (N, in), W: (in, out), b: (out,) → out: (N, out).
pub fn affine_into<F: Float>(
    x: ArrayView2<F>,
    W: ArrayView2<F>,
    b: &Array1<F>,
    out: &mut Array2<F>,
) {
    let (n, d_in) = x.dim();
    let d_out = W.ncols();
    ensure_shape(out, n, d_out);
    if n * d_in * d_out > SMALL_PRODUCT {
        // Start from the bias broadcast over rows, then add x·W's terms to it.
        for mut row in out.rows_mut() {
            row.assign(b);
        }
        product_into(x, W, out.view_mut(), true);
        return;
    }
    // out[n, :] = b + Σ_i x[n, i] · W[i, :]: whole rows of W, added in order of i.
    let x = x.as_standard_layout();
    let (x, w) = (
        x.as_slice().expect("standard"),
        W.as_slice().expect("standard"),
    );
    let (b, out) = (
        b.as_slice().expect("contiguous"),
        out.as_slice_mut().expect("standard"),
    );
    if d_in == 0 {
        // No terms: every row is the bias.
        return out
            .chunks_exact_mut(d_out.max(1))
            .for_each(|row| row.copy_from_slice(b));
    }
    if d_out == 0 {
        return;
    }
    // Rows are independent: blocks of them on the team's threads, same numbers.
    team::for_even_row_blocks(out, d_out, n * d_in * d_out, |rows, out| {
        rows_times(&x[rows.start * d_in..rows.end * d_in], d_in, w, b, out)
    });
}

kernel! {
    /// out (N, width) = b + x·w for dense x (N, d_in), w (d_in, width), b (width,) as slices.
    fn rows_times<F>(x: &[F], d_in: usize, w: &[F], b: &[F], out: &mut [F]) {
        let width = b.len();
        for (out_row, x_row) in out.chunks_exact_mut(width).zip(x.chunks_exact(d_in)) {
            out_row.copy_from_slice(b);
            add_rows(out_row, x_row, |i| &w[i * width..(i + 1) * width]);
        }
    }
}

/// `dW = xᵀ·dout` for a dense x: (N, in), dout: (N, out) → dW: (in, out), overwritten.
pub fn weight_grad<F: Float>(x: ArrayView2<F>, dout: ArrayView2<F>, dW: &mut Array2<F>) {
    let (n, d_in) = x.dim();
    let d_out = dout.ncols();
    ensure_shape(dW, d_in, d_out);
    if n * d_in * d_out > SMALL_PRODUCT {
        product_into(x.t(), dout, dW.view_mut(), false);
        return;
    }
    // dW[i, :] = Σ_n x[n, i] · dout[n, :], samples added in order.
    let (x, dout) = (x.as_standard_layout(), dout.as_standard_layout());
    let (x, dout) = (
        x.as_slice().expect("standard"),
        dout.as_slice().expect("standard"),
    );
    let dw = dW.as_slice_mut().expect("standard");
    dw.fill(F::zero());
    if d_out == 0 || d_in == 0 {
        return;
    }
    // Each row of dW sums over the samples by itself: blocks of rows on the team's threads.
    team::for_even_row_blocks(dw, d_out, n * d_in * d_out, |rows, dw| {
        transposed_times(x, d_in, rows, dout, d_out, dw)
    });
}

kernel! {
    /// Rows `rows` of dW += xᵀ·dout into `dw` ((rows.len(), d_out)), for x (N, d_in) and dout
    /// (N, d_out) as slices.
    fn transposed_times<F>(
        x: &[F],
        d_in: usize,
        rows: std::ops::Range<usize>,
        dout: &[F],
        d_out: usize,
        dw: &mut [F],
    ) {
        for (x_row, dout_row) in x.chunks_exact(d_in).zip(dout.chunks_exact(d_out)) {
            for (dw_row, &v) in dw.chunks_exact_mut(d_out).zip(&x_row[rows.clone()]) {
                axpy(v, dout_row, dw_row);
            }
        }
    }
}

/// `dx = dout·Wᵀ`; dout: (N, out), W: (in, out) → dx: (N, in), with `w_t` as scratch for Wᵀ.
pub fn input_grad<F: Float>(
    dout: ArrayView2<F>,
    W: &Array2<F>,
    w_t: &mut Array2<F>,
    dx: &mut Array2<F>,
) {
    let (n, d_out) = dout.dim();
    let d_in = W.nrows();
    ensure_shape(dx, n, d_in);
    if n * d_in * d_out > SMALL_PRODUCT {
        product_into(dout, W.t(), dx.view_mut(), false);
        return;
    }
    // dx[n, :] = Σ_j dout[n, j] · Wᵀ[j, :]: rows of Wᵀ (copied once, in·out values) so the
    // inner loop runs along contiguous memory.
    ensure_shape(w_t, d_out, d_in);
    w_t.assign(&W.t());
    let dout = dout.as_standard_layout();
    let dout = dout.as_slice().expect("standard");
    let (w_t, dx) = (
        w_t.as_slice().expect("standard"),
        dx.as_slice_mut().expect("standard"),
    );
    dx.fill(F::zero());
    if d_out == 0 || d_in == 0 {
        return;
    }
    // Rows are independent: blocks of them on the team's threads, same numbers.
    team::for_even_row_blocks(dx, d_in, n * d_in * d_out, |rows, dx| {
        let dout = &dout[rows.start * d_out..rows.end * d_out];
        rows_times_accumulate(dout, d_out, w_t, d_in, dx)
    });
}

kernel! {
    /// dx (N, d_in) += dout·w_t for dout (N, d_out) and w_t (d_out, d_in) as slices.
    fn rows_times_accumulate<F>(dout: &[F], d_out: usize, w_t: &[F], d_in: usize, dx: &mut [F]) {
        for (dx_row, dout_row) in dx.chunks_exact_mut(d_in).zip(dout.chunks_exact(d_out)) {
            add_rows(dx_row, dout_row, |j| &w_t[j * d_in..(j + 1) * d_in]);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernels::tests::{at_every_level, matrix, rng, ForceParts};

    /// `[x·W + b, xᵀ·dout, dout·Wᵀ]` by plain loops, each sum in the order the kernels
    /// promise: from b (or 0), terms in ascending order of the summed index.
    pub fn plain_products(
        x: &Array2<f64>,
        w: &Array2<f64>,
        b: &Array1<f64>,
        dout: &Array2<f64>,
    ) -> [Array2<f64>; 3] {
        plain_products_with(x, w, b, dout, |s, p, q| s + p * q)
    }

    /// [`plain_products`] with each term added by `term(s, p, q)` (the packed kernel's is
    /// `p.mul_add(q, s)`, a fused multiply-add).
    pub fn plain_products_with(
        x: &Array2<f64>,
        w: &Array2<f64>,
        b: &Array1<f64>,
        dout: &Array2<f64>,
        term: fn(f64, f64, f64) -> f64,
    ) -> [Array2<f64>; 3] {
        let ((n, d_in), d_out) = (x.dim(), w.ncols());
        let out = Array2::from_shape_fn((n, d_out), |(r, j)| {
            (0..d_in).fold(b[j], |s, i| term(s, x[[r, i]], w[[i, j]]))
        });
        let dw = Array2::from_shape_fn((d_in, d_out), |(i, j)| {
            (0..n).fold(0.0, |s, r| term(s, x[[r, i]], dout[[r, j]]))
        });
        let dx = Array2::from_shape_fn((n, d_in), |(r, i)| {
            (0..d_out).fold(0.0, |s, j| term(s, dout[[r, j]], w[[i, j]]))
        });
        [out, dw, dx]
    }

    /// Shapes (batch, in, out) whose output widths take every case of `add_rows`.
    pub const SHAPES: [(usize, usize, usize); 9] = [
        (5, 7, 10),
        (5, 9, 16),
        (2, 6, 33),
        (5, 7, 40),
        (3, 20, 48),
        (5, 33, 50),
        (2, 17, 64),
        (5, 8, 65),
        (4, 40, 200),
    ];

    /// Random (x, W, b, dout) of the given shape, about `zeros` of x set to 0.
    pub fn case(
        rng: &mut rand_chacha::ChaCha8Rng,
        (n, d_in, d_out): (usize, usize, usize),
        zeros: f64,
    ) -> (Array2<f64>, Array2<f64>, Array1<f64>, Array2<f64>) {
        let x = matrix(rng, (n, d_in), zeros);
        let w = matrix(rng, (d_in, d_out), 0.0);
        let b = matrix(rng, (1, d_out), 0.0).remove_axis(ndarray::Axis(0));
        (x, w, b, matrix(rng, (n, d_out), 0.0))
    }

    #[test]
    fn row_kernels_are_the_plain_ordered_sums_at_every_simd_level() {
        let mut rng = rng(3);
        let cases: Vec<_> = SHAPES.iter().map(|&s| case(&mut rng, s, 0.3)).collect();
        at_every_level(|level| {
            // Split into 1 to 3 parts (more parts than rows included): the same numbers.
            for ((x, w, b, dout), parts) in cases.iter().zip((1..=3).cycle()) {
                let _parts = ForceParts::new(parts);
                const { assert!(200 * 40 * 4 <= SMALL_PRODUCT) };
                let (mut out, mut dw, mut dx) = Default::default();
                affine_into(x.view(), w.view(), b, &mut out);
                weight_grad(x.view(), dout.view(), &mut dw);
                input_grad(dout.view(), w, &mut Array2::zeros((0, 0)), &mut dx);
                let what = ["x·W + b", "dW", "dx"];
                let want = plain_products(x, w, b, dout);
                for ((got, want), what) in [out, dw, dx].iter().zip(want).zip(what) {
                    assert!(
                        got == want,
                        "{level:?}, {:?}, {parts} parts: {what}\n{got}\nvs\n{want}",
                        x.dim()
                    );
                }
            }
        });
    }

    #[test]
    fn a_product_over_no_inputs_is_the_bias() {
        let (x, w, b) = (
            Array2::<f32>::zeros((3, 0)),
            Array2::zeros((0, 4)),
            ndarray::array![1.0, 2.0, 3.0, 4.0],
        );
        let mut out = Array2::from_elem((3, 4), f32::NAN);
        affine_into(x.view(), w.view(), &b, &mut out);
        assert!(out.rows().into_iter().all(|row| row == b));
    }

    #[test]
    fn large_products_are_the_fused_ordered_sums_at_every_simd_level() {
        let mut rng = rng(5);
        // Above SMALL_PRODUCT (the packed route), with widths that are no multiple of a tile.
        let shapes = [(101, 230, 97), (37, 1000, 61)];
        const { assert!(37 * 1000 * 61 > SMALL_PRODUCT && 101 * 230 * 97 > SMALL_PRODUCT) };
        let cases: Vec<_> = shapes.iter().map(|&s| case(&mut rng, s, 0.3)).collect();
        let want: Vec<_> = cases
            .iter()
            .map(|(x, w, b, d)| plain_products_with(x, w, b, d, |s, p, q| p.mul_add(q, s)))
            .collect();
        at_every_level(|level| {
            for ((x, w, b, dout), want) in cases.iter().zip(&want) {
                let (mut out, mut dw, mut dx) = Default::default();
                affine_into(x.view(), w.view(), b, &mut out);
                weight_grad(x.view(), dout.view(), &mut dw);
                input_grad(dout.view(), w, &mut Array2::zeros((0, 0)), &mut dx);
                for ((got, want), what) in
                    [out, dw, dx].iter().zip(want).zip(["x·W + b", "dW", "dx"])
                {
                    assert!(got == want, "{level:?}, {:?}: {what} differs", x.dim());
                }
            }
        });
    }
}
