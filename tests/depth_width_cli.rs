//! Whole-command tests of `scratchnet study depth-width` (and `study merge` on its folders) on
//! real MNIST.

use crate::common::*;

use std::collections::BTreeMap;
use std::path::Path;

fn study(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "study",
        "depth-width",
        "--datasets",
        "mnist",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&args)
}

/// Parameters of 784 → depth × width → 10.
fn params(depth: usize, width: usize) -> usize {
    785 * width + (depth - 1) * (width + 1) * width + (width + 1) * 10
}

#[test]
fn a_small_grid_writes_every_output_with_consistent_numbers() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("grid");
    let stdout = study(
        &dir,
        &[
            "--depths",
            "1,2",
            "--widths",
            "16,50",
            "--budget",
            "iters:150",
        ],
    );
    // 4 grid runs, and 4 diagnostic runs of 5×100 (not a shape of this grid).
    assert!(
        stdout.contains("8 runs done now, 8 in the study"),
        "{stdout}"
    );
    for file in ["study.json", "plan.json", "report.html"] {
        assert!(dir.join(file).exists(), "{file}");
    }
    let all = rows(&dir);
    assert_eq!(all.len(), 8, "4 grid runs + 4 diagnostic");
    check_grid_charts(&dir, &all);
    for column in [
        "dataset",
        "depth",
        "width",
        "activation",
        "weight_init",
        "optimizer",
        "params",
        "macs_per_sample",
        "train_s",
        "final_train_acc",
        "final_test_acc",
        "best_test_acc",
        "gap",
        "grad_mean_abs_init",
        "grad_mean_abs_epoch1",
    ] {
        assert!(all[0].contains_key(column), "{column}");
    }
    for row in &all {
        let (d, w) = (num(row, "depth") as usize, num(row, "width") as usize);
        assert_eq!(num(row, "params") as usize, params(d, w), "{row:?}");
        let macs = 784 * w + (d - 1) * w * w + w * 10;
        assert_eq!(num(row, "macs_per_sample") as usize, macs);
        let gap = num(row, "final_train_acc") - num(row, "final_test_acc");
        assert!((gap - num(row, "gap")).abs() < 2e-4, "{row:?}");
        assert!(num(row, "best_test_acc") >= num(row, "final_test_acc") - 1e-9);
        assert_eq!(row["grad_mean_abs_init"].split(';').count(), d + 1);
        assert_eq!(num(row, "updates"), 150.0);
        // 150 updates of 100 images are a quarter epoch: the later probe is at the end.
        assert_eq!(row["grad_mean_abs_epoch1"].split(';').count(), d + 1);
        assert_eq!(row["probe_epochs"], "0.250");
        let run = format!(
            "mnist-d{d}-w{w}-{}-{}-{}{}-seed0",
            row["activation"],
            row["weight_init"].replace(':', ""),
            row["optimizer"],
            row["learning_rate"]
        );
        assert!(
            dir.join("runs").join(&run).join("outcome.json").exists(),
            "{run}"
        );
        assert!(
            dir.join("runs").join(&run).join("epochs.csv").exists(),
            "{run}"
        );
    }
    // The report's sentences carry the table's numbers.
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let grid: Vec<_> = all
        .iter()
        .filter(|r| r["optimizer"] == "adam" && r["depth"] != "5")
        .collect();
    let best = grid
        .iter()
        .max_by(|a, b| num(a, "final_test_acc").total_cmp(&num(b, "final_test_acc")))
        .unwrap();
    let sentence = format!(
        "the best shape is {}×{} (depth × width; {} parameters) at {}",
        best["depth"], best["width"], best["params"], best["final_test_acc"]
    );
    assert!(report.contains(&sentence), "{sentence}");
    let sigmoid = all.iter().find(|r| r["weight_init"] == "std:0.01").unwrap();
    let sentence = format!(
        "the 5×100 network with sigmoid, std 0.01, SGD lr 0.01 ends at {} test accuracy",
        sigmoid["final_test_acc"]
    );
    assert!(report.contains(&sentence), "{sentence}");
    let g1: f64 = sigmoid["grad_mean_abs_init"]
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        report.contains(&format!("its mean |dW1| is {g1:.2e}")),
        "{g1}"
    );
    assert!(report.contains("Depth on mnist") && report.contains("Width on mnist"));
}

/// The 2×2 grid's charts in `dir` against its study.csv (`all`: the grid's 4 rows, then the
/// 4 diagnostic runs of 5×100): the heatmap's cells, accuracy against parameters, and the
/// diagnostic runs' gradients per layer.
fn check_grid_charts(dir: &Path, all: &[BTreeMap<String, String>]) {
    let file = |stem: &str, ext: &str| dir.join(format!("{stem}_mnist.{ext}"));
    let (grid, diagnostic) = all.split_at(4);
    let accuracy = |depth: &str, width: &str| {
        let row = grid
            .iter()
            .find(|r| r["depth"] == depth && r["width"] == width)
            .unwrap();
        Some(num(row, "final_test_acc"))
    };
    // Deepest row on top, widths left to right; (170 + 110·2).max(500) + 100 × (150 + 70·2).
    assert_heatmap(
        &file("heatmap", "svg"),
        &file("heatmap", "png"),
        (600, 290),
        &["16", "50"],
        &["2", "1"],
        &[
            vec![accuracy("2", "16"), accuracy("2", "50")],
            vec![accuracy("1", "16"), accuracy("1", "50")],
        ],
        4,
    );
    // One line per depth, widths growing with the parameters; the shallowest dashed.
    let by_depth = |depth: &str, name: &str| ExpectedSeries {
        name: name.into(),
        dashed: depth == "1",
        values: grid
            .iter()
            .filter(|r| r["depth"] == depth)
            .map(|r| (num(r, "params"), num(r, "final_test_acc")))
            .collect(),
    };
    assert_line_chart(
        &file("accuracy_vs_params", "svg"),
        &file("accuracy_vs_params", "png"),
        true,
        &[
            by_depth("1", "1 hidden layer"),
            by_depth("2", "2 hidden layers"),
        ],
    );
    // log10 of each layer's mean |dW|, one line per diagnostic setting, sigmoid dashed.
    let activations = svg_texts(&std::fs::read_to_string(file("activations", "svg")).unwrap());
    for column in ["grad_mean_abs_init", "grad_mean_abs_epoch1"] {
        let mut series: Vec<ExpectedSeries> = diagnostic
            .iter()
            .map(|r| {
                let optimizer = match r["optimizer"].as_str() {
                    "sgd" => "SGD",
                    other => {
                        assert_eq!(other, "adam");
                        "Adam"
                    }
                };
                let name = format!(
                    "{}, {}, {optimizer} lr {}",
                    r["activation"],
                    r["weight_init"].replace(':', " "),
                    r["learning_rate"]
                );
                // The activation histograms have a row per setting and probe.
                let when = if column.ends_with("init") {
                    "at initialisation".to_string()
                } else {
                    format!("after {} epochs", &r["probe_epochs"][..4])
                };
                let row = format!("{name} — {when}");
                assert!(activations.contains(&row), "{row} not in {activations:?}");
                ExpectedSeries {
                    dashed: r["activation"] == "sigmoid",
                    values: r[column]
                        .split(';')
                        .enumerate()
                        .map(|(l, g)| ((l + 1) as f64, g.parse::<f64>().unwrap().log10()))
                        .collect(),
                    name,
                }
            })
            .collect();
        // A line hidden under a later, equal one says so in the legend.
        name_coinciding(&mut series);
        let stem = if column.ends_with("init") {
            "gradients_init"
        } else {
            "gradients_epoch1"
        };
        let text = assert_line_chart(&file(stem, "svg"), &file(stem, "png"), false, &series);
        let all_points: Vec<(f64, f64)> = legend(&text)
            .iter()
            .flat_map(|(_, colour)| circles(&text, colour))
            .collect();
        let all_values: Vec<(f64, f64)> = series.iter().flat_map(|s| s.values.clone()).collect();
        assert_on_axis(&text, 0, &all_points, &all_values);
    }
}

#[test]
fn equal_parameter_shapes_shard_resume_and_merge() {
    let root = tempfile::tempdir().unwrap();
    let args = [
        "--depths",
        "1,2,4",
        "--equal-params",
        "30000",
        "--budget",
        "iters:30",
        "--no-diagnosis",
    ];
    let whole = root.path().join("whole");
    study(&whole, &args);
    let all = rows(&whole);
    assert_eq!(all.len(), 3);
    for row in &all {
        let p = num(row, "params");
        assert!((p - 30_000.0).abs() / 30_000.0 < 0.03, "{row:?}");
    }
    let mut parts = Vec::new();
    for shard in ["1/2", "2/2"] {
        let dir = root.path().join(shard.replace('/', "of"));
        let mut with_shard = args.to_vec();
        with_shard.extend(["--shard", shard]);
        let out = study(&dir, &with_shard);
        let ran = if shard == "1/2" { 2 } else { 1 };
        assert!(out.contains(&format!("{ran} runs done now")), "{out}");
        // Rerunning resumes: nothing left to do.
        assert!(study(&dir, &with_shard).contains("0 runs done now"));
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
    assert!(out.contains("3 of the study's 3 runs"), "{out}");
    let key = |r: &BTreeMap<String, String>| {
        (
            r["depth"].clone(),
            r["width"].clone(),
            r["final_test_acc"].clone(),
        )
    };
    let mut a: Vec<_> = rows(&merged).iter().map(key).collect();
    let mut b: Vec<_> = all.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "same seed, same shapes: the same accuracies");
    assert!(merged.join("report.html").exists());
}

#[test]
fn bad_grid_settings_are_refused_with_the_value_named() {
    for (args, expected) in [
        (
            vec!["--equal-params", "10"],
            "invalid equal-params 10 (at depth 1 the nearest width, 1, gives 805 parameters)",
        ),
        (
            vec!["--equal-params", "100000", "--widths", "50"],
            "'--equal-params <N>' cannot be used with '--widths <WIDTHS>'",
        ),
        (vec!["--depths", "0,1"], "invalid depths [0, 1]"),
        (vec!["--lr", "-1"], "invalid learning rate -1"),
    ] {
        let mut all = vec!["study", "depth-width", "--out", "/nonexistent/never"];
        all.extend(args);
        let out = scratchnet(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(expected),
            "{all:?}: {stderr}"
        );
    }
}

#[test]
fn several_seeds_are_summarised_from_the_runs() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("grid");
    let widths = [8, 16, 32];
    study(
        &dir,
        &[
            "--depths",
            "1",
            "--widths",
            "8,16,32",
            "--seeds",
            "2",
            "--no-diagnosis",
            "--budget",
            "iters:40",
            "--train-eval-rows",
            "1000",
        ],
    );
    assert_eq!(rows(&dir).len(), 6);
    let shapes = study_json(&dir)["shapes"].clone();
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let mut ranges = Vec::new();
    let mut means = Vec::new();
    for (k, width) in widths.into_iter().enumerate() {
        let ids = [0, 1].map(|seed| format!("mnist-d1-w{width}-relu-he-adam0.001-seed{seed}"));
        let model = |id: &String| {
            std::fs::read(dir.join("runs").join(id).join("model.safetensors")).unwrap()
        };
        assert_ne!(
            model(&ids[0]),
            model(&ids[1]),
            "two seeds, two different runs"
        );
        let outcomes = ids.clone().map(|id| run_json(&dir, &id, "outcome.json"));
        let values = |key: &str| outcomes.clone().map(|o| o[key].as_f64().unwrap());
        let shape = &shapes[k];
        assert_eq!(
            (
                shape["width"].as_u64(),
                shape["runs"].as_u64(),
                shape["diverged"].as_u64()
            ),
            (Some(width), Some(2), Some(0))
        );
        for key in ["final_test_acc", "gap"] {
            assert_mean_and_range(&shape[key], &values(key), &format!("width {width} {key}"));
        }
        for key in ["final_train_acc", "best_test_acc", "train_s"] {
            let (said, mean) = (shape[key].as_f64().unwrap(), mean_and_range(&values(key)).0);
            assert!(
                close(said, mean),
                "width {width} {key}: {said} against {:?}",
                values(key)
            );
        }
        let (mean, lo, hi) = mean_and_range(&values("final_test_acc"));
        ranges.push(hi - lo);
        means.push((mean, width));
    }
    // The report's sentences use the means, and the spread across seeds.
    ranges.sort_by(f64::total_cmp);
    let sentence = format!(
        "final test accuracy varies by {:.4} (median over shapes) and at most {:.4}",
        ranges[1], ranges[2]
    );
    assert!(
        report.contains(&sentence),
        "the report should say {sentence}"
    );
    let (best, width) = means
        .into_iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap();
    let sentence = format!(
        "On mnist, the best shape is 1×{width} (depth × width; {} parameters) at {best:.4}",
        params(1, width as usize)
    );
    assert!(
        report.contains(&sentence),
        "the report should say {sentence}"
    );
}

#[test]
fn by_default_both_datasets_are_studied_each_with_its_runs_and_findings() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("grid");
    let stdout = ok(&[
        "study",
        "depth-width",
        "--out",
        dir.to_str().unwrap(),
        "--depths",
        "1",
        "--widths",
        "16",
        "--no-diagnosis",
        "--budget",
        "iters:300",
        "--train-eval-rows",
        "1000",
    ]);
    assert!(
        stdout.contains("2 runs done now, 2 in the study"),
        "{stdout}"
    );
    let all = rows(&dir);
    let datasets: Vec<&str> = all.iter().map(|r| r["dataset"].as_str()).collect();
    assert_eq!(datasets, ["mnist", "fashion-mnist"]);
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for row in &all {
        let dataset = &row["dataset"];
        let id = format!("{dataset}-d1-w16-relu-he-adam0.001-seed0");
        assert_eq!(
            run_json(&dir, &id, "config.json")["dataset"],
            dataset.as_str()
        );
        // One shape per dataset: it is the best, and the finding gives its accuracy.
        let finding = format!(
            "On {dataset}, the best shape is 1×16 (depth × width; {} parameters) at {}",
            params(1, 16),
            row["final_test_acc"]
        );
        assert!(
            report.contains(&finding) && stdout.contains(&finding),
            "{finding}"
        );
        // One shape: one dark cell labelled with its accuracy, and one point.
        let stem = |name: &str, ext: &str| dir.join(format!("{name}_{dataset}.{ext}"));
        assert_heatmap(
            &stem("heatmap", "svg"),
            &stem("heatmap", "png"),
            (600, 220),
            &["16"],
            &["1"],
            &[vec![Some(num(row, "final_test_acc"))]],
            4,
        );
        let chart = svg(&stem("accuracy_vs_params", "svg"), (800, 500));
        let entries = legend(&chart);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, "1 hidden layer");
        assert_eq!(circles(&chart, &entries[0].1).len(), 1);
    }
    // 300 updates learn both, and clothes are harder to tell apart than digits.
    let (mnist, fashion) = (
        num(&all[0], "final_test_acc"),
        num(&all[1], "final_test_acc"),
    );
    assert!(
        fashion > 0.6 && mnist > fashion + 0.05,
        "mnist {mnist}, fashion-mnist {fashion}"
    );
}
