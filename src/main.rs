//! The scratchnet command-line tool: parses arguments and calls the library.

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use scratchnet::data::{self, DatasetKind, FetchOptions};
use scratchnet::experiment::batch_size::{
    findings, summarise, BatchSizePlan, BatchSizeStudy, LrScaling,
};
use scratchnet::experiment::depth_width::{self, DepthWidthPlan, DepthWidthStudy, Setup};
use scratchnet::experiment::runner::{self, merge_studies, run_study, Shard, Study};
use scratchnet::experiment::Budget;
use scratchnet::init::WeightInit;
use scratchnet::interrupt;
use scratchnet::layers::Activation;
use scratchnet::net::MultiLayerNetConfig;
use scratchnet::optim::OptimizerKind;
use scratchnet::progress::Console;
use scratchnet::run::{self, NetworkSpec, Outcome, RunDir, Start, TrainSettings};
use scratchnet::train::{GradientMethod, OnNan, Sampling};
use scratchnet::{demo, eval, gradcheck};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// scratchnet: neural-network training from scratch, and a lab for measuring it.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Print nothing but results (no progress bars or log lines).
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train the book's TwoLayerNet (784-50-10, sigmoid, SGD), or with --hidden a MultiLayerNet,
    /// and write charts, metrics, weights and an HTML report. Defaults are the users' chapter-4
    /// run (≈0.94 test accuracy).
    Train(TrainArgs),
    /// Check backpropagation against numerical gradients on 3 training images (f64).
    Gradcheck(GradcheckArgs),
    /// Test accuracy of saved weights, with the confusion matrix and the misclassified images.
    Eval(EvalArgs),
    /// Download (or copy) a dataset into the cache, verify its checksums and say where it is.
    Fetch(FetchArgs),
    /// Run a study — many training runs measured side by side — ending in an HTML report.
    Study {
        #[command(subcommand)]
        study: StudyCommand,
    },
    /// Print a chapter's figures and draw its charts, as the book shows them.
    Demo {
        #[command(subcommand)]
        demo: Demo,
    },
}

#[derive(Subcommand)]
enum Demo {
    /// Chapter 4: loss functions, numerical differentiation, gradients, gradient descent, simpleNet.
    Chapter4 {
        /// Sections to print, comma-separated: loss, diff, gradient, descent, simplenet.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "loss,diff,gradient,descent,simplenet"
        )]
        sections: Vec<demo::chapter4::Section>,
        /// Folder for the charts (SVG and PNG).
        #[arg(long, default_value = "runs/demo-chapter4")]
        out: PathBuf,
    },
    /// Chapter 6: SGD, Momentum, Nesterov, AdaGrad, RMSprop and Adam on f(x, y) = x²/20 + y²
    /// from (-7, 2), 30 steps each (figure 6-8): final points, and the paths as a chart.
    Optimizers {
        /// Folder for the chart (SVG and PNG).
        #[arg(long, default_value = "runs/demo-optimizers")]
        out: PathBuf,
    },
}

/// `scratchnet train`'s arguments: one flag per setting of the book's loop.
#[derive(clap::Args, Debug)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    net: NetArgs,
    /// Number of updates (the book's iters_num).
    #[arg(long = "iters", alias = "iters-num", default_value_t = 10_000)]
    iters_num: usize,
    /// Images per mini-batch.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// How gradients are computed: backprop, or numerical (chapter 4's way; very slow).
    #[arg(long, value_enum, default_value_t = GradientMethod::Backprop)]
    gradient: GradientMethod,
    /// Seed of the initial weights and the mini-batch draws; the same seed gives the same run.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Threads for matrix products and evaluation (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Folder for the results (default: runs/<UTC time>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// What a NaN or infinite loss does: stop (saving what was learned) or continue.
    #[arg(long, value_enum, default_value_t = OnNan::Stop)]
    on_nan: OnNan,
    /// Continue the interrupted run in DIR (its settings come from DIR/config.json).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["iters_num", "batch_size", "gradient", "seed", "out", "on_nan", "hidden_size", "hidden", "activation", "learning_rate", "dataset"]
    )]
    resume: Option<PathBuf>,
}

/// The network and learning settings that `train` and the studies share.
#[derive(clap::Args, Debug, Clone)]
struct NetArgs {
    /// Neurons in the hidden layer of the TwoLayerNet.
    #[arg(long, default_value_t = 50, conflicts_with = "hidden")]
    hidden_size: usize,
    /// Train a MultiLayerNet with these hidden layer sizes, comma-separated (100,100,100).
    #[arg(long, value_delimiter = ',', value_name = "SIZES")]
    hidden: Option<Vec<usize>>,
    /// The hidden layers' activation.
    #[arg(long, value_enum, default_value_t = Activation::Sigmoid)]
    activation: Activation,
    /// Standard deviation of the TwoLayerNet's initial weights (W = std · randn).
    #[arg(
        long,
        default_value_t = 0.01,
        conflicts_with = "hidden",
        allow_negative_numbers = true
    )]
    weight_init_std: f64,
    /// MultiLayerNet weight initialisation: std:σ, xavier or he (default: he for relu,
    /// xavier for sigmoid).
    #[arg(long, value_name = "INIT", requires = "hidden")]
    init: Option<WeightInit>,
    /// MultiLayerNet L2 weight decay λ (loss += ½·λ·ΣW²).
    #[arg(
        long,
        value_name = "LAMBDA",
        requires = "hidden",
        allow_negative_numbers = true
    )]
    weight_decay: Option<f64>,
    /// MultiLayerNet: a Dropout layer of this ratio after each hidden activation.
    #[arg(
        long,
        value_name = "RATIO",
        requires = "hidden",
        allow_negative_numbers = true
    )]
    dropout: Option<f64>,
    /// MultiLayerNet: a BatchNorm layer before each hidden activation.
    #[arg(long, requires = "hidden")]
    batchnorm: bool,
    /// The update rule.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Sgd)]
    optimizer: OptimizerKind,
    /// The learning rate (default: 0.1 for sgd, the book's defaults for the others:
    /// 0.01, adam 0.001).
    #[arg(long = "lr", alias = "learning-rate", allow_negative_numbers = true)]
    learning_rate: Option<f64>,
    /// How mini-batches are drawn: with replacement (the book's np.random.choice) or shuffled epochs.
    #[arg(long, value_enum, default_value_t = Sampling::WithReplacement)]
    sampling: Sampling,
}

impl NetArgs {
    /// These settings on `dataset`, the rest the users' run.
    fn settings(&self, dataset: DatasetKind) -> TrainSettings {
        TrainSettings {
            dataset: dataset.to_string(),
            network: self.network(),
            optimizer: self.optimizer,
            learning_rate: self
                .learning_rate
                .unwrap_or_else(|| self.optimizer.default_learning_rate()),
            sampling: self.sampling,
            ..TrainSettings::default()
        }
    }

    /// The TwoLayerNet of `--hidden-size`, or with `--hidden` a MultiLayerNet.
    fn network(&self) -> NetworkSpec {
        let Some(hidden_size_list) = &self.hidden else {
            return NetworkSpec::TwoLayerNet {
                hidden_size: self.hidden_size,
                activation: self.activation,
                weight_init_std: self.weight_init_std,
            };
        };
        let defaults = MultiLayerNetConfig::default();
        NetworkSpec::MultiLayerNet(MultiLayerNetConfig {
            hidden_size_list: hidden_size_list.clone(),
            activation: self.activation,
            weight_init: self
                .init
                .unwrap_or_else(|| WeightInit::for_activation(self.activation)),
            weight_decay_lambda: self.weight_decay.unwrap_or(0.0),
            use_dropout: self.dropout.is_some(),
            dropout_ratio: self.dropout.unwrap_or(defaults.dropout_ratio),
            use_batchnorm: self.batchnorm,
        })
    }
}

/// `scratchnet study`'s studies.
#[derive(Subcommand)]
enum StudyCommand {
    /// Mini-batch size versus speed and accuracy: one run per size, measured side by side.
    BatchSize(Box<BatchSizeArgs>),
    /// Deep versus wide: a grid of depths × widths (or equal parameter counts) on MNIST and
    /// Fashion-MNIST, with the diagnosis of why a deep sigmoid network fails to learn.
    DepthWidth(Box<DepthWidthArgs>),
    /// Combine study folders (e.g. the shards of one study) into one, with its report.
    Merge {
        /// Study folders to combine.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Folder for the combined study.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// `scratchnet study batch-size`'s arguments.
#[derive(clap::Args, Debug)]
struct BatchSizeArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    net: NetArgs,
    /// Batch sizes to compare, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,10,100,1000,6000,60000"
    )]
    sizes: Vec<usize>,
    /// Training per run: iters:N (same updates), epochs:N (same samples) or time:SECONDS.
    #[arg(long, default_value = "epochs:5")]
    budget: Budget,
    /// How the learning rate (given for batch 100) follows the batch size.
    #[arg(long, value_enum, default_value_t = LrScaling::None)]
    lr_scaling: LrScaling,
    /// Seeds per batch size (0, 1, …); the report gives means and spreads.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// The test accuracy whose first crossing is timed.
    #[arg(long, default_value_t = 0.9, allow_negative_numbers = true)]
    target: f64,
    /// Training images (the first ones) the training accuracy is measured on.
    #[arg(long, default_value_t = 10_000)]
    train_eval_rows: usize,
    /// Run only the I-th of N slices of the runs (I/N), to spread a study over machines.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Threads for matrix products and evaluation (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Folder for the study (rerunning into it resumes a stopped study).
    #[arg(long, value_name = "DIR", default_value = "runs/study-batch-size")]
    out: PathBuf,
}

/// `scratchnet study depth-width`'s arguments.
#[derive(clap::Args, Debug)]
struct DepthWidthArgs {
    /// Datasets, comma-separated: mnist, fashion-mnist (each gets its own grid).
    #[arg(long, value_delimiter = ',', default_value = "mnist,fashion-mnist")]
    datasets: Vec<DatasetKind>,
    /// Root of the data cache (as for `fetch --data-dir`).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Numbers of hidden layers, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5")]
    depths: Vec<usize>,
    /// Neurons per hidden layer, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16,50,100,200,400")]
    widths: Vec<usize>,
    /// Instead of --widths: for each depth, the width giving about N parameters (several N
    /// comma-separated): deep-narrow against shallow-wide at the same size.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "N",
        conflicts_with = "widths"
    )]
    equal_params: Option<Vec<usize>>,
    /// Training per run: epochs:N, iters:N or time:SECONDS.
    #[arg(long, default_value = "epochs:2")]
    budget: Budget,
    /// Seeds per shape (0, 1, …).
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Rows per mini-batch.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// The grid's hidden activation.
    #[arg(long, value_enum, default_value_t = Activation::Relu)]
    activation: Activation,
    /// The grid's weight initialisation: std:σ, xavier or he (default: he for relu, xavier
    /// for sigmoid).
    #[arg(long, value_name = "INIT")]
    init: Option<WeightInit>,
    /// The grid's update rule.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Adam)]
    optimizer: OptimizerKind,
    /// The grid's learning rate (default: the optimizer's; adam 0.001).
    #[arg(long = "lr", allow_negative_numbers = true)]
    learning_rate: Option<f64>,
    /// Leave out the diagnostic runs (sigmoid/std 0.01/SGD and chapter 6's fixes on 5×100).
    #[arg(long)]
    no_diagnosis: bool,
    /// Training images (the first ones) the training accuracy is measured on.
    #[arg(long, default_value_t = 10_000)]
    train_eval_rows: usize,
    /// Run only the I-th of N slices of the runs (I/N), to spread a study over machines.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Threads for matrix products and evaluation (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Folder for the study (rerunning into it resumes a stopped study).
    #[arg(long, value_name = "DIR", default_value = "runs/study-depth-width")]
    out: PathBuf,
}

/// `scratchnet gradcheck`'s arguments.
#[derive(clap::Args, Debug)]
struct GradcheckArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Seed of the network's initial weights.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Training images to check on.
    #[arg(long, default_value_t = 3)]
    samples: usize,
    /// The largest mean |backprop - numerical| that passes; a parameter above it fails the
    /// check (exit status 1).
    #[arg(long, default_value_t = gradcheck::TOLERANCE, allow_negative_numbers = true)]
    tolerance: f64,
}

/// `scratchnet eval`'s arguments.
#[derive(clap::Args, Debug)]
struct EvalArgs {
    #[command(flatten)]
    data: DataArgs,
    /// A model.safetensors written by `scratchnet train`.
    #[arg(long, value_name = "PATH")]
    model: PathBuf,
    /// Folder for the charts (default: the model's folder).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Which dataset, and where its files are cached and may be found: shared by every command that
/// reads data (`#[command(flatten)]`).
#[derive(clap::Args, Debug, Clone)]
struct DataArgs {
    /// The dataset: mnist (the default) or fashion-mnist. `eval` defaults to the dataset the
    /// model was trained on.
    #[arg(long)]
    dataset: Option<DatasetKind>,
    /// Root of the data cache (files go in DIR/<dataset>/); overrides $SCRATCHNET_DATA and the
    /// default <user cache>/scratchnet.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A folder holding the four IDX files (raw or .gz), used before any download.
    #[arg(long, value_name = "DIR")]
    from: Option<PathBuf>,
}

impl DataArgs {
    /// The dataset asked for, or MNIST.
    fn dataset(&self) -> DatasetKind {
        self.dataset.unwrap_or_default()
    }

    /// The library's fetch options for these flags.
    fn fetch_options(&self) -> FetchOptions {
        FetchOptions {
            data_dir: self.data_dir.clone(),
            from: self.from.clone(),
        }
    }
}

/// `scratchnet fetch`'s arguments.
#[derive(clap::Args, Debug)]
struct FetchArgs {
    #[command(flatten)]
    data: DataArgs,
}

/// Fetches and verifies a dataset, then prints where each file is, its source and checksum.
fn run_fetch(args: &FetchArgs, quiet: bool) -> Result<()> {
    let progress = Console::new(quiet);
    let kind = args.data.dataset();
    let fetched = data::fetch(kind, &args.data.fetch_options(), &progress)?;
    println!(
        "{kind}: {} files in {}",
        fetched.files.len(),
        fetched.dir.display()
    );
    for file in &fetched.files {
        let when = if file.was_cached {
            "cached, from"
        } else {
            "fetched from"
        };
        println!(
            "  {:<24} {:>9} bytes  sha256 {}  {when} {}",
            file.name, file.size, file.sha256, file.origin
        );
    }
    println!("all SHA-256 checksums verified against the pinned values");
    Ok(())
}

/// More threads than this are refused: each has its own stack, and past the number of cores
/// they only take turns.
const MAX_THREADS: usize = 1024;

/// Sets the number of threads for rayon (which the gemm products also use) and for
/// matrixmultiply (ndarray's `dot`), before either starts.
fn set_threads(threads: Option<usize>) -> Result<()> {
    let Some(n) = threads else { return Ok(()) };
    if !(1..=MAX_THREADS).contains(&n) {
        bail!(
            "invalid --threads {n}: expected 1 to {MAX_THREADS} (this machine has {} cores)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
    }
    std::env::set_var("MATMUL_NUM_THREADS", n.to_string());
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()?;
    Ok(())
}

fn run_train(args: &TrainArgs, quiet: bool) -> Result<()> {
    let started = std::time::Instant::now();
    set_threads(args.threads)?;
    let progress = Console::new(quiet);
    let (dir, settings, start) = match &args.resume {
        Some(dir) => {
            let dir = RunDir::open(dir);
            let settings = dir.settings()?;
            (Some(dir), settings, Start::Resume)
        }
        None => {
            let settings = TrainSettings {
                iters_num: args.iters_num,
                batch_size: args.batch_size,
                gradient: args.gradient,
                seed: args.seed,
                on_nan: args.on_nan,
                ..args.net.settings(args.data.dataset())
            };
            settings.validate()?;
            let dir = args.out.as_deref().map(RunDir::open);
            if let Some(dir) = &dir {
                dir.check_new()?;
            }
            (dir, settings, Start::Fresh)
        }
    };
    let kind: DatasetKind = settings.dataset.parse()?;
    let dataset = data::load(kind, &args.data.fetch_options(), &progress)?;
    let dir = match (dir, start) {
        (Some(dir), Start::Resume) => dir,
        (Some(dir), Start::Fresh) => RunDir::claim(dir.path())?,
        (None, _) => RunDir::claim_new_in(Path::new("runs"))?,
    };
    let out = dir.path();
    let run = match run::run(&dir, &settings, start, &dataset, &progress)? {
        Outcome::Finished(run) => run,
        Outcome::Interrupted {
            iteration,
            checkpoint,
        } => {
            return Err(Stopped {
                cause: format!("interrupted after {iteration} iterations"),
                hint: format!(
                    "checkpoint saved in {}; continue with: scratchnet train --resume {}",
                    checkpoint.display(),
                    out.display()
                ),
                interrupted: true,
            }
            .into())
        }
        Outcome::Diverged(d) => {
            return Err(Stopped {
                cause: d.to_string(),
                hint: format!(
                    "what was learned until then is in {} (model.safetensors, epochs.csv, report.html); \
                     try a smaller --lr, or --on-nan continue to watch it",
                    out.display()
                ),
                interrupted: false,
            }
            .into())
        }
    };
    let h = &run.history;
    println!(
        "final weights: train acc {:.4}, test acc {:.4} | {:.2} s of updates ({:.0} samples/s), {:.2} s of evaluation",
        h.final_train_acc, h.final_test_acc, h.train_seconds, run.samples_per_s, h.eval_seconds
    );
    println!(
        "wrote {} ({:.2} s in all, loading and writing included)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    for file in &run.files {
        println!("  {}", file.display());
    }
    Ok(())
}

fn run_batch_size_study(args: &BatchSizeArgs, quiet: bool) -> Result<()> {
    set_threads(args.threads)?;
    let plan = BatchSizePlan {
        sizes: args.sizes.clone(),
        budget: args.budget,
        lr_scaling: args.lr_scaling,
        seeds: args.seeds,
        target: args.target,
        train_eval_rows: args.train_eval_rows,
        ..BatchSizePlan::new(args.net.settings(args.data.dataset()))
    };
    let study = BatchSizeStudy::new(plan)?;
    let progress = Console::new(quiet);
    let dataset = data::load(args.data.dataset(), &args.data.fetch_options(), &progress)?;
    let result = run_study(
        &study,
        &dataset,
        &args.out,
        args.shard.unwrap_or(Shard::ALL),
        &progress,
    )
    .map_err(|e| explain_stop(e))?;
    print_study(&result.files, result.ran, result.outcomes.len());
    if !quiet {
        for sentence in findings(study.plan(), &summarise(study.plan(), &result.outcomes)) {
            println!("- {sentence}");
        }
    }
    Ok(())
}

fn run_depth_width_study(args: &DepthWidthArgs, quiet: bool) -> Result<()> {
    set_threads(args.threads)?;
    let mut datasets: Vec<String> = args.datasets.iter().map(|d| d.to_string()).collect();
    datasets.dedup();
    let plan = DepthWidthPlan {
        datasets,
        depths: args.depths.clone(),
        widths: args.widths.clone(),
        equal_params: args.equal_params.clone(),
        budget: args.budget,
        seeds: args.seeds,
        batch_size: args.batch_size,
        setup: Setup {
            activation: args.activation,
            weight_init: args
                .init
                .unwrap_or_else(|| WeightInit::for_activation(args.activation)),
            optimizer: args.optimizer,
            learning_rate: args
                .learning_rate
                .unwrap_or_else(|| args.optimizer.default_learning_rate()),
        },
        diagnostics: if args.no_diagnosis {
            Vec::new()
        } else {
            Setup::diagnostics()
        },
        train_eval_rows: args.train_eval_rows,
        ..DepthWidthPlan::default()
    };
    let study = DepthWidthStudy::new(plan)?;
    let progress = Console::new(quiet);
    let options = FetchOptions {
        data_dir: args.data_dir.clone(),
        from: None,
    };
    let mut loaded = Vec::new();
    for name in &study.plan().datasets {
        let kind = args
            .datasets
            .iter()
            .find(|d| d.to_string() == *name)
            .expect("the plan's datasets come from the flag");
        loaded.push((name.clone(), data::load(*kind, &options, &progress)?));
    }
    let result = run_study(
        &study,
        loaded.as_slice(),
        &args.out,
        args.shard.unwrap_or(Shard::ALL),
        &progress,
    )
    .map_err(|e| explain_stop(e))?;
    print_study(&result.files, result.ran, result.outcomes.len());
    if !quiet {
        let shapes = depth_width::summarise(study.plan(), &result.outcomes);
        for sentence in depth_width::findings(study.plan(), &shapes) {
            println!("- {sentence}");
        }
    }
    Ok(())
}

fn run_merge(dirs: &[PathBuf], out: &std::path::Path) -> Result<()> {
    let first = dirs.first().expect("clap requires at least one folder");
    let kind = runner::study_kind(first)?;
    let (files, total) = match kind.as_str() {
        BatchSizeStudy::KIND => {
            let study = BatchSizeStudy::new(runner::read_plan::<BatchSizeStudy>(first)?)?;
            let result = merge_studies(&study, dirs, out)?;
            (result.files, result.outcomes.len())
        }
        DepthWidthStudy::KIND => {
            let study = DepthWidthStudy::new(runner::read_plan::<DepthWidthStudy>(first)?)?;
            let result = merge_studies(&study, dirs, out)?;
            (result.files, result.outcomes.len())
        }
        other => bail!("{}: unknown study kind {other}", first.display()),
    };
    print_study(&files, 0, total);
    Ok(())
}

/// A run or study that stopped early, with what to do next.
#[derive(Debug)]
struct Stopped {
    cause: String,
    hint: String,
    /// Stopped by Ctrl-C or SIGTERM (exit status 130), rather than by divergence.
    interrupted: bool,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n{}", self.cause, self.hint)
    }
}

impl std::error::Error for Stopped {}

/// Adds what to do next to an interrupted study's error.
fn explain_stop(e: scratchnet::Error) -> anyhow::Error {
    match &e {
        scratchnet::Error::StudyInterrupted { checkpoint, .. } => Stopped {
            cause: e.to_string(),
            hint: format!(
                "checkpoint saved in {}; rerun the same command to resume \
                 (finished runs are kept, this one continues from its checkpoint)",
                checkpoint.display()
            ),
            interrupted: true,
        }
        .into(),
        _ => e.into(),
    }
}

/// What a study command wrote.
fn print_study(files: &[PathBuf], ran: usize, total: usize) {
    println!("{ran} runs done now, {total} in the study");
    for file in files {
        println!("  {}", file.display());
    }
}

fn run_gradcheck(args: &GradcheckArgs, quiet: bool) -> Result<()> {
    gradcheck::check_tolerance(args.tolerance)?;
    let progress = Console::new(quiet);
    let dataset = data::load(args.data.dataset(), &args.data.fetch_options(), &progress)?;
    let checks = gradcheck::check_two_layer_net(&dataset, args.samples, args.seed)?;
    println!(
        "mean |backprop - numerical| over {} training images (f64):",
        args.samples
    );
    for c in &checks {
        println!("{}: {:e}", c.name, c.mean_abs_diff);
    }
    if let Some(bad) = gradcheck::first_failure(&checks, args.tolerance) {
        bail!(
            "gradient check failed: {} differs by {:e}, more than {:e}",
            bad.name,
            bad.mean_abs_diff,
            args.tolerance
        );
    }
    println!("ok: every difference is below {:e}", args.tolerance);
    Ok(())
}

fn run_eval(args: &EvalArgs, quiet: bool) -> Result<()> {
    let progress = Console::new(quiet);
    let trained_on = eval::trained_on(&args.model);
    let kind = args.data.dataset.or(trained_on).unwrap_or_default();
    if let Some(trained_on) = trained_on.filter(|&t| t != kind) {
        eprintln!(
            "note: {} was trained on {trained_on} (its config.json says so); evaluating on {kind} as asked",
            args.model.display()
        );
    }
    let dataset = data::load(kind, &args.data.fetch_options(), &progress)?;
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => scratchnet::files::parent_dir(&args.model).to_path_buf(),
    };
    let (evaluation, files) = eval::evaluate_model(&args.model, &dataset, &out)?;
    println!(
        "test accuracy {:.4} ({} of {} misclassified)",
        evaluation.accuracy,
        evaluation.misclassified.len(),
        dataset.t_test.len()
    );
    print!(
        "{}",
        evaluation.confusion_table(&dataset.kind.class_names())
    );
    for file in &files {
        println!("  {}", file.display());
    }
    Ok(())
}

/// Lets a closed pipe (`scratchnet … | head`) end the program quietly, as it does other
/// command-line tools, instead of making every later print fail.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default is async-signal-safe and happens
    // before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Ctrl-C or SIGTERM: the first asks training to stop after its current iteration and save a
/// checkpoint; a second exits at once (every file is written atomically, so none is torn).
fn install_interrupt_handler() {
    let installed = ctrlc::set_handler(|| {
        if interrupt::request_stop() {
            std::process::exit(INTERRUPTED);
        }
        eprintln!("\nstopping after this iteration (Ctrl-C again to quit at once)");
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C will not save a checkpoint ({e})");
    }
}

/// The exit status of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells use).
const INTERRUPTED: i32 = 130;

fn main() -> ExitCode {
    restore_default_sigpipe();
    install_interrupt_handler();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let interrupted = e
                .downcast_ref::<Stopped>()
                .is_some_and(|stopped| stopped.interrupted);
            ExitCode::from(if interrupted { INTERRUPTED as u8 } else { 1 })
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(args) => run_train(&args, cli.quiet),
        Command::Gradcheck(args) => run_gradcheck(&args, cli.quiet),
        Command::Eval(args) => run_eval(&args, cli.quiet),
        Command::Fetch(args) => run_fetch(&args, cli.quiet),
        Command::Study { study } => match study {
            StudyCommand::BatchSize(args) => run_batch_size_study(&args, cli.quiet),
            StudyCommand::DepthWidth(args) => run_depth_width_study(&args, cli.quiet),
            StudyCommand::Merge { dirs, out } => run_merge(&dirs, &out),
        },
        Command::Demo { demo } => match demo {
            Demo::Chapter4 { sections, out } => {
                demo::chapter4::run(&sections, &out, &mut std::io::stdout().lock())?;
                Ok(())
            }
            Demo::Optimizers { out } => {
                demo::optimizers::run(&out, &mut std::io::stdout().lock())?;
                Ok(())
            }
        },
    }
}
