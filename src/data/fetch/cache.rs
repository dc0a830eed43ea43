//! The cache folder's contents: which files are already there and good, and the temporaries a
//! killed fetch left behind.

use super::origin::origin_path;
use super::verify::hash_file;
use crate::progress::Progress;
use crate::{files, Error, Result};
use scratchnet_core::data::catalog::FileSpec;
use std::path::Path;
use std::time::Duration;

/// How long a temporary file in the cache must be untouched before it counts as left behind.
const STALE_AFTER: Duration = Duration::from_secs(10 * 60);

/// Whether `spec` is already cached and good: `Ok(Ok(()))` yes, `Ok(Err(None))` absent,
/// `Ok(Err(Some(why)))` present but bad (and now removed). `verify` re-hashes the file; without
/// it, a file of the pinned size is trusted (it was verified when it entered the cache).
pub(crate) fn check_cached(
    spec: &FileSpec,
    cache: &Path,
    verify: bool,
    progress: &dyn Progress,
) -> Result<std::result::Result<(), Option<String>>> {
    let path = cache.join(spec.name);
    let size = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return Ok(Err(Some(format!("{} is not a file", spec.name)))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Err(None)),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let problem = if size != spec.size {
        Some(format!(
            "{}: {size} bytes, expected {} (removed)",
            spec.name, spec.size
        ))
    } else if verify {
        let actual = hash_file(&path, spec, progress)?;
        (actual != spec.sha256).then(|| {
            format!(
                "{}: SHA-256 {actual}, expected {} (removed)",
                spec.name, spec.sha256
            )
        })
    } else {
        None
    };
    match problem {
        None => Ok(Ok(())),
        Some(problem) => {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            let _ = std::fs::remove_file(origin_path(cache, spec));
            Ok(Err(Some(problem)))
        }
    }
}

/// Removes temporary files that a killed fetch left in `cache` (an interrupted process cannot
/// delete its own). Only files untouched for [`STALE_AFTER`] go: a live download writes more
/// often than its read timeout. Best effort: a file that cannot be removed is left alone.
pub(crate) fn sweep_stale_temporaries(cache: &Path) {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if name.starts_with(files::TEMP_PREFIX) && name.ends_with(files::TEMP_SUFFIX) && stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
