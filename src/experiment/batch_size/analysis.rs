//! Summaries of the batch-size study's runs: per size, means over the seeds and their spreads.

use super::{BatchOutcome, BatchSizePlan};
use crate::experiment::{spread, CurvePoint};
use serde::Serialize;

/// One batch size's runs, summarised across seeds: means, and (min, max) spreads.
#[derive(Clone, Debug, Serialize)]
pub struct SizeSummary {
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// Finished (not diverged) runs.
    pub runs: usize,
    /// Runs that diverged.
    pub diverged: usize,
    /// Mean updates per run.
    pub updates: f64,
    /// Mean median milliseconds per update.
    pub median_update_ms: f64,
    /// Mean samples/s, and its spread.
    pub samples_per_s: (f64, f64, f64),
    /// Mean updates/s.
    pub updates_per_s: f64,
    /// Mean seconds and epochs to the target, when every run reached it.
    pub to_target: Option<(f64, f64)>,
    /// Mean final test accuracy, and its spread.
    pub final_test_acc: (f64, f64, f64),
    /// Mean final training-subset accuracy.
    pub final_train_acc: f64,
    /// Mean best test accuracy.
    pub best_test_acc: f64,
    /// Mean gap, and its spread.
    pub gap: (f64, f64, f64),
    /// Mean seconds of updates per run.
    pub train_s: f64,
    /// Mean seconds of evaluation per run.
    pub eval_s: f64,
    /// Largest peak resident memory, MB.
    pub peak_rss_mb: f64,
}

/// Per-size summaries in the plan's order of sizes (sizes with no outcome yet are left out).
pub fn summarise(plan: &BatchSizePlan, outcomes: &[BatchOutcome]) -> Vec<SizeSummary> {
    plan.sizes
        .iter()
        .filter_map(|&b| {
            let all: Vec<&BatchOutcome> = outcomes.iter().filter(|o| o.batch_size == b).collect();
            let ok: Vec<&BatchOutcome> = all
                .iter()
                .copied()
                .filter(|o| o.accuracy.diverged.is_none())
                .collect();
            if all.is_empty() {
                return None;
            }
            let mean = |f: fn(&BatchOutcome) -> f64| spread(ok.iter().map(|o| f(o))).0;
            let to_target = ok
                .iter()
                .map(|o| o.time_to_target_s.zip(o.epochs_to_target))
                .collect::<Option<Vec<_>>>()
                .filter(|v| !v.is_empty())
                .map(|v| {
                    (
                        spread(v.iter().map(|p| p.0)).0,
                        spread(v.iter().map(|p| p.1)).0,
                    )
                });
            Some(SizeSummary {
                batch_size: b,
                runs: ok.len(),
                diverged: all.len() - ok.len(),
                updates: mean(|o| o.updates as f64),
                median_update_ms: mean(|o| o.median_update_ms),
                samples_per_s: spread(ok.iter().map(|o| o.samples_per_s)),
                updates_per_s: mean(|o| o.updates_per_s),
                to_target,
                final_test_acc: spread(ok.iter().map(|o| o.accuracy.final_test_acc)),
                final_train_acc: mean(|o| o.accuracy.final_train_acc),
                best_test_acc: mean(|o| o.accuracy.best_test_acc),
                gap: spread(ok.iter().map(|o| o.accuracy.gap)),
                train_s: mean(|o| o.train_s),
                eval_s: mean(|o| o.eval_s),
                peak_rss_mb: all.iter().map(|o| o.peak_rss_mb).fold(0.0, f64::max),
            })
        })
        .collect()
}

/// The mean curve of a size's runs, point by point (runs of one size share their points).
pub fn mean_curve(outcomes: &[BatchOutcome], batch_size: usize) -> Vec<CurvePoint> {
    let runs: Vec<&BatchOutcome> = outcomes
        .iter()
        .filter(|o| o.batch_size == batch_size && o.accuracy.diverged.is_none())
        .collect();
    let len = runs
        .iter()
        .map(|o| o.accuracy.curve.len())
        .min()
        .unwrap_or(0);
    (0..len)
        .map(|i| {
            let n = runs.len() as f64;
            let avg = |f: fn(&CurvePoint) -> f64| {
                runs.iter().map(|o| f(&o.accuracy.curve[i])).sum::<f64>() / n
            };
            CurvePoint {
                samples_seen: runs[0].accuracy.curve[i].samples_seen,
                epochs: avg(|p| p.epochs),
                train_s: avg(|p| p.train_s),
                train_acc: avg(|p| p.train_acc),
                test_acc: avg(|p| p.test_acc),
            }
        })
        .collect()
}
