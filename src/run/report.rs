//! The one-page HTML report of a run: settings, accuracy per epoch and of the final weights, losses.

use super::settings::{ConfigFile, NetworkSpec};
use crate::report::{label, Report};
use crate::Result;
use scratchnet_core::train::History;
use std::path::{Path, PathBuf};

/// One figure of a run: its SVG (embedded in the report) and the report's caption for it.
pub struct Figure {
    /// The SVG file (a PNG of the same name is beside it).
    pub svg: PathBuf,
    /// What the report says under it.
    pub caption: String,
}

/// A run's charts, written before its report.
pub(super) struct Charts<'a> {
    /// Accuracy per epoch (SVG).
    pub accuracy: &'a Path,
    /// Loss per iteration (SVG).
    pub loss: &'a Path,
    /// A conv net's figures ([`super::figures::write`]), rows shown side by side.
    pub figures: &'a [Vec<Figure>],
}

/// The report of a run whose results are `history`, with its `charts`, `note` (why it stopped
/// early) at the top, and whether `model` (the final weights, when finite) was written.
pub(super) fn run_report(
    config: &ConfigFile,
    history: &History,
    charts: &Charts,
    note: Option<&str>,
    model: bool,
) -> Result<Report> {
    let (acc_svg, loss_svg) = (charts.accuracy, charts.loss);
    let s = config.settings;
    let mut r = Report::new(&format!(
        "scratchnet train: {} on {}",
        s.network.name(),
        s.dataset
    ));
    if let Some(note) = note {
        r.paragraph(note);
    }
    // Weights that are not finite predict nothing: their "accuracy" is an artefact of argmax.
    let meaningless = if model {
        ""
    } else {
        " — weights that are not finite numbers, so these accuracies mean nothing"
    };
    r.paragraph(&format!(
        "Final weights: train accuracy {:.4}, test accuracy {:.4} after {} iterations of batch {} ({:.2} s of updates, {:.2} s of evaluation){meaningless}.",
        history.final_train_acc, history.final_test_acc, history.train_loss_list.len(), s.train.batch_size, history.train_seconds, history.eval_seconds
    ));
    r.heading("Settings");
    let mut settings = vec![vec![
        "network".to_string(),
        format!(
            "{} ({} parameters)",
            s.network.shape(config.input_size, config.output_size),
            config.parameters
        ),
    ]];
    if let NetworkSpec::ConvNet(_) = s.network {
        let multiply_adds = s
            .network
            .multiply_adds(config.input_size, config.output_size);
        settings.push(vec![
            "multiply-adds per sample".to_string(),
            format!("{} (forward pass)", thousands(multiply_adds)),
        ]);
    }
    settings.extend(
        s.network
            .option_rows()
            .into_iter()
            .map(|(name, value)| vec![name.to_string(), value]),
    );
    settings.extend([
        vec!["optimizer".into(), label(&s.optimizer)],
        vec!["iters_num".into(), s.train.iters_num.to_string()],
        vec!["batch_size".into(), s.train.batch_size.to_string()],
        vec!["learning_rate".into(), compact(s.learning_rate)],
        vec!["iter_per_epoch".into(), config.iter_per_epoch.to_string()],
        vec!["sampling".into(), label(&s.train.sampling)],
        vec!["gradient".into(), label(&s.train.gradient)],
        vec!["seed".into(), s.train.seed.to_string()],
        vec![
            "train / test size".into(),
            format!("{} / {}", config.train_size, config.test_size),
        ],
    ]);
    if let Some(n) = s.train.eval.evaluate_sample_num_per_epoch() {
        settings.push(vec![
            "evaluate_sample_num_per_epoch".into(),
            format!("{n} (each epoch; the whole test set at the end)"),
        ]);
    }
    r.settings(&settings);
    r.heading("Accuracy");
    let caption = match s.train.eval.evaluate_sample_num_per_epoch() {
        None => {
            "Train (solid) and test (dashed) accuracy on the whole sets, per epoch.".to_string()
        }
        Some(n) => format!(
            "Train (solid) and test (dashed) accuracy on the first {n} images of each set, per \
             epoch (the book's evaluate_sample_num_per_epoch); the final weights on the whole \
             test set."
        ),
    };
    r.svg(acc_svg, &caption)?;
    let rows = epoch_rows(history);
    r.table(
        &[
            "epoch",
            "iteration",
            "train acc",
            "test acc",
            "gap",
            "elapsed s",
        ],
        &rows,
    );
    r.paragraph(if model {
        "The last row is the final weights, the ones model.safetensors holds; its elapsed time is \
         the seconds of updates and of evaluation."
    } else {
        "The last row is the final weights, which were not finite numbers and were not saved; its \
         elapsed time is the seconds of updates and of evaluation."
    });
    r.heading("Loss");
    r.svg(
        loss_svg,
        "Mini-batch loss of every iteration, with its moving average.",
    )?;
    if !charts.figures.is_empty() {
        r.heading("What the network learned");
    }
    for row in charts.figures {
        let row: Vec<(&Path, &str)> = row
            .iter()
            .map(|f| (f.svg.as_path(), f.caption.as_str()))
            .collect();
        r.svg_row(&row)?;
    }
    Ok(r)
}

/// The per-epoch table's rows, then a row for the final weights (what model.safetensors holds).
fn epoch_rows(history: &History) -> Vec<Vec<String>> {
    let row = |epoch: String, iteration: String, train: f64, test: f64, elapsed: String| {
        vec![
            epoch,
            iteration,
            format!("{train:.4}"),
            format!("{test:.4}"),
            format!("{:+.4}", train - test),
            elapsed,
        ]
    };
    let mut rows: Vec<Vec<String>> = history
        .epochs
        .iter()
        .map(|e| {
            row(
                e.epoch.to_string(),
                e.iteration.to_string(),
                e.train_acc,
                e.test_acc,
                format!("{:.2}", e.elapsed_s),
            )
        })
        .collect();
    if let Some(last) = history.train_loss_list.len().checked_sub(1) {
        rows.push(row(
            "final weights".into(),
            last.to_string(),
            history.final_train_acc,
            history.final_test_acc,
            format!("{:.2}", history.train_seconds + history.eval_seconds),
        ));
    }
    rows
}

/// A count with its thousands apart: `867,600`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A number as a person writes it: `0.1`, but `1e308` rather than 309 digits.
fn compact(x: f64) -> String {
    if x != 0.0 && !(1e-4..1e6).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scratchnet_core::train::EpochRecord;

    #[test]
    fn numbers_too_large_or_small_for_digits_are_written_with_an_exponent() {
        assert_eq!(compact(0.1), "0.1");
        assert_eq!(compact(0.001), "0.001");
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(1e308), "1e308");
        assert_eq!(compact(1e-7), "1e-7");
        assert_eq!(compact(2.5e6), "2.5e6");
        assert_eq!(thousands(867_600), "867,600");
        assert_eq!(thousands(8_784_000), "8,784,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(0), "0");
    }

    #[test]
    fn the_table_ends_with_the_final_weights() {
        let history = History {
            train_loss_list: vec![2.3; 1200],
            epochs: vec![EpochRecord {
                epoch: 1,
                iteration: 600,
                samples_seen: 60_100,
                train_acc: 0.9,
                test_acc: 0.89,
                elapsed_s: 1.5,
                train_s: 1.0,
                val_acc: None,
            }],
            train_seconds: 2.0,
            eval_seconds: 0.75,
            final_train_acc: 0.93,
            final_test_acc: 0.925,
            ..History::default()
        };
        let rows = epoch_rows(&history);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], ["1", "600", "0.9000", "0.8900", "+0.0100", "1.50"]);
        assert_eq!(
            rows[1],
            [
                "final weights",
                "1199",
                "0.9300",
                "0.9250",
                "+0.0050",
                "2.75"
            ]
        );
        assert!(epoch_rows(&History::default()).is_empty());
    }
}
