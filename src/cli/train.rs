//! `scratchnet train`, `gradcheck` and `eval`: one network, trained, checked or evaluated.

use super::data::DataArgs;
use super::net::{ConvArgs, NetArgs};
use super::value::choice;
use super::{invocation, Stopped};
use crate::data;
use crate::progress::Console;
use crate::run::settings::{Choices, Length};
use crate::run::{self, NetworkSpec, Outcome, RunDir, RunState, Start, TrainSettings};
use crate::{eval, files, gradcheck, threads};
use anyhow::{bail, Result};
use scratchnet_core::train::{GradientMethod, OnNan, TrainConfig};
use std::path::{Path, PathBuf};

/// The flags a resumed or restarted run refuses: every setting, since the run's own come from
/// its config.json (a test checks that every flag of `train` is here or in [`RESUME_ALLOWS`]).
const RESUME_REFUSES: [&str; 26] = [
    "net",
    "iters_num",
    "epochs",
    "eval_samples",
    "batch_size",
    "gradient",
    "seed",
    "out",
    "on_nan",
    "hidden_size",
    "hidden",
    "activation",
    "weight_init_std",
    "init",
    "weight_decay",
    "dropout",
    "batchnorm",
    "optimizer",
    "learning_rate",
    "sampling",
    "dataset",
    "lr_schedule",
    "warmup",
    "validation",
    "patience",
    "augment",
];

/// The flags of `train` that apply to a resumed run: where the data is and how many threads.
#[cfg(test)]
pub(super) const RESUME_ALLOWS: [&str; 4] = ["resume", "threads", "data_dir", "from"];

/// `scratchnet train`'s arguments: one flag per setting of the book's loop.
#[derive(clap::Args, Debug)]
pub(super) struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    net: NetArgs,
    #[command(flatten)]
    conv: ConvArgs,
    #[command(flatten)]
    tools: Box<super::tools::ToolArgs>,
    /// Number of updates (the book's iters_num; default: 10000).
    #[arg(long = "iters", alias = "iters-num", conflicts_with = "epochs")]
    iters_num: Option<usize>,
    /// Train for N epochs: N · iter_per_epoch updates, iter_per_epoch = max(60000 / batch
    /// size, 1) (the book's Trainer).
    #[arg(long, value_name = "N")]
    epochs: Option<usize>,
    /// Images per mini-batch (default: 100).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Measure accuracy each epoch on the first N training and test images, then the final
    /// weights on the whole test set, printed as the book's Trainer does (its
    /// evaluate_sample_num_per_epoch; default: the whole sets each epoch, printed the lab's way).
    #[arg(long, value_name = "N")]
    eval_samples: Option<usize>,
    /// How gradients are computed: backprop, or numerical (chapter 4's way; very slow).
    #[arg(long, value_parser = choice::<GradientMethod>(), default_value_t = GradientMethod::Backprop)]
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
    #[arg(long, value_parser = choice::<OnNan>(), default_value_t = OnNan::Stop)]
    on_nan: OnNan,
    /// Continue the interrupted run in DIR (its settings come from DIR/config.json).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "restart",
        conflicts_with_all = RESUME_REFUSES
    )]
    resume: Option<PathBuf>,
    /// Start the run in DIR over from its config.json: one that was interrupted, or stopped
    /// before its first checkpoint (killed, disk full); replaces only the files it wrote.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = RESUME_REFUSES
    )]
    restart: Option<PathBuf>,
}

impl TrainArgs {
    /// Whether these arguments start a run (not `--resume` or `--restart`).
    pub(super) fn is_fresh(&self) -> bool {
        self.resume.is_none() && self.restart.is_none()
    }
}

/// The settings of a fresh run with `args`, checked (before any folder or data is touched).
pub(super) fn fresh_settings(args: &TrainArgs) -> Result<TrainSettings> {
    let choices = Choices {
        length: match (args.iters_num, args.epochs) {
            (Some(iters), _) => Some(Length::Iters(iters)),
            (None, Some(epochs)) => Some(Length::Epochs(epochs)),
            (None, None) => None,
        },
        batch_size: args.batch_size,
        eval_samples: args.eval_samples,
        ..Choices::default()
    };
    let network = match &args.conv.net {
        Some(config) => NetworkSpec::ConvNet(config.clone()),
        None => args.net.network(),
    };
    let mut settings = args
        .net
        .settings_of(args.data.dataset(), network, choices)?;
    settings.train = TrainConfig {
        gradient: args.gradient,
        seed: args.seed,
        on_nan: args.on_nan,
        tools: args.tools.tools(),
        ..settings.train
    };
    settings.validate()?;
    Ok(settings)
}

/// Trains (or resumes) a run, then prints its final accuracies and the files it wrote.
pub(super) fn run_train(args: &TrainArgs, quiet: bool) -> Result<()> {
    let started = std::time::Instant::now();
    threads::init(args.threads)?;
    let progress = Console::new(quiet);
    // Every folder is claimed before the data is loaded, so a refusal comes at once.
    let (dir, _claim, settings, start) = match (&args.resume, &args.restart) {
        (Some(dir), _) => {
            let (dir, claim) = RunDir::claim_resume(dir)?;
            let settings = dir.settings()?;
            (dir, claim, settings, Start::Resume)
        }
        (None, Some(dir)) => {
            let (dir, claim, settings) = RunDir::claim_restart(dir)?;
            (dir, claim, settings, Start::Fresh)
        }
        (None, None) => {
            let settings = fresh_settings(args)?;
            let (dir, claim) = match &args.out {
                Some(out) => RunDir::claim(out)?,
                None => RunDir::claim_new_in(Path::new("runs"))?,
            };
            (dir, claim, settings, Start::Fresh)
        }
    };
    let dataset = data::load(settings.dataset, &args.data.fetch_options(), &progress)?;
    let out = dir.path();
    let run = match run::run(&dir, &settings, start, &dataset, &progress)? {
        Outcome::Finished(run) => run,
        Outcome::Interrupted {
            iteration,
            checkpoint,
        } => return Err(Stopped::interrupted(iteration, &checkpoint, out).into()),
        Outcome::Diverged(d) => {
            return Err(Stopped::diverged(&d, out, dir.model().is_file()).into())
        }
    };
    if let Some(note) = &run.note {
        eprintln!("note: {note}");
    }
    let h = &run.history;
    // A resumed run's history holds every session's seconds; the wall time is this one's.
    let (sessions, this_session) = match start {
        Start::Resume => ("all sessions: ", "this session"),
        Start::Fresh => ("", "in all"),
    };
    if run::book::prints_like_the_book(&settings.train) {
        for line in run::book::final_lines(h.final_test_acc) {
            crate::say!("{line}");
        }
    }
    crate::say!(
        "final weights: train acc {:.4}{}, test acc {:.4} | {sessions}{:.2} s of updates ({:.0} samples/s), {:.2} s of evaluation",
        h.final_train_acc, run::book::train_rows_note(&settings.train), h.final_test_acc, h.train_seconds, run.samples_per_s, h.eval_seconds
    );
    crate::say!(
        "wrote {} ({:.2} s {this_session}, loading and writing included)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    for file in &run.files {
        crate::say!("  {}", file.display());
    }
    for line in super::tools::summary(h, &dir.best()) {
        crate::say!("{line}");
    }
    Ok(())
}

/// `scratchnet gradcheck`'s arguments.
#[derive(clap::Args, Debug)]
pub(super) struct GradcheckArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Seed of the network's initial weights.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Check the saved weights of a model (a model.safetensors written by `train`, or its run
    /// folder) instead of a fresh TwoLayerNet: at 10 elements of each parameter, spread evenly
    /// (every weight of a conv net would take hours), with h = 1e-6 (a trained net's ReLU and
    /// pooling kinks are often nearer than the book's 1e-4).
    #[arg(long, value_name = "PATH", conflicts_with = "seed")]
    model: Option<PathBuf>,
    /// Training images to check on.
    #[arg(long, default_value_t = 3)]
    samples: usize,
    /// The largest mean |backprop - numerical| that passes; a parameter above it fails the
    /// check (exit status 1).
    #[arg(long, default_value_t = gradcheck::TOLERANCE, allow_negative_numbers = true)]
    tolerance: f64,
}

/// Compares backprop with numerical gradients and prints each parameter's difference.
pub(super) fn run_gradcheck(args: &GradcheckArgs, quiet: bool) -> Result<()> {
    gradcheck::check_tolerance(args.tolerance)?;
    gradcheck::check_samples(args.samples)?;
    threads::init(None)?;
    let progress = Console::new(quiet);
    let checks = match &args.model {
        None => {
            let dataset = data::load(args.data.dataset(), &args.data.fetch_options(), &progress)?;
            let checks = gradcheck::check_two_layer_net(&dataset, args.samples, args.seed)?;
            crate::say!(
                "mean |backprop - numerical| over {} training images (f64):",
                args.samples
            );
            checks
        }
        Some(given) => {
            let model = model_file(given)?;
            let mut net = gradcheck::load_for_check(&model)?;
            let kind = args.data.dataset.or(eval::trained_on(&model)?);
            let dataset = data::load(
                kind.unwrap_or_default(),
                &args.data.fetch_options(),
                &progress,
            )?;
            let checks = gradcheck::check_model(net.as_mut(), &model, &dataset, args.samples)?;
            crate::say!(
                "mean |backprop - numerical| over {} training images (f64, h = {:e}), at {} elements of each parameter spread evenly, of {}:",
                args.samples,
                gradcheck::SAMPLED_H,
                gradcheck::ELEMENTS_PER_PARAM,
                model.display()
            );
            checks
        }
    };
    for c in &checks {
        crate::say!("{}: {:e}", c.name, c.mean_abs_diff);
    }
    if let Some(bad) = gradcheck::first_failure(&checks, args.tolerance) {
        bail!(
            "gradient check failed: {} differs by {:e}, more than {:e}",
            bad.name,
            bad.mean_abs_diff,
            args.tolerance
        );
    }
    crate::say!("ok: every difference is below {:e}", args.tolerance);
    Ok(())
}

/// `scratchnet eval`'s arguments.
#[derive(clap::Args, Debug)]
#[command(mut_arg("dataset", |a| a.help(
    "The dataset to evaluate on: mnist or fashion-mnist (default: the one the model was trained \
     on, as the config.json beside it says; mnist without one)"
)))]
pub(super) struct EvalArgs {
    #[command(flatten)]
    data: DataArgs,
    /// A model.safetensors written by `train`, or the run folder that holds it.
    #[arg(long, value_name = "PATH")]
    model: PathBuf,
    /// Folder for the charts (default: the model's folder).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Evaluates saved weights on the test set: accuracy, confusion table, charts.
pub(super) fn run_eval(args: &EvalArgs, quiet: bool) -> Result<()> {
    // The arithmetic training used (subnormals flushed), so eval scores what train printed.
    threads::init(None)?;
    let progress = Console::new(quiet);
    let model = model_file(&args.model)?;
    let (net, warning) = eval::load_model(&model)?;
    if let Some(warning) = warning {
        eprintln!("{warning}");
    }
    let trained_on = eval::trained_on(&model)?;
    let kind = args.data.dataset.or(trained_on).unwrap_or_default();
    if let Some(trained_on) = trained_on.filter(|&t| t != kind) {
        eprintln!(
            "note: {} was trained on {trained_on} (its config.json says so); evaluating on {kind} as asked",
            model.display()
        );
    }
    if let Some(out) = &args.out {
        crate::claim::check_out(out)?;
    }
    let dataset = data::load(kind, &args.data.fetch_options(), &progress)?;
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => files::parent_dir(&model).to_path_buf(),
    };
    let (evaluation, files) = eval::evaluate_model(net.as_ref(), &model, &dataset, &out)?;
    crate::say!(
        "test accuracy {:.4} ({} of {} misclassified)",
        evaluation.accuracy,
        evaluation.misclassified.len(),
        dataset.t_test.len()
    );
    let table = evaluation.confusion_table(&dataset.kind.class_names());
    crate::console::write_bytes(table.as_bytes());
    for file in &files {
        crate::say!("  {}", file.display());
    }
    Ok(())
}

/// The weights `--model` names: the file itself, or a run folder's final weights; a folder
/// without them is refused with what to do (checked before any data is loaded).
pub(super) fn model_file(given: &Path) -> Result<PathBuf> {
    if !given.is_dir() {
        return Ok(given.to_path_buf());
    }
    let dir = RunDir::open(given);
    let model = dir.model();
    if model.is_file() {
        return Ok(model);
    }
    let what = match dir.state() {
        RunState::Interrupted => format!(
            "its run was interrupted before writing its final weights; finish it with \
             `{} train --resume {}`, then evaluate it",
            invocation(),
            given.display()
        ),
        RunState::Finished => "its run ended with weights that were not finite numbers (it \
             diverged), so none were saved; its report.html says where it stopped"
            .to_string(),
        RunState::Started | RunState::Empty => {
            "it is not the folder of a finished run; give a model file or a `train` run's folder"
                .to_string()
        }
    };
    bail!("{}: no such file; {what}", model.display())
}
