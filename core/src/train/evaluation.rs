//! When the Trainer measures accuracy, and on which rows: the book's epochs (on the whole sets,
//! or on the first `evaluate_sample_num_per_epoch` images as the book's `Trainer` class does),
//! or a geometric series of samples seen (for studies).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// When accuracy is measured during training, and on which rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvalSchedule {
    /// The book's: every `iter_per_epoch` iterations from iteration 0, on the whole training
    /// and test sets (`train_neuralnet.py`, and the `Trainer` class without
    /// `evaluate_sample_num_per_epoch`).
    Epochs,
    /// The book's `Trainer` class (`common/trainer.py`) with `evaluate_sample_num_per_epoch`:
    /// every `iter_per_epoch` iterations from iteration 0 on the first that many training and
    /// test images; the final weights on the whole test set.
    EpochsSampled {
        /// Images (from the first) of each set measured at every epoch mark.
        evaluate_sample_num_per_epoch: usize,
    },
    /// After the first update, then each time the samples seen pass the next point of a
    /// geometric series (`per_decade` points per factor of ten: 10, 12.6, 15.8, 20, … for 10),
    /// on the first `train_rows` training rows: the same points in *samples* whatever the batch
    /// size, and evenly spread on a log axis from one update to many epochs.
    Samples {
        /// Points per factor of ten of samples seen.
        per_decade: u32,
        /// How many training rows (from the first) the training accuracy is measured on.
        train_rows: usize,
    },
}

impl EvalSchedule {
    /// Refuses a schedule that would measure nothing.
    pub fn validate(&self) -> Result<()> {
        match *self {
            EvalSchedule::Samples { per_decade: 0, .. }
            | EvalSchedule::Samples { train_rows: 0, .. } => Err(Error::invalid(
                "evaluation schedule",
                0,
                "at least 1 point per decade and 1 row",
            )),
            EvalSchedule::EpochsSampled {
                evaluate_sample_num_per_epoch: 0,
            } => Err(Error::invalid(
                "evaluate_sample_num_per_epoch",
                0,
                "at least 1 image",
            )),
            _ => Ok(()),
        }
    }

    /// The book's `evaluate_sample_num_per_epoch`, when the schedule has one.
    pub fn evaluate_sample_num_per_epoch(&self) -> Option<usize> {
        match *self {
            EvalSchedule::EpochsSampled {
                evaluate_sample_num_per_epoch,
            } => Some(evaluate_sample_num_per_epoch),
            _ => None,
        }
    }

    /// Rows (from the first) of the training and the test set measured at each mark, for sets
    /// of `train_size` and `test_size` rows.
    pub fn rows(&self, train_size: usize, test_size: usize) -> (usize, usize) {
        match *self {
            EvalSchedule::Epochs => (train_size, test_size),
            EvalSchedule::EpochsSampled {
                evaluate_sample_num_per_epoch: n,
            } => (n.min(train_size), n.min(test_size)),
            EvalSchedule::Samples { train_rows, .. } => (train_rows.min(train_size), test_size),
        }
    }
}

/// The first point of the series `round(10^(k / per_decade))` that is above `samples`.
pub(super) fn next_point(samples: usize, per_decade: u32) -> usize {
    let per_decade = per_decade as f64;
    let mut k = ((samples.max(1) as f64).log10() * per_decade).floor();
    loop {
        let point = 10f64.powf(k / per_decade).round() as usize;
        if point > samples {
            return point;
        }
        k += 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epochs_schedule_keeps_its_config_json_form_beside_the_sampled_one() {
        assert_eq!(
            serde_json::to_string(&EvalSchedule::Epochs).unwrap(),
            r#""epochs""#
        );
        let sampled = EvalSchedule::EpochsSampled {
            evaluate_sample_num_per_epoch: 1000,
        };
        let json = serde_json::to_string(&sampled).unwrap();
        assert_eq!(
            json,
            r#"{"epochs-sampled":{"evaluate_sample_num_per_epoch":1000}}"#
        );
        assert_eq!(
            serde_json::from_str::<EvalSchedule>(&json).unwrap(),
            sampled
        );
        assert_eq!(
            serde_json::from_str::<EvalSchedule>(r#""epochs""#).unwrap(),
            EvalSchedule::Epochs
        );
    }

    #[test]
    fn each_schedule_measures_its_rows() {
        assert_eq!(EvalSchedule::Epochs.rows(60_000, 10_000), (60_000, 10_000));
        let book = |n| EvalSchedule::EpochsSampled {
            evaluate_sample_num_per_epoch: n,
        };
        assert_eq!(book(1000).rows(60_000, 10_000), (1000, 1000));
        // More than a set holds: all of it, as NumPy's x[:t] gives.
        assert_eq!(book(20_000).rows(60_000, 10_000), (20_000, 10_000));
        assert_eq!(book(1000).evaluate_sample_num_per_epoch(), Some(1000));
        assert_eq!(EvalSchedule::Epochs.evaluate_sample_num_per_epoch(), None);
        let samples = EvalSchedule::Samples {
            per_decade: 10,
            train_rows: 5000,
        };
        assert_eq!(samples.rows(60_000, 10_000), (5000, 10_000));
        assert!(book(0)
            .validate()
            .is_err_and(|e| e.to_string().contains("evaluate_sample_num_per_epoch")));
        assert!(book(1).validate().is_ok());
    }
}
