//! The training tools through the binary: a learning-rate schedule, a validation split with
//! early stopping and the best weights, augmentation — written down where the user looks
//! (config.json, report.html, the printed lines), evaluable, refused with clear messages, and
//! resumed bit for bit. Small TwoLayerNets on MNIST; a large validation split keeps epochs
//! short.

use crate::common::*;

use std::path::Path;

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(path: &Path) -> String {
    String::from_utf8(read(path)).unwrap()
}

fn config(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(&dir.join("config.json"))).unwrap()
}

/// `train --quiet --out dir` with `extra` flags; its standard output.
fn train(dir: &Path, extra: &[&str]) -> String {
    ok(&[&["--quiet", "train", "--out", dir.to_str().unwrap()], extra].concat())
}

#[test]
fn a_step_schedule_with_warm_up_is_in_config_json_and_the_report_rates() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("run");
    // 60000 / 1000 = 60 updates per epoch; half an epoch of warm-up is 30 updates, from
    // 0.4/30 to 0.4; then ×0.5 every epoch: 0.2 at update 60, 0.1 at 120, 0.05 at 180.
    train(
        &dir,
        &[
            "--iters",
            "200",
            "--batch-size",
            "1000",
            "--hidden-size",
            "20",
            "--learning-rate",
            "0.4",
            "--lr-schedule",
            "step:1:0.5",
            "--warmup",
            "0.5",
        ],
    );
    let c = config(&dir);
    assert_eq!(c["lr_schedule"], "step:1:0.5");
    assert_eq!(c["warmup_epochs"], 0.5);
    assert_eq!(c["learning_rate"], 0.4);
    assert_eq!(
        (c["validation"].as_u64(), c["augment"].as_str()),
        (Some(0), Some("none"))
    );
    let report = text(&dir.join("report.html"));
    for (epoch, iteration, rate) in [
        (0, 0, "0.013333"),
        (1, 60, "0.2"),
        (2, 120, "0.1"),
        (3, 180, "0.05"),
    ] {
        let row = format!("<td>{epoch}</td><td>{iteration}</td><td>{rate}</td>");
        assert!(
            report.contains(&row),
            "{row} not in the report's tools table"
        );
    }
    assert!(report.contains("step:1:0.5 after 0.5 epochs of linear warm-up (30 updates)"));
    assert!(dir.join("learning_rate.png").is_file() && dir.join("learning_rate.svg").is_file());
    // A run without tools draws no learning-rate chart and has no tools section.
    let plain = root.path().join("plain");
    train(
        &plain,
        &[
            "--iters",
            "10",
            "--batch-size",
            "1000",
            "--hidden-size",
            "20",
        ],
    );
    assert!(!plain.join("learning_rate.svg").exists());
    assert!(!text(&plain.join("report.html")).contains("Training tools"));
}

#[test]
fn early_stopping_ends_a_finished_run_whose_best_weights_evaluate_to_the_recorded_accuracy() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("run");
    // The rate falls 5× every epoch of 59 updates: learning stalls within a few epochs, and
    // 2 evaluations without a better validation accuracy end the run long before 6000 updates.
    let printed = train(
        &dir,
        &[
            "--iters",
            "6000",
            "--batch-size",
            "1000",
            "--hidden-size",
            "20",
            "--learning-rate",
            "1",
            "--lr-schedule",
            "step:1:0.2",
            "--validation",
            "1000",
            "--patience",
            "2",
        ],
    );
    let c = config(&dir);
    assert_eq!(
        (c["train_size"].as_u64(), c["iter_per_epoch"].as_u64()),
        (Some(59000), Some(59))
    );
    let stopped = printed
        .lines()
        .find_map(|l| l.strip_prefix("stopped early after "))
        .unwrap_or_else(|| panic!("no early stop in\n{printed}"));
    let updates: usize = stopped.split(' ').next().unwrap().parse().unwrap();
    assert!(updates < 6000, "{updates}");
    assert_eq!(text(&dir.join("iters.csv")).lines().count(), updates + 1);
    // Finished, not interrupted: no checkpoint, nothing to resume.
    assert!(
        dir.join("model.safetensors").is_file() && !dir.join("checkpoint.safetensors").exists()
    );
    fails_naming(
        &["train", "--resume", dir.to_str().unwrap()],
        "holds a finished run",
    );
    // The best measurement, as printed, and its weights evaluated through the binary.
    let best = printed
        .lines()
        .find(|l| l.starts_with("best validation accuracy "))
        .unwrap_or_else(|| panic!("no best in\n{printed}"));
    let test_acc = word_after(best, "test acc ");
    let best_file = dir.join("best.safetensors");
    assert!(best.ends_with(best_file.to_str().unwrap()), "{best}");
    let eval_out = root.path().join("eval");
    let evaluated = ok(&[
        "--quiet",
        "eval",
        "--model",
        best_file.to_str().unwrap(),
        "--out",
        eval_out.to_str().unwrap(),
    ]);
    assert!(
        evaluated.contains(&format!("test accuracy {test_acc} (")),
        "best.safetensors evaluates otherwise than {test_acc}:\n{evaluated}"
    );
    // The report says where the best was and that the run stopped early; epochs.csv has the
    // validation accuracy of every measurement.
    let report = text(&dir.join("report.html"));
    assert!(report.contains(&format!("Stopped early after {updates} of 6000 updates")));
    assert!(report.contains("its weights are best.safetensors"));
    let epochs = text(&dir.join("epochs.csv"));
    assert!(
        epochs.starts_with(
            "epoch,iteration,samples_seen,train_acc,test_acc,elapsed_s,train_s,val_acc\n"
        ),
        "{epochs}"
    );
}

#[test]
fn resume_with_schedule_augmentation_and_validation_equals_the_uninterrupted_run() {
    let root = tempfile::tempdir().unwrap();
    let (stopped, whole) = (root.path().join("stopped"), root.path().join("whole"));
    // 50000 rows held out leave 10000 to train on: 100 updates of 100 per epoch.
    let extra = [
        "--iters",
        "400",
        "--hidden-size",
        "20",
        "--seed",
        "21",
        "--lr-schedule",
        "cosine:0.01",
        "--warmup",
        "0.5",
        "--validation",
        "50000",
        "--augment",
        "shift:2,rotate:10,elastic:34:4",
    ];
    // In the second epoch, after its first measurement.
    let mut run = Watched::train_held_at(&stopped, &extra, 150);
    let line = run.stdout_line("epoch 1 |");
    assert!(
        line.starts_with("epoch 1 | train acc, val acc, test acc | "),
        "{line}"
    );
    run.signal(libc::SIGINT);
    let (code, stderr) = run.finish();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stopped.join("checkpoint.safetensors").is_file());
    assert!(stopped.join("augmentation.png").is_file());
    ok(&["--quiet", "train", "--resume", stopped.to_str().unwrap()]);
    train(&whole, &extra);
    for file in ["model.safetensors", "best.safetensors", "iters.csv"] {
        assert!(
            read(&stopped.join(file)) == read(&whole.join(file)),
            "{file} differs from the uninterrupted run's"
        );
    }
    let measured = |dir: &Path| -> Vec<String> {
        text(&dir.join("epochs.csv"))
            .lines()
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                format!("{},{}", cells[..5].join(","), cells[7])
            })
            .collect()
    };
    assert_eq!(measured(&stopped), measured(&whole));
    // The same run with augmentation off learns from other bits.
    let plain = root.path().join("plain");
    let plain_extra: Vec<&str> = extra[..extra.len() - 2].to_vec();
    train(&plain, &plain_extra);
    assert!(read(&plain.join("model.safetensors")) != read(&whole.join("model.safetensors")));
}

#[test]
fn bad_tool_settings_are_refused_naming_the_value_and_what_would_do() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("bad");
    let out = out.to_str().unwrap();
    let refusals: [(&[&str], &str); 9] = [
        (&["--lr-schedule", "linear"], "invalid learning-rate schedule linear: constant, step:EPOCHS:GAMMA"),
        (&["--lr-schedule", "step:5:1.5"], "invalid learning-rate schedule step:5:1.5"),
        (&["--lr-schedule", "cosine:0.5"], "invalid cosine floor 0.5: a learning rate below the optimizer's (--learning-rate)"),
        (&["--warmup", "-1"], "invalid warm-up -1: a number of epochs ≥ 0"),
        (&["--patience", "3"], "invalid patience 3: early stopping watches the validation accuracy: give a validation split (--validation N) too"),
        (&["--validation", "100", "--patience", "0"], "invalid patience 0"),
        (&["--validation", "60000"], "invalid validation split 60000: fewer rows than the training set holds"),
        (&["--augment", "blur:2"], "invalid augmentation blur:2: none, or one or more of shift:PIXELS"),
        (&["--augment", "shift:20"], "invalid augmentation shift:20"),
    ];
    for (flags, expected) in refusals {
        fails_naming(
            &[&["train", "--iters", "1", "--out", out], flags].concat(),
            expected,
        );
    }
    // A resumed run takes its tools from its config.json.
    fails_naming(
        &["train", "--resume", out, "--augment", "shift:1"],
        "cannot be used with",
    );
}
