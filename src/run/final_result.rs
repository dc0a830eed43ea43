//! `final.json`: what a finished run's final weights score, and what the run took.

use super::settings::ConfigFile;
use scratchnet_core::train::History;
use serde::Serialize;

/// final.json: what the final weights score (the book's "Final Test Accuracy" is
/// `final_test_acc`, on the whole test set) and what the run took.
#[derive(Serialize)]
pub(super) struct FinalResult<'a> {
    iterations: usize,
    samples_seen: usize,
    /// On the first `train_rows` training images (those the schedule measures).
    final_train_acc: f64,
    train_rows: usize,
    final_test_acc: f64,
    test_rows: usize,
    train_s: f64,
    eval_s: f64,
    /// With a validation split: the measurement of the best validation accuracy.
    best: Option<&'a scratchnet_core::train::EpochRecord>,
    /// With early stopping: the updates made when its patience ran out.
    stopped_early: Option<usize>,
}

impl<'a> FinalResult<'a> {
    pub(super) fn of(config: &ConfigFile, history: &'a History) -> Self {
        let train = &config.settings.train;
        let (train_rows, _) = train.eval.rows(config.train_size, config.test_size);
        let iterations = history.train_loss_list.len();
        FinalResult {
            iterations,
            samples_seen: iterations * train.batch_size,
            final_train_acc: history.final_train_acc,
            train_rows,
            final_test_acc: history.final_test_acc,
            test_rows: config.test_size,
            train_s: history.train_seconds,
            eval_s: history.eval_seconds,
            best: history.best.as_deref(),
            stopped_early: history.stopped_early,
        }
    }
}
