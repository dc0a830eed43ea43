//! `train --net` and the book's Trainer through the binary: its printed lines, `--epochs`,
//! resume and threads bit for bit, eval and gradcheck of a conv model, refusals. Kept fast: a
//! tiny conv net (4 filters 5×5, pool, fc 20), few updates, 100 evaluation images.

use crate::common::*;

use std::path::Path;

/// The tiny conv net every run here trains.
const TINY: &str = "conv:4x5,pool:2,fc:20";

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn config(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(&dir.join("config.json"))).unwrap()
}

/// `scratchnet train --out dir args…` (not quiet: the epoch lines print); its output.
fn train(dir: &Path, args: &[&str]) -> String {
    ok(&[&["train", "--out", dir.to_str().unwrap()], args].concat())
}

/// The (train, test) accuracies of the book's epoch lines in `stdout`, in order.
fn epoch_lines(stdout: &str) -> Vec<(usize, f64, f64)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("=== epoch:"))
        .map(|rest| {
            let rest = rest.strip_suffix(" ===").expect("the book's closing ===");
            let (epoch, rest) = rest.split_once(", train acc:").unwrap();
            let (train, test) = rest.split_once(", test acc:").unwrap();
            (
                epoch.parse().unwrap(),
                train.parse().unwrap(),
                test.parse().unwrap(),
            )
        })
        .collect()
}

/// The final test accuracy of the book's two closing lines.
fn final_test_acc(stdout: &str) -> f64 {
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "=============== Final Test Accuracy ===============")
        .unwrap_or_else(|| panic!("no final block in {stdout}"));
    lines[at + 1]
        .strip_prefix("test acc:")
        .unwrap_or_else(|| panic!("{:?}", lines[at + 1]))
        .parse()
        .unwrap()
}

/// Whether `acc` is a whole number of `n`ths.
fn counts_of(acc: f64, n: f64) -> bool {
    ((acc * n) - (acc * n).round()).abs() < 1e-9
}

#[test]
fn epochs_print_the_books_lines_and_are_iter_per_epoch_updates() {
    // An MLP, since the lines are the Trainer's whatever the network, and three epochs of it
    // are cheap: 60000 / 20000 = 3 updates per epoch.
    let dir = tempfile::tempdir().unwrap();
    let stdout = train(
        dir.path(),
        &[
            "--epochs",
            "3",
            "--batch-size",
            "20000",
            "--eval-samples",
            "100",
        ],
    );
    let c = config(dir.path());
    assert_eq!(
        (c["iter_per_epoch"].as_u64(), c["iters_num"].as_u64()),
        (Some(3), Some(9))
    );
    let lines = epoch_lines(&stdout);
    assert_eq!(
        lines.iter().map(|l| l.0).collect::<Vec<_>>(),
        [1, 2, 3],
        "{stdout}"
    );
    for &(_, train, test) in &lines {
        assert!(
            counts_of(train, 100.0) && counts_of(test, 100.0),
            "{stdout}"
        );
    }
    assert!(
        !stdout.contains("epoch 0 |"),
        "the lab's lines too:\n{stdout}"
    );
    // The final accuracy is on the whole test set: a whole number of 10000ths, the one the
    // report and eval give.
    let final_acc = final_test_acc(&stdout);
    assert!(counts_of(final_acc, 10_000.0), "{final_acc}");
    let report = String::from_utf8(read(&dir.path().join("report.html"))).unwrap();
    assert!(
        report.contains(&format!("test accuracy {final_acc:.4}")),
        "{final_acc}"
    );
    assert!(report.contains("evaluate_sample_num_per_epoch"));
    let eval = ok(&["--quiet", "eval", "--model", dir.path().to_str().unwrap()]);
    let wrong: f64 = word_after(&eval, "(").parse().unwrap();
    assert_eq!((10_000.0 - wrong) / 10_000.0, final_acc, "{eval}");
    // final.json keeps it, with the rows behind each accuracy.
    let result: serde_json::Value =
        serde_json::from_slice(&read(&dir.path().join("final.json"))).unwrap();
    assert_eq!(result["final_test_acc"], final_acc, "{result}");
    assert_eq!(result["test_rows"], 10_000, "{result}");
    assert_eq!(result["train_rows"], 100, "{result}");
    assert_eq!(result["iterations"], 9, "{result}");
    assert_eq!(result["samples_seen"], 180_000, "{result}");
    assert!(result["train_s"].as_f64().unwrap() > 0.0, "{result}");
    let epochs_csv = String::from_utf8(read(&dir.path().join("epochs.csv"))).unwrap();
    let iterations: Vec<&str> = epochs_csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(iterations, ["0", "3", "6"]);
    // --epochs and --iters say the same thing twice.
    fails_naming(&["train", "--epochs", "2", "--iters", "5"], "--iters");
    fails_naming(&["train", "--epochs", "0"], "epochs");
}

#[test]
fn a_conv_net_trains_with_the_books_trainer_defaults_eval_and_gradcheck_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = train(dir.path(), &["--net", TINY, "--iters", "30", "--seed", "2"]);
    let c = config(dir.path());
    assert_eq!(c["network"], "ConvNet");
    assert_eq!(c["layers"], TINY);
    assert_eq!(
        (c["optimizer"].as_str(), c["learning_rate"].as_f64()),
        (Some("adam"), Some(0.001))
    );
    assert_eq!(c["batch_size"], 100);
    assert_eq!(
        c["eval"]["epochs-sampled"]["evaluate_sample_num_per_epoch"],
        1000
    );
    // One mark (iteration 0, on 1000 images), then the whole test set.
    let lines = epoch_lines(&stdout);
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(counts_of(lines[0].1, 1000.0) && counts_of(lines[0].2, 1000.0));
    let final_acc = final_test_acc(&stdout);
    assert!(
        final_acc > 0.5,
        "30 updates of Adam learn something: {final_acc}"
    );
    let report = String::from_utf8(read(&dir.path().join("report.html"))).unwrap();
    assert!(
        report.contains("ConvNet 1x28x28 conv:4x5,pool:2,fc:20 → 10"),
        "no layers in the report"
    );
    // conv 4·25·24·24 + fc 576·20 + out 20·10 multiply-adds; 104 + 11540 + 210 parameters.
    assert!(
        report.contains("69,320 (forward pass)"),
        "no multiply-adds in the report"
    );
    assert!(report.contains("(11854 parameters)"));

    let model = dir.path().to_str().unwrap();
    let eval = ok(&["--quiet", "eval", "--model", model]);
    assert!(
        eval.starts_with(&format!("test accuracy {final_acc:.4} (")),
        "{eval}"
    );
    let check = ok(&["--quiet", "gradcheck", "--model", model]);
    assert!(
        check.contains("at 10 elements of each parameter"),
        "{check}"
    );
    for name in ["W1", "b1", "W2", "b2", "W3", "b3"] {
        let line = check
            .lines()
            .find(|l| l.starts_with(&format!("{name}: ")))
            .unwrap();
        let diff: f64 = line[name.len() + 2..].parse().unwrap();
        assert!(diff < 1e-7, "{line}");
    }
    assert!(
        check.contains("ok: every difference is below 1e-7"),
        "{check}"
    );
}

#[test]
fn threads_do_not_change_a_conv_nets_bits() {
    let root = tempfile::tempdir().unwrap();
    let run = |threads: &str| {
        let dir = root.path().join(threads);
        let args = [
            "--quiet",
            "train",
            "--net",
            TINY,
            "--iters",
            "15",
            "--eval-samples",
            "100",
            "--threads",
            threads,
            "--out",
            dir.to_str().unwrap(),
        ];
        ok(&args);
        (
            read(&dir.join("model.safetensors")),
            read(&dir.join("iters.csv")),
        )
    };
    assert!(
        run("1") == run("2"),
        "one thread and two trained different weights"
    );
}

#[test]
fn an_interrupted_conv_run_resumes_bit_for_bit() {
    let root = tempfile::tempdir().unwrap();
    let (stopped, whole) = (root.path().join("stopped"), root.path().join("whole"));
    let extra = [
        "--net",
        "conv:4x5,pool:2,fc:20,dropout:0.2",
        "--iters",
        "60",
        "--eval-samples",
        "100",
        "--seed",
        "5",
    ];
    // After the first mark (measured after the first update), 30 updates before the end.
    let run = Watched::train_held_at(&stopped, &extra, 30);
    run.signal(libc::SIGINT);
    let (code, stderr) = run.finish();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stopped.join("checkpoint.safetensors").is_file(), "{stderr}");
    let resumed = ok(&["train", "--resume", stopped.to_str().unwrap()]);
    assert!(
        !resumed.contains("=== epoch:1,"),
        "a resumed run measures no mark twice:\n{resumed}"
    );
    ok(&[
        &["--quiet", "train", "--out", whole.to_str().unwrap()],
        &extra[..],
    ]
    .concat());
    for file in ["model.safetensors", "iters.csv", "epochs.csv"] {
        let keep = |dir: &Path| {
            let text = read(&dir.join(file));
            if file != "epochs.csv" {
                return text;
            }
            // Timings aside.
            let text = String::from_utf8(text).unwrap();
            text.lines()
                .map(|l| l.split(',').take(5).collect::<Vec<_>>().join(",") + "\n")
                .collect::<String>()
                .into_bytes()
        };
        assert!(
            keep(&stopped) == keep(&whole),
            "{file} differs from the uninterrupted run's"
        );
    }
}

#[test]
fn bad_nets_and_flags_that_do_not_apply_are_refused() {
    fails_naming(&["train", "--net", "conv:4y5,pool:2"], "conv:4y5");
    fails_naming(&["train", "--net", "conv:4x30"], "conv1");
    fails_naming(&["train", "--net", "conv:4x5,fc:10,pool:2"], "pool");
    fails_naming(&["train", "--net", "simple_convnet"], "simple_convnet");
    for mlp_only in [
        &["--hidden", "10"][..],
        &["--hidden-size", "10"],
        &["--activation", "relu"],
        &["--weight-init-std", "0.1"],
        &["--batchnorm"],
    ] {
        let args = [&["train", "--net", "simple-convnet"], mlp_only].concat();
        fails_naming(&args, "cannot be used with");
    }
    fails_naming(
        &["train", "--eval-samples", "0"],
        "evaluate_sample_num_per_epoch",
    );
}
