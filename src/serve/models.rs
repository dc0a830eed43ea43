//! Saved networks at work for the pages: a run's model evaluated on its test set (confusion
//! matrix, misclassified digits), a drawing predicted, the first layer and the activations
//! looked inside. Models and datasets are loaded once and kept (a model again when its file
//! changes); at most [`KEPT_MODELS`] models are kept.

use super::error::ApiError;
use super::App;
use crate::data::Dataset;
use crate::eval;
use crate::predict::{self, Prediction};
use scratchnet_core::data::idx::NUM_CLASSES;
use scratchnet_core::data::DatasetKind;
use scratchnet_core::net::Network;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Models kept loaded.
const KEPT_MODELS: usize = 8;

/// The misclassified test images a run's page shows.
const SHOWN_MISTAKES: usize = 20;

/// Loaded models and datasets, and evaluations made.
#[derive(Default)]
pub struct Models {
    nets: Mutex<Vec<Loaded>>,
    datasets: Mutex<HashMap<DatasetKind, Arc<Dataset>>>,
    evaluations: Mutex<HashMap<ModelKey, Arc<EvaluationPage>>>,
}

/// A model kept loaded, with the file it came from.
type Loaded = (ModelKey, Arc<dyn Network<f32>>);

/// A model file as it was when read.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ModelKey {
    path: PathBuf,
    modified: Option<SystemTime>,
    len: u64,
}

impl ModelKey {
    fn of(path: &Path) -> Result<ModelKey, ApiError> {
        let meta = std::fs::metadata(path)
            .map_err(|_| ApiError::not_found("model.safetensors in that run"))?;
        Ok(ModelKey {
            path: path.to_path_buf(),
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }
}

/// A run's evaluation on its whole test set, as its page shows it.
#[derive(Serialize)]
pub struct EvaluationPage {
    accuracy: f64,
    classes: Vec<String>,
    /// Rows: the true class; columns: the predicted one.
    confusion: Vec<Vec<usize>>,
    misclassified: Vec<Mistake>,
}

/// One misclassified test image.
#[derive(Serialize)]
struct Mistake {
    index: usize,
    label: usize,
    predicted: usize,
    /// 28 × 28 grey levels, 0–255, row by row.
    pixels: Vec<u8>,
}

impl App {
    /// The weights file of run `id` (`best.safetensors` with `best`).
    pub fn model_path(&self, id: &str, best: bool) -> Result<PathBuf, ApiError> {
        let dir = crate::run::RunDir::open(&self.run_path(id)?);
        Ok(if best { dir.best() } else { dir.model() })
    }

    /// The network in `path`, loaded once.
    pub fn network(&self, path: &Path) -> Result<Arc<dyn Network<f32>>, ApiError> {
        let key = ModelKey::of(path)?;
        let mut nets = self.models.nets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, net)) = nets.iter().find(|(k, _)| *k == key) {
            return Ok(net.clone());
        }
        let (net, _warning) = eval::load_model(path).map_err(|e| ApiError::bad(e.to_string()))?;
        let net: Arc<dyn Network<f32>> = Arc::from(net);
        nets.retain(|(k, _)| k.path != key.path);
        if nets.len() == KEPT_MODELS {
            nets.remove(0);
        }
        nets.push((key, net.clone()));
        Ok(net)
    }

    /// The dataset run `path` was trained on (MNIST when its config.json names none).
    pub fn dataset_of(&self, model: &Path) -> Result<Arc<Dataset>, ApiError> {
        let kind = eval::trained_on(model)
            .map_err(|e| ApiError::bad(e.to_string()))?
            .unwrap_or_default();
        let mut datasets = self
            .models
            .datasets
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(dataset) = datasets.get(&kind) {
            return Ok(dataset.clone());
        }
        let dataset = crate::data::load(kind, &self.data, &crate::progress::Silent)
            .map_err(|e| ApiError::internal(format!("loading {kind}: {e}")))?;
        let dataset = Arc::new(dataset);
        datasets.insert(kind, dataset.clone());
        Ok(dataset)
    }

    /// Run `id`'s model on its whole test set.
    pub fn evaluation(&self, id: &str) -> Result<Arc<EvaluationPage>, ApiError> {
        let path = self.model_path(id, false)?;
        let key = ModelKey::of(&path)?;
        let cached = self
            .models
            .evaluations
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(page) = cached.get(&key) {
            return Ok(page.clone());
        }
        drop(cached);
        let net = self.network(&path)?;
        let dataset = self.dataset_of(&path)?;
        check_fits(net.as_ref(), &dataset)?;
        let evaluation =
            eval::evaluate(net.as_ref(), &dataset.x_test, &dataset.t_test, NUM_CLASSES);
        let shown = &evaluation.misclassified[..evaluation.misclassified.len().min(SHOWN_MISTAKES)];
        let rows: Vec<usize> = shown.iter().map(|m| m.0).collect();
        let images = dataset.x_test.select_dense(&rows);
        let misclassified = shown
            .iter()
            .zip(images.rows())
            .map(|(&(index, label, predicted), image)| Mistake {
                index,
                label,
                predicted,
                pixels: image
                    .iter()
                    .map(|&v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
                    .collect(),
            })
            .collect();
        let page = Arc::new(EvaluationPage {
            accuracy: evaluation.accuracy,
            classes: dataset
                .kind
                .class_names()
                .iter()
                .map(|c| c.to_string())
                .collect(),
            confusion: evaluation
                .confusion
                .rows()
                .into_iter()
                .map(|r| r.to_vec())
                .collect(),
            misclassified,
        });
        let mut cached = self
            .models
            .evaluations
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cached.retain(|k, _| k.path != key.path);
        cached.insert(key, page.clone());
        Ok(page)
    }
}

/// The largest side of a drawing the server decodes, in pixels: the page's canvas is 280 × 280,
/// and a small PNG can claim a large picture (4096² RGBA at 16 bits decodes to 134 MB).
const MAX_DRAWING_SIDE: u32 = 1024;

/// Refuses a model whose input or output does not fit the dataset.
fn check_fits(net: &dyn Network<f32>, dataset: &Dataset) -> Result<(), ApiError> {
    if net.input_size() != dataset.x_test.ncols() || net.output_size() != NUM_CLASSES {
        return Err(ApiError::bad(format!(
            "the model takes {} inputs to {} classes; {} has {} pixels and {NUM_CLASSES} classes",
            net.input_size(),
            net.output_size(),
            dataset.kind,
            dataset.x_test.ncols()
        )));
    }
    Ok(())
}

impl App {
    /// Inside run `id`'s network: W1 as images and each hidden layer's activations over the
    /// first test images.
    pub fn inside(&self, id: &str) -> Result<predict::Inside, ApiError> {
        let path = self.model_path(id, false)?;
        let net = self.network(&path)?;
        let dataset = self.dataset_of(&path)?;
        check_fits(net.as_ref(), &dataset)?;
        Ok(predict::inside_of_test_set(
            net.as_ref(),
            &dataset,
            predict::inside::IMAGES,
        ))
    }

    /// A drawing (PNG bytes) through run `id`'s model (its best weights with `best`), turned
    /// into an MNIST input the way `scratchnet predict` turns a file: the same numbers.
    pub fn predict(&self, id: &str, best: bool, png: &[u8]) -> Result<Prediction, ApiError> {
        let path = self.model_path(id, best)?;
        let net = self.network(&path)?;
        let input = predict::from_png_within(png, MAX_DRAWING_SIDE)
            .map_err(|e| ApiError::bad(e.in_file("the drawing")))?;
        let classes = predict::classes_of(&path).map_err(|e| ApiError::bad(e.to_string()))?;
        predict::predict(net.as_ref(), input.view(), &classes)
            .map_err(|e| ApiError::bad(e.to_string()))
    }
}
