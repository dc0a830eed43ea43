//! Setting a rejected cache file aside instead of deleting it: scratchnet deletes only files it
//! wrote itself (its temporaries and `.origin` notes), and a file in the cache may be the user's.

use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Renames `path` to `<name>.rejected-<UTC time>` beside it (`-2`, `-3`, … after the time when
/// that name is taken, so an earlier rejected file is never overwritten) and returns the new
/// path. A symbolic link is moved itself; what it points to is not touched.
pub(crate) fn set_aside(path: &Path) -> Result<PathBuf> {
    let stamp = utc_stamp(SystemTime::now());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for attempt in 1u32.. {
        let suffix = if attempt == 1 {
            String::new()
        } else {
            format!("-{attempt}")
        };
        let target = path.with_file_name(format!("{name}.rejected-{stamp}{suffix}"));
        // `rename` would replace an existing file: look first (a race with another process
        // setting the same file aside in the same second is the only way to lose one).
        if target.symlink_metadata().is_ok() {
            continue;
        }
        std::fs::rename(path, &target).map_err(|e| Error::io(path, e))?;
        return Ok(target);
    }
    unreachable!("some numbered name is free")
}

/// `time` as `20261206T141503Z`: sortable and free of characters awkward in file names.
pub(crate) fn utc_stamp(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time)
        .to_string()
        .replace(['-', ':'], "")
}
