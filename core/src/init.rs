//! Weight initialisation: the book's `weight_init_std · randn`, from a seeded, portable RNG,
//! with σ fixed or chosen by Xavier's or He's rule (chapter 6).

use crate::layers::Activation;
use crate::{Error, Float, Result};
use ndarray::Array2;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

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

/// How a layer's initial weights are scaled: `W = σ · randn(n_in, n_out)`, with σ fixed or
/// derived from the number of inputs `n_in` (the book's `weight_init_std`).
///
/// Written and parsed as `std:0.01`, `xavier` or `he` (also in config.json).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum WeightInit {
    /// A fixed standard deviation σ (chapter 4's 0.01).
    Std(f64),
    /// Xavier (Glorot): σ = 1/√n_in, the book's choice for sigmoid and tanh.
    Xavier,
    /// He: σ = √(2/n_in), the book's choice for ReLU.
    He,
}

impl WeightInit {
    /// The book's default for an activation: He for ReLU, Xavier for sigmoid.
    pub fn for_activation(activation: Activation) -> Self {
        match activation {
            Activation::Relu => WeightInit::He,
            Activation::Sigmoid => WeightInit::Xavier,
        }
    }

    /// `init`, or when none is given the book's default for `activation` ([`for_activation`](Self::for_activation)).
    pub fn or_default_for(init: Option<WeightInit>, activation: Activation) -> Self {
        init.unwrap_or_else(|| WeightInit::for_activation(activation))
    }

    /// σ for a layer with `n_in` inputs.
    pub fn std(self, n_in: usize) -> f64 {
        let n = n_in.max(1) as f64;
        match self {
            WeightInit::Std(std) => std,
            WeightInit::Xavier => (1.0 / n).sqrt(),
            WeightInit::He => (2.0 / n).sqrt(),
        }
    }

    /// Fails unless a fixed σ is positive and finite.
    pub fn validate(self) -> Result<()> {
        match self {
            WeightInit::Std(std) if !(std.is_finite() && std > 0.0) => Err(Error::invalid(
                "weight init std",
                std,
                "a positive number such as 0.01",
            )),
            _ => Ok(()),
        }
    }

    /// W: (n_in, n_out) drawn as `σ · randn` with this rule's σ.
    pub fn weights<F: Float>(self, rng: &mut impl Rng, n_in: usize, n_out: usize) -> Array2<F> {
        randn(rng, n_in, n_out, self.std(n_in))
    }
}

impl fmt::Display for WeightInit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightInit::Std(std) => write!(f, "std:{std}"),
            WeightInit::Xavier => f.write_str("xavier"),
            WeightInit::He => f.write_str("he"),
        }
    }
}

impl FromStr for WeightInit {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let init = match s.trim().to_ascii_lowercase().as_str() {
            "xavier" => WeightInit::Xavier,
            "he" => WeightInit::He,
            other => {
                let std = other
                    .strip_prefix("std:")
                    .and_then(|v| v.parse::<f64>().ok())
                    .ok_or_else(|| {
                        Error::invalid("weight init", format!("'{s}'"), "std:<σ>, xavier or he")
                    })?;
                WeightInit::Std(std)
            }
        };
        init.validate()?;
        Ok(init)
    }
}

impl From<WeightInit> for String {
    fn from(init: WeightInit) -> String {
        init.to_string()
    }
}

impl TryFrom<String> for WeightInit {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
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

    #[test]
    fn weight_init_parses_prints_and_scales_as_the_book() {
        for (text, init) in [
            ("std:0.01", WeightInit::Std(0.01)),
            ("xavier", WeightInit::Xavier),
            ("He", WeightInit::He),
        ] {
            let parsed: WeightInit = text.parse().unwrap();
            assert_eq!(parsed, init);
            assert_eq!(parsed.to_string().parse::<WeightInit>().unwrap(), init);
            let json = serde_json::to_string(&init).unwrap();
            assert_eq!(serde_json::from_str::<WeightInit>(&json).unwrap(), init);
        }
        assert_eq!(serde_json::to_string(&WeightInit::He).unwrap(), "\"he\"");
        assert!((WeightInit::Xavier.std(100) - 0.1).abs() < 1e-15);
        assert!((WeightInit::He.std(50) - 0.2).abs() < 1e-15);
        assert_eq!(WeightInit::Std(0.01).std(784), 0.01);
        for bad in ["std:0", "std:-1", "std:x", "glorot", ""] {
            assert!(bad.parse::<WeightInit>().is_err(), "{bad}");
        }
    }
}
