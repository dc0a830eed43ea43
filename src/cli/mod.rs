//! The command-line tool: parses the arguments, calls the library, prints what it returns.
//! One file per command group; the defaults and rules the commands apply live in the library.

mod data;
mod demo;
mod net;
mod predict;
#[cfg(feature = "serve")]
mod serve;
mod study;
mod tools;
mod train;
mod value;

use crate::interrupt::{self, OnSignal};
use crate::invocation::invocation;
use crate::Error;
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::Path;
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
    /// Train the book's TwoLayerNet (784-50-10, sigmoid, SGD), with --hidden a MultiLayerNet,
    /// or with --net a convolutional network (chapters 7-8: simple-convnet, deep-convnet), and
    /// write charts, metrics, weights and an HTML report. With no flags it repeats the
    /// book's chapter-4 training: 10000 updates on batches of 100 MNIST images, learning rate
    /// 0.1, ending near 0.94 test accuracy.
    Train(Box<train::TrainArgs>),
    /// Check backpropagation against numerical gradients on 3 training images (f64).
    Gradcheck(train::GradcheckArgs),
    /// Test accuracy of saved weights, with the confusion matrix and the misclassified images.
    Eval(train::EvalArgs),
    /// A saved network's answer for drawings (PNG files), made MNIST inputs as MNIST's digits
    /// were: the predicted class and every class's probability (--json: every layer's output).
    Predict(predict::PredictArgs),
    /// Download (or copy) a dataset into the cache, verify its checksums and say where it is.
    Fetch(data::FetchArgs),
    /// Run a study — many training runs measured side by side — ending in an HTML report.
    Study {
        #[command(subcommand)]
        study: study::StudyCommand,
    },
    /// Serve the runs folder in the browser: runs compared, live curves, start and stop, draw a
    /// digit, look inside a network.
    #[cfg(feature = "serve")]
    Serve(serve::ServeArgs),
    /// Print a chapter's figures and draw its charts, as the book shows them.
    Demo {
        #[command(subcommand)]
        demo: demo::Demo,
    },
}

/// Runs the command line's command; the exit status is 130 after Ctrl-C, 1 after an error
/// (a failed print to standard output included: the command's work is done, its output lost).
pub fn main() -> ExitCode {
    restore_default_sigpipe();
    install_interrupt_handler();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    match run(cli) {
        Ok(()) if crate::console::failed() => ExitCode::FAILURE,
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

/// Checks `train`'s arguments (without the program name and `train`) as the command would:
/// clap's parse, then the settings' rules; the refusal's text otherwise.
pub fn check_train_args(args: &[String]) -> std::result::Result<(), String> {
    let words = ["scratchnet", "train"].map(String::from);
    let cli = Cli::try_parse_from(words.iter().chain(args))
        .map_err(|e| e.render().to_string().trim().to_string())?;
    match cli.command {
        Command::Train(args) if args.is_fresh() => train::fresh_settings(&args)
            .map(|_| ())
            .map_err(|e| format!("{e:#}")),
        _ => Err("not a fresh run's arguments".into()),
    }
}

fn run(cli: Cli) -> Result<()> {
    crate::cpu::cap_from_env()?;
    match cli.command {
        Command::Train(args) => train::run_train(&args, cli.quiet),
        Command::Gradcheck(args) => train::run_gradcheck(&args, cli.quiet),
        Command::Eval(args) => train::run_eval(&args, cli.quiet),
        Command::Predict(args) => predict::run_predict(&args),
        Command::Fetch(args) => data::run_fetch(&args, cli.quiet),
        Command::Study { study } => study::run(study, cli.quiet),
        Command::Demo { demo } => demo::run(demo),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run_serve(&args),
    }
}

/// Ends the program after clap's refusal (on stderr, as clap does) or after `--help` and
/// `--version`, whose text goes through [`crate::say!`] when standard output is not a terminal,
/// so that a full or closed one is reported instead of silently losing it.
fn clap_exit(e: clap::Error) -> ExitCode {
    if e.use_stderr() || crate::console::is_terminal() {
        e.exit();
    }
    crate::console::write_bytes(e.render().to_string().as_bytes());
    if crate::console::failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
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

/// Ctrl-C or SIGTERM: in a training loop the first asks it to stop after its current
/// iteration and save a checkpoint; anywhere else, or a second time, the program ends at once
/// (every file is written atomically, so none is torn, and the temporary files of the writes
/// in progress are removed, so none is left).
fn install_interrupt_handler() {
    let installed = ctrlc::set_handler(|| match interrupt::on_signal() {
        OnSignal::StopAfterIteration => {
            eprintln!("\nstopping after this iteration (Ctrl-C again to quit at once)");
        }
        OnSignal::ExitNow => {
            eprintln!("\ninterrupted");
            exit_interrupted();
        }
        OnSignal::ExitAgain => exit_interrupted(),
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C will not save a checkpoint ({e})");
    }
}

/// Ends the program after a signal, removing the temporary files of the writes in progress.
fn exit_interrupted() -> ! {
    crate::files::remove_temporaries();
    std::process::exit(INTERRUPTED)
}

/// The exit status of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells use).
const INTERRUPTED: i32 = 130;

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

impl Stopped {
    /// A run stopped by Ctrl-C after `iteration` updates, its checkpoint in `dir`.
    fn interrupted(iteration: usize, checkpoint: &Path, dir: &Path) -> Self {
        Stopped {
            cause: format!("interrupted after {iteration} iterations"),
            hint: format!(
                "checkpoint saved in {}; continue with: {} train --resume {}",
                checkpoint.display(),
                invocation(),
                dir.display()
            ),
            interrupted: true,
        }
    }

    /// A run whose loss diverged, what it learned until then written into `dir`.
    fn diverged(divergence: &scratchnet_core::train::Divergence, dir: &Path, model: bool) -> Self {
        // Weights that are not finite numbers are not saved (report.html says so).
        let kept = if model {
            "model.safetensors, epochs.csv, report.html"
        } else {
            "epochs.csv, report.html; no model.safetensors: the weights were no longer finite"
        };
        Stopped {
            cause: divergence.to_string(),
            hint: format!(
                "what was learned until then is in {} ({kept}); try a smaller --lr, or \
                 --on-nan continue to watch it",
                dir.display()
            ),
            interrupted: false,
        }
    }
}

/// Adds what to do next to an interrupted study's error.
fn explain_stop(e: Error) -> anyhow::Error {
    match &e {
        Error::StudyInterrupted { checkpoint, .. } => Stopped {
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

#[cfg(test)]
mod tests;
