//! MNIST and Fashion-MNIST as arrays, from a folder holding their four IDX files:
//! [`Dataset`] (what training uses) and the book's `load_mnist` form ([`load_dir_book`]).
//!
//! On a folder of IDX files (here a tiny one made on the spot):
//!
//! ```
//! use scratchnet_core::data::catalog::{self, DatasetKind};
//! use scratchnet_core::data::idx::{self, Images};
//! use scratchnet_core::data::mnist;
//! let dir = tempfile::tempdir().unwrap();
//! for (images, labels, t) in [
//!     (catalog::TRAIN_IMAGES, catalog::TRAIN_LABELS, vec![5, 0]),
//!     (catalog::TEST_IMAGES, catalog::TEST_LABELS, vec![7]),
//! ] {
//!     let n = t.len();
//!     let x = Images::new(n as u32, 28, 28, vec![255; n * 784]).unwrap();
//!     std::fs::write(dir.path().join(images), idx::encode_images(&x)).unwrap();
//!     std::fs::write(dir.path().join(labels), idx::encode_labels(&t).unwrap()).unwrap();
//! }
//! let d = mnist::load_dir(DatasetKind::Mnist, dir.path()).unwrap();
//! assert_eq!((d.x_train.nrows(), d.x_train.ncols()), (2, 784));
//! assert_eq!(d.x_train.rows_dense(1..2)[[0, 783]], 1.0);
//! let ((x, t), _) = mnist::load_dir_book(dir.path(), false, false, true).unwrap();
//! assert_eq!((x.shape(), t.shape()), (&[2, 1, 28, 28][..], &[2, 10][..]));
//! ```

use super::catalog::{
    DatasetKind, IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES,
    TRAIN_LABELS,
};
use super::error::DataError;
use super::idx::{self, Images};
use crate::kernels::{few_nonzeros, Samples, SparseRows};
use crate::train::TrainData;
use crate::Result;
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Pixels converted per parallel task (256 KiB of f32 output).
const CONVERT_CHUNK: usize = 1 << 16;

/// A whole dataset in memory, ready to train on: pixels normalized to [0, 1], one row per image.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Which dataset this is (for class names and reports).
    pub kind: DatasetKind,
    /// Training images, (60000, 784), f32 in [0, 1]: as their nonzero entries when mostly zero.
    pub x_train: Samples<f32>,
    /// Training labels, 60000 class indices 0–9.
    pub t_train: Vec<usize>,
    /// Test images, (10000, 784), f32 in [0, 1]: as their nonzero entries when mostly zero.
    pub x_test: Samples<f32>,
    /// Test labels, 10000 class indices 0–9.
    pub t_test: Vec<usize>,
}

impl Dataset {
    /// The dataset as the training loop reads it.
    pub fn train_data(&self) -> TrainData<'_, f32> {
        TrainData {
            x_train: self.x_train.view(),
            t_train: &self.t_train,
            x_test: self.x_test.view(),
            t_test: &self.t_test,
        }
    }
}

/// The book's `((x_train, t_train), (x_test, t_test))`, every array f32.
pub type BookData = ((ArrayD<f32>, ArrayD<f32>), (ArrayD<f32>, ArrayD<f32>));

/// Rows converted per parallel task when a set is kept as its nonzero entries.
const ROWS_PER_TASK: usize = 256;

/// A pixel's value: p / `scale` (255 to normalize to [0, 1]), exact to f32's rounding.
fn pixel(p: u8, scale: f32) -> f32 {
    f32::from(p) / scale
}

/// Images and labels read from one pair of files, checked to pair one to one.
struct Split {
    images: Images,
    labels: Vec<u8>,
}

impl Split {
    /// Parses a pair of files (raw or gzip) and checks that they hold the same number of
    /// 28×28 samples.
    fn parse(images: IdxFile, labels: IdxFile) -> Result<Split> {
        let images_name = images.name;
        let labels_name = labels.name;
        let images = idx::parse_images(&images_name, images.bytes)?;
        if images.rows() != IMAGE_SIDE || images.cols() != IMAGE_SIDE {
            return Err(DataError::ImageSize {
                file: images_name,
                rows: images.rows() as u32,
                cols: images.cols() as u32,
            }
            .into());
        }
        let labels = idx::parse_labels(&labels_name, labels.bytes)?;
        if labels.len() != images.count() {
            return Err(DataError::CountMismatch {
                images_file: images_name,
                images: images.count(),
                labels_file: labels_name,
                labels: labels.len(),
            }
            .into());
        }
        Ok(Split { images, labels })
    }

    /// The split as training reads it: its [`Split::samples`] and labels as class indices.
    fn into_samples(self) -> (Samples<f32>, Vec<usize>) {
        let labels = self.labels.iter().map(|&t| usize::from(t)).collect();
        (self.samples(), labels)
    }

    /// The images as training reads them, pixel/255 (exactly 0.0 to 1.0), (N, 784): as their
    /// nonzero entries when few enough (MNIST: 19 %; 72 MB instead of 188 for the training
    /// set), else dense.
    fn samples(&self) -> Samples<f32> {
        let images: Vec<&[u8]> = self.images.pixels().chunks_exact(IMAGE_PIXELS).collect();
        // Where each row's entries would start: a count per row, then running sums.
        let mut indptr = vec![0; images.len() + 1];
        indptr[1..]
            .par_iter_mut()
            .zip(&images)
            .for_each(|(end, image)| *end = image.iter().filter(|&&p| p != 0).count());
        for n in 0..images.len() {
            indptr[n + 1] += indptr[n];
        }
        if few_nonzeros(indptr[images.len()], images.len() * IMAGE_PIXELS) {
            Samples::Sparse(Self::sparse(&images, indptr))
        } else {
            Samples::Dense(self.x(true))
        }
    }

    /// The nonzero pixels of `images` as [`Split::x`]`(true)` has them, row n's at
    /// `indptr[n]..indptr[n + 1]`: every row's entries are written in parallel into its own part
    /// of buffers allocated once at their size.
    fn sparse(images: &[&[u8]], indptr: Vec<usize>) -> SparseRows<f32> {
        let nonzero = indptr[images.len()];
        let mut indices = vec![0u32; nonzero];
        let mut values = vec![0.0f32; nonzero];
        // Cut the buffers into one part per task, each holding its rows' entries.
        let mut tasks = Vec::with_capacity(images.len().div_ceil(ROWS_PER_TASK));
        let (mut indices_left, mut values_left) = (&mut indices[..], &mut values[..]);
        for (task, rows) in images.chunks(ROWS_PER_TASK).enumerate() {
            let first = task * ROWS_PER_TASK;
            let len = indptr[first + rows.len()] - indptr[first];
            let (i, i_rest) = std::mem::take(&mut indices_left).split_at_mut(len);
            let (v, v_rest) = std::mem::take(&mut values_left).split_at_mut(len);
            (indices_left, values_left) = (i_rest, v_rest);
            tasks.push((rows, i, v));
        }
        tasks.into_par_iter().for_each(|(rows, indices, values)| {
            let mut k = 0;
            for image in rows {
                for (column, &p) in image.iter().enumerate().filter(|(_, &p)| p != 0) {
                    indices[k] = column as u32;
                    values[k] = pixel(p, 255.0);
                    k += 1;
                }
            }
        });
        SparseRows::from_parts(IMAGE_PIXELS, indptr, indices, values)
    }

    /// The images as f32, (N, 784): pixel/255 when `normalize` (exactly 0.0 to 1.0), else 0–255.
    fn x(&self, normalize: bool) -> Array2<f32> {
        let pixels = self.images.pixels();
        let scale = if normalize { 255.0 } else { 1.0 };
        // One allocation (zeroed lazily by the OS), then one pass filling it in parallel chunks:
        // most of the cost is the first touch of 188 MB of fresh pages, which both cores share.
        let mut values = vec![0.0f32; pixels.len()];
        values
            .par_chunks_mut(CONVERT_CHUNK)
            .zip(pixels.par_chunks(CONVERT_CHUNK))
            .for_each(|(out, inp)| {
                for (o, &p) in out.iter_mut().zip(inp) {
                    *o = pixel(p, scale);
                }
            });
        Array2::from_shape_vec((self.images.count(), IMAGE_PIXELS), values)
            .expect("Split::read checked count × 28 × 28 pixels")
    }

    /// The labels as one-hot rows, (N, 10).
    fn one_hot(&self) -> Array2<f32> {
        let mut t = Array2::zeros((self.labels.len(), NUM_CLASSES));
        for (mut row, &label) in t.rows_mut().into_iter().zip(&self.labels) {
            row[usize::from(label)] = 1.0;
        }
        t
    }

    /// The book form of this split: x (N, 784) or (N, 1, 28, 28); t (N,) or one-hot (N, 10).
    fn book(
        &self,
        normalize: bool,
        flatten: bool,
        one_hot_label: bool,
    ) -> (ArrayD<f32>, ArrayD<f32>) {
        let n = self.images.count();
        let x = self.x(normalize).into_dyn();
        let x = if flatten {
            x
        } else {
            x.into_shape_with_order(IxDyn(&[n, 1, IMAGE_SIDE, IMAGE_SIDE]))
                .expect("(N, 784) holds N × 1 × 28 × 28 values")
        };
        let t = if one_hot_label {
            self.one_hot().into_dyn()
        } else {
            Array1::from_iter(self.labels.iter().map(|&l| f32::from(l))).into_dyn()
        };
        (x, t)
    }
}

/// One IDX file in memory: its bytes (raw or gzip) and the name errors give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxFile {
    /// How errors name the file (its path, usually).
    pub name: String,
    /// Its bytes, raw or gzip.
    pub bytes: Vec<u8>,
}

impl IdxFile {
    /// Reads the file at `path`.
    pub fn read(path: &Path) -> Result<IdxFile> {
        let bytes = std::fs::read(path).map_err(|e| crate::Error::io(path, e))?;
        Ok(IdxFile {
            name: path.display().to_string(),
            bytes,
        })
    }
}

/// A dataset's four IDX files in memory, for a caller that read (and checked) them itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxFiles {
    /// `train-images-idx3-ubyte`.
    pub train_images: IdxFile,
    /// `train-labels-idx1-ubyte`.
    pub train_labels: IdxFile,
    /// `t10k-images-idx3-ubyte`.
    pub test_images: IdxFile,
    /// `t10k-labels-idx1-ubyte`.
    pub test_labels: IdxFile,
}

impl IdxFiles {
    /// Reads the four files from `dir`, each raw or `.gz` beside the raw name.
    pub fn read_dir(dir: &Path) -> Result<IdxFiles> {
        let read = |name| IdxFile::read(&locate(dir, name));
        Ok(IdxFiles {
            train_images: read(TRAIN_IMAGES)?,
            train_labels: read(TRAIN_LABELS)?,
            test_images: read(TEST_IMAGES)?,
            test_labels: read(TEST_LABELS)?,
        })
    }

    /// The training and test splits, parsed and checked.
    fn parse(self) -> Result<(Split, Split)> {
        let train = Split::parse(self.train_images, self.train_labels)?;
        let test = Split::parse(self.test_images, self.test_labels)?;
        Ok((train, test))
    }
}

/// Loads the four files of `kind` from `dir` (as cached: raw, or `.gz` beside the raw names),
/// normalized to [0, 1]: x (N, 784) f32 (a mostly-zero set as its nonzero pixels), t (N,) labels.
pub fn load_dir(kind: DatasetKind, dir: &Path) -> Result<Dataset> {
    load_files(kind, IdxFiles::read_dir(dir)?)
}

/// [`load_dir`] on files already in memory.
pub fn load_files(kind: DatasetKind, files: IdxFiles) -> Result<Dataset> {
    let (train, test) = files.parse()?;
    // One split's bytes are let go before the next is converted: less memory at the peak.
    let (x_train, t_train) = train.into_samples();
    let (x_test, t_test) = test.into_samples();
    Ok(Dataset {
        kind,
        x_train,
        t_train,
        x_test,
        t_test,
    })
}

/// The book's `load_mnist` on the files in `dir`: x is (N, 784) when `flatten`, else
/// (N, 1, 28, 28); pixels in [0, 1] when `normalize`, else 0–255; t is one-hot (N, 10) when
/// `one_hot_label`, else the labels (N,) as f32.
pub fn load_dir_book(
    dir: &Path,
    normalize: bool,
    flatten: bool,
    one_hot_label: bool,
) -> Result<BookData> {
    load_files_book(IdxFiles::read_dir(dir)?, normalize, flatten, one_hot_label)
}

/// [`load_dir_book`] on files already in memory.
pub fn load_files_book(
    files: IdxFiles,
    normalize: bool,
    flatten: bool,
    one_hot_label: bool,
) -> Result<BookData> {
    let (train, test) = files.parse()?;
    Ok((
        train.book(normalize, flatten, one_hot_label),
        test.book(normalize, flatten, one_hot_label),
    ))
}

/// `dir/name` if it exists, else `dir/name.gz` if that exists, else `dir/name`.
pub fn locate(dir: &Path, name: &str) -> PathBuf {
    let raw = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    if !raw.exists() && gz.exists() {
        gz
    } else {
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::testing::{write_images, write_labels, Encoding};
    use crate::Error;

    /// Writes a tiny dataset (5 train, 3 test images of 28×28) to `dir`; pixel values encode
    /// their position so that ordering mistakes show.
    fn write_tiny(dir: &Path, encoding: Encoding) {
        let images = |n: u32| {
            let pixels = (0..n as usize * IMAGE_PIXELS)
                .map(|i| (i % 256) as u8)
                .collect();
            Images::new(n, 28, 28, pixels).unwrap()
        };
        let suffix = if encoding == Encoding::Gzip {
            ".gz"
        } else {
            ""
        };
        let path = |name: &str| dir.join(format!("{name}{suffix}"));
        write_images(&path(TRAIN_IMAGES), &images(5), encoding).unwrap();
        write_labels(&path(TRAIN_LABELS), &[5, 0, 4, 1, 9], encoding).unwrap();
        write_images(&path(TEST_IMAGES), &images(3), encoding).unwrap();
        write_labels(&path(TEST_LABELS), &[7, 2, 1], encoding).unwrap();
    }

    #[test]
    fn load_dir_normalizes_and_keeps_order() {
        for encoding in [Encoding::Raw, Encoding::Gzip] {
            let dir = tempfile::tempdir().unwrap();
            write_tiny(dir.path(), encoding);
            let d = load_dir(DatasetKind::Mnist, dir.path()).unwrap();
            assert_eq!((d.x_train.nrows(), d.x_train.ncols()), (5, 784));
            assert_eq!((d.x_test.nrows(), d.x_test.ncols()), (3, 784));
            assert_eq!(d.t_train.to_vec(), vec![5, 0, 4, 1, 9]);
            assert_eq!(d.t_test.to_vec(), vec![7, 2, 1]);
            // Pixel i of the file is i % 256: row 1, column 0 is pixel 784 = 16.
            // Almost every pixel is nonzero: the set is kept dense.
            let Samples::Dense(x_train) = &d.x_train else {
                panic!("a dense set kept sparse")
            };
            assert_eq!(x_train[[1, 0]], 16.0 / 255.0);
            assert_eq!(x_train[[0, 255]], 1.0);
            assert_eq!(x_train[[0, 0]], 0.0);
        }
    }

    #[test]
    fn mostly_zero_images_are_kept_as_their_nonzero_pixels_with_the_same_values() {
        // 700 images (more than one conversion task), pixel i nonzero when i % 7 == 0 (15 %),
        // with values from 1 to 255.
        let n = 700;
        let bytes: Vec<u8> = (0..n * IMAGE_PIXELS)
            .map(|i| if i % 7 == 0 { (i % 255 + 1) as u8 } else { 0 })
            .collect();
        let split = Split {
            images: Images::new(n as u32, 28, 28, bytes).unwrap(),
            labels: vec![0; n],
        };
        let dense = split.x(true);
        let Samples::Sparse(sparse) = split.samples() else {
            panic!("a mostly-zero set kept dense")
        };
        assert_eq!(sparse.nnz(), dense.iter().filter(|&&v| v != 0.0).count());
        assert_eq!(sparse.to_dense(), dense);
    }

    #[test]
    fn parallel_conversion_matches_the_plain_one_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let n = 100; // 78400 pixels: more than one conversion chunk
        let pixels: Vec<u8> = (0..n * IMAGE_PIXELS).map(|i| (i * 7 % 256) as u8).collect();
        let images = Images::new(n as u32, 28, 28, pixels.clone()).unwrap();
        write_images(&dir.path().join("i"), &images, Encoding::Raw).unwrap();
        write_labels(&dir.path().join("l"), &vec![3; n], Encoding::Raw).unwrap();
        let read = |name| IdxFile::read(&dir.path().join(name)).unwrap();
        let split = Split::parse(read("i"), read("l")).unwrap();
        let plain: Vec<f32> = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
        assert_eq!(split.x(true).as_slice().unwrap(), &plain[..]);
        let raw: Vec<f32> = pixels.iter().map(|&p| f32::from(p)).collect();
        assert_eq!(split.x(false).as_slice().unwrap(), &raw[..]);
    }

    #[test]
    fn book_form_shapes_and_values() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny(dir.path(), Encoding::Raw);
        let ((x, t), (x_test, t_test)) = load_dir_book(dir.path(), false, false, true).unwrap();
        assert_eq!(x.shape(), &[5, 1, 28, 28]);
        assert_eq!(x[[0, 0, 9, 3]], 255.0); // pixel 9·28+3 = 255
        assert_eq!(t.shape(), &[5, 10]);
        assert_eq!(t.sum(), 5.0);
        assert_eq!(t[[0, 5]], 1.0);
        assert_eq!(x_test.shape(), &[3, 1, 28, 28]);
        assert_eq!(t_test.shape(), &[3, 10]);
        let ((x, t), _) = load_dir_book(dir.path(), true, true, false).unwrap();
        assert_eq!(x.shape(), &[5, 784]);
        assert_eq!(t.as_slice().unwrap(), &[5.0, 0.0, 4.0, 1.0, 9.0]);
    }

    #[test]
    fn count_mismatch_between_images_and_labels_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny(dir.path(), Encoding::Raw);
        write_labels(&dir.path().join(TEST_LABELS), &[7, 2], Encoding::Raw).unwrap();
        let err = match load_dir(DatasetKind::Mnist, dir.path()).unwrap_err() {
            Error::Data(e) => e,
            other => panic!("{other}"),
        };
        assert!(matches!(
            err,
            DataError::CountMismatch {
                images: 3,
                labels: 2,
                ..
            }
        ));
        let msg = err.to_string();
        assert!(
            msg.contains(TEST_IMAGES) && msg.contains(TEST_LABELS),
            "{msg}"
        );
    }

    #[test]
    fn images_of_other_sizes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny(dir.path(), Encoding::Raw);
        let small = Images::new(5, 2, 2, vec![0; 20]).unwrap();
        write_images(&dir.path().join(TRAIN_IMAGES), &small, Encoding::Raw).unwrap();
        let err = load_dir(DatasetKind::Mnist, dir.path()).unwrap_err();
        assert!(matches!(
            err,
            Error::Data(DataError::ImageSize {
                rows: 2,
                cols: 2,
                ..
            })
        ));
        assert!(err.to_string().contains(TRAIN_IMAGES));
    }

    #[test]
    fn a_bad_label_in_a_dataset_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny(dir.path(), Encoding::Raw);
        write_labels(
            &dir.path().join(TRAIN_LABELS),
            &[5, 0, 10, 1, 9],
            Encoding::Raw,
        )
        .unwrap();
        let err = load_dir(DatasetKind::Mnist, dir.path()).unwrap_err();
        assert!(matches!(
            err,
            Error::Data(DataError::LabelOutOfRange {
                label: 10,
                index: 2,
                ..
            })
        ));
        assert!(err.to_string().contains(TRAIN_LABELS));
    }
}
