//! Who may write into a folder. A command writes only into a folder it created or one that
//! holds its own kind of work, and claims it before any work: the marker file `.scratchnet`,
//! holding the kind of work (`run`, `study batch-size`, …), is made with create-new (so of two
//! commands claiming one folder at once exactly one makes it) and stays locked while the
//! command runs (so a second command into a folder in use is refused at once). A non-empty
//! folder without a marker is refused unless an older scratchnet wrote it (a run's
//! `config.json`, a study's `plan.json`), which is recognised by those files.

use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The marker's file name.
pub const MARKER: &str = ".scratchnet";
/// The most names of unknown files an error lists.
const LISTED: usize = 5;

/// The kind of work a folder holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One `train` run.
    Run,
    /// A study (its kind, e.g. `batch-size`), made by running it or by merging its shards.
    Study(String),
}

impl Kind {
    /// The marker's text.
    fn text(&self) -> String {
        match self {
            Kind::Run => "run".into(),
            Kind::Study(kind) => format!("study {kind}"),
        }
    }

    /// The kind a marker's text names.
    fn parse(text: &str) -> Option<Kind> {
        match text.trim() {
            "run" => Some(Kind::Run),
            other => other
                .strip_prefix("study ")
                .map(|kind| Kind::Study(kind.trim().to_string())),
        }
    }

    /// What a folder of this kind holds, for messages.
    pub fn describe(&self) -> String {
        match self {
            Kind::Run => "a `train` run".into(),
            Kind::Study(kind) => format!("a {kind} study"),
        }
    }
}

/// A folder this process claimed; its marker stays locked until the claim is dropped. When
/// the command made the marker (or the folder) and wrote nothing else, dropping the claim
/// removes them, so a refused or failed command leaves no half-made folder.
#[derive(Debug)]
pub struct Claim {
    path: PathBuf,
    /// The open marker, holding the lock.
    _marker: File,
    made_dir: bool,
    made_marker: bool,
}

impl Claim {
    /// Claims `path` for work of `kind`: a new or empty folder, or one whose marker (or whose
    /// files, left by an older scratchnet) says it holds `kind`. Refuses a file, a folder of
    /// another kind, a folder holding files scratchnet did not write, and a folder another
    /// command is using.
    pub fn take(path: &Path, kind: &Kind) -> Result<Claim> {
        check_out(path)?;
        let made_dir = make_dir(path)?;
        for _ in 0..3 {
            if let Some(marker) = open_marker(path)? {
                return claim_marked(path, kind, marker);
            }
            if !made_dir {
                if let Some(found) = recognise(path)? {
                    same_kind(path, &found, kind)?;
                }
            }
            match make_marker(path, kind) {
                Ok(marker) => {
                    return Ok(Claim {
                        path: path.to_path_buf(),
                        _marker: marker,
                        made_dir,
                        made_marker: true,
                    })
                }
                // Another command made it meanwhile: read it.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(path.join(MARKER), e)),
            }
        }
        Err(in_use(path, kind))
    }

    /// The claimed folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.made_marker || !holds_only_marker(&self.path) {
            return;
        }
        let _ = std::fs::remove_file(self.path.join(MARKER));
        if self.made_dir {
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}

/// Refuses an `--out` that exists and is not a folder (checked before any work).
pub fn check_out(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_dir() => Err(Error::BadFile {
            path: path.to_path_buf(),
            reason: "is a file, not a folder; give --out a folder (a new one, or one holding \
                     this command's own work)"
                .into(),
        }),
        _ => Ok(()),
    }
}

/// Creates `path` (and its parents); whether this call created `path` itself.
fn make_dir(path: &Path) -> Result<bool> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    match std::fs::create_dir(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            check_out(path)?;
            Ok(false)
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The folder's marker, opened, if it has one.
fn open_marker(path: &Path) -> Result<Option<File>> {
    let marker = path.join(MARKER);
    match File::open(&marker) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(marker, e)),
    }
}

/// Claims a folder that has a marker: of the same kind, and not in use.
fn claim_marked(path: &Path, kind: &Kind, mut marker: File) -> Result<Claim> {
    lock(&marker).map_err(|()| in_use(path, kind))?;
    let mut text = String::new();
    marker
        .read_to_string(&mut text)
        .map_err(|e| Error::io(path.join(MARKER), e))?;
    let found = Kind::parse(&text).ok_or_else(|| Error::BadFile {
        path: path.join(MARKER),
        reason: format!(
            "not a marker scratchnet wrote ({:?}); it names the kind of work a folder holds",
            text.trim()
        ),
    })?;
    same_kind(path, &found, kind)?;
    Ok(Claim {
        path: path.to_path_buf(),
        _marker: marker,
        made_dir: false,
        made_marker: false,
    })
}

/// Refuses a folder holding `found` for work of `kind`.
fn same_kind(path: &Path, found: &Kind, kind: &Kind) -> Result<()> {
    if found == kind {
        return Ok(());
    }
    Err(Error::BadFile {
        path: path.to_path_buf(),
        reason: format!(
            "holds {}, not {}; scratchnet writes only into a new folder or one holding its own \
             kind of work: choose another --out",
            found.describe(),
            kind.describe()
        ),
    })
}

/// What an unmarked, non-empty folder holds: `None` when empty, the kind an older scratchnet
/// left (a study's plan.json, a run's config.json or checkpoint), or a refusal naming the
/// files.
fn recognise(path: &Path) -> Result<Option<Kind>> {
    let names = entries(path)?;
    if names.is_empty() {
        return Ok(None);
    }
    if names.iter().any(|n| n == "plan.json") {
        if let Some(study) = study_named_in(&path.join("plan.json")) {
            return Ok(Some(Kind::Study(study)));
        }
    }
    if names
        .iter()
        .any(|n| n == "config.json" || n == "checkpoint.safetensors")
    {
        return Ok(Some(Kind::Run));
    }
    let mut listed = names[..names.len().min(LISTED)].join(", ");
    if names.len() > LISTED {
        listed += &format!(" and {} more", names.len() - LISTED);
    }
    Err(Error::BadFile {
        path: path.to_path_buf(),
        reason: format!(
            "holds files scratchnet did not write ({listed}); scratchnet writes only into a new \
             or empty folder, or one holding its own work: choose another --out"
        ),
    })
}

/// The study a plan.json names, if it is one.
fn study_named_in(plan: &Path) -> Option<String> {
    let text = std::fs::read_to_string(plan).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("study")?.as_str().map(str::to_string)
}

/// The names in a folder, sorted.
fn entries(path: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        let entry = entry.map_err(|e| Error::io(path, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Another command's marker being made (see `make_marker`) is no content.
        if !(name.starts_with(&format!("{MARKER}.")) && name.ends_with(".tmp")) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

fn holds_only_marker(path: &Path) -> bool {
    entries(path).is_ok_and(|names| names == [MARKER])
}

/// Makes the marker with create-new, already locked and holding its text: written to a
/// temporary file, locked, then hard-linked to its name (a link fails if the name exists).
fn make_marker(path: &Path, kind: &Kind) -> std::io::Result<File> {
    let marker = path.join(MARKER);
    let tmp = path.join(format!("{MARKER}.{}.tmp", std::process::id()));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    let linked = file
        .write_all(format!("{}\n", kind.text()).as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            let _ = lock(&file);
            std::fs::hard_link(&tmp, &marker)
        });
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        // A file system without hard links: create-new on the name itself.
        Err(_) => {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&marker)?;
            let _ = lock(&file);
            file.write_all(format!("{}\n", kind.text()).as_bytes())?;
            Ok(file)
        }
    }
}

/// Locks the marker for this process (flock, released when the process ends however it
/// ends); `Err` when another process holds it (a file system without locks counts as
/// unlocked).
#[cfg(unix)]
fn lock(file: &File) -> std::result::Result<(), ()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor this `File` owns and keeps open.
    let status = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    let held =
        status != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK);
    if held {
        Err(())
    } else {
        Ok(())
    }
}

/// Without flock the marker's create-new is the only claim.
#[cfg(not(unix))]
fn lock(_file: &File) -> std::result::Result<(), ()> {
    Ok(())
}

fn in_use(path: &Path, kind: &Kind) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        reason: format!(
            "in use by another scratchnet command (writing {} there); wait for it to end, or \
             choose another --out",
            kind.describe()
        ),
    }
}

#[cfg(test)]
mod tests;
