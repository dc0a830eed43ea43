//! A run folder, and the only code that knows its files' names.
//!
//! ```text
//! config.json              the settings and the sizes around them (written first)
//! checkpoint.safetensors   while interrupted: weights + where training stood (see below)
//! iters.csv, epochs.csv    every loss; every accuracy measurement
//! live.jsonl               progress line by line while training, for watchers (run::live)
//! final.json               the final weights' accuracies (the whole test set) and the times
//! model.safetensors        the final weights, by the book's names
//! best.safetensors         with --validation: the weights of the best validation accuracy
//! augmentation.svg/png     with --augment: training images and distorted draws of them
//! learning_rate.svg/png    with --lr-schedule or --warmup: the rate of every update
//! loss.svg/png, accuracy.svg/png, report.html
//! filters_initial.svg/png, filters.svg/png, feature_maps.svg/png, misclassified.svg/png
//!                          a conv net's figures (chapters 7-8), shown in report.html
//! ```
//!
//! The checkpoint holds the weights (and BatchNorm's running statistics) under their book
//! names, the optimizer's state as `optimizer/<slot>/<name>` tensors (`optimizer/m/W1` for
//! Adam), and, in its metadata under `resume`, the trainer's [`Snapshot`] (iteration reached,
//! sampler and Dropout positions, everything measured so far). Restoring all of it makes the
//! finished run's weights and metrics bit-identical to a run never interrupted (timings aside).

/// The stems (`.svg` and `.png`) of a conv net's figures: W1 before and after training, the
/// first test image's feature maps, the misclassified test images.
pub(super) const FIGURE_STEMS: [&str; 4] = [
    "filters_initial",
    "filters",
    "feature_maps",
    "misclassified",
];
use super::report::{run_report, Charts, Figure};
use super::settings::{ConfigFile, TrainSettings};
use crate::checkpoint::{self, Checkpoint, Describe};
use crate::claim::{Claim, Kind};
use crate::files::write_atomic;
use crate::interrupt;
use crate::plot::training::{AccuracyChart, LossChart};
use crate::{Error, Result};
use scratchnet_core::net::Network;
use scratchnet_core::train::{History, Snapshot, TrainState};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const CONFIG: &str = "config.json";
const CHECKPOINT: &str = "checkpoint.safetensors";
const MODEL: &str = "model.safetensors";
const BEST: &str = "best.safetensors";
const AUGMENTATION: &str = "augmentation";
const LEARNING_RATE: &str = "learning_rate";
const REPORT: &str = "report.html";
const ITERS_CSV: &str = "iters.csv";
const EPOCHS_CSV: &str = "epochs.csv";
const FINAL: &str = "final.json";
const LIVE: &str = "live.jsonl";
/// The stems of the charts every run may draw, before a conv net's figures, in report order.
const CHART_STEMS: [&str; 4] = ["loss", "accuracy", LEARNING_RATE, AUGMENTATION];
/// The prefix of the optimizer's tensors in a checkpoint.
const OPTIMIZER: &str = "optimizer/";
/// The metadata key of the resume state.
const RESUME: &str = "resume";

/// A folder holding one run: its settings, its checkpoint while interrupted, its results.
#[derive(Clone, Debug)]
pub struct RunDir {
    path: PathBuf,
}

/// What a run folder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// No run: no config.json.
    Empty,
    /// A run that started (config.json) but saved no checkpoint and no results.
    Started,
    /// An interrupted run: a checkpoint to continue from.
    Interrupted,
    /// A finished (or diverged) run: its results.
    Finished,
}

/// Refuses `path` when it is a run folder of a study (`<study>/runs/<id>`): the study owns it.
fn refuse_study_run(path: &Path) -> Result<()> {
    let full = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let full = full.canonicalize().unwrap_or(full);
    let study = full
        .parent()
        .filter(|runs| runs.file_name().is_some_and(|n| n == "runs"))
        .and_then(Path::parent);
    let Some(study) = study.filter(|s| s.join("plan.json").exists()) else {
        return Ok(());
    };
    Err(Error::BadFile {
        path: path.to_path_buf(),
        reason: format!(
            "is a run of the study in {}, which owns it: rerun the study (`{} study … --out {}`) \
             to continue or redo its runs, or choose another --out",
            study.display(),
            crate::invocation::invocation(),
            study.display()
        ),
    })
}

/// Everything besides tensors in a checkpoint's `resume` metadata.
#[derive(Serialize, Deserialize)]
struct ResumeState {
    state: TrainState,
    sampler: scratchnet_core::train::sampler::SamplerState,
    /// The network's own random generators: (seed, words used), as text (u128 exceeds JSON's
    /// exact integers).
    network_random: Vec<(String, String)>,
}

impl RunDir {
    /// A folder for a new run at `path`, created if missing and claimed
    /// ([`crate::claim`]); refused when it already holds a run, whose files a new one would
    /// replace (an interrupted one: resume it instead), another kind of work, files scratchnet
    /// did not write, or one of a study's runs. Done before the data is loaded, so a refusal
    /// comes at once.
    pub fn claim(path: &Path) -> Result<(RunDir, Claim)> {
        let (dir, claim) = RunDir::claim_existing(path)?;
        dir.check_new()?;
        Ok((dir, claim))
    }

    /// Claims the run folder `path` (created if missing) to continue or restart its run,
    /// refusing a study's run folder and a folder another command is using.
    pub fn claim_existing(path: &Path) -> Result<(RunDir, Claim)> {
        refuse_study_run(path)?;
        let claim = Claim::take(path, &Kind::Run)?;
        Ok((RunDir::open(path), claim))
    }

    /// Claims the existing run folder `path` to continue its run (`train --resume`).
    pub fn claim_resume(path: &Path) -> Result<(RunDir, Claim)> {
        RunDir::claim_folder_of_run(path, "--resume")
    }

    /// [`RunDir::claim_existing`] for a folder that must exist (`flag` names the command).
    fn claim_folder_of_run(path: &Path, flag: &str) -> Result<(RunDir, Claim)> {
        if !path.is_dir() {
            return Err(Error::BadFile {
                path: path.to_path_buf(),
                reason: format!(
                    "no such folder: {flag} takes the folder of a run that did not finish"
                ),
            });
        }
        RunDir::claim_existing(path)
    }

    /// Claims the run folder `path` to start its run over from its config.json (`train
    /// --restart`): one that started but never finished (interrupted, or stopped before its
    /// first checkpoint); its checkpoint is removed. Returns the run's settings.
    pub fn claim_restart(path: &Path) -> Result<(RunDir, Claim, TrainSettings)> {
        let (dir, claim) = RunDir::claim_folder_of_run(path, "--restart")?;
        let reason = match dir.state() {
            RunState::Finished => {
                "holds a finished run (its results are there), which a restart would replace; \
                 for a new run choose another --out"
            }
            RunState::Empty => {
                "holds no run to restart (no config.json); start a run there with `train --out`"
            }
            RunState::Started | RunState::Interrupted => {
                let settings = dir.settings()?;
                dir.remove_checkpoint()?;
                // The best weights of the attempt being replaced are not the new attempt's.
                remove_if_present(&dir.best())?;
                return Ok((dir, claim, settings));
            }
        };
        Err(Error::BadFile {
            path: path.to_path_buf(),
            reason: reason.into(),
        })
    }

    /// What the folder holds.
    pub fn state(&self) -> RunState {
        if self.has_checkpoint() {
            RunState::Interrupted
        } else if self.model().exists() || self.path.join(REPORT).exists() {
            // A run that diverged to non-finite weights keeps no model, but its report.
            RunState::Finished
        } else if self.path.join(CONFIG).exists() {
            RunState::Started
        } else {
            RunState::Empty
        }
    }

    /// Refuses a folder that holds a run, without creating anything, saying what it holds
    /// and what to do.
    pub fn check_new(&self) -> Result<()> {
        let reason = match self.state() {
            RunState::Empty => return Ok(()),
            RunState::Interrupted => format!(
                "holds an interrupted run: continue it with `{} train --resume {}`, start it \
                 over with `--restart {}`, or choose another --out",
                crate::invocation::invocation(),
                self.path.display(),
                self.path.display()
            ),
            RunState::Finished => {
                "already holds a run, whose files a new one would replace: choose another --out"
                    .into()
            }
            RunState::Started => self.never_checkpointed("choose another --out"),
        };
        Err(Error::BadFile {
            path: self.path.clone(),
            reason,
        })
    }

    /// Says that the folder's run started but saved no checkpoint, and the way out.
    fn never_checkpointed(&self, or: &str) -> String {
        format!(
            "holds a run that started but stopped before saving a checkpoint (config.json \
             only: it was killed, or a write failed), so there is nothing to resume; start it \
             over from its config.json with `{} train --restart {}`, or {or}",
            crate::invocation::invocation(),
            self.path.display()
        )
    }

    /// Creates `<root>/<UTC time>`, e.g. runs/2026-11-29T11-40-00Z — with -2, -3, … added when
    /// a run started in the same second (by this or another process) took that folder.
    pub fn claim_new_in(root: &Path) -> Result<(RunDir, Claim)> {
        let path = RunDir::new_folder_in(root)?;
        Ok((RunDir::open(&path), Claim::take(&path, &Kind::Run)?))
    }

    /// Makes a new empty folder in `root` named by the UTC time (`2026-12-07T03-40-00Z`, then
    /// `…Z-2`, `…Z-3` if taken) and returns its path.
    pub fn new_folder_in(root: &Path) -> Result<PathBuf> {
        let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let base = root.join(stamp.replace(':', "-"));
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        for n in 1.. {
            let path = match n {
                1 => base.clone(),
                n => PathBuf::from(format!("{}-{n}", base.display())),
            };
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(path, e)),
            }
        }
        unreachable!("the suffixes never run out")
    }

    /// An existing run's folder (to resume, evaluate or read); nothing is checked yet.
    pub fn open(path: &Path) -> RunDir {
        RunDir {
            path: path.to_path_buf(),
        }
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The final weights' file.
    pub fn model(&self) -> PathBuf {
        self.path.join(MODEL)
    }

    /// The weights of the best validation accuracy (a run with a validation split).
    pub fn best(&self) -> PathBuf {
        self.path.join(BEST)
    }

    /// Saves `net` as the weights of the best validation accuracy so far (sealed, atomically).
    pub fn save_best<N: Network<f32> + Describe + ?Sized>(&self, net: &N) -> Result<PathBuf> {
        let path = self.best();
        checkpoint::save(net, net.metadata(), &path)?;
        Ok(path)
    }

    /// Draws the chart of the augmentation's distortions (`augmentation.svg/png`).
    pub fn write_augmentation(&self, chart: &impl crate::plot::Chart) -> Result<[PathBuf; 2]> {
        crate::plot::save(chart, &self.path, AUGMENTATION)
    }

    /// The augmentation chart's SVG, when the run drew one.
    fn augmentation_svg(&self) -> Option<PathBuf> {
        Some(self.path.join(format!("{AUGMENTATION}.svg"))).filter(|p| p.is_file())
    }

    /// The checkpoint's file (present while the run is interrupted).
    pub fn checkpoint(&self) -> PathBuf {
        self.path.join(CHECKPOINT)
    }

    /// config.json: the settings and the sizes around them.
    pub fn config_file(&self) -> PathBuf {
        self.path.join(CONFIG)
    }

    /// final.json: the final weights' accuracies and the times.
    pub fn final_file(&self) -> PathBuf {
        self.path.join(FINAL)
    }

    /// iters.csv and epochs.csv: every loss; every accuracy measurement.
    pub fn curve_files(&self) -> [PathBuf; 2] {
        [self.path.join(ITERS_CSV), self.path.join(EPOCHS_CSV)]
    }

    /// live.jsonl: the run's progress line by line while it trains ([`super::live`]).
    pub fn live(&self) -> PathBuf {
        self.path.join(LIVE)
    }

    /// report.html.
    pub fn report(&self) -> PathBuf {
        self.path.join(REPORT)
    }

    /// The PNG charts and figures the folder holds, in the order its report shows them.
    pub fn figures(&self) -> Vec<PathBuf> {
        CHART_STEMS
            .iter()
            .chain(&FIGURE_STEMS)
            .map(|stem| self.path.join(format!("{stem}.png")))
            .filter(|png| png.is_file())
            .collect()
    }

    /// Whether the folder holds a checkpoint to continue from.
    pub fn has_checkpoint(&self) -> bool {
        self.checkpoint().exists()
    }

    /// The run's settings, read from its config.json.
    pub fn settings(&self) -> Result<TrainSettings> {
        let path = self.path.join(CONFIG);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::BadFile {
            path: path.clone(),
            reason: format!("not a scratchnet run folder ({e})"),
        })?;
        serde_json::from_str(&text).map_err(|e| Error::BadFile {
            path,
            reason: format!("not the config.json of a scratchnet run ({e})"),
        })
    }

    /// The settings of the run beside a model file, when its config.json can be read.
    pub fn settings_beside(model: &Path) -> Option<TrainSettings> {
        RunDir::open(crate::files::parent_dir(model))
            .settings()
            .ok()
    }

    /// Writes config.json (first thing a run does, so the folder is claimed as a run).
    pub fn write_config(&self, config: &ConfigFile) -> Result<PathBuf> {
        let path = self.path.join(CONFIG);
        let json = serde_json::to_string_pretty(config).expect("config serialises");
        write_atomic(&path, json.as_bytes())?;
        Ok(path)
    }

    /// Saves the network's weights, the trainer's `snapshot` and the run's `settings` as the
    /// checkpoint.
    pub fn save_checkpoint<N: Network<f32> + Describe + ?Sized>(
        &self,
        net: &N,
        snapshot: Snapshot<f32>,
        settings: &TrainSettings,
    ) -> Result<PathBuf> {
        interrupt::delay_before_checkpoint();
        let resume = ResumeState {
            state: snapshot.state,
            sampler: snapshot.sampler,
            network_random: snapshot
                .network_random
                .iter()
                .map(|(seed, pos)| (seed.to_string(), pos.to_string()))
                .collect(),
        };
        let mut metadata = net.metadata();
        // The run's settings, so that a checkpoint carried to another run's folder is refused.
        metadata.insert(
            super::agree::SETTINGS_KEY.into(),
            serde_json::to_string(settings).expect("settings serialise"),
        );
        metadata.insert(
            RESUME.into(),
            serde_json::to_string(&resume).expect("resume state serialises"),
        );
        let optimizer: Vec<_> = snapshot
            .optimizer
            .into_iter()
            .map(|(name, a)| (format!("{OPTIMIZER}{name}"), a))
            .collect();
        let path = self.checkpoint();
        checkpoint::save_with(net, metadata, &optimizer, &path)?;
        Ok(path)
    }

    /// Reads the checkpoint of an interrupted run whose settings must be `settings`: the
    /// loaded file (to rebuild the network from) and the trainer's snapshot.
    pub fn load_checkpoint(&self, settings: &TrainSettings) -> Result<(Checkpoint, Snapshot<f32>)> {
        if self.settings()? != *settings {
            return Err(Error::BadFile {
                path: self.path.join(CONFIG),
                reason: format!(
                    "holds other settings than the run being resumed, so the {CHECKPOINT} beside \
                     it is not this run's; delete the folder to start the run again"
                ),
            });
        }
        let path = self.checkpoint();
        if !path.exists() {
            return Err(Error::BadFile {
                path: self.path.clone(),
                reason: self.nothing_to_resume(),
            });
        }
        let ckpt = Checkpoint::load(&path)?;
        let bad = |reason: String| Error::BadFile {
            path: path.clone(),
            reason,
        };
        let resume: ResumeState = serde_json::from_str(ckpt.meta(RESUME)?)
            .map_err(|e| bad(format!("resume state unreadable ({e})")))?;
        let network_random = resume
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
        let snapshot = Snapshot {
            state: resume.state,
            sampler: resume.sampler,
            network_random,
            optimizer: ckpt.tensors_with_prefix(OPTIMIZER),
        };
        Ok((ckpt, snapshot))
    }

    /// Why a folder without a checkpoint has nothing to resume, by what it holds.
    fn nothing_to_resume(&self) -> String {
        match self.state() {
            RunState::Finished => {
                format!("holds a finished run (its results are there, no {CHECKPOINT}): nothing to resume")
            }
            RunState::Started => self.never_checkpointed("start a new run with another --out"),
            _ => format!("holds no {CHECKPOINT}: nothing to resume"),
        }
    }

    /// Turns a restore failure into an error naming the checkpoint.
    pub fn bad_checkpoint(&self, reason: String) -> Error {
        Error::BadFile {
            path: self.checkpoint(),
            reason,
        }
    }

    /// Deletes a finished run's checkpoint (nothing is left to resume).
    pub fn remove_checkpoint(&self) -> Result<()> {
        remove_if_present(&self.checkpoint())
    }

    /// Writes every result of a run (atomically): config.json again, iters.csv, epochs.csv,
    /// final.json,
    /// model.safetensors (unless `net` is `None`: weights not worth keeping), the charts and
    /// report.html (with `note` at its top, and `figures`, already written, in it); returns the
    /// files in order.
    pub fn write_results<N: Network<f32> + Describe + ?Sized>(
        &self,
        config: &ConfigFile,
        history: &History,
        net: Option<&N>,
        note: Option<&str>,
        figures: &[Vec<Figure>],
    ) -> Result<Vec<PathBuf>> {
        let mut files = vec![self.write_config(config)?];
        let mut write = |name: &str, bytes: &[u8]| -> Result<()> {
            let path = self.path.join(name);
            write_atomic(&path, bytes)?;
            files.push(path);
            Ok(())
        };
        write(ITERS_CSV, history.iters_csv().as_bytes())?;
        write(EPOCHS_CSV, history.epochs_csv().as_bytes())?;
        let result =
            serde_json::to_string_pretty(&super::final_result::FinalResult::of(config, history));
        write(FINAL, result.expect("final.json serialises").as_bytes())?;
        if let Some(net) = net {
            let model = self.model();
            checkpoint::save(net, net.metadata(), &model)?;
            files.push(model);
        }
        let losses = LossChart {
            losses: &history.train_loss_list,
        };
        let [loss_svg, loss_png] = crate::plot::save(&losses, &self.path, "loss")?;
        let accuracy = AccuracyChart {
            epochs: &history.epochs,
            iter_per_epoch: config.iter_per_epoch,
            iterations: history.train_loss_list.len(),
            final_acc: (history.final_train_acc, history.final_test_acc),
        };
        let [acc_svg, acc_png] = crate::plot::save(&accuracy, &self.path, "accuracy")?;
        files.extend([loss_svg.clone(), loss_png, acc_svg.clone(), acc_png]);
        let tools = super::report_tools::ToolFiles {
            learning_rate: self.write_learning_rate(config, history, &mut files)?,
            augmentation: self.augmentation_svg(),
            best: Some(self.best()).filter(|p| p.is_file()),
        };
        files.extend(tools.best.clone());
        let report = self.path.join(REPORT);
        let charts = Charts {
            accuracy: &acc_svg,
            loss: &loss_svg,
            figures,
        };
        let mut html = run_report(config, history, &charts, note, net.is_some())?;
        super::report_tools::section(&mut html, config, history, &tools)?;
        html.save(&report)?;
        for figure in figures.iter().flatten() {
            files.extend([figure.svg.clone(), figure.svg.with_extension("png")]);
        }
        files.push(report);
        Ok(files)
    }

    /// Draws the learning rate of every update (`learning_rate.svg/png`) when it is scheduled;
    /// returns the SVG.
    fn write_learning_rate(
        &self,
        config: &ConfigFile,
        history: &History,
        files: &mut Vec<PathBuf>,
    ) -> Result<Option<PathBuf>> {
        let Some(chart) = super::report_tools::learning_rate_chart(config, history) else {
            return Ok(None);
        };
        let [svg, png] = crate::plot::save(&chart, &self.path, LEARNING_RATE)?;
        files.extend([svg.clone(), png]);
        Ok(Some(svg))
    }
}

/// Deletes `path` if it exists.
fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}
