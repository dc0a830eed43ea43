//! What chapters 7 and 8 draw of a trained conv net, for its run folder and report: the first
//! layer's filters before and after training (figure 7-24), the first test image's feature
//! maps through the layers, and the first 20 misclassified test images (chapter 8).
//!
//! The filters before training are W1 as the run drew it from its seed — drawn again here by the
//! same code ([`super::initial_net`]), so a resumed run, whose start is long gone, shows them too.

use super::dir::FIGURE_STEMS;
use super::report::Figure;
use super::{RunNetwork, TrainSettings};
use crate::data::Dataset;
use crate::eval::{conv_filters, evaluate, save_filter_grid};
use crate::plot::conv::FeatureMaps;
use crate::plot::eval::{GridLayout, MisclassifiedGrid};
use crate::Result;
use ndarray::{Array3, ArrayView4, Axis};
use scratchnet_core::data::idx::NUM_CLASSES;
use std::path::{Path, PathBuf};

/// The misclassified test images chapter 8 shows.
pub const MISCLASSIFIED_SHOWN: usize = 20;

/// Draws `filters` into `dir/stem.{svg,png}` titled `title`; returns the SVG.
fn save_filters(dir: &Path, stem: &str, title: &str, filters: ArrayView4<f32>) -> Result<PathBuf> {
    let [svg, _png] = save_filter_grid(dir, stem, title, filters)?;
    Ok(svg)
}

/// The first test image's feature maps, led by the image itself (1, side, side).
fn feature_maps<N: RunNetwork>(net: &N, dataset: &Dataset) -> Option<Vec<(String, Array3<f32>)>> {
    let first = dataset.x_test.rows_dense(0..1);
    let image = first.row(0);
    let mut maps = net.feature_maps(image)?;
    let side = (image.len() as f64).sqrt() as usize;
    if let Ok(input) = image.to_owned().into_shape_with_order((1, side, side)) {
        maps.insert(0, ("Input".to_string(), input));
    }
    Some(maps)
}

/// Writes a conv net's figures into `dir` — filters_initial, filters, feature_maps and
/// misclassified (SVG and PNG each) — and returns them for the report as rows of figures shown
/// side by side (the filters before and after training, then one figure a row); nothing for a
/// network whose first layer is not a convolution.
pub fn write<N: RunNetwork>(
    dir: &Path,
    settings: &TrainSettings,
    net: &N,
    dataset: &Dataset,
) -> Result<Vec<Vec<Figure>>> {
    let Some(after) = conv_filters(net) else {
        return Ok(Vec::new());
    };
    let initial: N = super::initial_net(settings, dataset.x_train.ncols(), NUM_CLASSES)?;
    let mut filters = Vec::new();
    if let Some(before) = conv_filters(&initial) {
        filters.push(Figure {
            svg: save_filters(dir, FIGURE_STEMS[0], "W1 before training", before.view())?,
            caption: format!(
                "The first layer's {} filters before training (W1 as drawn from seed {}): \
                 channel 0 of each, scaled alone from its smallest weight (black) to its largest \
                 (white), as the book's figure 7-24.",
                before.len_of(Axis(0)),
                settings.train.seed
            ),
        });
    }
    filters.push(Figure {
        svg: save_filters(dir, FIGURE_STEMS[1], "W1 after training", after.view())?,
        caption: "The same filters after training, each scaled alone as before.".to_string(),
    });
    let mut figures = vec![filters];
    if let Some(maps) = feature_maps(net, dataset) {
        let chart = FeatureMaps {
            title: format!(
                "Feature maps of test image 0 (a {})",
                test_label(dataset, 0)
            ),
            layers: &maps,
        };
        let [svg, _] = crate::plot::save(&chart, dir, FIGURE_STEMS[2])?;
        figures.push(vec![Figure {
            svg,
            caption: "The first test image through the layers: each channel of a layer's output \
                      as a small picture, all on the layer's scale (black its smallest output, \
                      white its largest)."
                .to_string(),
        }]);
    }
    figures.push(vec![misclassified(dir, net, dataset)?]);
    Ok(figures)
}

/// The name of test image `row`'s class.
fn test_label(dataset: &Dataset, row: usize) -> String {
    let names = dataset.kind.class_names();
    let label = dataset.t_test[row];
    names
        .get(label)
        .map_or_else(|| label.to_string(), |n| n.to_string())
}

/// The first [`MISCLASSIFIED_SHOWN`] misclassified test images, 4 rows of 5 as chapter 8 shows
/// them, each with its true class and the prediction.
fn misclassified<N: RunNetwork>(dir: &Path, net: &N, dataset: &Dataset) -> Result<Figure> {
    let evaluation = evaluate(net, &dataset.x_test, &dataset.t_test, NUM_CLASSES);
    let shown: Vec<_> = evaluation
        .misclassified
        .iter()
        .take(MISCLASSIFIED_SHOWN)
        .collect();
    let rows: Vec<usize> = shown.iter().map(|m| m.0).collect();
    let images = dataset.x_test.select_dense(&rows);
    let labels: Vec<(usize, usize)> = shown.iter().map(|m| (m.1, m.2)).collect();
    let names = dataset.kind.class_names();
    let grid = MisclassifiedGrid {
        images: images.view(),
        labels: &labels,
        class_names: &names,
        layout: GridLayout::CHAPTER8,
    };
    let [svg, _] = crate::plot::save(&grid, dir, FIGURE_STEMS[3])?;
    Ok(Figure {
        svg,
        caption: format!(
            "The first {} of the {} misclassified test images (true → predicted), as chapter 8 \
             shows the deep net's: most are hard to read even for a person.",
            shown.len(),
            evaluation.misclassified.len()
        ),
    })
}
