//! Summaries of the depth-width study's runs: per (dataset, setting, shape), means over the
//! seeds, their spreads and the mean probes.

use super::probe::Probe;
use super::{DepthWidthPlan, DwOutcome, Setup};
use crate::data::DatasetKind;
use crate::experiment::spread;
use serde::Serialize;

/// One (dataset, setup, shape)'s runs, summarised across seeds: means, and (min, max) spreads.
#[derive(Clone, Debug, Serialize)]
pub struct ShapeSummary {
    /// `mnist` or `fashion-mnist`.
    pub dataset: DatasetKind,
    /// Activation, initialisation, optimizer.
    pub setup: Setup,
    /// Whether this is a grid shape (else a diagnostic run only).
    pub grid: bool,
    /// Hidden layers.
    pub depth: usize,
    /// Neurons per hidden layer.
    pub width: usize,
    /// Weights and biases.
    pub params: usize,
    /// Multiply-adds per sample.
    pub macs: usize,
    /// Finished (not diverged) runs.
    pub runs: usize,
    /// Runs that diverged.
    pub diverged: usize,
    /// Mean seconds of updates.
    pub train_s: f64,
    /// Mean final test accuracy, and its spread.
    pub final_test_acc: (f64, f64, f64),
    /// Mean final training-subset accuracy.
    pub final_train_acc: f64,
    /// Mean best test accuracy.
    pub best_test_acc: f64,
    /// Mean gap, and its spread.
    pub gap: (f64, f64, f64),
    /// Mean probes (first seed's shape), at initialisation and after the first epoch.
    pub probes: Vec<Probe>,
}

/// Per-shape summaries in run order (shapes with no outcome yet are left out).
pub fn summarise(plan: &DepthWidthPlan, outcomes: &[DwOutcome]) -> Vec<ShapeSummary> {
    let grid = plan.shapes();
    let mut keys: Vec<(DatasetKind, Setup, usize, usize)> = Vec::new();
    for run in plan.runs() {
        let key = (run.dataset, run.setup, run.depth, run.width);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .filter_map(|(dataset, setup, depth, width)| {
            let all: Vec<&DwOutcome> = outcomes
                .iter()
                .filter(|o| {
                    o.dataset == dataset && o.setup == setup && o.depth == depth && o.width == width
                })
                .collect();
            let ok: Vec<&DwOutcome> = all
                .iter()
                .copied()
                .filter(|o| o.accuracy.diverged.is_none())
                .collect();
            let first = all.first()?;
            let mean = |f: fn(&DwOutcome) -> f64| spread(ok.iter().map(|o| f(o))).0;
            Some(ShapeSummary {
                grid: setup == plan.setup && grid.contains(&(depth, width)),
                params: first.params,
                macs: first.macs,
                runs: ok.len(),
                diverged: all.len() - ok.len(),
                train_s: mean(|o| o.train_s),
                final_test_acc: spread(ok.iter().map(|o| o.accuracy.final_test_acc)),
                final_train_acc: mean(|o| o.accuracy.final_train_acc),
                best_test_acc: mean(|o| o.accuracy.best_test_acc),
                gap: spread(ok.iter().map(|o| o.accuracy.gap)),
                probes: mean_probes(&all),
                dataset,
                setup,
                depth,
                width,
            })
        })
        .collect()
}

/// The probes of several seeds' runs of one shape, averaged number by number.
fn mean_probes(runs: &[&DwOutcome]) -> Vec<Probe> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    let n = runs.len() as f64;
    let avg = |v: &[Vec<f64>]| -> Vec<f64> {
        (0..v[0].len())
            .map(|i| {
                v.iter()
                    .map(|x| x.get(i).copied().unwrap_or(0.0))
                    .sum::<f64>()
                    / n
            })
            .collect()
    };
    (0..first.probes.len())
        .map(|k| {
            let all: Vec<&Probe> = runs.iter().filter_map(|r| r.probes.get(k)).collect();
            let field = |f: fn(&Probe) -> &Vec<f64>| {
                avg(&all.iter().map(|p| f(p).clone()).collect::<Vec<_>>())
            };
            Probe {
                updates: all[0].updates,
                epochs: all[0].epochs,
                loss: all.iter().map(|p| p.loss).sum::<f64>() / n,
                grad_mean_abs: field(|p| &p.grad_mean_abs),
                act_mean: field(|p| &p.act_mean),
                act_std: field(|p| &p.act_std),
                act_inactive: field(|p| &p.act_inactive),
                hist_range: all
                    .iter()
                    .map(|p| p.hist_range)
                    .fold((0.0, 0.0), |a, b| (0.0, a.1.max(b.1))),
                hist: (0..all[0].hist.len())
                    .map(|l| avg(&all.iter().map(|p| p.hist[l].clone()).collect::<Vec<_>>()))
                    .collect(),
            }
        })
        .collect()
}

pub fn grid_of(shapes: &[ShapeSummary], dataset: DatasetKind) -> Vec<&ShapeSummary> {
    shapes
        .iter()
        .filter(|s| s.grid && s.dataset == dataset && s.runs > 0)
        .collect()
}

pub fn diagnostic_of<'a>(
    plan: &DepthWidthPlan,
    shapes: &'a [ShapeSummary],
    dataset: DatasetKind,
) -> Vec<&'a ShapeSummary> {
    plan.diagnostics
        .iter()
        .filter_map(|setup| {
            shapes.iter().find(|s| {
                s.dataset == dataset
                    && s.setup == *setup
                    && (s.depth, s.width) == plan.diagnostic_shape
                    && !s.probes.is_empty()
            })
        })
        .collect()
}
