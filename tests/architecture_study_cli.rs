//! Whole-command tests of `scratchnet study architecture` (and `study merge` on its shards) on
//! real MNIST, with a tiny conv net and a tiny budget.

use crate::common::*;

use scratchnet::report::escape;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A tiny conv net: 2 filters of 5×5 (24×24 outputs), pooled to 2×12×12, an affine layer of 8.
const CONV: &str = "conv:2x5,pool:2,fc:8";
/// Its parameters: 2·25 + 2, then 288·8 + 8 and 8·10 + 10.
const CONV_PARAMS: usize = 52 + 2312 + 90;
/// Its multiply-adds per sample: 576·2·25, then 288·8 and 8·10.
const CONV_MACS: usize = 28_800 + 2304 + 80;

fn study(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "study",
        "architecture",
        "--datasets",
        "mnist",
        "--conv",
        CONV,
        "--seeds",
        "2",
        "--budget",
        "iters:40",
        "--train-eval-rows",
        "500",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&args)
}

/// study.csv read with a CSV reader (the conv spec holds commas, so it is quoted).
fn csv_rows(dir: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join("study.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The MLP of one hidden layer: (parameters, multiply-adds) of 784-w-10.
fn mlp(width: usize) -> (usize, usize) {
    (795 * width + 10, 794 * width)
}

#[test]
fn a_tiny_study_writes_every_output_and_summarises_its_runs() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("study");
    let stdout = study(&dir, &[]);
    assert!(
        stdout.contains("6 runs done now, 6 in the study"),
        "{stdout}"
    );
    let rows = csv_rows(&dir);
    assert_eq!(rows.len(), 6);
    // The MLP widths nearest the conv net's parameters (3 → 2395) and multiply-adds (39 → 30,966).
    let widths = [("mlp-params", 3), ("mlp-macs", 39)];
    for row in &rows {
        assert_eq!(row["conv"], CONV);
        let (params, macs) = match row["role"].as_str() {
            "conv" => {
                assert_eq!(row["net"], CONV);
                (CONV_PARAMS, CONV_MACS)
            }
            role => {
                let width = widths.iter().find(|w| w.0 == role).unwrap().1;
                assert_eq!(row["net"], format!("784-{width}-10"));
                mlp(width)
            }
        };
        assert_eq!(num(row, "params") as usize, params, "{row:?}");
        assert_eq!(num(row, "macs_per_sample") as usize, macs, "{row:?}");
        assert_eq!(num(row, "updates"), 40.0);
        assert_eq!(num(row, "samples_seen"), 4000.0);
        let error = 1.0 - num(row, "final_test_acc");
        assert!((error - num(row, "test_error")).abs() < 2e-4, "{row:?}");
        // The CSV rounds train_s to 1e-4 s (±12.5 ns over 4000 samples) and
        // us_per_sample to 1e-3 µs: the two agree within those roundings.
        let us = 1e6 * num(row, "train_s") / 4000.0;
        let rounding = 1e6 * 0.5e-4 / 4000.0 + 0.5e-3;
        assert!(
            (us - num(row, "us_per_sample")).abs() <= rounding + 1e-9,
            "{row:?}"
        );
        let id = format!(
            "mnist-conv2x5-pool2-fc8-{}-seed{}",
            row["role"], row["seed"]
        );
        assert!(
            dir.join("runs").join(&id).join("outcome.json").exists(),
            "{id}"
        );
    }
    let json = study_json(&dir);
    let nets = json["nets"].as_array().unwrap();
    assert_eq!(nets.len(), 3);
    let mut errors = BTreeMap::new();
    for net in nets {
        let role = net["role"].as_str().unwrap();
        let outcomes: Vec<Value> = (0..2)
            .map(|seed| {
                run_json(
                    &dir,
                    &format!("mnist-conv2x5-pool2-fc8-{role}-seed{seed}"),
                    "outcome.json",
                )
            })
            .collect();
        let acc: Vec<f64> = outcomes
            .iter()
            .map(|o| o["final_test_acc"].as_f64().unwrap())
            .collect();
        let error: Vec<f64> = acc.iter().map(|a| 1.0 - a).collect();
        let stat = |s: &Value| {
            [
                s["mean"].as_f64().unwrap(),
                s["min"].as_f64().unwrap(),
                s["max"].as_f64().unwrap(),
            ]
        };
        let (mean, lo, hi) = mean_and_range(&error);
        let said = stat(&net["test_error"]);
        assert!(
            close(said[0], mean) && close(said[1], lo) && close(said[2], hi),
            "{role}: {said:?} {error:?}"
        );
        // Two values: the sample standard deviation is |a − b| / √2.
        let sd = (error[0] - error[1]).abs() / 2f64.sqrt();
        assert!(
            (net["test_error"]["sd"].as_f64().unwrap() - sd).abs() < 1e-12,
            "{role}"
        );
        assert_eq!(net["runs"].as_u64(), Some(2));
        errors.insert(role.to_string(), mean);
    }
    // The answer's numbers are those of the runs.
    let answer = &json["findings"][0]["Answer"];
    for (key, role) in [("params", "mlp-params"), ("macs", "mlp-macs")] {
        let cut = errors[role] - errors["conv"];
        let said = answer[key]["mean_cut"].as_f64().unwrap();
        assert!((said - cut).abs() < 1e-12, "{key}: {said} against {cut}");
    }
    // Every finding's sentence is in the report and on the console.
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let sentences = json["sentences"].as_array().unwrap();
    assert!(sentences.len() >= 4, "{sentences:?}");
    for sentence in sentences {
        let sentence = sentence.as_str().unwrap();
        assert!(report.contains(&escape(sentence)), "{sentence}");
        assert!(stdout.contains(sentence), "{sentence}");
    }
    let first = sentences[0].as_str().unwrap();
    assert!(
        first.starts_with("On mnist, convolution's weight sharing"),
        "{first}"
    );
    let group = sentences
        .iter()
        .map(|s| s.as_str().unwrap())
        .find(|s| s.contains("multiply-adds per sample) ends at"))
        .unwrap();
    let conv_error = format!("ends at {:.2}%", 100.0 * errors["conv"]);
    assert!(group.contains(&conv_error), "{group}: {conv_error}");
    for stem in [
        "error_vs_params",
        "error_vs_cost",
        "curves_samples",
        "curves_time",
    ] {
        for ext in ["svg", "png"] {
            assert!(
                dir.join(format!("{stem}_mnist.{ext}")).exists(),
                "{stem}.{ext}"
            );
        }
    }
}

#[test]
fn shards_resume_and_merge_into_the_whole_study() {
    let root = tempfile::tempdir().unwrap();
    let whole = root.path().join("whole");
    study(&whole, &["--quiet"]);
    let mut parts = Vec::new();
    for shard in ["1/2", "2/2"] {
        let dir = root.path().join(shard.replace('/', "of"));
        let out = study(&dir, &["--shard", shard]);
        assert!(out.contains("3 runs done now"), "{out}");
        assert!(study(&dir, &["--shard", shard]).contains("0 runs done now"));
        parts.push(dir);
    }
    let merged = root.path().join("merged");
    let out = ok(&[
        "study",
        "merge",
        parts[0].to_str().unwrap(),
        parts[1].to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(out.contains("6 of the study's 6 runs"), "{out}");
    let key = |r: &BTreeMap<String, String>| {
        (
            r["role"].clone(),
            r["seed"].clone(),
            r["final_test_acc"].clone(),
        )
    };
    let mut a: Vec<_> = csv_rows(&merged).iter().map(key).collect();
    let mut b: Vec<_> = csv_rows(&whole).iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "same seeds, same networks: the same accuracies");
    assert!(merged.join("report.html").exists());
}

#[test]
fn a_bad_conv_net_is_refused_with_the_value_named() {
    fails_naming(
        &[
            "study",
            "architecture",
            "--conv",
            "conv:8x50",
            "--out",
            "/nonexistent/never",
        ],
        "conv:8x50",
    );
}
