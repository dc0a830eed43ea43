//! Evaluating saved weights: test accuracy, the confusion matrix, the misclassified examples.

use crate::checkpoint::Checkpoint;
use crate::data::{Dataset, DatasetKind};
use crate::plot::conv::FilterGrid;
use crate::plot::eval::{ConfusionChart, GridLayout, MisclassifiedGrid};
use crate::{Error, Result};
use ndarray::{Array2, Array4, ArrayView4, Ix4};
use scratchnet_core::data::idx::NUM_CLASSES;
use scratchnet_core::kernels::AsInput;
use scratchnet_core::net::Network;
use scratchnet_core::Float;
use std::path::{Path, PathBuf};

/// What a network gets right and wrong on a labelled set.
pub struct Evaluation {
    /// Fraction of rows predicted correctly.
    pub accuracy: f64,
    /// `confusion[[true, predicted]]`: how many rows of class `true` were predicted `predicted`.
    pub confusion: Array2<usize>,
    /// Every wrong row, in order: (row index, true label, predicted label).
    pub misclassified: Vec<(usize, usize, usize)>,
}

/// Predicts every row of x (N, D) and compares with the labels t (N) over `classes` classes.
pub fn evaluate<F: Float, N: Network<F> + ?Sized>(
    net: &N,
    x: &dyn AsInput<F>,
    t: &[usize],
    classes: usize,
) -> Evaluation {
    let predicted = net.predict_labels(x);
    let mut confusion = Array2::zeros((classes, classes));
    let mut misclassified = Vec::new();
    for (row, (&truth, &guess)) in t.iter().zip(&predicted).enumerate() {
        if truth < classes && guess < classes {
            confusion[[truth, guess]] += 1;
        }
        if truth != guess {
            misclassified.push((row, truth, guess));
        }
    }
    let correct = t.len() - misclassified.len();
    Evaluation {
        accuracy: correct as f64 / t.len().max(1) as f64,
        confusion,
        misclassified,
    }
}

impl Evaluation {
    /// The confusion matrix as text: one row per true class, one column per prediction.
    pub fn confusion_table(&self, class_names: &[&str]) -> String {
        let n = self.confusion.nrows();
        // "3 Dress", or just "3" where the class's name is its number (MNIST's digits).
        let labels: Vec<String> = (0..n)
            .map(|i| match class_names.get(i) {
                Some(&name) if name != i.to_string() => format!("{i} {name}"),
                _ => i.to_string(),
            })
            .collect();
        let header = "true \\ pred";
        let width = labels
            .iter()
            .map(|l| l.chars().count())
            .fold(header.len(), usize::max);
        let mut s = format!("{header:>width$} |");
        for j in 0..n {
            s.push_str(&format!("{j:>6}"));
        }
        s.push('\n');
        for (i, label) in labels.iter().enumerate() {
            s.push_str(&format!("{label:>width$} |"));
            for j in 0..n {
                s.push_str(&format!("{:>6}", self.confusion[[i, j]]));
            }
            s.push('\n');
        }
        s
    }
}

/// The dataset a model was trained on, as the `config.json` that `train` writes beside
/// `model.safetensors` records it: `None` when there is no such file; an error naming the file
/// when it is there but unreadable, not JSON, or naming no known dataset (evaluating on a
/// guess would give a silently wrong accuracy).
pub fn trained_on(model: &Path) -> Result<Option<DatasetKind>> {
    let config = crate::files::parent_dir(model).join("config.json");
    let bytes = match std::fs::read(&config) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&config, e)),
        Ok(bytes) => bytes,
    };
    let bad = |reason: String| Error::BadFile {
        path: config.clone(),
        reason,
    };
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        bad(format!(
            "not JSON ({e}), so the dataset the model beside it was trained on is unknown; \
             repair or remove it"
        ))
    })?;
    let named = json
        .get("dataset")
        .and_then(|d| d.as_str())
        .ok_or_else(|| {
            bad("names no dataset (no \"dataset\" string): not the config.json of a run".into())
        })?;
    let kind = named.parse().map_err(|_| {
        bad(format!(
            "names the dataset {named:?}, which is not one of: mnist, fashion-mnist"
        ))
    })?;
    Ok(Some(kind))
}

/// How many misclassified images the grid shows.
pub const GRID_IMAGES: usize = 60;

/// The network in the weights file `model` (a TwoLayerNet or a MultiLayerNet), every shape
/// checked and its checksum verified; read before any data is loaded, so a bad file is refused
/// at once. The second value is a warning to show: a file without a checksum (written before
/// scratchnet sealed its files) is accepted, but cannot be verified.
pub fn load_model(model: &Path) -> Result<(Box<dyn Network<f32>>, Option<String>)> {
    let ckpt = Checkpoint::load(model)?;
    let net = ckpt.network::<f32>()?;
    if let Some((name, count)) = crate::checkpoint::non_finite(net.as_ref()) {
        return Err(Error::Checkpoint {
            path: model.to_path_buf(),
            reason: format!(
                "holds {count} weights that are not finite numbers (NaN or infinite; the first \
                 in {name}): the run that wrote it diverged, and its predictions would mean \
                 nothing; train again with a smaller --lr"
            ),
        });
    }
    let warning = (!ckpt.is_sealed()).then(|| {
        format!(
            "warning: {} has no checksum (it was written by an older scratchnet), so a damaged \
             byte in it could not be detected",
            model.display()
        )
    });
    Ok((net, warning))
}

/// W1 as (FN, C, FH, FW) when the network's first layer is a convolution; `None` otherwise.
pub fn conv_filters<N: Network<f32> + ?Sized>(net: &N) -> Option<Array4<f32>> {
    let params = net.params();
    let w1 = params.iter().find(|p| p.name == "W1")?;
    w1.value.to_owned().into_dimensionality::<Ix4>().ok()
}

/// Draws a conv layer's `filters` (FN, C, FH, FW) as figure 7-24 does into `dir/stem.svg` and
/// `.png`, titled `title`.
pub fn save_filter_grid(
    dir: &Path,
    stem: &str,
    title: &str,
    filters: ArrayView4<f32>,
) -> Result<[PathBuf; 2]> {
    let chart = FilterGrid {
        title: title.to_string(),
        filters,
    };
    crate::plot::save(&chart, dir, stem)
}

/// Evaluates `net`, read from `model`, on `dataset`'s test set and draws `confusion` and
/// `misclassified` charts (SVG and PNG) into `out_dir`, and `filters` (W1's) for a network whose
/// first layer is a convolution; returns the evaluation and the files.
pub fn evaluate_model(
    net: &dyn Network<f32>,
    model: &Path,
    dataset: &Dataset,
    out_dir: &Path,
) -> Result<(Evaluation, Vec<PathBuf>)> {
    let input_size = net.input_size();
    if input_size != dataset.x_test.ncols() {
        return Err(Error::Checkpoint {
            path: model.to_path_buf(),
            reason: format!(
                "W1 has {input_size} rows but the images have {} pixels",
                dataset.x_test.ncols()
            ),
        });
    }
    let output_size = net.output_size();
    if output_size != NUM_CLASSES {
        return Err(Error::Checkpoint {
            path: model.to_path_buf(),
            reason: format!(
                "the network has {output_size} outputs but the dataset has {NUM_CLASSES} classes"
            ),
        });
    }
    let evaluation = evaluate(net, &dataset.x_test, &dataset.t_test, NUM_CLASSES);
    let shown: Vec<_> = evaluation.misclassified.iter().take(GRID_IMAGES).collect();
    let rows: Vec<usize> = shown.iter().map(|m| m.0).collect();
    let images = dataset.x_test.select_dense(&rows);
    let pairs: Vec<(usize, usize)> = shown.iter().map(|m| (m.1, m.2)).collect();
    let names = dataset.kind.class_names();
    let mut files = crate::plot::save(
        &ConfusionChart {
            confusion: &evaluation.confusion,
        },
        out_dir,
        "confusion",
    )?
    .to_vec();
    let grid = MisclassifiedGrid {
        images: images.view(),
        labels: &pairs,
        class_names: &names,
        layout: GridLayout::EVAL,
    };
    files.extend(crate::plot::save(&grid, out_dir, "misclassified")?);
    if let Some(filters) = conv_filters(net) {
        let title = format!("W1 of {}", model.display());
        files.extend(save_filter_grid(
            out_dir,
            "filters",
            &title,
            filters.view(),
        )?);
    }
    Ok((evaluation, files))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};
    use scratchnet_core::layers::Activation;
    use scratchnet_core::net::TwoLayerNet;

    #[test]
    fn the_confusion_table_labels_rows_once_and_in_full() {
        let e = Evaluation {
            accuracy: 0.5,
            confusion: array![[3, 1], [1, 0]],
            misclassified: vec![],
        };
        assert_eq!(
            e.confusion_table(&["0", "1"]),
            "true \\ pred |     0     1\n          0 |     3     1\n          1 |     1     0\n"
        );
        let table = e.confusion_table(&["T-shirt/top", "Trouser"]);
        assert_eq!(table.lines().nth(1), Some("0 T-shirt/top |     3     1"));
    }

    #[test]
    fn confusion_counts_every_row_once() {
        // A net whose scores are the input itself: W1 = I, sigmoid keeps order, W2 = I.
        let eye = Array2::<f64>::eye(3);
        let net = TwoLayerNet::from_params(
            eye.clone(),
            Array1::zeros(3),
            eye,
            Array1::zeros(3),
            Activation::Sigmoid,
        );
        let x = array![
            [5.0, 0.0, 0.0],
            [0.0, 5.0, 0.0],
            [0.0, 0.0, 5.0],
            [5.0, 0.0, 0.0]
        ];
        let e = evaluate(&net, &x, &[0, 1, 0, 2], 3);
        assert_eq!(e.accuracy, 0.5);
        assert_eq!(e.confusion, array![[1, 0, 1], [0, 1, 0], [1, 0, 0]]);
        assert_eq!(e.misclassified, vec![(2, 0, 2), (3, 2, 0)]);
        assert_eq!(e.confusion.sum(), 4);
    }
}
