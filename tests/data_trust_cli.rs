//! Every command that reads a dataset verifies its four files' content against the catalog's
//! SHA-256 on each load, and never deletes a file in the cache: a bad one is set aside
//! (`<name>.rejected-<UTC time>`) and fetched again when a source has it, else refused.
//!
//! Each test works in its own cache (`--data-dir`) filled with copies of the user's, and runs
//! offline: `SCRATCHNET_SOURCES=from` leaves no source but the `--from` folder, when given.

use crate::common;

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";
const FILES: [&str; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];

/// The start of the catalog's SHA-256 of MNIST's test labels, as an error shows it.
const MNIST_TEST_LABELS_SHA: &str = "ff7bcfd416de3373";

/// A cache of one's own (the `--data-dir` root), holding copies of the user's verified files.
struct Cache {
    root: tempfile::TempDir,
}

impl Cache {
    /// A cache holding copies of `datasets`' four files.
    fn with(datasets: &[&str]) -> Cache {
        let root = tempfile::tempdir().unwrap();
        for dataset in datasets {
            let from = common::fetched_dir(dataset);
            let to = root.path().join(dataset);
            std::fs::create_dir_all(&to).unwrap();
            for name in FILES {
                std::fs::copy(from.join(name), to.join(name)).unwrap();
            }
        }
        Cache { root }
    }

    /// The path of `name` in `dataset`'s folder.
    fn file(&self, dataset: &str, name: &str) -> PathBuf {
        self.root.path().join(dataset).join(name)
    }

    /// Rewrites `dataset`'s `name` with `change` applied to its bytes.
    fn change(&self, dataset: &str, name: &str, change: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let path = self.file(dataset, name);
        let mut bytes = std::fs::read(&path).unwrap();
        change(&mut bytes);
        std::fs::write(&path, &bytes).unwrap();
        bytes
    }

    /// The names in `dataset`'s folder that are `name` set aside.
    fn set_aside(&self, dataset: &str, name: &str) -> Vec<PathBuf> {
        let prefix = format!("{name}.rejected-");
        let mut found: Vec<PathBuf> = std::fs::read_dir(self.root.path().join(dataset))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&prefix)
            })
            .collect();
        found.sort();
        found
    }

    /// Runs scratchnet with `args`, this cache as `--data-dir`, offline but for `--from`.
    fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--data-dir", self.root.path().to_str().unwrap()]);
        common::command(&all)
            .env("SCRATCHNET_SOURCES", "from")
            .output()
            .expect("the scratchnet binary runs")
    }
}

/// `train` as small as it gets: one iteration of a tiny network into a fresh folder.
fn train_args(out: &Path) -> Vec<String> {
    [
        "train",
        "--quiet",
        "--iters",
        "1",
        "--hidden-size",
        "10",
        "--out",
    ]
    .map(String::from)
    .into_iter()
    .chain([out.display().to_string()])
    .collect()
}

fn train(cache: &Cache, out: &Path, extra: &[&str]) -> Output {
    let args = train_args(out);
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(extra);
    cache.run(&all)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Checks that `out` failed cleanly (exit 1, no panic) with every one of `parts` in stderr.
fn refused(out: &Output, parts: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{err}",
        String::from_utf8_lossy(&out.stdout)
    );
    for part in parts {
        assert!(err.contains(part), "{part:?} not in:\n{err}");
    }
    err
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
    stderr(out)
}

fn sha256(path: &Path) -> String {
    format!("{:x}", Sha256::digest(std::fs::read(path).unwrap()))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

const MISMATCH: &str = "does not match the checksum the catalog has for it";

#[test]
fn test_labels_shifted_by_one_give_no_result_offline_and_are_kept_aside() {
    let cache = Cache::with(&["mnist"]);
    let shifted = cache.change("mnist", TEST_LABELS, |b| {
        for label in &mut b[8..] {
            *label = (*label + 1) % 10;
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let out = train(&cache, &dir.path().join("run"), &[]);
    let err = refused(
        &out,
        &[
            TEST_LABELS,
            MISMATCH,
            MNIST_TEST_LABELS_SHA,
            "set aside as",
            "fetch --dataset mnist",
        ],
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("test acc"));
    let aside = cache.set_aside("mnist", TEST_LABELS);
    assert_eq!(aside.len(), 1);
    assert!(err.contains(&aside[0].display().to_string()), "{err}");
    assert_eq!(
        std::fs::read(&aside[0]).unwrap(),
        shifted,
        "kept, not deleted"
    );
}

#[test]
fn a_flipped_pixel_byte_is_set_aside_and_fetched_again_saying_so() {
    let cache = Cache::with(&["mnist"]);
    cache.change("mnist", TRAIN_IMAGES, |b| b[5000] ^= 0x40);
    let user = common::fetched_dir("mnist");
    let dir = tempfile::tempdir().unwrap();
    let out = train(
        &cache,
        &dir.path().join("run"),
        &["--from", user.to_str().unwrap()],
    );
    let err = succeeded(&out);
    for part in [
        "warning:",
        TRAIN_IMAGES,
        MISMATCH,
        "set aside as",
        "fetching it again",
    ] {
        assert!(err.contains(part), "{part:?} not in:\n{err}");
    }
    let file = cache.file("mnist", TRAIN_IMAGES);
    assert_eq!(sha256(&file), sha256(&user.join(TRAIN_IMAGES)));
    assert_eq!(cache.set_aside("mnist", TRAIN_IMAGES).len(), 1);
}

#[test]
fn a_file_truncated_and_padded_to_its_size_is_refused_by_gradcheck() {
    let cache = Cache::with(&["mnist"]);
    cache.change("mnist", TEST_IMAGES, |b| {
        let len = b.len();
        b.truncate(len / 2);
        b.resize(len, 0);
    });
    let out = cache.run(&["gradcheck", "--quiet", "--samples", "1"]);
    refused(&out, &[TEST_IMAGES, MISMATCH, "set aside as"]);
}

#[test]
fn fashion_mnists_test_labels_in_the_mnist_cache_are_refused_by_eval() {
    let cache = Cache::with(&["mnist"]);
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    succeeded(&train(&cache, &run, &[]));
    let fashion = common::fetched_dir("fashion-mnist");
    std::fs::copy(fashion.join(TEST_LABELS), cache.file("mnist", TEST_LABELS)).unwrap();
    let model = run.join("model.safetensors");
    let out = cache.run(&["eval", "--quiet", "--model", model.to_str().unwrap()]);
    refused(&out, &[TEST_LABELS, MISMATCH, MNIST_TEST_LABELS_SHA]);
}

#[test]
fn fashion_mnist_is_verified_too_and_fetch_says_where_the_bad_file_went() {
    let cache = Cache::with(&["fashion-mnist"]);
    cache.change("fashion-mnist", TRAIN_LABELS, |b| {
        b[100] = (b[100] + 1) % 10
    });
    let out = cache.run(&["fetch", "--quiet", "--dataset", "fashion-mnist"]);
    let err = refused(&out, &[TRAIN_LABELS, MISMATCH, "set aside as"]);
    let aside = cache.set_aside("fashion-mnist", TRAIN_LABELS);
    assert!(err.contains(&aside[0].display().to_string()), "{err}");
}

#[test]
fn gzip_content_under_the_raw_name_and_raw_under_a_gz_name_are_accepted_offline_and_kept() {
    let cache = Cache::with(&["mnist"]);
    let gz = cache.change("mnist", TRAIN_LABELS, |b| *b = gzip(b));
    let raw = cache.file("mnist", TEST_LABELS);
    let gz_name = cache.file("mnist", &format!("{TEST_LABELS}.gz"));
    std::fs::rename(&raw, &gz_name).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = succeeded(&train(&cache, &dir.path().join("run"), &[]));
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(
        std::fs::read(cache.file("mnist", TRAIN_LABELS)).unwrap(),
        gz
    );
    assert!(gz_name.exists() && !raw.exists());
    assert!(cache.set_aside("mnist", TRAIN_LABELS).is_empty());
}

#[test]
fn a_link_to_the_users_own_copy_is_followed_never_replaced_and_a_bad_one_moved_aside() {
    let cache = Cache::with(&["mnist"]);
    let own = tempfile::tempdir().unwrap();
    let good = own.path().join("my-train-labels");
    let bad = own.path().join("my-test-labels");
    std::fs::copy(cache.file("mnist", TRAIN_LABELS), &good).unwrap();
    std::fs::copy(cache.file("mnist", TRAIN_LABELS), &bad).unwrap();
    for (name, target) in [(TRAIN_LABELS, &good), (TEST_LABELS, &bad)] {
        let link = cache.file("mnist", name);
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(target, &link).unwrap();
    }
    let before = (sha256(&good), sha256(&bad));
    let user = common::fetched_dir("mnist");
    let dir = tempfile::tempdir().unwrap();
    let out = train(
        &cache,
        &dir.path().join("run"),
        &["--from", user.to_str().unwrap()],
    );
    let err = succeeded(&out);
    assert!(
        err.contains(TEST_LABELS) && err.contains("set aside as"),
        "{err}"
    );
    assert_eq!(
        (sha256(&good), sha256(&bad)),
        before,
        "the user's files are untouched"
    );
    let link = cache.file("mnist", TRAIN_LABELS);
    assert_eq!(std::fs::read_link(&link).unwrap(), good);
    let aside = cache.set_aside("mnist", TEST_LABELS);
    assert_eq!(std::fs::read_link(&aside[0]).unwrap(), bad);
}

#[test]
fn read_only_cache_files_are_read_and_a_bad_one_is_set_aside_with_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let cache = Cache::with(&["mnist"]);
    let read_only = std::fs::Permissions::from_mode(0o444);
    let good = cache.file("mnist", TRAIN_LABELS);
    std::fs::set_permissions(&good, read_only.clone()).unwrap();
    let changed = cache.change("mnist", TEST_LABELS, |b| b[8] = (b[8] + 1) % 10);
    std::fs::set_permissions(cache.file("mnist", TEST_LABELS), read_only).unwrap();
    let dir = tempfile::tempdir().unwrap();
    refused(
        &train(&cache, &dir.path().join("run"), &[]),
        &[TEST_LABELS, MISMATCH],
    );
    let aside = cache.set_aside("mnist", TEST_LABELS);
    assert_eq!(std::fs::read(&aside[0]).unwrap(), changed);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&aside[0]), 0o444);
    assert_eq!(mode(&good), 0o444);
    assert!(good.exists());
}

#[test]
fn both_studies_refuse_a_bad_file_before_any_run_and_later_runs_say_where_it_went() {
    let cache = Cache::with(&["mnist", "fashion-mnist"]);
    cache.change("fashion-mnist", TEST_IMAGES, |b| b[20_000] ^= 1);
    cache.change("mnist", TRAIN_LABELS, |b| b[60_000] = (b[60_000] + 3) % 10);
    let dir = tempfile::tempdir().unwrap();
    let study = |kind: &str, run: &str| {
        let out = dir.path().join(run);
        let output = cache.run(&["study", "--quiet", kind, "--out", out.to_str().unwrap()]);
        assert!(!out.join("study.csv").exists());
        output
    };
    refused(
        &study("batch-size", "a"),
        &[TRAIN_LABELS, MISMATCH, "set aside as"],
    );
    // The next run finds the file absent and says where the bad copy went.
    let aside = cache.set_aside("mnist", TRAIN_LABELS);
    let aside = aside[0].display().to_string();
    refused(
        &study("depth-width", "b"),
        &[TRAIN_LABELS, "set aside earlier as", &aside],
    );
    let user = common::fetched_dir("mnist");
    std::fs::copy(user.join(TRAIN_LABELS), cache.file("mnist", TRAIN_LABELS)).unwrap();
    let err = refused(&study("depth-width", "c"), &[TEST_IMAGES, MISMATCH]);
    assert!(err.contains("fashion-mnist"), "{err}");
}
