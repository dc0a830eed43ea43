//! Predicting from a drawing: a PNG made an MNIST input the way MNIST was made
//! ([`ink`]: the PNG's pixels as ink; [`mnist_style`]: cropped, scaled into 20 × 20, centred by
//! centre of mass in 28 × 28), a saved network's answer with every layer's output
//! ([`prediction`]), and what its layers hold ([`inside`]: W1 as images, chapter 6's
//! activation histograms). `scratchnet predict` and the server's `/api/predict` and
//! `/api/runs/<id>/inside` are built on these.

pub mod ink;
pub mod inside;
pub mod mnist_style;
pub mod prediction;

pub use ink::{ink_from_png, ImageError};
pub use inside::{
    activation_histograms, first_layer, inside, inside_of_test_set, FirstLayer, Histogram, Inside,
};
pub use mnist_style::mnist_style;
pub use prediction::{classes_of, predict, LayerOutput, Model, Prediction};

use crate::{Error, Result};
use ndarray::{Array1, ArrayView1};
use std::path::Path;

/// The MNIST input of a drawing given as PNG bytes: 784 values in 0..1, row-major 28 × 28
/// ([`ink_from_png`], then [`mnist_style`]).
pub fn from_png(bytes: &[u8]) -> Result<Array1<f32>, ImageError> {
    from_png_within(bytes, ink::MAX_SIDE)
}

/// [`from_png`] for drawings of at most `max_side` pixels a side (the server's limit).
pub fn from_png_within(bytes: &[u8], max_side: u32) -> Result<Array1<f32>, ImageError> {
    mnist_style(ink::ink_from_png_within(bytes, max_side)?.view())
}

/// The PNG file `path` as an MNIST input; errors name the file.
pub fn read_png(path: &Path) -> Result<Array1<f32>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    from_png(&bytes).map_err(|e| Error::BadImage(e.in_file(&path.display().to_string())))
}

/// An MNIST input (784 values in 0..1) as an 8-bit greyscale 28 × 28 PNG, white digit on
/// black as MNIST stores it (`round(255 · v)`).
pub fn input_png(input: ArrayView1<f32>) -> Result<Vec<u8>> {
    let side = mnist_style::SIDE;
    if input.len() != side * side {
        return Err(Error::BadImage(format!(
            "an input of {} values is no 28 × 28 image",
            input.len()
        )));
    }
    let pixels: Vec<u8> = input
        .iter()
        .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    let size = (side as u32, side as u32);
    crate::plot::raster::encode_png(&pixels, size, png::ColorType::Grayscale).map_err(|e| {
        Error::BadImage(format!(
            "the 28 × 28 input could not be encoded as PNG: {e}"
        ))
    })
}

/// Writes [`input_png`] of `input` to `path` atomically; refuses a file that is already there
/// (it may be the user's).
pub fn save_input(input: ArrayView1<f32>, path: &Path) -> Result<()> {
    if path.exists() {
        return Err(Error::BadImage(format!(
            "{}: already exists; scratchnet writes the input images only as new files (remove \
             it, or give another --save-input folder)",
            path.display()
        )));
    }
    crate::files::write_atomic(path, &input_png(input)?)
}

#[cfg(test)]
mod tests;
