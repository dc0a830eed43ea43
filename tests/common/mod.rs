//! What the whole-command tests share: running the binary and reading what it wrote.
#![allow(dead_code)] // each test file uses its own part of these helpers

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod chart_checks;
mod charts;
mod watched;
pub use chart_checks::*;
pub use charts::*;
pub use watched::Watched;

/// The scratchnet binary with `args`, not yet run (to set its folder or environment).
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scratchnet"));
    command.args(args);
    command
}

/// Runs the scratchnet binary with `args`.
pub fn scratchnet(args: &[&str]) -> Output {
    command(args).output().expect("the scratchnet binary runs")
}

/// Checks that `out` is a success, and returns its standard output.
pub fn succeeded(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "scratchnet {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs scratchnet, checks that it succeeded, and returns its standard output.
pub fn ok(args: &[&str]) -> String {
    succeeded(args, scratchnet(args))
}

/// The first word after the first `marker` in `text` (panicking, with the text, without one).
pub fn word_after<'a>(text: &'a str, marker: &str) -> &'a str {
    let rest = text
        .split_once(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in\n{text}"))
        .1;
    rest.split(' ').next().unwrap_or_default()
}

/// Runs scratchnet and checks that it fails, without panicking, with `expected` in its error
/// output; returns that error output.
pub fn fails_naming(args: &[&str], expected: &str) -> String {
    let out = scratchnet(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "{args:?} succeeded:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains(expected),
        "{args:?}: expected {expected:?} in\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    stderr
}

/// The cache folder holding `dataset`'s four files, as `scratchnet fetch` reports it after
/// fetching them (or finding them cached).
pub fn fetched_dir(dataset: &str) -> PathBuf {
    let stdout = ok(&["--quiet", "fetch", "--dataset", dataset]);
    let first = stdout.lines().next().unwrap_or_default();
    let dir = first
        .split(" files in ")
        .nth(1)
        .unwrap_or_else(|| panic!("no folder in fetch's first line: {stdout}"));
    PathBuf::from(dir.trim())
}

/// Starts `scratchnet train --out out` with `extra` flags, waits until it has printed its first
/// epoch's accuracies (training has begun), interrupts it with SIGINT and checks that it stopped
/// as interrupted (exit status 130), leaving a checkpoint in `out`. `extra` must make a run long
/// enough not to end first (e.g. `--iters 1000000`).
pub fn interrupted_run(out: &Path, extra: &[&str]) {
    let mut run = Watched::train(out, extra);
    run.stdout_line("epoch 0 |");
    run.signal(libc::SIGINT);
    let (code, stderr) = run.finish();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(out.join("checkpoint.safetensors").is_file(), "{stderr}");
}

/// The files directly in `dir` that are not as `before` held them (changed, added or gone).
pub fn changed_files(dir: &Path, before: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let after = snapshot(dir);
    let mut names: Vec<String> = before.keys().chain(after.keys()).cloned().collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| before.get(name) != after.get(name))
        .collect()
}

/// Every file directly in `dir`, name → bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// A study's study.csv as one map of column → value per row.
pub fn rows(dir: &Path) -> Vec<BTreeMap<String, String>> {
    let csv = std::fs::read_to_string(dir.join("study.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(String::from))
                .collect()
        })
        .collect()
}

/// A numeric cell of a study.csv row.
pub fn num(row: &BTreeMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} = {:?}", row[key]))
}

/// A study's study.csv without its [`TIMING_COLUMNS`]: what it measured of the runs' learning.
pub fn measured_results(dir: &Path) -> Vec<BTreeMap<String, String>> {
    rows(dir)
        .into_iter()
        .map(|mut row| {
            row.retain(|column, _| !TIMING_COLUMNS.contains(&column.as_str()));
            row
        })
        .collect()
}

/// Checks that the study folders `a` and `b` hold the same runs, and that each of `files` is
/// byte for byte the same in both copies of every run.
pub fn assert_same_run_files(a: &Path, b: &Path, files: &[&str]) {
    let ids = |dir: &Path| -> Vec<std::ffi::OsString> {
        let mut ids: Vec<_> = std::fs::read_dir(dir.join("runs"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(a), ids(b), "{} and {}", a.display(), b.display());
    for id in ids(a) {
        for file in files {
            let read = |dir: &Path| {
                let path = dir.join("runs").join(&id).join(file);
                std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            };
            assert!(
                read(a) == read(b),
                "{id:?}/{file} differs between {} and {}",
                a.display(),
                b.display()
            );
        }
    }
}

/// The file `file` of the run `run` in the study folder `study`, as JSON.
pub fn run_json(study: &Path, run: &str, file: &str) -> serde_json::Value {
    let path = study.join("runs").join(run).join(file);
    serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (mean, min, max) of `values`, computed here rather than by the study.
pub fn mean_and_range(values: &[f64]) -> (f64, f64, f64) {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, lo, hi)
}

/// Checks that `said`, a (mean, min, max) triple of study.json, is that of `values`.
pub fn assert_mean_and_range(said: &serde_json::Value, values: &[f64], what: &str) {
    let said: Vec<f64> = said
        .as_array()
        .unwrap_or_else(|| panic!("{what}: {said} is no triple"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let (mean, lo, hi) = mean_and_range(values);
    assert!(
        said.len() == 3 && close(said[0], mean) && close(said[1], lo) && close(said[2], hi),
        "{what}: the study says {said:?}, its runs {values:?}"
    );
}

/// A study folder's study.json.
pub fn study_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("study.json")).unwrap()).unwrap()
}

/// Whether two numbers agree but for rounding.
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(1.0)
}

// Reading a chart's points, legend and axes back (study_cli, depth_width_cli, demo_optimizers,
// demo_chapter4).
