//! Taking the files out of a Debian package downloaded from Debian's archive: the `.deb` is
//! checked against its pinned size and SHA-256, then read as an `ar` archive whose
//! `data.tar.xz` holds the files.

use super::mirror::agent;
use super::tally::{Failure, Tally};
use super::verify::{store_verified_sized, Counting};
use crate::progress::Progress;
use crate::Result;
use flate2::read::MultiGzDecoder;
use scratchnet_core::data::catalog::{DebPackage, FileSpec};
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Takes what it can of `wanted` from `package`'s `.deb`; a `.deb` that cannot be downloaded,
/// is not the pinned one or cannot be read is the whole source's failure.
pub(crate) fn take_from(
    package: &DebPackage,
    wanted: &[FileSpec],
    cache: &Path,
    origin: &str,
    progress: &dyn Progress,
) -> Result<Tally> {
    Tally::from_archive(
        wanted,
        || download(package, progress),
        |deb, tally| extract_deb(deb, package.dir, wanted, cache, origin, progress, tally),
        |spec| {
            format!(
                "the package has neither /{0}/{1} nor /{0}/{1}.gz",
                package.dir, spec.name
            )
        },
    )
}

/// Downloads `package`'s `.deb` into a temporary folder, checking its size and SHA-256 on the
/// way; returns the folder (kept alive) and the file, or why it failed.
fn download(
    package: &DebPackage,
    progress: &dyn Progress,
) -> std::result::Result<(tempfile::TempDir, PathBuf), String> {
    let response = agent().get(package.url).call().map_err(|e| match e {
        ureq::Error::Status(code, _) => format!("HTTP status {code} for {}", package.url),
        ureq::Error::Transport(t) => t.to_string(),
    })?;
    let temp = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let path = temp.path().join("package.deb");
    progress.begin(&format!("download {}", package.package), Some(package.size));
    let copied = copy_hashed(response.into_reader(), &path, package.size, progress);
    progress.end();
    let (size, sha256) = copied?;
    if size != package.size {
        return Err(format!(
            "the .deb from {} is {size} bytes, expected {}",
            package.url, package.size
        ));
    }
    if sha256 != package.sha256 {
        return Err(format!(
            "the .deb from {} has SHA-256 {sha256}, expected the pinned {}",
            package.url, package.sha256
        ));
    }
    Ok((temp, path))
}

/// Copies at most `limit + 1` bytes of `reader` into `path`; returns the bytes copied and
/// their SHA-256 in hex.
fn copy_hashed(
    reader: impl Read,
    path: &Path,
    limit: u64,
    progress: &dyn Progress,
) -> std::result::Result<(u64, String), String> {
    let file =
        std::fs::File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let mut reader = Counting::new(reader, progress).take(limit + 1);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("download failed after {size} bytes: {e}")),
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        size += n as u64;
    }
    out.flush()
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok((size, format!("{:x}", hasher.finalize())))
}

/// Streams the wanted files (`<dir>/<name>`, raw or `.gz`) out of the `.deb` at `deb` into the
/// cache; a `.deb` that cannot be read is the source's failure.
pub(crate) fn extract_deb(
    deb: &Path,
    dir: &str,
    wanted: &[FileSpec],
    cache: &Path,
    origin: &str,
    progress: &dyn Progress,
    tally: &mut Tally,
) -> std::result::Result<(), Failure> {
    let unreadable =
        |e: std::io::Error| Failure::Source(format!("cannot read the .deb {}: {e}", deb.display()));
    let file = std::fs::File::open(deb).map_err(unreadable)?;
    let mut archive = ar::Archive::new(BufReader::new(file));
    while let Some(member) = archive.next_entry() {
        let member = member.map_err(unreadable)?;
        let name = String::from_utf8_lossy(member.header().identifier()).into_owned();
        let data: Box<dyn Read> = match name.as_str() {
            "data.tar.xz" => Box::new(xz2::read::XzDecoder::new(member)),
            "data.tar.gz" => Box::new(MultiGzDecoder::new(member)),
            "data.tar" => Box::new(member),
            other if other.starts_with("data.tar") => {
                return Err(Failure::Source(format!(
                    "the .deb {} holds {other}, a compression this reader does not know",
                    deb.display()
                )))
            }
            _ => continue,
        };
        return extract_tar(data, dir, wanted, cache, origin, progress, tally).map_err(
            |e| match e {
                Failure::Source(why) => {
                    Failure::Source(format!("the .deb {}: {why}", deb.display()))
                }
                cache_failure => cache_failure,
            },
        );
    }
    Err(Failure::Source(format!(
        "the .deb {} has no data.tar member",
        deb.display()
    )))
}

/// Streams the wanted files out of a package's data tarball into the cache.
fn extract_tar(
    data: impl Read,
    dir: &str,
    wanted: &[FileSpec],
    cache: &Path,
    origin: &str,
    progress: &dyn Progress,
    tally: &mut Tally,
) -> std::result::Result<(), Failure> {
    let unreadable = |e: std::io::Error| Failure::Source(format!("cannot read its data: {e}"));
    let mut archive = tar::Archive::new(data);
    for entry in archive.entries().map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = entry
            .path()
            .map_err(unreadable)?
            .to_string_lossy()
            .into_owned();
        let path = path.trim_start_matches("./").trim_start_matches('/');
        let Some(spec) = wanted.iter().find(|s| {
            let file = format!("{dir}/{}", s.name);
            path == file || path == format!("{file}.gz")
        }) else {
            continue;
        };
        if tally.has(spec) {
            continue;
        }
        let size = entry.size();
        let result = store_verified_sized(spec, cache, entry, Some(size), origin, progress);
        tally.record(spec, result).map_err(Failure::Cache)?;
    }
    Ok(())
}
