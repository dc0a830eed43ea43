//! The architecture study's answer to its question: typed findings drawn from the network
//! summaries (their sentences are in `sentences.rs`).

use super::analysis::{accuracy_at_time, member, of_dataset, NetSummary, Stat};
use super::{ArchitecturePlan, Role};
use crate::data::DatasetKind;
use serde::Serialize;

/// A network and how it ended (over its seeds).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Net {
    /// The conv spec or the MLP's layer sizes.
    pub name: String,
    /// The conv net, or which MLP.
    pub role: Role,
    /// Weights and biases.
    pub params: usize,
    /// Forward multiply-adds per sample.
    pub macs: usize,
    /// Final test error (1 − accuracy) across the seeds.
    pub test_error: Stat,
    /// Mean microseconds of updates per training sample.
    pub us_per_sample: f64,
    /// Mean seconds of updates of a whole run.
    pub train_s: f64,
}

impl Net {
    fn of(s: &NetSummary) -> Net {
        Net {
            name: s.net.clone(),
            role: s.role,
            params: s.params,
            macs: s.macs,
            test_error: s.test_error,
            us_per_sample: s.us_per_sample.mean,
            train_s: s.train_s.mean,
        }
    }
}

/// Which network of a comparison is the more accurate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Winner {
    /// The conv net's error is the lower, beyond the seeds' spread.
    Conv,
    /// The MLP's.
    Mlp,
    /// The difference is within the seeds' spread (or nil).
    Neither,
}

/// A conv net against one of its matched MLPs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Versus {
    /// The conv net.
    pub conv: Net,
    /// The MLP.
    pub mlp: Net,
    /// MLP error − conv error (means): what weight sharing buys, in error; negative when the
    /// MLP is the more accurate.
    pub cut: f64,
    /// `cut` as a fraction of the MLP's error.
    pub relative: f64,
    /// With several seeds, when `cut` lies inside either network's min–max range: that range
    /// (the difference is noise).
    pub noise: Option<f64>,
    /// The conv net's time per training sample over the MLP's.
    pub slower: f64,
}

impl Versus {
    fn of(conv: &NetSummary, mlp: &NetSummary, seeds: u64) -> Versus {
        let cut = mlp.test_error.mean - conv.test_error.mean;
        let range = conv.test_error.range().max(mlp.test_error.range());
        Versus {
            conv: Net::of(conv),
            mlp: Net::of(mlp),
            cut,
            relative: cut / mlp.test_error.mean.max(1e-12),
            noise: (seeds > 1 && cut.abs() <= range).then_some(range),
            slower: conv.us_per_sample.mean / mlp.us_per_sample.mean.max(1e-12),
        }
    }

    /// The more accurate network, or neither.
    pub fn winner(&self) -> Winner {
        match self.noise {
            Some(_) => Winner::Neither,
            None if self.cut > 0.0 => Winner::Conv,
            None if self.cut < 0.0 => Winner::Mlp,
            None => Winner::Neither,
        }
    }
}

/// One dataset's comparisons at one matching (parameters or multiply-adds), in a line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tally {
    /// `MlpParams` or `MlpMacs`: what the MLPs were matched on.
    pub matched: Role,
    /// Comparisons the conv net won.
    pub conv_wins: usize,
    /// Comparisons the MLP won.
    pub mlp_wins: usize,
    /// All comparisons.
    pub comparisons: usize,
    /// Mean of `cut` over the comparisons.
    pub mean_cut: f64,
    /// `mean_cut` as a fraction of the MLPs' mean error (of the same sign).
    pub mean_relative: f64,
}

impl Tally {
    fn of(matched: Role, all: &[&Versus]) -> Tally {
        let n = all.len().max(1) as f64;
        let mean_cut = all.iter().map(|v| v.cut).sum::<f64>() / n;
        let mlp_error = all.iter().map(|v| v.mlp.test_error.mean).sum::<f64>() / n;
        Tally {
            matched,
            conv_wins: all.iter().filter(|v| v.winner() == Winner::Conv).count(),
            mlp_wins: all.iter().filter(|v| v.winner() == Winner::Mlp).count(),
            comparisons: all.len(),
            mean_cut,
            mean_relative: mean_cut / mlp_error.max(1e-12),
        }
    }
}

/// Whether weight sharing pays on a dataset, by both tallies together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// The conv net won every comparison.
    Pays,
    /// It won more comparisons than the MLPs, not all.
    Mostly,
    /// Each side won as many.
    Neither,
    /// The MLPs won more.
    Hurts,
}

/// A condition under which an MLP is the better choice.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Case {
    /// The MLP ends with the lower error at its matching, beyond the seeds' spread.
    MoreAccurate(Versus),
    /// After the same seconds of training — the faster network's whole run — the MLP is the
    /// more accurate (mean curves, linear between measurements).
    EqualTime {
        /// The conv net.
        conv: Net,
        /// The MLP.
        mlp: Net,
        /// The seconds of updates both are compared after.
        seconds: f64,
        /// The conv net's test accuracy then.
        conv_acc: f64,
        /// The MLP's.
        mlp_acc: f64,
    },
    /// From the first measurement on, the MLP is the more accurate at the same samples seen
    /// (every seed's MLP above every seed's conv net) until the conv net overtakes it.
    TinyBudget {
        /// The conv net.
        conv: Net,
        /// The MLP.
        mlp: Net,
        /// The last point (samples seen) where the MLP is ahead.
        until: usize,
        /// The MLP's mean test accuracy there.
        mlp_acc: f64,
        /// The conv net's.
        conv_acc: f64,
        /// The next point, from where the MLP is no longer ahead (None: ahead to the end).
        overtaken: Option<usize>,
    },
}

/// One thing the measurements say, with the numbers behind it.
// A study has a dozen findings: their sizes do not matter, their plain fields keep tests simple.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Finding {
    /// The plain answer for one dataset: does weight sharing pay, at what cost per sample,
    /// which network is best.
    Answer {
        /// The dataset.
        dataset: DatasetKind,
        /// The conv nets against the MLPs of equal parameters.
        params: Tally,
        /// Against the MLPs of equal multiply-adds.
        macs: Tally,
        /// The conv nets' time per sample over the equal-multiply-add MLPs': (min, max) over
        /// the groups.
        slower: (f64, f64),
        /// The most accurate network.
        best: Net,
    },
    /// One conv net against its two MLPs.
    Group {
        /// The dataset.
        dataset: DatasetKind,
        /// Against the MLP of equal parameters.
        params: Versus,
        /// Against the MLP of equal multiply-adds.
        macs: Versus,
    },
    /// Where an MLP is the better choice.
    MlpBetter {
        /// The dataset.
        dataset: DatasetKind,
        /// Conv net against MLP comparisons made (two per conv net).
        comparisons: usize,
        /// Each condition found.
        cases: Vec<Case>,
    },
    /// No comparison favours an MLP.
    ConvEverywhere {
        /// The dataset.
        dataset: DatasetKind,
    },
    /// Networks with runs that diverged.
    Diverged {
        /// The dataset.
        dataset: DatasetKind,
        /// Each network's name.
        nets: Vec<String>,
    },
    /// Each network had one seed: small differences may be noise.
    OneSeed,
    /// How much one network's final test error varies across seeds.
    SeedSpread {
        /// Seeds per network.
        seeds: u64,
        /// The median over networks of the min–max range.
        median: f64,
        /// The largest range.
        max: f64,
    },
}

impl Finding {
    /// Whether this finding answers the question (else it is evidence).
    pub fn is_answer(&self) -> bool {
        matches!(
            self,
            Finding::Answer { .. } | Finding::MlpBetter { .. } | Finding::ConvEverywhere { .. }
        )
    }
}

/// The verdict of both tallies together.
pub fn verdict(params: &Tally, macs: &Tally) -> Verdict {
    let conv = params.conv_wins + macs.conv_wins;
    let mlp = params.mlp_wins + macs.mlp_wins;
    if conv == params.comparisons + macs.comparisons && conv > 0 {
        Verdict::Pays
    } else if conv > mlp {
        Verdict::Mostly
    } else if conv == mlp {
        Verdict::Neither
    } else {
        Verdict::Hurts
    }
}

/// The answer to the study's question, each finding carrying the numbers behind it.
pub fn findings(plan: &ArchitecturePlan, nets: &[NetSummary]) -> Vec<Finding> {
    let mut answers = Vec::new();
    let mut evidence = Vec::new();
    for dataset in &plan.datasets {
        let here = of_dataset(nets, *dataset);
        let mut pairs: Vec<(Versus, Versus)> = Vec::new();
        let mut cases = Vec::new();
        for conv in here.iter().filter(|n| n.role == Role::Conv) {
            let versus = |role| {
                member(&here, &conv.conv, role).map(|m| (m, Versus::of(conv, m, plan.seeds)))
            };
            let (Some((p, at_params)), Some((m, at_macs))) =
                (versus(Role::MlpParams), versus(Role::MlpMacs))
            else {
                continue;
            };
            for (mlp, v) in [(p, &at_params), (m, &at_macs)] {
                cases.extend(mlp_cases(conv, mlp, v, plan.seeds));
            }
            pairs.push((at_params, at_macs));
        }
        if let Some(answer) = answer(*dataset, &here, &pairs) {
            answers.push(answer);
            answers.push(if cases.is_empty() {
                Finding::ConvEverywhere { dataset: *dataset }
            } else {
                Finding::MlpBetter {
                    dataset: *dataset,
                    comparisons: 2 * pairs.len(),
                    cases,
                }
            });
        }
        evidence.extend(pairs.into_iter().map(|(params, macs)| Finding::Group {
            dataset: *dataset,
            params,
            macs,
        }));
        let diverged: Vec<String> = nets
            .iter()
            .filter(|n| n.dataset == *dataset && n.diverged > 0)
            .map(|n| n.net.clone())
            .collect();
        if !diverged.is_empty() {
            evidence.push(Finding::Diverged {
                dataset: *dataset,
                nets: diverged,
            });
        }
    }
    answers.extend(evidence);
    answers.push(noise(plan, nets));
    answers
}

/// A dataset's answer from its (equal-parameter, equal-multiply-add) comparisons.
fn answer(
    dataset: DatasetKind,
    here: &[&NetSummary],
    pairs: &[(Versus, Versus)],
) -> Option<Finding> {
    if pairs.is_empty() {
        return None;
    }
    let best = here
        .iter()
        .min_by(|a, b| a.test_error.mean.total_cmp(&b.test_error.mean))?;
    let slower = pairs
        .iter()
        .map(|(_, m)| m.slower)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
            (lo.min(s), hi.max(s))
        });
    Some(Finding::Answer {
        dataset,
        params: Tally::of(
            Role::MlpParams,
            &pairs.iter().map(|p| &p.0).collect::<Vec<_>>(),
        ),
        macs: Tally::of(
            Role::MlpMacs,
            &pairs.iter().map(|p| &p.1).collect::<Vec<_>>(),
        ),
        slower,
        best: Net::of(best),
    })
}

/// The conditions under which `mlp` is the better choice than `conv`: more accurate at the
/// end; else more accurate after the same training time; else ahead on the smallest budgets.
fn mlp_cases(conv: &NetSummary, mlp: &NetSummary, versus: &Versus, seeds: u64) -> Vec<Case> {
    if versus.winner() == Winner::Mlp {
        return vec![Case::MoreAccurate(versus.clone())];
    }
    let mut out = Vec::new();
    let noise = if seeds > 1 {
        conv.test_acc.range().max(mlp.test_acc.range())
    } else {
        0.0
    };
    let seconds = conv.train_s.mean.min(mlp.train_s.mean);
    if let (Some(conv_acc), Some(mlp_acc)) = (
        accuracy_at_time(&conv.curve, seconds),
        accuracy_at_time(&mlp.curve, seconds),
    ) {
        if mlp_acc - conv_acc > noise {
            out.push(Case::EqualTime {
                conv: Net::of(conv),
                mlp: Net::of(mlp),
                seconds,
                conv_acc,
                mlp_acc,
            });
        }
    }
    out.extend(tiny_budget(conv, mlp));
    out
}

/// How long the MLP leads at the same samples seen, from the first measurement (None: it
/// does not lead at the first).
fn tiny_budget(conv: &NetSummary, mlp: &NetSummary) -> Option<Case> {
    let common: Vec<_> = mlp
        .curve
        .iter()
        .filter_map(|m| {
            let c = conv
                .curve
                .iter()
                .find(|c| c.samples_seen == m.samples_seen)?;
            Some((m, c))
        })
        .collect();
    // Ahead: every seed's MLP above every seed's conv net.
    let lead = common
        .iter()
        .take_while(|(m, c)| m.test_acc.min > c.test_acc.max)
        .count();
    if lead == 0 {
        return None;
    }
    let (m, c) = common[lead - 1];
    Some(Case::TinyBudget {
        conv: Net::of(conv),
        mlp: Net::of(mlp),
        until: m.samples_seen,
        mlp_acc: m.test_acc.mean,
        conv_acc: c.test_acc.mean,
        overtaken: common.get(lead).map(|(m, _)| m.samples_seen),
    })
}

/// How much the seeds disagree, or that there was one.
fn noise(plan: &ArchitecturePlan, nets: &[NetSummary]) -> Finding {
    let mut ranges: Vec<f64> = nets
        .iter()
        .filter(|n| n.runs > 1)
        .map(|n| n.test_error.range())
        .collect();
    if ranges.is_empty() {
        return Finding::OneSeed;
    }
    ranges.sort_by(f64::total_cmp);
    Finding::SeedSpread {
        seeds: plan.seeds,
        median: ranges[ranges.len() / 2],
        max: ranges[ranges.len() - 1],
    }
}
