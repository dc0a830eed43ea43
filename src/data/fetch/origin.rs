//! The `<name>.origin` note beside each cached file, saying which source it came from.

use crate::{files, Result};
use scratchnet_core::data::catalog::FileSpec;
use std::path::{Path, PathBuf};

/// Where the note saying which source `spec` came from is kept.
pub(crate) fn origin_path(cache: &Path, spec: &FileSpec) -> PathBuf {
    cache.join(format!("{}.origin", spec.name))
}

/// Notes that `spec`, now in the cache, came from `origin`.
pub(crate) fn write_origin(cache: &Path, spec: &FileSpec, origin: &str) -> Result<()> {
    files::write_atomic(&origin_path(cache, spec), origin.as_bytes())
}

/// The source `spec` came from, as noted when it entered the cache (`cache` if unknown).
pub(crate) fn read_origin(cache: &Path, spec: &FileSpec) -> String {
    std::fs::read_to_string(origin_path(cache, spec))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "cache".to_string())
}
