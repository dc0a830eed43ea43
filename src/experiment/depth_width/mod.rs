//! Study 2 — deep versus wide: what changes between a deep network and a wide one, and which
//! suits which problem?
//!
//! A grid of MultiLayerNets — depths (hidden layers) × widths (neurons per hidden layer), or for
//! each depth the width that gives about N parameters (`equal_params`) — trained under one
//! budget and seed set on MNIST and Fashion-MNIST, each run measured for its size (parameters,
//! multiply-adds per sample), time, accuracies and gap. Beside the grid, a few diagnostic runs of
//! one deep shape (5 × 100) under other settings — the chapter-4 sigmoid with `0.01·randn`
//! weights and SGD, then Xavier, then ReLU + He — show why a deep network may not learn at all:
//! every run probes its network on a fixed batch at initialisation and after the first epoch,
//! recording per hidden layer the activations' distribution and per layer the mean |dW|.

mod analysis;
mod charts;
mod findings;
mod plan;
mod probe;
mod report;
mod row;
mod sentences;
#[cfg(test)]
mod tests;

pub use analysis::{summarise, ShapeSummary};
pub use findings::{
    findings, Activity, Comparison, DepthPays, Finding, Fix, Line, Shape, Step, Tally,
};
pub use plan::{
    macs_per_sample, param_count, width_for_params, DepthWidthPlan, DwRun, Setup,
    EQUAL_PARAMS_TOLERANCE,
};
pub use probe::{probe, Probe};
pub use row::DwRow;

use super::output::write_study;
use super::runner::{load_json, save_json, Executed, Start, Study};
use super::RunAccuracy;
use crate::data::Dataset;
use crate::data::DatasetKind;
use crate::progress::Progress;
use crate::run::{run_observed, Outcome, RunDir};
use crate::{Error, Result};
use plan::{INPUT, OUTPUT};
use scratchnet_core::net::{MultiLayerNet, Network};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A run's probes so far, in its folder: written as each is taken, so that a run interrupted
/// after a probe (whose checkpoint comes later) still has it when it continues.
const PROBES: &str = "probes.json";

/// What one run measured: one row of `study.csv` (the curve and probes go to `study.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DwOutcome {
    /// `mnist` or `fashion-mnist`.
    pub dataset: DatasetKind,
    /// Hidden layers.
    pub depth: usize,
    /// Neurons per hidden layer.
    pub width: usize,
    /// Activation, initialisation, optimizer.
    pub setup: Setup,
    /// The run's seed.
    pub seed: u64,
    /// Weights and biases.
    pub params: usize,
    /// Multiply-adds per sample, forward.
    pub macs: usize,
    /// Updates made.
    pub updates: usize,
    /// Seconds of updates (evaluation excluded).
    pub train_s: f64,
    /// Training samples per second of updates.
    pub samples_per_s: f64,
    /// Accuracies, the gap and the curve (or why the run diverged).
    #[serde(flatten)]
    pub accuracy: RunAccuracy,
    /// The probes: at initialisation, then after the first epoch (or the end, if sooner).
    pub probes: Vec<Probe>,
}

/// The depth-versus-width study.
pub struct DepthWidthStudy {
    plan: DepthWidthPlan,
}

impl DepthWidthStudy {
    /// A study of `plan` (validated).
    pub fn new(plan: DepthWidthPlan) -> Result<Self> {
        plan.validate()?;
        Ok(DepthWidthStudy { plan })
    }
}

/// The datasets a study trains on, by name.
pub type Datasets = [(DatasetKind, Dataset)];

impl Study for DepthWidthStudy {
    const KIND: &'static str = "depth-width";
    type Data = Datasets;
    type Run = DwRun;
    type Outcome = DwOutcome;
    type Plan = DepthWidthPlan;

    fn plan(&self) -> &DepthWidthPlan {
        &self.plan
    }

    fn runs(&self) -> Vec<DwRun> {
        self.plan.runs()
    }

    fn run_id(&self, run: &DwRun) -> String {
        format!(
            "{}-d{}-w{}-{}-seed{}",
            run.dataset,
            run.depth,
            run.width,
            run.setup.slug(),
            run.seed
        )
    }

    fn execute(
        &self,
        run: &DwRun,
        data: &Datasets,
        dir: &RunDir,
        start: Start,
        progress: &dyn Progress,
    ) -> Result<Executed<DwOutcome>> {
        let dataset = data
            .iter()
            .find(|(name, _)| *name == run.dataset)
            .map(|(_, d)| d)
            .ok_or_else(|| Error::invalid("dataset", run.dataset, "one that was loaded"))?;
        let train_size = dataset.t_train.len();
        let settings = self.plan.settings(run, train_size);
        let rows = self.plan.probe_rows.min(train_size);
        let x_probe = dataset.x_train.rows_dense(0..rows);
        let t_probe = &dataset.t_train[..rows];
        let iter_per_epoch = (train_size / self.plan.batch_size).max(1);
        let probe_at = iter_per_epoch.min(settings.train.iters_num);
        let probes_path = dir.path().join(PROBES);
        // A checkpoint without its probes (left by an older scratchnet) cannot give the run's
        // whole outcome: such a run starts again.
        let start = match start {
            Start::Resume if !probes_path.exists() => Start::Fresh,
            start => start,
        };
        let mut probes: Vec<Probe> = match start {
            Start::Fresh => Vec::new(),
            Start::Resume => load_json(&probes_path)?,
        };
        let mut saved = Ok(());
        let mut observer = |updates: usize, net: &MultiLayerNet<f32>| {
            let taken = probes.iter().any(|p| p.updates == updates);
            if (updates == 0 || updates == probe_at) && !taken {
                let epochs = (updates * self.plan.batch_size) as f64 / train_size as f64;
                probes.push(probe(net, x_probe.view(), t_probe, updates, epochs));
                if saved.is_ok() {
                    saved = save_json(&probes_path, &probes);
                }
            }
        };
        let result = run_observed(dir, &settings, start, dataset, progress, &mut observer);
        saved?;
        let mut outcome = DwOutcome {
            dataset: run.dataset,
            depth: run.depth,
            width: run.width,
            setup: run.setup,
            seed: run.seed,
            params: param_count(run.depth, run.width, INPUT, OUTPUT),
            macs: macs_per_sample(run.depth, run.width, INPUT, OUTPUT),
            updates: 0,
            train_s: 0.0,
            samples_per_s: 0.0,
            accuracy: RunAccuracy::default(),
            probes,
        };
        let summary = match result? {
            Outcome::Finished(summary) => summary,
            Outcome::Diverged(d) => {
                outcome.accuracy = RunAccuracy::diverged(&d);
                return Ok(Executed::Kept(outcome));
            }
            Outcome::Interrupted { iteration, .. } => {
                return Ok(Executed::Interrupted { iteration })
            }
        };
        debug_assert_eq!(summary.net.parameter_count(), outcome.params);
        let h = &summary.history;
        outcome.accuracy = RunAccuracy::measure(h, self.plan.batch_size, train_size);
        outcome.updates = h.train_loss_list.len();
        if outcome.probes.len() < 2 {
            // The run ended (its time budget) before the first epoch: probe where it stopped.
            let epochs = (outcome.updates * self.plan.batch_size) as f64 / train_size as f64;
            let last = probe(
                &summary.net,
                x_probe.view(),
                t_probe,
                outcome.updates,
                epochs,
            );
            outcome.probes.push(last);
        }
        outcome.train_s = h.train_seconds;
        outcome.samples_per_s =
            (outcome.updates * self.plan.batch_size) as f64 / h.train_seconds.max(1e-12);
        Ok(Executed::Kept(outcome))
    }

    fn check(&self, data: &Datasets) -> Result<()> {
        for run in self.runs() {
            let (_, dataset) = data
                .iter()
                .find(|(name, _)| *name == run.dataset)
                .ok_or_else(|| Error::invalid("dataset", run.dataset, "one that was loaded"))?;
            let train_size = dataset.t_train.len();
            let settings = self.plan.settings(&run, train_size);
            settings.validate()?;
            settings.train.validate(train_size)?;
        }
        Ok(())
    }

    fn describe(&self, o: &DwOutcome) -> String {
        match &o.accuracy.diverged {
            Some(why) => format!("{} {}×{} diverged: {why}", o.dataset, o.depth, o.width),
            None => format!(
                "{} {}×{} ({}): {} params, test acc {:.4}, gap {:+.4}, {:.1} s",
                o.dataset,
                o.depth,
                o.width,
                o.setup.describe(),
                o.params,
                o.accuracy.final_test_acc,
                o.accuracy.gap,
                o.train_s
            ),
        }
    }

    fn write_outputs(&self, outcomes: &[DwOutcome], dir: &Path) -> Result<Vec<PathBuf>> {
        let shapes = summarise(&self.plan, outcomes);
        let rows: Vec<DwRow> = outcomes.iter().map(DwRow::from).collect();
        let json = serde_json::json!({ "plan": self.plan, "runs": outcomes, "shapes": shapes });
        let charts = charts::charts(&self.plan, &shapes);
        write_study(dir, &rows, &json, &charts, |svgs| {
            self.report(&shapes, svgs)
        })
    }
}
