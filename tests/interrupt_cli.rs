//! Interruption, resume and divergence through the real binary.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn scratchnet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scratchnet"))
}

fn train(out: &Path, extra: &[&str]) -> Child {
    scratchnet()
        .args(["--quiet", "train", "--out", out.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until training has started (its config.json is written), then a little longer.
fn wait_for_training(out: &Path) {
    let start = Instant::now();
    while !out.join("config.json").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "training never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(150));
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: sending a signal to a child process we started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

fn finish(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Interrupts a run with `sig`, resumes it, and checks that weights, losses and accuracies
/// equal those of the same run never interrupted.
fn interrupted_then_resumed_equals_uninterrupted(extra: &[&str], sig: i32) {
    let root = tempfile::tempdir().unwrap();
    let (stopped, whole) = (root.path().join("stopped"), root.path().join("whole"));
    let child = train(&stopped, extra);
    wait_for_training(&stopped);
    signal(&child, sig);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted after") && stderr.contains("--resume"),
        "{stderr}"
    );
    assert!(stopped.join("checkpoint.safetensors").exists());

    let resumed = scratchnet()
        .args(["--quiet", "train", "--resume", stopped.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(
        !stopped.join("checkpoint.safetensors").exists(),
        "a finished run keeps no checkpoint"
    );
    let (code, stderr) = finish(train(&whole, extra));
    assert_eq!(code, Some(0), "{stderr}");

    assert_eq!(
        read(&stopped.join("model.safetensors")),
        read(&whole.join("model.safetensors"))
    );
    assert_eq!(
        read(&stopped.join("iters.csv")),
        read(&whole.join("iters.csv"))
    );
    let accuracies = |dir: &Path| -> Vec<String> {
        String::from_utf8(read(&dir.join("epochs.csv")))
            .unwrap()
            .lines()
            .map(|l| l.split(',').take(5).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(accuracies(&stopped), accuracies(&whole));
}

#[test]
fn ctrl_c_saves_a_checkpoint_and_resume_finishes_the_run_bit_for_bit() {
    interrupted_then_resumed_equals_uninterrupted(
        &["--iters", "10000", "--seed", "11"],
        libc::SIGINT,
    );
}

#[test]
fn sigterm_resumes_bit_for_bit_with_adam_dropout_and_shuffled_epochs() {
    let extra = [
        "--iters",
        "3000",
        "--seed",
        "12",
        "--hidden",
        "60,40",
        "--activation",
        "relu",
        "--optimizer",
        "adam",
        "--dropout",
        "0.2",
        "--sampling",
        "shuffled-epochs",
    ];
    interrupted_then_resumed_equals_uninterrupted(&extra, libc::SIGTERM);
}

#[test]
fn a_second_ctrl_c_exits_at_once_leaving_valid_files() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("run");
    let child = train(&out, &["--iters", "10000"]);
    wait_for_training(&out);
    signal(&child, libc::SIGINT);
    signal(&child, libc::SIGINT);
    let (code, _) = finish(child);
    assert_eq!(code, Some(130));
    let config: serde_json::Value =
        serde_json::from_slice(&read(&out.join("config.json"))).unwrap();
    assert_eq!(config["iters_num"], 10000);
    let checkpoint = out.join("checkpoint.safetensors");
    if checkpoint.exists() {
        let bytes = read(&checkpoint);
        assert!(
            safetensors::SafeTensors::deserialize(&bytes).is_ok(),
            "a checkpoint, if any, is whole"
        );
    }
}

#[test]
fn a_diverging_run_stops_with_the_reason_and_keeps_what_it_learned() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("run");
    let (code, stderr) = finish(train(
        &out,
        &[
            "--hidden",
            "100,100,100",
            "--activation",
            "relu",
            "--lr",
            "10",
            "--iters",
            "2000",
        ],
    ));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("training diverged at iteration"),
        "{stderr}"
    );
    assert!(
        stderr.contains("learning rate is probably too large") && stderr.contains("smaller --lr"),
        "{stderr}"
    );
    let iters = String::from_utf8(read(&out.join("iters.csv"))).unwrap();
    assert!(iters.lines().count() < 2001, "it stopped early");
    assert!(safetensors::SafeTensors::deserialize(&read(&out.join("model.safetensors"))).is_ok());
    let report = String::from_utf8(read(&out.join("report.html"))).unwrap();
    assert!(
        report.contains("Stopped early: training diverged"),
        "the report says why"
    );

    let (code, stderr) = finish(train(
        &root.path().join("watched"),
        &[
            "--hidden",
            "100,100,100",
            "--activation",
            "relu",
            "--lr",
            "10",
            "--iters",
            "300",
            "--on-nan",
            "continue",
        ],
    ));
    assert_eq!(code, Some(0), "--on-nan continue keeps going: {stderr}");
}
