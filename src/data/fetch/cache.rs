//! The cache folder's contents: which files are there and hold the catalog's content, setting
//! aside those that do not, and the temporaries a killed fetch left behind.
//!
//! A cached file is checked by its content, not its container: it may be raw or gzip, under
//! the raw name or `<name>.gz`; what counts is that its (decompressed) bytes have the catalog's
//! SHA-256. The bytes checked are the bytes returned, so a load never parses bytes other than
//! the ones verified.

use super::origin::origin_path;
use super::quarantine::set_aside;
use crate::progress::Progress;
use crate::{files, Error, Result};
use flate2::read::MultiGzDecoder;
use scratchnet_core::data::catalog::FileSpec;
use scratchnet_core::data::idx::is_gzip;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a temporary file in the cache must be untouched before it counts as left behind.
const STALE_AFTER: Duration = Duration::from_secs(10 * 60);

/// Bytes hashed between two progress updates.
const HASH_STEP: usize = 1 << 20;

/// How much larger than its pinned size a cached file may be (gzip of incompressible bytes
/// grows a little) before it is refused unread.
const LARGER_SLACK: u64 = 1 << 20;

/// Hex digits of a digest an error message shows.
const SHORT_DIGEST: usize = 16;

/// What the cache holds for one file.
#[derive(Debug)]
pub(crate) enum Cached {
    /// A file with the catalog's content: where it is and its (decompressed) bytes.
    Good { path: PathBuf, content: Vec<u8> },
    /// Nothing under the file's names.
    Absent,
    /// Files under its names that did not hold its content, each now set aside: why, and where.
    Rejected(Vec<String>),
}

/// Checks what the cache holds for `spec`, under its raw name and then `<name>.gz`: the first
/// whose content has the pinned SHA-256 is good; each one before it that does not is set aside
/// (renamed, never deleted: it may be the user's) and reported.
pub(crate) fn check_cached(
    spec: &FileSpec,
    cache: &Path,
    progress: &dyn Progress,
) -> Result<Cached> {
    let mut rejected = Vec::new();
    for path in [
        cache.join(spec.name),
        cache.join(format!("{}.gz", spec.name)),
    ] {
        if path.symlink_metadata().is_err() {
            continue;
        }
        match content_problem(&path, spec, progress)? {
            Ok(content) => return Ok(Cached::Good { path, content }),
            Err(problem) => rejected.push(reject(&path, spec, cache, &problem)?),
        }
    }
    Ok(if rejected.is_empty() {
        Cached::Absent
    } else {
        Cached::Rejected(rejected)
    })
}

/// The file's content if it is the pinned one, else what is wrong with it.
fn content_problem(
    path: &Path,
    spec: &FileSpec,
    progress: &dyn Progress,
) -> Result<std::result::Result<Vec<u8>, String>> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Err("is a link to nothing".to_string()))
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    if !meta.is_file() {
        return Ok(Err("is not a file".to_string()));
    }
    // Neither the raw file nor its gzip can be much larger than the pinned size: not read.
    if meta.len() > spec.size + LARGER_SLACK {
        return Ok(Err(format!(
            "is {} bytes, far more than the catalog's {}",
            meta.len(),
            spec.size
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let content = match decompressed(bytes, spec) {
        Ok(content) => content,
        Err(e) => {
            return Ok(Err(format!(
                "starts like gzip but does not decompress ({e})"
            )))
        }
    };
    let actual = sha256(&content, spec, progress);
    if actual == spec.sha256 {
        return Ok(Ok(content));
    }
    let size = if content.len() as u64 == spec.size {
        String::new()
    } else {
        format!(
            ", {} bytes where the catalog has {}",
            content.len(),
            spec.size
        )
    };
    Ok(Err(format!(
        "does not match the checksum the catalog has for it (SHA-256 expected {}…, actual {}…{size})",
        &spec.sha256[..SHORT_DIGEST],
        &actual[..SHORT_DIGEST]
    )))
}

/// `bytes` themselves, or their decompression when they start like gzip (at most one byte past
/// the pinned size: a longer content cannot match anyway).
fn decompressed(bytes: Vec<u8>, spec: &FileSpec) -> std::io::Result<Vec<u8>> {
    if !is_gzip(&bytes) {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity(spec.size as usize);
    MultiGzDecoder::new(&bytes[..])
        .take(spec.size + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// The SHA-256 of `content`, in hex, reporting progress.
pub(crate) fn sha256(content: &[u8], spec: &FileSpec, progress: &dyn Progress) -> String {
    progress.begin(&format!("verify {}", spec.name), Some(content.len() as u64));
    let mut hasher = Sha256::new();
    let mut done = 0;
    for chunk in content.chunks(HASH_STEP) {
        hasher.update(chunk);
        done += chunk.len() as u64;
        progress.update(done, "");
    }
    progress.end();
    format!("{:x}", hasher.finalize())
}

/// Sets the bad file at `path` aside and says so: `<path> <problem>; set aside as <new path>`.
/// Its `.origin` note (scratchnet's own) goes, since it no longer describes the cache.
fn reject(path: &Path, spec: &FileSpec, cache: &Path, problem: &str) -> Result<String> {
    let aside = set_aside(path).map_err(|e| Error::BadFile {
        path: path.to_path_buf(),
        reason: format!(
            "{problem}, and it could not be set aside ({e}); move or delete it yourself, \
                 then run `{} fetch`",
            crate::invocation::invocation()
        ),
    })?;
    let _ = std::fs::remove_file(origin_path(cache, spec));
    Ok(format!(
        "{} {problem}; set aside as {}",
        path.display(),
        aside.display()
    ))
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
