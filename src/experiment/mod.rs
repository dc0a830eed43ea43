//! Studies: many training runs, measured side by side, answering one question each.
//!
//! [`runner`] holds what every study shares — one folder per run, resuming a stopped study,
//! shards and merging them — and each study file ([`batch_size`]) holds its runs, its
//! measurements and the report that answers its question from them.

pub mod batch_size;
pub mod memory;
pub mod runner;

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

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
        const EXPECTED: &str = "iters:N, epochs:N or time:SECONDS with N > 0, e.g. epochs:5";
        let bad = || Error::invalid("budget", s, EXPECTED);
        let (kind, value) = s.split_once(':').ok_or_else(bad)?;
        let number: f64 = value.trim().parse().map_err(|_| bad())?;
        if !(number.is_finite() && number > 0.0) {
            return Err(bad());
        }
        match kind.trim() {
            "iters" if number.fract() == 0.0 => Ok(Budget::Iters(number as usize)),
            "epochs" => Ok(Budget::Epochs(number)),
            "time" => Ok(Budget::Time(number)),
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
