//! Summaries of the architecture study's runs: per (dataset, network), means over the seeds,
//! standard deviations and ranges, and the mean accuracy curve in samples and seconds.

use super::{ArchOutcome, ArchitecturePlan, Group, Role};
use crate::data::DatasetKind;
use serde::Serialize;

/// Several seeds' values of one measurement: mean, sample standard deviation (0 for one
/// value), min and max.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Stat {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation (n − 1 in the denominator; 0 for fewer than two values).
    pub sd: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Stat {
    /// The statistics of `values` (zeros when there are none).
    pub fn of(values: impl IntoIterator<Item = f64>) -> Stat {
        let v: Vec<f64> = values.into_iter().collect();
        if v.is_empty() {
            return Stat::default();
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = if v.len() < 2 {
            0.0
        } else {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        };
        Stat {
            mean,
            sd,
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// max − min: how far the seeds disagree.
    pub fn range(&self) -> f64 {
        self.max - self.min
    }
}

/// One measurement point of a network's runs, averaged over the seeds that have it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeanPoint {
    /// Training samples seen.
    pub samples_seen: usize,
    /// Mean seconds of updates so far.
    pub train_s: f64,
    /// Test accuracy across the seeds.
    pub test_acc: Stat,
}

/// One (dataset, network)'s runs, summarised across seeds.
#[derive(Clone, Debug, Serialize)]
pub struct NetSummary {
    /// `mnist` or `fashion-mnist`.
    pub dataset: DatasetKind,
    /// The group's conv net.
    pub conv: String,
    /// The conv net, or which MLP matched to it.
    pub role: Role,
    /// This network: the conv spec, or the MLP's layer sizes.
    pub net: String,
    /// Weights and biases.
    pub params: usize,
    /// Forward multiply-adds per sample.
    pub macs: usize,
    /// Finished (not diverged) runs.
    pub runs: usize,
    /// Runs that diverged.
    pub diverged: usize,
    /// Final test accuracy.
    pub test_acc: Stat,
    /// Final test error, 1 − accuracy.
    pub test_error: Stat,
    /// Train − test gap.
    pub gap: Stat,
    /// Seconds of updates.
    pub train_s: Stat,
    /// Microseconds of updates per training sample.
    pub us_per_sample: Stat,
    /// The accuracy curve at the points every finished seed measured.
    pub curve: Vec<MeanPoint>,
}

/// Per-network summaries, in run order (networks with no outcome yet are left out).
pub fn summarise(
    plan: &ArchitecturePlan,
    groups: &[Group],
    outcomes: &[ArchOutcome],
) -> Vec<NetSummary> {
    let mut out = Vec::new();
    for dataset in &plan.datasets {
        for group in groups {
            for role in Role::ALL {
                let all: Vec<&ArchOutcome> = outcomes
                    .iter()
                    .filter(|o| o.dataset == *dataset && o.conv == group.conv && o.role == role)
                    .collect();
                if let Some(summary) = summary(&all) {
                    out.push(summary);
                }
            }
        }
    }
    out
}

/// The summary of one network's runs (None when there are none).
fn summary(all: &[&ArchOutcome]) -> Option<NetSummary> {
    let first = all.first()?;
    let ok: Vec<&ArchOutcome> = all
        .iter()
        .copied()
        .filter(|o| o.accuracy.diverged.is_none())
        .collect();
    let stat = |f: fn(&ArchOutcome) -> f64| Stat::of(ok.iter().map(|o| f(o)));
    Some(NetSummary {
        dataset: first.dataset,
        conv: first.conv.clone(),
        role: first.role,
        net: first.net.clone(),
        params: first.params,
        macs: first.macs,
        runs: ok.len(),
        diverged: all.len() - ok.len(),
        test_acc: stat(|o| o.accuracy.final_test_acc),
        test_error: stat(|o| 1.0 - o.accuracy.final_test_acc),
        gap: stat(|o| o.accuracy.gap),
        train_s: stat(|o| o.train_s),
        us_per_sample: stat(|o| o.us_per_sample),
        curve: mean_curve(&ok),
    })
}

/// The points (by samples seen) that every run's curve has, averaged.
fn mean_curve(runs: &[&ArchOutcome]) -> Vec<MeanPoint> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    first
        .accuracy
        .curve
        .iter()
        .filter_map(|p| {
            let at: Vec<_> = runs
                .iter()
                .map(|r| {
                    r.accuracy
                        .curve
                        .iter()
                        .find(|q| q.samples_seen == p.samples_seen)
                })
                .collect::<Option<Vec<_>>>()?;
            Some(MeanPoint {
                samples_seen: p.samples_seen,
                train_s: at.iter().map(|q| q.train_s).sum::<f64>() / at.len() as f64,
                test_acc: Stat::of(at.iter().map(|q| q.test_acc)),
            })
        })
        .collect()
}

/// The mean test accuracy of `curve` after `seconds` of updates, linearly between the two
/// points around it (None before the first point or after the last).
pub fn accuracy_at_time(curve: &[MeanPoint], seconds: f64) -> Option<f64> {
    let last = curve.last()?;
    if seconds > last.train_s {
        return None;
    }
    let after = curve.iter().position(|p| p.train_s >= seconds)?;
    if after == 0 {
        return (curve[0].train_s == seconds).then_some(curve[0].test_acc.mean);
    }
    let (a, b) = (&curve[after - 1], &curve[after]);
    let t = (seconds - a.train_s) / (b.train_s - a.train_s).max(1e-300);
    Some(a.test_acc.mean + t * (b.test_acc.mean - a.test_acc.mean))
}

/// The summaries of `dataset`'s networks that finished at least one run.
pub fn of_dataset(nets: &[NetSummary], dataset: DatasetKind) -> Vec<&NetSummary> {
    nets.iter()
        .filter(|n| n.dataset == dataset && n.runs > 0)
        .collect()
}

/// The summary of `role` in the group of `conv` among `nets`.
pub fn member<'a>(nets: &[&'a NetSummary], conv: &str, role: Role) -> Option<&'a NetSummary> {
    nets.iter()
        .copied()
        .find(|n| n.conv == conv && n.role == role)
}
