//! The IDX file format of MNIST-style datasets: read (raw or gzip) and write.
//!
//! An IDX file is a big-endian header — magic `00 00 08 nn` (unsigned bytes, `nn` dimensions),
//! then `nn` sizes as u32 — followed by the bytes themselves, row-major. Images files are
//! 3-dimensional (`count × rows × cols`, magic 0x00000803), labels files 1-dimensional
//! (`count`, magic 0x00000801). Gzip is recognised by the first two bytes (1f 8b), never by the
//! file name.
//!
//! The reader trusts nothing in the header: sizes are multiplied with checked arithmetic and
//! compared with the bytes actually present before anything is sized from them, so any input
//! gives either the data or a [`DataError`] naming the file and what is wrong.
//!
//! ```
//! use scratchnet_core::data::idx::{self, Images};
//! use std::io::Write;
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("tiny-images-idx3-ubyte.gz");
//! let images = Images::new(2, 2, 3, vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]).unwrap();
//! let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
//! gz.write_all(&idx::encode_images(&images)).unwrap();
//! std::fs::write(&path, gz.finish().unwrap()).unwrap();
//! let back = idx::read_images(&path).unwrap();
//! assert_eq!((back.count(), back.rows(), back.cols()), (2, 2, 3));
//! assert_eq!(back.pixels(), images.pixels());
//! ```

pub use super::catalog::NUM_CLASSES;
use super::error::DataError;
use crate::{Error, Result};
use flate2::read::MultiGzDecoder;
use std::io::Read;
use std::path::Path;

#[cfg(test)]
pub(crate) mod testing;

/// Magic number of an images file: unsigned bytes, 3 dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of a labels file: unsigned bytes, 1 dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// The largest file (after decompression) the reader accepts: 256 MiB, five times MNIST's
/// largest (47 MB), so that a corrupt or hostile gzip stream cannot exhaust memory.
pub const MAX_IDX_BYTES: usize = 256 << 20;

const IMAGES: &str = "images";
const LABELS: &str = "labels";

/// The images of an IDX file: `count` images of `rows × cols` pixels (0–255), row-major.
#[derive(Debug, Clone)]
pub struct Images {
    count: u32,
    rows: u32,
    cols: u32,
    /// The whole file as read; pixels start at `offset` (no copy of 47 MB to drop a header).
    bytes: Vec<u8>,
    offset: usize,
}

impl Images {
    /// Images from their sizes and pixels; `None` unless `pixels.len() == count·rows·cols`.
    pub fn new(count: u32, rows: u32, cols: u32, pixels: Vec<u8>) -> Option<Images> {
        let needed = checked_product(&[count, rows, cols])?;
        (pixels.len() == needed).then_some(Images {
            count,
            rows,
            cols,
            bytes: pixels,
            offset: 0,
        })
    }

    /// The number of images.
    pub fn count(&self) -> usize {
        self.count as usize
    }

    /// Pixel rows per image (28 in MNIST).
    pub fn rows(&self) -> usize {
        self.rows as usize
    }

    /// Pixel columns per image (28 in MNIST).
    pub fn cols(&self) -> usize {
        self.cols as usize
    }

    /// All pixels, image after image, each row-major: `count·rows·cols` bytes.
    pub fn pixels(&self) -> &[u8] {
        &self.bytes[self.offset..]
    }
}

impl PartialEq for Images {
    /// Same sizes and same pixels (wherever the pixels sit in the buffer read).
    fn eq(&self, other: &Images) -> bool {
        (self.count, self.rows, self.cols) == (other.count, other.rows, other.cols)
            && self.pixels() == other.pixels()
    }
}

impl Eq for Images {}

/// Reads an images file (raw or gzip): count × rows × cols pixels.
pub fn read_images(path: &Path) -> Result<Images> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(parse_images(&path.display().to_string(), bytes)?)
}

/// Reads a labels file (raw or gzip): one class 0–9 per sample.
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(parse_labels(&path.display().to_string(), bytes)?)
}

/// Parses the bytes of an images file (raw or gzip); `file` names it in errors.
pub fn parse_images(file: &str, bytes: Vec<u8>) -> Result<Images, DataError> {
    let bytes = decompress(file, bytes)?;
    let (dims, offset) = parse_header(file, &bytes, IMAGES, IMAGES_MAGIC)?;
    Ok(Images {
        count: dims[0],
        rows: dims[1],
        cols: dims[2],
        bytes,
        offset,
    })
}

/// Parses the bytes of a labels file (raw or gzip); every label must be a class 0–9.
pub fn parse_labels(file: &str, bytes: Vec<u8>) -> Result<Vec<u8>, DataError> {
    let mut bytes = decompress(file, bytes)?;
    let (_, offset) = parse_header(file, &bytes, LABELS, LABELS_MAGIC)?;
    bytes.drain(..offset);
    if let Some(index) = bytes.iter().position(|&l| usize::from(l) >= NUM_CLASSES) {
        return Err(DataError::LabelOutOfRange {
            file: file.to_string(),
            index,
            label: bytes[index],
        });
    }
    Ok(bytes)
}

/// The IDX bytes of `images` (header and pixels, uncompressed).
pub fn encode_images(images: &Images) -> Vec<u8> {
    encode(
        IMAGES_MAGIC,
        &[images.count, images.rows, images.cols],
        images.pixels(),
    )
}

/// The IDX bytes of `labels`; `None` if there are more than `u32::MAX` of them.
pub fn encode_labels(labels: &[u8]) -> Option<Vec<u8>> {
    let count = u32::try_from(labels.len()).ok()?;
    Some(encode(LABELS_MAGIC, &[count], labels))
}

/// Whether `bytes` start like a gzip stream (1f 8b).
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// The bytes themselves, or their decompression when they start like gzip (at most
/// [`MAX_IDX_BYTES`]).
fn decompress(file: &str, bytes: Vec<u8>) -> Result<Vec<u8>, DataError> {
    if !is_gzip(&bytes) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    MultiGzDecoder::new(&bytes[..])
        .take(MAX_IDX_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|cause| DataError::Gzip {
            file: file.to_string(),
            cause,
        })?;
    if out.len() > MAX_IDX_BYTES {
        return Err(DataError::TooLarge {
            file: file.to_string(),
            limit: MAX_IDX_BYTES,
        });
    }
    Ok(out)
}

/// Checks the header of an IDX file against `magic` and the body's length; returns the declared
/// sizes and where the body starts.
fn parse_header(
    file: &str,
    bytes: &[u8],
    what: &'static str,
    magic: u32,
) -> Result<(Vec<u32>, usize), DataError> {
    let ndims = (magic & 0xff) as u8;
    let header_len = 4 + 4 * usize::from(ndims);
    let truncated_header = || DataError::TruncatedHeader {
        file: file.to_string(),
        what,
        needed: header_len,
        found: bytes.len(),
    };
    let word = |i: usize| -> Option<u32> {
        let b = bytes.get(4 * i..4 * i + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let found = word(0).ok_or_else(truncated_header)?;
    // The whole magic: `00 00 08` (unsigned bytes), then the number of dimensions.
    if found != magic {
        return Err(DataError::BadMagic {
            file: file.to_string(),
            what,
            found,
            expected: magic,
        });
    }
    let dims = (1..=usize::from(ndims))
        .map(word)
        .collect::<Option<Vec<u32>>>()
        .ok_or_else(truncated_header)?;
    let declared = checked_product(&dims).ok_or_else(|| DataError::SizeOverflow {
        file: file.to_string(),
        what,
        dims: dims.clone(),
    })?;
    let body = bytes.len() - header_len;
    if body < declared {
        return Err(DataError::Truncated {
            file: file.to_string(),
            what,
            dims,
            declared,
            found: body,
        });
    }
    if body > declared {
        return Err(DataError::TrailingBytes {
            file: file.to_string(),
            what,
            dims,
            declared,
            extra: body - declared,
        });
    }
    Ok((dims, header_len))
}

/// The product of `dims` as a byte count, or `None` if it overflows `usize`.
fn checked_product(dims: &[u32]) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(usize::try_from(d).ok()?))
}

/// Header (magic, big-endian sizes) followed by `body`.
fn encode(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + body.len());
    out.extend_from_slice(&magic.to_be_bytes());
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::testing::{write_images, write_labels, Encoding};
    use super::*;
    use std::io::Write;

    fn tiny_images() -> Images {
        Images::new(3, 2, 2, (0..12).map(|i| i * 20).collect()).unwrap()
    }

    fn name_of(path: &Path) -> String {
        path.display().to_string()
    }

    /// Unwraps the `DataError` inside a library error, failing the test for anything else.
    fn data_err(err: Error) -> DataError {
        match err {
            Error::Data(e) => e,
            other => panic!("expected a data error, got {other}"),
        }
    }

    #[test]
    fn round_trip_raw_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        for encoding in [Encoding::Raw, Encoding::Gzip] {
            let images_path = dir.path().join(format!("img-{encoding:?}"));
            let labels_path = dir.path().join(format!("lab-{encoding:?}"));
            write_images(&images_path, &tiny_images(), encoding).unwrap();
            write_labels(&labels_path, &[7, 0, 9], encoding).unwrap();
            let raw = std::fs::read(&images_path).unwrap();
            assert_eq!(is_gzip(&raw), encoding == Encoding::Gzip);
            let images = read_images(&images_path).unwrap();
            assert_eq!(images, tiny_images());
            assert_eq!(images.pixels()[11], 220);
            assert_eq!(read_labels(&labels_path).unwrap(), vec![7, 0, 9]);
        }
    }

    #[test]
    fn gzip_is_recognised_by_content_not_name() {
        let dir = tempfile::tempdir().unwrap();
        let gz_named_raw = dir.path().join("labels.gz");
        let raw_named_gz = dir.path().join("labels-idx1-ubyte");
        write_labels(&gz_named_raw, &[1, 2], Encoding::Raw).unwrap();
        write_labels(&raw_named_gz, &[3, 4], Encoding::Gzip).unwrap();
        assert_eq!(read_labels(&gz_named_raw).unwrap(), vec![1, 2]);
        assert_eq!(read_labels(&raw_named_gz).unwrap(), vec![3, 4]);
    }

    #[test]
    fn encoded_header_is_big_endian() {
        let bytes = encode_images(&tiny_images());
        assert_eq!(
            &bytes[..16],
            &[0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2]
        );
        assert_eq!(&encode_labels(&[5]).unwrap(), &[0, 0, 8, 1, 0, 0, 0, 1, 5]);
    }

    #[test]
    fn bad_magic_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t10k-images-idx3-ubyte");
        let mut bytes = encode_images(&tiny_images());
        bytes[2] = 0x0d; // float data, not unsigned bytes
        std::fs::write(&path, &bytes).unwrap();
        let err = data_err(read_images(&path).unwrap_err());
        assert!(
            matches!(err, DataError::BadMagic { found: 0x0d03, .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&name_of(&path)) && msg.contains("0x00000803"),
            "{msg}"
        );
        // A labels file where images are expected: the right type, the wrong dimensions.
        let labels = encode_labels(&[1, 2, 3]).unwrap();
        let err = parse_images("labels-as-images", labels).unwrap_err();
        assert!(matches!(
            err,
            DataError::BadMagic {
                found: 0x0801,
                expected: 0x0803,
                ..
            }
        ));
        assert!(err.to_string().starts_with("labels-as-images: "));
        // The dimension byte corrupted.
        let mut labels = encode_labels(&[1, 2, 3]).unwrap();
        labels[3] = 0x99;
        let msg = parse_labels("t10k-labels-idx1-ubyte", labels)
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "t10k-labels-idx1-ubyte: not an IDX labels file: bad magic number 0x00000899, \
             expected 0x00000801 (unsigned bytes, 1 dimension(s))"
        );
    }

    #[test]
    fn truncated_header_is_refused_at_every_length() {
        let full = encode_images(&tiny_images());
        for len in 0..16 {
            let err = parse_images("short-images", full[..len].to_vec()).unwrap_err();
            assert!(
                matches!(err, DataError::TruncatedHeader { needed: 16, found, .. } if found == len),
                "length {len}: {err:?}"
            );
            assert!(err.to_string().contains("short-images"));
        }
        let err = parse_labels("short-labels", vec![0, 0, 8, 1, 0]).unwrap_err();
        assert!(matches!(
            err,
            DataError::TruncatedHeader {
                needed: 8,
                found: 5,
                ..
            }
        ));
    }

    #[test]
    fn truncated_body_is_refused_with_declared_and_present_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t10k-images-idx3-ubyte");
        let mut bytes = encode(IMAGES_MAGIC, &[10000, 28, 28], &[]);
        bytes.resize(16 + 5000, 0);
        std::fs::write(&path, &bytes).unwrap();
        let err = data_err(read_images(&path).unwrap_err());
        assert!(matches!(
            err,
            DataError::Truncated {
                declared: 7_840_000,
                found: 5000,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            format!(
                "{}: truncated: header declares 10000×28×28 = 7840000 bytes of images, the file holds 5000",
                name_of(&path)
            )
        );
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = encode_labels(&[1, 2]).unwrap();
        bytes.push(3);
        let err = parse_labels("long-labels", bytes).unwrap_err();
        assert!(matches!(
            err,
            DataError::TrailingBytes {
                declared: 2,
                extra: 1,
                ..
            }
        ));
    }

    #[test]
    fn huge_declared_sizes_neither_overflow_nor_allocate() {
        let bytes = encode(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[1, 2, 3]);
        let err = parse_images("huge", bytes).unwrap_err();
        assert!(matches!(err, DataError::SizeOverflow { .. }), "{err:?}");
        let bytes = encode(IMAGES_MAGIC, &[u32::MAX, 2, 1], &[1, 2, 3]);
        let err = parse_images("big", bytes).unwrap_err();
        assert!(
            matches!(err, DataError::Truncated { found: 3, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn label_outside_classes_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train-labels-idx1-ubyte");
        write_labels(&path, &[0, 9, 10, 3], Encoding::Gzip).unwrap();
        let err = data_err(read_labels(&path).unwrap_err());
        assert!(matches!(
            err,
            DataError::LabelOutOfRange {
                index: 2,
                label: 10,
                ..
            }
        ));
        assert!(err.to_string().contains(&name_of(&path)));
    }

    #[test]
    fn corrupt_gzip_is_refused() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&encode_labels(&[1; 1000]).unwrap()).unwrap();
        let mut bytes = gz.finish().unwrap();
        let cut = bytes.len() / 2;
        bytes.truncate(cut);
        let err = parse_labels("cut.gz", bytes.clone()).unwrap_err();
        assert!(matches!(err, DataError::Gzip { .. }), "{err:?}");
        assert!(err.to_string().starts_with("cut.gz: corrupt gzip"));
        bytes[12] ^= 0xff;
        assert!(parse_labels("flipped.gz", bytes).is_err());
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let err = read_images(Path::new("/no/such/images")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(err.to_string().contains("/no/such/images"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap stand-in for the fuzzer: every prefix and many single-byte mutations of valid
        // files, raw and gzip, give data or an error.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let images = encode_images(&tiny_images());
        gz.write_all(&images).unwrap();
        let gzipped = gz.finish().unwrap();
        let labels = encode_labels(&[1, 2, 3]).unwrap();
        for seed in [&images, &gzipped, &labels] {
            for len in 0..=seed.len() {
                let _ = parse_images("fuzz", seed[..len].to_vec());
                let _ = parse_labels("fuzz", seed[..len].to_vec());
            }
            for i in 0..seed.len() {
                for flip in [0x01, 0x80, 0xff] {
                    let mut bytes = seed.clone();
                    bytes[i] ^= flip;
                    let _ = parse_images("fuzz", bytes.clone());
                    let _ = parse_labels("fuzz", bytes);
                }
            }
        }
    }

    #[test]
    fn images_new_checks_the_pixel_count() {
        assert!(Images::new(2, 2, 2, vec![0; 8]).is_some());
        assert!(Images::new(2, 2, 2, vec![0; 7]).is_none());
        assert!(Images::new(u32::MAX, u32::MAX, u32::MAX, vec![]).is_none());
    }
}
