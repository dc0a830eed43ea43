//! The Affine layer: `out = x·W + b` (the book's fully connected layer).
//!
//! The three products of a step — `x·W` forward, `dW = xᵀ·dout` and `dx = dout·Wᵀ` backward —
//! take one of three routes (thresholds below, measured with `cargo bench --bench train`, but
//! the small-product one, a first guess):
//! - x mostly zeros (MNIST's pixels, ReLU outputs): the sparse kernels of [`super::sparse`],
//!   which skip the zero entries;
//! - small products (the users' 50→10 layer, batch 100): the row kernels below, which need no
//!   packing, no threads and no allocation;
//! - large products: the `gemm` crate's packed kernels, on every core for the largest.
//!
//! Each route computes every output element from the same terms in a fixed order, whatever the
//! number of threads, so a run is reproducible bit for bit.

use super::sparse::{
    density, sparse_affine_into, sparse_weight_grad, Input, SparseRows, SPARSE_MAX_DENSITY,
};
use super::{copy_into, ensure_shape};
use crate::simd::{add_rows, axpy, zero};
use crate::Float;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

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

/// A fully connected layer with weights `W: (in, out)` and bias `b: (out,)`.
#[derive(Clone)]
pub struct Affine<F: Float> {
    /// Weights, (in, out): the book's `W`.
    pub W: Array2<F>,
    /// Bias, (out,): the book's `b`.
    pub b: Array1<F>,
    /// Gradient of the loss with respect to `W`, written by `backward`. After a sparse input
    /// only the rows in [`Affine::dW_rows`] can be nonzero, and `backward` counts on the others
    /// staying 0: change dW outside `backward` only through [`Affine::add_weight_decay`].
    pub dW: Array2<F>,
    /// Gradient of the loss with respect to `b`, written by `backward`.
    pub db: Array1<F>,
    /// Whether `backward` computes `dx` (the first layer's input needs no gradient).
    pub needs_dx: bool,
    /// The last input, dense (N, in) — when it was not sparse enough for `x_sparse`.
    x: Array2<F>,
    /// The last input's nonzero entries, when it was mostly zeros (`sparse`).
    x_sparse: SparseRows<F>,
    /// Which of `x` and `x_sparse` holds the last input.
    sparse: bool,
    /// When `dW_sparse`, dW is 0 outside these rows (the input's nonzero columns).
    dW_rows: Vec<u32>,
    dW_sparse: bool,
    /// Scratch for backward: one flag per input column, xᵀ as rows of nonzeros (in, N), Wᵀ
    /// (out, in).
    seen: Vec<bool>,
    x_t: SparseRows<F>,
    w_t: Array2<F>,
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
        // The kernels read W row by row.
        let W = W.as_standard_layout().into_owned();
        let (dW, db) = (Array2::zeros(W.dim()), Array1::zeros(b.len()));
        Affine {
            W,
            b,
            dW,
            db,
            needs_dx: true,
            x: Array2::zeros((0, 0)),
            x_sparse: SparseRows::new(),
            sparse: false,
            // dW is all zeros: zero outside the empty list of rows.
            dW_rows: Vec::new(),
            dW_sparse: true,
            seen: Vec::new(),
            x_t: SparseRows::new(),
            w_t: Array2::zeros((0, 0)),
            out: Array2::zeros((0, 0)),
            dx: Array2::zeros((0, 0)),
        }
    }

    /// `out = x·W + b`; x: (N, in) → out: (N, out). Keeps x for `backward` — as its nonzero
    /// entries when at most [`SPARSE_MAX_DENSITY`] of them are nonzero.
    pub fn forward(&mut self, x: ArrayView2<F>) -> ArrayView2<'_, F> {
        self.sparse = density(x) <= SPARSE_MAX_DENSITY;
        if self.sparse {
            self.x_sparse.assign(x);
            sparse_affine_into(self.x_sparse.view(), self.W.view(), &self.b, &mut self.out);
        } else {
            copy_into(&mut self.x, x);
            dense_affine_into(self.x.view(), self.W.view(), &self.b, &mut self.out);
        }
        self.out.view()
    }

    /// `out = x·W + b` for a dense or sparse x: (N, in) → out: (N, out) (the trainer gathers
    /// MNIST batches as their nonzero pixels). Keeps x for `backward`.
    pub fn forward_input(&mut self, x: Input<F>) -> ArrayView2<'_, F> {
        match x {
            Input::Dense(x) => self.forward(x),
            Input::Sparse(x) => {
                self.sparse = true;
                self.x_sparse.assign_view(x);
                sparse_affine_into(self.x_sparse.view(), self.W.view(), &self.b, &mut self.out);
                self.out.view()
            }
        }
    }

    /// From dout: (N, out), writes `dW = xᵀ·dout`, `db = Σ_rows dout` and returns
    /// `dx = dout·Wᵀ`: (N, in) (an empty view when `needs_dx` is false).
    pub fn backward(&mut self, dout: ArrayView2<F>) -> ArrayView2<'_, F> {
        if self.sparse {
            // Row i of xᵀ·dout is 0 unless input column i has a nonzero: clear the rows the
            // last backward wrote (all of dW if it was written whole), then add this batch's
            // products into its rows only.
            let width = self.dW.ncols();
            let dW = self.dW.as_slice_mut().expect("dW is in standard layout");
            if self.dW_sparse {
                for &i in &self.dW_rows {
                    zero(&mut dW[i as usize * width..(i as usize + 1) * width]);
                }
            } else {
                dW.fill(F::zero());
            }
            let scratch = (&mut self.x_t, &mut self.seen);
            let x = self.x_sparse.view();
            sparse_weight_grad(x, dout, &mut self.dW, &mut self.dW_rows, scratch);
            self.dW_sparse = true;
        } else {
            weight_grad(self.x.view(), dout, &mut self.dW);
            self.dW_sparse = false;
        }
        // db[j] = Σ_n dout[n, j], rows added in order.
        self.db.fill(F::zero());
        for row in dout.rows() {
            self.db += &row;
        }
        if !self.needs_dx {
            return self.dx.slice(ndarray::s![0..0, ..]);
        }
        ensure_shape(&mut self.dx, dout.nrows(), self.W.nrows());
        input_grad(dout, &self.W, &mut self.w_t, &mut self.dx);
        self.dx.view()
    }
}

impl<F: Float> Affine<F> {
    /// The rows of `dW` outside which it is exactly 0, when the last input was sparse (its
    /// nonzero columns); `None` when any row may be nonzero. An update rule for which a zero
    /// gradient changes nothing (SGD) need only touch these rows of W.
    pub fn dW_rows(&self) -> Option<&[u32]> {
        self.dW_sparse.then_some(&self.dW_rows[..])
    }

    /// `W` for updating, beside `dW` and [`Affine::dW_rows`] (borrowed together).
    pub fn W_and_grad(&mut self) -> (ArrayViewMut2<'_, F>, ArrayView2<'_, F>, Option<&[u32]>) {
        let rows = self.dW_sparse.then_some(&self.dW_rows[..]);
        (self.W.view_mut(), self.dW.view(), rows)
    }

    /// `dW += λ·W`: the gradient of the L2 penalty `½·λ·ΣW²`, added after `backward`.
    pub fn add_weight_decay(&mut self, lambda: F) {
        self.dW.scaled_add(lambda, &self.W);
        self.dW_sparse = false;
    }
}

/// `out = x·W + b` into a reused buffer; x: (N, in), W: (in, out), b: (out,) → out: (N, out).
/// Takes the sparse route when x is mostly zeros (building its nonzero list: this allocates,
/// so it suits evaluation blocks, not the training loop — the layer reuses its own).
pub fn affine_into<F: Float>(x: ArrayView2<F>, W: &Array2<F>, b: &Array1<F>, out: &mut Array2<F>) {
    let W = W.as_standard_layout();
    if density(x) <= SPARSE_MAX_DENSITY {
        sparse_affine_into(SparseRows::from_dense(x).view(), W.view(), b, out);
    } else {
        dense_affine_into(x, W.view(), b, out);
    }
}

/// `out = x·W + b` for a dense x: (N, in), W: (in, out), b: (out,) → out: (N, out).
fn dense_affine_into<F: Float>(
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

crate::kernel! {
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
fn weight_grad<F: Float>(x: ArrayView2<F>, dout: ArrayView2<F>, dW: &mut Array2<F>) {
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

crate::kernel! {
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
fn input_grad<F: Float>(
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

crate::kernel! {
    /// dx (N, d_in) += dout·w_t for dout (N, d_out) and w_t (d_out, d_in) as slices.
    fn rows_times_accumulate<F>(dout: &[F], d_out: usize, w_t: &[F], d_in: usize, dx: &mut [F]) {
        for (dx_row, dout_row) in dx.chunks_exact_mut(d_in).zip(dout.chunks_exact(d_out)) {
            add_rows(dx_row, dout_row, |j| &w_t[j * d_in..(j + 1) * d_in]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{max_diff, numerical_dx};
    use ndarray::array;

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

    #[test]
    fn forward_is_x_dot_w_plus_b() {
        let mut layer = Affine::new(
            array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
            array![0.5, -0.5],
        );
        let out = layer.forward(array![[1.0, 0.0, -1.0]].view()).to_owned();
        assert_eq!(out, array![[-3.5, -4.5]]);
    }

    /// `[x·W + b, xᵀ·dout, dout·Wᵀ]` by plain loops, each sum in the order the kernels
    /// promise: from b (or 0), terms in ascending order of the summed index.
    fn plain_products(
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

    #[test]
    fn both_routes_are_the_plain_ordered_sums_at_every_simd_level() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut uniform = |rows, cols, zeros: f64| {
            Array2::from_shape_fn((rows, cols), |_| {
                let v: f64 = rng.random_range(-1.0..1.0);
                if rng.random::<f64>() < zeros {
                    0.0
                } else {
                    v
                }
            })
        };
        // (batch, in, out, fraction of zero inputs): output widths around each case of
        // add_rows, batches on both sides of the sparse route's transposed dW.
        let shapes = [
            (5, 7, 10, 0.0),
            (5, 9, 16, 0.0),
            (2, 6, 33, 0.0),
            (5, 7, 40, 0.7),
            (3, 20, 48, 0.0),
            (5, 33, 50, 0.7),
            (2, 17, 64, 0.7),
            (5, 8, 65, 0.0),
            (4, 40, 200, 0.8),
        ];
        let cases: Vec<_> = shapes
            .iter()
            .map(|&(n, d_in, d_out, zeros)| {
                let x = uniform(n, d_in, zeros);
                let (w, b, dout) = (
                    uniform(d_in, d_out, 0.0),
                    uniform(1, d_out, 0.0).remove_axis(ndarray::Axis(0)),
                    uniform(n, d_out, 0.0),
                );
                (x, w, b, dout)
            })
            .collect();
        crate::simd::tests::at_every_level(|level| {
            for (x, w, b, dout) in &cases {
                let sparse = density(x.view()) <= SPARSE_MAX_DENSITY;
                let mut layer = Affine::new(w.clone(), b.clone());
                let out = layer.forward(x.view()).to_owned();
                let dx = layer.backward(dout.view()).to_owned();
                let got = [out, layer.dW.clone(), dx];
                let what = ["x·W + b", "dW", "dx"];
                for ((got, want), what) in got.iter().zip(plain_products(x, w, b, dout)).zip(what) {
                    assert!(
                        got == want,
                        "{level:?}, {:?} (sparse route: {sparse}): {what}\n{got}\nvs\n{want}",
                        x.dim()
                    );
                }
            }
        });
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
