//! The one-page HTML report of a run: settings, accuracy per epoch, losses.

use super::settings::ConfigFile;
use crate::report::{label, Report};
use crate::Result;
use scratchnet_core::train::History;
use std::path::Path;

/// The report of a run whose results are `history`, with its charts at `acc_svg` and
/// `loss_svg` and `note` (why it stopped early) at the top.
pub(super) fn run_report(
    config: &ConfigFile,
    history: &History,
    acc_svg: &Path,
    loss_svg: &Path,
    note: Option<&str>,
) -> Result<Report> {
    let s = config.settings;
    let mut r = Report::new(&format!(
        "scratchnet train: {} on {}",
        s.network.name(),
        s.dataset
    ));
    if let Some(note) = note {
        r.paragraph(note);
    }
    r.paragraph(&format!(
        "Final weights: train accuracy {:.4}, test accuracy {:.4} after {} iterations of batch {} ({:.2} s of updates, {:.2} s of evaluation).",
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
        vec!["learning_rate".into(), s.learning_rate.to_string()],
        vec!["iter_per_epoch".into(), config.iter_per_epoch.to_string()],
        vec!["sampling".into(), label(&s.train.sampling)],
        vec!["gradient".into(), label(&s.train.gradient)],
        vec!["seed".into(), s.train.seed.to_string()],
        vec![
            "train / test size".into(),
            format!("{} / {}", config.train_size, config.test_size),
        ],
    ]);
    r.settings(&settings);
    r.heading("Accuracy");
    r.svg(
        acc_svg,
        "Train (solid) and test (dashed) accuracy on the whole sets, per epoch.",
    )?;
    let rows: Vec<Vec<String>> = history
        .epochs
        .iter()
        .map(|e| {
            vec![
                e.epoch.to_string(),
                e.iteration.to_string(),
                format!("{:.4}", e.train_acc),
                format!("{:.4}", e.test_acc),
                format!("{:+.4}", e.train_acc - e.test_acc),
                format!("{:.2}", e.elapsed_s),
            ]
        })
        .collect();
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
    r.heading("Loss");
    r.svg(
        loss_svg,
        "Mini-batch loss of every iteration, with its moving average.",
    )?;
    Ok(r)
}
