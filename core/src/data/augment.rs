//! Data augmentation: each training image of a mini-batch redrawn slightly distorted — moved by
//! a few pixels, turned by a few degrees, bent by Simard et al.'s (2003) elastic distortions —
//! so that the network sees a new variant of every digit at every draw.
//!
//! For an output pixel (x, y) (column, row) of an H×W image with centre c = ((W−1)/2, (H−1)/2),
//! the value is the source image sampled bilinearly (0 outside it) at
//!
//! ```text
//! (u, v)  = (x − sx, y − sy)                                   shift: sx, sy uniform integers in [−k, k]
//! (x', y') = c + R(θ)·((u, v) − c)                             rotation: θ uniform in [−deg, deg]
//! source  = (x', y') + α·(Gσ ∗ Ux, Gσ ∗ Uy)(x, y)              elastic: Ux, Uy uniform(−1, 1) per pixel,
//!                                                              smoothed by a Gaussian of σ pixels
//!                                                              (normalised, truncated at 3σ, 0 outside)
//! ```
//!
//! then clamped to the source image's range (a bilinear mix stays within it but for rounding).
//! One resampling for all three, so the image is blurred at most once. Every draw comes from a
//! generator keyed by (seed, iteration, row of the batch): the same bits whatever the thread
//! count, and nothing to save for a resumed run.

use crate::{Error, Float, Result};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which distortions a run applies, as `--augment` writes them (`shift:2,rotate:10,elastic:34:4`);
/// the default applies none.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Augment {
    /// Largest shift in pixels, each direction (0: none).
    pub shift: usize,
    /// Largest rotation in degrees, either way (0: none).
    pub rotate: f64,
    /// Elastic distortion, if any.
    pub elastic: Option<Elastic>,
}

/// Simard et al.'s elastic distortion: a displacement field of uniform(−1, 1) values smoothed
/// by a Gaussian of `sigma` pixels, times `alpha` pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elastic {
    /// The field's scale in pixels (the paper's 34 on 28×28).
    pub alpha: f64,
    /// The smoothing Gaussian's standard deviation in pixels (the paper's 4).
    pub sigma: f64,
}

impl Elastic {
    /// The paper's setting for 28×28 digits: α = 34, σ = 4.
    pub const SIMARD: Elastic = Elastic {
        alpha: 34.0,
        sigma: 4.0,
    };
}

/// What `--augment` accepts.
const SYNTAX: &str = "none, or one or more of shift:PIXELS, rotate:DEGREES, elastic \
                      (α 34, σ 4) or elastic:ALPHA:SIGMA, separated by commas (e.g. \
                      shift:2,rotate:10,elastic:34:4); PIXELS 1 to 8, DEGREES in (0, 180], \
                      ALPHA in [0, 100], SIGMA in (0, 10]";

impl Augment {
    /// Whether no distortion is applied.
    pub fn is_none(&self) -> bool {
        *self == Augment::default()
    }

    /// Refuses values outside the ranges [`SYNTAX`] names.
    fn check(&self) -> Result<()> {
        let bad = |name, value: String| Err(Error::invalid(name, value, SYNTAX));
        if self.shift > 8 {
            return bad("augmentation shift", self.shift.to_string());
        }
        if !(self.rotate >= 0.0 && self.rotate <= 180.0) {
            return bad("augmentation rotation", self.rotate.to_string());
        }
        match self.elastic {
            Some(e) if !(e.alpha >= 0.0 && e.alpha <= 100.0) => {
                bad("elastic alpha", e.alpha.to_string())
            }
            Some(e) if !(e.sigma > 0.0 && e.sigma <= 10.0) => {
                bad("elastic sigma", e.sigma.to_string())
            }
            _ => Ok(()),
        }
    }

    /// The (height, width) of the images of `input_size` pixels: square images only.
    pub fn image_shape(input_size: usize) -> Result<(usize, usize)> {
        let side = (input_size as f64).sqrt().round() as usize;
        if side * side != input_size || side == 0 {
            return Err(Error::invalid(
                "image size for augmentation",
                input_size,
                "the pixels of a square image (784 = 28×28 for MNIST)",
            ));
        }
        Ok((side, side))
    }
}

impl FromStr for Augment {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("augmentation", s, SYNTAX);
        let mut a = Augment::default();
        if s.trim() == "none" {
            return Ok(a);
        }
        let number = |t: &str| {
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(bad)
        };
        for item in s.split(',') {
            let parts: Vec<&str> = item.trim().split(':').collect();
            match parts.as_slice() {
                ["shift", k] if a.shift == 0 => {
                    a.shift = k.parse().ok().filter(|&k| k > 0).ok_or_else(bad)?
                }
                ["rotate", deg] if a.rotate == 0.0 => {
                    a.rotate = number(deg).ok().filter(|&d| d > 0.0).ok_or_else(bad)?
                }
                ["elastic"] if a.elastic.is_none() => a.elastic = Some(Elastic::SIMARD),
                ["elastic", alpha, sigma] if a.elastic.is_none() => {
                    a.elastic = Some(Elastic {
                        alpha: number(alpha)?,
                        sigma: number(sigma)?,
                    })
                }
                _ => return Err(bad()),
            }
        }
        a.check().map_err(|_| bad())?;
        Ok(a)
    }
}

impl fmt::Display for Augment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items = Vec::new();
        if self.shift > 0 {
            items.push(format!("shift:{}", self.shift));
        }
        if self.rotate > 0.0 {
            items.push(format!("rotate:{}", self.rotate));
        }
        if let Some(e) = self.elastic {
            items.push(format!("elastic:{}:{}", e.alpha, e.sigma));
        }
        match items.is_empty() {
            true => f.write_str("none"),
            false => f.write_str(&items.join(",")),
        }
    }
}

impl Serialize for Augment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Augment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Applies an [`Augment`] to mini-batches of H×W images, rows split over the threads, each
/// thread keeping its buffers from batch to batch (nothing is allocated after
/// [`Augmenter::new`]). Every row's draws are its own, so the thread count changes no bit.
#[derive(Clone, Debug)]
pub struct Augmenter {
    /// One per thread of the pool.
    workers: Vec<Distorter>,
}

impl Augmenter {
    /// An augmenter of `spec` for images of `shape` (H, W), its draws keyed by `seed`.
    pub fn new(spec: Augment, shape: (usize, usize), seed: u64) -> Result<Self> {
        let worker = Distorter::new(spec, shape, seed)?;
        Ok(Augmenter {
            workers: vec![worker; rayon::current_num_threads().max(1)],
        })
    }

    /// Distorts every row of `batch` (N, H·W) in place, with the draws of `iteration`.
    pub fn apply<F: Float>(&mut self, batch: &mut Array2<F>, iteration: usize) {
        let (rows, pixels) = batch.dim();
        let per_worker = rows.div_ceil(self.workers.len()).max(1);
        let images = batch.as_slice_mut().expect("a standard-layout batch");
        images
            .par_chunks_mut(per_worker * pixels.max(1))
            .zip(self.workers.par_iter_mut())
            .enumerate()
            .for_each(|(c, (chunk, worker))| {
                for (k, image) in chunk.chunks_exact_mut(pixels).enumerate() {
                    let mut rng = worker.rng(iteration, c * per_worker + k);
                    worker.image(image, &mut rng);
                }
            });
    }
}

/// One thread's distortion of images, one at a time, with its buffers.
#[derive(Clone, Debug)]
struct Distorter {
    spec: Augment,
    /// (H, W).
    shape: (usize, usize),
    seed: u64,
    /// The image being distorted, (H·W).
    source: Vec<f64>,
    /// The elastic displacements along x and y, (H·W) each, and a scratch row for smoothing.
    dx: Vec<f64>,
    dy: Vec<f64>,
    scratch: Vec<f64>,
    /// The normalised Gaussian, 2r + 1 taps (r = ⌈3σ⌉).
    gaussian: Vec<f64>,
}

impl Distorter {
    /// A distorter of `spec` for images of `shape` (H, W), its draws keyed by `seed`.
    fn new(spec: Augment, shape: (usize, usize), seed: u64) -> Result<Self> {
        spec.check()?;
        let pixels = shape.0 * shape.1;
        let gaussian = spec.elastic.map_or_else(Vec::new, |e| gaussian(e.sigma));
        Ok(Distorter {
            spec,
            shape,
            seed,
            source: vec![0.0; pixels],
            dx: vec![0.0; pixels],
            dy: vec![0.0; pixels],
            scratch: vec![0.0; pixels],
            gaussian,
        })
    }

    /// The generator of row `row` of the batch of `iteration`: a key made of the seed, the
    /// iteration, the row and a tag of its own, so no other draw of the run shares it.
    fn rng(&self, iteration: usize, row: usize) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&(iteration as u64).to_le_bytes());
        key[16..24].copy_from_slice(&(row as u64).to_le_bytes());
        key[24..].copy_from_slice(b"augment\0");
        ChaCha8Rng::from_seed(key)
    }

    /// Distorts one image (H·W pixels, row by row) with draws from `rng`.
    fn image<F: Float>(&mut self, image: &mut [F], rng: &mut ChaCha8Rng) {
        let draw = self.draw(rng);
        self.resample(image, draw);
    }

    /// The shift (sx, sy), the angle θ in radians and, when elastic, the field in `dx`, `dy`
    /// (returning α), drawn in that order.
    fn draw(&mut self, rng: &mut ChaCha8Rng) -> Draw {
        let k = self.spec.shift as i64;
        let shift = match k {
            0 => (0.0, 0.0),
            _ => (
                rng.random_range(-k..=k) as f64,
                rng.random_range(-k..=k) as f64,
            ),
        };
        let deg = self.spec.rotate;
        let theta = match deg > 0.0 {
            true => rng.random_range(-deg..=deg).to_radians(),
            false => 0.0,
        };
        let alpha = match self.spec.elastic {
            Some(e) => {
                self.elastic_field(rng);
                e.alpha
            }
            None => 0.0,
        };
        Draw {
            shift,
            theta,
            alpha,
        }
    }

    /// Redraws `image` sampled at the points the module's doc gives for `draw`.
    fn resample<F: Float>(&mut self, image: &mut [F], draw: Draw) {
        let (h, w) = self.shape;
        let (lo, hi) = self.copy_source(image);
        let (sx, sy) = draw.shift;
        let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
        let (sin, cos) = draw.theta.sin_cos();
        for y in 0..h {
            for x in 0..w {
                let (u, v) = (x as f64 - sx, y as f64 - sy);
                let (mut px, mut py) = match draw.theta != 0.0 {
                    true => (
                        cx + (u - cx) * cos + (v - cy) * sin,
                        cy - (u - cx) * sin + (v - cy) * cos,
                    ),
                    false => (u, v),
                };
                if draw.alpha != 0.0 {
                    px += draw.alpha * self.dx[y * w + x];
                    py += draw.alpha * self.dy[y * w + x];
                }
                image[y * w + x] = F::of(bilinear(&self.source, (h, w), px, py).clamp(lo, hi));
            }
        }
    }

    /// Copies `image` into `source`; returns its smallest and largest values.
    fn copy_source<F: Float>(&mut self, image: &[F]) -> (f64, f64) {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (s, &p) in self.source.iter_mut().zip(image) {
            *s = p.to_f64();
            lo = lo.min(*s);
            hi = hi.max(*s);
        }
        (lo, hi)
    }

    /// Fills `dx` and `dy` with uniform(−1, 1) values smoothed by the Gaussian.
    fn elastic_field(&mut self, rng: &mut ChaCha8Rng) {
        for field in [&mut self.dx, &mut self.dy] {
            for d in field.iter_mut() {
                *d = rng.random_range(-1.0..1.0);
            }
        }
        smooth(&mut self.dx, &mut self.scratch, self.shape, &self.gaussian);
        smooth(&mut self.dy, &mut self.scratch, self.shape, &self.gaussian);
    }
}

/// One image's draws: the shift in pixels, the angle in radians, the elastic field's scale.
#[derive(Clone, Copy, Debug)]
struct Draw {
    shift: (f64, f64),
    theta: f64,
    alpha: f64,
}

/// The normalised Gaussian of `sigma` pixels on −r..=r, r = ⌈3σ⌉.
fn gaussian(sigma: f64) -> Vec<f64> {
    let r = (3.0 * sigma).ceil() as i64;
    let taps: Vec<f64> = (-r..=r)
        .map(|k| (-((k * k) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = taps.iter().sum();
    taps.into_iter().map(|g| g / sum).collect()
}

/// Convolves `field` (H·W) with `taps` along rows, then along columns, 0 outside the image;
/// `scratch` (H·W) holds the intermediate.
fn smooth(field: &mut [f64], scratch: &mut [f64], (h, w): (usize, usize), taps: &[f64]) {
    for y in 0..h {
        convolve_line(
            &field[y * w..(y + 1) * w],
            1,
            taps,
            &mut scratch[y * w..],
            1,
            w,
        );
    }
    for x in 0..w {
        convolve_line(&scratch[x..], w, taps, &mut field[x..], w, h);
    }
}

/// `out[i·out_step] = Σ_k taps[k]·line[(i + k − r)·step]` for i < n over the points inside the
/// line (0 outside), r = taps.len() / 2.
fn convolve_line(
    line: &[f64],
    step: usize,
    taps: &[f64],
    out: &mut [f64],
    out_step: usize,
    n: usize,
) {
    let r = taps.len() / 2;
    for i in 0..n {
        // Points j = i + k − r with 0 ≤ j < n.
        let (first, last) = (r.saturating_sub(i), (n - 1 + r - i).min(taps.len() - 1));
        let mut sum = 0.0;
        for k in first..=last {
            sum += taps[k] * line[(i + k - r) * step];
        }
        out[i * out_step] = sum;
    }
}

/// The image (H·W) at the point (px, py) by bilinear interpolation, 0 outside it.
fn bilinear(image: &[f64], (h, w): (usize, usize), px: f64, py: f64) -> f64 {
    let (x0, y0) = (px.floor(), py.floor());
    let (fx, fy) = (px - x0, py - y0);
    let at = |x: f64, y: f64| -> f64 {
        if x < 0.0 || y < 0.0 || x >= w as f64 || y >= h as f64 {
            return 0.0;
        }
        image[y as usize * w + x as usize]
    };
    let top = (1.0 - fx) * at(x0, y0) + fx * at(x0 + 1.0, y0);
    let bottom = (1.0 - fx) * at(x0, y0 + 1.0) + fx * at(x0 + 1.0, y0 + 1.0);
    (1.0 - fy) * top + fy * bottom
}

#[cfg(test)]
mod tests;
