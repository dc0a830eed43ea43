//! What can be wrong with a dataset file's contents, or with a dataset's name.
//!
//! The IDX and MNIST readers return these; the lab's fetching has its own errors
//! (`FetchError`).

/// Everything that can be wrong with a dataset file's contents, or a dataset's name.
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
    /// A dataset name that scratchnet does not know.
    #[error("unknown dataset '{value}': expected mnist or fashion-mnist")]
    UnknownDataset { value: String },
}

/// `10000×28×28`, as the error messages write declared sizes.
fn dims_text(dims: &[u32]) -> String {
    dims.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join("×")
}
