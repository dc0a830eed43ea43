//! One line of the architecture study's `study.csv`: every scalar measurement of a run.

use super::{ArchOutcome, Role};
use crate::data::DatasetKind;
use crate::experiment::output::Fixed;
use serde::Serialize;

/// A run's row of `study.csv` (the curve goes to `study.json`); the columns are the fields.
#[derive(Clone, Debug, Serialize)]
pub struct ArchRow {
    /// `mnist` or `fashion-mnist`.
    pub dataset: DatasetKind,
    /// The group's conv net.
    pub conv: String,
    /// `conv`, `mlp-params` or `mlp-macs`.
    pub role: Role,
    /// This run's network.
    pub net: String,
    /// The run's seed.
    pub seed: u64,
    /// Weights and biases.
    pub params: usize,
    /// Forward multiply-adds per sample.
    pub macs_per_sample: usize,
    /// Updates made.
    pub updates: usize,
    /// Training samples seen.
    pub samples_seen: usize,
    /// Seconds of updates.
    pub train_s: Fixed<4>,
    /// Microseconds of updates per training sample.
    pub us_per_sample: Fixed<3>,
    /// Training-subset accuracy of the final weights.
    pub final_train_acc: Fixed<4>,
    /// Test accuracy of the final weights.
    pub final_test_acc: Fixed<4>,
    /// 1 − final_test_acc.
    pub test_error: Fixed<4>,
    /// Best test accuracy measured.
    pub best_test_acc: Fixed<4>,
    /// final_train_acc − final_test_acc.
    pub gap: Fixed<4>,
    /// Whether the run diverged.
    pub diverged: bool,
}

impl Default for ArchRow {
    fn default() -> Self {
        ArchRow {
            dataset: DatasetKind::Mnist,
            conv: String::new(),
            role: Role::Conv,
            net: String::new(),
            seed: 0,
            params: 0,
            macs_per_sample: 0,
            updates: 0,
            samples_seen: 0,
            train_s: Fixed(0.0),
            us_per_sample: Fixed(0.0),
            final_train_acc: Fixed(0.0),
            final_test_acc: Fixed(0.0),
            test_error: Fixed(0.0),
            best_test_acc: Fixed(0.0),
            gap: Fixed(0.0),
            diverged: false,
        }
    }
}

impl From<&ArchOutcome> for ArchRow {
    fn from(o: &ArchOutcome) -> Self {
        let a = &o.accuracy;
        ArchRow {
            dataset: o.dataset,
            conv: o.conv.clone(),
            role: o.role,
            net: o.net.clone(),
            seed: o.seed,
            params: o.params,
            macs_per_sample: o.macs,
            updates: o.updates,
            samples_seen: o.samples_seen,
            train_s: Fixed(o.train_s),
            us_per_sample: Fixed(o.us_per_sample),
            final_train_acc: Fixed(a.final_train_acc),
            final_test_acc: Fixed(a.final_test_acc),
            test_error: Fixed(1.0 - a.final_test_acc),
            best_test_acc: Fixed(a.best_test_acc),
            gap: Fixed(a.gap),
            diverged: a.diverged.is_some(),
        }
    }
}
