//! MNIST and Fashion-MNIST as the book reads them: the IDX file format ([`idx`]), the four
//! files of a dataset loaded into arrays ([`mnist`]), and what is known of each dataset
//! ([`catalog`]: files, checksums, class names, where to find them).

pub mod augment;
pub mod catalog;
pub mod error;
pub mod idx;
pub mod mnist;

pub use catalog::{DatasetKind, FileSpec, IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES};
pub use error::DataError;
pub use mnist::{
    load_dir, load_dir_book, load_files, load_files_book, BookData, Dataset, IdxFile, IdxFiles,
};
