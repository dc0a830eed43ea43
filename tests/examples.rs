//! The two examples run and say what they should: `chapter4` (the core library alone) prints
//! the users' run's accuracies, epoch for epoch those of `scratchnet train`; `study` (the lab's
//! API) prints each finding of its study as a value and as the sentence its report holds.

use crate::common;

use scratchnet::data::{fetch, DatasetKind, FetchOptions};
use scratchnet::progress::Silent;
use std::path::PathBuf;
use std::process::Command;

/// An example's binary, built by `cargo test` beside the test binaries.
fn example(name: &str) -> Command {
    let test = std::env::current_exe().expect("the test binary's path");
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let path: PathBuf = profile.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: `cargo test --release` builds the examples (or run \
         `cargo build --release --workspace --examples`)",
        path.display()
    );
    Command::new(path)
}

fn stdout(mut command: Command) -> String {
    let out = command.output().expect("the example runs");
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn chapter4_prints_the_users_runs_accuracies_epoch_by_epoch() {
    let mnist = fetch::ensure(DatasetKind::Mnist, &FetchOptions::default(), &Silent)
        .unwrap_or_else(|e| panic!("fetching MNIST failed:\n{e}"));
    let mut run = example("chapter4");
    run.arg(&mnist);
    let printed = stdout(run);
    let epochs: Vec<String> = printed
        .lines()
        .filter_map(|l| l.strip_prefix("train acc, test acc | "))
        .map(str::to_string)
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    common::ok(&["train", "--quiet", "--out", out.to_str().unwrap()]);
    let csv = std::fs::read_to_string(out.join("epochs.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (train, test) = (col("train_acc"), col("test_acc"));
    let expected: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<f64> = l.split(',').map(|c| c.parse().unwrap()).collect();
            format!("{:.4}, {:.4}", cells[train], cells[test])
        })
        .collect();
    assert_eq!(epochs.len(), 17, "{printed}");
    assert_eq!(epochs, expected);
    assert!(
        printed.contains("final: train acc 0.9471, test acc 0.9460"),
        "{printed}"
    );
}

#[test]
fn study_prints_each_finding_as_a_value_and_as_its_reports_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("study");
    let mut run = example("study");
    run.arg(&out);
    let printed = stdout(run);
    let lines: Vec<&str> = printed.lines().collect();
    assert!(
        lines.len() >= 6 && lines.len().is_multiple_of(2),
        "{printed}"
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    for pair in lines.chunks(2) {
        let (value, sentence) = (
            pair[0],
            pair[1].strip_prefix("  ").expect("an indented sentence"),
        );
        assert!(
            value.chars().next().unwrap().is_ascii_uppercase(),
            "{value}"
        );
        assert!(
            report.contains(&scratchnet::report::escape(sentence)),
            "the report lacks: {sentence}"
        );
    }
    for variant in ["Target {", "Throughput {", "Accuracy {", "Gap {"] {
        assert!(
            lines.iter().any(|l| l.starts_with(variant)),
            "no {variant} in {printed}"
        );
    }
    let csv = std::fs::read_to_string(out.join("study.csv")).unwrap();
    let sizes: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(sizes, ["10", "100", "1000"]);
}
