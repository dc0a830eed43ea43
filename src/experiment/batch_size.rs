//! Study 1 — how does the mini-batch size change training speed and accuracy?
//!
//! One training run of the users' network per batch size (and seed), under one budget (the same
//! updates, the same samples, or the same seconds), each measured for speed (time per update,
//! samples/s), for how soon it reaches a target test accuracy, for its final accuracies and
//! their gap, and for memory. Accuracy is measured at the same points in *samples seen* for
//! every size, on the whole test set and a fixed training subset; evaluation time is kept out
//! of the training time.

use super::memory;
use super::runner::{save_json, Executed, Start, Study};
pub use super::CurvePoint;
use super::{save_charts, spread, Budget, RunAccuracy};
use crate::choice::{display_and_parse, Choice};
use crate::data::Dataset;
use crate::plot::lines::{Corner, LineChart, Series};
use crate::progress::Progress;
use crate::report::{label, Report};
use crate::run::{self, Outcome, RunDir, TrainSettings};
use crate::train::EvalSchedule;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The batch size the learning rate is given for, when it is scaled (the book's 100).
pub const REFERENCE_BATCH: usize = 100;

/// How the learning rate follows the batch size: `lr · (B / 100)^p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrScaling {
    /// The same learning rate for every size (p = 0).
    None,
    /// Proportional to the batch size (p = 1).
    Linear,
    /// Proportional to its square root (p = ½).
    Sqrt,
}

impl Choice for LrScaling {
    const ALL: &'static [Self] = &[LrScaling::None, LrScaling::Linear, LrScaling::Sqrt];

    fn name(self) -> &'static str {
        match self {
            LrScaling::None => "none",
            LrScaling::Linear => "linear",
            LrScaling::Sqrt => "sqrt",
        }
    }

    fn help(self) -> &'static str {
        match self {
            LrScaling::None => "The same learning rate for every size (p = 0)",
            LrScaling::Linear => "Proportional to the batch size (p = 1)",
            LrScaling::Sqrt => "Proportional to its square root (p = ½)",
        }
    }
}

display_and_parse!(LrScaling);

impl LrScaling {
    /// The learning rate for `batch_size` given `lr` at the reference batch.
    pub fn apply(self, lr: f64, batch_size: usize) -> f64 {
        let ratio = batch_size as f64 / REFERENCE_BATCH as f64;
        match self {
            LrScaling::None => lr,
            LrScaling::Linear => lr * ratio,
            LrScaling::Sqrt => lr * ratio.sqrt(),
        }
    }
}

/// The study's settings: saved as `plan.json`, shown in the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchSizePlan {
    /// The batch sizes compared.
    pub sizes: Vec<usize>,
    /// How much training each run gets.
    pub budget: Budget,
    /// How the learning rate follows the batch size.
    pub lr_scaling: LrScaling,
    /// Seeds per size: 0, 1, … seeds−1.
    pub seeds: u64,
    /// The test accuracy whose first crossing is timed.
    pub target: f64,
    /// Training rows (the first ones) the training accuracy is measured on.
    pub train_eval_rows: usize,
    /// Measurement points per factor of ten of samples seen.
    pub points_per_decade: u32,
    /// Everything else: the users' run unless flagged (network, learning rate at batch 100, …).
    pub base: TrainSettings,
}

impl BatchSizePlan {
    /// The default study: sizes 1 to 60000, five epochs each, the users' settings otherwise.
    pub fn new(base: TrainSettings) -> Self {
        BatchSizePlan {
            sizes: vec![1, 10, 100, 1000, 6000, 60000],
            budget: Budget::Epochs(5.0),
            lr_scaling: LrScaling::None,
            seeds: 1,
            target: 0.90,
            train_eval_rows: 10_000,
            points_per_decade: 10,
            base,
        }
    }

    /// Checks the settings before any run starts.
    pub fn validate(&self) -> Result<()> {
        let repeated = (1..self.sizes.len()).any(|i| self.sizes[..i].contains(&self.sizes[i]));
        if self.sizes.is_empty() || self.sizes.contains(&0) || repeated {
            return Err(Error::invalid(
                "batch sizes",
                format!("{:?}", self.sizes),
                "a list of different sizes ≥ 1, e.g. 1,10,100 (--seeds repeats a size)",
            ));
        }
        if self.seeds == 0 {
            return Err(Error::invalid("seeds", 0, "at least 1"));
        }
        if !(self.target > 0.0 && self.target <= 1.0) {
            return Err(Error::invalid(
                "target accuracy",
                self.target,
                "a number in (0, 1], e.g. 0.9",
            ));
        }
        for &size in &self.sizes {
            let mut settings = self.base.clone();
            settings.batch_size = size;
            settings.learning_rate = self.lr_scaling.apply(self.base.learning_rate, size);
            settings.validate()?;
        }
        Ok(())
    }
}

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
        TrainSettings {
            batch_size: run.batch_size,
            learning_rate: self
                .plan
                .lr_scaling
                .apply(self.plan.base.learning_rate, run.batch_size),
            seed: run.seed,
            iters_num,
            time_limit_s,
            eval: EvalSchedule::Samples {
                per_decade: self.plan.points_per_decade,
                train_rows: self.plan.train_eval_rows,
            },
            ..self.plan.base.clone()
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
        let accuracy = RunAccuracy::measure(h, settings.batch_size, train_size);
        let updates = h.train_loss_list.len();
        let samples_seen = updates * settings.batch_size;
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
        let mut files = Vec::new();
        let csv = dir.join("study.csv");
        crate::files::write_atomic(&csv, study_csv(outcomes).as_bytes())?;
        files.push(csv);
        let json = dir.join("study.json");
        save_json(
            &json,
            &serde_json::json!({ "plan": self.plan, "runs": outcomes, "sizes": summaries }),
        )?;
        files.push(json);
        let charts: Vec<(String, LineChart, String)> = charts(&self.plan, outcomes, &summaries)
            .into_iter()
            .map(|(stem, chart, caption)| (stem.to_string(), chart, caption.to_string()))
            .collect();
        let svgs = save_charts(&charts, dir, &mut files)?;
        let report = dir.join("report.html");
        self.report(&summaries, &svgs)?.save(&report)?;
        files.push(report);
        Ok(files)
    }
}

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

/// `study.csv`: one row per run, every scalar metric.
fn study_csv(outcomes: &[BatchOutcome]) -> String {
    let mut s = String::from(
        "batch_size,seed,learning_rate,updates,samples_seen,train_s,eval_s,median_update_ms,max_update_ms,samples_per_s,updates_per_s,\
time_to_target_s,epochs_to_target,final_train_acc,final_test_acc,best_train_acc,best_test_acc,gap,wall_s,peak_rss_mb,run_extra_mb,diverged\n",
    );
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
    for o in outcomes {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{:.4},{:.4},{:.5},{:.5},{:.1},{:.2},{},{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.3},{:.1},{:.1},{}",
            o.batch_size,
            o.seed,
            o.learning_rate,
            o.updates,
            o.samples_seen,
            o.train_s,
            o.eval_s,
            o.median_update_ms,
            o.max_update_ms,
            o.samples_per_s,
            o.updates_per_s,
            opt(o.time_to_target_s),
            opt(o.epochs_to_target),
            o.accuracy.final_train_acc,
            o.accuracy.final_test_acc,
            o.accuracy.best_train_acc,
            o.accuracy.best_test_acc,
            o.accuracy.gap,
            o.wall_s,
            o.peak_rss_mb,
            o.run_extra_mb,
            o.accuracy.diverged.is_some()
        );
    }
    s
}

/// The mean curve of a size's runs, point by point (runs of one size share their points).
fn mean_curve(outcomes: &[BatchOutcome], batch_size: usize) -> Vec<CurvePoint> {
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

/// The study's charts: (file stem, chart, caption).
fn charts(
    plan: &BatchSizePlan,
    outcomes: &[BatchOutcome],
    sizes: &[SizeSummary],
) -> Vec<(&'static str, LineChart, &'static str)> {
    let curves = |x: fn(&CurvePoint) -> f64| -> Vec<Series> {
        sizes
            .iter()
            .filter(|s| s.runs > 0)
            .map(|s| Series {
                name: format!("batch {}", s.batch_size),
                points: mean_curve(outcomes, s.batch_size)
                    .iter()
                    .map(|p| (x(p), p.test_acc))
                    .filter(|p| p.0 > 0.0)
                    .collect(),
                ..Series::default()
            })
            .collect()
    };
    // (batch size, mean) points and their (min, max) spreads.
    type Points = Vec<(f64, f64)>;
    let per_size = |f: fn(&SizeSummary) -> (f64, f64, f64)| -> (Points, Points) {
        sizes
            .iter()
            .filter(|s| s.runs > 0)
            .map(|s| {
                let (mean, lo, hi) = f(s);
                ((s.batch_size as f64, mean), (lo, hi))
            })
            .unzip()
    };
    let (throughput, throughput_spread) = per_size(|s| s.samples_per_s);
    let (test_acc, test_spread) = per_size(|s| s.final_test_acc);
    let (gap, gap_spread) = per_size(|s| s.gap);
    let train_acc: Vec<(f64, f64)> = sizes
        .iter()
        .filter(|s| s.runs > 0)
        .map(|s| (s.batch_size as f64, s.final_train_acc))
        .collect();
    let seeds = if plan.seeds > 1 {
        format!(" (mean of {} seeds; bars: min–max)", plan.seeds)
    } else {
        String::new()
    };
    vec![
        (
            "accuracy_vs_time",
            LineChart {
                title: "Test accuracy against seconds of training".into(),
                x_label: "seconds of updates (log scale; evaluation excluded)".into(),
                y_label: "test accuracy".into(),
                log_x: true,
                y_range: Some(0.0..1.0),
                series: curves(|p| p.train_s),
                legend: Corner::UpperLeft,
            },
            "Test accuracy against wall-clock seconds of updates, one curve per batch size.",
        ),
        (
            "accuracy_vs_epochs",
            LineChart {
                title: "Test accuracy against epochs".into(),
                x_label: "epochs = samples seen / training set size (log scale)".into(),
                y_label: "test accuracy".into(),
                log_x: true,
                y_range: Some(0.0..1.0),
                series: curves(|p| p.epochs),
                legend: Corner::UpperLeft,
            },
            "Test accuracy against samples seen (in epochs), one curve per batch size.",
        ),
        (
            "throughput",
            LineChart {
                title: format!("Training throughput{seeds}"),
                x_label: "batch size (log scale)".into(),
                y_label: "samples per second".into(),
                log_x: true,
                y_range: None,
                series: vec![Series { name: "samples/s".into(), points: throughput, spread: Some(throughput_spread), ..Series::default() }],
                legend: Corner::LowerRight,
            },
            "Training samples processed per second of updates, against the batch size.",
        ),
        (
            "final_accuracy",
            LineChart {
                title: format!("Final accuracy{seeds}"),
                x_label: "batch size (log scale)".into(),
                y_label: "accuracy".into(),
                log_x: true,
                y_range: None,
                series: vec![
                    Series { name: "test".into(), points: test_acc, spread: Some(test_spread), ..Series::default() },
                    Series { name: "train (subset)".into(), points: train_acc, dashed: true, ..Series::default() },
                ],
                legend: Corner::UpperRight,
            },
            "Final test accuracy (solid) and training-subset accuracy (dashed) against the batch size.",
        ),
        (
            "gap",
            LineChart {
                title: format!("Train − test gap{seeds}"),
                x_label: "batch size (log scale)".into(),
                y_label: "train acc − test acc".into(),
                log_x: true,
                y_range: None,
                series: vec![Series { name: "gap".into(), points: gap, spread: Some(gap_spread), ..Series::default() }],
                legend: Corner::UpperRight,
            },
            "The gap between final training-subset and test accuracy: positive means overfitting.",
        ),
    ]
}

impl BatchSizeStudy {
    /// The HTML report: question, settings, findings, table, charts.
    fn report(&self, sizes: &[SizeSummary], svgs: &[(PathBuf, String)]) -> Result<Report> {
        let p = &self.plan;
        let mut r = Report::new("Study: mini-batch size versus speed and accuracy");
        r.paragraph(
            "The question: how does the mini-batch size change training speed and accuracy, and which size is right? \
             One training run per batch size (and seed), everything else equal; each measured for speed, for how soon \
             it reaches the target test accuracy, for its final accuracies and for memory.",
        );
        r.heading("What the measurements say");
        for sentence in findings(p, sizes) {
            r.paragraph(&sentence);
        }
        r.heading("Settings");
        let b = &p.base;
        let rows = vec![
            vec!["batch sizes".to_string(), format!("{:?}", p.sizes)],
            vec!["budget per run".into(), p.budget.to_string()],
            vec!["network".into(), format!("{}, optimizer {}", b.network.describe(784, 10), label(&b.optimizer))],
            vec!["learning rate".into(), format!("{} at batch {REFERENCE_BATCH}, scaling {}", b.learning_rate, label(&p.lr_scaling))],
            vec!["sampling".into(), label(&b.sampling)],
            vec!["seeds per size".into(), p.seeds.to_string()],
            vec!["target test accuracy".into(), p.target.to_string()],
            vec!["dataset".into(), b.dataset.clone()],
            vec![
                "measurements".into(),
                format!(
                    "after the first update, then {} times per tenfold of samples seen; test accuracy on the whole test set, \
                     training accuracy on the first {} training images; evaluation time is not counted as training time",
                    p.points_per_decade, p.train_eval_rows
                ),
            ],
            vec!["timing".into(), "runs are done one at a time, so that they do not distort each other's timings".into()],
        ];
        r.settings(&rows);
        r.heading("Per batch size");
        let table: Vec<Vec<String>> = sizes
            .iter()
            .map(|s| {
                let to_target = s.to_target.map_or("never".to_string(), |(t, e)| {
                    format!("{t:.2} s / {e:.3} ep")
                });
                // With several seeds: the mean, then the range across seeds.
                let ranged = |(mean, lo, hi): (f64, f64, f64), f: fn(f64) -> String| match s.runs {
                    0 | 1 => f(mean),
                    _ => format!("{} ({} to {})", f(mean), f(lo), f(hi)),
                };
                vec![
                    s.batch_size.to_string(),
                    format!("{:.0}", s.updates),
                    format!("{:.4}", s.median_update_ms),
                    ranged(s.samples_per_s, |v| format!("{v:.0}")),
                    format!("{:.0}", s.updates_per_s),
                    to_target,
                    format!("{:.4}", s.final_train_acc),
                    ranged(s.final_test_acc, |v| format!("{v:.4}")),
                    format!("{:.4}", s.best_test_acc),
                    ranged(s.gap, |v| format!("{v:+.4}")),
                    format!("{:.2}", s.train_s),
                    format!("{:.2}", s.eval_s),
                    format!("{:.0}", s.peak_rss_mb),
                    if s.diverged > 0 {
                        format!("{} diverged", s.diverged)
                    } else {
                        String::new()
                    },
                ]
            })
            .collect();
        r.table(
            &[
                "batch",
                "updates",
                "ms/update (median)",
                "samples/s",
                "updates/s",
                "to target",
                "final train acc",
                "final test acc",
                "best test acc",
                "gap",
                "train s",
                "eval s",
                "peak MB",
                "",
            ],
            &table,
        );
        r.paragraph(
            "Figures are means over the seeds, with their range in brackets when there are several. Train s and eval s are \
             seconds of updates and of accuracy measurement per run. Peak MB is the whole process's resident memory during \
             the run, the dataset (about 220 MB) included.",
        );
        r.charts(svgs)?;
        Ok(r)
    }
}

/// The answer to the study's question in sentences, each carrying the numbers behind it.
pub fn findings(plan: &BatchSizePlan, sizes: &[SizeSummary]) -> Vec<String> {
    // Smallest batch first, whatever order --sizes gave: "first", "largest" and "past it" below
    // rely on it.
    let mut ok: Vec<&SizeSummary> = sizes.iter().filter(|s| s.runs > 0).collect();
    ok.sort_by_key(|s| s.batch_size);
    let mut out = Vec::new();
    if ok.is_empty() {
        out.push("No run has finished yet.".into());
        return out;
    }
    // 1. Who reached the target first.
    let mut reached: Vec<(&SizeSummary, f64, f64)> = ok
        .iter()
        .filter_map(|s| s.to_target.map(|(t, e)| (*s, t, e)))
        .collect();
    reached.sort_by(|a, b| a.1.total_cmp(&b.1));
    let never: Vec<String> = ok
        .iter()
        .filter(|s| s.to_target.is_none())
        .map(|s| s.batch_size.to_string())
        .collect();
    match reached.first() {
        Some((first, t, e)) => {
            let others: Vec<String> = reached[1..]
                .iter()
                .map(|(s, t, e)| format!("batch {} after {t:.2} s ({e:.3} epochs)", s.batch_size))
                .collect();
            let mut s = format!(
                "Batch {} reached {:.2} test accuracy first: after {t:.2} s of updates ({e:.3} epochs).",
                first.batch_size, plan.target
            );
            if !others.is_empty() {
                let _ = write!(s, " Then {}.", others.join(", "));
            }
            if !never.is_empty() {
                let _ = write!(
                    s,
                    " Batch {} never reached it within the budget ({}).",
                    never.join(", "),
                    plan.budget
                );
            }
            out.push(s);
        }
        None => out.push(format!(
            "No batch size reached {:.2} test accuracy within the budget ({}).",
            plan.target, plan.budget
        )),
    }
    // 2. Where throughput stops growing.
    let fastest = ok
        .iter()
        .max_by(|a, b| a.samples_per_s.0.total_cmp(&b.samples_per_s.0))
        .expect("not empty");
    let plateau = ok
        .iter()
        .find(|s| s.samples_per_s.0 >= 0.9 * fastest.samples_per_s.0)
        .expect("the fastest qualifies");
    let (first, last) = (ok[0], *ok.last().expect("not empty"));
    let mut s = if fastest.batch_size == first.batch_size {
        format!(
            "Throughput is highest at the smallest batch tried, {} ({:.0} samples/s), and {:.0} samples/s at batch {}.",
            first.batch_size, first.samples_per_s.0, last.samples_per_s.0, last.batch_size
        )
    } else {
        format!(
            "Throughput grows from {:.0} samples/s at batch {} to a peak of {:.0} samples/s at batch {}.",
            first.samples_per_s.0, first.batch_size, fastest.samples_per_s.0, fastest.batch_size
        )
    };
    if plateau.batch_size == last.batch_size {
        s.push_str(" It was still growing at the largest size tried.");
    } else if plateau.batch_size != first.batch_size {
        let _ = write!(
            s,
            " It stops growing at batch {} ({:.0} samples/s, within 10% of the peak): larger batches buy little \
             more speed per sample{}.",
            plateau.batch_size,
            plateau.samples_per_s.0,
            if fastest.batch_size != last.batch_size { ", and the largest are slower again" } else { "" }
        );
    }
    out.push(s);
    // 3. Where accuracy stops improving.
    let best = ok
        .iter()
        .max_by(|a, b| a.final_test_acc.0.total_cmp(&b.final_test_acc.0))
        .expect("not empty");
    let worst = ok
        .iter()
        .min_by(|a, b| a.final_test_acc.0.total_cmp(&b.final_test_acc.0))
        .expect("not empty");
    let near: Vec<String> = ok
        .iter()
        .filter(|s| {
            s.batch_size != best.batch_size && s.final_test_acc.0 >= best.final_test_acc.0 - 0.005
        })
        .map(|s| format!("batch {} ({:.4})", s.batch_size, s.final_test_acc.0))
        .collect();
    let mut s = format!(
        "Final test accuracy is highest at batch {} ({:.4}).",
        best.batch_size, best.final_test_acc.0
    );
    if !near.is_empty() {
        let _ = write!(s, " Within 0.005 of it: {}.", near.join(", "));
    }
    if worst.batch_size != best.batch_size {
        let _ = write!(
            s,
            " The lowest is batch {} ({:.4}).",
            worst.batch_size, worst.final_test_acc.0
        );
    }
    // The smallest batch within 0.005 of the best: past it, a larger batch adds little.
    let enough = ok
        .iter()
        .find(|x| x.final_test_acc.0 >= best.final_test_acc.0 - 0.005)
        .expect("the best qualifies");
    if enough.batch_size == last.batch_size {
        let _ = write!(
            s,
            " Accuracy was still improving at the largest size tried (batch {}).",
            last.batch_size
        );
    } else {
        let (at, acc) = (enough.batch_size, enough.final_test_acc.0);
        let _ = if at == first.batch_size {
            write!(s, " No larger batch improves on batch {at} ({acc:.4}):")
        } else {
            write!(
                s,
                " Accuracy stops improving at batch {at} ({acc:.4}, within 0.005 of the best):"
            )
        };
        let _ = write!(
            s,
            " batch {} ends at {:.4} ({:+.4}), with updates of {:.4} ms against {:.4} ms.",
            last.batch_size,
            last.final_test_acc.0,
            last.final_test_acc.0 - acc,
            last.median_update_ms,
            enough.median_update_ms
        );
    }
    out.push(s);
    // 4. The extremes.
    if let Some(one) = ok.iter().find(|s| s.batch_size == 1) {
        out.push(format!(
            "At batch 1 each update takes {:.4} ms (median), {:.0} updates/s, but only {:.0} samples/s; after {:.0} updates \
             the test accuracy is {:.4}.",
            one.median_update_ms, one.updates_per_s, one.samples_per_s.0, one.updates, one.final_test_acc.0
        ));
    }
    if last.batch_size > 1 && last.batch_size != best.batch_size {
        out.push(format!(
            "At the largest batch ({}) each update takes {:.1} ms; the budget allows {:.0} updates, and the test accuracy ends \
             at {:.4}.",
            last.batch_size, last.median_update_ms, last.updates, last.final_test_acc.0
        ));
    }
    // 5. The gap.
    let widest = ok
        .iter()
        .max_by(|a, b| a.gap.0.abs().total_cmp(&b.gap.0.abs()))
        .expect("not empty");
    out.push(format!(
        "The widest train − test gap (training accuracy on {} training images) is {:+.4}, at batch {}: {}.",
        plan.train_eval_rows,
        widest.gap.0,
        widest.batch_size,
        if widest.gap.0.abs() < 0.02 { "no batch size overfits at this network size and budget" } else { "the network starts to overfit there" }
    ));
    let diverged: Vec<String> = sizes
        .iter()
        .filter(|s| s.diverged > 0)
        .map(|s| format!("batch {} ({} runs)", s.batch_size, s.diverged))
        .collect();
    if !diverged.is_empty() {
        out.push(format!(
            "Diverged (loss NaN, infinite, or far worse than guessing): {}; their learning rate was too large.",
            diverged.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(
        batch_size: usize,
        sps: f64,
        acc: f64,
        to_target: Option<(f64, f64)>,
    ) -> SizeSummary {
        SizeSummary {
            batch_size,
            runs: 1,
            diverged: 0,
            updates: 60_000.0 / batch_size as f64,
            median_update_ms: batch_size as f64 / sps * 1e3,
            samples_per_s: (sps, sps, sps),
            updates_per_s: sps / batch_size as f64,
            to_target,
            final_test_acc: (acc, acc, acc),
            final_train_acc: acc + 0.001,
            best_test_acc: acc,
            gap: (0.001, 0.001, 0.001),
            train_s: 1.0,
            eval_s: 0.5,
            peak_rss_mb: 300.0,
        }
    }

    #[test]
    fn findings_name_the_sizes_and_numbers_that_support_them() {
        let plan = BatchSizePlan::new(TrainSettings::default());
        let sizes = vec![
            summary(1, 50_000.0, 0.93, Some((0.5, 0.4))),
            summary(100, 400_000.0, 0.95, Some((0.2, 0.8))),
            summary(1000, 420_000.0, 0.90, None),
        ];
        let text = findings(&plan, &sizes).join("\n");
        assert!(text.contains("Batch 100 reached 0.90 test accuracy first: after 0.20 s of updates (0.800 epochs)"), "{text}");
        assert!(text.contains("Batch 1000 never reached it"), "{text}");
        assert!(
            text.contains(
                "peak of 420000 samples/s at batch 1000. It stops growing at batch 100 (400000 samples/s"
            ),
            "{text}"
        );
        assert!(text.contains("highest at batch 100 (0.9500)"), "{text}");
        assert!(
            text.contains(
                "Accuracy stops improving at batch 100 (0.9500, within 0.005 of the best): batch 1000 ends at 0.9000 (-0.0500)"
            ),
            "{text}"
        );
        assert!(
            text.contains("At batch 1 each update takes 0.0200 ms"),
            "{text}"
        );
    }

    #[test]
    fn findings_cover_a_fastest_smallest_batch_and_a_best_largest_one() {
        let plan = BatchSizePlan::new(TrainSettings::default());
        let mut sizes = vec![
            summary(10, 500_000.0, 0.90, None),
            summary(100, 300_000.0, 0.94, None),
        ];
        sizes[1].gap = (-0.0084, -0.0084, -0.0084);
        let text = findings(&plan, &sizes).join("\n");
        assert!(
            text.contains("Throughput is highest at the smallest batch tried, 10 (500000 samples/s), and 300000 samples/s at batch 100."),
            "{text}"
        );
        assert!(!text.contains("stops growing"), "{text}");
        assert!(
            text.contains("Accuracy was still improving at the largest size tried (batch 100)."),
            "{text}"
        );
        assert!(
            text.contains("The widest train − test gap (training accuracy on 10000 training images) is -0.0084, at batch 100"),
            "{text}"
        );
        // The users' own comparison: past batch 100 accuracy barely moves.
        let sizes = vec![
            summary(10, 200_000.0, 0.9404, None),
            summary(100, 600_000.0, 0.9460, None),
            summary(6000, 500_000.0, 0.9467, None),
        ];
        let text = findings(&plan, &sizes).join("\n");
        assert!(
            text.contains("Accuracy stops improving at batch 100 (0.9460, within 0.005 of the best): batch 6000 ends at 0.9467 (+0.0007), with updates of 12.0000 ms against 0.1667 ms."),
            "{text}"
        );
        // The same sizes given largest first say the same.
        let reversed: Vec<SizeSummary> = sizes.into_iter().rev().collect();
        assert_eq!(findings(&plan, &reversed).join("\n"), text);
    }

    #[test]
    fn learning_rates_scale_from_batch_100() {
        assert_eq!(LrScaling::None.apply(0.1, 1000), 0.1);
        assert!((LrScaling::Linear.apply(0.1, 1000) - 1.0).abs() < 1e-12);
        assert!((LrScaling::Sqrt.apply(0.1, 10_000) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn impossible_plans_are_refused() {
        let mut plan = BatchSizePlan::new(TrainSettings::default());
        plan.sizes = vec![10, 0];
        assert!(BatchSizeStudy::new(plan.clone())
            .err()
            .unwrap()
            .to_string()
            .contains("batch sizes"));
        plan.sizes = vec![10];
        plan.seeds = 0;
        assert!(BatchSizeStudy::new(plan).is_err());
    }
}
