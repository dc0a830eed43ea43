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
