//! What one layer of a network outputs in the evaluation forward, by name: what
//! [`Network::layer_outputs`](super::Network::layer_outputs) returns, input side first, so that a
//! picture of a digit can be followed through the network (chapter 6's activation
//! distributions, chapter 7's feature maps).

use crate::layers::Activation;
use crate::Float;
use ndarray::ArrayD;

/// One layer's output for a batch of N inputs, as the network's own evaluation forward
/// computed it (the very numbers that go on to the next layer).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerOutput<F: Float> {
    /// Its name: `hidden 1 (sigmoid)` for a fully connected hidden layer after its activation,
    /// `Conv1`, `Relu1`, `Pool1` for a conv net's maps, `scores` for the class scores.
    pub name: String,
    /// The values: (N, width) for a fully connected layer, (N, C, H, W) for maps,
    /// (N, classes) for the scores.
    pub values: ArrayD<F>,
    /// The activation function these values are the output of (`None` for a convolution's or
    /// pooling's output and for the scores).
    pub activation: Option<Activation>,
}

/// The name of a fully connected hidden layer's output: `hidden 1 (sigmoid)`.
pub fn hidden_name(index: usize, activation: Activation) -> String {
    format!("hidden {index} ({activation})")
}

/// The name of the last entry of every [`Network::layer_outputs`](super::Network::layer_outputs):
/// the class scores before softmax, equal to `predict`'s.
pub const SCORES: &str = "scores";

impl<F: Float> LayerOutput<F> {
    /// The output of a layer that applies `activation` (or none).
    pub fn new(name: String, values: ArrayD<F>, activation: Option<Activation>) -> Self {
        LayerOutput {
            name,
            values,
            activation,
        }
    }

    /// The class scores (N, classes): the last layer's output.
    pub fn scores(values: ArrayD<F>) -> Self {
        LayerOutput::new(SCORES.to_string(), values, None)
    }

    /// The shape of one input's output: the values' shape without the batch axis.
    pub fn sample_shape(&self) -> &[usize] {
        &self.values.shape()[1..]
    }
}
