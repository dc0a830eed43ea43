//! The Affine layer's products for a dense x, on one of two routes (thresholds below,
//! measured with `cargo bench --bench train`, but the small-product one, a first guess):
//! - small products (the users' 50→10 layer, batch 100): row kernels built on
//!   [`add_rows`], which need no packing, no threads and no allocation;
//! - large products: the `gemm` crate's packed kernels, on every core for the largest.
//!
//! Both compute every output element from the same terms in a fixed order, whatever the number
//! of threads; the row kernels' order is the plain loops' (their tests' references).

use super::rows::{add_rows, axpy};
use super::{ensure_shape, kernel};
use crate::Float;
use ndarray::{Array1, Array2, ArrayView2};

/// Products of at most this many multiply-adds (N·in·out) use the row kernels; larger ones use
/// the `gemm` crate's packed kernels, whose packing pays off only on large matrices.
pub const SMALL_PRODUCT: usize = 1 << 21;

/// Products of at least this many multiply-adds run on all of rayon's threads. Measured
/// (`cargo bench --bench train -- gemm_backend`): 100×784·784×50 (3.9 M) takes 80 µs on one
/// thread, 125 µs on two; 100×400·400×400 (16 M) 261 µs on one, 153 µs on two.
pub const PARALLEL_PRODUCT: usize = 1 << 23;

/// `out = x·w`, or `out += x·w` when `accumulate`; x: (m, k), w: (k, n), out: (m, n), any
/// strides (a transposed view included).
///
/// The `gemm` crate, chosen by measurement over matrixmultiply (ndarray's own product): on the
/// studies' large shapes it is about 1.5× faster (100×784·784×400: 287 µs against 448 µs;
/// 10000×784·784×50: 4.4 ms against 6.6 ms). Each output element is summed over k by one
/// thread in a fixed order, so the result does not depend on the number of threads.
pub fn gemm_into<F: Float>(
    x: ArrayView2<F>,
    w: ArrayView2<F>,
    out: &mut Array2<F>,
    accumulate: bool,
) {
    let ((m, k), n) = (x.dim(), w.ncols());
    assert_eq!(w.nrows(), k, "x·w: x has {k} columns, w {} rows", w.nrows());
    assert_eq!(out.dim(), (m, n), "x·w is ({m}, {n})");
    let parallelism = if m * k * n >= PARALLEL_PRODUCT {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    let (xs, ws) = (x.strides(), w.strides());
    let os = [out.strides()[0], out.strides()[1]];
    let (x, w, out_ptr) = (x.as_ptr(), w.as_ptr(), out.as_mut_ptr());
    // SAFETY: the sizes were checked above, and each pointer with its (column, row) strides
    // addresses exactly the elements of its array, which outlives the call; out is borrowed
    // mutably, so it overlaps neither x nor w. F is f32 or f64, both of which gemm supports.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out_ptr,
            os[1],
            os[0],
            accumulate,
            x,
            xs[1],
            xs[0],
            w,
            ws[1],
            ws[0],
            F::one(),
            F::one(),
            false,
            false,
            false,
            parallelism,
        )
    }
}

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
        // Start from the bias broadcast over rows, then add x·W on top (beta = 1).
        for mut row in out.rows_mut() {
            row.assign(b);
        }
        gemm_into(x, W, out, true);
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
    if d_out == 0 {
        return;
    }
    rows_times(x, d_in.max(1), w, b, out);
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
        gemm_into(x.t(), dout, dW, false);
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
    transposed_times(x, d_in, dout, d_out, dw);
}

kernel! {
    /// dw (d_in, d_out) += xᵀ·dout for x (N, d_in) and dout (N, d_out) as slices.
    fn transposed_times<F>(x: &[F], d_in: usize, dout: &[F], d_out: usize, dw: &mut [F]) {
        for (x_row, dout_row) in x.chunks_exact(d_in).zip(dout.chunks_exact(d_out)) {
            for (dw_row, &v) in dw.chunks_exact_mut(d_out).zip(x_row) {
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
        gemm_into(dout, W.t(), dx, false);
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
    rows_times_accumulate(dout, d_out, w_t, d_in, dx);
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
    use crate::kernels::tests::{at_every_level, matrix, rng};

    /// `[x·W + b, xᵀ·dout, dout·Wᵀ]` by plain loops, each sum in the order the kernels
    /// promise: from b (or 0), terms in ascending order of the summed index.
    pub fn plain_products(
        x: &Array2<f64>,
        w: &Array2<f64>,
        b: &Array1<f64>,
        dout: &Array2<f64>,
    ) -> [Array2<f64>; 3] {
        let ((n, d_in), d_out) = (x.dim(), w.ncols());
        let out = Array2::from_shape_fn((n, d_out), |(r, j)| {
            (0..d_in).fold(b[j], |s, i| s + x[[r, i]] * w[[i, j]])
        });
        let dw = Array2::from_shape_fn((d_in, d_out), |(i, j)| {
            (0..n).fold(0.0, |s, r| s + x[[r, i]] * dout[[r, j]])
        });
        let dx = Array2::from_shape_fn((n, d_in), |(r, i)| {
            (0..d_out).fold(0.0, |s, j| s + dout[[r, j]] * w[[i, j]])
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
            for (x, w, b, dout) in &cases {
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
                        "{level:?}, {:?}: {what}\n{got}\nvs\n{want}",
                        x.dim()
                    );
                }
            }
        });
    }

    #[test]
    fn gemm_products_match_ndarray_and_ignore_the_thread_count() {
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(9);
        // Big enough to run on several threads.
        let x = crate::init::randn::<f32>(&mut rng, 256, 300, 1.0);
        let w = crate::init::randn::<f32>(&mut rng, 300, 128, 1.0);
        const { assert!(256 * 300 * 128 >= PARALLEL_PRODUCT) };
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut out = Array2::from_elem((256, 128), 1.0f32);
                gemm_into(x.view(), w.view(), &mut out, true);
                let mut dw = Array2::zeros((300, 128));
                gemm_into(x.t(), out.view(), &mut dw, false);
                (out, dw)
            })
        };
        let (one, two, four) = (on(1), on(2), on(4));
        assert_eq!(one, two);
        assert_eq!(one, four);
        let expected = x.dot(&w) + 1.0;
        assert!((&one.0 - &expected).iter().all(|d| d.abs() < 1e-3));
        let expected_dw = x.t().dot(&one.0);
        let scale = expected_dw.iter().fold(0.0f32, |a, v| a.max(v.abs()));
        assert!((&one.1 - &expected_dw)
            .iter()
            .all(|d| d.abs() < 1e-5 * scale));
    }
}
