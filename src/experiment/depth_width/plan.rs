//! The depth-width study's settings: the grid of shapes (or equal parameter counts), the
//! diagnostic runs, and the settings of each run.

use crate::data::DatasetKind;
use crate::experiment::{check_run_count, quote_list, Budget};
use crate::report::label;
use crate::run::{NetworkSpec, TrainSettings};
use crate::{Error, Result};
use scratchnet_core::init::WeightInit;
use scratchnet_core::layers::Activation;
use scratchnet_core::net::spec::{MAX_HIDDEN_LAYERS, MAX_WEIGHTS};
use scratchnet_core::net::MultiLayerNetConfig;
use scratchnet_core::optim::OptimizerKind;
use scratchnet_core::train::{EvalSchedule, TrainConfig};
use serde::{Deserialize, Serialize};

/// Pixels per image and classes: every shape is 784 → hidden… → 10.
pub(super) const INPUT: usize = 784;
pub(super) const OUTPUT: usize = 10;

/// How a network's hidden layers compute and how it learns: what the diagnosis varies.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    /// The hidden activation.
    pub activation: Activation,
    /// The initial weights' scale.
    pub weight_init: WeightInit,
    /// The update rule.
    pub optimizer: OptimizerKind,
    /// Its learning rate.
    pub learning_rate: f64,
}

impl Setup {
    /// The grid's default: ReLU, He, Adam at 0.001 — chapter 6's fair choice for any depth.
    pub const RELU_HE_ADAM: Setup = Setup {
        activation: Activation::Relu,
        weight_init: WeightInit::He,
        optimizer: OptimizerKind::Adam,
        learning_rate: 0.001,
    };

    /// The chapter-4 choices in a deep network, and chapter 6's fixes one at a time
    /// (SGD at the book's 0.01 of `weight_init_compare.py`).
    pub fn diagnostics() -> Vec<Setup> {
        let sgd = |activation, weight_init| Setup {
            activation,
            weight_init,
            optimizer: OptimizerKind::Sgd,
            learning_rate: 0.01,
        };
        vec![
            sgd(Activation::Sigmoid, WeightInit::Std(0.01)),
            sgd(Activation::Sigmoid, WeightInit::Xavier),
            sgd(Activation::Relu, WeightInit::He),
            Setup::RELU_HE_ADAM,
        ]
    }

    /// For reports: `sigmoid, std 0.01, SGD lr 0.01`.
    pub fn describe(&self) -> String {
        let init = match self.weight_init {
            WeightInit::Std(s) => format!("std {s}"),
            other => label(&other),
        };
        format!(
            "{}, {init}, {} lr {}",
            label(&self.activation),
            self.optimizer.book_name(),
            self.learning_rate
        )
    }

    /// For folder names: `sigmoid-std0.01-sgd0.01`.
    pub fn slug(&self) -> String {
        let init = label(&self.weight_init).replace(':', "");
        format!(
            "{}-{init}-{}{}",
            label(&self.activation),
            label(&self.optimizer),
            self.learning_rate
        )
    }
}

/// The study's settings: saved as `plan.json`, shown in the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DepthWidthPlan {
    /// Datasets, each a grid of its own (`mnist`, `fashion-mnist`).
    pub datasets: Vec<DatasetKind>,
    /// Hidden layers of each shape.
    pub depths: Vec<usize>,
    /// Neurons per hidden layer (unused with `equal_params`).
    pub widths: Vec<usize>,
    /// Instead of `widths`: for each depth, the width giving about each of these parameter counts.
    pub equal_params: Option<Vec<usize>>,
    /// Training per run.
    pub budget: Budget,
    /// Seeds per shape: 0, 1, … seeds−1.
    pub seeds: u64,
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// The grid's activation, initialisation and optimizer.
    pub setup: Setup,
    /// The diagnostic settings, run on `diagnostic_shape` (the grid's own run is reused when
    /// one of them is the grid's setup).
    pub diagnostics: Vec<Setup>,
    /// (depth, width) of the diagnostic runs.
    pub diagnostic_shape: (usize, usize),
    /// Training rows (the first ones) the training accuracy is measured on.
    pub train_eval_rows: usize,
    /// Accuracy measurements per factor of ten of samples seen.
    pub points_per_decade: u32,
    /// Training rows (the first ones) the probe of activations and gradients runs on.
    pub probe_rows: usize,
}

impl Default for DepthWidthPlan {
    /// Depths 1–5 × widths 16–400 on both datasets, two epochs each, ReLU + He + Adam.
    fn default() -> Self {
        DepthWidthPlan {
            datasets: DatasetKind::ALL.to_vec(),
            depths: vec![1, 2, 3, 4, 5],
            widths: vec![16, 50, 100, 200, 400],
            equal_params: None,
            budget: Budget::Epochs(2.0),
            seeds: 1,
            batch_size: 100,
            setup: Setup::RELU_HE_ADAM,
            diagnostics: Setup::diagnostics(),
            diagnostic_shape: (5, 100),
            train_eval_rows: 10_000,
            points_per_decade: 3,
            probe_rows: 1000,
        }
    }
}

impl DepthWidthPlan {
    /// Checks the settings before any run starts.
    pub fn validate(&self) -> Result<()> {
        let list = |name: &'static str, v: &[usize], example: &'static str| match v
            .iter()
            .position(|&n| n == 0)
        {
            _ if v.is_empty() => Err(Error::invalid(name, "[]", example)),
            Some(at) => Err(Error::invalid(name, quote_list(v, at), example)),
            None => Ok(()),
        };
        list(
            "depths",
            &self.depths,
            "numbers of hidden layers ≥ 1, e.g. 1,2,3",
        )?;
        list("widths", &self.widths, "layer widths ≥ 1, e.g. 16,50,100")?;
        // Before any shape is built: a depth of 10^12 would be a list of 10^12 layer sizes.
        if let Some(at) = self.depths.iter().position(|&d| d > MAX_HIDDEN_LAYERS) {
            return Err(Error::invalid(
                "depths",
                quote_list(&self.depths, at),
                "numbers of hidden layers from 1 to 1000",
            ));
        }
        check_run_count(self.run_count(), "depths × widths × seeds × datasets")?;
        if let Some(targets) = &self.equal_params {
            list("equal-params", targets, "parameter counts, e.g. 100000")?;
            if let Some(at) = targets.iter().position(|&n| n > MAX_WEIGHTS) {
                return Err(Error::invalid(
                    "equal-params",
                    quote_list(targets, at),
                    "parameter counts of at most 100,000,000 (a network's limit)",
                ));
            }
            check_reachable(&self.depths, targets)?;
        }
        if self.datasets.is_empty() {
            return Err(Error::invalid(
                "datasets",
                "[]",
                "mnist and/or fashion-mnist",
            ));
        }
        if self.seeds == 0 {
            return Err(Error::invalid("seeds", 0, "at least 1"));
        }
        if self.probe_rows == 0 {
            return Err(Error::invalid("probe rows", 0, "at least 1"));
        }
        for run in self.runs() {
            self.settings(&run, 60_000).validate()?;
        }
        Ok(())
    }

    /// An upper bound on the number of runs (the grid and every diagnostic, per dataset and
    /// seed), or `None` past a `usize`: computed without building the list.
    fn run_count(&self) -> Option<usize> {
        let widths = self.equal_params.as_ref().unwrap_or(&self.widths).len();
        let per_seed = self.depths.len().checked_mul(widths)?;
        let per_seed = per_seed.checked_add(self.diagnostics.len())?;
        let seeds = usize::try_from(self.seeds).ok()?;
        per_seed
            .checked_mul(seeds)?
            .checked_mul(self.datasets.len())
    }

    /// The grid's (depth, width) shapes, in order.
    pub fn shapes(&self) -> Vec<(usize, usize)> {
        let mut shapes = Vec::new();
        for &depth in &self.depths {
            match &self.equal_params {
                Some(targets) => {
                    for &n in targets {
                        shapes.push((depth, width_for_params(depth, n, INPUT, OUTPUT)));
                    }
                }
                None => shapes.extend(self.widths.iter().map(|&w| (depth, w))),
            }
        }
        shapes.dedup();
        shapes
    }

    /// Every run: per dataset and seed, the grid, then the diagnostic runs not already in it.
    pub fn runs(&self) -> Vec<DwRun> {
        let mut runs = Vec::new();
        for dataset in &self.datasets {
            for seed in 0..self.seeds {
                let mut here: Vec<DwRun> = self
                    .shapes()
                    .into_iter()
                    .map(|(depth, width)| DwRun {
                        dataset: *dataset,
                        depth,
                        width,
                        setup: self.setup,
                        seed,
                    })
                    .collect();
                let (depth, width) = self.diagnostic_shape;
                for &setup in &self.diagnostics {
                    let run = DwRun {
                        dataset: *dataset,
                        depth,
                        width,
                        setup,
                        seed,
                    };
                    if !here.contains(&run) {
                        here.push(run);
                    }
                }
                runs.extend(here);
            }
        }
        runs
    }

    /// The settings of one run on a training set of `train_size` rows.
    pub fn settings(&self, run: &DwRun, train_size: usize) -> TrainSettings {
        let (iters_num, time_limit_s) = self.budget.for_run(self.batch_size, train_size);
        TrainSettings {
            dataset: run.dataset,
            network: NetworkSpec::MultiLayerNet(MultiLayerNetConfig {
                hidden_size_list: vec![run.width; run.depth],
                activation: run.setup.activation,
                weight_init: run.setup.weight_init,
                ..MultiLayerNetConfig::default()
            }),
            optimizer: run.setup.optimizer,
            learning_rate: run.setup.learning_rate,
            train: TrainConfig {
                iters_num,
                batch_size: self.batch_size,
                seed: run.seed,
                eval: EvalSchedule::Samples {
                    per_decade: self.points_per_decade,
                    train_rows: self.train_eval_rows,
                },
                time_limit_s,
                ..TrainConfig::default()
            },
        }
    }
}

/// The study's network of `depth` hidden layers of `width` neurons (its shape is what counts).
fn shape(depth: usize, width: usize) -> NetworkSpec {
    NetworkSpec::MultiLayerNet(MultiLayerNetConfig {
        hidden_size_list: vec![width; depth],
        ..MultiLayerNetConfig::default()
    })
}

/// Parameters of `input → depth × width → output`: every W and b, `Σ (n_in + 1)·n_out`.
pub fn param_count(depth: usize, width: usize, input: usize, output: usize) -> usize {
    shape(depth, width).parameter_count(input, output)
}

/// Multiply-adds of one sample's forward pass: `Σ n_in·n_out` (the biases' adds left out).
pub fn macs_per_sample(depth: usize, width: usize, input: usize, output: usize) -> usize {
    let sizes = shape(depth, width).all_size_list(input, output);
    sizes.windows(2).map(|p| p[0] * p[1]).sum()
}

/// The width whose network of `depth` hidden layers has the parameter count nearest `target`
/// (at least 1): the positive root of `(d−1)w² + (in + d + out)w + out = target`, rounded
/// to whichever neighbouring integer comes nearer.
pub fn width_for_params(depth: usize, target: usize, input: usize, output: usize) -> usize {
    let a = (depth - 1) as f64;
    let b = (input + depth + output) as f64;
    let c = output as f64 - target as f64;
    let w = if a == 0.0 {
        -c / b
    } else {
        (-b + (b * b - 4.0 * a * c).sqrt()) / (2.0 * a)
    };
    let lo = (w.floor() as usize).max(1);
    let miss = |w: usize| param_count(depth, w, input, output).abs_diff(target);
    if miss(lo + 1) < miss(lo) {
        lo + 1
    } else {
        lo
    }
}

/// How far from N a shape of `--equal-params N` may be: the widths are whole numbers, so the
/// counts land near N, not on it.
pub const EQUAL_PARAMS_TOLERANCE: f64 = 0.03;

/// Every depth has a width whose parameter count is within [`EQUAL_PARAMS_TOLERANCE`] of each
/// target (a target below the smallest network of a depth, or between two widths' counts when
/// a deep network's count jumps by more, is refused).
fn check_reachable(depths: &[usize], targets: &[usize]) -> Result<()> {
    for &n in targets {
        for &depth in depths {
            let width = width_for_params(depth, n, INPUT, OUTPUT);
            let count = param_count(depth, width, INPUT, OUTPUT);
            if count.abs_diff(n) as f64 > EQUAL_PARAMS_TOLERANCE * n as f64 {
                return Err(Error::invalid(
                    "equal-params",
                    format!("{n} (at depth {depth} the nearest width, {width}, gives {count} parameters)"),
                    "a parameter count every depth can come within 3% of",
                ));
            }
        }
    }
    Ok(())
}

/// One run of the study.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DwRun {
    /// `mnist` or `fashion-mnist`.
    pub dataset: DatasetKind,
    /// Hidden layers.
    pub depth: usize,
    /// Neurons per hidden layer.
    pub width: usize,
    /// Activation, initialisation, optimizer.
    pub setup: Setup,
    /// The run's seed.
    pub seed: u64,
}
