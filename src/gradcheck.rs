//! The book's gradient check: backpropagation against numerical gradients, in f64.
//!
//! Backprop is fast but easy to get wrong; the numerical gradient is slow but follows the
//! definition. Where they agree to ~1e-10, the backward passes are right.

use crate::data::Dataset;
use crate::{Error, Result};
use ndarray::{s, Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet_core::data::idx::NUM_CLASSES;
use scratchnet_core::layers::{Activation, Targets};
use scratchnet_core::net::{Network, TwoLayerNetConfig};
use scratchnet_core::Float;

/// The largest mean absolute difference that counts as agreement, unless another is asked for.
pub const TOLERANCE: f64 = 1e-7;

/// The most training images a check may use: each costs two forward passes per weight (79,520
/// passes of the 784-50-10 network, with only the nudged part recomputed): about 1.2 ms an image
/// on a 2-core Xeon (`gradcheck --samples 1000`: 1.4 s in all), and the book checks 3. The
/// training set's 60,000 would take over a minute and say nothing more.
pub const MAX_SAMPLES: usize = 1000;

/// Refuses a number of images the check cannot use: none, or more than [`MAX_SAMPLES`]
/// (checked before any data is loaded).
pub fn check_samples(samples: usize) -> Result<()> {
    let expected = match samples {
        0 => "at least 1 training image",
        1..=MAX_SAMPLES => return Ok(()),
        _ => "at most 1000 training images (each costs about 1 ms; the book checks 3)",
    };
    Err(Error::invalid("--samples", samples, expected))
}

/// Refuses a tolerance no difference can be held to: negative, infinite or NaN.
pub fn check_tolerance(tolerance: f64) -> Result<()> {
    if tolerance.is_finite() && tolerance >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            "--tolerance",
            tolerance,
            "a finite number of at least 0",
        ))
    }
}

/// The first parameter whose difference is above `tolerance`: the check fails on it.
pub fn first_failure(checks: &[ParamCheck], tolerance: f64) -> Option<&ParamCheck> {
    checks.iter().find(|c| !c.passed(tolerance))
}

/// One parameter's comparison: the mean of |backprop − numerical| over its elements.
#[derive(Clone, Debug)]
pub struct ParamCheck {
    /// `W1`, `b1`, …
    pub name: String,
    /// Mean absolute difference between the two gradients.
    pub mean_abs_diff: f64,
}

impl ParamCheck {
    /// Whether the difference is within `tolerance` (a NaN difference fails).
    pub fn passed(&self, tolerance: f64) -> bool {
        self.mean_abs_diff <= tolerance
    }
}

/// Compares backprop with numerical gradients for every parameter of `net` on the batch (x, t).
pub fn gradient_check<F: Float, N: Network<F> + Clone>(
    net: &N,
    x: ArrayView2<F>,
    t: &[usize],
) -> Vec<ParamCheck> {
    let numerical = net.numerical_gradient(&x, Targets::Labels(t));
    let mut net = net.clone();
    net.gradient(&x, Targets::Labels(t));
    let params = net.params();
    numerical
        .iter()
        .enumerate()
        .map(|(i, num)| {
            let p = &params[i];
            let total: f64 = p
                .grad
                .iter()
                .zip(num)
                .map(|(a, b)| (*a - *b).to_f64().abs())
                .sum();
            ParamCheck {
                name: p.name.to_string(),
                mean_abs_diff: total / num.len().max(1) as f64,
            }
        })
        .collect()
}

/// The book's `gradient_check.py`: a fresh 784-50-10 `TwoLayerNet` (f64, seeded) checked on the
/// first `samples` training images of `dataset`.
pub fn check_two_layer_net(
    dataset: &Dataset,
    samples: usize,
    seed: u64,
) -> Result<Vec<ParamCheck>> {
    check_samples(samples)?;
    let rows = samples;
    if rows > dataset.t_train.len() {
        return Err(Error::invalid(
            "--samples",
            samples,
            "at most the training set's size",
        ));
    }
    let x: Array2<f64> = dataset.x_train.slice(s![..rows, ..]).mapv(f64::from);
    let t = &dataset.t_train[..rows];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let net = TwoLayerNetConfig {
        hidden_size: 50,
        activation: Activation::Sigmoid,
        weight_init_std: 0.01,
    }
    .init::<f64>(x.ncols(), NUM_CLASSES, &mut rng)?;
    Ok(gradient_check(&net, x.view(), t))
}
