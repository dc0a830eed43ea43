//! Numerical differentiation and gradient descent (the book's `gradient_1d.py`,
//! `gradient_2d.py`, `gradient_method.py` and `common/gradient.py`).
//!
//! These are the slow, obviously-correct references: every gradient here costs two evaluations
//! of `f` per element, and backpropagation is checked against them.
//!
//! # Ownership
//! The book's `numerical_gradient(f, x)` writes `x[idx] ± h` into the caller's array and calls
//! `f(x)`; with a network, `f = lambda W: net.loss(x, t)` ignores its argument and sees the
//! perturbed weights only because `x` *is* `net.W` (shared, mutated in place). Rust forbids that
//! aliasing, so here [`numerical_gradient`] borrows the array mutably for the duration, perturbs
//! one element at a time, hands the perturbed array to `f` as its argument, and writes the saved
//! element back — the array comes back bit for bit as it went in. A network therefore passes
//! `&mut self.W` and a loss that takes the weights explicitly:
//!
//! ```
//! use ndarray::array;
//! use scratchnet_core::numerical::numerical_gradient;
//!
//! let mut W = array![[1.0_f64, 2.0], [3.0, 4.0]];
//! // d/dW of Σ W² is 2W.
//! let dW = numerical_gradient(|W| W.iter().map(|w| w * w).sum(), &mut W);
//! assert!((dW[[1, 0]] - 6.0).abs() < 1e-6);
//! assert_eq!(W, array![[1.0, 2.0], [3.0, 4.0]]);
//! ```

use crate::Float;
use ndarray::{Array, ArrayBase, Data, Dimension, IntoDimension};

/// The book's step `h = 1e-4`: small enough for little truncation error, large enough that
/// `x ± h` still differs from `x` in floating point.
pub const H: f64 = 1e-4;

/// The book's `function_1(x) = 0.01x² + 0.1x`; its derivative is `0.02x + 0.1`.
pub fn function_1<F: Float>(x: F) -> F {
    // x² first, as NumPy evaluates `0.01*x**2`: the rounding, and so the printed digits, match.
    F::of(0.01) * (x * x) + F::of(0.1) * x
}

/// The book's `function_2(x) = Σ xᵢ²` (x0² + x1² for a point); its gradient is `2x`.
pub fn function_2<F: Float, S: Data<Elem = F>, D: Dimension>(x: &ArrayBase<S, D>) -> F {
    x.iter().map(|&v| v * v).sum()
}

/// Central difference `(f(x+h) - f(x-h)) / 2h` with `h = 1e-4`: the book's `numerical_diff`.
///
/// Its error shrinks like h² (the forward difference's like h), because the h² terms of the two
/// Taylor expansions cancel.
pub fn numerical_diff<F: Float>(f: impl Fn(F) -> F, x: F) -> F {
    let h = F::of(H);
    (f(x + h) - f(x - h)) / (F::of(2.0) * h)
}

/// Forward difference `(f(x+h) - f(x)) / h` with the caller's `h`: the book's first, flawed
/// attempt. With `h = 1e-50`, `x + h` rounds back to `x` and the result is 0.
pub fn numerical_diff_forward<F: Float>(f: impl Fn(F) -> F, x: F, h: F) -> F {
    (f(x + h) - f(x)) / h
}

/// The tangent of `f` at `x` as `(slope, intercept)`, slope by [`numerical_diff`]: the line is
/// `y = slope·t + intercept` (the book's `tangent_line`).
pub fn tangent_line<F: Float>(f: impl Fn(F) -> F, x: F) -> (F, F) {
    let slope = numerical_diff(&f, x);
    (slope, f(x) - slope * x)
}

/// Gradient of `f` at `x` by central differences, element by element; `x` of any shape →
/// a gradient of the same shape.
///
/// Each element is set to `x + h`, then `x - h`, `f` is called on the whole perturbed array,
/// and the saved element is written back, so `x` is left exactly as it was (see the module doc
/// for why `f` receives the array instead of capturing it).
pub fn numerical_gradient<F: Float, D: Dimension>(
    mut f: impl FnMut(&Array<F, D>) -> F,
    x: &mut Array<F, D>,
) -> Array<F, D> {
    let h = F::of(H);
    let mut grad = Array::zeros(x.raw_dim());
    for (idx, g) in grad.indexed_iter_mut() {
        let idx = idx.into_dimension();
        let tmp_val = x[idx.clone()];
        x[idx.clone()] = tmp_val + h;
        let fxh1 = f(x);
        x[idx.clone()] = tmp_val - h;
        let fxh2 = f(x);
        *g = (fxh1 - fxh2) / (F::of(2.0) * h);
        x[idx] = tmp_val;
    }
    grad
}

/// Gradient descent `x ← x − lr·∇f(x)` for `step_num` steps from `init_x`, gradients by
/// [`numerical_gradient`]; returns the final x.
///
/// If `x_history` is given, the point before each step is pushed onto it (as the book's
/// `gradient_method.py` records it: `step_num` points, the first being `init_x`).
pub fn gradient_descent<F: Float, D: Dimension>(
    mut f: impl FnMut(&Array<F, D>) -> F,
    init_x: Array<F, D>,
    lr: F,
    step_num: usize,
    mut x_history: Option<&mut Vec<Array<F, D>>>,
) -> Array<F, D> {
    let mut x = init_x;
    for _ in 0..step_num {
        if let Some(history) = x_history.as_deref_mut() {
            history.push(x.clone());
        }
        let grad = numerical_gradient(&mut f, &mut x);
        x.zip_mut_with(&grad, |xi, &g| *xi -= lr * g);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1, Array2, ArrayD, IxDyn};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn forward_difference_with_tiny_h_rounds_to_zero() {
        assert_eq!(numerical_diff_forward(function_1, 5.0, 1e-50), 0.0);
        assert_eq!(numerical_diff_forward(function_1, 10.0, 1e-50), 0.0);
        // The book's other half of the story: 1e-50 is 0 in float32.
        assert_eq!(1e-50_f64 as f32, 0.0);
        // With h = 1e-4 it works, but with an error of order h (1e-6), not h² (1e-12).
        assert_eq!(
            numerical_diff_forward(function_1, 5.0, 1e-4),
            0.200_000_999_999_172_54
        );
    }

    #[test]
    fn central_difference_gives_the_books_figures() {
        assert_eq!(numerical_diff(function_1, 5.0), 0.199_999_999_999_089_8);
        assert_eq!(numerical_diff(function_1, 10.0), 0.299_999_999_998_634_7);
        assert_eq!(numerical_diff(function_1, -10.0), -0.099_999_999_999_544_9);
        // The true derivative 0.02x + 0.1, to about h².
        for x in [-10.0_f64, 0.0, 5.0, 10.0, 20.0] {
            assert!((numerical_diff(function_1, x) - (0.02 * x + 0.1)).abs() < 1e-8);
        }
    }

    #[test]
    fn tangent_lines_touch_function_1() {
        let (slope, intercept) = tangent_line(function_1, 5.0_f64);
        assert!((slope - 0.2).abs() < 1e-11);
        assert!((intercept - -0.25).abs() < 1e-10);
        let (slope, intercept) = tangent_line(function_1, 10.0_f64);
        assert!((slope - 0.3).abs() < 1e-11);
        assert!((intercept - -1.0).abs() < 1e-10);
        assert!((slope * 10.0 + intercept - function_1(10.0)).abs() < 1e-12);
    }

    fn gradient_at(x0: f64, x1: f64) -> Array1<f64> {
        numerical_gradient(function_2, &mut array![x0, x1])
    }

    #[test]
    fn gradients_of_function_2_are_the_books() {
        assert_eq!(
            gradient_at(3.0, 4.0).to_vec(),
            [6.000_000_000_003_78, 7.999_999_999_999_119]
        );
        assert_eq!(gradient_at(0.0, 2.0).to_vec(), [0.0, 4.000_000_000_004]);
        assert_eq!(gradient_at(3.0, 0.0).to_vec(), [6.000_000_000_012_662, 0.0]);
        let g = gradient_at(0.0, 100.0);
        assert_eq!(g[0], 0.0);
        assert_eq!(g[1], 200.000_000_013_460_52);
        assert_eq!(format!("{:.8}", g[1]), "200.00000001");
    }

    #[test]
    fn gradient_descent_reaches_diverges_or_stalls_as_in_the_book() {
        let descend = |lr| gradient_descent(function_2, array![-3.0, 4.0], lr, 100, None);
        let x = descend(0.1);
        assert_eq!(
            x.to_vec(),
            [-6.111_107_928_998_789e-10, 8.148_143_905_314_271e-10]
        );
        // (1 − 2·lr)^100 · init_x, the exact solution of x ← x − lr·2x.
        let shrink = 0.8_f64.powi(100);
        assert!((x[0] - -3.0 * shrink).abs() < 1e-20 && (x[1] - 4.0 * shrink).abs() < 1e-20);

        let x = descend(10.0);
        assert_eq!(
            x.to_vec(),
            [-25_898_374_737_328.363, -1_295_248_616_896.539_8]
        );

        let x = descend(1e-10);
        assert_eq!(
            x.to_vec(),
            [-2.999_999_939_999_995, 3.999_999_919_999_993_4]
        );
    }

    #[test]
    fn gradient_descent_records_the_path_before_each_step() {
        let mut path = Vec::new();
        let x = gradient_descent(function_2, array![-3.0, 4.0], 0.1, 20, Some(&mut path));
        assert_eq!(path.len(), 20);
        assert_eq!(path[0], array![-3.0, 4.0]);
        // One more step from the last recorded point lands on the result.
        let last = gradient_descent(function_2, path[19].clone(), 0.1, 1, None);
        assert_eq!(last, x);
        let norms: Vec<f64> = path.iter().map(function_2).collect();
        assert!(norms.windows(2).all(|w| w[1] < w[0]));
    }

    /// f(x) = x·A·x + b·x over the flattened x; its gradient is (A + Aᵀ)·x + b.
    fn check_quadratic(shape: &[usize], seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n: usize = shape.iter().product();
        let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
        let a = Array2::from_shape_simple_fn((n, n), &mut normal);
        let b = Array1::from_shape_simple_fn(n, &mut normal);
        let mut x = ArrayD::from_shape_simple_fn(IxDyn(shape), &mut normal);
        let before = x.clone();

        let f = |x: &ArrayD<f64>| {
            let v = Array1::from_iter(x.iter().copied());
            v.dot(&a.dot(&v)) + b.dot(&v)
        };
        let grad = numerical_gradient(f, &mut x);

        let v = Array1::from_iter(before.iter().copied());
        let analytic = (&a + &a.t()).dot(&v) + &b;
        assert_eq!(grad.shape(), shape);
        for (g, want) in grad.iter().zip(analytic.iter()) {
            assert!((g - want).abs() < 1e-6, "{shape:?}: {g} vs {want}");
        }
        // Restored bit for bit, not just approximately.
        let bits = |x: &ArrayD<f64>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&x), bits(&before));
    }

    #[test]
    fn numerical_gradient_of_random_quadratics_matches_the_analytic_gradient() {
        for (seed, shape) in [&[1][..], &[2], &[7], &[2, 3], &[4, 5], &[2, 2, 3]]
            .into_iter()
            .enumerate()
        {
            check_quadratic(shape, seed as u64);
        }
    }

    #[test]
    fn numerical_gradient_works_on_fixed_dimension_arrays_and_f32() {
        let mut w: Array2<f32> = array![[0.5, -1.0, 2.0], [3.0, 0.25, -0.75]];
        let before = w.clone();
        let grad = numerical_gradient(function_2, &mut w);
        assert_eq!(w, before);
        for (g, x) in grad.iter().zip(before.iter()) {
            // f32 has ~7 digits, and dividing by 2h = 2e-4 amplifies its rounding.
            assert!((g - 2.0 * x).abs() < 0.05, "{g} vs {}", 2.0 * x);
        }
    }
}
