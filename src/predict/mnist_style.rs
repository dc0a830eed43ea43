//! Ink levels turned into an MNIST input the way MNIST was made (LeCun et al.'s description:
//! "normalized to fit in a 20×20 pixel box while preserving their aspect ratio … anti-aliasing
//! … centered in a 28×28 image by computing the center of mass of the pixels, and translating
//! the image so as to position this point at the center of the 28×28 field"):
//!
//! 1. **Crop** to the bounding box of the pixels holding at least [`INK_THRESHOLD`] ink (fainter
//!    pixels are paper for the box; a drawing with none is refused: [`ImageError::NoInk`]).
//! 2. **Scale** the box so that its larger side is [`BOX`] = 20 pixels, the same factor on
//!    both axes (the aspect ratio kept), by area averaging: each output pixel is the mean of the
//!    ink under its footprint, every source pixel weighted by the exact area it shares with it
//!    (a box filter; a partly covered edge pixel comes out lighter, which is the anti-aliasing).
//! 3. **Stretch** the levels so that the darkest pixel holds ink 1: every MNIST digit reaches
//!    254 or 255 of 255 (measured on the 10 000 test digits), so a thin or grey pen is brought
//!    to the same range.
//! 4. **Centre** by centre of mass: the box is put in the 28 × 28 field shifted by whole pixels
//!    so that its centre of mass, in pixel indices, is the nearest it can be to (14, 14) —
//!    within half a pixel on each axis. This is what MNIST itself shows: over its test digits
//!    the centre of mass lies in [13.5, 14.5] on each axis, spread evenly (standard deviation
//!    0.29 = 1/√12), the mark of a shift rounded to whole pixels; whole-pixel shifts also keep
//!    the anti-aliased levels as they are (no second resampling). The shift is limited so that
//!    the box stays whole in the field.
//!
//! Values are in 0..1, white digit (1) on black (0), row-major: 784 of them.

use super::ink::ImageError;
use ndarray::{s, Array1, Array2, ArrayView2};

/// The side of the MNIST image.
pub const SIDE: usize = 28;
/// The side of the box the digit is scaled into.
pub const BOX: usize = 20;
/// Where the centre of mass goes, in pixel indices (row, column).
pub const CENTRE: f64 = 14.0;
/// Ink below this does not count for the bounding box (paper, a scanner's grey, a faint
/// anti-aliased edge).
pub const INK_THRESHOLD: f32 = 0.1;

/// The MNIST input of a drawing's ink levels: ink (height, width) in 0..1 → 784 values in
/// 0..1, row-major 28 × 28 (see the module's four steps).
pub fn mnist_style(ink: ArrayView2<f32>) -> Result<Array1<f32>, ImageError> {
    let [top, bottom, left, right] = bounding_box(ink).ok_or(ImageError::NoInk)?;
    let cropped = ink.slice(s![top..bottom, left..right]);
    let mut digit = area_scale(cropped);
    let darkest = digit.iter().copied().fold(0.0, f32::max);
    if darkest <= 0.0 {
        return Err(ImageError::NoInk);
    }
    digit.mapv_inplace(|v| (v / darkest).clamp(0.0, 1.0));
    let (rows, cols) = digit.dim();
    let (cy, cx) = centre_of_mass(digit.view());
    let shift = |centre: f64, len: usize| {
        let shift = (CENTRE - centre).round().max(0.0) as usize;
        shift.min(SIDE - len)
    };
    let (dy, dx) = (shift(cy, rows), shift(cx, cols));
    let mut field = Array2::zeros((SIDE, SIDE));
    field
        .slice_mut(s![dy..dy + rows, dx..dx + cols])
        .assign(&digit);
    Ok(field.into_shape_with_order(SIDE * SIDE).expect("28 × 28"))
}

/// [top, bottom, left, right) of the pixels holding at least [`INK_THRESHOLD`]; `None` when
/// there are none.
pub fn bounding_box(ink: ArrayView2<f32>) -> Option<[usize; 4]> {
    let mut found: Option<[usize; 4]> = None;
    for ((y, x), &v) in ink.indexed_iter() {
        if v >= INK_THRESHOLD {
            let b = found.get_or_insert([y, y + 1, x, x + 1]);
            *b = [b[0].min(y), b[1].max(y + 1), b[2].min(x), b[3].max(x + 1)];
        }
    }
    found
}

/// The centre of mass of `values` (rows, cols) in pixel indices: (Σ row·v / Σ v, Σ col·v / Σ v);
/// the middle of the array when it holds nothing.
pub fn centre_of_mass(values: ArrayView2<f32>) -> (f64, f64) {
    let (mut mass, mut my, mut mx) = (0.0f64, 0.0f64, 0.0f64);
    for ((y, x), &v) in values.indexed_iter() {
        let v = f64::from(v);
        mass += v;
        my += y as f64 * v;
        mx += x as f64 * v;
    }
    if mass <= 0.0 {
        let (rows, cols) = values.dim();
        return ((rows as f64 - 1.0) / 2.0, (cols as f64 - 1.0) / 2.0);
    }
    (my / mass, mx / mass)
}

/// `image` (H, W) scaled by `BOX / max(H, W)` on both axes by area averaging: the larger side
/// becomes [`BOX`] pixels, the other `ceil(side · factor)` (its last pixel partly covered).
pub fn area_scale(image: ArrayView2<f32>) -> Array2<f32> {
    let (h, w) = image.dim();
    let factor = BOX as f64 / h.max(w) as f64;
    let rows = coverage(h, factor);
    let cols = coverage(w, factor);
    // Rows first: (out_h, W), then columns: (out_h, out_w); each weight a shared length.
    let mut by_rows = Array2::<f32>::zeros((rows.len(), w));
    for (out, taps) in by_rows.outer_iter_mut().zip(&rows) {
        let out = out.into_slice().expect("a row of a standard array");
        for &(y, weight) in taps {
            for (o, &v) in out.iter_mut().zip(image.row(y)) {
                *o += weight * v;
            }
        }
    }
    let mut scaled = Array2::<f32>::zeros((rows.len(), cols.len()));
    for (mut out, source) in scaled.outer_iter_mut().zip(by_rows.outer_iter()) {
        for (o, taps) in out.iter_mut().zip(&cols) {
            *o = taps.iter().map(|&(x, weight)| weight * source[x]).sum();
        }
    }
    scaled
}

/// For each output pixel along an axis of `len` source pixels scaled by `factor`, the source
/// pixels under it and their weights: the length of source pixel k, [k, k + 1), inside the
/// output pixel's footprint [i / factor, (i + 1) / factor), times `factor` (so that a fully
/// covered output pixel's weights sum to 1, a partly covered edge pixel's to its coverage).
fn coverage(len: usize, factor: f64) -> Vec<Vec<(usize, f32)>> {
    let extent = len as f64 * factor;
    // The larger side lands on exactly BOX pixels; guard against its rounding error.
    let outputs = ((extent - 1e-9).ceil() as usize).max(1);
    (0..outputs)
        .map(|i| {
            let (start, end) = (i as f64 / factor, ((i + 1) as f64 / factor).min(len as f64));
            let first = start.floor() as usize;
            let last = (end.ceil() as usize).min(len);
            (first..last)
                .filter_map(|k| {
                    let shared = end.min(k as f64 + 1.0) - start.max(k as f64);
                    (shared > 0.0).then_some((k, (shared * factor) as f32))
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
#[path = "mnist_style/tests.rs"]
mod tests;
