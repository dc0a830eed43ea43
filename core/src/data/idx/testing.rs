//! Writing IDX files for tests, raw or gzip: the library only reads them (the cache is filled
//! by fetching, which streams and verifies), so writing is a test helper.

use super::{encode_images, encode_labels, Images};
use std::io::Write;
use std::path::Path;

/// How a test file is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// The bare IDX bytes (as the cache stores them).
    Raw,
    /// Gzip-compressed (as the original mirrors serve them).
    Gzip,
}

/// Writes an images file, raw or gzip.
pub(crate) fn write_images(
    path: &Path,
    images: &Images,
    encoding: Encoding,
) -> std::io::Result<()> {
    write(path, &encode_images(images), encoding)
}

/// Writes a labels file, raw or gzip. Any byte is written (so tests can make bad files); the
/// reader is what insists on classes 0–9.
pub(crate) fn write_labels(path: &Path, labels: &[u8], encoding: Encoding) -> std::io::Result<()> {
    let bytes = encode_labels(labels).expect("a test writes fewer than 2³² labels");
    write(path, &bytes, encoding)
}

/// Writes `bytes` to `path`, gzip-compressing them if asked.
fn write(path: &Path, bytes: &[u8], encoding: Encoding) -> std::io::Result<()> {
    match encoding {
        Encoding::Raw => std::fs::write(path, bytes),
        Encoding::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(bytes)?;
            std::fs::write(path, gz.finish()?)
        }
    }
}
