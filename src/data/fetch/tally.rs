//! What taking files from one source gave: the files stored, and why the others were not.

use crate::{Error, Result};
use scratchnet_core::data::catalog::FileSpec;
use std::path::{Path, PathBuf};

/// Why a file could not be taken from a source: the source's fault (try the next one) or the
/// cache's (stop: every source would fail the same way).
#[derive(Debug)]
pub(crate) enum Failure {
    Source(String),
    Cache(Error),
}

/// What one source gave: the names stored, and for each file it could not provide (or for the
/// whole source, with no name) the reason.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) got: Vec<&'static str>,
    pub(crate) problems: Vec<(Option<&'static str>, String)>,
}

impl Tally {
    /// Records one file's outcome; a cache failure stops everything.
    pub(crate) fn record(
        &mut self,
        spec: &FileSpec,
        result: std::result::Result<(), Failure>,
    ) -> Result<()> {
        match result {
            Ok(()) => self.got.push(spec.name),
            Err(Failure::Source(why)) => self.problems.push((Some(spec.name), why)),
            Err(Failure::Cache(e)) => return Err(e),
        }
        Ok(())
    }

    /// Records that the whole source failed.
    pub(crate) fn give_up(mut self, why: String) -> Tally {
        self.problems.push((None, why));
        self
    }

    /// Whether this file's outcome is recorded, taken or refused.
    pub(crate) fn has(&self, spec: &FileSpec) -> bool {
        self.got.contains(&spec.name) || self.problems.iter().any(|(n, _)| *n == Some(spec.name))
    }

    /// Whether the whole source failed, not only some of its files.
    pub(crate) fn gave_up(&self) -> bool {
        self.problems.iter().any(|(n, _)| n.is_none())
    }

    /// What a source that ships the files in one archive gives: `fetch` gets the archive (in a
    /// temporary folder kept while it is read), `read` stores the wanted files out of it, and
    /// `absent` says why a file the archive lacks was not taken. A fetch that fails is the whole
    /// source's failure.
    pub(crate) fn from_archive(
        wanted: &[FileSpec],
        fetch: impl FnOnce() -> std::result::Result<(tempfile::TempDir, PathBuf), String>,
        read: impl FnOnce(&Path, &mut Tally) -> std::result::Result<(), Failure>,
        absent: impl Fn(&FileSpec) -> String,
    ) -> Result<Tally> {
        let mut tally = Tally::default();
        let (_temp, archive) = match fetch() {
            Ok(fetched) => fetched,
            Err(why) => return Ok(tally.give_up(why)),
        };
        let read = read(&archive, &mut tally);
        tally.after_archive(read, wanted, absent)
    }

    /// Closes the tally of an archive read into the cache: an unreadable archive fails the
    /// whole source; each wanted file it did not hold fails with `absent`'s reason.
    pub(crate) fn after_archive(
        mut self,
        read: std::result::Result<(), Failure>,
        wanted: &[FileSpec],
        absent: impl Fn(&FileSpec) -> String,
    ) -> Result<Tally> {
        match read {
            Ok(()) => {}
            Err(Failure::Source(why)) => return Ok(self.give_up(why)),
            Err(Failure::Cache(e)) => return Err(e),
        }
        for spec in wanted {
            if !self.has(spec) {
                self.record(spec, Err(Failure::Source(absent(spec))))?;
            }
        }
        Ok(self)
    }
}
