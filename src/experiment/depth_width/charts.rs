//! The depth-width study's charts: per dataset the accuracy heatmap over depth × width,
//! accuracy against parameters, and the diagnostic shape's gradients and activations.

use super::analysis::{diagnostic_of, grid_of, ShapeSummary};
use super::DepthWidthPlan;
use crate::experiment::output::Charts;
use crate::plot::heatmap::{Heatmap, HistogramGrid, HistogramRow};
use crate::plot::lines::{Corner, LineChart, Series};
use crate::plot::raster::Raster;
use crate::plot::{Chart, DrawResult};
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use scratchnet_core::layers::Activation;

/// The study's charts, of three kinds.
pub enum Figure {
    /// Lines (accuracy against size, gradients against layer).
    Lines(LineChart),
    /// The depth × width grid.
    Heatmap(Heatmap),
    /// Activation histograms per layer.
    Histograms(HistogramGrid),
}

impl Chart for Figure {
    fn size(&self) -> (u32, u32) {
        match self {
            Figure::Lines(c) => c.size(),
            Figure::Heatmap(c) => c.size(),
            Figure::Histograms(c) => c.size(),
        }
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        match self {
            Figure::Lines(c) => c.draw(area),
            Figure::Heatmap(c) => c.draw(area),
            Figure::Histograms(c) => c.draw(area),
        }
    }

    fn rasters(&self) -> Vec<Raster> {
        match self {
            Figure::Lines(c) => c.rasters(),
            Figure::Heatmap(c) => c.rasters(),
            Figure::Histograms(c) => c.rasters(),
        }
    }
}

/// The study's charts: (file stem, chart, caption).
pub fn charts(plan: &DepthWidthPlan, shapes: &[ShapeSummary]) -> Charts<Figure> {
    let mut out = Vec::new();
    let seeds = if plan.seeds > 1 {
        format!(" (mean of {} seeds)", plan.seeds)
    } else {
        String::new()
    };
    for dataset in &plan.datasets {
        let grid = grid_of(shapes, *dataset);
        if grid.is_empty() {
            continue;
        }
        let mut widths: Vec<usize> = grid.iter().map(|s| s.width).collect();
        widths.sort_unstable();
        widths.dedup();
        let depths: Vec<usize> = plan.depths.iter().rev().copied().collect();
        let values = depths
            .iter()
            .map(|&d| {
                widths
                    .iter()
                    .map(|&w| {
                        grid.iter()
                            .find(|s| s.depth == d && s.width == w)
                            .map(|s| s.final_test_acc.0)
                    })
                    .collect()
            })
            .collect();
        out.push((
            format!("heatmap_{dataset}"),
            Figure::Heatmap(Heatmap {
                title: format!("{dataset}: final test accuracy{seeds}"),
                x_label: "width (neurons per hidden layer)".into(),
                y_label: "depth (hidden layers)".into(),
                columns: widths.iter().map(usize::to_string).collect(),
                rows: depths.iter().map(usize::to_string).collect(),
                values,
                decimals: 4,
            }),
            format!(
                "{dataset}: final test accuracy over depth × width, {} ({}).",
                plan.setup.describe(),
                plan.budget
            ),
        ));
        let series = plan
            .depths
            .iter()
            .map(|&d| Series {
                name: format!("{d} hidden layer{}", if d == 1 { "" } else { "s" }),
                points: grid
                    .iter()
                    .filter(|s| s.depth == d)
                    .map(|s| (s.params as f64, s.final_test_acc.0))
                    .collect(),
                spread: (plan.seeds > 1).then(|| {
                    grid.iter()
                        .filter(|s| s.depth == d)
                        .map(|s| (s.final_test_acc.1, s.final_test_acc.2))
                        .collect()
                }),
                dashed: d == 1,
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        out.push((
            format!("accuracy_vs_params_{dataset}"),
            Figure::Lines(LineChart {
                title: format!("{dataset}: test accuracy against parameters{seeds}"),
                x_label: "parameters (log scale)".into(),
                y_label: "final test accuracy".into(),
                log_x: true,
                y_range: None,
                series,
                legend: Corner::LowerRight,
            }),
            format!(
                "{dataset}: final test accuracy against parameter count, one line per depth (widths growing left to right); \
                 the shallowest network is dashed. At one x, a higher line is the better shape for that size."
            ),
        ));
        let diag = diagnostic_of(plan, shapes, *dataset);
        if diag.is_empty() {
            continue;
        }
        let grad_series = |k: usize| -> Vec<Series> {
            diag.iter()
                .filter_map(|s| s.probes.get(k).map(|p| (s, p)))
                .map(|(s, p)| Series {
                    name: s.setup.describe(),
                    points: p
                        .grad_mean_abs
                        .iter()
                        .enumerate()
                        .map(|(l, g)| ((l + 1) as f64, g.max(1e-30).log10()))
                        .collect(),
                    dashed: s.setup.activation == Activation::Sigmoid,
                    ..Series::default()
                })
                .collect()
        };
        let (d, w) = plan.diagnostic_shape;
        for (k, when) in [
            (0, "at initialisation"),
            (1, "after epoch 1 (or the run's end)"),
        ] {
            out.push((
                format!("gradients_{}_{dataset}", if k == 0 { "init" } else { "epoch1" }),
                Figure::Lines(LineChart {
                    title: format!("{dataset}: mean |dW| per layer, {d}×{w}, {when}"),
                    x_label: format!("layer (1 = input side, {} = output)", d + 1),
                    y_label: "log10 of mean |dW|".into(),
                    log_x: false,
                    y_range: None,
                    series: grad_series(k),
                    legend: Corner::LowerRight,
                }),
                format!(
                    "{dataset}: the mean absolute gradient of each layer's weights on {} fixed training images, {when}, \
                     for the {d}×{w} network under each setting (log scale: one step is a factor of ten). A line that falls \
                     towards layer 1 is a vanishing gradient. Settings with the same activation and initialisation start \
                     from the same weights, so their lines coincide at initialisation.",
                    plan.probe_rows
                ),
            ));
        }
        let rows = diag
            .iter()
            .flat_map(|s| {
                s.probes.iter().enumerate().map(move |(k, p)| HistogramRow {
                    label: format!(
                        "{} — {}",
                        s.setup.describe(),
                        if k == 0 {
                            "at initialisation".to_string()
                        } else {
                            format!("after {:.2} epochs", p.epochs)
                        }
                    ),
                    range: p.hist_range,
                    layers: p.hist.clone(),
                })
            })
            .collect();
        out.push((
            format!("activations_{dataset}"),
            Figure::Histograms(HistogramGrid {
                title: format!("{dataset}: activation distributions per hidden layer, {d}×{w}"),
                rows,
            }),
            format!(
                "{dataset}: histograms of each hidden layer's activations on {} fixed training images (fraction per bin), \
                 per setting at initialisation and after the first epoch (or the run's end, if sooner), as in the book's \
                 figures 6-10, 6-11 and 6-13.",
                plan.probe_rows
            ),
        ));
    }
    out
}
