//! The book's gradient check: backpropagation against numerical gradients, in f64.
//!
//! Backprop is fast but easy to get wrong; the numerical gradient is slow but follows the
//! definition. Where they agree to ~1e-10, the backward passes are right.

use crate::checkpoint::Checkpoint;
use crate::data::Dataset;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet_core::data::idx::NUM_CLASSES;
use scratchnet_core::layers::{Activation, Targets};
use scratchnet_core::net::{Network, TwoLayerNetConfig};
use scratchnet_core::Float;
use std::path::Path;

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

/// Elements of each parameter that [`gradient_check_sampled`] compares: enough to catch a
/// wrong backward pass (every element of a layer goes through the same code), few enough for a
/// conv net (DeepConvNet has 0.17 M weights, each two forward passes to check).
pub const ELEMENTS_PER_PARAM: usize = 10;

/// The step of [`gradient_check_sampled`]'s central differences: in f64 it can be smaller than
/// the book's 1e-4 with a rounding error still near 1e-10, and it must be for ReLU and max
/// pooling, whose kinks a nudge of 1e-4 often crosses in a trained conv net (measured on one:
/// b1 off by 7e-3 at h = 1e-4, by 1.4e-10 at h = 1e-6).
pub const SAMPLED_H: f64 = 1e-6;

/// The elements of a parameter of `len` elements that a sampled check compares: `per_param`
/// spread evenly over the flattened parameter, first and last included (all when it has fewer).
pub fn sampled_elements(len: usize, per_param: usize) -> Vec<usize> {
    if len <= per_param {
        return (0..len).collect();
    }
    let last = (per_param - 1).max(1);
    let mut picked: Vec<usize> = (0..per_param).map(|k| k * (len - 1) / last).collect();
    picked.dedup();
    picked
}

/// Compares backprop with numerical gradients on [`sampled_elements`] of every parameter of
/// `net` on the batch (x, t): each element nudged by ±h ([`SAMPLED_H`]) in place and the loss
/// recomputed, `(L(w+h) - L(w-h)) / 2h`. What a conv net can afford, where checking every weight would
/// take hours; any network with random layers must have fixed them (Dropout's masks).
pub fn gradient_check_sampled(
    net: &mut dyn Network<f64>,
    x: ArrayView2<f64>,
    t: &[usize],
    per_param: usize,
) -> Vec<ParamCheck> {
    let h = SAMPLED_H;
    net.gradient(&x, Targets::Labels(t));
    let backprop: Vec<(String, Vec<f64>)> = net
        .params()
        .iter()
        .map(|p| (p.name.to_string(), p.grad.iter().copied().collect()))
        .collect();
    let mut checks = Vec::with_capacity(backprop.len());
    for (i, (name, grad)) in backprop.iter().enumerate() {
        let elements = sampled_elements(grad.len(), per_param);
        let mut total = 0.0;
        for &j in &elements {
            let keep = nudge(net, i, j, None);
            nudge(net, i, j, Some(keep + h));
            let up = net.loss(&x, Targets::Labels(t));
            nudge(net, i, j, Some(keep - h));
            let down = net.loss(&x, Targets::Labels(t));
            nudge(net, i, j, Some(keep));
            total += ((up - down) / (2.0 * h) - grad[j]).abs();
        }
        checks.push(ParamCheck {
            name: name.clone(),
            mean_abs_diff: total / elements.len().max(1) as f64,
        });
    }
    checks
}

/// Element `j` (flattened) of parameter `i` of `net`: sets it to `value` when given; returns
/// what it held before.
fn nudge(net: &mut dyn Network<f64>, i: usize, j: usize, value: Option<f64>) -> f64 {
    let mut params = net.params_mut();
    let element = params[i]
        .value
        .iter_mut()
        .nth(j)
        .expect("a sampled element is within its parameter");
    let before = *element;
    if let Some(value) = value {
        *element = value;
    }
    before
}

/// The network in the weights file `model` in f64, ready for [`gradient_check_sampled`]: its
/// Dropout layers' masks fixed, so that every forward pass computes the same function.
pub fn load_for_check(model: &Path) -> Result<Box<dyn Network<f64>>> {
    let ckpt = Checkpoint::load(model)?;
    let net: Box<dyn Network<f64>> = match ckpt.meta("network")? {
        "MultiLayerNet" => {
            let mut net = ckpt.multi_layer_net::<f64>()?;
            net.fix_dropout_masks(true);
            Box::new(net)
        }
        "ConvNet" => {
            let mut net = ckpt.conv_net::<f64>()?;
            net.fix_dropout_masks(true);
            Box::new(net)
        }
        _ => ckpt.network::<f64>()?,
    };
    if let Some((name, count)) = crate::checkpoint::non_finite(net.as_ref()) {
        return Err(Error::Checkpoint {
            path: model.to_path_buf(),
            reason: format!(
                "holds {count} weights that are not finite numbers (the first in {name}): \
                 there is no gradient to check"
            ),
        });
    }
    Ok(net)
}

/// Checks `net` (from [`load_for_check`]) on the first `samples` training images of
/// `dataset`, at [`ELEMENTS_PER_PARAM`] elements of each parameter.
pub fn check_model(
    net: &mut dyn Network<f64>,
    model: &Path,
    dataset: &Dataset,
    samples: usize,
) -> Result<Vec<ParamCheck>> {
    check_samples(samples)?;
    if net.input_size() != dataset.x_train.ncols() {
        return Err(Error::Checkpoint {
            path: model.to_path_buf(),
            reason: format!(
                "the network takes {} inputs but the images have {} pixels",
                net.input_size(),
                dataset.x_train.ncols()
            ),
        });
    }
    let x: Array2<f64> = dataset.x_train.rows_dense(0..samples).mapv(f64::from);
    let t = &dataset.t_train[..samples];
    Ok(gradient_check_sampled(net, x.view(), t, ELEMENTS_PER_PARAM))
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
    let x: Array2<f64> = dataset.x_train.rows_dense(0..rows).mapv(f64::from);
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

#[cfg(test)]
mod tests {
    use super::*;
    use scratchnet_core::net::TwoLayerNet;

    #[test]
    fn a_sample_spreads_over_the_parameter_from_its_first_to_its_last_element() {
        assert_eq!(sampled_elements(4, 10), vec![0, 1, 2, 3]);
        assert_eq!(sampled_elements(10, 10), (0..10).collect::<Vec<_>>());
        assert_eq!(
            sampled_elements(100, 10),
            vec![0, 11, 22, 33, 44, 55, 66, 77, 88, 99]
        );
        assert_eq!(sampled_elements(11, 1), vec![0]);
    }

    #[test]
    fn a_sampled_check_agrees_with_the_whole_one_on_its_elements() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x: Array2<f64> = scratchnet_core::init::randn(&mut rng, 4, 6, 1.0);
        let t = [0, 2, 1, 2];
        let net = TwoLayerNetConfig {
            hidden_size: 5,
            activation: Activation::Sigmoid,
            weight_init_std: 0.5,
        }
        .init::<f64>(6, 3, &mut rng)
        .unwrap();
        let whole = gradient_check(&net, x.view(), &t);
        let mut copy = net.clone();
        let sampled = gradient_check_sampled(&mut copy, x.view(), &t, 4);
        assert_eq!(
            sampled.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["W1", "b1", "W2", "b2"]
        );
        for (s, w) in sampled.iter().zip(&whole) {
            assert!(
                s.mean_abs_diff < 1e-9 && w.mean_abs_diff < 1e-9,
                "{s:?} {w:?}"
            );
        }
        // The weights are put back exactly.
        let same = |a: &TwoLayerNet<f64>, b: &TwoLayerNet<f64>| {
            a.params()
                .iter()
                .zip(b.params())
                .all(|(p, q)| p.value == q.value)
        };
        assert!(same(&copy, &net));
    }
}
