//! What the whole-command tests share: running the binary and reading what it wrote.
#![allow(dead_code)] // each test file uses its own part of these helpers

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

/// Runs the scratchnet binary with `args`.
pub fn scratchnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scratchnet"))
        .args(args)
        .output()
        .expect("the scratchnet binary runs")
}

/// Runs scratchnet, checks that it succeeded, and returns its standard output.
pub fn ok(args: &[&str]) -> String {
    let out = scratchnet(args);
    assert!(
        out.status.success(),
        "scratchnet {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
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

// Comparing studies that should have ended the same (interrupt_cli, study_cli).

/// The columns of a study.csv that measure time or memory: they differ between two runs of
/// the same study, whatever else is equal.
pub const TIMING_COLUMNS: [&str; 10] = [
    "train_s",
    "eval_s",
    "wall_s",
    "median_update_ms",
    "max_update_ms",
    "samples_per_s",
    "updates_per_s",
    "time_to_target_s",
    "peak_rss_mb",
    "run_extra_mb",
];

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
