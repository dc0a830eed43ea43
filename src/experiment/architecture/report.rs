//! The architecture study's HTML report: question, answer, evidence, settings, tables, charts.

use super::analysis::{of_dataset, NetSummary, Stat};
use super::findings::Finding;
use super::sentences::{case_row, thousands};
use super::ArchitectureStudy;
use crate::report::Report;
use crate::Result;
use std::path::PathBuf;

impl ArchitectureStudy {
    /// The HTML report: question, answer, evidence, settings, tables, charts.
    pub(super) fn report(
        &self,
        nets: &[NetSummary],
        found: &[Finding],
        svgs: &[(PathBuf, String)],
    ) -> Result<Report> {
        let p = &self.plan;
        let mut r = Report::new("Study: convolution against MLPs — which suits which problem?");
        r.paragraph(
            "The question: how much does a convolution's weight sharing buy over a plain MLP on each dataset, at what \
             cost per sample, and where is an MLP the better choice? Each conv net is trained beside two MLPs: one \
             with about its parameter count, one with about its forward multiply-adds per sample — same optimizer, \
             batches and budget — on each dataset, with several seeds.",
        );
        r.heading("The answer");
        for finding in found.iter().filter(|f| f.is_answer()) {
            r.paragraph(&finding.to_string());
        }
        r.heading("What the measurements say");
        for finding in found.iter().filter(|f| !f.is_answer()) {
            r.paragraph(&finding.to_string());
        }
        r.heading("Settings");
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                format!(
                    "{} against 784-{w1}-10 and 784-{w2}-10",
                    g.conv,
                    w1 = g.params_width,
                    w2 = g.macs_width
                )
            })
            .collect();
        let rows = vec![
            vec!["networks".to_string(), groups.join("; ")],
            vec![
                "conv nets".into(),
                "the core's text form, ReLU after each conv and fc layer, He initialisation".into(),
            ],
            vec![
                "MLPs".into(),
                format!(
                    "{} hidden ReLU layer{} (He initialisation), the width whose parameters or multiply-adds come \
                     nearest the conv net's",
                    p.mlp_depth,
                    if p.mlp_depth == 1 { "" } else { "s" }
                ),
            ],
            vec![
                "datasets".into(),
                p.datasets.iter().map(|d| d.name()).collect::<Vec<_>>().join(", "),
            ],
            vec![
                "training".into(),
                format!(
                    "{} per run, batch {}, {} lr {}",
                    p.budget,
                    p.batch_size,
                    p.optimizer.book_name(),
                    p.learning_rate
                ),
            ],
            vec!["seeds per network".into(), p.seeds.to_string()],
            vec![
                "measurements".into(),
                format!(
                    "test accuracy on the whole test set and training accuracy on the first {} training images, {} \
                     times per tenfold of samples seen and at the end",
                    p.train_eval_rows, p.points_per_decade
                ),
            ],
            vec![
                "timing".into(),
                "runs are done one at a time; training seconds exclude evaluation; the machine may be shared"
                    .into(),
            ],
        ];
        r.settings(&rows);
        for dataset in &p.datasets {
            let here = of_dataset(nets, *dataset);
            if here.is_empty() {
                continue;
            }
            r.heading(&format!("{dataset}: every network"));
            let rows: Vec<Vec<String>> = here.iter().map(|n| table_row(n)).collect();
            r.table(
                &[
                    "network",
                    "kind",
                    "parameters",
                    "multiply-adds / sample",
                    "test error % (mean ± sd)",
                    "min–max %",
                    "train − test gap",
                    "µs / sample",
                    "training s",
                    "runs",
                ],
                &rows,
            );
        }
        for finding in found {
            let Finding::MlpBetter { dataset, cases, .. } = finding else {
                continue;
            };
            r.heading(&format!("{dataset}: where an MLP leads"));
            let rows: Vec<[String; 5]> = cases.iter().map(case_row).collect();
            r.table(
                &["conv net", "MLP", "condition", "MLP", "conv net"],
                &rows.iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
            );
        }
        r.paragraph(
            "Every run's numbers are in study.csv; the accuracy curves, summaries and findings (as data) in \
             study.json.",
        );
        r.charts(svgs)?;
        Ok(r)
    }
}

/// A network's line of the report's table.
fn table_row(n: &NetSummary) -> Vec<String> {
    let pct = |s: &Stat| format!("{:.2} ± {:.2}", 100.0 * s.mean, 100.0 * s.sd);
    let runs = match n.diverged {
        0 => n.runs.to_string(),
        d => format!("{} ({d} diverged)", n.runs),
    };
    vec![
        n.net.clone(),
        n.role.describe().into(),
        thousands(n.params),
        thousands(n.macs),
        pct(&n.test_error),
        format!(
            "{:.2}–{:.2}",
            100.0 * n.test_error.min,
            100.0 * n.test_error.max
        ),
        format!("{:+.4}", n.gap.mean),
        format!("{:.2} ± {:.2}", n.us_per_sample.mean, n.us_per_sample.sd),
        format!("{:.1}", n.train_s.mean),
        runs,
    ]
}
