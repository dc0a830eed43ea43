//! Whole-command tests of `scratchnet study batch-size` and `study merge` on real MNIST.

use crate::common::*;

use scratchnet::experiment::batch_size::BatchRow;
use scratchnet::experiment::output::csv_header;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn study(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "--quiet",
        "study",
        "batch-size",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&args)
}

#[test]
fn a_small_study_writes_every_column_chart_and_a_report_that_matches_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = study(
        dir.path(),
        &[
            "--sizes",
            "10,100,1000",
            "--budget",
            "iters:300",
            "--target",
            "0.5",
        ],
    );
    assert!(
        stdout.contains("3 runs done now, 3 in the study"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(dir.path().join("study.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some(csv_header::<BatchRow>().as_str()));
    let rows = rows(dir.path());
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row.len(), 22, "{row:?}");
        assert_eq!(num(row, "updates"), 300.0, "iters:300 is 300 updates");
        assert_eq!(num(row, "samples_seen"), 300.0 * num(row, "batch_size"));
        // The peak holds at least MNIST's nonzero pixels (84 MB as f32 and their column numbers).
        assert!(num(row, "samples_per_s") > 0.0 && num(row, "peak_rss_mb") > 84.0);
        assert!(num(row, "wall_s") >= num(row, "train_s") + num(row, "eval_s") - 2e-3);
        assert!(num(row, "best_train_acc") >= num(row, "final_train_acc"));
        assert!(
            (num(row, "gap") - (num(row, "final_train_acc") - num(row, "final_test_acc"))).abs()
                < 2e-4
        );
    }
    check_study_charts(dir.path(), &rows);
    for run in ["batch-10-seed-0", "batch-100-seed-0", "batch-1000-seed-0"] {
        for file in [
            "config.json",
            "epochs.csv",
            "model.safetensors",
            "outcome.json",
            "report.html",
        ] {
            assert!(
                dir.path().join("runs").join(run).join(file).is_file(),
                "{run}/{file}"
            );
        }
    }
    let report = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert_eq!(report.matches("<svg").count(), 5);
    let best = rows
        .iter()
        .max_by(|a, b| num(a, "final_test_acc").total_cmp(&num(b, "final_test_acc")))
        .unwrap();
    let sentence = format!(
        "highest at batch {} ({:.4})",
        best["batch_size"],
        num(best, "final_test_acc")
    );
    assert!(
        report.contains(&sentence),
        "the report should say {sentence}"
    );
    let fastest = rows
        .iter()
        .max_by(|a, b| num(a, "samples_per_s").total_cmp(&num(b, "samples_per_s")))
        .unwrap();
    // The report rounds the exact figure; study.csv keeps one decimal, so the two
    // roundings may differ by one in the last place. The peak is named one of two ways.
    let (said_rate, said_batch) = if let Some(rest) = report.split("a peak of ").nth(1) {
        let (rate, rest) = rest.split_once(" samples/s at batch ").unwrap();
        (rate, rest.split('.').next().unwrap())
    } else {
        let rest = report
            .split("highest at the smallest batch tried, ")
            .nth(1)
            .unwrap_or_else(|| panic!("the report names the throughput peak:\n{report}"));
        let (batch, rest) = rest.split_once(" (").unwrap();
        (rest.split(' ').next().unwrap(), batch)
    };
    assert!(
        (said_rate.parse::<f64>().unwrap() - num(fastest, "samples_per_s")).abs() <= 1.0,
        "the report says a peak of {said_rate} samples/s, study.csv {}",
        num(fastest, "samples_per_s")
    );
    assert_eq!(said_batch, fastest["batch_size"], "the batch of the peak");
    // Times in study.csv keep four decimals: a tie there may be either way in the report.
    let reached: Vec<_> = rows
        .iter()
        .filter(|r| !r["time_to_target_s"].is_empty())
        .collect();
    let soonest = reached
        .iter()
        .map(|r| num(r, "time_to_target_s"))
        .reduce(f64::min);
    match soonest {
        Some(t) => assert!(reached
            .iter()
            .filter(|r| num(r, "time_to_target_s") <= t + 1e-4)
            .any(|r| report.contains(&format!(
                "Batch {} reached 0.50 test accuracy first",
                r["batch_size"]
            )))),
        None => assert!(report.contains("No batch size reached 0.50")),
    }
}

/// The batch-size study's five charts in `dir`, against its own numbers: each run's accuracy
/// curve (outcome.json, one seed per size) and study.csv's columns, point by point.
fn check_study_charts(dir: &Path, rows: &[BTreeMap<String, String>]) {
    let expected = |name: String, dashed: bool, values: Vec<(f64, f64)>| ExpectedSeries {
        name,
        dashed,
        values,
    };
    // Test accuracy against seconds of updates, and against epochs: one curve per size, from
    // the run's measurements (those at 0 s or 0 epochs have no place on a log axis).
    for (stem, x) in [
        ("accuracy_vs_time", "train_s"),
        ("accuracy_vs_epochs", "epochs"),
    ] {
        let series: Vec<ExpectedSeries> = rows
            .iter()
            .map(|row| {
                let run = format!("batch-{}-seed-0", row["batch_size"]);
                let curve = run_json(dir, &run, "outcome.json")["curve"].clone();
                let values: Vec<(f64, f64)> = curve
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (p[x].as_f64().unwrap(), p["test_acc"].as_f64().unwrap()))
                    .filter(|p| p.0 > 0.0)
                    .collect();
                assert!(values.len() > 5, "{run}: {curve}");
                expected(format!("batch {}", row["batch_size"]), false, values)
            })
            .collect();
        check_chart(dir, stem, series);
    }
    // One point per size from study.csv's columns.
    let column = |key: &str| -> Vec<(f64, f64)> {
        rows.iter()
            .map(|row| (num(row, "batch_size"), num(row, key)))
            .collect()
    };
    let charts = [
        (
            "throughput",
            vec![expected("samples/s".into(), false, column("samples_per_s"))],
        ),
        (
            "final_accuracy",
            vec![
                expected("test".into(), false, column("final_test_acc")),
                expected("train (subset)".into(), true, column("final_train_acc")),
            ],
        ),
        ("gap", vec![expected("gap".into(), false, column("gap"))]),
    ];
    for (stem, series) in charts {
        check_chart(dir, stem, series);
    }
}

/// `dir/stem.svg` and `.png`, a line chart over a log x axis, against `series`.
fn check_chart(dir: &Path, stem: &str, series: Vec<ExpectedSeries>) {
    assert_line_chart(
        &dir.join(format!("{stem}.svg")),
        &dir.join(format!("{stem}.png")),
        true,
        &series,
    );
}

#[test]
fn budgets_of_samples_and_of_time_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    study(
        dir.path(),
        &["--sizes", "7,1000", "--budget", "epochs:0.05"],
    );
    for row in rows(dir.path()) {
        let batch = num(&row, "batch_size");
        let updates = (0.05 * 60_000.0 / batch).ceil();
        assert_eq!(num(&row, "updates"), updates);
        assert_eq!(num(&row, "samples_seen"), updates * batch);
    }
    let dir = tempfile::tempdir().unwrap();
    study(dir.path(), &["--sizes", "100", "--budget", "time:0.3"]);
    let row = &rows(dir.path())[0];
    let (train_s, longest) = (num(row, "train_s"), num(row, "max_update_ms") / 1e3);
    assert!(
        train_s >= 0.3 && train_s <= 0.3 + longest + 1e-4,
        "{train_s} s with updates up to {longest} s"
    );
}

#[test]
fn a_killed_study_resumes_and_shards_merge_into_the_whole() {
    let root = tempfile::tempdir().unwrap();
    let args = ["--sizes", "10,100,1000", "--budget", "iters:400"];
    let whole = root.path().join("whole");
    study(&whole, &args);

    // Kill a study as soon as its first run is saved, then run it again.
    let killed = root.path().join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_scratchnet"))
        .args([
            "--quiet",
            "study",
            "batch-size",
            "--out",
            killed.to_str().unwrap(),
        ])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = killed.join("runs/batch-10-seed-0/outcome.json");
    let start = Instant::now();
    while !first.exists() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let saved = std::fs::read(&first).expect("the first run was saved before the kill");
    let stdout = study(&killed, &args);
    let ran: usize = stdout
        .split(" runs done now")
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        (1..3).contains(&ran),
        "only the missing runs are done: {stdout}"
    );
    assert!(stdout.contains("3 in the study"), "{stdout}");
    assert_eq!(
        std::fs::read(&first).unwrap(),
        saved,
        "a finished run is not redone"
    );

    let parts: Vec<_> = (1..=2)
        .map(|i| {
            let dir = root.path().join(format!("shard{i}"));
            study(&dir, &[&args[..], &["--shard", &format!("{i}/2")]].concat());
            dir
        })
        .collect();
    assert_eq!(rows(&parts[0]).len(), 2);
    assert_eq!(rows(&parts[1]).len(), 1);
    let merged = root.path().join("merged");
    ok(&[
        "study",
        "merge",
        parts[0].to_str().unwrap(),
        parts[1].to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    // The same runs, learning the same: accuracies, losses and weights.
    for dir in [&merged, &killed] {
        assert_eq!(measured_results(dir), measured_results(&whole));
        assert_same_run_files(dir, &whole, &["model.safetensors", "iters.csv"]);
    }
    for dir in [&merged, &killed] {
        assert_eq!(
            std::fs::read(dir.join("plan.json")).unwrap(),
            std::fs::read(whole.join("plan.json")).unwrap()
        );
    }
}

#[test]
fn several_seeds_are_summarised_from_the_runs_and_linear_scaling_sets_each_learning_rate() {
    let dir = tempfile::tempdir().unwrap();
    study(
        dir.path(),
        &[
            "--sizes",
            "10,1000",
            "--seeds",
            "2",
            "--lr-scaling",
            "linear",
            "--budget",
            "iters:40",
            "--train-eval-rows",
            "1000",
        ],
    );
    assert_eq!(rows(dir.path()).len(), 4);
    let summaries = study_json(dir.path())["sizes"].clone();
    let report = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    for (k, batch) in [10, 1000].into_iter().enumerate() {
        let ids = [0, 1].map(|seed| format!("batch-{batch}-seed-{seed}"));
        // Linear scaling: the learning rate given for batch 100 (sgd's 0.1) times batch / 100.
        for (seed, id) in ids.iter().enumerate() {
            let config = run_json(dir.path(), id, "config.json");
            let lr = config["learning_rate"].as_f64().unwrap();
            assert!(close(lr, 0.1 * batch as f64 / 100.0), "{id}: lr {lr}");
            assert_eq!(
                (config["batch_size"].as_u64(), config["seed"].as_u64()),
                (Some(batch), Some(seed as u64))
            );
        }
        let model = |id: &String| {
            std::fs::read(dir.path().join("runs").join(id).join("model.safetensors")).unwrap()
        };
        assert_ne!(
            model(&ids[0]),
            model(&ids[1]),
            "two seeds, two different runs"
        );
        // The size's summary is the mean and range of what its two runs wrote.
        let outcomes = ids
            .clone()
            .map(|id| run_json(dir.path(), &id, "outcome.json"));
        let values = |key: &str| outcomes.clone().map(|o| o[key].as_f64().unwrap());
        let of = |key: &str| mean_and_range(&values(key));
        let summary = &summaries[k];
        assert_eq!(summary["batch_size"], batch);
        assert_eq!(
            (summary["runs"].as_u64(), summary["diverged"].as_u64()),
            (Some(2), Some(0))
        );
        for key in ["final_test_acc", "gap", "samples_per_s"] {
            assert_mean_and_range(&summary[key], &values(key), &format!("batch {batch} {key}"));
        }
        for key in ["final_train_acc", "best_test_acc", "updates", "train_s"] {
            let said = summary[key].as_f64().unwrap();
            assert!(
                close(said, of(key).0),
                "batch {batch} {key}: {said} against {:?}",
                values(key)
            );
        }
        // The report's table: the mean, then the range across the seeds.
        let (mean, lo, hi) = of("final_test_acc");
        let cell = format!("{mean:.4} ({lo:.4}\u{a0}to\u{a0}{hi:.4})");
        assert!(
            report.contains(&cell),
            "batch {batch}: the report should show {cell}"
        );
        let (mean, lo, hi) = of("gap");
        let cell = format!("{mean:+.4} ({lo:+.4}\u{a0}to\u{a0}{hi:+.4})");
        assert!(
            report.contains(&cell),
            "batch {batch}: the report should show {cell}"
        );
    }

    // Square-root scaling from another learning rate: lr · sqrt(batch / 100).
    let dir = tempfile::tempdir().unwrap();
    study(
        dir.path(),
        &[
            "--sizes",
            "25,400",
            "--lr",
            "0.05",
            "--lr-scaling",
            "sqrt",
            "--budget",
            "iters:5",
        ],
    );
    for (batch, lr) in [(25, 0.025), (400, 0.1)] {
        let id = format!("batch-{batch}-seed-0");
        let said = run_json(dir.path(), &id, "config.json")["learning_rate"]
            .as_f64()
            .unwrap();
        assert!(close(said, lr), "{id}: lr {said}, not {lr}");
    }
}

#[test]
fn bad_study_settings_are_refused_with_the_value_named() {
    for (args, expected) in [
        (vec!["--sizes", "10,x"], "x"),
        (vec!["--sizes", "0,10"], "batch sizes"),
        (
            vec!["--sizes", "100,10,100"],
            "invalid batch sizes [100, 10, 100]",
        ),
        (vec!["--target", "-1"], "invalid target accuracy -1"),
        (vec!["--budget", "weeks:3"], "weeks:3"),
        (vec!["--shard", "3/2"], "3/2"),
        (vec!["--seeds", "0"], "seeds 0"),
    ] {
        let mut all = vec!["study", "batch-size", "--out", "/nonexistent/never"];
        all.extend_from_slice(&args);
        let out = scratchnet(&all);
        assert!(!out.status.success(), "{args:?} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let dir = tempfile::tempdir().unwrap();
    study(dir.path(), &["--sizes", "100", "--budget", "iters:5"]);
    let out = scratchnet(&[
        "study",
        "batch-size",
        "--out",
        dir.path().to_str().unwrap(),
        "--sizes",
        "200",
        "--budget",
        "iters:5",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("plan.json"));
}

#[test]
fn merge_says_what_a_study_folder_is_and_refuses_two_kinds_of_study() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("merged");
    let merge = |dirs: &[&Path]| -> String {
        let mut args = vec!["study", "merge"];
        args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
        args.extend(["--out", out.to_str().unwrap()]);
        let result = scratchnet(&args);
        assert_eq!(result.status.code(), Some(1), "{args:?}");
        String::from_utf8_lossy(&result.stderr).into_owned()
    };

    let missing = root.path().join("missing");
    let stderr = merge(&[&missing]);
    assert!(
        stderr.contains(&format!("{}: no such folder", missing.display()))
            && stderr.contains(
                "a study folder is the --out folder of a `cargo run --release -- study` command"
            )
            && stderr.contains("plan.json")
            && !stderr.contains("os error"),
        "{stderr}"
    );
    let stderr = merge(&[root.path()]);
    assert!(
        stderr.contains("not a study folder (it holds no plan.json)")
            && stderr.contains("a study folder is the --out folder"),
        "{stderr}"
    );

    let batch = root.path().join("batch");
    study(&batch, &["--sizes", "100", "--budget", "iters:5"]);
    let grid = root.path().join("grid");
    ok(&[
        "--quiet",
        "study",
        "depth-width",
        "--datasets",
        "mnist",
        "--depths",
        "1",
        "--widths",
        "16",
        "--no-diagnosis",
        "--budget",
        "iters:5",
        "--out",
        grid.to_str().unwrap(),
    ]);
    let stderr = merge(&[&batch, &grid]);
    assert!(
        stderr.contains(&format!(
            "{}: holds a depth-width study, which cannot be merged with a batch-size study ({})",
            grid.display(),
            batch.display()
        )) && stderr.contains("only folders of the same study"),
        "{stderr}"
    );
    let stderr = merge(&[&grid, &batch]);
    assert!(
        stderr
            .contains("holds a batch-size study, which cannot be merged with a depth-width study"),
        "{stderr}"
    );
    assert!(!out.exists(), "a refused merge writes nothing");
}
