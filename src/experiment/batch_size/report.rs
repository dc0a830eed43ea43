//! The batch-size study's HTML report: question, findings, settings, table, charts.

use super::analysis::SizeSummary;
use super::findings::findings;
use super::{BatchSizeStudy, LrScaling, REFERENCE_BATCH};
use crate::experiment::output::diverged_cell;
use crate::report::{label, Report};
use crate::Result;
use std::path::PathBuf;

impl BatchSizeStudy {
    /// The HTML report: question, settings, findings, table, charts.
    pub(super) fn report(
        &self,
        sizes: &[SizeSummary],
        svgs: &[(PathBuf, String)],
    ) -> Result<Report> {
        let p = &self.plan;
        let mut r = Report::new("Study: mini-batch size versus speed and accuracy");
        r.paragraph(
            "The question: how does the mini-batch size change training speed and accuracy, and which size is right? \
             One training run per batch size (and seed), everything else equal; each measured for speed, for how soon \
             it reaches the target test accuracy, for its final accuracies and for memory.",
        );
        r.heading("What the measurements say");
        for finding in findings(p, sizes) {
            r.paragraph(&finding.to_string());
        }
        r.heading("Settings");
        let b = &p.base;
        let rows = vec![
            vec!["batch sizes".to_string(), format!("{:?}", p.sizes)],
            vec!["budget per run".into(), p.budget.to_string()],
            vec!["network".into(), format!("{}, optimizer {}", b.network.describe(784, 10), label(&b.optimizer))],
            vec!["learning rate".into(), format!("{} at batch {REFERENCE_BATCH}, scaling {}", b.learning_rate, label(&p.lr_scaling))],
            vec!["sampling".into(), label(&b.train.sampling)],
            vec!["seeds per size".into(), p.seeds.to_string()],
            vec!["target test accuracy".into(), p.target.to_string()],
            vec!["dataset".into(), b.dataset.to_string()],
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
        let (headers, table) = self.size_table(sizes);
        r.table(&headers, &table);
        r.paragraph(
            "Figures are means over the seeds, with their range in brackets when there are several. Train s and eval s are \
             seconds of updates and of accuracy measurement per run. Peak MB is the whole process's resident memory during \
             the run, the dataset (about 220 MB) included.",
        );
        r.charts(svgs)?;
        Ok(r)
    }

    /// The "Per batch size" table: its headers and rows. A learning-rate column when
    /// `--lr-scaling` changes it per size; a notes column only when a size diverged.
    pub(super) fn size_table(
        &self,
        sizes: &[SizeSummary],
    ) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let p = &self.plan;
        let scaled = p.lr_scaling != LrScaling::None;
        let notes = sizes.iter().any(|s| s.diverged > 0);
        let mut headers = vec!["batch"];
        if scaled {
            headers.push("learning rate");
        }
        headers.extend([
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
        ]);
        if notes {
            headers.push("notes");
        }
        let rows = sizes
            .iter()
            .map(|s| {
                let to_target = s.to_target.map_or("never".to_string(), |(t, e)| {
                    format!("{t:.2} s / {e:.3} ep")
                });
                let mut row = vec![s.batch_size.to_string()];
                if scaled {
                    row.push(format!(
                        "{:.4}",
                        p.lr_scaling.apply(p.base.learning_rate, s.batch_size)
                    ));
                }
                row.extend([
                    format!("{:.0}", s.updates),
                    format!("{:.4}", s.median_update_ms),
                    ranged(s.runs, s.samples_per_s, |v| format!("{v:.0}")),
                    format!("{:.0}", s.updates_per_s),
                    to_target,
                    format!("{:.4}", s.final_train_acc),
                    ranged(s.runs, s.final_test_acc, |v| format!("{v:.4}")),
                    format!("{:.4}", s.best_test_acc),
                    ranged(s.runs, s.gap, |v| format!("{v:+.4}")),
                    format!("{:.2}", s.train_s),
                    format!("{:.2}", s.eval_s),
                    format!("{:.0}", s.peak_rss_mb),
                ]);
                if notes {
                    row.push(diverged_cell(s.diverged));
                }
                row
            })
            .collect();
        (headers, rows)
    }
}

/// A figure over `runs` seeds: the mean, then with several seeds the range, kept on one line
/// by no-break spaces ("0.8951 (0.8948 to 0.8954)": a cell wraps at most before the bracket).
pub(super) fn ranged(runs: usize, (mean, lo, hi): (f64, f64, f64), f: fn(f64) -> String) -> String {
    match runs {
        0 | 1 => f(mean),
        _ => format!("{} ({}\u{a0}to\u{a0}{})", f(mean), f(lo), f(hi)),
    }
}
