//! Inside a trained network, for the server's `/api/runs/<id>/inside`: what its first layer
//! has learned to look for (W1), and how each hidden layer's activations are distributed over
//! a set of images (chapter 6's histograms).
//!
//! **The histograms' range.** A sigmoid's outputs lie in (0, 1), so its edges span [0, 1]
//! (the book's figures 6-10 to 6-14), comparable between layers and networks. A ReLU's outputs
//! have no upper bound: its edges span [0, the largest output over the images] ([0, 1] when
//! every output is 0). The last bin is closed on the right, so the largest value is counted.
//! Only the outputs of an activation function are shown: a conv net's ReLU maps and fully
//! connected ReLUs, not a convolution's or a pooling's output, nor the scores.

use ndarray::{s, ArrayView2, Ix2, Ix4};
use scratchnet_core::layers::Activation;
use scratchnet_core::net::{LayerOutput, Network};
use serde::{Deserialize, Serialize};

/// At most this many hidden units' weights are shown.
pub const MAX_UNITS: usize = 100;
/// The histograms' bins by default.
pub const HISTOGRAM_BINS: usize = 30;
/// Images the evaluation forward takes at once (a conv net's im2col stays small).
const BLOCK: usize = 100;

/// W1, ready to be drawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FirstLayer {
    /// A fully connected first layer: W1 (in, units), each column an image of the input.
    Dense {
        /// W1's columns: the hidden units.
        units: usize,
        /// The input as an image: 28 × 28 for MNIST (1 × in when in is no square).
        height: usize,
        /// See `height`.
        width: usize,
        /// The first [`MAX_UNITS`] columns, each height·width values, row-major.
        weights: Vec<Vec<f32>>,
    },
    /// A convolution: W1 (FN, C, FH, FW).
    Conv {
        /// FN.
        filters: usize,
        /// C.
        channels: usize,
        /// FH.
        height: usize,
        /// FW.
        width: usize,
        /// Every filter's C·FH·FW weights, row-major.
        weights: Vec<Vec<f32>>,
    },
}

/// A network's first layer (its parameter `W1`) as images; `None` when it has no `W1` of two or
/// four axes.
pub fn first_layer(net: &dyn Network<f32>) -> Option<FirstLayer> {
    let params = net.params();
    let w1 = &params.iter().find(|p| p.name == "W1")?.value;
    if let Ok(w) = w1.view().into_dimensionality::<Ix2>() {
        let (inputs, units) = w.dim();
        let side = (inputs as f64).sqrt().round() as usize;
        let (height, width) = if side * side == inputs {
            (side, side)
        } else {
            (1, inputs)
        };
        let weights = (0..units.min(MAX_UNITS))
            .map(|u| w.column(u).to_vec())
            .collect();
        return Some(FirstLayer::Dense {
            units,
            height,
            width,
            weights,
        });
    }
    let w = w1.view().into_dimensionality::<Ix4>().ok()?;
    let (filters, channels, height, width) = w.dim();
    let weights = w
        .outer_iter()
        .map(|f| f.iter().copied().collect())
        .collect();
    Some(FirstLayer::Conv {
        filters,
        channels,
        height,
        width,
        weights,
    })
}

/// How one hidden layer's activations are distributed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// The layer's name (`hidden 1 (sigmoid)`, `Relu1`).
    pub layer: String,
    /// bins + 1 edges, ascending (see the module's rule for their range).
    pub edges: Vec<f32>,
    /// How many activations fell in each bin: images × the layer's units in all.
    pub counts: Vec<u64>,
}

/// Chapter 6's histograms of each hidden layer's activations (after its activation function)
/// over `images` (N, in), `bins` bins each (at least 1), from [`Network::layer_outputs`].
pub fn activation_histograms(
    net: &dyn Network<f32>,
    images: ArrayView2<f32>,
    bins: usize,
) -> Vec<Histogram> {
    let bins = bins.max(1);
    let shown = |o: &LayerOutput<f32>| o.activation.is_some();
    // First pass: the largest output of each layer (a ReLU's range).
    let mut layers: Vec<(String, Activation, f32)> = Vec::new();
    for_each_block(net, images, |outputs| {
        let outputs: Vec<_> = outputs.iter().filter(|o| shown(o)).collect();
        if layers.is_empty() {
            layers = outputs
                .iter()
                .filter_map(|o| Some((o.name.clone(), o.activation?, 0.0)))
                .collect();
        }
        for (layer, output) in layers.iter_mut().zip(outputs) {
            layer.2 = output.values.iter().copied().fold(layer.2, f32::max);
        }
    });
    let mut histograms: Vec<Histogram> = layers
        .iter()
        .map(|(name, activation, max)| {
            let top = match activation {
                Activation::Sigmoid => 1.0,
                Activation::Relu if *max > 0.0 => *max,
                Activation::Relu => 1.0,
            };
            Histogram {
                layer: name.clone(),
                edges: (0..=bins).map(|i| top * i as f32 / bins as f32).collect(),
                counts: vec![0; bins],
            }
        })
        .collect();
    // Second pass: the counts.
    for_each_block(net, images, |outputs| {
        for (histogram, output) in histograms
            .iter_mut()
            .zip(outputs.iter().filter(|o| shown(o)))
        {
            let top = histogram.edges[bins];
            for &v in &output.values {
                let bin = (v / top * bins as f32).floor().max(0.0) as usize;
                histogram.counts[bin.min(bins - 1)] += 1;
            }
        }
    });
    histograms
}

/// Shows `f` the layer outputs of each block of [`BLOCK`] images in turn.
fn for_each_block(
    net: &dyn Network<f32>,
    images: ArrayView2<f32>,
    mut f: impl FnMut(&[LayerOutput<f32>]),
) {
    let n = images.nrows();
    for start in (0..n).step_by(BLOCK) {
        f(&net.layer_outputs(images.slice(s![start..(start + BLOCK).min(n), ..])));
    }
}

/// What the server's `/api/runs/<id>/inside` returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inside {
    /// W1 as images (`None` for a network without one).
    pub first_layer: Option<FirstLayer>,
    /// Each hidden layer's activations over the images.
    pub histograms: Vec<Histogram>,
    /// How many images the histograms are taken over.
    pub images: usize,
}

/// The test images the server's histograms are taken over: the first 1000.
pub const IMAGES: usize = 1000;

/// [`inside`] over the first `images` test images of `dataset` (all of them if fewer), with
/// [`HISTOGRAM_BINS`] bins: what `/api/runs/<id>/inside` returns.
pub fn inside_of_test_set(
    net: &dyn Network<f32>,
    dataset: &crate::data::Dataset,
    images: usize,
) -> Inside {
    let rows: Vec<usize> = (0..images.min(dataset.x_test.nrows())).collect();
    let x = dataset.x_test.select_dense(&rows);
    inside(net, x.view(), HISTOGRAM_BINS)
}

/// [`first_layer`] and [`activation_histograms`] (`bins` bins) over `images` (N, in).
pub fn inside(net: &dyn Network<f32>, images: ArrayView2<f32>, bins: usize) -> Inside {
    Inside {
        first_layer: first_layer(net),
        histograms: activation_histograms(net, images, bins),
        images: images.nrows(),
    }
}

#[cfg(test)]
#[path = "inside/tests.rs"]
mod tests;
