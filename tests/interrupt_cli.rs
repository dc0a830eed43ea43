//! Interruption, resume and divergence through the real binary.

mod common;
use common::*;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scratchnet"))
}

fn train(out: &Path, extra: &[&str]) -> Child {
    command()
        .args(["--quiet", "train", "--out", out.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Starts scratchnet with `args`, its standard error kept.
fn spawn(args: &[&str]) -> Child {
    command()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until training has started in the run folder `out` (its config.json is written),
/// then a little longer.
fn wait_for_training(out: &Path) {
    let start = Instant::now();
    while !out.join("config.json").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "training never started in {}",
            out.display()
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

    let resumed = command()
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

/// Interrupts `scratchnet --quiet study <args> <folder>` (`args` ending with `--out`) with SIGINT
/// while it trains the run `victim`, checks the message, reruns it to the end, runs the same
/// study uninterrupted, and checks that every run folder holds the same `files`. Returns the
/// two study folders and the rerun's standard output.
fn interrupted_study_equals_uninterrupted(
    args: &[&str],
    victim: &str,
    files: &[&str],
) -> (tempfile::TempDir, String) {
    let root = tempfile::tempdir().unwrap();
    let (stopped, whole) = (root.path().join("stopped"), root.path().join("whole"));
    fn with_out<'a>(args: &[&'a str], dir: &'a Path) -> Vec<&'a str> {
        [&["--quiet", "study"], args, &[dir.to_str().unwrap()]].concat()
    }
    let child = spawn(&with_out(args, &stopped));
    let run = stopped.join("runs").join(victim);
    wait_for_training(&run);
    signal(&child, libc::SIGINT);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!("interrupted during run {victim} after "))
            && stderr.contains("rerun the same command to resume"),
        "{stderr}"
    );
    let checkpoint = run.join("checkpoint.safetensors");
    assert!(
        stderr.contains(&checkpoint.display().to_string()) && checkpoint.exists(),
        "{stderr}"
    );
    assert!(!run.join("outcome.json").exists());

    let rerun = ok(&with_out(args, &stopped));
    assert!(!checkpoint.exists(), "a finished run keeps no checkpoint");
    ok(&with_out(args, &whole));
    for entry in std::fs::read_dir(whole.join("runs")).unwrap() {
        let id = entry.unwrap().file_name();
        for file in files {
            assert!(
                read(&stopped.join("runs").join(&id).join(file))
                    == read(&whole.join("runs").join(&id).join(file)),
                "{id:?}/{file} differs from the uninterrupted study's"
            );
        }
    }
    (root, rerun)
}

/// study.csv without the columns that measure time or memory.
fn measured_results(dir: &Path) -> Vec<Vec<(String, String)>> {
    const TIMINGS: [&str; 10] = [
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
    rows(dir)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .filter(|(column, _)| !TIMINGS.contains(&column.as_str()))
                .collect()
        })
        .collect()
}

#[test]
fn an_interrupted_batch_size_study_exits_130_and_its_rerun_ends_as_if_never_stopped() {
    let (root, rerun) = interrupted_study_equals_uninterrupted(
        &[
            "batch-size",
            "--sizes",
            "10,1000",
            "--budget",
            "iters:300",
            "--train-eval-rows",
            "1000",
            "--out",
        ],
        "batch-1000-seed-0",
        &["model.safetensors", "iters.csv"],
    );
    assert!(
        rerun.contains("1 runs done now, 2 in the study"),
        "the finished run is kept: {rerun}"
    );
    let (stopped, whole) = (root.path().join("stopped"), root.path().join("whole"));
    assert_eq!(measured_results(&stopped), measured_results(&whole));
}

#[test]
fn an_interrupted_depth_width_study_resumes_with_its_probes() {
    let (root, _) = interrupted_study_equals_uninterrupted(
        &[
            "depth-width",
            "--datasets",
            "mnist",
            "--depths",
            "1",
            "--widths",
            "50",
            "--no-diagnosis",
            "--budget",
            "iters:2000",
            "--out",
        ],
        "mnist-d1-w50-relu-he-adam0.001-seed0",
        &["model.safetensors", "iters.csv", "probes.json"],
    );
    let (stopped, whole) = (root.path().join("stopped"), root.path().join("whole"));
    assert_eq!(measured_results(&stopped), measured_results(&whole));
    let probes = |dir: &Path| {
        let study: serde_json::Value =
            serde_json::from_slice(&read(&dir.join("study.json"))).unwrap();
        study["runs"][0]["probes"].clone()
    };
    assert_eq!(probes(&stopped), probes(&whole));
    assert_eq!(
        probes(&whole).as_array().map(Vec::len),
        Some(2),
        "at initialisation and after the first epoch"
    );
}
