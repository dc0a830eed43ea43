//! A saved network's answer for one input, with every layer's output on the way: the value
//! `scratchnet predict --json` prints and the server's `/api/predict` returns (one serde type,
//! so that the two agree number for number).

use crate::data::DatasetKind;
use crate::{Error, Result};
use ndarray::{ArrayView1, Axis};
use scratchnet_core::functions::{argmax, softmax};
use scratchnet_core::net::Network;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a network makes of one input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The input the network saw: 784 values in 0..1, row-major 28 × 28.
    pub input: Vec<f32>,
    /// Softmax of the class scores: one probability per class (10), summing to 1.
    pub probs: Vec<f32>,
    /// The class with the highest score.
    pub predicted: usize,
    /// The dataset's class names, in class order (MNIST's `"0"`…`"9"`, Fashion-MNIST's
    /// `"T-shirt/top"`…).
    pub classes: Vec<String>,
    /// Each layer's output, input side first, the scores left out (see
    /// [`Network::layer_outputs`]).
    pub layers: Vec<LayerOutput>,
}

/// One layer's output for the input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerOutput {
    /// `hidden 1 (sigmoid)`, `Conv1`, `Relu1`, `Pool1`, …
    pub name: String,
    /// [width] for a fully connected layer, [C, H, W] for a conv net's maps.
    pub shape: Vec<usize>,
    /// The values, row-major in that shape.
    pub values: Vec<f32>,
}

/// `net`'s prediction for `input` (its input size of values), with `classes` naming its
/// outputs; refused when the sizes do not match.
pub fn predict(
    net: &dyn Network<f32>,
    input: ArrayView1<f32>,
    classes: &[String],
) -> Result<Prediction> {
    if input.len() != net.input_size() {
        return Err(Error::BadImage(format!(
            "the input has {} values but the network takes {}",
            input.len(),
            net.input_size()
        )));
    }
    if classes.len() != net.output_size() {
        return Err(Error::BadImage(format!(
            "{} class names for a network with {} outputs",
            classes.len(),
            net.output_size()
        )));
    }
    let x = input.insert_axis(Axis(0));
    let mut outputs = net.layer_outputs(x);
    let scores = outputs.pop().expect("layer_outputs ends with the scores");
    let scores = scores.values.index_axis(Axis(0), 0).to_owned();
    let scores = scores
        .into_dimensionality::<ndarray::Ix1>()
        .expect("(classes,) scores");
    let layers = outputs
        .into_iter()
        .map(|output| LayerOutput {
            shape: output.sample_shape().to_vec(),
            values: output.values.iter().copied().collect(),
            name: output.name,
        })
        .collect();
    Ok(Prediction {
        input: input.to_vec(),
        probs: softmax(&scores).to_vec(),
        predicted: argmax(scores.view()),
        classes: classes.to_vec(),
        layers,
    })
}

/// The class names of the dataset the weights file `path` was trained on (its config.json's;
/// MNIST's digits without one).
pub fn classes_of(path: &Path) -> Result<Vec<String>> {
    let kind = crate::eval::trained_on(path)?.unwrap_or(DatasetKind::Mnist);
    Ok(kind.class_names().iter().map(|c| c.to_string()).collect())
}

/// A saved network ready to predict: its weights and the names of its classes.
pub struct Model {
    /// The network.
    pub net: Box<dyn Network<f32>>,
    /// Its classes' names: the dataset's that the config.json beside the weights names, MNIST's
    /// digits without one.
    pub classes: Vec<String>,
    /// The weights file it was read from.
    pub path: PathBuf,
    /// A warning to show (a file written without a checksum), as [`crate::eval::load_model`]'s.
    pub warning: Option<String>,
}

impl Model {
    /// The network in the weights file `path` (`model.safetensors`, `best.safetensors`), every
    /// shape and its checksum checked, and the class names of the dataset it was trained on.
    pub fn load(path: &Path) -> Result<Model> {
        let (net, warning) = crate::eval::load_model(path)?;
        Ok(Model {
            net,
            classes: classes_of(path)?,
            path: path.to_path_buf(),
            warning,
        })
    }

    /// The prediction for `input` (784 values in 0..1).
    pub fn predict(&self, input: ArrayView1<f32>) -> Result<Prediction> {
        predict(self.net.as_ref(), input, &self.classes)
    }

    /// The prediction for a drawing given as PNG bytes, made an MNIST input by
    /// [`super::from_png`]; errors name the image as `name`.
    pub fn predict_png(&self, bytes: &[u8], name: &str) -> Result<Prediction> {
        let input = super::from_png(bytes).map_err(|e| Error::BadImage(e.in_file(name)))?;
        self.predict(input.view())
    }
}

#[cfg(test)]
#[path = "prediction/tests.rs"]
mod tests;
