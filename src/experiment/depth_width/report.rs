//! The depth-width study's HTML report: question, findings, settings, tables, charts.

use super::analysis::{diagnostic_of, grid_of, ShapeSummary};
use super::findings::findings;
use super::findings::Finding;
use super::{DepthWidthStudy, Setup};
use crate::report::Report;
use crate::Result;
use std::path::PathBuf;

impl DepthWidthStudy {
    /// The HTML report: question, findings, settings, tables, charts.
    pub(super) fn report(
        &self,
        shapes: &[ShapeSummary],
        svgs: &[(PathBuf, String)],
    ) -> Result<Report> {
        let p = &self.plan;
        let mut r = Report::new("Study: deep versus wide networks");
        r.paragraph(
            "The question: what changes between a deep network and a wide one, and which suits which problem? \
             A grid of MultiLayerNets — depth (hidden layers) × width (neurons per hidden layer) — trained under one \
             budget on each dataset, each measured for its size, time, accuracies and gap; and one deep shape trained \
             under the chapter-4 settings and chapter 6's fixes, probed at initialisation and after the first epoch, to \
             show why a deep network can fail to learn at all.",
        );
        let (answers, evidence): (Vec<Finding>, Vec<Finding>) = findings(p, shapes)
            .into_iter()
            .partition(|f| matches!(f, Finding::Answer(_)));
        if !answers.is_empty() {
            r.heading("The answer");
            for finding in &answers {
                r.paragraph(&finding.to_string());
            }
        }
        r.heading("What the measurements say");
        for finding in &evidence {
            r.paragraph(&finding.to_string());
        }
        r.heading("Settings");
        let (d, w) = p.diagnostic_shape;
        let shapes_row = match &p.equal_params {
            Some(n) => format!(
                "depths {:?}, each at the width nearest {:?} parameters",
                p.depths, n
            ),
            None => format!("depths {:?} × widths {:?}", p.depths, p.widths),
        };
        let rows = vec![
            vec!["shapes".to_string(), shapes_row],
            vec!["datasets".into(), p.datasets.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")],
            vec!["budget per run".into(), format!("{} (batch {})", p.budget, p.batch_size)],
            vec!["grid's setting".into(), p.setup.describe()],
            vec![
                "diagnostic runs".into(),
                format!(
                    "{d}×{w}: {}",
                    p.diagnostics.iter().map(Setup::describe).collect::<Vec<_>>().join("; ")
                ),
            ],
            vec!["seeds per shape".into(), p.seeds.to_string()],
            vec![
                "measurements".into(),
                format!(
                    "test accuracy on the whole test set and training accuracy on the first {} training images, {} times \
                     per tenfold of samples seen and at the end; probes of activations and gradients on the first {} \
                     training images, before the first update and after the first epoch (or at the end of a run shorter \
                     than an epoch: probe_epochs in study.csv)",
                    p.train_eval_rows, p.points_per_decade, p.probe_rows
                ),
            ],
            vec!["timing".into(), "runs are done one at a time; training seconds exclude evaluation".into()],
        ];
        r.settings(&rows);
        for dataset in &p.datasets {
            let grid = grid_of(shapes, *dataset);
            if grid.is_empty() {
                continue;
            }
            r.heading(&format!("{dataset}: final test accuracy, depth × width"));
            let (header, rows) = accuracy_grid(&grid);
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            r.table(&header, &rows);
            r.paragraph(
                "Rows: hidden layers; columns: neurons per hidden layer. Parameters, MACs per sample, \
                 training seconds, train accuracy and the gap of every shape are in study.csv.",
            );
            let diag = diagnostic_of(p, shapes, *dataset);
            if !diag.is_empty() {
                r.heading(&format!(
                    "{dataset}: the {d}×{w} network under each setting"
                ));
                let g = |s: &ShapeSummary, k: usize, layer: usize| {
                    s.probes
                        .get(k)
                        .and_then(|p| p.grad_mean_abs.get(layer))
                        .map_or("–".into(), |g| format!("{g:.2e}"))
                };
                let table: Vec<Vec<String>> = diag
                    .iter()
                    .map(|s| {
                        let last = |k: usize| {
                            s.probes.get(k).map_or("–".into(), |p| {
                                format!(
                                    "{:.3} / {:.0}%",
                                    p.act_std.last().copied().unwrap_or(0.0),
                                    100.0 * p.act_inactive.last().copied().unwrap_or(0.0)
                                )
                            })
                        };
                        vec![
                            s.setup.describe(),
                            format!("{:.4}", s.final_test_acc.0),
                            g(s, 0, 0),
                            g(s, 0, d),
                            last(0),
                            g(s, 1, 0),
                            g(s, 1, d),
                            last(1),
                        ]
                    })
                    .collect();
                r.table(
                    &[
                        "setting",
                        "final test acc",
                        "mean |dW1|, init",
                        &format!("mean |dW{}|, init", d + 1),
                        &format!("layer {d} activation std / inactive, init"),
                        "mean |dW1|, epoch 1",
                        &format!("mean |dW{}|, epoch 1", d + 1),
                        &format!("layer {d} activation std / inactive, epoch 1"),
                    ],
                    &table,
                );
                r.paragraph("Inactive: ReLU outputs of exactly 0, or sigmoid outputs within 0.01 of 0 or 1 — neurons that pass no gradient back.");
            }
        }
        r.charts(svgs)?;
        Ok(r)
    }
}

/// A dataset's grid as a table: one row per depth, one column per width, each cell the final
/// test accuracy (a range over seeds, "diverged", or "–" where the grid has no such shape).
fn accuracy_grid(grid: &[&ShapeSummary]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut depths: Vec<usize> = grid.iter().map(|s| s.depth).collect();
    let mut widths: Vec<usize> = grid.iter().map(|s| s.width).collect();
    for v in [&mut depths, &mut widths] {
        v.sort_unstable();
        v.dedup();
    }
    let header = std::iter::once("depth \\ width".to_string())
        .chain(widths.iter().map(usize::to_string))
        .collect();
    let cell = |d: usize, w: usize| match grid.iter().find(|s| s.depth == d && s.width == w) {
        None => "–".to_string(),
        Some(s) if s.diverged == s.runs => "diverged".to_string(),
        Some(s) if s.runs > 1 => format!(
            "{:.4} ({:.4}–{:.4})",
            s.final_test_acc.0, s.final_test_acc.1, s.final_test_acc.2
        ),
        Some(s) => format!("{:.4}", s.final_test_acc.0),
    };
    let rows = depths
        .iter()
        .map(|&d| {
            std::iter::once(d.to_string())
                .chain(widths.iter().map(|&w| cell(d, w)))
                .collect()
        })
        .collect();
    (header, rows)
}
