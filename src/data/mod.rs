//! MNIST and Fashion-MNIST: what the datasets are, the IDX file format, loading, and fetching
//! from checksummed sources.
//!
//! [`catalog`] says what each dataset is (files, checksums, classes, sources) as plain values;
//! [`idx`] reads the file format; [`mnist`] turns a folder holding the four files of a dataset
//! into arrays ([`Dataset`], or the book's form); [`fetch()`] makes the four files present in a
//! local cache, from the first source that has them. [`load`] and [`load_mnist`] do both.
//!
//! | book (`dataset/mnist.py`) | scratchnet |
//! | --- | --- |
//! | `(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True, one_hot_label=False)` | `let ((x_train, t_train), (x_test, t_test)) = load_mnist(true, true, false)?;` |
//! | `x_train.shape` → `(60000, 784)` | `x_train.shape()` → `[60000, 784]` |
//! | `flatten=False` → `(60000, 1, 28, 28)` | the same shape |
//! | `one_hot_label=True` → `t_train.shape` `(60000, 10)` | the same shape |

pub mod fetch;

pub use fetch::{fetch, FetchError, FetchOptions, Fetched, SourceFailure};
pub use scratchnet_core::data::{
    catalog, idx, mnist, BookData, DataError, Dataset, DatasetKind, FileSpec, IMAGE_PIXELS,
    IMAGE_SIDE, NUM_CLASSES,
};
use scratchnet_core::data::{load_files, load_files_book};

use crate::progress::{Progress, Silent};
use crate::Result;

/// Fetches `kind` if its files are not yet in the cache, verifies every file's SHA-256, then
/// loads the very bytes verified, normalized to [0, 1]:
/// x_train (60000, 784), x_test (10000, 784). This is what training calls.
pub fn load(kind: DatasetKind, options: &FetchOptions, progress: &dyn Progress) -> Result<Dataset> {
    let files = fetch::verified_files(kind, options, progress)?;
    Ok(load_files(kind, files)?)
}

/// The book's `load_mnist(normalize, flatten, one_hot_label)`: fetches MNIST into the default
/// cache if needed (silently), verifies it, then loads it as [`mnist::load_dir_book`] describes.
pub fn load_mnist(normalize: bool, flatten: bool, one_hot_label: bool) -> Result<BookData> {
    let files = fetch::verified_files(DatasetKind::Mnist, &FetchOptions::default(), &Silent)?;
    Ok(load_files_book(files, normalize, flatten, one_hot_label)?)
}
