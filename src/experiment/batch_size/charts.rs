//! The batch-size study's charts: accuracy curves against time and epochs, and throughput,
//! final accuracy and gap against the batch size.

use super::analysis::{mean_curve, SizeSummary};
use super::{BatchOutcome, BatchSizePlan};
use crate::experiment::output::Charts;
use crate::experiment::CurvePoint;
use crate::plot::lines::{Corner, LineChart, Series};

/// The study's charts: (file stem, chart, caption).
pub fn charts(
    plan: &BatchSizePlan,
    outcomes: &[BatchOutcome],
    sizes: &[SizeSummary],
) -> Charts<LineChart> {
    let curves = |x: fn(&CurvePoint) -> f64| -> Vec<Series> {
        sizes
            .iter()
            .filter(|s| s.runs > 0)
            .map(|s| Series {
                name: format!("batch {}", s.batch_size),
                points: mean_curve(outcomes, s.batch_size)
                    .iter()
                    .map(|p| (x(p), p.test_acc))
                    .filter(|p| p.0 > 0.0)
                    .collect(),
                ..Series::default()
            })
            .collect()
    };
    // (batch size, mean) points and their (min, max) spreads.
    type Points = Vec<(f64, f64)>;
    let per_size = |f: fn(&SizeSummary) -> (f64, f64, f64)| -> (Points, Points) {
        sizes
            .iter()
            .filter(|s| s.runs > 0)
            .map(|s| {
                let (mean, lo, hi) = f(s);
                ((s.batch_size as f64, mean), (lo, hi))
            })
            .unzip()
    };
    let (throughput, throughput_spread) = per_size(|s| s.samples_per_s);
    // Throughput is drawn from 0, so heights compare as ratios.
    let fastest = throughput_spread
        .iter()
        .map(|p| p.1)
        .chain(throughput.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let (test_acc, test_spread) = per_size(|s| s.final_test_acc);
    let (gap, gap_spread) = per_size(|s| s.gap);
    let train_acc: Vec<(f64, f64)> = sizes
        .iter()
        .filter(|s| s.runs > 0)
        .map(|s| (s.batch_size as f64, s.final_train_acc))
        .collect();
    let seeds = if plan.seeds > 1 {
        format!(" (mean of {} seeds; bars: min–max)", plan.seeds)
    } else {
        String::new()
    };
    let charts = vec![
        (
            "accuracy_vs_time",
            LineChart {
                title: "Test accuracy against seconds of training".into(),
                x_label: "seconds of updates (log scale; evaluation excluded)".into(),
                y_label: "test accuracy".into(),
                log_x: true,
                y_range: Some(0.0..1.0),
                series: curves(|p| p.train_s),
                legend: Corner::UpperLeft,
            },
            "Test accuracy against wall-clock seconds of updates, one curve per batch size.",
        ),
        (
            "accuracy_vs_epochs",
            LineChart {
                title: "Test accuracy against epochs".into(),
                x_label: "epochs = samples seen / training set size (log scale)".into(),
                y_label: "test accuracy".into(),
                log_x: true,
                y_range: Some(0.0..1.0),
                series: curves(|p| p.epochs),
                legend: Corner::UpperLeft,
            },
            "Test accuracy against samples seen (in epochs), one curve per batch size.",
        ),
        (
            "throughput",
            LineChart {
                title: format!("Training throughput{seeds}"),
                x_label: "batch size (log scale)".into(),
                y_label: "samples per second".into(),
                log_x: true,
                y_range: Some(0.0..(fastest * 1.08).max(1.0)),
                series: vec![Series { name: "samples/s".into(), points: throughput, spread: Some(throughput_spread), ..Series::default() }],
                legend: Corner::LowerRight,
            },
            "Training samples processed per second of updates, against the batch size.",
        ),
        (
            "final_accuracy",
            LineChart {
                title: format!("Final accuracy{seeds}"),
                x_label: "batch size (log scale)".into(),
                y_label: "accuracy".into(),
                log_x: true,
                y_range: None,
                series: vec![
                    Series { name: "test".into(), points: test_acc, spread: Some(test_spread), ..Series::default() },
                    Series { name: "train (subset)".into(), points: train_acc, dashed: true, ..Series::default() },
                ],
                legend: Corner::UpperRight,
            },
            "Final test accuracy (solid) and training-subset accuracy (dashed) against the batch size.",
        ),
        (
            "gap",
            LineChart {
                title: format!("Train − test gap{seeds}"),
                x_label: "batch size (log scale)".into(),
                y_label: "train acc − test acc".into(),
                log_x: true,
                y_range: None,
                series: vec![Series { name: "gap".into(), points: gap, spread: Some(gap_spread), ..Series::default() }],
                legend: Corner::UpperRight,
            },
            "The gap between final training-subset and test accuracy: positive means overfitting.",
        ),
    ];
    charts
        .into_iter()
        .map(|(stem, chart, caption)| (stem.to_string(), chart, caption.to_string()))
        .collect()
}
