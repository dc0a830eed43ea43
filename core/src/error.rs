//! The core's error type: every failure says what was wrong and with which file or value.

use std::path::PathBuf;

/// Everything that can go wrong in the book's code, each variant naming the file or value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    // The cause is part of the message, not a `source`: printed as a chain, it would repeat.
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A dataset file is malformed.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// A setting is impossible (batch size 0, negative learning rate, …).
    #[error("invalid {name} {value}: {expected}")]
    InvalidSetting {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }

    /// An impossible setting: `name` is the value's name, `expected` says what would be valid.
    pub fn invalid(name: &'static str, value: impl ToString, expected: &'static str) -> Self {
        Error::InvalidSetting {
            name,
            value: value.to_string(),
            expected,
        }
    }
}
