//! One run: settings in, a folder of results out. [`run`] starts a run afresh or resumes it
//! from its checkpoint ([`Start`]) and says how it ended ([`Outcome`]); [`RunDir`] owns the
//! folder and its files; [`TrainSettings`] is what config.json holds.

mod agree;
pub mod book;
pub mod dir;
pub mod figures;
mod final_result;
pub mod live;
mod report;
mod report_tools;
pub mod settings;

pub use dir::{RunDir, RunState};
pub use settings::{NetworkSpec, TrainSettings, MAX_WEIGHTS};

use crate::checkpoint::{Checkpoint, Describe};
use crate::data::Dataset;
use crate::interrupt;
use crate::progress::Progress;
use crate::{Error, Result};
use ndarray::{Array3, ArrayView1};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet_core::data::idx::NUM_CLASSES;
use scratchnet_core::layers::Targets;
use scratchnet_core::net::{ConvNet, MultiLayerNet, Network, TwoLayerNet};
use scratchnet_core::train::{
    Divergence, Ended, EpochRecord, GradientMethod, History, Hooks, TrainConfig, TrainData, Trainer,
};
use settings::ConfigFile;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How a run begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// From its first iteration, with weights drawn from the settings' seed.
    Fresh,
    /// From the checkpoint an interrupted attempt left in the folder.
    Resume,
}

impl Start {
    /// How the run in `dir` begins: from its checkpoint if it has one.
    pub fn of(dir: &RunDir) -> Start {
        if dir.has_checkpoint() {
            Start::Resume
        } else {
            Start::Fresh
        }
    }
}

/// How a run ended.
pub enum Outcome<N> {
    /// Every update was made; the folder holds every result.
    Finished(RunSummary<N>),
    /// The loss diverged; the folder holds what was learned until then (no checkpoint: the
    /// same settings would diverge again).
    Diverged(Divergence),
    /// A stop was asked for (Ctrl-C, SIGTERM); the checkpoint lets the run continue.
    Interrupted {
        /// Updates made before the stop.
        iteration: usize,
        /// Where the checkpoint was saved.
        checkpoint: PathBuf,
    },
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
    /// What the user must know about the results (weights not finite, so not saved).
    pub note: Option<String>,
}

/// A network a run can train: built afresh from the settings, or rebuilt from a checkpoint.
pub trait RunNetwork: Network<f32> + Describe + Clone + 'static {
    /// The network `spec` describes for `input` → `output`, weights drawn from `rng`.
    fn fresh(spec: &NetworkSpec, input: usize, output: usize, rng: &mut ChaCha8Rng)
        -> Result<Self>;
    /// The network a checkpoint holds.
    fn load(ckpt: &Checkpoint) -> Result<Self>;
    /// One image's outputs through the layers, (C, H, W) each and named, for figures; `None`
    /// for a network without convolutions.
    fn feature_maps(&self, _image: ArrayView1<f32>) -> Option<Vec<(String, Array3<f32>)>> {
        None
    }
}

/// The network a fresh run of `settings` starts from (`input` → `output`), its weights drawn
/// from the settings' seed; the run's figures draw it again to show the filters before training.
pub fn initial_net<N: RunNetwork>(
    settings: &TrainSettings,
    input: usize,
    output: usize,
) -> Result<N> {
    let mut rng = ChaCha8Rng::seed_from_u64(settings.train.seed);
    N::fresh(&settings.network, input, output, &mut rng)
}

impl RunNetwork for TwoLayerNet<f32> {
    fn fresh(
        spec: &NetworkSpec,
        input: usize,
        output: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self> {
        match spec {
            NetworkSpec::TwoLayerNet(config) => Ok(config.init(input, output, rng)?),
            other => Err(Error::invalid("network", other.name(), "TwoLayerNet")),
        }
    }

    fn load(ckpt: &Checkpoint) -> Result<Self> {
        ckpt.two_layer_net()
    }
}

impl RunNetwork for MultiLayerNet<f32> {
    fn fresh(
        spec: &NetworkSpec,
        input: usize,
        output: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self> {
        match spec {
            NetworkSpec::MultiLayerNet(config) => {
                Ok(MultiLayerNet::new(input, output, config, rng)?)
            }
            other => Err(Error::invalid("network", other.name(), "MultiLayerNet")),
        }
    }

    fn load(ckpt: &Checkpoint) -> Result<Self> {
        ckpt.multi_layer_net()
    }
}

impl RunNetwork for ConvNet<f32> {
    fn fresh(
        spec: &NetworkSpec,
        input: usize,
        output: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self> {
        match spec {
            NetworkSpec::ConvNet(config) => Ok(config.init(input, output, rng)?),
            other => Err(Error::invalid("network", other.name(), "a ConvNet")),
        }
    }

    fn load(ckpt: &Checkpoint) -> Result<Self> {
        ckpt.conv_net()
    }

    fn feature_maps(&self, image: ArrayView1<f32>) -> Option<Vec<(String, Array3<f32>)>> {
        Some(ConvNet::feature_maps(self, image))
    }
}

/// Trains the network `settings` describe on `dataset` — from scratch or from the checkpoint
/// in `dir` — and writes every result into `dir`; see [`run_observed`].
pub fn run(
    dir: &RunDir,
    settings: &TrainSettings,
    start: Start,
    dataset: &Dataset,
    progress: &dyn Progress,
) -> Result<Outcome<Box<dyn Network<f32>>>> {
    fn boxed<N: RunNetwork>(outcome: Outcome<N>) -> Outcome<Box<dyn Network<f32>>> {
        match outcome {
            Outcome::Finished(s) => Outcome::Finished(RunSummary {
                note: s.note,
                history: s.history,
                net: Box::new(s.net),
                files: s.files,
                samples_per_s: s.samples_per_s,
            }),
            Outcome::Diverged(d) => Outcome::Diverged(d),
            Outcome::Interrupted {
                iteration,
                checkpoint,
            } => Outcome::Interrupted {
                iteration,
                checkpoint,
            },
        }
    }
    Ok(match settings.network {
        NetworkSpec::TwoLayerNet(_) => boxed(run_observed::<TwoLayerNet<f32>>(
            dir,
            settings,
            start,
            dataset,
            progress,
            &mut |_, _| {},
        )?),
        NetworkSpec::MultiLayerNet(_) => boxed(run_observed::<MultiLayerNet<f32>>(
            dir,
            settings,
            start,
            dataset,
            progress,
            &mut |_, _| {},
        )?),
        NetworkSpec::ConvNet(_) => boxed(run_observed::<ConvNet<f32>>(
            dir,
            settings,
            start,
            dataset,
            progress,
            &mut |_, _| {},
        )?),
    })
}

/// [`run`] for a network of a known type, shown to `observer` before the first update (with
/// the updates made so far) and after every update, outside the timed part.
///
/// Writes config.json first; a finished run writes every result and removes the checkpoint; a
/// stop request saves the checkpoint; a diverging loss writes the results learned until then.
pub fn run_observed<N: RunNetwork>(
    dir: &RunDir,
    settings: &TrainSettings,
    start: Start,
    dataset: &Dataset,
    progress: &dyn Progress,
    observer: &mut dyn FnMut(usize, &N),
) -> Result<Outcome<N>> {
    settings.validate()?;
    let (input, output) = (dataset.x_train.ncols(), NUM_CLASSES);
    let (net, snapshot) = match start {
        Start::Fresh => (initial_net(settings, input, output)?, None),
        Start::Resume => {
            let (ckpt, snapshot) = dir.load_checkpoint(settings)?;
            let net = N::load(&ckpt)?;
            agree::check_checkpoint(&ckpt, &net, settings, (input, output))?;
            (net, Some(snapshot))
        }
    };
    let optimizer = settings.optimizer.build(settings.learning_rate)?;
    let data = dataset.train_data();
    let mut trainer = Trainer::new(net, optimizer, data, settings.train.clone())?;
    if let Some(snapshot) = snapshot {
        trainer
            .restore(snapshot)
            .map_err(|e| dir.bad_checkpoint(e))?;
    }
    let config = &settings.train;
    if config.gradient == GradientMethod::Numerical && trainer.state().iteration == 0 {
        progress.line(&estimate_numerical(trainer.net(), data, config));
    }
    let config_file = ConfigFile {
        scratchnet_version: env!("CARGO_PKG_VERSION"),
        input_size: input,
        output_size: output,
        parameters: trainer.net().parameter_count(),
        // The rows trained on: a validation split is held out of them.
        train_size: trainer.data().t_train.len(),
        test_size: data.t_test.len(),
        iter_per_epoch: config.iter_per_epoch(trainer.data().t_train.len()),
        settings,
    };
    dir.write_config(&config_file)?;
    if let Some(chart) = report_tools::augmentation_chart(settings, data)? {
        dir.write_augmentation(&chart)?;
    }
    let begin = live::Begin {
        pid: std::process::id(),
        iteration: trainer.state().iteration,
        iters_num: config.iters_num,
        iter_per_epoch: config_file.iter_per_epoch,
        batch_size: config.batch_size,
        unix_s: 0.0,
    };
    let mut hooks = Console {
        live: live::LiveLog::start(&dir.live(), begin, trainer.history()),
        dir,
        failed: None,
        progress,
        observer,
        last_status: Instant::now(),
        iters_num: config.iters_num,
        last_test_acc: None,
        book: book::prints_like_the_book(config),
    };
    // The loop reads Ctrl-C between iterations: inside it the first one stops it cleanly.
    let ended = {
        let _section = interrupt::cooperative();
        trainer.train(&mut hooks)
    };
    if let Some(failed) = hooks.failed {
        return Err(failed);
    }
    let mut live = hooks.live;
    if let Some(e) = live.failed() {
        progress.line(&format!("warning: the live view stopped: {e}"));
    }
    match ended {
        Ended::Finished => {}
        Ended::Stopped { iteration } => {
            let checkpoint = dir.save_checkpoint(trainer.net(), trainer.snapshot(), settings)?;
            live.end(live::End::Stopped);
            return Ok(Outcome::Interrupted {
                iteration,
                checkpoint,
            });
        }
        Ended::Diverged(divergence) => {
            let (kept, unkept) = finite_weights(trainer.net());
            let note = match unkept {
                Some(unkept) => format!("Stopped early: {divergence}. {unkept}"),
                None => format!("Stopped early: {divergence}."),
            };
            dir.write_results(&config_file, trainer.history(), kept, Some(&note), &[])?;
            live.end(live::End::Diverged);
            return Ok(Outcome::Diverged(divergence));
        }
    }
    let (kept, note) = finite_weights(trainer.net());
    let figures = match kept {
        Some(net) => figures::write(dir.path(), settings, net, dataset)?,
        None => Vec::new(),
    };
    let files = dir.write_results(
        &config_file,
        trainer.history(),
        kept,
        note.as_deref(),
        &figures,
    )?;
    dir.remove_checkpoint()?;
    live.end(live::End::Finished);
    let history = trainer.history().clone();
    let samples = history.train_loss_list.len() * config.batch_size;
    Ok(Outcome::Finished(RunSummary {
        note,
        samples_per_s: samples as f64 / history.train_seconds.max(1e-9),
        history,
        net: trainer.into_net(),
        files,
    }))
}

/// `net` when its weights are all finite numbers, worth saving; otherwise `None` and the note
/// saying model.safetensors was not written (a model of NaN weights would predict nonsense, and
/// the weights of the last finite state are not kept).
fn finite_weights<N: Network<f32> + ?Sized>(net: &N) -> (Option<&N>, Option<String>) {
    match crate::checkpoint::non_finite(net) {
        None => (Some(net), None),
        Some((name, count)) => (
            None,
            Some(format!(
                "model.safetensors was not written: {count} of the final weights are not \
                 finite numbers (NaN or infinite, the first in {name})."
            )),
        ),
    }
}

/// How often the progress bar's status is refreshed.
const STATUS_EVERY: Duration = Duration::from_millis(200);

/// The training loop's hooks for a run: progress on the console, the observer, and Ctrl-C.
struct Console<'a, N> {
    /// The folder's live.jsonl, for watchers.
    live: live::LiveLog,
    /// Where the best weights go.
    dir: &'a RunDir,
    /// Why saving the best weights failed (training then stops).
    failed: Option<Error>,
    progress: &'a dyn Progress,
    observer: &'a mut dyn FnMut(usize, &N),
    last_status: Instant,
    iters_num: usize,
    /// The last test accuracy measured, shown in the status.
    last_test_acc: Option<f64>,
    /// Whether the epoch lines are the book's Trainer's ([`book::prints_like_the_book`]).
    book: bool,
}

/// The progress bar's status: the loss and, once measured, the last test accuracy (the
/// epoch lines print both accuracies); at most [`crate::progress::STATUS_WIDTH`] characters.
fn status(loss: f64, test_acc: Option<f64>) -> String {
    let loss = if loss.abs() < 100.0 {
        format!("{loss:.4}")
    } else {
        format!("{loss:.2e}")
    };
    match test_acc {
        Some(acc) => format!("loss {loss} | test acc {acc:.4}"),
        None => format!("loss {loss}"),
    }
}

impl<N: Network<f32> + Describe> Hooks<N> for Console<'_, N> {
    fn begin(&mut self, iteration: usize, iters_num: usize, net: &N) {
        self.progress.begin("train", Some(iters_num as u64));
        (self.observer)(iteration, net);
    }

    fn step(&mut self, iteration: usize, loss: f64, net: &N) {
        (self.observer)(iteration, net);
        self.live.step(iteration, loss);
        // Watchers see every update up to the hold.
        interrupt::hold_at_iteration(self.dir.path(), iteration, || self.live.flush());
        if self.last_status.elapsed() < STATUS_EVERY && iteration != self.iters_num {
            return;
        }
        self.last_status = Instant::now();
        self.progress
            .update(iteration as u64, &status(loss, self.last_test_acc));
    }

    fn measured(&mut self, e: &EpochRecord) {
        let line = match (self.book, e.val_acc) {
            (true, _) => book::epoch_line(e),
            (false, None) => format!(
                "epoch {} | train acc, test acc | {:.4}, {:.4}",
                e.epoch, e.train_acc, e.test_acc
            ),
            (false, Some(val)) => format!(
                "epoch {} | train acc, val acc, test acc | {:.4}, {val:.4}, {:.4}",
                e.epoch, e.train_acc, e.test_acc
            ),
        };
        self.progress.line(&line);
        self.live.measured(e);
        self.last_test_acc = Some(e.test_acc);
    }

    fn best(&mut self, _record: &EpochRecord, net: &N) {
        if let Err(e) = self.dir.save_best(net) {
            self.failed.get_or_insert(e);
        }
    }

    fn should_stop(&mut self) -> bool {
        self.failed.is_some() || interrupt::stop_requested()
    }

    fn end(&mut self) {
        self.progress.end();
    }
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
        // Dense, as the numerical route's batches are.
        &data.x_train.slice_rows(0..rows).to_dense(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_stays_within_the_bars_width() {
        assert_eq!(status(2.5, None), "loss 2.5000");
        assert_eq!(
            status(0.123456, Some(0.94012)),
            "loss 0.1235 | test acc 0.9401"
        );
        assert_eq!(status(1234.5, Some(0.1)), "loss 1.23e3 | test acc 0.1000");
        for loss in [
            0.0,
            99.99999,
            100.0,
            1e300,
            -1e-300,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
        ] {
            let text = status(loss, Some(1.0));
            assert!(
                text.chars().count() <= crate::progress::STATUS_WIDTH,
                "{text:?} is longer than {}",
                crate::progress::STATUS_WIDTH
            );
        }
    }
}
