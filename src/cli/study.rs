//! `scratchnet study`: the batch-size, depth-width and architecture studies, and merging study
//! folders.

use super::data::{DataArgs, DataSource};
use super::explain_stop;
use super::net::NetArgs;
use super::value::choice;
use crate::data::{self, DatasetKind};
use crate::experiment::architecture::{self, ArchitecturePlan, ArchitectureStudy};
use crate::experiment::batch_size::{
    findings, summarise, BatchSizePlan, BatchSizeStudy, LrScaling,
};
use crate::experiment::depth_width::{self, DepthWidthPlan, DepthWidthStudy, Setup};
use crate::experiment::registry;
use crate::experiment::runner::{claim_study, process_env, run_claimed, Shard, ShardSpec, Study};
use crate::experiment::Budget;
use crate::progress::Console;
use crate::run::settings::Choices;
use crate::threads;
use anyhow::Result;
use clap::Subcommand;
use scratchnet_core::init::WeightInit;
use scratchnet_core::layers::Activation;
use scratchnet_core::optim::OptimizerKind;
use std::path::PathBuf;

/// `scratchnet study`'s studies.
#[derive(Subcommand)]
pub(super) enum StudyCommand {
    /// Mini-batch size versus speed and accuracy: one run per size, measured side by side.
    BatchSize(Box<BatchSizeArgs>),
    /// Deep versus wide: a grid of depths × widths (or equal parameter counts) on MNIST and
    /// Fashion-MNIST, with the diagnosis of why a deep sigmoid network fails to learn.
    DepthWidth(Box<DepthWidthArgs>),
    /// Which suits which problem: conv nets against MLPs of equal parameters and of equal
    /// multiply-adds per sample, on MNIST and Fashion-MNIST, several seeds.
    Architecture(Box<ArchitectureArgs>),
    /// Combine study folders (e.g. the shards of one study) into one, with its report.
    Merge {
        /// Study folders to combine.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Folder for the combined study.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Merge even when the folders together lack some of the study's runs (they are
        /// named); without it such a merge is refused.
        #[arg(long)]
        allow_partial: bool,
    },
}

/// Runs the study command, printing what it wrote (and, unless quiet, its findings).
pub(super) fn run(command: StudyCommand, quiet: bool) -> Result<()> {
    match command {
        StudyCommand::BatchSize(args) => run_batch_size(&args, quiet),
        StudyCommand::DepthWidth(args) => run_depth_width(&args, quiet),
        StudyCommand::Architecture(args) => run_architecture(&args, quiet),
        StudyCommand::Merge {
            dirs,
            out,
            allow_partial,
        } => {
            let merged = registry::merge(&dirs, &out, allow_partial)?;
            crate::say!(
                "merged into {}: {} of the study's {} runs",
                out.display(),
                merged.runs,
                merged.runs + merged.missing.len()
            );
            for file in &merged.files {
                crate::say!("  {}", file.display());
            }
            if !merged.missing.is_empty() {
                crate::say!(
                    "partial: {} runs missing: {}",
                    merged.missing.len(),
                    merged.missing.join(", ")
                );
            }
            Ok(())
        }
    }
}

/// The flags every study has. `--budget` and `--out` get their defaults from the study's
/// arguments (`mut_arg`).
#[derive(clap::Args, Debug)]
pub(super) struct StudyArgs {
    /// Training per run: iters:N (same updates), epochs:N (same samples) or time:SECONDS.
    #[arg(long)]
    budget: Budget,
    /// Seeds per setting (0, 1, …); the report gives means and spreads.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Training images (the first ones) the training accuracy is measured on.
    #[arg(long, default_value_t = 10_000)]
    train_eval_rows: usize,
    /// Run only the I-th of N slices of the runs (I/N), to spread a study over machines; auto
    /// reads I and N from a Slurm job array or a Kubernetes Indexed Job (see deploy/).
    #[arg(long, value_name = "I/N|auto")]
    shard: Option<ShardSpec>,
    /// Threads for matrix products and evaluation (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Folder for the study (rerunning into it resumes a stopped study).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// `scratchnet study batch-size`'s arguments.
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("budget", |a| a.required(false).default_value("epochs:5")),
    mut_arg("out", |a| a.required(false).default_value("runs/study-batch-size"))
)]
pub(super) struct BatchSizeArgs {
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
    /// How the learning rate (given for batch 100) follows the batch size.
    #[arg(long, value_parser = choice::<LrScaling>(), default_value_t = LrScaling::None)]
    lr_scaling: LrScaling,
    /// The test accuracy whose first crossing is timed.
    #[arg(long, default_value_t = 0.9, allow_negative_numbers = true)]
    target: f64,
    #[command(flatten)]
    study: StudyArgs,
}

/// `scratchnet study depth-width`'s arguments.
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("budget", |a| a.required(false).default_value("epochs:2")),
    mut_arg("out", |a| a.required(false).default_value("runs/study-depth-width"))
)]
pub(super) struct DepthWidthArgs {
    /// Datasets, comma-separated: mnist, fashion-mnist (each gets its own grid).
    #[arg(long, value_delimiter = ',', default_value = "mnist,fashion-mnist")]
    datasets: Vec<DatasetKind>,
    #[command(flatten)]
    source: DataSource,
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
    /// Rows per mini-batch.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// The grid's hidden activation.
    #[arg(long, value_parser = choice::<Activation>(), default_value_t = Activation::Relu)]
    activation: Activation,
    /// The grid's weight initialisation: std:σ, xavier or he (default: he for relu, xavier
    /// for sigmoid).
    #[arg(long, value_name = "INIT")]
    init: Option<WeightInit>,
    /// The grid's update rule.
    #[arg(long, value_parser = choice::<OptimizerKind>(), default_value_t = OptimizerKind::Adam)]
    optimizer: OptimizerKind,
    /// The grid's learning rate (default: the optimizer's; adam 0.001).
    #[arg(long = "lr", allow_negative_numbers = true)]
    learning_rate: Option<f64>,
    /// Leave out the diagnostic runs (sigmoid/std 0.01/SGD and chapter 6's fixes on 5×100).
    #[arg(long)]
    no_diagnosis: bool,
    #[command(flatten)]
    study: StudyArgs,
}

/// `scratchnet study architecture`'s arguments.
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("budget", |a| a.required(false).default_value("epochs:2")),
    mut_arg("seeds", |a| a.default_value("3")),
    mut_arg("train_eval_rows", |a| a.default_value("2000")),
    mut_arg("out", |a| a.required(false).default_value("runs/study-architecture"))
)]
pub(super) struct ArchitectureArgs {
    /// Datasets, comma-separated: mnist, fashion-mnist (each trains every network).
    #[arg(long, value_delimiter = ',', default_value = "mnist,fashion-mnist")]
    datasets: Vec<DatasetKind>,
    #[command(flatten)]
    source: DataSource,
    /// A conv net in the core's text form (conv:FNxF[sS][pP], pool:P[sS], fc:N, dropout:R,
    /// comma-separated; He initialisation); give --conv once per conv net. Each is trained beside an MLP of about its parameters and
    /// one of about its multiply-adds per sample. Default: conv:4x5,pool:2,fc:16,
    /// conv:8x5,pool:2,fc:50 and the book's SimpleConvNet, conv:30x5,pool:2,fc:100.
    #[arg(long = "conv", value_name = "SPEC")]
    convs: Vec<String>,
    /// Hidden layers of the matched MLPs.
    #[arg(long, default_value_t = 1)]
    mlp_depth: usize,
    /// Rows per mini-batch.
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// The update rule of every network.
    #[arg(long, value_parser = choice::<OptimizerKind>(), default_value_t = OptimizerKind::Adam)]
    optimizer: OptimizerKind,
    /// The learning rate (default: the optimizer's; adam 0.001).
    #[arg(long = "lr", allow_negative_numbers = true)]
    learning_rate: Option<f64>,
    #[command(flatten)]
    study: StudyArgs,
}

impl StudyArgs {
    /// The slice of the study to run: all of it, the one given, or the scheduler's (said on
    /// the console, so that each task's log shows which slice it ran).
    fn shard(&self, quiet: bool) -> Result<Shard> {
        let Some(spec) = self.shard else {
            return Ok(Shard::ALL);
        };
        let (shard, from) = spec.resolve(&process_env())?;
        if spec == ShardSpec::Auto && !quiet {
            crate::say!("shard {}/{} ({from})", shard.index, shard.count);
        }
        Ok(shard)
    }
}

fn run_batch_size(args: &BatchSizeArgs, quiet: bool) -> Result<()> {
    let common = &args.study;
    threads::init(common.threads)?;
    let shard = common.shard(quiet)?;
    let plan = BatchSizePlan {
        sizes: args.sizes.clone(),
        budget: common.budget,
        lr_scaling: args.lr_scaling,
        seeds: common.seeds,
        target: args.target,
        train_eval_rows: common.train_eval_rows,
        ..BatchSizePlan::new(args.net.settings(args.data.dataset(), Choices::default())?)
    };
    let study = BatchSizeStudy::new(plan)?;
    let claim = claim_study(&study, &common.out)?;
    let progress = Console::new(quiet);
    let dataset = data::load(args.data.dataset(), &args.data.fetch_options(), &progress)?;
    let result = run_claimed(&study, &dataset, &claim, shard, &progress).map_err(explain_stop)?;
    print_study(&result.files, result.ran, result.outcomes.len());
    if !quiet {
        for sentence in findings(study.plan(), &summarise(study.plan(), &result.outcomes)) {
            crate::say!("- {sentence}");
        }
    }
    Ok(())
}

fn run_depth_width(args: &DepthWidthArgs, quiet: bool) -> Result<()> {
    let common = &args.study;
    threads::init(common.threads)?;
    let shard = common.shard(quiet)?;
    let mut kinds = args.datasets.clone();
    kinds.dedup();
    let plan = DepthWidthPlan {
        datasets: kinds.clone(),
        depths: args.depths.clone(),
        widths: args.widths.clone(),
        equal_params: args.equal_params.clone(),
        budget: common.budget,
        seeds: common.seeds,
        batch_size: args.batch_size,
        setup: Setup {
            activation: args.activation,
            weight_init: WeightInit::or_default_for(args.init, args.activation),
            optimizer: args.optimizer,
            learning_rate: args.optimizer.learning_rate_or_default(args.learning_rate),
        },
        diagnostics: if args.no_diagnosis {
            Vec::new()
        } else {
            Setup::diagnostics()
        },
        train_eval_rows: common.train_eval_rows,
        ..DepthWidthPlan::default()
    };
    let study = DepthWidthStudy::new(plan)?;
    let claim = claim_study(&study, &common.out)?;
    let progress = Console::new(quiet);
    let options = args.source.fetch_options();
    let mut loaded = Vec::new();
    for kind in kinds {
        loaded.push((kind, data::load(kind, &options, &progress)?));
    }
    let result =
        run_claimed(&study, loaded.as_slice(), &claim, shard, &progress).map_err(explain_stop)?;
    print_study(&result.files, result.ran, result.outcomes.len());
    if !quiet {
        let shapes = depth_width::summarise(study.plan(), &result.outcomes);
        for sentence in depth_width::findings(study.plan(), &shapes) {
            crate::say!("- {sentence}");
        }
    }
    Ok(())
}

fn run_architecture(args: &ArchitectureArgs, quiet: bool) -> Result<()> {
    let common = &args.study;
    threads::init(common.threads)?;
    let shard = common.shard(quiet)?;
    let mut kinds = args.datasets.clone();
    kinds.dedup();
    let defaults = ArchitecturePlan::default();
    let plan = ArchitecturePlan {
        datasets: kinds.clone(),
        convs: if args.convs.is_empty() {
            defaults.convs.clone()
        } else {
            args.convs.clone()
        },
        mlp_depth: args.mlp_depth,
        budget: common.budget,
        seeds: common.seeds,
        batch_size: args.batch_size,
        optimizer: args.optimizer,
        learning_rate: args.optimizer.learning_rate_or_default(args.learning_rate),
        train_eval_rows: common.train_eval_rows,
        ..defaults
    };
    let study = ArchitectureStudy::new(plan)?;
    let claim = claim_study(&study, &common.out)?;
    let progress = Console::new(quiet);
    let options = args.source.fetch_options();
    let mut loaded = Vec::new();
    for kind in kinds {
        loaded.push((kind, data::load(kind, &options, &progress)?));
    }
    let result =
        run_claimed(&study, loaded.as_slice(), &claim, shard, &progress).map_err(explain_stop)?;
    print_study(&result.files, result.ran, result.outcomes.len());
    if !quiet {
        let nets = architecture::summarise(study.plan(), study.groups(), &result.outcomes);
        for sentence in architecture::findings(study.plan(), &nets) {
            crate::say!("- {sentence}");
        }
    }
    Ok(())
}

/// What a study command wrote.
fn print_study(files: &[PathBuf], ran: usize, total: usize) {
    crate::say!("{ran} runs done now, {total} in the study");
    for file in files {
        crate::say!("  {}", file.display());
    }
}
