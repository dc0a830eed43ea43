//! The studies scratchnet knows, by the kind a study folder's `plan.json` names, and what is
//! done to a folder whatever study it holds.

use super::architecture::ArchitectureStudy;
use super::batch_size::BatchSizeStudy;
use super::depth_width::DepthWidthStudy;
use super::runner::{self, merge_studies, Study};
use crate::{Error, Result};
use scratchnet_core::choice::{self, display_and_parse, Choice};
use std::path::{Path, PathBuf};

/// A kind of study.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StudyKind {
    /// [`BatchSizeStudy`].
    BatchSize,
    /// [`DepthWidthStudy`].
    DepthWidth,
    /// [`ArchitectureStudy`].
    Architecture,
}

impl Choice for StudyKind {
    const ALL: &'static [Self] = &[
        StudyKind::BatchSize,
        StudyKind::DepthWidth,
        StudyKind::Architecture,
    ];

    fn name(self) -> &'static str {
        match self {
            StudyKind::BatchSize => BatchSizeStudy::KIND,
            StudyKind::DepthWidth => DepthWidthStudy::KIND,
            StudyKind::Architecture => ArchitectureStudy::KIND,
        }
    }

    fn help(self) -> &'static str {
        match self {
            StudyKind::BatchSize => "Mini-batch size versus speed and accuracy",
            StudyKind::DepthWidth => "Deep versus wide networks",
            StudyKind::Architecture => {
                "Conv nets against MLPs of equal parameters or multiply-adds"
            }
        }
    }
}

display_and_parse!(StudyKind);

impl StudyKind {
    /// The kind of study the folder `dir` holds.
    pub fn of(dir: &Path) -> Result<Self> {
        let kind = runner::study_kind(dir)?;
        choice::parse(&kind).map_err(|_| Error::BadFile {
            path: dir.to_path_buf(),
            reason: format!("unknown study kind {kind}"),
        })
    }
}

/// What [`merge`] wrote.
pub struct Merged {
    /// The files written.
    pub files: Vec<PathBuf>,
    /// The runs in the merged study.
    pub runs: usize,
    /// The ids of the study's runs the merged study lacks (only with `allow_partial`).
    pub missing: Vec<String>,
}

/// Combines the study folders `dirs` (of one study, with equal plans) into `out`, whichever
/// study the first one holds; refuses, naming them, when runs are missing unless
/// `allow_partial`.
pub fn merge(dirs: &[PathBuf], out: &Path, allow_partial: bool) -> Result<Merged> {
    let first = dirs
        .first()
        .ok_or_else(|| Error::invalid("study folders", "none", "at least one folder"))?;
    match StudyKind::of(first)? {
        StudyKind::BatchSize => merge_as(
            &BatchSizeStudy::new(runner::read_plan::<BatchSizeStudy>(first)?)?,
            dirs,
            out,
            allow_partial,
        ),
        StudyKind::DepthWidth => merge_as(
            &DepthWidthStudy::new(runner::read_plan::<DepthWidthStudy>(first)?)?,
            dirs,
            out,
            allow_partial,
        ),
        StudyKind::Architecture => merge_as(
            &ArchitectureStudy::new(runner::read_plan::<ArchitectureStudy>(first)?)?,
            dirs,
            out,
            allow_partial,
        ),
    }
}

/// [`merge_studies`] for `study`, counted.
fn merge_as<S: Study>(
    study: &S,
    dirs: &[PathBuf],
    out: &Path,
    allow_partial: bool,
) -> Result<Merged> {
    let result = merge_studies(study, dirs, out, allow_partial)?;
    Ok(Merged {
        files: result.files,
        runs: result.outcomes.len(),
        missing: result.missing,
    })
}
