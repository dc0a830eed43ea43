//! Study 1 — how does the mini-batch size change training speed and accuracy?
//!
//! One training run of the users' network per batch size (and seed), under one budget (the same
//! updates, the same samples, or the same seconds), each measured for speed (time per update,
//! samples/s), for how soon it reaches a target test accuracy, for its final accuracies and
//! their gap, and for memory. Accuracy is measured at the same points in *samples seen* for
//! every size, on the whole test set and a fixed training subset; evaluation time is kept out
//! of the training time.

mod analysis;
mod charts;
mod findings;
mod plan;
mod report;
mod row;
#[cfg(test)]
mod tests;

pub use super::CurvePoint;
pub use analysis::{summarise, SizeSummary};
pub use findings::{findings, Finding, Reach, SizeAcc, SizeRate};
pub use plan::{BatchSizePlan, LrScaling, REFERENCE_BATCH};
pub use row::BatchRow;

use super::memory;
use super::output::write_study;
use super::runner::{Executed, Start, Study};
use super::RunAccuracy;
use crate::data::Dataset;
use crate::progress::Progress;
use crate::run::{self, Outcome, RunDir, TrainSettings};
use crate::Result;
use scratchnet_core::train::{EvalSchedule, TrainConfig};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One run of the study.
#[derive(Clone, Debug, Serialize)]
pub struct BatchRun {
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// The run's seed.
    pub seed: u64,
}

/// What one run measured: one row of `study.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchOutcome {
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// The run's seed.
    pub seed: u64,
    /// The learning rate used (after scaling).
    pub learning_rate: f64,
    /// Updates made.
    pub updates: usize,
    /// Training samples seen.
    pub samples_seen: usize,
    /// Seconds of updates (evaluation excluded).
    pub train_s: f64,
    /// Seconds of evaluation.
    pub eval_s: f64,
    /// Median milliseconds per update.
    pub median_update_ms: f64,
    /// The longest update, milliseconds.
    pub max_update_ms: f64,
    /// Training samples per second of updates.
    pub samples_per_s: f64,
    /// Updates per second.
    pub updates_per_s: f64,
    /// Seconds of updates until the test accuracy first reached the target (None: never).
    pub time_to_target_s: Option<f64>,
    /// Epochs until then.
    pub epochs_to_target: Option<f64>,
    /// Wall-clock seconds of the whole run: updates, evaluation and writing its folder.
    #[serde(default)]
    pub wall_s: f64,
    /// The process's peak resident memory during the run, MB (dataset included).
    pub peak_rss_mb: f64,
    /// Of which above the memory in use before the run, MB.
    pub run_extra_mb: f64,
    /// Accuracies, the gap and the curve (or why the run diverged).
    #[serde(flatten)]
    pub accuracy: RunAccuracy,
}

/// The batch-size study.
pub struct BatchSizeStudy {
    plan: BatchSizePlan,
}

impl BatchSizeStudy {
    /// A study of `plan` (validated).
    pub fn new(plan: BatchSizePlan) -> Result<Self> {
        plan.validate()?;
        Ok(BatchSizeStudy { plan })
    }

    /// The settings of one run.
    fn settings(&self, run: &BatchRun, train_size: usize) -> TrainSettings {
        let (iters_num, time_limit_s) = self.plan.budget.for_run(run.batch_size, train_size);
        let base = &self.plan.base;
        TrainSettings {
            learning_rate: self
                .plan
                .lr_scaling
                .apply(base.learning_rate, run.batch_size),
            train: TrainConfig {
                batch_size: run.batch_size,
                seed: run.seed,
                iters_num,
                time_limit_s,
                eval: EvalSchedule::Samples {
                    per_decade: self.plan.points_per_decade,
                    train_rows: self.plan.train_eval_rows,
                },
                ..base.train.clone()
            },
            ..base.clone()
        }
    }
}

const MB: f64 = 1024.0 * 1024.0;

impl Study for BatchSizeStudy {
    const KIND: &'static str = "batch-size";
    type Data = Dataset;
    type Run = BatchRun;
    type Outcome = BatchOutcome;
    type Plan = BatchSizePlan;

    fn plan(&self) -> &BatchSizePlan {
        &self.plan
    }

    fn runs(&self) -> Vec<BatchRun> {
        let mut runs = Vec::new();
        for seed in 0..self.plan.seeds {
            for &batch_size in &self.plan.sizes {
                runs.push(BatchRun { batch_size, seed });
            }
        }
        runs
    }

    fn run_id(&self, run: &BatchRun) -> String {
        format!("batch-{}-seed-{}", run.batch_size, run.seed)
    }

    fn execute(
        &self,
        run: &BatchRun,
        dataset: &Dataset,
        dir: &RunDir,
        start: Start,
        progress: &dyn Progress,
    ) -> Result<Executed<BatchOutcome>> {
        let train_size = dataset.t_train.len();
        let settings = self.settings(run, train_size);
        memory::reset_peak();
        let before = memory::current_bytes().unwrap_or(0) as f64;
        let started = std::time::Instant::now();
        let result = run::run(dir, &settings, start, dataset, progress)?;
        let wall_s = started.elapsed().as_secs_f64();
        let peak = memory::peak_bytes().unwrap_or(0) as f64;
        let mut outcome = BatchOutcome {
            batch_size: run.batch_size,
            seed: run.seed,
            learning_rate: settings.learning_rate,
            updates: 0,
            samples_seen: 0,
            train_s: 0.0,
            eval_s: 0.0,
            median_update_ms: 0.0,
            max_update_ms: 0.0,
            samples_per_s: 0.0,
            updates_per_s: 0.0,
            time_to_target_s: None,
            epochs_to_target: None,
            wall_s,
            peak_rss_mb: peak / MB,
            run_extra_mb: (peak - before).max(0.0) / MB,
            accuracy: RunAccuracy::default(),
        };
        let run = match result {
            Outcome::Finished(run) => run,
            Outcome::Diverged(d) => {
                outcome.accuracy = RunAccuracy::diverged(&d);
                return Ok(Executed::Kept(outcome));
            }
            Outcome::Interrupted { iteration, .. } => {
                return Ok(Executed::Interrupted { iteration })
            }
        };
        let h = &run.history;
        let batch_size = settings.train.batch_size;
        let accuracy = RunAccuracy::measure(h, batch_size, train_size);
        let updates = h.train_loss_list.len();
        let samples_seen = updates * batch_size;
        let reached = accuracy
            .curve
            .iter()
            .find(|p| p.test_acc >= self.plan.target);
        outcome.updates = updates;
        outcome.samples_seen = samples_seen;
        outcome.train_s = h.train_seconds;
        outcome.eval_s = h.eval_seconds;
        outcome.median_update_ms = h.median_update_seconds() * 1e3;
        outcome.max_update_ms = h.update_seconds.iter().copied().fold(0.0, f32::max) as f64 * 1e3;
        outcome.samples_per_s = samples_seen as f64 / h.train_seconds.max(1e-12);
        outcome.updates_per_s = updates as f64 / h.train_seconds.max(1e-12);
        outcome.time_to_target_s = reached.map(|p| p.train_s);
        outcome.epochs_to_target = reached.map(|p| p.epochs);
        outcome.accuracy = accuracy;
        Ok(Executed::Kept(outcome))
    }

    fn check(&self, dataset: &Dataset) -> Result<()> {
        let train_size = dataset.t_train.len();
        self.runs().iter().try_for_each(|run| {
            let settings = self.settings(run, train_size);
            settings.validate()?;
            Ok(settings.train.validate(train_size)?)
        })
    }

    fn describe(&self, o: &BatchOutcome) -> String {
        match &o.accuracy.diverged {
            Some(why) => format!("batch {} diverged: {why}", o.batch_size),
            None => format!(
                "batch {}: test acc {:.4}, {:.0} samples/s, {} updates in {:.2} s",
                o.batch_size, o.accuracy.final_test_acc, o.samples_per_s, o.updates, o.train_s
            ),
        }
    }

    fn write_outputs(&self, outcomes: &[BatchOutcome], dir: &Path) -> Result<Vec<PathBuf>> {
        let summaries = summarise(&self.plan, outcomes);
        let rows: Vec<BatchRow> = outcomes.iter().map(BatchRow::from).collect();
        let json = serde_json::json!({ "plan": self.plan, "runs": outcomes, "sizes": summaries });
        let charts = charts::charts(&self.plan, outcomes, &summaries);
        write_study(dir, &rows, &json, &charts, |svgs| {
            self.report(&summaries, svgs)
        })
    }
}
