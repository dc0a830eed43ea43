//! One training run from settings to a folder of results, for a TwoLayerNet or a MultiLayerNet
//! ([`NetworkSpec`]) through one code path ([`train_network`]): `config.json`, `iters.csv`,
//! `epochs.csv`, `model.safetensors`, the loss and accuracy charts (SVG and PNG) and
//! `report.html`.

use super::{
    EvalSchedule, GradientMethod, History, OnNan, Sampling, TrainConfig, TrainData, Trainer,
};
use crate::checkpoint::{self, Describe};
use crate::data::idx::NUM_CLASSES;
use crate::data::Dataset;
use crate::files::write_atomic;
use crate::init::WeightInit;
use crate::layers::{Activation, Targets};
use crate::net::{parameter_count, MultiLayerNet, MultiLayerNetConfig, Network, TwoLayerNet};
use crate::optim::{check_learning_rate, OptimizerKind};
use crate::plot::training::{AccuracyChart, LossChart};
use crate::progress::Progress;
use crate::report::{label, Report};
use crate::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Which network a run trains, with its shape and options. In config.json its fields sit
/// beside the other settings, tagged by `"network": "TwoLayerNet"` or `"MultiLayerNet"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "network")]
pub enum NetworkSpec {
    /// The book's TwoLayerNet: input → `hidden_size` → output, `W = weight_init_std · randn`.
    TwoLayerNet {
        /// Neurons in the hidden layer (50).
        hidden_size: usize,
        /// The hidden activation (sigmoid).
        activation: Activation,
        /// Standard deviation of the initial weights (0.01).
        weight_init_std: f64,
    },
    /// A MultiLayerNet: input → each of `hidden_size_list` → output, with its options.
    MultiLayerNet(MultiLayerNetConfig),
}

impl Default for NetworkSpec {
    /// The users' chapter-4 network: 50 sigmoid neurons, σ = 0.01.
    fn default() -> Self {
        NetworkSpec::TwoLayerNet {
            hidden_size: 50,
            activation: Activation::Sigmoid,
            weight_init_std: 0.01,
        }
    }
}

/// The most weights a network may have: training keeps about five f32 copies of each.
pub const MAX_WEIGHTS: usize = 100_000_000;

impl NetworkSpec {
    /// The network's type name (`TwoLayerNet` or `MultiLayerNet`).
    pub fn name(&self) -> &'static str {
        match self {
            NetworkSpec::TwoLayerNet { .. } => "TwoLayerNet",
            NetworkSpec::MultiLayerNet(_) => "MultiLayerNet",
        }
    }

    /// Checks the shape and options.
    pub fn validate(&self) -> Result<()> {
        match self {
            NetworkSpec::TwoLayerNet {
                hidden_size,
                weight_init_std,
                ..
            } => {
                if *hidden_size == 0 {
                    return Err(Error::invalid("hidden size", 0, "at least 1"));
                }
                WeightInit::Std(*weight_init_std).validate()
            }
            NetworkSpec::MultiLayerNet(config) => config.validate(),
        }?;
        // Both datasets have 28×28-pixel images and 10 classes.
        let sizes = self.all_size_list(28 * 28, NUM_CLASSES);
        let weights = sizes
            .windows(2)
            .try_fold(0usize, |n, w| n.checked_add(w[0].checked_mul(w[1])?));
        match weights {
            Some(n) if n <= MAX_WEIGHTS => Ok(()),
            _ => Err(Error::invalid(
                "network",
                self.shape(28 * 28, NUM_CLASSES),
                "at most 100,000,000 weights (with gradients and optimizer state, about 2 GB)",
            )),
        }
    }

    /// The layer sizes from input to output: `[input, hidden…, output]`.
    pub fn all_size_list(&self, input_size: usize, output_size: usize) -> Vec<usize> {
        let hidden = match self {
            NetworkSpec::TwoLayerNet { hidden_size, .. } => vec![*hidden_size],
            NetworkSpec::MultiLayerNet(config) => config.hidden_size_list.clone(),
        };
        std::iter::once(input_size)
            .chain(hidden)
            .chain([output_size])
            .collect()
    }

    /// The network's name and layer sizes: `TwoLayerNet 784-50-10`.
    pub fn shape(&self, input_size: usize, output_size: usize) -> String {
        let sizes: Vec<String> = self
            .all_size_list(input_size, output_size)
            .iter()
            .map(usize::to_string)
            .collect();
        format!("{} {}", self.name(), sizes.join("-"))
    }

    /// One line for reports: the shape, then each option
    /// (`TwoLayerNet 784-50-10, activation sigmoid, weight_init_std 0.01`).
    pub fn describe(&self, input_size: usize, output_size: usize) -> String {
        let mut parts = vec![self.shape(input_size, output_size)];
        parts.extend(
            self.option_rows()
                .into_iter()
                .map(|(name, value)| format!("{name} {value}")),
        );
        parts.join(", ")
    }

    /// (name, value) rows describing the options, for the report.
    fn option_rows(&self) -> Vec<(&'static str, String)> {
        match self {
            NetworkSpec::TwoLayerNet {
                activation,
                weight_init_std,
                ..
            } => vec![
                ("activation", label(activation)),
                ("weight_init_std", weight_init_std.to_string()),
            ],
            NetworkSpec::MultiLayerNet(c) => vec![
                ("activation", label(&c.activation)),
                ("weight_init", label(&c.weight_init)),
                ("weight_decay_lambda", c.weight_decay_lambda.to_string()),
                (
                    "use_dropout",
                    if c.use_dropout {
                        format!("true (dropout_ratio {})", c.dropout_ratio)
                    } else {
                        "false".into()
                    },
                ),
                ("use_batchnorm", c.use_batchnorm.to_string()),
            ],
        }
    }
}

/// Every setting of a run, saved as `config.json`; the defaults are the users' chapter-4 run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// The dataset's name (`mnist` or `fashion-mnist`).
    pub dataset: String,
    /// The network and its options (TwoLayerNet 784-50-10, sigmoid, σ 0.01).
    #[serde(flatten)]
    pub network: NetworkSpec,
    /// The update rule (SGD).
    pub optimizer: OptimizerKind,
    /// Number of updates (10000).
    pub iters_num: usize,
    /// Rows per mini-batch (100).
    pub batch_size: usize,
    /// The optimizer's learning rate (0.1).
    pub learning_rate: f64,
    /// How mini-batches are drawn (with replacement, as the book).
    pub sampling: Sampling,
    /// Backpropagation or numerical gradients.
    pub gradient: GradientMethod,
    /// Seed of the weights and of the mini-batch sampler.
    pub seed: u64,
    /// When accuracy is measured (the book's: every epoch, on the whole sets).
    pub eval: EvalSchedule,
    /// Stop once this many seconds of updates have passed, even before `iters_num`.
    pub time_limit_s: Option<f64>,
    /// What a NaN or infinite loss does: stop (keeping what was learned) or continue.
    #[serde(default)]
    pub on_nan: OnNan,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            dataset: "mnist".into(),
            network: NetworkSpec::default(),
            optimizer: OptimizerKind::Sgd,
            iters_num: 10_000,
            batch_size: 100,
            learning_rate: 0.1,
            sampling: Sampling::WithReplacement,
            gradient: GradientMethod::Backprop,
            seed: 0,
            eval: EvalSchedule::Epochs,
            time_limit_s: None,
            on_nan: OnNan::Stop,
        }
    }
}

impl TrainSettings {
    /// Checks every setting that can be checked before data is loaded.
    pub fn validate(&self) -> Result<()> {
        self.network.validate()?;
        check_learning_rate(self.learning_rate)?;
        // The training set's size is checked when the data is there.
        self.config().validate(usize::MAX)
    }

    /// The training loop's part of these settings.
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            iters_num: self.iters_num,
            batch_size: self.batch_size,
            sampling: self.sampling,
            gradient: self.gradient,
            seed: self.seed,
            eval: self.eval,
            time_limit_s: self.time_limit_s,
            on_nan: self.on_nan,
        }
    }
}

/// Refuses an output folder that already holds a run, whose files a new run would replace:
/// an interrupted one (resume it with `--resume`) or a finished one.
pub fn check_new_run_dir(dir: &Path) -> Result<()> {
    let reason = if super::resume::has_checkpoint(dir) {
        "holds an interrupted run: continue it with --resume, or choose another --out"
    } else if dir.join("config.json").exists() {
        "already holds a run, whose files a new one would replace: choose another --out"
    } else {
        return Ok(());
    };
    Err(Error::BadFile {
        path: dir.to_path_buf(),
        reason: reason.into(),
    })
}

/// What a finished run measured and where it wrote it.
pub struct RunSummary<N> {
    /// Losses and accuracies.
    pub history: History,
    /// The trained network.
    pub net: N,
    /// Every file written, in order.
    pub files: Vec<PathBuf>,
    /// Training samples processed per second of update time (evaluation excluded).
    pub samples_per_s: f64,
}

impl<N: Network<f32> + 'static> RunSummary<N> {
    /// The same summary with the network behind a `Box<dyn Network>`.
    pub fn boxed(self) -> RunSummary<Box<dyn Network<f32>>> {
        RunSummary {
            history: self.history,
            net: Box::new(self.net),
            files: self.files,
            samples_per_s: self.samples_per_s,
        }
    }
}

/// The config.json document: the settings plus what describes the run around them.
#[derive(Serialize)]
struct ConfigFile<'a> {
    scratchnet_version: &'static str,
    input_size: usize,
    output_size: usize,
    parameters: usize,
    train_size: usize,
    test_size: usize,
    iter_per_epoch: usize,
    #[serde(flatten)]
    settings: &'a TrainSettings,
}

/// Class labels as indices (the dataset stores them as bytes).
pub fn labels(t: &ndarray::Array1<u8>) -> Vec<usize> {
    t.iter().map(|&v| v as usize).collect()
}

/// Builds the network `settings.network` describes (weights from `settings.seed`), trains it on
/// `dataset` and writes every result into `out_dir`.
pub fn train(
    settings: &TrainSettings,
    dataset: &Dataset,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<RunSummary<Box<dyn Network<f32>>>> {
    settings.validate()?;
    let (input_size, output_size) = (dataset.x_train.ncols(), NUM_CLASSES);
    let mut init_rng = ChaCha8Rng::seed_from_u64(settings.seed);
    match &settings.network {
        NetworkSpec::TwoLayerNet {
            hidden_size,
            activation,
            weight_init_std,
        } => {
            let net = TwoLayerNet::<f32>::new(
                input_size,
                *hidden_size,
                output_size,
                *weight_init_std,
                *activation,
                &mut init_rng,
            )?;
            Ok(train_network(net, settings, dataset, out_dir, progress)?.boxed())
        }
        NetworkSpec::MultiLayerNet(config) => {
            let net = MultiLayerNet::<f32>::new(input_size, output_size, config, &mut init_rng)?;
            Ok(train_network(net, settings, dataset, out_dir, progress)?.boxed())
        }
    }
}

/// Trains `net` on `dataset` with the optimizer and loop of `settings` and writes every result
/// into `out_dir` (atomically): `config.json` (which records `settings`, so `settings.network`
/// should describe `net`), `iters.csv`, `epochs.csv`, `model.safetensors`, the charts and
/// `report.html`.
///
/// A stop request (Ctrl-C) leaves `checkpoint.safetensors` for [`super::resume::resume`] and
/// returns [`Error::Interrupted`]; a diverging loss writes the folder with what was learned
/// until then and returns [`Error::Diverged`].
pub fn train_network<N: Network<f32> + Describe + Clone>(
    net: N,
    settings: &TrainSettings,
    dataset: &Dataset,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<RunSummary<N>> {
    train_network_observed(net, settings, dataset, out_dir, progress, &mut |_, _| {})
}

/// [`train_network`], showing the network to `observer` before training (with 0) and after
/// every update (with the updates made so far): see [`Trainer::train_observed`].
pub fn train_network_observed<N: Network<f32> + Describe + Clone>(
    net: N,
    settings: &TrainSettings,
    dataset: &Dataset,
    out_dir: &Path,
    progress: &dyn Progress,
    observer: &mut dyn FnMut(usize, &N),
) -> Result<RunSummary<N>> {
    let labels = Labels::of(dataset);
    let mut trainer = new_trainer(net, settings, labels.data(dataset))?;
    run_trainer(&mut trainer, settings, out_dir, progress, observer)
}

/// A dataset's labels as class indices, kept while a trainer borrows them.
pub(crate) struct Labels {
    t_train: Vec<usize>,
    t_test: Vec<usize>,
}

impl Labels {
    /// The labels of `dataset`.
    pub(crate) fn of(dataset: &Dataset) -> Self {
        Labels {
            t_train: labels(&dataset.t_train),
            t_test: labels(&dataset.t_test),
        }
    }

    /// `dataset` with these labels, as a trainer reads it.
    pub(crate) fn data<'a>(&'a self, dataset: &'a Dataset) -> TrainData<'a, f32> {
        TrainData {
            x_train: dataset.x_train.view(),
            t_train: &self.t_train,
            x_test: dataset.x_test.view(),
            t_test: &self.t_test,
        }
    }
}

/// A trainer for `net` on `data` with the optimizer and loop of `settings`.
pub(crate) fn new_trainer<'a, N: Network<f32> + Clone>(
    net: N,
    settings: &TrainSettings,
    data: TrainData<'a, f32>,
) -> Result<Trainer<'a, f32, N>> {
    let optimizer = settings.optimizer.build(settings.learning_rate)?;
    Trainer::new(net, optimizer, data, settings.config())
}

/// Runs `trainer` to its end (from wherever its state stands) and writes the run folder;
/// see [`train_network`] for what an interruption or a divergence leaves behind.
pub(crate) fn run_trainer<N: Network<f32> + Describe + Clone>(
    trainer: &mut Trainer<f32, N>,
    settings: &TrainSettings,
    out_dir: &Path,
    progress: &dyn Progress,
    observer: &mut dyn FnMut(usize, &N),
) -> Result<RunSummary<N>> {
    let data = trainer.data();
    let config = settings.config();
    if settings.gradient == GradientMethod::Numerical && trainer.state.iteration == 0 {
        progress.line(&estimate_numerical(&trainer.net, data, &config));
    }
    let config_file = ConfigFile {
        scratchnet_version: env!("CARGO_PKG_VERSION"),
        input_size: data.x_train.ncols(),
        output_size: NUM_CLASSES,
        parameters: parameter_count(&trainer.net),
        train_size: data.t_train.len(),
        test_size: data.t_test.len(),
        iter_per_epoch: config.iter_per_epoch(data.t_train.len()),
        settings,
    };
    let config_json = serde_json::to_string_pretty(&config_file).expect("config serialises");
    write_atomic(&out_dir.join("config.json"), config_json.as_bytes())?;
    let history = match trainer.train_observed(progress, observer) {
        Ok(history) => history,
        Err(e @ Error::Interrupted { .. }) => {
            super::resume::save_checkpoint(trainer, out_dir)?;
            return Err(e);
        }
        Err(e @ Error::Diverged { .. }) => {
            let note = format!("Stopped early: {e}.");
            write_run_folder(
                out_dir,
                &config_file,
                &trainer.state.history,
                &trainer.net,
                Some(&note),
            )?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let files = write_run_folder(out_dir, &config_file, &history, &trainer.net, None)?;
    super::resume::remove_checkpoint(out_dir)?;
    let samples = history.train_loss_list.len() * settings.batch_size;
    Ok(RunSummary {
        samples_per_s: samples as f64 / history.train_seconds.max(1e-9),
        history,
        net: trainer.net.clone(),
        files,
    })
}

/// Times one numerical gradient and says how long the whole run would take.
fn estimate_numerical<N: Network<f32> + Clone>(
    net: &N,
    data: TrainData<f32>,
    config: &TrainConfig,
) -> String {
    let rows = config.batch_size.min(data.t_train.len());
    let start = Instant::now();
    net.numerical_gradient(
        &data.x_train.slice(ndarray::s![..rows, ..]),
        Targets::Labels(&data.t_train[..rows]),
    );
    let per_iter = start.elapsed().as_secs_f64();
    format!(
        "numerical gradients: one iteration takes {per_iter:.2} s, so {} iterations will take about {}",
        config.iters_num,
        human_duration(per_iter * config.iters_num as f64)
    )
}

/// "3.2 s", "4.5 min", "2.1 h".
pub fn human_duration(seconds: f64) -> String {
    match seconds {
        s if s < 120.0 => format!("{s:.1} s"),
        s if s < 7200.0 => format!("{:.1} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}

fn write_run_folder<N: Network<f32> + Describe>(
    out_dir: &Path,
    config: &ConfigFile,
    history: &History,
    net: &N,
    note: Option<&str>,
) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| -> Result<()> {
        let path = out_dir.join(name);
        write_atomic(&path, bytes)?;
        files.push(path);
        Ok(())
    };
    write(
        "config.json",
        serde_json::to_string_pretty(config)
            .expect("config serialises")
            .as_bytes(),
    )?;
    write("iters.csv", history.iters_csv().as_bytes())?;
    write("epochs.csv", history.epochs_csv().as_bytes())?;
    let model = out_dir.join("model.safetensors");
    checkpoint::save(net, net.metadata(), &model)?;
    files.push(model);
    let [loss_svg, loss_png] = crate::plot::save(
        &LossChart {
            losses: &history.train_loss_list,
        },
        out_dir,
        "loss",
    )?;
    let [acc_svg, acc_png] = crate::plot::save(
        &AccuracyChart {
            epochs: &history.epochs,
        },
        out_dir,
        "accuracy",
    )?;
    let report = out_dir.join("report.html");
    run_report(config, history, &acc_svg, &loss_svg, note)?.save(&report)?;
    files.extend([loss_svg, loss_png, acc_svg, acc_png, report]);
    Ok(files)
}

fn run_report(
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
        history.final_train_acc, history.final_test_acc, history.train_loss_list.len(), s.batch_size, history.train_seconds, history.eval_seconds
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
        vec!["iters_num".into(), s.iters_num.to_string()],
        vec!["batch_size".into(), s.batch_size.to_string()],
        vec!["learning_rate".into(), s.learning_rate.to_string()],
        vec!["iter_per_epoch".into(), config.iter_per_epoch.to_string()],
        vec!["sampling".into(), label(&s.sampling)],
        vec!["gradient".into(), label(&s.gradient)],
        vec!["seed".into(), s.seed.to_string()],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_json_with_the_network_flattened() {
        let two = TrainSettings::default();
        let json = serde_json::to_value(&two).unwrap();
        assert_eq!(json["network"], "TwoLayerNet");
        assert_eq!(json["hidden_size"], 50);
        assert_eq!(json["activation"], "sigmoid");
        assert_eq!(json["optimizer"], "sgd");
        assert_eq!(serde_json::from_value::<TrainSettings>(json).unwrap(), two);

        let deep = TrainSettings {
            network: NetworkSpec::MultiLayerNet(MultiLayerNetConfig {
                hidden_size_list: vec![100, 100, 100],
                use_batchnorm: true,
                weight_init: WeightInit::Std(0.01),
                ..MultiLayerNetConfig::default()
            }),
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.001,
            ..TrainSettings::default()
        };
        let json = serde_json::to_value(&deep).unwrap();
        assert_eq!(json["network"], "MultiLayerNet");
        assert_eq!(json["hidden_size_list"], serde_json::json!([100, 100, 100]));
        assert_eq!(json["weight_init"], "std:0.01");
        assert_eq!(json["optimizer"], "adam");
        assert_eq!(serde_json::from_value::<TrainSettings>(json).unwrap(), deep);
        assert_eq!(
            deep.network.all_size_list(784, 10),
            vec![784, 100, 100, 100, 10]
        );
    }
}
