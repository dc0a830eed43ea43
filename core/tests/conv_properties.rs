//! Property tests of chapter 7's layers (beside `properties.rs`, which holds the others'):
//! Convolution's and Pooling's `backward` against central differences
//! ([`numerical_gradient`]) of their own `forward`, on random shapes, strides and pads, in
//! f64; and `col2im` as `im2col`'s transpose.
//!
//! Gradients are checked through `L = Σ forward(x) ⊙ dout` for a random `dout`. A convolution
//! is linear in x, W and b, so the central difference is exact up to rounding (1e-16·|L|/h):
//! 1e-6 is loose. Max pooling is piecewise linear; inputs are drawn on a grid of distinct
//! values 1e-3 apart (and away from the padding's 0), so `x ± h` never changes a maximum.
//!
//! 64 cases per property from a fixed seed (`PROPTEST_CASES=n`, `PROPTEST_RNG_SEED=s`).

#![allow(non_snake_case)] // the book's W

use ndarray::{Array1, Array2, Array4};
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scratchnet_core::kernels::im2col::{col2im, im2col, Window};
use scratchnet_core::layers::{Convolution, Pooling};
use scratchnet_core::numerical::numerical_gradient;

const GRAD_TOL: f64 = 1e-6;

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 64;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0);
    }
    config
}

fn close<D: ndarray::Dimension>(
    what: &str,
    a: &ndarray::Array<f64, D>,
    b: &ndarray::Array<f64, D>,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.shape(), b.shape(), "{}: shapes differ", what);
    for (x, y) in a.iter().zip(b) {
        let scale = x.abs().max(y.abs()).max(1.0);
        prop_assert!(
            (x - y).abs() <= GRAD_TOL * scale,
            "{}: {} vs {}",
            what,
            x,
            y
        );
    }
    Ok(())
}

/// Σ out ⊙ dout.
fn weighted(out: &Array4<f64>, dout: &Array4<f64>) -> f64 {
    (out * dout).sum()
}

fn uniform4(rng: &mut ChaCha8Rng, shape: (usize, usize, usize, usize)) -> Array4<f64> {
    Array4::from_shape_simple_fn(shape, || rng.random_range(-1.0..1.0))
}

/// (N, C, H, W), filter or window size, stride, pad, and a seed for the values.
fn geometry() -> impl Strategy<Value = ((usize, usize, usize, usize), usize, usize, usize, u64)> {
    (
        1..=3usize,
        1..=3usize,
        1..=7usize,
        1..=7usize,
        1..=4usize,
        1..=3usize,
        0..=2usize,
        any::<u64>(),
    )
        .prop_filter("the window fits", |&(_, _, h, w, f, s, p, _)| {
            Window {
                filter_h: f,
                filter_w: f,
                stride: s,
                pad: p,
            }
            .output_size(h, w)
            .is_some()
        })
        .prop_map(|(n, c, h, w, f, s, p, seed)| ((n, c, h, w), f, s, p, seed))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn convolution_backward_matches_numerical_gradients(
        (shape, size, stride, pad, seed) in geometry(),
        filters in 1..=3usize,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let W = uniform4(&mut rng, (filters, shape.1, size, size));
        let b = Array1::from_shape_simple_fn(filters, || rng.random_range(-1.0..1.0));
        let mut conv = Convolution::new(W, b, stride, pad);
        let x = uniform4(&mut rng, shape);
        let out = conv.forward(x.view()).to_owned();
        let dout = uniform4(&mut rng, out.dim());
        let dx = conv.backward(dout.view()).to_owned();
        let probe = conv.clone();
        let num_dx = numerical_gradient(|x| weighted(&probe.forward_eval(x.view()), &dout), &mut x.clone());
        close("dx", &dx, &num_dx)?;
        let mut probe = conv.clone();
        let num_dw = numerical_gradient(
            |w| {
                probe.W.assign(w);
                weighted(&probe.forward_eval(x.view()), &dout)
            },
            &mut conv.W.clone(),
        );
        close("dW", &conv.dW, &num_dw)?;
        let num_db = numerical_gradient(
            |b| {
                probe.W.assign(&conv.W);
                probe.b.assign(b);
                weighted(&probe.forward_eval(x.view()), &dout)
            },
            &mut conv.b.clone(),
        );
        close("db", &conv.db, &num_db)?;
    }

    #[test]
    fn pooling_backward_matches_numerical_gradients((shape, size, stride, pad, seed) in geometry()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Distinct values k·1e-3 + 0.0005 (never 0, the padding's value): no tie within h.
        let mut grid: Vec<i64> = (-500..500).collect();
        grid.shuffle(&mut rng);
        let len = shape.0 * shape.1 * shape.2 * shape.3;
        let values = grid.iter().cycle().take(len).enumerate()
            .map(|(i, &k)| (k as f64) * 1e-3 + 0.0005 + (i / 1000) as f64);
        let x = Array4::from_shape_vec(shape, values.collect()).unwrap();
        let mut pool = Pooling::new(size, size, stride, pad);
        let out = pool.forward(x.view()).to_owned();
        let dout = uniform4(&mut rng, out.dim());
        let dx = pool.backward(dout.view()).to_owned();
        let num_dx = numerical_gradient(|x| weighted(&pool.forward_eval(x.view()), &dout), &mut x.clone());
        close("dx", &dx, &num_dx)?;
    }

    #[test]
    fn col2im_is_the_transpose_of_im2col((shape, size, stride, pad, seed) in geometry()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let window = Window { filter_h: size, filter_w: size, stride, pad };
        let x = uniform4(&mut rng, shape);
        let col = im2col(x.view(), &window);
        let y = Array2::from_shape_simple_fn(col.dim(), || rng.random_range(-1.0..1.0));
        let left = (&col * &y).sum();
        let right = (&x * &col2im(y.view(), shape, &window)).sum();
        prop_assert!((left - right).abs() < 1e-12, "{} vs {}", left, right);
    }
}
