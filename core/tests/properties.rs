//! Property tests: softmax and the losses keep their defining properties, and every layer's
//! `backward` agrees with central differences ([`numerical_gradient`]) of its own `forward`, on
//! random shapes (batch 1..=5, widths 1..=6) and random f64 values.
//!
//! A layer's gradients are checked through the scalar `L = Σ forward(x) ⊙ dout` for a random
//! `dout`, whose gradient is exactly what `backward(dout)` returns (SoftmaxWithLoss through the
//! loss it reports). With `h = 1e-4` the central difference is off by about h²·f‴ (1e-8 for
//! these smooth functions) plus rounding of order 1e-16·|L|/h, so gradients must agree to 1e-6,
//! relative to their size once it exceeds 1.
//!
//! 256 cases per property from a fixed seed (`PROPTEST_CASES=n`, `PROPTEST_RNG_SEED=s` search
//! more).

use ndarray::{concatenate, s, Array, Array1, Array2, ArrayView2, Axis, Dimension};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::subsequence;
use proptest::test_runner::{RngSeed, TestCaseError};
use scratchnet_core::functions::{
    cross_entropy_error, cross_entropy_error_labels, softmax, sum_squared_error, CEE_DELTA,
};
use scratchnet_core::kernels::{density, SPARSE_MAX_DENSITY};
use scratchnet_core::layers::{
    Affine, BatchNorm, Dropout, Relu, Sigmoid, SoftmaxWithLoss, SparseRows, Targets,
};
use scratchnet_core::numerical::{numerical_gradient, H};

/// Backprop and numerical gradients agree to this, absolutely below 1 and relatively above.
const GRAD_TOL: f64 = 1e-6;

/// The sparse and dense Affine routes add the same nonzero terms: they agree to this.
const ROUTE_TOL: f64 = 1e-12;

/// ReLU inputs are at least this far from its kink at 0, farther than the step `H`, so that
/// `x ± h` never crosses it (where the numerical gradient is meaningless).
const KINK_GAP: f64 = 1e-3;

/// BatchNorm inputs vary by at least this standard deviation in each feature (when N > 1):
/// the layer's curvature grows like 1/std², and with a std near √1e-6 the central difference
/// with `h = 1e-4` would no longer be a derivative (at 0.5 it stayed within 1e-7 over a
/// million cases).
const MIN_FEATURE_STD: f64 = 0.5;

/// 256 cases from a fixed seed, so that every run checks the same cases (reproducible CI);
/// `PROPTEST_CASES=n` and `PROPTEST_RNG_SEED=s` search more, or elsewhere.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 256;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0);
    }
    config
}

/// A (rows, cols) matrix with entries drawn from `values`.
fn matrix(
    rows: usize,
    cols: usize,
    values: impl Strategy<Value = f64>,
) -> impl Strategy<Value = Array2<f64>> {
    vec(values, rows * cols)
        .prop_map(move |v| Array2::from_shape_vec((rows, cols), v).expect("rows·cols values"))
}

/// A vector of `len` entries drawn from `values`.
fn vector(len: usize, values: impl Strategy<Value = f64>) -> impl Strategy<Value = Array1<f64>> {
    vec(values, len).prop_map(Array1::from)
}

/// A number of magnitude in `magnitudes`, of either sign (never 0 when the range excludes 0).
fn signed(magnitudes: std::ops::Range<f64>) -> impl Strategy<Value = f64> {
    (any::<bool>(), magnitudes).prop_map(|(negative, m)| if negative { -m } else { m })
}

/// `Σ out ⊙ dout`: the scalar whose gradient a layer's `backward(dout)` computes.
fn weighted(out: ArrayView2<f64>, dout: &Array2<f64>) -> f64 {
    assert_eq!(out.dim(), dout.dim());
    out.iter().zip(dout).map(|(o, d)| o * d).sum()
}

/// Fails unless `a` and `b` have one shape and agree element by element to `tol`, absolutely
/// for entries below 1 and relatively above.
fn close<D: Dimension>(
    what: &str,
    a: &Array<f64, D>,
    b: &Array<f64, D>,
    tol: f64,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.shape(), b.shape(), "{}: shapes differ", what);
    for (x, y) in a.iter().zip(b) {
        let scale = x.abs().max(y.abs()).max(1.0);
        prop_assert!(
            (x - y).abs() <= tol * scale,
            "{}: {} vs {} (tolerance {:e})\n{}\nvs\n{}",
            what,
            x,
            y,
            tol,
            a,
            b
        );
    }
    Ok(())
}

/// Fails unless the numbers `a` and `b` agree to `tol`, absolutely below 1 and relatively above.
fn agree(what: &str, a: f64, b: f64, tol: f64) -> Result<(), TestCaseError> {
    let scale = a.abs().max(b.abs()).max(1.0);
    prop_assert!(
        (a - b).abs() <= tol * scale,
        "{}: {} vs {} (tolerance {:e})",
        what,
        a,
        b,
        tol
    );
    Ok(())
}

/// `backward`'s gradient against the numerical one, to [`GRAD_TOL`].
fn grad_close<D: Dimension>(
    what: &str,
    backprop: &Array<f64, D>,
    numerical: &Array<f64, D>,
) -> Result<(), TestCaseError> {
    close(what, backprop, numerical, GRAD_TOL)
}

/// An (N, D) batch whose features have means in ±2 and standard deviations in
/// [`MIN_FEATURE_STD`]..3 (a random column, centred and rescaled; a batch of one sample has
/// std 0 whatever its values).
fn varied_features(n: usize, d: usize) -> impl Strategy<Value = Array2<f64>> {
    (
        matrix(n, d, -1.0..1.0),
        vector(d, MIN_FEATURE_STD..3.0),
        vector(d, -2.0..2.0),
    )
        .prop_map(move |(mut x, stds, means)| {
            for ((mut col, &std), &mean) in x.columns_mut().into_iter().zip(&stds).zip(&means) {
                if n == 1 {
                    col.fill(mean);
                    continue;
                }
                if col.std(0.0) < 1e-3 {
                    // (Nearly) equal values, as shrinking makes them: spread them out.
                    col.assign(&Array1::range(0.0, n as f64, 1.0));
                }
                let (mu, sd) = (col.mean().unwrap(), col.std(0.0));
                col.mapv_inplace(|v| mean + (v - mu) / sd * std);
            }
            x
        })
}

/// A one-hot (N, C) matrix from N labels.
fn one_hot(labels: &[usize], classes: usize) -> Array2<f64> {
    let mut t = Array2::zeros((labels.len(), classes));
    for (n, &label) in labels.iter().enumerate() {
        t[[n, label]] = 1.0;
    }
    t
}

/// A batch of scores (N, C) in ±5 with N labels in 0..C.
fn scores_and_labels() -> impl Strategy<Value = (Array2<f64>, Vec<usize>)> {
    (1..=5usize, 1..=6usize).prop_flat_map(|(n, c)| (matrix(n, c, -5.0..5.0), vec(0..c, n)))
}

/// An (N, in) input with at most [`SPARSE_MAX_DENSITY`] of its entries nonzero (so `Affine`
/// takes its sparse route), the nonzeros of magnitude 0.1..3.
fn sparse_input(n: usize, d_in: usize) -> impl Strategy<Value = Array2<f64>> {
    let len = n * d_in;
    let max_nonzero = (SPARSE_MAX_DENSITY * len as f64).floor() as usize;
    (
        subsequence((0..len).collect::<Vec<_>>(), 0..=max_nonzero),
        vec(signed(0.1..3.0), max_nonzero),
    )
        .prop_map(move |(positions, values)| {
            let mut x = Array2::zeros((n, d_in));
            for (&p, v) in positions.iter().zip(values) {
                x[[p / d_in, p % d_in]] = v;
            }
            x
        })
}

/// What Affine's backward wrote: (dx, dW, db).
fn affine_grads(layer: &mut Affine<f64>, dout: &Array2<f64>) -> [Array2<f64>; 3] {
    let dx = layer.backward(dout.view()).to_owned();
    let db = layer.db.clone().insert_axis(Axis(0));
    [dx, layer.dW.clone(), db]
}

proptest! {
    #![proptest_config(config())]

    // Softmax turns any row into a probability distribution: entries in (0, 1] summing to 1
    // (values within ±100, so no entry can underflow to 0).
    #[test]
    fn softmax_rows_are_distributions(
        x in (1..=5usize, 1..=10usize).prop_flat_map(|(n, c)| matrix(n, c, -100.0..100.0))
    ) {
        let y = softmax(&x);
        prop_assert_eq!(y.dim(), x.dim());
        for row in y.rows() {
            prop_assert!(row.iter().all(|&p| p > 0.0 && p <= 1.0), "{}", row);
            prop_assert!((row.sum() - 1.0).abs() <= 1e-12, "sum {}", row.sum());
        }
    }

    // Softmax depends only on differences within a row: adding a constant (up to ±1000) to a
    // row changes it only by the rounding of x + c, a few ulps of |c|.
    #[test]
    fn softmax_is_invariant_to_adding_a_constant_to_a_row(
        (x, c) in (1..=5usize, 1..=10usize).prop_flat_map(|(n, k)| {
            (matrix(n, k, -100.0..100.0), vector(n, -1000.0..1000.0))
        })
    ) {
        let shifted = &x + &c.view().insert_axis(Axis(1));
        let (y, y_shifted) = (softmax(&x), softmax(&shifted));
        for (n, &shift) in c.iter().enumerate() {
            let tol = 1e-14 * (1.0 + shift.abs() + 100.0);
            let (a, b) = (y.row(n).to_owned(), y_shifted.row(n).to_owned());
            close(&format!("row {n} shifted by {shift}"), &a, &b, tol)?;
        }
    }

    // Softmax subtracts each row's maximum, so scores of ±1000 (whose exp overflows f64) give
    // finite probabilities summing to 1, the largest score the largest probability.
    #[test]
    fn softmax_of_large_scores_is_finite(
        x in (1..=5usize, 1..=10usize).prop_flat_map(|(n, c)| {
            matrix(n, c, prop_oneof![signed(990.0..1010.0), -1000.0..1000.0])
        })
    ) {
        let y = softmax(&x);
        for (row, scores) in y.rows().into_iter().zip(x.rows()) {
            prop_assert!(row.iter().all(|&p| (0.0..=1.0).contains(&p)), "{} from {}", row, scores);
            prop_assert!((row.sum() - 1.0).abs() <= 1e-12, "sum {} from {}", row.sum(), scores);
            let best = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let at_best = scores.iter().position(|&v| v == best).unwrap();
            let p_max = row.iter().cloned().fold(0.0, f64::max);
            prop_assert_eq!(row[at_best], p_max);
        }
    }

    // A batch's softmax is the softmax of each of its rows taken as a vector, bit for bit (the
    // layers use the batch form, the book's examples the vector form).
    #[test]
    fn softmax_of_a_batch_is_softmax_of_each_row(
        x in (1..=5usize, 1..=10usize).prop_flat_map(|(n, c)| matrix(n, c, -50.0..50.0))
    ) {
        let y = softmax(&x);
        for (n, row) in x.rows().into_iter().enumerate() {
            prop_assert_eq!(y.row(n), softmax(&row));
        }
    }

    // Cross-entropy with labels is the one-hot form without its zero terms: both equal
    // −Σ ln(y[n, t_n] + 1e-7) / N, for a batch and for a single sample as a vector.
    #[test]
    fn cross_entropy_with_labels_equals_one_hot((scores, labels) in scores_and_labels()) {
        let y = softmax(&scores);
        let t = one_hot(&labels, y.ncols());
        let with_labels = cross_entropy_error_labels(&y, &labels);
        let with_one_hot = cross_entropy_error(&y, &t);
        let by_definition = -labels
            .iter()
            .enumerate()
            .map(|(n, &label)| (y[[n, label]] + CEE_DELTA).ln())
            .sum::<f64>()
            / labels.len() as f64;
        let tol = 1e-12 * by_definition.abs().max(1.0);
        agree("labels vs one-hot", with_labels, with_one_hot, tol)?;
        agree("labels vs definition", with_labels, by_definition, tol)?;
        let first = cross_entropy_error(&y.row(0), &t.row(0));
        let first_labels = cross_entropy_error_labels(&y.slice(s![0..1, ..]), &labels[..1]);
        agree("one sample as a vector", first, first_labels, tol)?;
    }

    // The sum of squared errors is ½Σ(y − t)²: never negative, symmetric, 0 when y == t and
    // positive as soon as one entry differs.
    #[test]
    fn sum_squared_error_is_zero_exactly_when_y_equals_t(
        (y, t, at, delta) in (1..=5usize, 1..=10usize).prop_flat_map(|(n, c)| {
            (matrix(n, c, -10.0..10.0), matrix(n, c, -10.0..10.0), (0..n, 0..c), signed(1e-6..10.0))
        })
    ) {
        let e = sum_squared_error(&y, &t);
        let by_definition = 0.5 * (&y - &t).mapv(|d| d * d).sum();
        prop_assert!(e >= 0.0);
        agree("sum_squared_error vs definition", e, by_definition, 1e-12)?;
        prop_assert_eq!(e, sum_squared_error(&t, &y));
        prop_assert_eq!(sum_squared_error(&y, &y), 0.0);
        let mut nearly = y.clone();
        nearly[at] += delta;
        let e = sum_squared_error(&y, &nearly);
        prop_assert!(e > 0.0, "one entry off by {} gives {}", delta, e);
        let off = nearly[at] - y[at];
        agree("one entry off", e, 0.5 * off * off, 1e-12)?;
    }

    // Affine's dx, dW and db are the gradients of Σ (x·W + b) ⊙ dout, whichever route forward
    // takes (x has zeros often enough for both the dense and the sparse route to occur).
    #[test]
    fn affine_backward_matches_numerical_gradients(
        (x, w, b, dout) in (1..=5usize, 1..=6usize, 1..=6usize).prop_flat_map(|(n, d_in, d_out)| (
            matrix(n, d_in, prop_oneof![3 => -3.0..3.0, 2 => Just(0.0)]),
            matrix(d_in, d_out, -2.0..2.0),
            vector(d_out, -2.0..2.0),
            matrix(n, d_out, -2.0..2.0),
        ))
    ) {
        let mut layer = Affine::new(w.clone(), b.clone());
        layer.forward(x.view());
        let [dx, dw, db] = affine_grads(&mut layer, &dout);

        let mut probe = Affine::new(w.clone(), b.clone());
        let num_dx =
            numerical_gradient(|x| weighted(probe.forward(x.view()), &dout), &mut x.clone());
        let num_dw = numerical_gradient(
            |w| {
                probe.W.assign(w);
                weighted(probe.forward(x.view()), &dout)
            },
            &mut w.clone(),
        );
        probe.W.assign(&w);
        let num_db = numerical_gradient(
            |b| {
                probe.b.assign(b);
                weighted(probe.forward(x.view()), &dout)
            },
            &mut b.clone(),
        );
        grad_close("dx", &dx, &num_dx)?;
        grad_close("dW", &dw, &num_dw)?;
        grad_close("db", &db, &num_db.insert_axis(Axis(0)))?;
    }

    // Affine's sparse route (input density ≤ 0.4) gives the dense route's output, dW, db and
    // dx: the dense route is forced on the same numbers by padding x with columns of ones whose
    // rows of W are 0; both must also equal x·W + b and xᵀ·dout computed by ndarray.
    #[test]
    fn affine_sparse_route_equals_the_dense_route(
        (x, w, b, dout) in (1..=5usize, 1..=6usize, 1..=6usize).prop_flat_map(|(n, d_in, d_out)| (
            sparse_input(n, d_in),
            matrix(d_in, d_out, -2.0..2.0),
            vector(d_out, -2.0..2.0),
            matrix(n, d_out, -2.0..2.0),
        ))
    ) {
        let (n, d_in) = x.dim();
        let x_padded = concatenate![Axis(1), x, Array2::ones((n, d_in))];
        let w_padded = concatenate![Axis(0), w, Array2::zeros(w.dim())];
        prop_assert!(density(x.view()) <= SPARSE_MAX_DENSITY);
        prop_assert!(density(x_padded.view()) > SPARSE_MAX_DENSITY);

        let mut sparse = Affine::new(w.clone(), b.clone());
        let out_sparse = sparse.forward(x.view()).to_owned();
        let [dx_sparse, dw_sparse, db_sparse] = affine_grads(&mut sparse, &dout);

        let mut dense = Affine::new(w_padded, b.clone());
        let out_dense = dense.forward(x_padded.view()).to_owned();
        let [dx_dense, dw_dense, db_dense] = affine_grads(&mut dense, &dout);
        let dx_dense = dx_dense.slice(s![.., ..d_in]).to_owned();
        let dw_dense = dw_dense.slice(s![..d_in, ..]).to_owned();

        close("out", &out_sparse, &out_dense, ROUTE_TOL)?;
        close("dW", &dw_sparse, &dw_dense, ROUTE_TOL)?;
        close("db", &db_sparse, &db_dense, ROUTE_TOL)?;
        close("dx", &dx_sparse, &dx_dense, ROUTE_TOL)?;
        close("out = x·W + b", &out_sparse, &(x.dot(&w) + &b), ROUTE_TOL)?;
        close("dW = xᵀ·dout", &dw_sparse, &x.t().dot(&dout), ROUTE_TOL)?;

        // The trainer's way in: the batch already as its nonzero entries.
        let mut given_sparse = Affine::new(w.clone(), b.clone());
        let x_rows = SparseRows::from_dense(x.view());
        let out_given = given_sparse.forward(x_rows.view()).to_owned();
        let [_, dw_given, _] = affine_grads(&mut given_sparse, &dout);
        close("out (sparse input)", &out_given, &out_dense, ROUTE_TOL)?;
        close("dW (sparse input)", &dw_given, &dw_dense, ROUTE_TOL)?;
    }

    // The sparse route clears only the rows of dW that the previous backward wrote: after any
    // first batch (dense or sparse), a sparse second batch's dW is exactly its own xᵀ·dout.
    #[test]
    fn affine_sparse_dw_forgets_the_previous_batch(
        (x1, dout1, x2, dout2, w) in (1..=5usize, 1..=5usize, 1..=6usize, 1..=6usize)
            .prop_flat_map(|(n1, n2, d_in, d_out)| (
                prop_oneof![
                    matrix(n1, d_in, -3.0..3.0).boxed(),
                    sparse_input(n1, d_in).boxed(),
                ],
                matrix(n1, d_out, -2.0..2.0),
                sparse_input(n2, d_in),
                matrix(n2, d_out, -2.0..2.0),
                matrix(d_in, d_out, -2.0..2.0),
            ))
    ) {
        let mut layer = Affine::new(w.clone(), Array1::zeros(w.ncols()));
        layer.forward(x1.view());
        layer.backward(dout1.view());
        layer.forward(x2.view());
        layer.backward(dout2.view());
        close("dW of the second batch", &layer.dW, &x2.t().dot(&dout2), ROUTE_TOL)?;
    }

    // Sigmoid's dx = dout · y(1 − y) is the gradient of Σ sigmoid(x) ⊙ dout.
    #[test]
    fn sigmoid_backward_matches_numerical_gradient(
        (x, dout) in (1..=5usize, 1..=6usize)
            .prop_flat_map(|(n, d)| (matrix(n, d, -6.0..6.0), matrix(n, d, -2.0..2.0)))
    ) {
        let mut layer = Sigmoid::default();
        layer.forward(x.view());
        let dx = layer.backward(dout.view()).to_owned();
        let mut probe = Sigmoid::default();
        let num_dx =
            numerical_gradient(|x| weighted(probe.forward(x.view()), &dout), &mut x.clone());
        grad_close("dx", &dx, &num_dx)?;
    }

    // ReLU's dx passes dout where x > 0 and 0 elsewhere: the gradient of Σ max(0, x) ⊙ dout
    // (inputs at least KINK_GAP from the kink, where the difference quotient is meaningless).
    #[test]
    fn relu_backward_matches_numerical_gradient(
        (x, dout) in (1..=5usize, 1..=6usize)
            .prop_flat_map(|(n, d)| (matrix(n, d, signed(KINK_GAP..4.0)), matrix(n, d, -2.0..2.0)))
    ) {
        prop_assert!(KINK_GAP > H);
        let mut layer = Relu::default();
        layer.forward(x.view());
        let dx = layer.backward(dout.view()).to_owned();
        let mut probe = Relu::default();
        let num_dx =
            numerical_gradient(|x| weighted(probe.forward(x.view()), &dout), &mut x.clone());
        grad_close("dx", &dx, &num_dx)?;
    }

    // SoftmaxWithLoss's dx is the gradient of the loss its forward reports, and label and
    // one-hot targets give the same loss and the same dx.
    #[test]
    fn softmax_with_loss_backward_matches_numerical_gradient((x, labels) in scores_and_labels()) {
        let t = one_hot(&labels, x.ncols());
        let (by_label, by_row) = (Targets::Labels(&labels), Targets::OneHot(t.view()));
        let mut layer = SoftmaxWithLoss::default();
        let loss_labels = layer.forward(x.view(), by_label);
        let dx_labels = layer.backward(by_label).to_owned();
        let loss_one_hot = layer.forward(x.view(), by_row);
        let dx_one_hot = layer.backward(by_row).to_owned();
        agree("loss labels vs one-hot", loss_labels, loss_one_hot, 1e-12)?;
        close("dx labels vs one-hot", &dx_labels, &dx_one_hot, 1e-12)?;

        let mut probe = SoftmaxWithLoss::default();
        let num_labels = numerical_gradient(|x| probe.forward(x.view(), by_label), &mut x.clone());
        let num_one_hot = numerical_gradient(|x| probe.forward(x.view(), by_row), &mut x.clone());
        grad_close("dx (labels)", &dx_labels, &num_labels)?;
        grad_close("dx (one-hot)", &dx_one_hot, &num_one_hot)?;
    }

    // The one-hot backward's general form (y_k·Σw − w_k)/N holds for any target rows, soft
    // labels included: it is still the gradient of −Σ t·ln(y + 1e-7) / N.
    #[test]
    fn softmax_with_loss_backward_matches_numerical_gradient_for_soft_targets(
        (x, t) in (1..=5usize, 1..=6usize)
            .prop_flat_map(|(n, c)| (matrix(n, c, -5.0..5.0), matrix(n, c, 0.0..1.0)))
    ) {
        let t = &t / &(t.sum_axis(Axis(1)) + 1e-12).insert_axis(Axis(1));
        let targets = Targets::OneHot(t.view());
        let mut layer = SoftmaxWithLoss::default();
        layer.forward(x.view(), targets);
        let dx = layer.backward(targets).to_owned();
        let mut probe = SoftmaxWithLoss::default();
        let num_dx = numerical_gradient(|x| probe.forward(x.view(), targets), &mut x.clone());
        grad_close("dx", &dx, &num_dx)?;
    }

    // With `fixed_mask`, training forwards reuse one mask, so Dropout is a fixed linear map
    // whose gradient backward(dout) = dout ⊙ mask must be; kept entries pass x unchanged.
    #[test]
    fn dropout_backward_matches_numerical_gradient_with_a_fixed_mask(
        (x, dout, ratio, seed) in (1..=5usize, 1..=6usize).prop_flat_map(|(n, d)| (
            matrix(n, d, signed(0.1..3.0)),
            matrix(n, d, -2.0..2.0),
            0.0..0.9,
            any::<u64>(),
        ))
    ) {
        let mut layer = Dropout::new(ratio, seed).unwrap();
        layer.fixed_mask = true;
        let out = layer.forward(x.view(), true).to_owned();
        prop_assert!(out.iter().zip(&x).all(|(&o, &v)| o == v || o == 0.0), "{} from {}", out, x);
        let num_dx = numerical_gradient(
            |x| weighted(layer.forward(x.view(), true), &dout),
            &mut x.clone(),
        );
        prop_assert_eq!(layer.forward(x.view(), true), out.view(), "the mask stayed fixed");
        let dx = layer.backward(dout.view()).to_owned();
        grad_close("dx", &dx, &num_dx)?;
    }

    // BatchNorm's dx, dgamma and dbeta (training mode) are the gradients of
    // Σ (gamma ⊙ (x − mu)/√(var + 1e-6) + beta) ⊙ dout, through the batch's mean and variance.
    #[test]
    fn batch_norm_backward_matches_numerical_gradients(
        (x, gamma, beta, dout) in (1..=5usize, 1..=6usize).prop_flat_map(|(n, d)| (
            varied_features(n, d),
            vector(d, -2.0..2.0),
            vector(d, -2.0..2.0),
            matrix(n, d, -2.0..2.0),
        ))
    ) {
        for (j, col) in x.columns().into_iter().enumerate() {
            let std = col.std(0.0);
            let varies = x.nrows() == 1 || std >= MIN_FEATURE_STD * (1.0 - 1e-9);
            prop_assert!(varies, "feature {} has std {}", j, std);
        }
        let mut layer = BatchNorm::from_params(gamma.clone(), beta.clone());
        layer.forward(x.view(), true);
        let dx = layer.backward(dout.view()).to_owned();
        let (dgamma, dbeta) = (layer.dgamma.clone(), layer.dbeta.clone());

        let mut probe = BatchNorm::from_params(gamma.clone(), beta.clone());
        let num_dx =
            numerical_gradient(|x| weighted(probe.forward(x.view(), true), &dout), &mut x.clone());
        let num_dgamma = numerical_gradient(
            |g| {
                probe.gamma.assign(g);
                weighted(probe.forward(x.view(), true), &dout)
            },
            &mut gamma.clone(),
        );
        probe.gamma.assign(&gamma);
        let num_dbeta = numerical_gradient(
            |b| {
                probe.beta.assign(b);
                weighted(probe.forward(x.view(), true), &dout)
            },
            &mut beta.clone(),
        );
        grad_close("dx", &dx, &num_dx)?;
        grad_close("dgamma", &dgamma, &num_dgamma)?;
        grad_close("dbeta", &dbeta, &num_dbeta)?;
    }
}
