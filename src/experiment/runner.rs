//! What every study shares: one folder per run, resume, shards and merge.
//!
//! A study folder holds `plan.json` (the study's settings) and `runs/<id>/`, one folder per
//! run, each finished run marked by its `outcome.json`. Running a study skips every run whose
//! outcome is already there, and continues a run interrupted by Ctrl-C or SIGTERM from the
//! checkpoint it left in its folder ([`crate::run::Start::Resume`]), so rerunning a stopped study
//! resumes it and ends as if it had never stopped (timings aside); `--shard I/N` runs only
//! every N-th run from the I-th, so a study can be spread over machines; and merging copies the
//! run folders of several study folders into one. The study's tables, charts and report are
//! always written from all the outcomes present.

use crate::files::write_atomic;
use crate::progress::Progress;
use crate::run::RunDir;
pub use crate::run::Start;
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::str::FromStr;
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

/// The I-th of N slices of a study's runs (1-based): runs I, I+N, I+2N, …
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, from 1.
    pub index: usize,
    /// How many slices.
    pub count: usize,
}

impl Shard {
    /// The whole study.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Whether run number `i` (from 0) belongs to this shard.
    pub fn contains(&self, i: usize) -> bool {
        i % self.count == self.index - 1
    }
}

impl FromStr for Shard {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("shard", s, "I/N with 1 ≤ I ≤ N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// What a study run produced: the outcomes of every finished run, and the files written.
pub struct StudyResult<O> {
    /// Every outcome present in the folder (this shard's and any other's), in run order.
    pub outcomes: Vec<O>,
    /// How many runs this invocation did (the rest were already there or in other shards).
    pub ran: usize,
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
    claim_folder(study, dir)?;
    let runs = study.runs();
    let todo: Vec<(usize, &S::Run)> = runs
        .iter()
        .enumerate()
        .filter(|(i, run)| shard.contains(*i) && !outcome_path(dir, &study.run_id(run)).exists())
        .collect();
    progress.begin("study", Some(todo.len() as u64));
    let start = Instant::now();
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
    progress.update(todo.len() as u64, "writing the report");
    progress.end();
    let outcomes = load_outcomes(study, dir)?;
    let files = study.write_outputs(&outcomes, dir)?;
    Ok(StudyResult {
        outcomes,
        ran: todo.len(),
        files,
    })
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

/// Copies the run folders of the study folders `from` into `dir` and writes the study's
/// outputs from all of them; every folder must hold the same plan as `study`. Every folder is
/// checked before anything is copied.
pub fn merge_studies<S: Study>(
    study: &S,
    from: &[PathBuf],
    dir: &Path,
) -> Result<StudyResult<S::Outcome>> {
    let kinds = from
        .iter()
        .map(|source| Ok((source, study_kind(source)?)))
        .collect::<Result<Vec<_>>>()?;
    if let Some((source, kind)) = kinds.iter().find(|(_, kind)| kind != S::KIND) {
        let like = kinds
            .iter()
            .find(|(_, kind)| kind == S::KIND)
            .map(|(folder, _)| format!(" ({})", folder.display()))
            .unwrap_or_default();
        return Err(Error::BadFile {
            path: source.to_path_buf(),
            reason: format!(
                "holds a {kind} study, which cannot be merged with a {} study{like}; only \
                 folders of the same study, with equal plan.json, can be merged",
                S::KIND
            ),
        });
    }
    for source in from {
        if &read_plan::<S>(source)? != study.plan() {
            return Err(Error::invalid(
                "study folder",
                source.display(),
                "folders of the same study (their plan.json must be equal)",
            ));
        }
    }
    claim_folder(study, dir)?;
    for source in from {
        let runs = source.join("runs");
        if !runs.exists() {
            continue; // a study stopped before its first run
        }
        let entries = std::fs::read_dir(&runs).map_err(|e| Error::io(&runs, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&runs, e))?;
            if entry.path().join("outcome.json").exists() {
                copy_dir(&entry.path(), &dir.join("runs").join(entry.file_name()))?;
            }
        }
    }
    let outcomes = load_outcomes(study, dir)?;
    let files = study.write_outputs(&outcomes, dir)?;
    Ok(StudyResult {
        outcomes,
        ran: 0,
        files,
    })
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
            "{problem}; a study folder is the --out folder of a `scratchnet study` command \
             (it holds plan.json and runs/)"
        ),
    })
}

/// Writes `plan.json`, or checks that the folder's plan is this one.
fn claim_folder<S: Study>(study: &S, dir: &Path) -> Result<()> {
    let path = dir.join("plan.json");
    if path.exists() {
        if &read_plan::<S>(dir)? != study.plan() {
            return Err(Error::invalid(
                "output folder",
                dir.display(),
                "a new folder, or one holding this same study (its plan.json has other settings)",
            ));
        }
        return Ok(());
    }
    save_json(
        &path,
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

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            let bytes = std::fs::read(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            write_atomic(&target, &bytes)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A study whose runs are numbers; a run's outcome is its square. Fails on `fail_on`;
    /// on `interrupt_on` leaves a checkpoint and stops as training does on Ctrl-C.
    struct Squares {
        plan: Vec<u32>,
        fail_on: Option<u32>,
        interrupt_on: Option<u32>,
        executed: RefCell<Vec<(u32, Start)>>,
    }

    impl Study for Squares {
        type Run = u32;
        type Outcome = (u32, u32);
        type Plan = Vec<u32>;
        const KIND: &'static str = "squares";
        type Data = ();
        fn plan(&self) -> &Vec<u32> {
            &self.plan
        }
        fn runs(&self) -> Vec<u32> {
            self.plan.clone()
        }
        fn run_id(&self, run: &u32) -> String {
            format!("run-{run}")
        }
        fn execute(
            &self,
            run: &u32,
            _: &(),
            dir: &RunDir,
            start: Start,
            progress: &dyn Progress,
        ) -> Result<Executed<(u32, u32)>> {
            progress.line(&format!("squaring {run}"));
            if self.fail_on == Some(*run) {
                return Err(Error::invalid("run", run, "not the failing one"));
            }
            if self.interrupt_on == Some(*run) {
                write_atomic(&dir.checkpoint(), b"where it stood")?;
                return Ok(Executed::Interrupted { iteration: 7 });
            }
            self.executed.borrow_mut().push((*run, start));
            dir.remove_checkpoint()?;
            write_atomic(&dir.path().join("note.txt"), b"done")?;
            Ok(Executed::Kept((*run, run * run)))
        }
        fn describe(&self, o: &(u32, u32)) -> String {
            format!("{o:?}")
        }
        fn write_outputs(&self, outcomes: &[(u32, u32)], dir: &Path) -> Result<Vec<PathBuf>> {
            let path = dir.join("all.json");
            save_json(&path, outcomes)?;
            Ok(vec![path])
        }
    }

    fn study(fail_on: Option<u32>) -> Squares {
        Squares {
            plan: vec![1, 2, 3, 4, 5],
            fail_on,
            interrupt_on: None,
            executed: RefCell::new(Vec::new()),
        }
    }

    /// Every run of `study` into `dir`, silently.
    fn run_whole(study: &Squares, dir: &Path) -> Result<StudyResult<(u32, u32)>> {
        run_study(study, &(), dir, Shard::ALL, &crate::progress::Silent)
    }

    /// The runs a study executed, in order.
    fn executed(study: &Squares) -> Vec<u32> {
        study
            .executed
            .borrow()
            .iter()
            .map(|(run, _)| *run)
            .collect()
    }

    #[test]
    fn a_stopped_study_resumes_with_only_the_missing_runs() {
        let dir = tempfile::tempdir().unwrap();
        let first = study(Some(3));
        assert!(run_whole(&first, dir.path()).is_err());
        assert_eq!(executed(&first), vec![1, 2]);
        let second = study(None);
        let result = run_whole(&second, dir.path()).unwrap();
        assert_eq!(executed(&second), vec![3, 4, 5]);
        assert_eq!(result.ran, 3);
        assert_eq!(
            result.outcomes,
            vec![(1, 1), (2, 4), (3, 9), (4, 16), (5, 25)]
        );
    }

    #[test]
    fn an_interrupted_run_is_named_and_continues_from_its_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let first = Squares {
            interrupt_on: Some(3),
            ..study(None)
        };
        let err = run_whole(&first, dir.path()).err().unwrap();
        let checkpoint = RunDir::open(&dir.path().join("runs/run-3")).checkpoint();
        match &err {
            Error::StudyInterrupted {
                run,
                iteration: 7,
                checkpoint: saved,
            } => assert_eq!((run.as_str(), saved), ("run-3", &checkpoint)),
            other => panic!("{other}"),
        }
        assert!(err.is_interrupted());
        assert_eq!(
            err.to_string(),
            "interrupted during run run-3 after 7 iterations"
        );
        assert!(checkpoint.exists());
        let second = study(None);
        run_whole(&second, dir.path()).unwrap();
        assert_eq!(
            *second.executed.borrow(),
            vec![(3, Start::Resume), (4, Start::Fresh), (5, Start::Fresh)]
        );
        assert!(!checkpoint.exists());
    }

    /// Keeps every line it is given.
    #[derive(Default)]
    struct Lines(std::sync::Mutex<Vec<String>>);

    impl Progress for Lines {
        fn line(&self, text: &str) {
            self.0.lock().unwrap().push(text.to_string());
        }
    }

    #[test]
    fn a_runs_lines_reach_the_study_log_named_by_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let log = Lines::default();
        run_study(
            &study(None),
            &(),
            dir.path(),
            Shard { index: 2, count: 2 },
            &log,
        )
        .unwrap();
        let from_runs: Vec<String> = log
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("squaring"))
            .cloned()
            .collect();
        assert_eq!(from_runs, vec!["run-2: squaring 2", "run-4: squaring 4"]);
    }

    #[test]
    fn merging_names_a_folder_that_is_no_study_or_another_study() {
        let root = tempfile::tempdir().unwrap();
        let squares = root.path().join("squares");
        run_whole(&study(None), &squares).unwrap();
        let out = root.path().join("merged");
        let missing = root.path().join("missing");
        let err = merge_studies(&study(None), &[squares.clone(), missing.clone()], &out)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: no such folder;", missing.display()))
                && err.contains("a study folder is the --out folder")
                && err.contains("plan.json"),
            "{err}"
        );
        assert_eq!(err.matches("os error").count(), 0, "{err}");
        let err = merge_studies(&study(None), &[root.path().to_path_buf()], &out)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("not a study folder (it holds no plan.json)"),
            "{err}"
        );
        let other = root.path().join("other");
        save_json(
            &other.join("plan.json"),
            &serde_json::json!({ "study": "cubes", "plan": { "edges": [2] } }),
        )
        .unwrap();
        let err = merge_studies(&study(None), &[squares.clone(), other.clone()], &out)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            format!(
                "{}: holds a cubes study, which cannot be merged with a squares study ({}); \
                 only folders of the same study, with equal plan.json, can be merged",
                other.display(),
                squares.display()
            )
        );
        assert!(
            !out.exists(),
            "nothing is written before every folder is checked"
        );
    }

    #[test]
    fn shards_merged_equal_the_whole_study() {
        let root = tempfile::tempdir().unwrap();
        let whole = run_whole(&study(None), &root.path().join("whole")).unwrap();
        let mut parts = Vec::new();
        for index in 1..=2 {
            let dir = root.path().join(format!("part{index}"));
            let s = study(None);
            let part = run_study(
                &s,
                &(),
                &dir,
                Shard { index, count: 2 },
                &crate::progress::Silent,
            )
            .unwrap();
            assert_eq!(part.ran, if index == 1 { 3 } else { 2 });
            parts.push(dir);
        }
        let merged = merge_studies(&study(None), &parts, &root.path().join("merged")).unwrap();
        assert_eq!(merged.outcomes, whole.outcomes);
        assert!(root.path().join("merged/runs/run-4/note.txt").exists());
        let all = std::fs::read_to_string(root.path().join("merged/all.json")).unwrap();
        assert_eq!(
            all,
            std::fs::read_to_string(root.path().join("whole/all.json")).unwrap()
        );
    }

    #[test]
    fn a_folder_of_another_study_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        run_whole(&study(None), dir.path()).unwrap();
        let mut other = study(None);
        other.plan = vec![7];
        let err = run_whole(&other, dir.path()).err().unwrap();
        assert!(err.to_string().contains("plan.json"), "{err}");
        let err = merge_studies(&other, &[dir.path().to_path_buf()], &dir.path().join("m"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("same study"), "{err}");
    }

    #[test]
    fn shards_parse_and_partition() {
        let s: Shard = "2/3".parse().unwrap();
        assert_eq!(
            (0..7).filter(|&i| s.contains(i)).collect::<Vec<_>>(),
            vec![1, 4]
        );
        for bad in ["0/2", "3/2", "1", "a/b", "1/0"] {
            assert!(
                bad.parse::<Shard>()
                    .unwrap_err()
                    .to_string()
                    .contains("I/N"),
                "{bad}"
            );
        }
    }
}
