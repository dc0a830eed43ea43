//! The architecture study's charts, per dataset: test error against parameters and against
//! time per sample (one line per kind of network, min–max over the seeds), and every network's
//! mean accuracy curve against samples seen and against seconds of training.

use super::analysis::{of_dataset, NetSummary};
use super::{ArchitecturePlan, Role};
use crate::experiment::output::Charts;
use crate::plot::lines::{Corner, LineChart, Series};

/// One line per role through the groups, x from `x`, y the test error in percent.
fn by_role(nets: &[&NetSummary], x: fn(&NetSummary) -> f64, spread: bool) -> Vec<Series> {
    Role::ALL
        .iter()
        .map(|&role| {
            let mut members: Vec<&NetSummary> =
                nets.iter().copied().filter(|n| n.role == role).collect();
            members.sort_by(|a, b| x(a).total_cmp(&x(b)));
            Series {
                name: role.describe().into(),
                points: members
                    .iter()
                    .map(|n| (x(n), 100.0 * n.test_error.mean))
                    .collect(),
                dashed: role != Role::Conv,
                spread: spread.then(|| {
                    members
                        .iter()
                        .map(|n| (100.0 * n.test_error.min, 100.0 * n.test_error.max))
                        .collect()
                }),
            }
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// One line per network: its mean test accuracy against `x` of each curve point.
fn curves(nets: &[&NetSummary], seconds: bool) -> Vec<Series> {
    nets.iter()
        .map(|n| Series {
            name: format!("{} ({})", n.net, n.role.slug()),
            points: n
                .curve
                .iter()
                .map(|p| {
                    let x = if seconds {
                        p.train_s
                    } else {
                        p.samples_seen as f64
                    };
                    (x, p.test_acc.mean)
                })
                .filter(|(x, _)| *x > 0.0)
                .collect(),
            dashed: n.role != Role::Conv,
            spread: None,
        })
        .collect()
}

/// The study's charts: (file stem, chart, caption).
pub fn charts(plan: &ArchitecturePlan, nets: &[NetSummary]) -> Charts<LineChart> {
    let mut out = Vec::new();
    let seeds = if plan.seeds > 1 {
        format!(" (mean of {} seeds, bars min–max)", plan.seeds)
    } else {
        String::new()
    };
    for dataset in &plan.datasets {
        let here = of_dataset(nets, *dataset);
        if here.is_empty() {
            continue;
        }
        let error_chart = |x_label: &str, x: fn(&NetSummary) -> f64| LineChart {
            title: format!("{dataset}: final test error{seeds}"),
            x_label: x_label.into(),
            y_label: "final test error (%)".into(),
            log_x: true,
            y_range: None,
            series: by_role(&here, x, plan.seeds > 1),
            legend: Corner::UpperRight,
        };
        out.push((
            format!("error_vs_params_{dataset}"),
            error_chart("parameters (log scale)", |n| n.params as f64),
            format!(
                "{dataset}: final test error against parameter count. The conv nets (solid) and, dashed, the MLPs of \
                 the same parameter count (same x as their conv net) and of the same multiply-adds per sample; \
                 {} per run. At one x, the lower line is the more accurate kind of network for that size.",
                plan.budget
            ),
        ));
        out.push((
            format!("error_vs_cost_{dataset}"),
            error_chart("microseconds of training per sample (log scale)", |n| {
                n.us_per_sample.mean
            }),
            format!(
                "{dataset}: final test error against the measured training time per sample (forward and backward, \
                 evaluation excluded). Left is cheaper, lower is more accurate."
            ),
        ));
        for (stem, seconds, x_label) in [
            ("curves_samples", false, "training samples seen (log scale)"),
            ("curves_time", true, "seconds of training (log scale)"),
        ] {
            out.push((
                format!("{stem}_{dataset}"),
                LineChart {
                    title: format!("{dataset}: test accuracy during training (mean of {} seeds)", plan.seeds),
                    x_label: x_label.into(),
                    y_label: "test accuracy".into(),
                    log_x: true,
                    y_range: None,
                    series: curves(&here, seconds),
                    legend: Corner::LowerRight,
                },
                format!(
                    "{dataset}: each network's mean test accuracy against {}; conv nets solid, MLPs dashed. {}",
                    if seconds { "seconds of updates" } else { "samples seen" },
                    if seconds {
                        "A line that is higher at one x learns more per second of this machine's time."
                    } else {
                        "On the left, the smallest budgets: a line higher there learns more from few samples."
                    }
                ),
            ));
        }
    }
    out
}
