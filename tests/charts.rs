//! The chart types drawn from numbers whose picture is known: both files are read back (the
//! SVG's elements, the PNG's pixels) to check that what the numbers say is what is drawn.

use crate::common::*;

use ndarray::{array, Array2};
use scratchnet::data::DatasetKind;
use scratchnet::plot::eval::{ConfusionChart, GridLayout, MisclassifiedGrid};
use scratchnet::plot::heatmap::{Heatmap, HistogramGrid, HistogramRow};
use scratchnet::plot::lines::{Corner, LineChart, Series};
use scratchnet::plot::save;
use scratchnet::plot::training::AccuracyChart;
use scratchnet_core::train::EpochRecord;

/// The first series' colour (matplotlib's blue).
const BLUE: &str = "#1F77B4";

#[test]
fn a_log_axis_line_chart_places_its_points_by_log10_and_draws_their_spreads() {
    let dir = tempfile::tempdir().unwrap();
    let points = vec![(1.0, 2.0), (100.0, 5.0), (60000.0, 4.0)];
    let spread = vec![(1.5, 2.5), (4.0, 6.0), (3.0, 4.5)];
    let chart = LineChart {
        title: "throughput".into(),
        x_label: "batch size".into(),
        y_label: "samples/s".into(),
        log_x: true,
        series: vec![Series {
            name: "seed 0".into(),
            points: points.clone(),
            spread: Some(spread.clone()),
            ..Series::default()
        }],
        ..LineChart::default()
    };
    let [svg_path, png_path] = save(&chart, dir.path(), "c").unwrap();
    let text = svg(&svg_path, (800, 500));
    let lines = polylines(&text, BLUE);
    let line = lines
        .iter()
        .find(|l| l.len() == 3)
        .unwrap_or_else(|| panic!("no 3-point line: {lines:?}"));
    // x = 1, 100, 60000 on a log axis: 0, 2 and 4.778 decades (linear, the first two would
    // nearly coincide).
    let placed: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (x.log10(), y)).collect();
    assert_plotted(line, &placed);
    // y = 2, 5, 4: SVG's y grows downwards.
    assert!(line[1].1 < line[2].1 && line[2].1 < line[0].1, "{line:?}");
    // One vertical bar per point, from its low to its high, around the point.
    let bars: Vec<&Vec<(f64, f64)>> = lines
        .iter()
        .filter(|l| l.len() == 2 && l[0].0 == l[1].0)
        .collect();
    assert_eq!(bars.len(), 3, "{lines:?}");
    for ((bar, point), (lo, hi)) in bars.iter().zip(line).zip(&spread) {
        assert_eq!(bar[0].0, point.0);
        let (top, bottom) = (bar[0].1.min(bar[1].1), bar[0].1.max(bar[1].1));
        assert!(
            top < point.1 && point.1 < bottom,
            "{bar:?} around {point:?}"
        );
        // Pixels per unit of y, as the bar and the line agree.
        let scale = (bottom - top) / (hi - lo);
        assert!(scale > 10.0, "{bar:?} for {lo}..{hi}");
    }
    let texts = svg_texts(&text);
    for label in ["throughput", "batch size", "samples/s", "seed 0"] {
        assert!(texts.iter().any(|t| t == label), "{label} not in {texts:?}");
    }
    let image = png(&png_path, (800, 500));
    let drawn = pixels_of(&image, rgb(BLUE));
    assert!(drawn > 300, "{drawn} pixels of the series' colour");
}

#[test]
fn a_heatmap_shades_each_cell_by_its_value_and_leaves_missing_ones_blank() {
    let dir = tempfile::tempdir().unwrap();
    let map = Heatmap {
        title: "test accuracy".into(),
        columns: vec!["16".into(), "50".into()],
        rows: vec!["2".into(), "1".into()],
        values: vec![vec![Some(0.9), None], vec![Some(0.8), Some(0.95)]],
        decimals: 3,
        ..Heatmap::default()
    };
    let [svg_path, png_path] = save(&map, dir.path(), "map").unwrap();
    // (170 + 110·2).max(500) + 100 (the colour scale) × (150 + 70·2)
    assert_heatmap(
        &svg_path,
        &png_path,
        (600, 290),
        &["16", "50"],
        &["2", "1"],
        &map.values,
        3,
    );
}

#[test]
fn a_histogram_grid_draws_each_bar_to_its_fraction() {
    let dir = tempfile::tempdir().unwrap();
    let grid = HistogramGrid {
        title: "activations".into(),
        rows: vec![HistogramRow {
            label: "sigmoid, std 1".into(),
            range: (0.0, 1.0),
            layers: vec![vec![0.5, 0.5], vec![1.0, 0.0], vec![0.2, 0.8]],
        }],
    };
    let [svg_path, png_path] = save(&grid, dir.path(), "hist").unwrap();
    // 3 columns of 240 + 20, one row of 210 + 26, + 50.
    let text = svg(&svg_path, (740, 286));
    let texts = svg_texts(&text);
    for label in [
        "activations",
        "sigmoid, std 1",
        "layer 1",
        "layer 2",
        "layer 3",
        "activation",
        "fraction",
    ] {
        assert!(texts.iter().any(|t| t == label), "{label} not in {texts:?}");
    }
    let mut bars: Vec<(f64, f64)> = svg_elements(&text, "rect")
        .iter()
        .filter(|r| r["fill"] == BLUE)
        .map(|r| (attr(r, "x"), attr(r, "height")))
        .collect();
    bars.sort_by(|a, b| a.0.total_cmp(&b.0));
    let heights: Vec<f64> = bars.iter().map(|b| b.1).collect();
    // Each histogram is scaled to its own tallest bin: 0.5|0.5 and 1.0 reach the same height,
    // 0.0 none, and 0.2 a quarter of 0.8's.
    assert!(heights.len() >= 5, "{bars:?}");
    let full = heights[0];
    assert!(full > 50.0, "{heights:?}");
    let close = |a: f64, b: f64| (a - b).abs() <= 1.0;
    let nonzero: Vec<f64> = heights.iter().copied().filter(|&h| h > 0.0).collect();
    assert_eq!(nonzero.len(), 5, "{heights:?}");
    assert!(
        close(nonzero[1], full) && close(nonzero[2], full),
        "{heights:?}"
    );
    assert!(
        close(nonzero[4], full) && close(nonzero[3], full / 4.0),
        "{heights:?}"
    );
    let image = png(&png_path, (740, 286));
    assert!(pixels_of(&image, rgb(BLUE)) > 5 * 50 * 20);
}

#[test]
fn a_confusion_chart_shades_its_cells_by_count() {
    let dir = tempfile::tempdir().unwrap();
    let confusion: Array2<usize> = array![[50, 0, 3], [2, 40, 0], [0, 7, 45]];
    let [svg_path, png_path] = save(
        &ConfusionChart {
            confusion: &confusion,
        },
        dir.path(),
        "confusion",
    )
    .unwrap();
    let counts: Vec<Vec<u64>> = confusion
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|&c| c as u64).collect())
        .collect();
    confusion_chart(&svg_path, &png_path, &counts);
}

#[test]
fn the_misclassified_grid_draws_each_image_with_its_labels() {
    let dir = tempfile::tempdir().unwrap();
    // An all-ink image, then a blank one.
    let mut images = Array2::<f32>::zeros((2, 784));
    images.row_mut(0).fill(1.0);
    let grid = MisclassifiedGrid {
        images: images.view(),
        labels: &[(0, 8), (9, 5)],
        class_names: &DatasetKind::FashionMnist.class_names(),
        layout: GridLayout::EVAL,
    };
    let [svg_path, png_path] = save(&grid, dir.path(), "misclassified").unwrap();
    // Ten 80-pixel columns + 20; one 82-pixel row + 60.
    let text = svg(&svg_path, (820, 142));
    let texts = svg_texts(&text);
    assert_eq!(
        texts[1..],
        ["T-shirt/top → Bag", "Ankle boot → Sandal"],
        "{texts:?}"
    );
    let image = png(&png_path, (820, 142));
    // Each image is 56×56 pixels (28×28, twice), the first at (10, 45), the next 80 to its right.
    let ink = |x0: u32| {
        (0..56)
            .flat_map(|dy| (0..56).map(move |dx| (x0 + dx, 45 + dy)))
            .filter(|&(x, y)| image.get_pixel(x, y).0 == [0, 0, 0])
            .count()
    };
    assert_eq!(ink(10), 56 * 56, "the all-ink image is black");
    assert_eq!(ink(90), 0, "the blank image is white");
    // The SVG holds the images as one PNG picture, not a rectangle per pixel.
    assert!(
        svg_elements(&text, "rect").len() <= 1,
        "only the background"
    );
    let ((x, y), pixels) = svg_image(&text);
    let at = |px: u32, py: u32| pixels.get_pixel(px - x as u32, py - y as u32).0;
    for (dx, dy) in [(0, 0), (55, 0), (27, 30), (55, 55)] {
        assert_eq!(at(10 + dx, 45 + dy), [0, 0, 0, 255], "ink at +({dx}, {dy})");
        assert_eq!(
            at(90 + dx, 45 + dy),
            [255, 255, 255, 255],
            "blank at +({dx}, {dy})"
        );
    }
    // Around the images, the picture is see-through (the captions show).
    assert_eq!(at(9, 44)[3], 0);
    assert_eq!(at(10, 45 + 56)[3], 0);
}

/// An epoch mark of a run: accuracies measured after `iteration`.
fn mark(iteration: usize, train_acc: f64, test_acc: f64) -> EpochRecord {
    EpochRecord {
        epoch: iteration / 600,
        iteration,
        samples_seen: (iteration + 1) * 100,
        train_acc,
        test_acc,
        elapsed_s: 0.0,
        train_s: 0.0,
        val_acc: None,
    }
}

#[test]
fn a_run_shorter_than_an_epoch_draws_its_accuracy_to_the_final_weights() {
    let dir = tempfile::tempdir().unwrap();
    // 450 updates of 600 per epoch: one mark (iteration 0), then the end at 0.75 epochs.
    let chart = AccuracyChart {
        epochs: &[mark(0, 0.1, 0.12)],
        iter_per_epoch: 600,
        iterations: 450,
        final_acc: (0.9610, 0.9546),
    };
    let [svg_path, png_path] = save(&chart, dir.path(), "accuracy").unwrap();
    let text = svg(&svg_path, (800, 500));
    // x ticks are distinct fractions of an epoch.
    let x_ticks = ticks(&text, 0);
    let labels: Vec<String> = x_ticks.iter().map(|t| format!("{}", t.0)).collect();
    let mut distinct = labels.clone();
    distinct.dedup();
    assert!(x_ticks.len() >= 4 && distinct == labels, "{labels:?}");
    assert!(x_ticks.iter().any(|t| t.0 > 0.0 && t.0 < 1.0), "{labels:?}");
    // The train line goes from the mark at 0 to the final weights at 0.75 epochs.
    let train = polylines(&text, "#0000FF");
    let line = train.iter().find(|l| l.len() == 2).expect("a 2-point line");
    assert_on_axis(&text, 0, line, &[(0.0, 0.1), (0.75, 0.961)]);
    assert_on_axis(&text, 1, line, &[(0.0, 0.1), (0.75, 0.961)]);
    // The final accuracies are marked, each with its value written beside it.
    let finals = [(0.75, 0.961), (0.75, 0.9546)];
    let marks: Vec<(f64, f64)> = ["#0000FF", "#FF0000"]
        .iter()
        .map(|c| *circles(&text, c).last().expect("a final mark"))
        .collect();
    assert_on_axis(&text, 0, &marks, &finals);
    assert_on_axis(&text, 1, &marks, &finals);
    let texts = svg_texts(&text);
    for label in ["0.9610", "0.9546", "final weights (450 iterations)"] {
        assert!(texts.iter().any(|t| t == label), "{label} not in {texts:?}");
    }
    let image = png(&png_path, (800, 500));
    assert!(pixels_of(&image, [0, 0, 255]) > 300);
}

#[test]
fn a_single_value_gets_distinct_ticks() {
    let dir = tempfile::tempdir().unwrap();
    let chart = LineChart {
        series: vec![Series {
            name: "one".into(),
            points: vec![(0.25, 0.9546)],
            ..Series::default()
        }],
        ..LineChart::default()
    };
    let [svg_path, _] = save(&chart, dir.path(), "one").unwrap();
    let text = svg(&svg_path, (800, 500));
    for axis in [0, 1] {
        let labels: Vec<String> = ticks(&text, axis).iter().map(|t| t.0.to_string()).collect();
        let mut distinct = labels.clone();
        distinct.sort();
        distinct.dedup();
        assert!(
            labels.len() >= 2 && distinct.len() == labels.len(),
            "axis {axis}: {labels:?}"
        );
    }
    assert_on_axis(&text, 1, &circles(&text, BLUE), &[(0.25, 0.9546)]);
}

#[test]
fn log_ticks_fall_on_1_2_5_and_the_legend_avoids_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let points = vec![(10.0, 0.97), (100.0, 0.96), (1000.0, 0.9)];
    let chart = LineChart {
        log_x: true,
        legend: Corner::UpperRight,
        series: vec![
            Series {
                name: "test".into(),
                points: points.clone(),
                ..Series::default()
            },
            Series {
                name: "train (subset)".into(),
                points: points.iter().map(|&(x, y)| (x, y + 0.01)).collect(),
                dashed: true,
                ..Series::default()
            },
            Series {
                name: "again".into(),
                points: points.clone(),
                ..Series::default()
            },
        ],
        ..LineChart::default()
    };
    let [svg_path, png_path] = save(&chart, dir.path(), "log").unwrap();
    let expected = |name: &str, dashed: bool, dy: f64| ExpectedSeries {
        name: name.into(),
        dashed,
        values: points.iter().map(|&(x, y)| (x, y + dy)).collect(),
    };
    // The first line lies under the third: the legend says so; the second is dashed, its
    // sample too; and no mark is under the legend (the upper right holds data).
    let text = assert_line_chart(
        &svg_path,
        &png_path,
        true,
        &[
            expected("test (same as again)", false, 0.0),
            expected("train (subset)", true, 0.01),
            expected("again", false, 0.0),
        ],
    );
    let x_ticks: Vec<f64> = ticks(&text, 0).iter().map(|t| t.0).collect();
    assert_eq!(x_ticks, [10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]);
}
