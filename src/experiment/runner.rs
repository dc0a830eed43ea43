//! What every study shares: one folder per run, resume, shards and merge.
//!
//! A study folder holds `plan.json` (the study's settings) and `runs/<id>/`, one folder per
//! run, each finished run marked by its `outcome.json`. Running a study skips every run whose
//! outcome is already there, and continues a run interrupted by Ctrl-C or SIGTERM from the
//! checkpoint it left in its folder ([`crate::run::Start::Resume`]), so rerunning a stopped study
//! resumes it and ends as if it had never stopped (timings aside); `--shard I/N` runs only
//! every N-th run from the I-th, so a study can be spread over machines (`--shard auto` reads
//! I and N from a Slurm job array or a Kubernetes Indexed Job, [`shard_from_env`]); and
//! merging copies the run folders of several study folders into one. The study's tables,
//! charts and report are always written from all the outcomes present.

use crate::claim::{Claim, Kind};
use crate::files::write_atomic;
use crate::progress::Progress;
use crate::run::RunDir;
pub use crate::run::Start;
use crate::{Error, Result};
pub use merge::merge_studies;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
pub use shard::{process_env, shard_from_env, Shard, ShardSpec, SHARD_COUNT};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A study: its runs, how one is done, and what is written from all of them.
pub trait Study {
    /// The study's name as commands and `plan.json` spell it (`batch-size`).
    const KIND: &'static str;
    /// One run's settings.
    type Run: Serialize;
    /// What one run measured; saved as `runs/<id>/outcome.json`.
    type Outcome: Serialize + DeserializeOwned;
    /// The study's settings, saved as `plan.json` (two folders merge only if theirs are equal).
    type Plan: Serialize + DeserializeOwned + PartialEq;
    /// The data its runs train on (merging needs none).
    type Data: ?Sized;

    /// The settings that define this study.
    fn plan(&self) -> &Self::Plan;
    /// Every run, in order.
    fn runs(&self) -> Vec<Self::Run>;
    /// A run's folder name, unique within the study (e.g. `batch-100-seed-0`).
    fn run_id(&self, run: &Self::Run) -> String;
    /// Does one run, writing its files into `dir`: from its start, or with [`Start::Resume`]
    /// from the checkpoint an interrupted attempt left in `dir`. A stop request (Ctrl-C)
    /// leaves a checkpoint there and returns [`Executed::Interrupted`]. `progress` takes the
    /// run's own lines (its accuracy measurements), each shown with the run's id.
    fn execute(
        &self,
        run: &Self::Run,
        data: &Self::Data,
        dir: &RunDir,
        start: Start,
        progress: &dyn Progress,
    ) -> Result<Executed<Self::Outcome>>;
    /// A one-line summary of an outcome, for the log.
    fn describe(&self, outcome: &Self::Outcome) -> String;
    /// Checks every run's settings against `data` (a batch larger than the training set, a
    /// budget of no update, …) before anything is written, so a refused study leaves nothing.
    fn check(&self, _data: &Self::Data) -> Result<()> {
        Ok(())
    }
    /// Writes the tables, charts and report from every outcome present; returns the files.
    fn write_outputs(&self, outcomes: &[Self::Outcome], dir: &Path) -> Result<Vec<PathBuf>>;
}

/// How a study's run ended: measured, or interrupted with a checkpoint to continue from.
pub enum Executed<O> {
    /// The run's outcome (a diverged run's included).
    Kept(O),
    /// A stop was asked for after `iteration` updates; the checkpoint is in the run's folder.
    Interrupted { iteration: usize },
}

/// What a study run produced: the outcomes of every finished run, and the files written.
pub struct StudyResult<O> {
    /// Every outcome present in the folder (this shard's and any other's), in run order.
    pub outcomes: Vec<O>,
    /// How many runs this invocation did (the rest were already there or in other shards).
    pub ran: usize,
    /// The ids of the study's runs with no outcome in the folder (other shards', or runs a
    /// partial merge lacks), in run order.
    pub missing: Vec<String>,
    /// The study's tables, charts and report.
    pub files: Vec<PathBuf>,
}

/// Runs this shard's missing runs of `study` in `dir`, one at a time (so timings do not
/// disturb each other), then writes the study's outputs from every outcome present. A run
/// that an earlier attempt left interrupted continues from its checkpoint; a stop request
/// (Ctrl-C) stops the study after the current iteration with [`Error::StudyInterrupted`],
/// naming the run whose checkpoint was saved.
pub fn run_study<S: Study>(
    study: &S,
    data: &S::Data,
    dir: &Path,
    shard: Shard,
    progress: &dyn Progress,
) -> Result<StudyResult<S::Outcome>> {
    let claim = claim_study(study, dir)?;
    run_claimed(study, data, &claim, shard, progress)
}

/// [`run_study`] in a folder claimed by [`claim_study`] (before the data was loaded); the
/// plan is checked against `data` before plan.json is written.
pub fn run_claimed<S: Study>(
    study: &S,
    data: &S::Data,
    claim: &Claim,
    shard: Shard,
    progress: &dyn Progress,
) -> Result<StudyResult<S::Outcome>> {
    study.check(data)?;
    let dir = claim.path();
    write_plan(study, dir)?;
    let runs = study.runs();
    let todo: Vec<(usize, &S::Run)> = runs
        .iter()
        .enumerate()
        .filter(|(i, run)| shard.contains(*i) && !outcome_path(dir, &study.run_id(run)).exists())
        .collect();
    progress.begin("study", Some(todo.len() as u64));
    let start = Instant::now();
    // Ctrl-C between two runs' iterations stops the study at the next one (with a checkpoint).
    let section = crate::interrupt::cooperative();
    for (done, (i, run)) in todo.iter().enumerate() {
        let id = study.run_id(run);
        progress.update(done as u64, &format!("run {}/{}: {id}", i + 1, runs.len()));
        let run_dir = RunDir::open(&dir.join("runs").join(&id));
        let how = Start::of(&run_dir);
        if how == Start::Resume {
            progress.line(&format!("{id}: continuing from its checkpoint"));
        }
        let lines = RunLines {
            id: &id,
            to: progress,
        };
        let outcome = match study.execute(run, data, &run_dir, how, &lines)? {
            Executed::Kept(outcome) => outcome,
            Executed::Interrupted { iteration } => {
                return Err(Error::StudyInterrupted {
                    run: id,
                    iteration,
                    checkpoint: run_dir.checkpoint(),
                })
            }
        };
        save_json(&outcome_path(dir, &id), &outcome)?;
        progress.line(&format!(
            "{id}: {} ({:.0} s so far)",
            study.describe(&outcome),
            start.elapsed().as_secs_f64()
        ));
    }
    drop(section);
    progress.update(todo.len() as u64, "writing the report");
    progress.end();
    finish(study, dir, todo.len())
}

/// A run's progress inside a study: its result lines (`epoch 3 | train acc, test acc | …`)
/// go to the study's progress with the run's id in front, so that a study's log shows how far
/// its current run has got; its bar and status are left out (the study has its own).
struct RunLines<'a> {
    id: &'a str,
    to: &'a dyn Progress,
}

impl Progress for RunLines<'_> {
    fn line(&self, text: &str) {
        self.to.line(&format!("{}: {text}", self.id));
    }
}

/// Writes the study's outputs from the outcomes in `dir`, after `ran` runs done now.
fn finish<S: Study>(study: &S, dir: &Path, ran: usize) -> Result<StudyResult<S::Outcome>> {
    let outcomes = load_outcomes(study, dir)?;
    let files = study.write_outputs(&outcomes, dir)?;
    Ok(StudyResult {
        outcomes,
        ran,
        missing: missing_runs(study, &[dir.to_path_buf()]),
        files,
    })
}

/// The ids of the study's runs that none of the study folders `dirs` holds an outcome of.
fn missing_runs<S: Study>(study: &S, dirs: &[PathBuf]) -> Vec<String> {
    study
        .runs()
        .iter()
        .map(|run| study.run_id(run))
        .filter(|id| !dirs.iter().any(|dir| outcome_path(dir, id).exists()))
        .collect()
}

/// `plan.json`: which study a folder holds, and its settings.
#[derive(Serialize, Deserialize)]
struct PlanFile<P> {
    study: String,
    plan: P,
}

/// Which study a folder holds (`batch-size`, …), read from its `plan.json`.
pub fn study_kind(dir: &Path) -> Result<String> {
    Ok(read_plan_file(dir)?.study)
}

/// The plan a study folder was made with (for `study merge`, which starts from folders).
pub fn read_plan<S: Study>(dir: &Path) -> Result<S::Plan> {
    let file = read_plan_file(dir)?;
    let path = dir.join("plan.json");
    if file.study != S::KIND {
        return Err(Error::BadFile {
            path,
            reason: format!("holds a {} study, not a {} study", file.study, S::KIND),
        });
    }
    serde_json::from_value(file.plan).map_err(|e| not_ours(&path, e))
}

/// The `plan.json` of the study folder `dir`, its plan not yet read as any study's; the error
/// says what a study folder is when `dir` is none.
fn read_plan_file(dir: &Path) -> Result<PlanFile<serde_json::Value>> {
    let path = dir.join("plan.json");
    let problem = if !dir.exists() {
        "no such folder"
    } else if !dir.is_dir() {
        "not a folder"
    } else if !path.exists() {
        "not a study folder (it holds no plan.json)"
    } else {
        return load_json(&path);
    };
    Err(Error::BadFile {
        path: dir.to_path_buf(),
        reason: format!(
            "{problem}; a study folder is the --out folder of a `{} study` command \
             (it holds plan.json and runs/)",
            crate::invocation::invocation()
        ),
    })
}

/// Claims the study folder `dir` for `study` ([`crate::claim`]; done before any data is
/// loaded): a new or empty folder, or one holding this same study — its plan.json equal, or
/// no run started yet (a plan.json left by a refused command of an older scratchnet is then
/// replaced). Writes nothing but the claim's marker.
pub fn claim_study<S: Study>(study: &S, dir: &Path) -> Result<Claim> {
    let claim = Claim::take(dir, &Kind::Study(S::KIND.to_string()))?;
    if !dir.join("plan.json").exists() || !holds_runs(dir) {
        return Ok(claim);
    }
    if &read_plan::<S>(dir)? != study.plan() {
        return Err(Error::invalid(
            "output folder",
            dir.display(),
            "a new folder, or one holding this same study (its plan.json has other settings)",
        ));
    }
    Ok(claim)
}

/// Whether the study folder `dir` holds any run's folder.
fn holds_runs(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("runs")).is_ok_and(|mut entries| entries.next().is_some())
}

/// Writes `plan.json` (once the plan is known to be valid).
fn write_plan<S: Study>(study: &S, dir: &Path) -> Result<()> {
    save_json(
        &dir.join("plan.json"),
        &PlanFile {
            study: S::KIND.to_string(),
            plan: study.plan(),
        },
    )
}

/// The outcomes present in `dir`, in the study's run order.
fn load_outcomes<S: Study>(study: &S, dir: &Path) -> Result<Vec<S::Outcome>> {
    study
        .runs()
        .iter()
        .map(|run| outcome_path(dir, &study.run_id(run)))
        .filter(|path| path.exists())
        .map(|path| load_json(&path))
        .collect()
}

/// Where the outcome of run `id` of the study in `dir` is.
fn outcome_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("runs").join(id).join("outcome.json")
}

/// Writes `value` as pretty JSON, atomically.
pub fn save_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).expect("study data serialises");
    write_atomic(path, text.as_bytes())
}

/// Reads a JSON file a study wrote.
pub fn load_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| not_ours(path, e))
}

/// The error for a study file that does not parse.
fn not_ours(path: &Path, e: serde_json::Error) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        reason: format!("not a study file written by this version of scratchnet ({e})"),
    }
}

mod merge;
mod shard;
#[cfg(test)]
mod tests;
