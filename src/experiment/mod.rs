//! Studies: many training runs, measured side by side, answering one question each.
//!
//! [`runner`] holds what every study shares — one folder per run, resuming a stopped study,
//! shards and merging them — [`output`] what every study writes the same way, and each study
//! folder ([`batch_size`], [`depth_width`], [`architecture`]) holds its plan, its runs, the analysis that turns
//! their measurements into typed findings, and the charts and report that show them.

pub mod architecture;
pub mod batch_size;
pub mod depth_width;
pub mod memory;
pub mod output;
pub mod registry;
pub mod runner;

use crate::{Error, Result};
use scratchnet_core::train::History;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// (mean, min, max) of some values (zeros when there are none).
pub fn spread(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let v: Vec<f64> = values.collect();
    if v.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (
        mean,
        v.iter().copied().fold(f64::INFINITY, f64::min),
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// One measurement during a study's run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Training samples seen.
    pub samples_seen: usize,
    /// The same in epochs (samples / training set size).
    pub epochs: f64,
    /// Seconds of updates so far (evaluation excluded).
    pub train_s: f64,
    /// Accuracy on the training subset.
    pub train_acc: f64,
    /// Accuracy on the whole test set.
    pub test_acc: f64,
}

/// How a study's run ended, measured the same way in every study: its accuracy curve, final
/// and best accuracies, the gap, or why it diverged. Flattened into each study's outcome.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunAccuracy {
    /// Training-subset accuracy of the final weights.
    pub final_train_acc: f64,
    /// Test accuracy of the final weights.
    pub final_test_acc: f64,
    /// Best training-subset accuracy measured.
    pub best_train_acc: f64,
    /// Best test accuracy measured.
    pub best_test_acc: f64,
    /// final_train_acc − final_test_acc.
    pub gap: f64,
    /// Why the run stopped early, if it diverged.
    pub diverged: Option<String>,
    /// Every measurement, in order (the last is the final weights').
    pub curve: Vec<CurvePoint>,
}

impl RunAccuracy {
    /// What a finished run's history shows; `batch_size` turns its iterations into samples
    /// and `train_size` samples into epochs.
    pub fn measure(h: &History, batch_size: usize, train_size: usize) -> Self {
        let curve = curve(h, batch_size, train_size);
        let best = |acc: fn(&CurvePoint) -> f64| curve.iter().map(acc).fold(0.0, f64::max);
        RunAccuracy {
            final_train_acc: h.final_train_acc,
            final_test_acc: h.final_test_acc,
            best_train_acc: best(|p| p.train_acc),
            best_test_acc: best(|p| p.test_acc),
            gap: h.final_train_acc - h.final_test_acc,
            diverged: None,
            curve,
        }
    }

    /// A run that diverged as `e` says: nothing else is measured.
    pub fn diverged(e: &scratchnet_core::train::Divergence) -> Self {
        RunAccuracy {
            diverged: Some(e.to_string()),
            ..RunAccuracy::default()
        }
    }
}

/// A run's measurements as curve points, ending with the final weights' (added when the
/// schedule did not measure them).
fn curve(h: &History, batch_size: usize, train_size: usize) -> Vec<CurvePoint> {
    let epochs = |samples: usize| samples as f64 / train_size as f64;
    let mut curve: Vec<CurvePoint> = h
        .epochs
        .iter()
        .map(|e| CurvePoint {
            samples_seen: e.samples_seen,
            epochs: epochs(e.samples_seen),
            train_s: e.train_s,
            train_acc: e.train_acc,
            test_acc: e.test_acc,
        })
        .collect();
    let samples_seen = h.train_loss_list.len() * batch_size;
    if curve.last().map(|p| p.samples_seen) != Some(samples_seen) {
        curve.push(CurvePoint {
            samples_seen,
            epochs: epochs(samples_seen),
            train_s: h.train_seconds,
            train_acc: h.final_train_acc,
            test_acc: h.final_test_acc,
        });
    }
    curve
}

/// The most runs a study may have (its sizes or shapes × seeds × datasets): each run takes
/// seconds at least and writes a folder, so a longer grid is a typing slip, and building and
/// checking a list of millions of runs would itself take minutes.
pub const MAX_RUNS: usize = 10_000;

/// Refuses a study of `count` runs (`None`: more than a `usize` holds) when above [`MAX_RUNS`];
/// `lists` names what was multiplied (`depths × widths × seeds × datasets`).
pub fn check_run_count(count: Option<usize>, lists: &'static str) -> Result<()> {
    match count {
        Some(n) if n <= MAX_RUNS => Ok(()),
        _ => Err(Error::invalid(
            lists,
            count.map_or("more than 2^64".to_string(), |n| format!("{n} runs")),
            "at most 10,000 runs in a study; give shorter lists or fewer seeds",
        )),
    }
}

/// The longest user list an error message quotes whole; past it, only the offending entry and
/// its place (a refusal must stay one short line, whatever the user typed).
pub const QUOTED_LIST: usize = 10;

/// A user's list for an error message about its entry `at`: the whole list when short, else
/// that entry and its place (`0 (entry 70001 of 100000)`).
pub fn quote_list(list: &[usize], at: usize) -> String {
    match list.get(at) {
        Some(entry) if list.len() > QUOTED_LIST => {
            format!("{entry} (entry {} of {})", at + 1, list.len())
        }
        _ => format!("{list:?}"),
    }
}

/// The largest `epochs:` budget: a million passes over a 60,000-image training set is
/// already months of one machine's time; a larger number is a slip (and 1e300 would overflow
/// the iteration count).
pub const MAX_EPOCHS: f64 = 1e6;
/// The largest `iters:` budget: 10^12 updates are weeks at the fastest batch; the trainer's
/// samples-seen arithmetic must fit in 64 bits.
pub const MAX_ITERS: f64 = 1e12;
/// The largest `time:` budget, 30 days in seconds: a run meant to last longer is a slip.
pub const MAX_SECONDS: f64 = 30.0 * 24.0 * 3600.0;

/// How much training each run of a study gets.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Budget {
    /// The same number of updates for every run (the users' way).
    Iters(usize),
    /// The same number of training samples seen: `epochs · train_size`.
    Epochs(f64),
    /// The same seconds of updates (evaluation excluded).
    Time(f64),
}

impl Budget {
    /// (iters_num, time limit) for a run of `batch_size` on `train_size` rows.
    pub fn for_run(self, batch_size: usize, train_size: usize) -> (usize, Option<f64>) {
        match self {
            Budget::Iters(n) => (n, None),
            Budget::Epochs(e) => {
                let samples = e * train_size as f64;
                ((samples / batch_size as f64).ceil().max(1.0) as usize, None)
            }
            Budget::Time(s) => (usize::MAX, Some(s)),
        }
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Budget::Iters(n) => write!(f, "iters:{n}"),
            Budget::Epochs(e) => write!(f, "epochs:{e}"),
            Budget::Time(s) => write!(f, "time:{s}"),
        }
    }
}

impl FromStr for Budget {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        const EXPECTED: &str = "iters:N (N ≤ 10^12), epochs:N (N ≤ 10^6) or time:SECONDS \
                                (≤ 30 days) with N > 0, e.g. epochs:5";
        let bad = || Error::invalid("budget", s, EXPECTED);
        let (kind, value) = s.split_once(':').ok_or_else(bad)?;
        let number: f64 = value.trim().parse().map_err(|_| bad())?;
        let within = |max: f64| number.is_finite() && number > 0.0 && number <= max;
        match kind.trim() {
            "iters" if within(MAX_ITERS) && number.fract() == 0.0 => {
                Ok(Budget::Iters(number as usize))
            }
            "epochs" if within(MAX_EPOCHS) => Ok(Budget::Epochs(number)),
            "time" if within(MAX_SECONDS) => Ok(Budget::Time(number)),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_and_turn_into_iterations() {
        assert_eq!("iters:500".parse::<Budget>().unwrap(), Budget::Iters(500));
        assert_eq!(
            "epochs:2.5".parse::<Budget>().unwrap().for_run(100, 60_000),
            (1500, None)
        );
        assert_eq!(
            "epochs:1"
                .parse::<Budget>()
                .unwrap()
                .for_run(60_000, 60_000),
            (1, None)
        );
        assert_eq!(
            "epochs:1".parse::<Budget>().unwrap().for_run(7, 60_000),
            (8572, None)
        );
        assert_eq!(
            "time:3".parse::<Budget>().unwrap().for_run(100, 60_000),
            (usize::MAX, Some(3.0))
        );
        for bad in [
            "",
            "iters",
            "iters:0",
            "iters:1.5",
            "epochs:-1",
            "time:nan",
            "epochs:1e300",
            "epochs:inf",
            "iters:1e13",
            "time:1e9",
            "weeks:2",
        ] {
            let err = bad.parse::<Budget>().unwrap_err().to_string();
            assert!(
                err.contains("budget") && err.contains("epochs:5"),
                "{bad}: {err}"
            );
        }
        assert_eq!(Budget::Epochs(5.0).to_string(), "epochs:5");
    }
}
