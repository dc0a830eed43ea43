//! The run report's section on the training tools: the learning-rate schedule (and its curve),
//! the validation split with the best validation accuracy and early stopping, augmentation.

use super::settings::ConfigFile;
use crate::plot::lines::{Corner, LineChart, Series};
use crate::report::Report;
use crate::Result;
use scratchnet_core::train::History;
use std::path::PathBuf;

/// The files of the tools a run wrote: the learning-rate chart's and augmentation chart's
/// SVG, the best weights.
pub(super) struct ToolFiles {
    pub learning_rate: Option<PathBuf>,
    pub augmentation: Option<PathBuf>,
    pub best: Option<PathBuf>,
}

/// Points of the learning-rate curve at most (the rate of every k-th update).
const CURVE_POINTS: usize = 1000;

/// The rate of update `i` of the run `config` describes.
fn rate_at(config: &ConfigFile, i: usize) -> f64 {
    let s = config.settings;
    s.train.tools.schedule.learning_rate(
        s.learning_rate,
        i,
        s.train.iters_num,
        config.iter_per_epoch,
    )
}

/// The learning rate of the updates made, when a schedule changes it.
pub(super) fn learning_rate_chart(config: &ConfigFile, history: &History) -> Option<LineChart> {
    let schedule = config.settings.train.tools.schedule;
    let updates = history.train_loss_list.len();
    if schedule.is_constant() || updates == 0 {
        return None;
    }
    let every = updates.div_ceil(CURVE_POINTS).max(1);
    let epochs = |i: usize| i as f64 / config.iter_per_epoch as f64;
    let points = (0..updates)
        .step_by(every)
        .chain([updates - 1])
        .map(|i| (epochs(i), rate_at(config, i)))
        .collect();
    Some(LineChart {
        title: format!("Learning rate: {}", describe_schedule(config)),
        x_label: "epochs".into(),
        y_label: "learning rate".into(),
        log_x: false,
        y_range: Some(0.0..config.settings.learning_rate * 1.05),
        series: vec![Series {
            name: "learning rate".into(),
            points,
            ..Series::default()
        }],
        legend: Corner::UpperRight,
    })
}

/// `step:5:0.5 after 1 epoch of warm-up`, `constant`.
fn describe_schedule(config: &ConfigFile) -> String {
    let schedule = config.settings.train.tools.schedule;
    match schedule.warmup_epochs {
        0.0 => schedule.decay.to_string(),
        w => format!(
            "{} after {w} epoch{} of linear warm-up ({} updates)",
            schedule.decay,
            if w == 1.0 { "" } else { "s" },
            schedule.warmup_iters(config.iter_per_epoch)
        ),
    }
}

/// Adds the tools' section to `r` when the run used any tool.
pub(super) fn section(
    r: &mut Report,
    config: &ConfigFile,
    history: &History,
    files: &ToolFiles,
) -> Result<()> {
    let tools = &config.settings.train.tools;
    if *tools == Default::default() {
        return Ok(());
    }
    r.heading("Training tools");
    let mut rows = vec![
        vec![
            "learning-rate schedule".to_string(),
            describe_schedule(config),
        ],
        vec!["augmentation".into(), tools.augment.to_string()],
    ];
    if tools.validation > 0 {
        rows.push(vec![
            "validation".into(),
            format!(
                "the last {} training images, held out (never trained on)",
                tools.validation
            ),
        ]);
        rows.push(vec![
            "patience".into(),
            tools
                .patience
                .map_or("none (no early stopping)".into(), |k| {
                    format!("{k} evaluations without a better validation accuracy")
                }),
        ]);
    }
    r.settings(&rows);
    if let Some(updates) = history.stopped_early {
        r.paragraph(&format!(
            "Stopped early after {updates} of {} updates: {} evaluations in a row brought no \
             better validation accuracy.",
            config.settings.train.iters_num,
            tools.patience.unwrap_or(0)
        ));
    }
    if let Some(best) = &history.best {
        let kept = match &files.best {
            Some(_) => "; its weights are best.safetensors",
            None => "",
        };
        r.paragraph(&format!(
            "Best validation accuracy {:.4} at epoch {} (iteration {}), where the test accuracy \
             was {:.4}{kept}.",
            best.val_acc.unwrap_or(f64::NAN),
            best.epoch,
            best.iteration,
            best.test_acc
        ));
    }
    r.table(
        &["epoch", "iteration", "learning rate", "val acc", "test acc"],
        &epoch_rows(config, history),
    );
    if let Some(svg) = &files.learning_rate {
        r.svg(svg, "The learning rate of every update.")?;
    }
    if let Some(svg) = &files.augmentation {
        r.svg(
            svg,
            "Training images (top row) and distorted draws of each (rows below), as the \
             augmentation redraws every mini-batch.",
        )?;
    }
    Ok(())
}

/// Per measurement: epoch, iteration, the rate of that update, validation and test accuracy.
fn epoch_rows(config: &ConfigFile, history: &History) -> Vec<Vec<String>> {
    history
        .epochs
        .iter()
        .map(|e| {
            vec![
                e.epoch.to_string(),
                e.iteration.to_string(),
                rate_text(rate_at(config, e.iteration)),
                e.val_acc.map_or("-".into(), |a| format!("{a:.4}")),
                format!("{:.4}", e.test_acc),
            ]
        })
        .collect()
}

/// A rate to six decimals, without trailing zeros: `0.05`, `0.000123`.
fn rate_text(rate: f64) -> String {
    let text = format!("{rate:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Training images shown with the augmentation's distortions.
const SHOWN: usize = 10;
/// Distorted draws of each.
const DRAWS: usize = 3;

/// The first training images and [`DRAWS`] distorted draws of each (from the run's seed), when
/// the run augments its batches.
pub(super) fn augmentation_chart(
    settings: &super::TrainSettings,
    data: scratchnet_core::train::TrainData<f32>,
) -> Result<Option<crate::plot::augment::AugmentedDigits>> {
    let train = &settings.train;
    let input_size = data.x_train.ncols();
    let Some(mut augmenter) = train.tools.augmenter(input_size, train.seed)? else {
        return Ok(None);
    };
    let shown = SHOWN.min(data.x_train.nrows());
    let originals = data.x_train.slice_rows(0..shown).to_dense().into_owned();
    let mut rows = vec![originals.clone()];
    for draw in 0..DRAWS {
        let mut images = originals.clone();
        augmenter.apply(&mut images, draw);
        rows.push(images);
    }
    Ok(Some(crate::plot::augment::AugmentedDigits {
        spec: train.tools.augment.to_string(),
        rows,
    }))
}
