//! Checkpoints that let an interrupted run continue as if it had never stopped.
//!
//! `checkpoint.safetensors` in the run folder holds the weights (and BatchNorm's running
//! statistics) under their book names, the optimizer's state as `optimizer/<slot>/<name>`
//! tensors (`optimizer/m/W1` for Adam), and, in its metadata under `resume`, the iteration
//! reached, the mini-batch sampler's position, the Dropout layers' positions and everything
//! measured so far. Resuming restores all of it, so the finished run's weights and metrics are
//! bit-identical to those of a run that was never interrupted (timings aside).

use super::run::{new_trainer, run_trainer, Labels, NetworkSpec, RunSummary, TrainSettings};
use super::sampler::SamplerState;
use super::trainer::{TrainState, Trainer};
use crate::checkpoint::{self, Checkpoint, Describe};
use crate::data::Dataset;
use crate::net::Network;
use crate::progress::Progress;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The checkpoint's file name in a run folder.
pub const CHECKPOINT: &str = "checkpoint.safetensors";

/// The prefix of the optimizer's tensors in a checkpoint.
const OPTIMIZER: &str = "optimizer/";

/// The metadata key of the resume state.
const RESUME: &str = "resume";

/// Everything besides tensors that a resumed run needs.
#[derive(Serialize, Deserialize)]
struct ResumeState {
    state: TrainState,
    sampler: SamplerState,
    /// The network's own random generators: (seed, words used), as text (u128 exceeds JSON's
    /// exact integers).
    network_random: Vec<(String, String)>,
}

/// Writes `dir/checkpoint.safetensors` from where `trainer` stands; returns its path.
pub fn save_checkpoint<N: Network<f32> + Describe + Clone>(
    trainer: &Trainer<f32, N>,
    dir: &Path,
) -> Result<PathBuf> {
    crate::interrupt::delay_before_checkpoint();
    let resume = ResumeState {
        state: trainer.state.clone(),
        sampler: trainer.sampler.state(),
        network_random: trainer
            .net
            .random_state()
            .iter()
            .map(|(seed, pos)| (seed.to_string(), pos.to_string()))
            .collect(),
    };
    let mut metadata = trainer.net.metadata();
    metadata.insert(
        RESUME.into(),
        serde_json::to_string(&resume).expect("resume state serialises"),
    );
    let optimizer: Vec<_> = trainer
        .optimizer()
        .state()
        .into_iter()
        .map(|(name, a)| (format!("{OPTIMIZER}{name}"), a))
        .collect();
    let path = dir.join(CHECKPOINT);
    checkpoint::save_with(&trainer.net, metadata, &optimizer, &path)?;
    Ok(path)
}

/// Deletes a finished run's checkpoint (nothing is left to resume).
pub fn remove_checkpoint(dir: &Path) -> Result<()> {
    let path = dir.join(CHECKPOINT);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// The settings of the run in `dir`, read from its `config.json`.
pub fn read_settings(dir: &Path) -> Result<TrainSettings> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::BadFile {
        path: path.clone(),
        reason: format!("not a scratchnet run folder ({e})"),
    })?;
    serde_json::from_str(&text).map_err(|e| Error::BadFile {
        path,
        reason: format!("not the config.json of a scratchnet run ({e})"),
    })
}

/// Whether `dir` holds a checkpoint to continue from: a run interrupted and not finished since.
pub fn has_checkpoint(dir: &Path) -> bool {
    dir.join(CHECKPOINT).exists()
}

/// Continues the interrupted run in `dir` on `dataset` (the one its settings name) to its end,
/// writing its folder as an uninterrupted run would have.
pub fn resume(
    dir: &Path,
    dataset: &Dataset,
    progress: &dyn Progress,
) -> Result<RunSummary<Box<dyn Network<f32>>>> {
    resume_run(&read_settings(dir)?, dataset, dir, progress)
}

/// [`resume`] for a caller that knows the run's settings (a study's run): the folder's
/// `config.json` must hold these same settings.
pub fn resume_run(
    settings: &TrainSettings,
    dataset: &Dataset,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<RunSummary<Box<dyn Network<f32>>>> {
    Ok(match settings.network {
        NetworkSpec::TwoLayerNet { .. } => resume_observed(
            settings,
            dataset,
            dir,
            progress,
            Checkpoint::two_layer_net::<f32>,
            &mut |_, _| {},
        )?
        .boxed(),
        NetworkSpec::MultiLayerNet(_) => resume_observed(
            settings,
            dataset,
            dir,
            progress,
            Checkpoint::multi_layer_net::<f32>,
            &mut |_, _| {},
        )?
        .boxed(),
    })
}

/// [`resume_run`] for a network of a known type, which `load` rebuilds from the checkpoint,
/// showing it to `observer` when training resumes (with the updates made before) and after
/// every update, as [`super::run::train_network_observed`] does.
pub fn resume_observed<N: Network<f32> + Describe + Clone>(
    settings: &TrainSettings,
    dataset: &Dataset,
    dir: &Path,
    progress: &dyn Progress,
    load: impl FnOnce(&Checkpoint) -> Result<N>,
    observer: &mut dyn FnMut(usize, &N),
) -> Result<RunSummary<N>> {
    if read_settings(dir)? != *settings {
        return Err(Error::BadFile {
            path: dir.join("config.json"),
            reason: format!(
                "holds other settings than the run being resumed, so the {CHECKPOINT} beside it \
                 is not this run's; delete the folder to start the run again"
            ),
        });
    }
    let path = dir.join(CHECKPOINT);
    if !path.exists() {
        return Err(Error::BadFile {
            path,
            reason: "missing: nothing to resume (the run finished, or it was never interrupted)"
                .into(),
        });
    }
    let ckpt = Checkpoint::load(&path)?;
    let net = load(&ckpt)?;
    resume_network(net, &ckpt, settings, dataset, dir, progress, observer)
}

fn resume_network<N: Network<f32> + Describe + Clone>(
    mut net: N,
    ckpt: &Checkpoint,
    settings: &TrainSettings,
    dataset: &Dataset,
    dir: &Path,
    progress: &dyn Progress,
    observer: &mut dyn FnMut(usize, &N),
) -> Result<RunSummary<N>> {
    let bad = |reason: String| Error::BadFile {
        path: dir.join(CHECKPOINT),
        reason,
    };
    let resume: ResumeState = serde_json::from_str(ckpt.meta(RESUME)?)
        .map_err(|e| bad(format!("resume state unreadable ({e})")))?;
    let positions = resume
        .network_random
        .iter()
        .map(
            |(seed, pos)| match (seed.parse::<u64>(), pos.parse::<u128>()) {
                (Ok(seed), Ok(pos)) => Ok((seed, pos)),
                _ => Err(bad(format!(
                    "random state ({seed:?}, {pos:?}) is not two numbers"
                ))),
            },
        )
        .collect::<Result<Vec<_>>>()?;
    net.set_random_state(&positions).map_err(bad)?;
    let labels = Labels::of(dataset);
    let mut trainer = new_trainer(net, settings, labels.data(dataset))?;
    let iteration = resume.state.iteration;
    trainer
        .optimizer_mut()
        .set_state(ckpt.tensors_with_prefix(OPTIMIZER), iteration)
        .map_err(bad)?;
    trainer.sampler.restore(&resume.sampler).map_err(bad)?;
    trainer.state = resume.state;
    run_trainer(&mut trainer, settings, dir, progress, observer)
}
