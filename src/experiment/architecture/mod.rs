//! Study 3 — which suits which problem: what does a convolution's weight sharing buy over a
//! plain MLP, at what cost, and where is the MLP the better choice?
//!
//! For each conv net of the plan (the book's SimpleConvNet and smaller ones, in the core's text
//! form), two MLPs: one with about the conv net's parameter count, one with about its forward
//! multiply-adds per sample. All three are trained under one budget, optimizer and seed set on
//! MNIST and Fashion-MNIST (a conv net and its MLPs see the same batches for each seed), each
//! run measured for its size, its training time per sample, its accuracy curve in samples and
//! seconds, and its final test error.

mod analysis;
mod charts;
mod findings;
mod nets;
mod plan;
mod report;
mod row;
mod sentences;
#[cfg(test)]
mod tests;

pub use analysis::{summarise, MeanPoint, NetSummary, Stat};
pub use findings::{findings, Case, Finding, Net, Tally, Versus};
pub use nets::{conv_size, mlp_macs, width_for_mlp_macs, width_for_mlp_params};
pub use plan::{slug, ArchRun, ArchitecturePlan, Group, Role, SIMPLE_CONVNET};
pub use row::ArchRow;

use super::output::write_study;
use super::runner::{Executed, Start, Study};
use super::RunAccuracy;
use crate::data::{Dataset, DatasetKind};
use crate::progress::Progress;
use crate::run::{self, Outcome, RunDir};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What one run measured: one row of `study.csv` (the curve goes to `study.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArchOutcome {
    /// `mnist` or `fashion-mnist`.
    pub dataset: DatasetKind,
    /// The group's conv net, in the core's text form.
    pub conv: String,
    /// The conv net itself, or which MLP matched to it.
    pub role: Role,
    /// This run's network: the conv spec, or the MLP's layer sizes (`784-546-10`).
    pub net: String,
    /// The run's seed.
    pub seed: u64,
    /// Weights and biases.
    pub params: usize,
    /// Forward multiply-adds per sample.
    pub macs: usize,
    /// Updates made.
    pub updates: usize,
    /// Training samples seen.
    pub samples_seen: usize,
    /// Seconds of updates (evaluation excluded).
    pub train_s: f64,
    /// Microseconds of updates per training sample.
    pub us_per_sample: f64,
    /// Accuracies, the gap and the curve (or why the run diverged).
    #[serde(flatten)]
    pub accuracy: RunAccuracy,
}

/// The architecture study.
pub struct ArchitectureStudy {
    plan: ArchitecturePlan,
    groups: Vec<Group>,
}

impl ArchitectureStudy {
    /// A study of `plan` (validated).
    pub fn new(plan: ArchitecturePlan) -> Result<Self> {
        let groups = plan.validate()?;
        Ok(ArchitectureStudy { plan, groups })
    }

    /// Each conv net and its matched MLPs' widths.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }
}

/// The datasets a study trains on, by name.
pub type Datasets = [(DatasetKind, Dataset)];

fn dataset_of(data: &Datasets, kind: DatasetKind) -> Result<&Dataset> {
    data.iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, d)| d)
        .ok_or_else(|| Error::invalid("dataset", kind, "one that was loaded"))
}

impl Study for ArchitectureStudy {
    const KIND: &'static str = "architecture";
    type Data = Datasets;
    type Run = ArchRun;
    type Outcome = ArchOutcome;
    type Plan = ArchitecturePlan;

    fn plan(&self) -> &ArchitecturePlan {
        &self.plan
    }

    fn runs(&self) -> Vec<ArchRun> {
        self.plan.runs_of(&self.groups)
    }

    fn run_id(&self, run: &ArchRun) -> String {
        format!(
            "{}-{}-{}-seed{}",
            run.dataset,
            slug(&self.groups[run.group].conv),
            run.role,
            run.seed
        )
    }

    fn execute(
        &self,
        run: &ArchRun,
        data: &Datasets,
        dir: &RunDir,
        start: Start,
        progress: &dyn Progress,
    ) -> Result<Executed<ArchOutcome>> {
        let dataset = dataset_of(data, run.dataset)?;
        let train_size = dataset.t_train.len();
        let settings = self.plan.settings(&self.groups, run, train_size)?;
        let result = run::run(dir, &settings, start, dataset, progress)?;
        let (params, macs) = self.plan.size(&self.groups, run);
        let mut outcome = ArchOutcome {
            dataset: run.dataset,
            conv: self.groups[run.group].conv.clone(),
            role: run.role,
            net: self.plan.net_name(&self.groups, run),
            seed: run.seed,
            params,
            macs,
            updates: 0,
            samples_seen: 0,
            train_s: 0.0,
            us_per_sample: 0.0,
            accuracy: RunAccuracy::default(),
        };
        let summary = match result {
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
        outcome.samples_seen = outcome.updates * self.plan.batch_size;
        outcome.train_s = h.train_seconds;
        outcome.us_per_sample = 1e6 * h.train_seconds / outcome.samples_seen.max(1) as f64;
        Ok(Executed::Kept(outcome))
    }

    fn check(&self, data: &Datasets) -> Result<()> {
        for run in self.runs() {
            let train_size = dataset_of(data, run.dataset)?.t_train.len();
            let settings = self.plan.settings(&self.groups, &run, train_size)?;
            settings.validate()?;
            settings.train.validate(train_size)?;
        }
        Ok(())
    }

    fn describe(&self, o: &ArchOutcome) -> String {
        match &o.accuracy.diverged {
            Some(why) => format!("{} {} diverged: {why}", o.dataset, o.net),
            None => format!(
                "{} {} ({}): {} params, {} MACs, test acc {:.4}, {:.1} µs/sample, {:.1} s",
                o.dataset,
                o.net,
                o.role.describe(),
                o.params,
                o.macs,
                o.accuracy.final_test_acc,
                o.us_per_sample,
                o.train_s
            ),
        }
    }

    fn write_outputs(&self, outcomes: &[ArchOutcome], dir: &Path) -> Result<Vec<PathBuf>> {
        let nets = summarise(&self.plan, &self.groups, outcomes);
        let found = findings(&self.plan, &nets);
        let rows: Vec<ArchRow> = outcomes.iter().map(ArchRow::from).collect();
        let json = serde_json::json!({
            "plan": self.plan,
            "groups": self.groups,
            "runs": outcomes,
            "nets": nets,
            "findings": found,
            "sentences": found.iter().map(Finding::to_string).collect::<Vec<_>>(),
        });
        let charts = charts::charts(&self.plan, &nets);
        write_study(dir, &rows, &json, &charts, |svgs| {
            self.report(&nets, &found, svgs)
        })
    }
}
