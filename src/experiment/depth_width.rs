//! Study 2 — deep versus wide: what changes between a deep network and a wide one, and which
//! suits which problem?
//!
//! A grid of MultiLayerNets — depths (hidden layers) × widths (neurons per hidden layer), or for
//! each depth the width that gives about N parameters (`equal_params`) — trained under one
//! budget and seed set on MNIST and Fashion-MNIST, each run measured for its size (parameters,
//! multiply-adds per sample), time, accuracies and gap. Beside the grid, a few diagnostic runs of
//! one deep shape (5 × 100) under other settings — the chapter-4 sigmoid with `0.01·randn`
//! weights and SGD, then Xavier, then ReLU + He — show why a deep network may not learn at all:
//! every run probes its network on a fixed batch at initialisation and after the first epoch,
//! recording per hidden layer the activations' distribution and per layer the mean |dW|.

use super::runner::{load_json, save_json, Executed, Start, Study};
use super::{save_charts, spread, Budget, RunAccuracy};
use crate::data::Dataset;
use crate::init::WeightInit;
use crate::layers::{activate_inplace, Activation, Targets};
use crate::net::{parameter_count, MultiLayerNet, MultiLayerNetConfig, Network};
use crate::optim::OptimizerKind;
use crate::plot::heatmap::{Heatmap, HistogramGrid, HistogramRow};
use crate::plot::lines::{Corner, LineChart, Series};
use crate::plot::{Chart, DrawResult};
use crate::progress::Progress;
use crate::report::{label, Report};
use crate::run::{labels, run_observed, NetworkSpec, Outcome, RunDir, TrainSettings};
use crate::train::EvalSchedule;
use crate::{Error, Result};
use ndarray::{s, Array2, ArrayView2};
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Pixels per image and classes: every shape is 784 → hidden… → 10.
const INPUT: usize = 784;
const OUTPUT: usize = 10;
/// A run's probes so far, in its folder: written as each is taken, so that a run interrupted
/// after a probe (whose checkpoint comes later) still has it when it continues.
const PROBES: &str = "probes.json";
/// Bins of each activation histogram.
const BINS: usize = 20;

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
    pub datasets: Vec<String>,
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
            datasets: vec!["mnist".into(), "fashion-mnist".into()],
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
        let list = |name: &'static str, v: &[usize], example: &'static str| {
            if v.is_empty() || v.contains(&0) {
                Err(Error::invalid(name, format!("{v:?}"), example))
            } else {
                Ok(())
            }
        };
        list(
            "depths",
            &self.depths,
            "numbers of hidden layers ≥ 1, e.g. 1,2,3",
        )?;
        list("widths", &self.widths, "layer widths ≥ 1, e.g. 16,50,100")?;
        if let Some(targets) = &self.equal_params {
            list("equal-params", targets, "parameter counts, e.g. 100000")?;
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
                        dataset: dataset.clone(),
                        depth,
                        width,
                        setup: self.setup,
                        seed,
                    })
                    .collect();
                let (depth, width) = self.diagnostic_shape;
                for &setup in &self.diagnostics {
                    let run = DwRun {
                        dataset: dataset.clone(),
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
            dataset: run.dataset.clone(),
            network: NetworkSpec::MultiLayerNet(MultiLayerNetConfig {
                hidden_size_list: vec![run.width; run.depth],
                activation: run.setup.activation,
                weight_init: run.setup.weight_init,
                ..MultiLayerNetConfig::default()
            }),
            optimizer: run.setup.optimizer,
            iters_num,
            batch_size: self.batch_size,
            learning_rate: run.setup.learning_rate,
            seed: run.seed,
            eval: EvalSchedule::Samples {
                per_decade: self.points_per_decade,
                train_rows: self.train_eval_rows,
            },
            time_limit_s,
            ..TrainSettings::default()
        }
    }
}

/// Parameters of `input → depth × width → output`: every W and b, `Σ (n_in + 1)·n_out`.
pub fn param_count(depth: usize, width: usize, input: usize, output: usize) -> usize {
    let sizes = layer_sizes(depth, width, input, output);
    sizes.windows(2).map(|p| (p[0] + 1) * p[1]).sum()
}

/// Multiply-adds of one sample's forward pass: `Σ n_in·n_out` (the biases' adds left out).
pub fn macs_per_sample(depth: usize, width: usize, input: usize, output: usize) -> usize {
    let sizes = layer_sizes(depth, width, input, output);
    sizes.windows(2).map(|p| p[0] * p[1]).sum()
}

fn layer_sizes(depth: usize, width: usize, input: usize, output: usize) -> Vec<usize> {
    std::iter::once(input)
        .chain(std::iter::repeat(width).take(depth))
        .chain([output])
        .collect()
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
                return Err(Error::InvalidSetting {
                    name: "equal-params",
                    value: format!(
                        "{n} (at depth {depth} the nearest width, {width}, gives {count} parameters)"
                    ),
                    expected: "a parameter count every depth can come within 3% of",
                });
            }
        }
    }
    Ok(())
}

/// One run of the study.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DwRun {
    /// `mnist` or `fashion-mnist`.
    pub dataset: String,
    /// Hidden layers.
    pub depth: usize,
    /// Neurons per hidden layer.
    pub width: usize,
    /// Activation, initialisation, optimizer.
    pub setup: Setup,
    /// The run's seed.
    pub seed: u64,
}

/// The network probed on a fixed batch at one moment of training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// Updates made before the probe (0: at initialisation).
    pub updates: usize,
    /// The same in epochs.
    pub epochs: f64,
    /// The loss on the probe batch.
    pub loss: f64,
    /// Per Affine layer (W1 … W_{depth+1}), the mean |dW| of the probe batch's gradient.
    pub grad_mean_abs: Vec<f64>,
    /// Per hidden layer, the mean activation.
    pub act_mean: Vec<f64>,
    /// Per hidden layer, the activations' standard deviation.
    pub act_std: Vec<f64>,
    /// Per hidden layer, the fraction of activations that pass no gradient on: ReLU outputs of
    /// exactly 0, sigmoid outputs within 0.01 of 0 or 1 (saturated).
    pub act_inactive: Vec<f64>,
    /// The histograms' range: [0, 1] for sigmoid; for ReLU [0, the largest 99th percentile].
    pub hist_range: (f64, f64),
    /// Per hidden layer, the fraction of activations in each of 20 even bins of `hist_range`.
    pub hist: Vec<Vec<f64>>,
}

/// Runs `net`'s hidden layers on x (evaluation forward) and its gradient on (x, t).
pub fn probe(
    net: &MultiLayerNet<f32>,
    x: ArrayView2<f32>,
    t: &[usize],
    updates: usize,
    epochs: f64,
) -> Probe {
    let activation = net.config().activation;
    let depth = net.config().hidden_size_list.len();
    let mut h: Array2<f32> = x.to_owned();
    let mut layers: Vec<Vec<f32>> = Vec::new();
    for k in 0..depth {
        let W: ndarray::ArrayView2<f32> = net
            .param_view(2 * k)
            .into_dimensionality()
            .expect("W is 2-D");
        let b = net.param_view(2 * k + 1);
        let mut a = h.dot(&W);
        a += &b;
        activate_inplace(activation, &mut a);
        layers.push(a.iter().copied().collect());
        h = a;
    }
    let mut copy = net.clone();
    let loss = copy.gradient(&x, Targets::Labels(t)) as f64;
    let grad_mean_abs = (0..=depth)
        .map(|k| {
            let g = copy.param(2 * k).grad;
            g.iter().map(|v| v.abs() as f64).sum::<f64>() / g.len().max(1) as f64
        })
        .collect();
    let hi = match activation {
        Activation::Sigmoid => 1.0,
        Activation::Relu => layers
            .iter()
            .map(|v| {
                let mut v = v.clone();
                let i = (v.len() * 99 / 100).min(v.len().saturating_sub(1));
                v.select_nth_unstable_by(i, f32::total_cmp);
                v[i] as f64
            })
            .fold(0.0, f64::max)
            .max(1e-6),
    };
    let stats = |v: &[f32]| {
        let n = v.len().max(1) as f64;
        let mean = v.iter().map(|&a| a as f64).sum::<f64>() / n;
        let var = v.iter().map(|&a| (a as f64 - mean).powi(2)).sum::<f64>() / n;
        let inactive = v
            .iter()
            .filter(|&&a| match activation {
                Activation::Relu => a == 0.0,
                Activation::Sigmoid => !(0.01..=0.99).contains(&a),
            })
            .count() as f64
            / n;
        let mut hist = vec![0.0; BINS];
        for &a in v {
            let bin = ((a as f64 / hi) * BINS as f64)
                .floor()
                .clamp(0.0, (BINS - 1) as f64);
            hist[bin as usize] += 1.0 / n;
        }
        (mean, var.sqrt(), inactive, hist)
    };
    let all: Vec<_> = layers.iter().map(|v| stats(v)).collect();
    Probe {
        updates,
        epochs,
        loss,
        grad_mean_abs,
        act_mean: all.iter().map(|s| s.0).collect(),
        act_std: all.iter().map(|s| s.1).collect(),
        act_inactive: all.iter().map(|s| s.2).collect(),
        hist_range: (0.0, hi),
        hist: all.into_iter().map(|s| s.3).collect(),
    }
}

/// What one run measured: one row of `study.csv` (the curve and probes go to `study.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DwOutcome {
    /// `mnist` or `fashion-mnist`.
    pub dataset: String,
    /// Hidden layers.
    pub depth: usize,
    /// Neurons per hidden layer.
    pub width: usize,
    /// Activation, initialisation, optimizer.
    pub setup: Setup,
    /// The run's seed.
    pub seed: u64,
    /// Weights and biases.
    pub params: usize,
    /// Multiply-adds per sample, forward.
    pub macs: usize,
    /// Updates made.
    pub updates: usize,
    /// Seconds of updates (evaluation excluded).
    pub train_s: f64,
    /// Training samples per second of updates.
    pub samples_per_s: f64,
    /// Accuracies, the gap and the curve (or why the run diverged).
    #[serde(flatten)]
    pub accuracy: RunAccuracy,
    /// The probes: at initialisation, then after the first epoch (or the end, if sooner).
    pub probes: Vec<Probe>,
}

/// The depth-versus-width study.
pub struct DepthWidthStudy {
    plan: DepthWidthPlan,
}

impl DepthWidthStudy {
    /// A study of `plan` (validated).
    pub fn new(plan: DepthWidthPlan) -> Result<Self> {
        plan.validate()?;
        Ok(DepthWidthStudy { plan })
    }
}

/// The datasets a study trains on, by name.
pub type Datasets = [(String, Dataset)];

impl Study for DepthWidthStudy {
    const KIND: &'static str = "depth-width";
    type Data = Datasets;
    type Run = DwRun;
    type Outcome = DwOutcome;
    type Plan = DepthWidthPlan;

    fn plan(&self) -> &DepthWidthPlan {
        &self.plan
    }

    fn runs(&self) -> Vec<DwRun> {
        self.plan.runs()
    }

    fn run_id(&self, run: &DwRun) -> String {
        format!(
            "{}-d{}-w{}-{}-seed{}",
            run.dataset,
            run.depth,
            run.width,
            run.setup.slug(),
            run.seed
        )
    }

    fn execute(
        &self,
        run: &DwRun,
        data: &Datasets,
        dir: &RunDir,
        start: Start,
        progress: &dyn Progress,
    ) -> Result<Executed<DwOutcome>> {
        let dataset = data
            .iter()
            .find(|(name, _)| *name == run.dataset)
            .map(|(_, d)| d)
            .ok_or_else(|| Error::invalid("dataset", &run.dataset, "one that was loaded"))?;
        let train_size = dataset.t_train.len();
        let settings = self.plan.settings(run, train_size);
        let rows = self.plan.probe_rows.min(train_size);
        let x_probe = dataset.x_train.slice(s![..rows, ..]);
        let t_probe = labels(&dataset.t_train.slice(s![..rows]).to_owned());
        let iter_per_epoch = (train_size / self.plan.batch_size).max(1);
        let probe_at = iter_per_epoch.min(settings.iters_num);
        let probes_path = dir.path().join(PROBES);
        // A checkpoint without its probes (left by an older scratchnet) cannot give the run's
        // whole outcome: such a run starts again.
        let start = match start {
            Start::Resume if !probes_path.exists() => Start::Fresh,
            start => start,
        };
        let mut probes: Vec<Probe> = match start {
            Start::Fresh => Vec::new(),
            Start::Resume => load_json(&probes_path)?,
        };
        let mut saved = Ok(());
        let mut observer = |updates: usize, net: &MultiLayerNet<f32>| {
            let taken = probes.iter().any(|p| p.updates == updates);
            if (updates == 0 || updates == probe_at) && !taken {
                let epochs = (updates * self.plan.batch_size) as f64 / train_size as f64;
                probes.push(probe(net, x_probe, &t_probe, updates, epochs));
                if saved.is_ok() {
                    saved = save_json(&probes_path, &probes);
                }
            }
        };
        let result = run_observed(dir, &settings, start, dataset, progress, &mut observer);
        saved?;
        let mut outcome = DwOutcome {
            dataset: run.dataset.clone(),
            depth: run.depth,
            width: run.width,
            setup: run.setup,
            seed: run.seed,
            params: param_count(run.depth, run.width, INPUT, OUTPUT),
            macs: macs_per_sample(run.depth, run.width, INPUT, OUTPUT),
            updates: 0,
            train_s: 0.0,
            samples_per_s: 0.0,
            accuracy: RunAccuracy::default(),
            probes,
        };
        let summary = match result? {
            Outcome::Finished(summary) => summary,
            Outcome::Diverged(d) => {
                outcome.accuracy = RunAccuracy::diverged(&d);
                return Ok(Executed::Kept(outcome));
            }
            Outcome::Interrupted { iteration, .. } => {
                return Ok(Executed::Interrupted { iteration })
            }
        };
        debug_assert_eq!(parameter_count(&summary.net), outcome.params);
        let h = &summary.history;
        outcome.accuracy = RunAccuracy::measure(h, self.plan.batch_size, train_size);
        outcome.updates = h.train_loss_list.len();
        if outcome.probes.len() < 2 {
            // The run ended (its time budget) before the first epoch: probe where it stopped.
            let epochs = (outcome.updates * self.plan.batch_size) as f64 / train_size as f64;
            let last = probe(&summary.net, x_probe, &t_probe, outcome.updates, epochs);
            outcome.probes.push(last);
        }
        outcome.train_s = h.train_seconds;
        outcome.samples_per_s =
            (outcome.updates * self.plan.batch_size) as f64 / h.train_seconds.max(1e-12);
        Ok(Executed::Kept(outcome))
    }

    fn describe(&self, o: &DwOutcome) -> String {
        match &o.accuracy.diverged {
            Some(why) => format!("{} {}×{} diverged: {why}", o.dataset, o.depth, o.width),
            None => format!(
                "{} {}×{} ({}): {} params, test acc {:.4}, gap {:+.4}, {:.1} s",
                o.dataset,
                o.depth,
                o.width,
                o.setup.describe(),
                o.params,
                o.accuracy.final_test_acc,
                o.accuracy.gap,
                o.train_s
            ),
        }
    }

    fn write_outputs(&self, outcomes: &[DwOutcome], dir: &Path) -> Result<Vec<PathBuf>> {
        let shapes = summarise(&self.plan, outcomes);
        let mut files = Vec::new();
        let csv = dir.join("study.csv");
        crate::files::write_atomic(&csv, study_csv(outcomes).as_bytes())?;
        files.push(csv);
        let json = dir.join("study.json");
        save_json(
            &json,
            &serde_json::json!({ "plan": self.plan, "runs": outcomes, "shapes": shapes }),
        )?;
        files.push(json);
        let svgs = save_charts(&charts(&self.plan, &shapes), dir, &mut files)?;
        let report = dir.join("report.html");
        self.report(&shapes, &svgs)?.save(&report)?;
        files.push(report);
        Ok(files)
    }
}

/// One (dataset, setup, shape)'s runs, summarised across seeds: means, and (min, max) spreads.
#[derive(Clone, Debug, Serialize)]
pub struct ShapeSummary {
    /// `mnist` or `fashion-mnist`.
    pub dataset: String,
    /// Activation, initialisation, optimizer.
    pub setup: Setup,
    /// Whether this is a grid shape (else a diagnostic run only).
    pub grid: bool,
    /// Hidden layers.
    pub depth: usize,
    /// Neurons per hidden layer.
    pub width: usize,
    /// Weights and biases.
    pub params: usize,
    /// Multiply-adds per sample.
    pub macs: usize,
    /// Finished (not diverged) runs.
    pub runs: usize,
    /// Runs that diverged.
    pub diverged: usize,
    /// Mean seconds of updates.
    pub train_s: f64,
    /// Mean final test accuracy, and its spread.
    pub final_test_acc: (f64, f64, f64),
    /// Mean final training-subset accuracy.
    pub final_train_acc: f64,
    /// Mean best test accuracy.
    pub best_test_acc: f64,
    /// Mean gap, and its spread.
    pub gap: (f64, f64, f64),
    /// Mean probes (first seed's shape), at initialisation and after the first epoch.
    pub probes: Vec<Probe>,
}

/// Per-shape summaries in run order (shapes with no outcome yet are left out).
pub fn summarise(plan: &DepthWidthPlan, outcomes: &[DwOutcome]) -> Vec<ShapeSummary> {
    let grid = plan.shapes();
    let mut keys: Vec<(String, Setup, usize, usize)> = Vec::new();
    for run in plan.runs() {
        let key = (run.dataset, run.setup, run.depth, run.width);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .filter_map(|(dataset, setup, depth, width)| {
            let all: Vec<&DwOutcome> = outcomes
                .iter()
                .filter(|o| {
                    o.dataset == dataset && o.setup == setup && o.depth == depth && o.width == width
                })
                .collect();
            let ok: Vec<&DwOutcome> = all
                .iter()
                .copied()
                .filter(|o| o.accuracy.diverged.is_none())
                .collect();
            let first = all.first()?;
            let mean = |f: fn(&DwOutcome) -> f64| spread(ok.iter().map(|o| f(o))).0;
            Some(ShapeSummary {
                grid: setup == plan.setup && grid.contains(&(depth, width)),
                params: first.params,
                macs: first.macs,
                runs: ok.len(),
                diverged: all.len() - ok.len(),
                train_s: mean(|o| o.train_s),
                final_test_acc: spread(ok.iter().map(|o| o.accuracy.final_test_acc)),
                final_train_acc: mean(|o| o.accuracy.final_train_acc),
                best_test_acc: mean(|o| o.accuracy.best_test_acc),
                gap: spread(ok.iter().map(|o| o.accuracy.gap)),
                probes: mean_probes(&all),
                dataset,
                setup,
                depth,
                width,
            })
        })
        .collect()
}

/// The probes of several seeds' runs of one shape, averaged number by number.
fn mean_probes(runs: &[&DwOutcome]) -> Vec<Probe> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    let n = runs.len() as f64;
    let avg = |v: &[Vec<f64>]| -> Vec<f64> {
        (0..v[0].len())
            .map(|i| {
                v.iter()
                    .map(|x| x.get(i).copied().unwrap_or(0.0))
                    .sum::<f64>()
                    / n
            })
            .collect()
    };
    (0..first.probes.len())
        .map(|k| {
            let all: Vec<&Probe> = runs.iter().filter_map(|r| r.probes.get(k)).collect();
            let field = |f: fn(&Probe) -> &Vec<f64>| {
                avg(&all.iter().map(|p| f(p).clone()).collect::<Vec<_>>())
            };
            Probe {
                updates: all[0].updates,
                epochs: all[0].epochs,
                loss: all.iter().map(|p| p.loss).sum::<f64>() / n,
                grad_mean_abs: field(|p| &p.grad_mean_abs),
                act_mean: field(|p| &p.act_mean),
                act_std: field(|p| &p.act_std),
                act_inactive: field(|p| &p.act_inactive),
                hist_range: all
                    .iter()
                    .map(|p| p.hist_range)
                    .fold((0.0, 0.0), |a, b| (0.0, a.1.max(b.1))),
                hist: (0..all[0].hist.len())
                    .map(|l| avg(&all.iter().map(|p| p.hist[l].clone()).collect::<Vec<_>>()))
                    .collect(),
            }
        })
        .collect()
}

/// `study.csv`: one row per run, every scalar metric, and the probes' per-layer mean |dW|
/// (`W1;W2;…`) at initialisation and after the first epoch — or at the end of a shorter run:
/// `probe_epochs` says when.
fn study_csv(outcomes: &[DwOutcome]) -> String {
    let mut s = String::from(
        "dataset,depth,width,activation,weight_init,optimizer,learning_rate,seed,params,macs_per_sample,updates,train_s,samples_per_s,\
final_train_acc,final_test_acc,best_train_acc,best_test_acc,gap,diverged,grad_mean_abs_init,grad_mean_abs_epoch1,probe_epochs\n",
    );
    let grads = |o: &DwOutcome, k: usize| {
        o.probes.get(k).map_or(String::new(), |p| {
            p.grad_mean_abs
                .iter()
                .map(|g| format!("{g:.3e}"))
                .collect::<Vec<_>>()
                .join(";")
        })
    };
    for o in outcomes {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{:.4},{:.1},{:.4},{:.4},{:.4},{:.4},{:.4},{},{},{},{}",
            o.dataset,
            o.depth,
            o.width,
            label(&o.setup.activation),
            label(&o.setup.weight_init),
            label(&o.setup.optimizer),
            o.setup.learning_rate,
            o.seed,
            o.params,
            o.macs,
            o.updates,
            o.train_s,
            o.samples_per_s,
            o.accuracy.final_train_acc,
            o.accuracy.final_test_acc,
            o.accuracy.best_train_acc,
            o.accuracy.best_test_acc,
            o.accuracy.gap,
            o.accuracy.diverged.is_some(),
            grads(o, 0),
            grads(o, 1),
            o.probes.get(1).map_or(String::new(), |p| format!("{:.3}", p.epochs))
        );
    }
    s
}

/// The study's charts, of three kinds.
pub enum Figure {
    /// Lines (accuracy against size, gradients against layer).
    Lines(LineChart),
    /// The depth × width grid.
    Heatmap(Heatmap),
    /// Activation histograms per layer.
    Histograms(HistogramGrid),
}

impl Chart for Figure {
    fn size(&self) -> (u32, u32) {
        match self {
            Figure::Lines(c) => c.size(),
            Figure::Heatmap(c) => c.size(),
            Figure::Histograms(c) => c.size(),
        }
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        match self {
            Figure::Lines(c) => c.draw(area),
            Figure::Heatmap(c) => c.draw(area),
            Figure::Histograms(c) => c.draw(area),
        }
    }
}

fn grid_of<'a>(shapes: &'a [ShapeSummary], dataset: &str) -> Vec<&'a ShapeSummary> {
    shapes
        .iter()
        .filter(|s| s.grid && s.dataset == dataset && s.runs > 0)
        .collect()
}

fn diagnostic_of<'a>(
    plan: &DepthWidthPlan,
    shapes: &'a [ShapeSummary],
    dataset: &str,
) -> Vec<&'a ShapeSummary> {
    plan.diagnostics
        .iter()
        .filter_map(|setup| {
            shapes.iter().find(|s| {
                s.dataset == dataset
                    && s.setup == *setup
                    && (s.depth, s.width) == plan.diagnostic_shape
                    && !s.probes.is_empty()
            })
        })
        .collect()
}

/// The study's charts: (file stem, chart, caption).
fn charts(plan: &DepthWidthPlan, shapes: &[ShapeSummary]) -> Vec<(String, Figure, String)> {
    let mut out = Vec::new();
    let seeds = if plan.seeds > 1 {
        format!(" (mean of {} seeds)", plan.seeds)
    } else {
        String::new()
    };
    for dataset in &plan.datasets {
        let grid = grid_of(shapes, dataset);
        if grid.is_empty() {
            continue;
        }
        let mut widths: Vec<usize> = grid.iter().map(|s| s.width).collect();
        widths.sort_unstable();
        widths.dedup();
        let depths: Vec<usize> = plan.depths.iter().rev().copied().collect();
        let values = depths
            .iter()
            .map(|&d| {
                widths
                    .iter()
                    .map(|&w| {
                        grid.iter()
                            .find(|s| s.depth == d && s.width == w)
                            .map(|s| s.final_test_acc.0)
                    })
                    .collect()
            })
            .collect();
        out.push((
            format!("heatmap_{dataset}"),
            Figure::Heatmap(Heatmap {
                title: format!("{dataset}: final test accuracy{seeds}"),
                x_label: "width (neurons per hidden layer)".into(),
                y_label: "depth (hidden layers)".into(),
                columns: widths.iter().map(usize::to_string).collect(),
                rows: depths.iter().map(usize::to_string).collect(),
                values,
                decimals: 4,
            }),
            format!(
                "{dataset}: final test accuracy over depth × width, {} ({}).",
                plan.setup.describe(),
                plan.budget
            ),
        ));
        let series = plan
            .depths
            .iter()
            .map(|&d| Series {
                name: format!("{d} hidden layer{}", if d == 1 { "" } else { "s" }),
                points: grid
                    .iter()
                    .filter(|s| s.depth == d)
                    .map(|s| (s.params as f64, s.final_test_acc.0))
                    .collect(),
                spread: (plan.seeds > 1).then(|| {
                    grid.iter()
                        .filter(|s| s.depth == d)
                        .map(|s| (s.final_test_acc.1, s.final_test_acc.2))
                        .collect()
                }),
                dashed: d == 1,
            })
            .filter(|s| !s.points.is_empty())
            .collect();
        out.push((
            format!("accuracy_vs_params_{dataset}"),
            Figure::Lines(LineChart {
                title: format!("{dataset}: test accuracy against parameters{seeds}"),
                x_label: "parameters (log scale)".into(),
                y_label: "final test accuracy".into(),
                log_x: true,
                y_range: None,
                series,
                legend: Corner::LowerRight,
            }),
            format!(
                "{dataset}: final test accuracy against parameter count, one line per depth (widths growing left to right); \
                 the shallowest network is dashed. At one x, a higher line is the better shape for that size."
            ),
        ));
        let diag = diagnostic_of(plan, shapes, dataset);
        if diag.is_empty() {
            continue;
        }
        let grad_series = |k: usize| -> Vec<Series> {
            diag.iter()
                .filter_map(|s| s.probes.get(k).map(|p| (s, p)))
                .map(|(s, p)| Series {
                    name: s.setup.describe(),
                    points: p
                        .grad_mean_abs
                        .iter()
                        .enumerate()
                        .map(|(l, g)| ((l + 1) as f64, g.max(1e-30).log10()))
                        .collect(),
                    dashed: s.setup.activation == Activation::Sigmoid,
                    ..Series::default()
                })
                .collect()
        };
        let (d, w) = plan.diagnostic_shape;
        for (k, when) in [
            (0, "at initialisation"),
            (1, "after epoch 1 (or the run's end)"),
        ] {
            out.push((
                format!("gradients_{}_{dataset}", if k == 0 { "init" } else { "epoch1" }),
                Figure::Lines(LineChart {
                    title: format!("{dataset}: mean |dW| per layer, {d}×{w}, {when}"),
                    x_label: format!("layer (1 = input side, {} = output)", d + 1),
                    y_label: "log10 of mean |dW|".into(),
                    log_x: false,
                    y_range: None,
                    series: grad_series(k),
                    legend: Corner::LowerRight,
                }),
                format!(
                    "{dataset}: the mean absolute gradient of each layer's weights on {} fixed training images, {when}, \
                     for the {d}×{w} network under each setting (log scale: one step is a factor of ten). A line that falls \
                     towards layer 1 is a vanishing gradient. Settings with the same activation and initialisation start \
                     from the same weights, so their lines coincide at initialisation.",
                    plan.probe_rows
                ),
            ));
        }
        let rows = diag
            .iter()
            .flat_map(|s| {
                s.probes.iter().enumerate().map(move |(k, p)| HistogramRow {
                    label: format!(
                        "{} — {}",
                        s.setup.describe(),
                        if k == 0 {
                            "at initialisation".to_string()
                        } else {
                            format!("after {:.2} epochs", p.epochs)
                        }
                    ),
                    range: p.hist_range,
                    layers: p.hist.clone(),
                })
            })
            .collect();
        out.push((
            format!("activations_{dataset}"),
            Figure::Histograms(HistogramGrid {
                title: format!("{dataset}: activation distributions per hidden layer, {d}×{w}"),
                rows,
            }),
            format!(
                "{dataset}: histograms of each hidden layer's activations on {} fixed training images (fraction per bin), \
                 per setting at initialisation and after the first epoch (or the run's end, if sooner), as in the book's \
                 figures 6-10, 6-11 and 6-13.",
                plan.probe_rows
            ),
        ));
    }
    out
}

impl DepthWidthStudy {
    /// The HTML report: question, findings, settings, tables, charts.
    fn report(&self, shapes: &[ShapeSummary], svgs: &[(PathBuf, String)]) -> Result<Report> {
        let p = &self.plan;
        let mut r = Report::new("Study: deep versus wide networks");
        r.paragraph(
            "The question: what changes between a deep network and a wide one, and which suits which problem? \
             A grid of MultiLayerNets — depth (hidden layers) × width (neurons per hidden layer) — trained under one \
             budget on each dataset, each measured for its size, time, accuracies and gap; and one deep shape trained \
             under the chapter-4 settings and chapter 6's fixes, probed at initialisation and after the first epoch, to \
             show why a deep network can fail to learn at all.",
        );
        r.heading("What the measurements say");
        for sentence in findings(p, shapes) {
            r.paragraph(&sentence);
        }
        r.heading("Settings");
        let (d, w) = p.diagnostic_shape;
        let shapes_row = match &p.equal_params {
            Some(n) => format!(
                "depths {:?}, each at the width nearest {:?} parameters",
                p.depths, n
            ),
            None => format!("depths {:?} × widths {:?}", p.depths, p.widths),
        };
        let rows = vec![
            vec!["shapes".to_string(), shapes_row],
            vec!["datasets".into(), p.datasets.join(", ")],
            vec!["budget per run".into(), format!("{} (batch {})", p.budget, p.batch_size)],
            vec!["grid's setting".into(), p.setup.describe()],
            vec![
                "diagnostic runs".into(),
                format!(
                    "{d}×{w}: {}",
                    p.diagnostics.iter().map(Setup::describe).collect::<Vec<_>>().join("; ")
                ),
            ],
            vec!["seeds per shape".into(), p.seeds.to_string()],
            vec![
                "measurements".into(),
                format!(
                    "test accuracy on the whole test set and training accuracy on the first {} training images, {} times \
                     per tenfold of samples seen and at the end; probes of activations and gradients on the first {} \
                     training images, before the first update and after the first epoch (or at the end of a run shorter \
                     than an epoch: probe_epochs in study.csv)",
                    p.train_eval_rows, p.points_per_decade, p.probe_rows
                ),
            ],
            vec!["timing".into(), "runs are done one at a time; training seconds exclude evaluation".into()],
        ];
        r.settings(&rows);
        for dataset in &p.datasets {
            let grid = grid_of(shapes, dataset);
            if grid.is_empty() {
                continue;
            }
            r.heading(&format!("{dataset}: every shape"));
            let table: Vec<Vec<String>> = grid
                .iter()
                .map(|s| {
                    vec![
                        s.depth.to_string(),
                        s.width.to_string(),
                        s.params.to_string(),
                        s.macs.to_string(),
                        format!("{:.1}", s.train_s),
                        format!("{:.4}", s.final_train_acc),
                        format!("{:.4}", s.final_test_acc.0),
                        format!("{:.4}", s.best_test_acc),
                        format!("{:+.4}", s.gap.0),
                        if s.diverged > 0 {
                            format!("{} diverged", s.diverged)
                        } else {
                            String::new()
                        },
                    ]
                })
                .collect();
            r.table(
                &[
                    "depth",
                    "width",
                    "parameters",
                    "MACs/sample",
                    "train s",
                    "final train acc",
                    "final test acc",
                    "best test acc",
                    "gap",
                    "",
                ],
                &table,
            );
            let diag = diagnostic_of(p, shapes, dataset);
            if !diag.is_empty() {
                r.heading(&format!(
                    "{dataset}: the {d}×{w} network under each setting"
                ));
                let g = |s: &ShapeSummary, k: usize, layer: usize| {
                    s.probes
                        .get(k)
                        .and_then(|p| p.grad_mean_abs.get(layer))
                        .map_or("–".into(), |g| format!("{g:.2e}"))
                };
                let table: Vec<Vec<String>> = diag
                    .iter()
                    .map(|s| {
                        let last = |k: usize| {
                            s.probes.get(k).map_or("–".into(), |p| {
                                format!(
                                    "{:.3} / {:.0}%",
                                    p.act_std.last().copied().unwrap_or(0.0),
                                    100.0 * p.act_inactive.last().copied().unwrap_or(0.0)
                                )
                            })
                        };
                        vec![
                            s.setup.describe(),
                            format!("{:.4}", s.final_test_acc.0),
                            g(s, 0, 0),
                            g(s, 0, d),
                            last(0),
                            g(s, 1, 0),
                            g(s, 1, d),
                            last(1),
                        ]
                    })
                    .collect();
                r.table(
                    &[
                        "setting",
                        "final test acc",
                        "mean |dW1|, init",
                        &format!("mean |dW{}|, init", d + 1),
                        &format!("layer {d} activation std / inactive, init"),
                        "mean |dW1|, epoch 1",
                        &format!("mean |dW{}|, epoch 1", d + 1),
                        &format!("layer {d} activation std / inactive, epoch 1"),
                    ],
                    &table,
                );
                r.paragraph("Inactive: ReLU outputs of exactly 0, or sigmoid outputs within 0.01 of 0 or 1 — neurons that pass no gradient back.");
            }
        }
        r.charts(svgs)?;
        Ok(r)
    }
}

/// The answer to the study's question in sentences, each carrying the numbers behind it.
pub fn findings(plan: &DepthWidthPlan, shapes: &[ShapeSummary]) -> Vec<String> {
    let mut out = Vec::new();
    let mut short = Vec::new();
    for dataset in &plan.datasets {
        let grid = grid_of(shapes, dataset);
        if grid.is_empty() {
            continue;
        }
        let name = |s: &ShapeSummary| format!("{}×{}", s.depth, s.width);
        let acc = |s: &ShapeSummary| s.final_test_acc.0;
        // 1. The best and the worst shape.
        let best = grid
            .iter()
            .max_by(|a, b| acc(a).total_cmp(&acc(b)))
            .expect("not empty");
        let worst = grid
            .iter()
            .min_by(|a, b| acc(a).total_cmp(&acc(b)))
            .expect("not empty");
        out.push(format!(
            "On {dataset}, the best shape is {} (depth × width; {} parameters) at {:.4} test accuracy; the worst is {} ({} parameters) at {:.4}.",
            name(best), best.params, acc(best), name(worst), worst.params, acc(worst)
        ));
        // 2. At equal parameters: shapes of different depths within 15% of each other's size.
        let mut sorted = grid.clone();
        sorted.sort_by_key(|s| s.params);
        let mut used = vec![false; sorted.len()];
        let mut pairs = Vec::new();
        for i in 0..sorted.len() {
            if used[i] {
                continue;
            }
            let group: Vec<usize> = (i..sorted.len())
                .filter(|&j| !used[j] && sorted[j].params as f64 <= sorted[i].params as f64 * 1.15)
                .collect();
            let mut depths: Vec<usize> = group.iter().map(|&j| sorted[j].depth).collect();
            depths.sort_unstable();
            depths.dedup();
            if depths.len() < 2 {
                continue;
            }
            for &j in &group {
                used[j] = true;
            }
            let members: Vec<&ShapeSummary> = group.iter().map(|&j| sorted[j]).collect();
            let shallow = members.iter().min_by_key(|s| s.depth).expect("two depths");
            let deep = members.iter().max_by_key(|s| s.depth).expect("two depths");
            let winner = members
                .iter()
                .max_by(|a, b| acc(a).total_cmp(&acc(b)))
                .expect("not empty");
            let diff = acc(deep) - acc(shallow);
            // With several seeds, a difference inside either shape's min–max range is noise.
            let range = |s: &ShapeSummary| s.final_test_acc.2 - s.final_test_acc.1;
            let noise = range(shallow).max(range(deep));
            let within = plan.seeds > 1 && diff.abs() <= noise;
            pairs.push((
                if within { 0.0 } else { diff },
                format!(
                    "at about {} parameters, {}{} ({:.4}) against {}{} ({:.4}): {} by {:.4}{}{}",
                    round_sig(shallow.params),
                    if members.len() > 2 {
                        let mut all = members.clone();
                        all.sort_by_key(|s| s.depth);
                        let list: Vec<String> = all
                            .iter()
                            .map(|s| format!("{} {:.4}", name(s), acc(s)))
                            .collect();
                        format!("{}; shallowest ", list.join(", "))
                    } else {
                        String::new()
                    },
                    name(shallow),
                    acc(shallow),
                    if members.len() > 2 { "deepest " } else { "" },
                    name(deep),
                    acc(deep),
                    if diff > 0.0 {
                        "the deeper wins"
                    } else if diff < 0.0 {
                        "the shallower wins"
                    } else {
                        "a tie"
                    },
                    diff.abs(),
                    if within {
                        format!(", within the seeds' spread ({noise:.4}): no winner")
                    } else {
                        String::new()
                    },
                    if winner.depth != shallow.depth && winner.depth != deep.depth {
                        format!(
                            " (best of the group: {} at {:.4})",
                            name(winner),
                            acc(winner)
                        )
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        if pairs.is_empty() {
            out.push(format!(
                "On {dataset}, no two shapes of different depth have parameter counts within 15% of each other; use --equal-params to compare them at the same size."
            ));
        } else {
            let deep_wins = pairs.iter().filter(|p| p.0 > 0.0).count();
            let shallow_wins = pairs.iter().filter(|p| p.0 < 0.0).count();
            short.push(format!(
                "on {dataset} the deeper network won {deep_wins} and the shallower {shallow_wins} of {} equal-size comparisons and the best shape was {} ({:.4})",
                pairs.len(),
                name(best),
                acc(best)
            ));
            out.push(format!(
                "At equal parameters on {dataset} (shapes within 15% of each other's size), the deeper network wins {deep_wins} of {} comparisons: {}.",
                pairs.len(),
                pairs.iter().map(|p| p.1.as_str()).collect::<Vec<_>>().join("; ")
            ));
        }
        // 3. Where width stops paying, per depth; where depth stops paying, per width.
        let layers = |d: usize| format!("{d} hidden layer{}", if d == 1 { "" } else { "s" });
        let mut width_notes = Vec::new();
        for &d in &plan.depths {
            let line: Vec<&&ShapeSummary> = grid.iter().filter(|s| s.depth == d).collect();
            if line.len() < 2 {
                continue;
            }
            let stop = line.windows(2).find(|w| acc(w[1]) - acc(w[0]) < 0.002);
            let (first, last) = (line[0], line[line.len() - 1]);
            let mut note = format!(
                "with {} test accuracy goes from {:.4} at width {} to {:.4} at width {}",
                layers(d),
                acc(first),
                first.width,
                acc(last),
                last.width
            );
            match stop {
                Some(w) => {
                    let _ = write!(
                        note,
                        ", and the first widening that gains less than 0.002 is {}→{} ({:+.4})",
                        w[0].width,
                        w[1].width,
                        acc(w[1]) - acc(w[0])
                    );
                }
                None => note.push_str(", every widening gaining at least 0.002"),
            }
            width_notes.push(note);
        }
        if !width_notes.is_empty() {
            out.push(format!("Width on {dataset}: {}.", width_notes.join("; ")));
        }
        let mut widths: Vec<usize> = grid.iter().map(|s| s.width).collect();
        widths.sort_unstable();
        widths.dedup();
        let mut depth_notes = Vec::new();
        for &w in &widths {
            let line: Vec<&&ShapeSummary> = grid.iter().filter(|s| s.width == w).collect();
            if line.len() < 2 {
                continue;
            }
            let top = line
                .iter()
                .max_by(|a, b| acc(a).total_cmp(&acc(b)))
                .expect("not empty");
            let stop = line.windows(2).find(|x| acc(x[1]) - acc(x[0]) < 0.002);
            let mut note = format!(
                "at width {w}, {:.4} with {} and {:.4} with {}, best with {} ({:.4})",
                acc(line[0]),
                layers(line[0].depth),
                acc(line[line.len() - 1]),
                line[line.len() - 1].depth,
                top.depth,
                acc(top)
            );
            match stop {
                Some(x) => {
                    let _ = write!(
                        note,
                        "; the first added layer that gains less than 0.002 is {}→{} ({:+.4})",
                        x[0].depth,
                        x[1].depth,
                        acc(x[1]) - acc(x[0])
                    );
                }
                None => note.push_str("; every added layer gains at least 0.002"),
            }
            depth_notes.push(note);
        }
        if !depth_notes.is_empty() {
            out.push(format!("Depth on {dataset}: {}.", depth_notes.join("; ")));
        }
        // 4. The gap.
        let widest = grid
            .iter()
            .max_by(|a, b| a.gap.0.total_cmp(&b.gap.0))
            .expect("not empty");
        let open: Vec<&&ShapeSummary> = grid.iter().filter(|s| s.gap.0 > 0.01).collect();
        let mut s = format!(
            "The train − test gap on {dataset} (training accuracy on {} training images) is largest at {} ({} parameters): {:+.4}.",
            plan.train_eval_rows,
            name(widest),
            widest.params,
            widest.gap.0
        );
        match open.iter().min_by_key(|s| s.params) {
            Some(smallest) => {
                let _ = write!(
                    s,
                    " It exceeds 0.01 in {} of {} shapes, the smallest of them {} ({} parameters, {:+.4}): overfitting opens there.",
                    open.len(),
                    grid.len(),
                    name(smallest),
                    smallest.params,
                    smallest.gap.0
                );
            }
            None => s.push_str(" No shape's gap exceeds 0.01: within this budget none overfits."),
        }
        out.push(s);
        let diverged: Vec<String> = grid
            .iter()
            .filter(|s| s.diverged > 0)
            .map(|s| name(s))
            .collect();
        if !diverged.is_empty() {
            out.push(format!("Diverged on {dataset}: {}.", diverged.join(", ")));
        }
    }
    if !short.is_empty() {
        out.insert(0, format!("In short: {}.", short.join("; ")));
    }
    let ranges: Vec<f64> = shapes
        .iter()
        .filter(|s| s.grid && s.runs > 1)
        .map(|s| s.final_test_acc.2 - s.final_test_acc.1)
        .collect();
    if ranges.is_empty() {
        out.push(
            "Each shape was trained with one seed, so differences of a few thousandths may be run-to-run noise; \
             --seeds K gives means and spreads."
                .into(),
        );
    } else {
        let mut sorted = ranges.clone();
        sorted.sort_by(f64::total_cmp);
        out.push(format!(
            "Across {} seeds, one shape's final test accuracy varies by {:.4} (median over shapes) and at most {:.4}: \
             differences smaller than that are noise.",
            plan.seeds,
            sorted[sorted.len() / 2],
            sorted[sorted.len() - 1]
        ));
    }
    out.extend(diagnosis(plan, shapes));
    out
}

/// Why the deep sigmoid network with 0.01·randn weights fails, and what fixes it.
fn diagnosis(plan: &DepthWidthPlan, shapes: &[ShapeSummary]) -> Vec<String> {
    let mut out = Vec::new();
    let (d, w) = plan.diagnostic_shape;
    for dataset in &plan.datasets {
        let diag = diagnostic_of(plan, shapes, dataset);
        let Some(first) = diag.first() else { continue };
        let grads = |s: &ShapeSummary, k: usize| -> Option<(f64, f64)> {
            let p = s.probes.get(k)?;
            Some((*p.grad_mean_abs.first()?, *p.grad_mean_abs.last()?))
        };
        let mut s = format!(
            "On {dataset}, the {d}×{w} network with {} ends at {:.4} test accuracy",
            first.setup.describe(),
            first.final_test_acc.0
        );
        if first.final_test_acc.0 < 0.2 {
            s.push_str(" — chance level: it does not learn");
        }
        s.push('.');
        if let Some((g1, gout)) = grads(first, 0) {
            let _ = write!(
                s,
                " At initialisation its mean |dW1| is {g1:.2e} against {gout:.2e} at the output layer W{}: the gradient \
                 shrinks by a factor of {} on its way back through {d} layers.",
                d + 1,
                factor(gout / g1.max(1e-300))
            );
        }
        if let Some(p) = first.probes.first() {
            let std = p.act_std.last().copied().unwrap_or(0.0);
            let inactive = p.act_inactive.last().copied().unwrap_or(0.0);
            let _ = write!(
                s,
                " Its layer-{d} activations have mean {:.3} and standard deviation {std:.4}{}",
                p.act_mean.last().copied().unwrap_or(0.0),
                if first.setup.activation == Activation::Sigmoid && std < 0.05 {
                    " — every neuron outputs nearly the same value, so the layers cannot tell images apart (the book's figure 6-11)."
                } else if inactive > 0.5 {
                    " — most are saturated and pass no gradient."
                } else {
                    "."
                }
            );
            let _ = inactive;
        }
        if let (Some((g1, _)), Some(p)) = (grads(first, 1), first.probes.get(1)) {
            let _ = write!(
                s,
                " After {:.2} epochs its mean |dW1| is {g1:.2e}.",
                p.epochs
            );
        }
        out.push(s);
        let fixes: Vec<String> = diag[1..]
            .iter()
            .map(|x| {
                let ratio = grads(x, 0).map_or(String::new(), |(g1, gout)| {
                    format!(
                        ", |dW{}|/|dW1| at init {}",
                        d + 1,
                        factor(gout / g1.max(1e-300))
                    )
                });
                format!(
                    "{} reaches {:.4}{ratio}",
                    x.setup.describe(),
                    x.final_test_acc.0
                )
            })
            .collect();
        if !fixes.is_empty() {
            out.push(format!(
                "What fixes it on {dataset}, one change at a time ({}×{w}, same budget): {}.",
                d,
                fixes.join("; ")
            ));
        }
    }
    out
}

/// A ratio: `3.6`, `12.0`, `250`, `2.5e8`.
fn factor(x: f64) -> String {
    if x >= 1e4 {
        format!("{x:.1e}")
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// A parameter count to two significant digits, for "about N parameters".
fn round_sig(n: usize) -> String {
    let n = n as f64;
    let scale = 10f64.powf(n.log10().floor() - 1.0).max(1.0);
    format!("{:.0}", (n / scale).round() * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_multiply_adds_follow_the_layer_sizes() {
        // 784-50-10: the book's TwoLayerNet.
        assert_eq!(param_count(1, 50, 784, 10), 784 * 50 + 50 + 50 * 10 + 10);
        assert_eq!(macs_per_sample(1, 50, 784, 10), 784 * 50 + 50 * 10);
        // 784-100-100-100-10.
        assert_eq!(
            param_count(3, 100, 784, 10),
            785 * 100 + 2 * 101 * 100 + 101 * 10
        );
        assert_eq!(
            macs_per_sample(3, 100, 784, 10),
            784 * 100 + 2 * 100 * 100 + 100 * 10
        );
    }

    #[test]
    fn the_width_solver_lands_within_a_few_percent_of_the_target() {
        for depth in 1..=8 {
            for target in [20_000, 100_000, 500_000] {
                let w = width_for_params(depth, target, 784, 10);
                let p = param_count(depth, w, 784, 10);
                let miss = p.abs_diff(target) as f64 / target as f64;
                assert!(
                    miss < 0.03,
                    "depth {depth} target {target}: width {w} has {p}"
                );
                // No neighbour is nearer.
                for other in [w - 1, w + 1] {
                    assert!(
                        param_count(depth, other, 784, 10).abs_diff(target) >= p.abs_diff(target)
                    );
                }
            }
        }
        assert_eq!(width_for_params(1, 79_510, 784, 10), 100);
        assert_eq!(width_for_params(3, 10, 784, 10), 1);
    }

    fn shape(dataset: &str, depth: usize, width: usize, acc: f64, gap: f64) -> ShapeSummary {
        ShapeSummary {
            dataset: dataset.into(),
            setup: Setup::RELU_HE_ADAM,
            grid: true,
            depth,
            width,
            params: param_count(depth, width, 784, 10),
            macs: macs_per_sample(depth, width, 784, 10),
            runs: 1,
            diverged: 0,
            train_s: 1.0,
            final_test_acc: (acc, acc, acc),
            final_train_acc: acc + gap,
            best_test_acc: acc,
            gap: (gap, gap, gap),
            probes: Vec::new(),
        }
    }

    fn diag(setup: Setup, acc: f64, grads: Vec<f64>, std: f64) -> ShapeSummary {
        let probe = Probe {
            updates: 0,
            epochs: 0.0,
            loss: 2.3,
            grad_mean_abs: grads,
            act_mean: vec![0.5; 5],
            act_std: vec![std; 5],
            act_inactive: vec![0.0; 5],
            hist_range: (0.0, 1.0),
            hist: vec![vec![0.05; 20]; 5],
        };
        ShapeSummary {
            setup,
            grid: false,
            probes: vec![probe.clone(), probe],
            ..shape("mnist", 5, 100, acc, 0.0)
        }
    }

    #[test]
    fn findings_name_the_shapes_and_numbers_that_support_them() {
        let plan = DepthWidthPlan {
            datasets: vec!["mnist".into()],
            depths: vec![1, 2],
            widths: vec![16, 50],
            ..DepthWidthPlan::default()
        };
        let d = Setup::diagnostics();
        let shapes = vec![
            shape("mnist", 1, 16, 0.9300, 0.001),
            shape("mnist", 1, 50, 0.9600, 0.004),
            shape("mnist", 2, 16, 0.9350, 0.002),
            shape("mnist", 2, 50, 0.9610, 0.015),
            diag(
                d[0],
                0.1135,
                vec![1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-3],
                0.002,
            ),
            diag(d[1], 0.8800, vec![1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-3], 0.2),
        ];
        let text = findings(&plan, &shapes).join("\n");
        assert!(text.contains("On mnist, the best shape is 2×50 (depth × width; 42310 parameters) at 0.9610 test accuracy; the worst is 1×16 (12730 parameters) at 0.9300."), "{text}");
        assert!(text.contains("at about 13000 parameters, 1×16 (0.9300) against 2×16 (0.9350): the deeper wins by 0.0050"), "{text}");
        assert!(text.contains("at about 40000 parameters, 1×50 (0.9600) against 2×50 (0.9610): the deeper wins by 0.0010"), "{text}");
        assert!(
            text.contains("the deeper network wins 2 of 2 comparisons"),
            "{text}"
        );
        assert!(text.starts_with("In short: on mnist the deeper network won 2 and the shallower 0 of 2 equal-size comparisons and the best shape was 2×50 (0.9610)."), "{text}");
        assert!(
            text.contains("one seed, so differences of a few thousandths may be run-to-run noise"),
            "{text}"
        );
        assert!(text.contains("with 2 hidden layers test accuracy goes from 0.9350 at width 16 to 0.9610 at width 50, every widening gaining at least 0.002"), "{text}");
        assert!(text.contains("at width 50, 0.9600 with 1 hidden layer and 0.9610 with 2, best with 2 (0.9610); the first added layer that gains less than 0.002 is 1→2 (+0.0010)"), "{text}");
        assert!(
            text.contains(
                "is largest at 2×50 (42310 parameters): +0.0150. It exceeds 0.01 in 1 of 4 shapes"
            ),
            "{text}"
        );
        assert!(text.contains("the 5×100 network with sigmoid, std 0.01, SGD lr 0.01 ends at 0.1135 test accuracy — chance level"), "{text}");
        assert!(text.contains("mean |dW1| is 1.00e-9 against 1.00e-3 at the output layer W6: the gradient shrinks by a factor of 1.0e6"), "{text}");
        assert!(
            text.contains("standard deviation 0.0020 — every neuron outputs nearly the same value"),
            "{text}"
        );
        assert!(
            text.contains("sigmoid, xavier, SGD lr 0.01 reaches 0.8800, |dW6|/|dW1| at init 10.0"),
            "{text}"
        );
    }

    #[test]
    fn with_several_seeds_differences_inside_the_spread_have_no_winner() {
        let plan = DepthWidthPlan {
            datasets: vec!["mnist".into()],
            depths: vec![1, 2],
            widths: vec![16],
            seeds: 3,
            diagnostics: Vec::new(),
            ..DepthWidthPlan::default()
        };
        let mut a = shape("mnist", 1, 16, 0.9300, 0.001);
        a.runs = 3;
        a.final_test_acc = (0.9300, 0.9250, 0.9350);
        let mut b = shape("mnist", 2, 16, 0.9320, 0.001);
        b.runs = 3;
        b.final_test_acc = (0.9320, 0.9300, 0.9330);
        let text = findings(&plan, &[a, b]).join("\n");
        assert!(text.contains("1×16 (0.9300) against 2×16 (0.9320): the deeper wins by 0.0020, within the seeds' spread (0.0100): no winner"), "{text}");
        assert!(
            text.contains("the deeper network won 0 and the shallower 0 of 1"),
            "{text}"
        );
        assert!(text.contains("Across 3 seeds, one shape's final test accuracy varies by 0.0100 (median over shapes) and at most 0.0100"), "{text}");
    }

    #[test]
    fn plans_list_the_grid_then_the_missing_diagnostic_runs() {
        let plan = DepthWidthPlan {
            datasets: vec!["mnist".into()],
            depths: vec![5],
            widths: vec![100],
            ..DepthWidthPlan::default()
        };
        let runs = plan.runs();
        // The grid's 5×100 run doubles as the relu/He/Adam diagnostic run.
        assert_eq!(runs.len(), 4);
        assert_eq!(runs[0].setup, Setup::RELU_HE_ADAM);
        let study = DepthWidthStudy::new(plan.clone()).unwrap();
        assert_eq!(
            study.run_id(&runs[1]),
            "mnist-d5-w100-sigmoid-std0.01-sgd0.01-seed0"
        );
        let equal = DepthWidthPlan {
            equal_params: Some(vec![100_000]),
            depths: vec![1, 3],
            ..plan
        };
        let widths: Vec<usize> = equal.shapes().iter().map(|s| s.1).collect();
        assert_eq!(widths, vec![126, 100]);
    }
}
