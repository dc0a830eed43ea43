//! The lab's error type: the core's errors, and what can go wrong around them (fetching,
//! files the lab wrote, charts, stopped studies), each naming the file or value at fault.

use std::path::PathBuf;

/// Everything that can go wrong in scratchnet, each variant naming the file or value at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written, a dataset file is malformed, or a setting is
    /// impossible: the core's errors.
    #[error(transparent)]
    Core(#[from] scratchnet_core::Error),
    /// A dataset's files could not be fetched.
    #[error(transparent)]
    Fetch(#[from] crate::data::FetchError),
    /// A checkpoint file is not a scratchnet checkpoint for this network.
    #[error("{path}: {reason}")]
    Checkpoint { path: PathBuf, reason: String },
    /// A file scratchnet wrote earlier (a study's plan or outcome) cannot be read back.
    #[error("{path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
    /// A study was asked to stop during one of its runs, which stopped after an iteration and
    /// saved `checkpoint`; running the study again in its folder continues that run from there.
    #[error("interrupted during run {run} after {iteration} iterations")]
    StudyInterrupted {
        run: String,
        iteration: usize,
        checkpoint: PathBuf,
    },
    /// `--shard auto` found no scheduler's shard variables, or they disagree.
    #[error("--shard auto: {reason}")]
    ShardEnvironment { reason: String },
    /// The study folders being merged together lack some of the study's runs (by id).
    #[error("{reason}")]
    IncompleteStudy {
        missing: Vec<String>,
        reason: String,
    },
    /// A setting refused, with the reason in full.
    #[error("{0}")]
    Refused(String),
    /// An image cannot be turned into a network's input (the message names the image).
    #[error("{0}")]
    BadImage(String),
    /// A chart could not be drawn.
    #[error("chart {path}: {reason}")]
    Plot { path: PathBuf, reason: String },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Core(scratchnet_core::Error::io(path, source))
    }

    /// Whether work stopped because it was asked to (Ctrl-C or SIGTERM), leaving a checkpoint.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, Error::StudyInterrupted { .. })
    }

    /// An impossible setting: `name` is the flag, `expected` says what would be valid.
    pub fn invalid(name: &'static str, value: impl ToString, expected: &'static str) -> Self {
        Error::Core(scratchnet_core::Error::invalid(name, value, expected))
    }
}

impl From<scratchnet_core::data::DataError> for Error {
    fn from(e: scratchnet_core::data::DataError) -> Self {
        Error::Core(e.into())
    }
}
