//! Learning-rate schedules: the rate of every update as a pure function of the iteration and
//! the run's length, so that a resumed run needs nothing more than its iteration.
//!
//! With `lr` the optimizer's learning rate, `i` the update about to be made (from 0), `T` the
//! run's updates (`iters_num`), `E` the updates per epoch and `W = round(warmup_epochs · E)`:
//!
//! ```text
//! warm-up (i < W):    lr_i = lr · (i + 1) / W                      linear, reaching lr at i = W − 1
//! constant:           lr_i = lr
//! step:K:γ            lr_i = lr · γ^⌊i / (K·E)⌋                     PyTorch's StepLR (K epochs)
//! cosine:floor        lr_i = floor + (lr − floor)·(1 + cos(π·p))/2  PyTorch's CosineAnnealingLR,
//!                     p = (i − W) / (T − W)                         over the updates after warm-up
//! ```
//!
//! Step decay counts epochs from the start of the run, warm-up or not; cosine anneals from the
//! end of the warm-up to the end of the run (to `floor` at `p = 1`, one update after the last).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the learning rate falls over a run, after any warm-up.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Decay {
    /// The optimizer's rate throughout (the book's).
    #[default]
    Constant,
    /// Times `gamma` every `step_size` epochs.
    Step {
        /// Epochs between two decays (PyTorch's `step_size`).
        step_size: usize,
        /// The factor of each decay, in (0, 1] (PyTorch's `gamma`).
        gamma: f64,
    },
    /// Half a cosine from the rate down to `floor` over the run (PyTorch's `eta_min`).
    Cosine {
        /// The rate the cosine ends at (0 by default).
        floor: f64,
    },
}

/// What `--lr-schedule` accepts.
const SYNTAX: &str = "constant, step:EPOCHS:GAMMA (e.g. step:5:0.5, GAMMA in (0, 1]), \
                      cosine or cosine:FLOOR (e.g. cosine:0.0001, FLOOR ≥ 0)";

impl FromStr for Decay {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("learning-rate schedule", s, SYNTAX);
        let parts: Vec<&str> = s.trim().split(':').collect();
        let decay = match parts.as_slice() {
            ["constant"] => Decay::Constant,
            ["cosine"] => Decay::Cosine { floor: 0.0 },
            ["cosine", floor] => Decay::Cosine {
                floor: floor.parse().map_err(|_| bad())?,
            },
            ["step", k, gamma] => Decay::Step {
                step_size: k.parse().map_err(|_| bad())?,
                gamma: gamma.parse().map_err(|_| bad())?,
            },
            _ => return Err(bad()),
        };
        decay.check().map_err(|_| bad())?;
        Ok(decay)
    }
}

impl fmt::Display for Decay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Decay::Constant => f.write_str("constant"),
            Decay::Step { step_size, gamma } => write!(f, "step:{step_size}:{gamma}"),
            Decay::Cosine { floor: 0.0 } => f.write_str("cosine"),
            Decay::Cosine { floor } => write!(f, "cosine:{floor}"),
        }
    }
}

impl Decay {
    /// Refuses a step of 0 epochs, a γ outside (0, 1], a floor below 0 or not finite.
    fn check(&self) -> Result<()> {
        match *self {
            Decay::Step { step_size: 0, .. } => Err(Error::invalid(
                "step decay's epochs",
                0,
                "at least 1 epoch between decays",
            )),
            Decay::Step { gamma, .. } if !(gamma > 0.0 && gamma <= 1.0) => Err(Error::invalid(
                "step decay's gamma",
                gamma,
                "a factor in (0, 1], such as 0.5",
            )),
            Decay::Cosine { floor } if !(floor.is_finite() && floor >= 0.0) => Err(Error::invalid(
                "cosine floor",
                floor,
                "a learning rate ≥ 0, such as 0.0001",
            )),
            _ => Ok(()),
        }
    }
}

impl Serialize for Decay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Decay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A learning-rate schedule: a [`Decay`] after an optional linear warm-up. In settings files
/// as `"lr_schedule": "step:5:0.5", "warmup_epochs": 1` (both optional: constant, none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LrSchedule {
    /// How the rate falls after the warm-up.
    #[serde(rename = "lr_schedule")]
    pub decay: Decay,
    /// Epochs of linear warm-up from `lr / W` to `lr` (0: none; fractions allowed).
    pub warmup_epochs: f64,
}

impl LrSchedule {
    /// Whether every update uses the optimizer's own rate (no decay, no warm-up).
    pub fn is_constant(&self) -> bool {
        self.decay == Decay::Constant && self.warmup_epochs == 0.0
    }

    /// Checks the schedule against the optimizer's rate `lr`: a valid decay, a warm-up of
    /// finite epochs ≥ 0, a cosine floor below `lr`.
    pub fn validate(&self, lr: f64) -> Result<()> {
        self.decay.check()?;
        if !(self.warmup_epochs.is_finite() && self.warmup_epochs >= 0.0) {
            return Err(Error::invalid(
                "warm-up",
                self.warmup_epochs,
                "a number of epochs ≥ 0, such as 1 or 0.5",
            ));
        }
        match self.decay {
            Decay::Cosine { floor } if floor >= lr => Err(Error::invalid(
                "cosine floor",
                floor,
                "a learning rate below the optimizer's (--learning-rate)",
            )),
            _ => Ok(()),
        }
    }

    /// Updates of warm-up: `round(warmup_epochs · iter_per_epoch)`.
    pub fn warmup_iters(&self, iter_per_epoch: usize) -> usize {
        (self.warmup_epochs * iter_per_epoch as f64).round() as usize
    }

    /// The rate of update `i` (from 0) of a run of `iters_num` updates, `iter_per_epoch` per
    /// epoch, whose optimizer's rate is `lr` (the formulas of the module's doc).
    pub fn learning_rate(&self, lr: f64, i: usize, iters_num: usize, iter_per_epoch: usize) -> f64 {
        let warmup = self.warmup_iters(iter_per_epoch);
        if i < warmup {
            return lr * (i + 1) as f64 / warmup as f64;
        }
        match self.decay {
            Decay::Constant => lr,
            Decay::Step { step_size, gamma } => {
                let decays = i / (step_size * iter_per_epoch.max(1));
                lr * gamma.powi(decays.min(i32::MAX as usize) as i32)
            }
            Decay::Cosine { floor } => {
                let p = match iters_num.saturating_sub(warmup) {
                    0 => 0.0,
                    span => (i - warmup) as f64 / span as f64,
                };
                floor + (lr - floor) * (1.0 + (std::f64::consts::PI * p).cos()) / 2.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-15
    }

    #[test]
    fn step_decay_halves_every_two_epochs() {
        // 10 updates per epoch, step:2:0.5 from 0.1: updates 0–19 at 0.1, 20–39 at 0.05, 40 at 0.025.
        let s = LrSchedule {
            decay: "step:2:0.5".parse().unwrap(),
            warmup_epochs: 0.0,
        };
        let rate = |i| s.learning_rate(0.1, i, 100, 10);
        assert_eq!(
            [rate(0), rate(19), rate(20), rate(39), rate(40)],
            [0.1, 0.1, 0.05, 0.05, 0.025]
        );
    }

    #[test]
    fn cosine_falls_from_the_rate_to_the_floor_over_the_run() {
        // T = 100: p = i/100; at i = 50 the cosine is 0, so the rate is halfway: 0.01 + 0.09/2;
        // at i = 25, (1 + cos(π/4))/2 = 0.853553…
        let s = LrSchedule {
            decay: "cosine:0.01".parse().unwrap(),
            warmup_epochs: 0.0,
        };
        let rate = |i| s.learning_rate(0.1, i, 100, 10);
        assert_eq!(rate(0), 0.1);
        assert!(close(rate(50), 0.055));
        assert!(close(rate(25), 0.01 + 0.09 * (1.0 + 0.5f64.sqrt()) / 2.0));
        // The last update is one step above the floor: p = 99/100.
        assert!(rate(99) > 0.01 && rate(99) < 0.0101);
    }

    #[test]
    fn warm_up_rises_linearly_then_the_decay_takes_over() {
        // 10 updates per epoch, 2 epochs of warm-up: W = 20, rates lr·1/20 … lr·20/20, then the
        // cosine over the remaining 80 updates (halfway at i = 20 + 40 = 60).
        let s = LrSchedule {
            decay: Decay::Cosine { floor: 0.0 },
            warmup_epochs: 2.0,
        };
        let rate = |i| s.learning_rate(0.2, i, 100, 10);
        assert!(close(rate(0), 0.01));
        assert!(close(rate(9), 0.1));
        assert!(close(rate(19), 0.2));
        assert_eq!(rate(20), 0.2);
        assert!(close(rate(60), 0.1));
        // Half an epoch of warm-up before a constant rate: W = 5.
        let half = LrSchedule {
            decay: Decay::Constant,
            warmup_epochs: 0.5,
        };
        assert_eq!(half.warmup_iters(10), 5);
        assert!(close(half.learning_rate(0.1, 1, 100, 10), 0.04));
        assert_eq!(half.learning_rate(0.1, 5, 100, 10), 0.1);
    }

    #[test]
    fn text_forms_parse_print_and_refuse_with_the_syntax() {
        for text in ["constant", "step:5:0.5", "cosine", "cosine:0.0001"] {
            let decay: Decay = text.parse().unwrap();
            assert_eq!(decay.to_string(), text);
            let json = serde_json::to_string(&decay).unwrap();
            assert_eq!(serde_json::from_str::<Decay>(&json).unwrap(), decay);
        }
        for bad in [
            "",
            "step",
            "step:0:0.5",
            "step:5:1.5",
            "step:5:0",
            "cosine:-1",
            "linear",
            "step:x:0.5",
        ] {
            let e = bad.parse::<Decay>().unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")) || e.contains(bad), "{e}");
            assert!(e.contains("step:EPOCHS:GAMMA"), "{e}");
        }
        let above = LrSchedule {
            decay: Decay::Cosine { floor: 0.2 },
            warmup_epochs: 0.0,
        };
        assert!(above
            .validate(0.1)
            .unwrap_err()
            .to_string()
            .contains("below the optimizer's"));
        let negative = LrSchedule {
            warmup_epochs: -1.0,
            ..LrSchedule::default()
        };
        assert!(negative.validate(0.1).is_err());
    }

    #[test]
    fn settings_without_a_schedule_load_as_constant() {
        let s: LrSchedule = serde_json::from_str("{}").unwrap();
        assert!(s.is_constant());
        let json = serde_json::to_value(LrSchedule {
            decay: Decay::Step {
                step_size: 5,
                gamma: 0.5,
            },
            warmup_epochs: 1.0,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"lr_schedule": "step:5:0.5", "warmup_epochs": 1.0})
        );
    }
}
