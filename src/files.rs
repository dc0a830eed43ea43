//! Writing files that users keep: always to a temporary file first, then renamed into place,
//! so that a crash leaves either the old file or the new one, never a torn one. The temporary
//! files of writes in progress are listed, so that a signal that ends the program removes them
//! ([`remove_temporaries`]) and leaves nothing behind.

use crate::{Error, Result};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use tempfile::NamedTempFile;

/// How the temporary files of atomic writes are named: `.scratchnet-XXXXXX.tmp`.
pub const TEMP_PREFIX: &str = ".scratchnet-";
/// The end of a temporary file's name.
pub const TEMP_SUFFIX: &str = ".tmp";

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Creates `path` atomically from whatever `fill` writes into the temporary file.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let dir = parent_dir(path);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut pending = Pending::new_in(dir).map_err(|e| Error::io(dir, e))?;
    let temp = &mut pending.temp;
    fill(temp.as_file_mut()).map_err(|e| Error::io(path, e))?;
    delay_if_slow(path);
    readable_by_all(temp.as_file()).map_err(|e| Error::io(path, e))?;
    temp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    pending
        .temp
        .persist(path)
        .map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// The environment variable naming a file (`report.html`) whose atomic writes wait 3 s between
/// filling the temporary file and renaming it: a test seam, so that a test can send a signal
/// while that file is surely half-made.
pub const SLOW_WRITE_ENV: &str = "SCRATCHNET_TEST_SLOW_WRITE";

/// Waits 3 s when [`SLOW_WRITE_ENV`] names `path`'s file (not at all when it is unset).
fn delay_if_slow(path: &Path) {
    let slow = std::env::var_os(SLOW_WRITE_ENV);
    if slow.is_some_and(|name| path.file_name() == Some(name.as_os_str())) {
        std::thread::sleep(std::time::Duration::from_secs(3));
    }
}

/// The temporary files of atomic writes in progress; `None` once [`remove_temporaries`] has
/// removed them (the program is ending: no new one may start).
static IN_PROGRESS: Mutex<Option<BTreeSet<PathBuf>>> = Mutex::new(Some(BTreeSet::new()));

fn in_progress() -> MutexGuard<'static, Option<BTreeSet<PathBuf>>> {
    IN_PROGRESS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes the temporary file of every atomic write in progress, and lets no new one start:
/// called by the signal handler just before it ends the program, so that nothing is left.
pub fn remove_temporaries() {
    for path in in_progress().take().unwrap_or_default() {
        let _ = std::fs::remove_file(path);
    }
}

/// A temporary file listed in [`IN_PROGRESS`] while it exists (fields drop in order: the file,
/// if not persisted, is deleted before it leaves the list, so a signal never misses it).
struct Pending {
    temp: NamedTempFile,
    _listed: Listed,
}

/// A temporary file's place in [`IN_PROGRESS`], given up when dropped.
struct Listed(PathBuf);

impl Pending {
    /// Creates and lists a temporary file in `dir`, both under the list's lock, so that a
    /// signal sees either no file or a listed one.
    fn new_in(dir: &Path) -> std::io::Result<Pending> {
        let mut list = in_progress();
        let Some(paths) = list.as_mut() else {
            drop(list);
            // The program is ending (a signal removed the temporaries): wait for the end.
            loop {
                std::thread::park();
            }
        };
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)?;
        paths.insert(temp.path().to_path_buf());
        let listed = Listed(temp.path().to_path_buf());
        Ok(Pending {
            temp,
            _listed: listed,
        })
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        if let Some(paths) = in_progress().as_mut() {
            paths.remove(&self.0);
        }
    }
}

/// Makes a file readable by all and writable by its owner (0644), as files a user keeps are:
/// temporary files start owner-only.
fn readable_by_all(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// The folder a file lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_whole_file_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"first version, longer").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn failed_fill_leaves_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |_| Err(std::io::Error::other("disk full")));
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
