//! Whole-command tests of `scratchnet train`, `gradcheck` and `eval` on real MNIST.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

fn train(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["--quiet", "train", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    ok(&args)
}

/// (train_acc, test_acc) of every row of epochs.csv.
fn accuracies(dir: &Path) -> Vec<(f64, f64)> {
    let csv = std::fs::read_to_string(dir.join("epochs.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("epoch,iteration,samples_seen,train_acc,test_acc,elapsed_s,train_s")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[3].parse().unwrap(), f[4].parse().unwrap())
        })
        .collect()
}

#[test]
fn the_users_run_reaches_the_books_accuracy_for_two_seeds() {
    for seed in ["1", "2"] {
        let dir = tempfile::tempdir().unwrap();
        let stdout = train(dir.path(), &["--seed", seed]);
        let acc = accuracies(dir.path());
        assert_eq!(
            acc.len(),
            17,
            "10000 iterations of 600 per epoch give 17 marks"
        );
        let (first_train, first_test) = acc[0];
        assert!(
            first_train < 0.2 && first_test < 0.2,
            "epoch 0 is near chance: {:?}",
            acc[0]
        );
        let (train_acc, test_acc) = *acc.last().unwrap();
        assert!(
            (0.93..=0.96).contains(&test_acc),
            "seed {seed}: test acc {test_acc}"
        );
        assert!(
            (train_acc - test_acc).abs() <= 0.01,
            "seed {seed}: {train_acc} vs {test_acc}"
        );
        assert!(stdout.contains("final weights: train acc"), "{stdout}");
        for file in [
            "config.json",
            "iters.csv",
            "model.safetensors",
            "loss.svg",
            "loss.png",
            "accuracy.svg",
            "accuracy.png",
            "report.html",
        ] {
            assert!(dir.path().join(file).is_file(), "{file} missing");
        }
        let iters = std::fs::read_to_string(dir.path().join("iters.csv")).unwrap();
        assert_eq!(iters.lines().count(), 10_001);
    }
}

#[test]
fn the_same_seed_gives_identical_metrics_and_weights_whatever_the_threads() {
    let runs: Vec<tempfile::TempDir> = ["1", "2", "2"]
        .iter()
        .map(|threads| {
            let dir = tempfile::tempdir().unwrap();
            train(
                dir.path(),
                &["--seed", "7", "--iters", "1300", "--threads", threads],
            );
            dir
        })
        .collect();
    let weights =
        |d: &tempfile::TempDir| std::fs::read(d.path().join("model.safetensors")).unwrap();
    let iters =
        |d: &tempfile::TempDir| std::fs::read_to_string(d.path().join("iters.csv")).unwrap();
    assert_eq!(accuracies(runs[0].path()).len(), 3);
    for other in &runs[1..] {
        assert_eq!(accuracies(runs[0].path()), accuracies(other.path()));
        assert_eq!(iters(&runs[0]), iters(other));
        assert_eq!(weights(&runs[0]), weights(other));
    }
    let dir = tempfile::tempdir().unwrap();
    train(dir.path(), &["--seed", "8", "--iters", "1300"]);
    assert_ne!(
        weights(&runs[0]),
        std::fs::read(dir.path().join("model.safetensors")).unwrap()
    );
}

#[test]
fn the_report_holds_both_charts_and_the_table_and_nothing_external() {
    let dir = tempfile::tempdir().unwrap();
    train(dir.path(), &["--iters", "700"]);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2, "two inline charts");
    assert!(html.contains("<th>train acc</th>") && html.contains("<td>600</td>"));
    for external in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "@import",
        "<script src",
        "<link ",
    ] {
        assert!(
            !html.contains(external),
            "report references an external resource: {external}"
        );
    }
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["iters_num"], 700);
    assert_eq!(config["batch_size"], 100);
    assert_eq!(config["learning_rate"], 0.1);
    assert_eq!(config["activation"], "sigmoid");
    assert_eq!(config["scratchnet_version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn gradcheck_agrees_to_the_books_precision() {
    let stdout = ok(&["--quiet", "gradcheck"]);
    for name in ["W1", "b1", "W2", "b2"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} line in {stdout}"));
        let diff: f64 = line[name.len() + 2..].parse().unwrap();
        assert!(diff < 1e-9, "{line}");
    }
    assert!(stdout.contains("ok: every difference is below 1e-7"));
}

#[test]
fn training_by_numerical_gradients_estimates_its_time_and_learns() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&[
        "train",
        "--out",
        dir.path().to_str().unwrap(),
        "--gradient",
        "numerical",
        "--hidden-size",
        "3",
        "--batch-size",
        "5",
        "--iters",
        "3",
    ]);
    assert!(
        out.contains("numerical gradients: one iteration takes"),
        "{out}"
    );
    assert_eq!(accuracies(dir.path()).len(), 1);
}

/// A Python virtual environment with safetensors and NumPy, made once under target/.
fn python_with_safetensors() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-venv");
    let python = venv.join("bin/python");
    let ready = |p: &Path| {
        Command::new(p)
            .args(["-c", "import safetensors, numpy"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready(&python) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 runs");
        assert!(made.success(), "python3 -m venv {} failed", venv.display());
        let pip = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "safetensors", "numpy"])
            .status()
            .expect("pip runs");
        assert!(pip.success(), "pip install safetensors numpy failed");
    }
    assert!(
        ready(&python),
        "safetensors and numpy are not importable from {}",
        python.display()
    );
    python
}

#[test]
fn python_reads_the_weights_and_numpy_gets_the_same_test_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    train(dir.path(), &["--iters", "1500", "--seed", "3"]);
    let model = dir.path().join("model.safetensors");
    let eval = ok(&[
        "--quiet",
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let ours: f64 = eval.split_whitespace().nth(2).unwrap().parse().unwrap();
    for chart in [
        "confusion.png",
        "confusion.svg",
        "misclassified.png",
        "misclassified.svg",
    ] {
        assert!(dir.path().join(chart).is_file(), "{chart} missing");
    }

    let fetch = ok(&["--quiet", "fetch"]);
    let data_dir = fetch
        .lines()
        .next()
        .unwrap()
        .split(" files in ")
        .nth(1)
        .unwrap()
        .trim();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/numpy_forward.py");
    let out = Command::new(python_with_safetensors())
        .arg(script)
        .arg(&model)
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let numpy: f64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        format!("{ours:.4}"),
        format!("{numpy:.4}"),
        "scratchnet eval {ours} vs numpy {numpy}"
    );
    assert!(ours > 0.85, "1500 iterations reach about 0.9: {ours}");
}

#[test]
fn impossible_settings_are_refused_with_the_value_named() {
    for (args, expected) in [
        (vec!["--batch-size", "0"], "batch size 0"),
        (vec!["--hidden-size", "0"], "hidden size 0"),
        (vec!["--lr", "-0.1"], "learning rate -0.1"),
        (vec!["--lr", "NaN"], "learning rate NaN"),
        (vec!["--iters", "0"], "iters_num 0"),
        (vec!["--weight-init-std", "0"], "weight init std 0"),
    ] {
        let mut all = vec!["train", "--out", "/nonexistent/never-written"];
        all.extend_from_slice(&args);
        let out = scratchnet(&all);
        assert!(!out.status.success(), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
