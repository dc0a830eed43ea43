//! Weight initialisation: the book's `weight_init_std · randn`, from a seeded, portable RNG.

use crate::Float;
use ndarray::Array2;
use rand::Rng;
use rand_distr::StandardNormal;

/// A (rows, cols) matrix of independent N(0, std²) draws: the book's
/// `weight_init_std * np.random.randn(rows, cols)`.
///
/// Draws are made in `f64` and rounded to `F`, so `f32` and `f64` runs of one seed start from
/// the same weights (to `f32` precision).
pub fn randn<F: Float>(rng: &mut impl Rng, rows: usize, cols: usize, std: f64) -> Array2<F> {
    Array2::from_shape_simple_fn((rows, cols), || {
        let z: f64 = rng.sample(StandardNormal);
        F::of(std * z)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn randn_has_the_asked_spread_and_is_reproducible() {
        let draw = || randn::<f64>(&mut ChaCha8Rng::seed_from_u64(7), 200, 100, 0.01);
        let w = draw();
        assert_eq!(w, draw());
        let n = w.len() as f64;
        let mean = w.sum() / n;
        let std = (w.mapv(|v| (v - mean).powi(2)).sum() / n).sqrt();
        assert!(mean.abs() < 5e-4, "mean {mean}");
        assert!((std - 0.01).abs() < 3e-4, "std {std}");
    }
}
