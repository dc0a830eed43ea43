//! Merging study folders (the shards of one study) into one: every source is checked before
//! anything is written — its plan, every finished run's outcome.json (the error names the
//! source's file), no symbolic link anywhere in its runs (a link could lead out of the shard,
//! or loop) — and runs missing from all of them are named.

use super::{
    claim_study, finish, load_json, missing_runs, read_plan, study_kind, write_plan, Study,
    StudyResult,
};
use crate::claim::check_out;
use crate::files::write_atomic;
use crate::{Error, Result};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Copies the run folders of the study folders `from` into `dir` and writes the study's
/// outputs from all of them; every folder must hold the same plan as `study`, and together
/// (with any runs already in `dir`) every run of the study unless `allow_partial`
/// ([`Error::IncompleteStudy`] names the runs missing). Every folder is checked before
/// anything is copied (every outcome.json read, no symbolic link followed), and `dir` is
/// claimed only then.
pub fn merge_studies<S: Study>(
    study: &S,
    from: &[PathBuf],
    dir: &Path,
    allow_partial: bool,
) -> Result<StudyResult<S::Outcome>> {
    check_out(dir)?;
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
    let runs = finished_runs(study, from)?;
    check_complete(study, from, dir, allow_partial)?;
    let claim = claim_study(study, dir)?;
    write_plan(study, claim.path())?;
    for (source, id) in &runs {
        copy_dir(source, &dir.join("runs").join(id))?;
    }
    finish(study, dir, 0)
}

/// Refuses a merge whose folders (the sources and `dir`) together lack some of the study's
/// runs, naming them, unless `allow_partial`.
fn check_complete<S: Study>(
    study: &S,
    from: &[PathBuf],
    dir: &Path,
    allow_partial: bool,
) -> Result<()> {
    let mut folders = from.to_vec();
    folders.push(dir.to_path_buf());
    let missing = missing_runs(study, &folders);
    if missing.is_empty() || allow_partial {
        return Ok(());
    }
    let ids: Vec<String> = study.runs().iter().map(|r| study.run_id(r)).collect();
    let numbers: Vec<String> = missing
        .iter()
        .filter_map(|id| ids.iter().position(|i| i == id))
        .map(|i| (i + 1).to_string())
        .collect();
    Err(Error::IncompleteStudy {
        reason: format!(
            "the study folders together lack {} of the study's {} runs: {} (runs number {} \
             of {}; with --shard I/N, run k belongs to shard ((k − 1) mod N) + 1). Run the \
             shards that hold them (rerunning a shard into its folder does only its missing \
             runs) and merge again, or give --allow-partial to merge the {} present",
            missing.len(),
            ids.len(),
            missing.join(", "),
            numbers.join(", "),
            ids.len(),
            ids.len() - missing.len()
        ),
        missing,
    })
}

/// The run folders of `from` that hold a finished run (an outcome.json), each checked: its
/// outcome reads as `study`'s, its id is one of the study's runs, and nothing in it is a
/// symbolic link or a special file. A run present in several sources is taken from the first.
fn finished_runs<S: Study>(study: &S, from: &[PathBuf]) -> Result<Vec<(PathBuf, String)>> {
    let ids: HashSet<String> = study.runs().iter().map(|r| study.run_id(r)).collect();
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    for source in from {
        let runs = source.join("runs");
        match std::fs::symlink_metadata(&runs) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue, // no run started
            Err(e) => return Err(Error::io(&runs, e)),
            Ok(meta) => plain(&runs, &meta)?,
        }
        for (path, name) in sorted_entries(&runs)? {
            check_tree(&path)?;
            let outcome = path.join("outcome.json");
            if !path.is_dir() || !outcome.exists() {
                continue; // not a run folder, or a run not finished: nothing to merge
            }
            load_json::<S::Outcome>(&outcome)?;
            if !ids.contains(&name) {
                return Err(Error::BadFile {
                    path,
                    reason: "is not one of the study's runs (its plan.json names other runs)"
                        .into(),
                });
            }
            if seen.insert(name.clone()) {
                found.push((path, name));
            }
        }
    }
    Ok(found)
}

/// The entries of a folder (path, name), sorted by name.
fn sorted_entries(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        entries.push((
            entry.path(),
            entry.file_name().to_string_lossy().into_owned(),
        ));
    }
    entries.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(entries)
}

/// Refuses a symbolic link or a special file at `path`.
fn plain(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    let what = if meta.file_type().is_symlink() {
        "a symbolic link"
    } else if !meta.is_dir() && !meta.is_file() {
        "not a file or a folder"
    } else {
        return Ok(());
    };
    Err(Error::BadFile {
        path: path.to_path_buf(),
        reason: format!(
            "is {what}; merge copies only the files and folders a study wrote, and follows no \
             link out of a study folder: replace it with what it points to, or remove it"
        ),
    })
}

/// Refuses a tree holding a symbolic link or a special file (links are never followed).
fn check_tree(path: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    plain(path, &meta)?;
    if meta.is_dir() {
        for (child, _) in sorted_entries(path)? {
            check_tree(&child)?;
        }
    }
    Ok(())
}

/// Copies a checked run folder (files and folders only).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for (path, name) in sorted_entries(from)? {
        let target = to.join(name);
        if std::fs::symlink_metadata(&path)
            .map_err(|e| Error::io(&path, e))?
            .is_dir()
        {
            copy_dir(&path, &target)?;
        } else {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            write_atomic(&target, &bytes)?;
        }
    }
    Ok(())
}
