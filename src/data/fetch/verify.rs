//! Checksum verification: a file enters the cache only whole and with its pinned SHA-256.
//!
//! A file is streamed (decompressed if it starts like gzip) into a temporary file in the cache
//! folder while its SHA-256 is computed, and is renamed into place only if the digest is the
//! pinned one: a wrong checksum, a dropped connection or a full disk leave nothing behind.

use super::error::FetchError;
use super::origin::write_origin;
use super::tally::Failure;
use crate::files;
use crate::progress::Progress;
use flate2::read::MultiGzDecoder;
use scratchnet_core::data::catalog::FileSpec;
use scratchnet_core::data::idx::is_gzip;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

/// Bytes between two progress updates.
const PROGRESS_STEP: u64 = 1 << 20;

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
    let path = cache.join(spec.name);
    // Why the fill below gave up, when it was not the cache's fault.
    let mut refusal: Option<Failure> = None;
    progress.begin(spec.name, total);
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
                FetchError::ChecksumMismatch {
                    file: spec.name.to_string(),
                    source_name: origin.to_string(),
                    expected: spec.sha256.to_string(),
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
        (Ok(()), _) => write_origin(cache, spec, origin).map_err(Failure::Cache),
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
pub(crate) struct Counting<'p, R> {
    inner: R,
    progress: &'p dyn Progress,
    done: u64,
    reported: u64,
}

impl<'p, R> Counting<'p, R> {
    /// Wraps `inner`, reporting to `progress`.
    pub(crate) fn new(inner: R, progress: &'p dyn Progress) -> Self {
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
