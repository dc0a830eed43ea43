//! One line of the batch-size study's `study.csv`: every scalar metric of a run.

use super::BatchOutcome;
use crate::experiment::output::{Fixed, Plain};
use serde::Serialize;

/// A run's row of `study.csv` (the curve goes to `study.json`); the columns are the fields.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BatchRow {
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// The run's seed.
    pub seed: u64,
    /// The learning rate used (after scaling).
    pub learning_rate: Plain,
    /// Updates made.
    pub updates: usize,
    /// Training samples seen.
    pub samples_seen: usize,
    /// Seconds of updates.
    pub train_s: Fixed<4>,
    /// Seconds of evaluation.
    pub eval_s: Fixed<4>,
    /// Median milliseconds per update.
    pub median_update_ms: Fixed<5>,
    /// The longest update, milliseconds.
    pub max_update_ms: Fixed<5>,
    /// Training samples per second of updates.
    pub samples_per_s: Fixed<1>,
    /// Updates per second.
    pub updates_per_s: Fixed<2>,
    /// Seconds of updates until the target (empty: never).
    pub time_to_target_s: Option<Fixed<4>>,
    /// Epochs until then.
    pub epochs_to_target: Option<Fixed<4>>,
    /// Training-subset accuracy of the final weights.
    pub final_train_acc: Fixed<4>,
    /// Test accuracy of the final weights.
    pub final_test_acc: Fixed<4>,
    /// Best training-subset accuracy measured.
    pub best_train_acc: Fixed<4>,
    /// Best test accuracy measured.
    pub best_test_acc: Fixed<4>,
    /// final_train_acc − final_test_acc.
    pub gap: Fixed<4>,
    /// Wall-clock seconds of the whole run.
    pub wall_s: Fixed<3>,
    /// Peak resident memory, MB.
    pub peak_rss_mb: Fixed<1>,
    /// Of which above the memory in use before the run, MB.
    pub run_extra_mb: Fixed<1>,
    /// Whether the run diverged.
    pub diverged: bool,
}

impl From<&BatchOutcome> for BatchRow {
    fn from(o: &BatchOutcome) -> Self {
        let a = &o.accuracy;
        BatchRow {
            batch_size: o.batch_size,
            seed: o.seed,
            learning_rate: Plain(o.learning_rate),
            updates: o.updates,
            samples_seen: o.samples_seen,
            train_s: Fixed(o.train_s),
            eval_s: Fixed(o.eval_s),
            median_update_ms: Fixed(o.median_update_ms),
            max_update_ms: Fixed(o.max_update_ms),
            samples_per_s: Fixed(o.samples_per_s),
            updates_per_s: Fixed(o.updates_per_s),
            time_to_target_s: o.time_to_target_s.map(Fixed),
            epochs_to_target: o.epochs_to_target.map(Fixed),
            final_train_acc: Fixed(a.final_train_acc),
            final_test_acc: Fixed(a.final_test_acc),
            best_train_acc: Fixed(a.best_train_acc),
            best_test_acc: Fixed(a.best_test_acc),
            gap: Fixed(a.gap),
            wall_s: Fixed(o.wall_s),
            peak_rss_mb: Fixed(o.peak_rss_mb),
            run_extra_mb: Fixed(o.run_extra_mb),
            diverged: a.diverged.is_some(),
        }
    }
}
