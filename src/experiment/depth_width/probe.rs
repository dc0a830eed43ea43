//! The probe: a network's hidden activations and gradients on a fixed batch, at one moment of
//! its training — the measurements behind the book's figures 6-10 to 6-13.

use ndarray::{Array2, ArrayView2};
use scratchnet_core::layers::{Activation, Targets};
use scratchnet_core::net::{MultiLayerNet, Network};
use serde::{Deserialize, Serialize};

/// Bins of each activation histogram.
const BINS: usize = 20;

/// The network probed on a fixed batch at one moment of training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// Updates made before the probe (0: at initialisation).
    pub updates: usize,
    /// The same in epochs.
    pub epochs: f64,
    /// The loss on the probe batch.
    pub loss: f64,
    /// Per Affine layer (W1 … W_{depth+1}), the mean |dW| of the probe batch's gradient.
    pub grad_mean_abs: Vec<f64>,
    /// Per hidden layer, the mean activation.
    pub act_mean: Vec<f64>,
    /// Per hidden layer, the activations' standard deviation.
    pub act_std: Vec<f64>,
    /// Per hidden layer, the fraction of activations that pass no gradient on: ReLU outputs of
    /// exactly 0, sigmoid outputs within 0.01 of 0 or 1 (saturated).
    pub act_inactive: Vec<f64>,
    /// The histograms' range: [0, 1] for sigmoid; for ReLU [0, the largest 99th percentile].
    pub hist_range: (f64, f64),
    /// Per hidden layer, the fraction of activations in each of 20 even bins of `hist_range`.
    pub hist: Vec<Vec<f64>>,
}

/// Probes `net` on x: (N, input) with labels t: its hidden layers' activations (evaluation
/// forward) and its gradient.
pub fn probe(
    net: &MultiLayerNet<f32>,
    x: ArrayView2<f32>,
    t: &[usize],
    updates: usize,
    epochs: f64,
) -> Probe {
    let activation = net.config().activation;
    let layers: Vec<Vec<f32>> = net
        .hidden_activations(x)
        .iter()
        .map(|a: &Array2<f32>| a.iter().copied().collect())
        .collect();
    let mut copy = net.clone();
    let loss = copy.gradient(&x, Targets::Labels(t)) as f64;
    let grad_mean_abs = copy
        .params()
        .iter()
        .filter(|p| p.name.starts_with('W'))
        .map(|p| p.grad.iter().map(|v| v.abs() as f64).sum::<f64>() / p.grad.len().max(1) as f64)
        .collect();
    let hi = match activation {
        Activation::Sigmoid => 1.0,
        Activation::Relu => layers
            .iter()
            .map(|v| {
                let mut v = v.clone();
                let i = (v.len() * 99 / 100).min(v.len().saturating_sub(1));
                v.select_nth_unstable_by(i, f32::total_cmp);
                v[i] as f64
            })
            .fold(0.0, f64::max)
            .max(1e-6),
    };
    let stats = |v: &[f32]| {
        let n = v.len().max(1) as f64;
        let mean = v.iter().map(|&a| a as f64).sum::<f64>() / n;
        let var = v.iter().map(|&a| (a as f64 - mean).powi(2)).sum::<f64>() / n;
        let inactive = v
            .iter()
            .filter(|&&a| match activation {
                Activation::Relu => a == 0.0,
                Activation::Sigmoid => !(0.01..=0.99).contains(&a),
            })
            .count() as f64
            / n;
        let mut hist = vec![0.0; BINS];
        for &a in v {
            let bin = ((a as f64 / hi) * BINS as f64)
                .floor()
                .clamp(0.0, (BINS - 1) as f64);
            hist[bin as usize] += 1.0 / n;
        }
        (mean, var.sqrt(), inactive, hist)
    };
    let all: Vec<_> = layers.iter().map(|v| stats(v)).collect();
    Probe {
        updates,
        epochs,
        loss,
        grad_mean_abs,
        act_mean: all.iter().map(|s| s.0).collect(),
        act_std: all.iter().map(|s| s.1).collect(),
        act_inactive: all.iter().map(|s| s.2).collect(),
        hist_range: (0.0, hi),
        hist: all.into_iter().map(|s| s.3).collect(),
    }
}
