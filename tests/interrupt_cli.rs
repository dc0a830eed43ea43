//! Interruption, resume and divergence through the real binary.
//!
//! A test interrupts a run only once a line it prints says how far it has got (an epoch's
//! accuracies), and checks from the checkpoint that the interruption came in the middle, so
//! that it tests the same thing on a fast machine as on a slow one.

use crate::common::*;

use scratchnet::checkpoint::Checkpoint;
use scratchnet::interrupt::CHECKPOINT_DELAY_ENV;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A number from the config.json of the run folder `dir`.
fn config_number(dir: &Path, key: &str) -> usize {
    let config: serde_json::Value =
        serde_json::from_slice(&read(&dir.join("config.json"))).unwrap();
    config[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {config}")) as usize
}

/// Where the checkpoint in the run folder `dir` was saved: the iterations done, and how many
/// accuracy measurements (lines printed) came before.
fn checkpoint_state(dir: &Path) -> (usize, usize) {
    let checkpoint = Checkpoint::load(&dir.join("checkpoint.safetensors")).unwrap();
    let resume: serde_json::Value =
        serde_json::from_str(checkpoint.meta("resume").unwrap()).unwrap();
    let state = &resume["state"];
    (
        state["iteration"].as_u64().unwrap() as usize,
        state["history"]["epochs"].as_array().unwrap().len(),
    )
}

/// Interrupts a run with `sig` after update `at` (in its second epoch or later, not at an
/// epoch's end), checks that it stopped there, resumes it, and checks that weights, losses and
/// accuracies equal those of the same run never interrupted.
fn interrupted_then_resumed_equals_uninterrupted(extra: &[&str], at: usize, sig: i32) {
    let root = tempfile::tempdir().unwrap();
    let (stopped, whole) = (root.path().join("stopped"), root.path().join("whole"));
    let run = Watched::train_held_at(&stopped, extra, at);
    run.signal(sig);
    let (code, stderr) = run.finish();
    assert_eq!(code, Some(130), "{stderr}");
    let ((iteration, measured), per_epoch) = (
        checkpoint_state(&stopped),
        config_number(&stopped, "iter_per_epoch"),
    );
    assert_eq!(iteration, at, "the run stops at the update it was held at");
    assert!(
        measured >= 2 && per_epoch < at && !at.is_multiple_of(per_epoch),
        "stopped at iteration {at} after {measured} epochs, not inside the second or a later"
    );
    assert!(
        at < config_number(&stopped, "iters_num"),
        "{at}: not before the end"
    );
    assert!(
        stderr.contains(&format!("interrupted after {iteration} iterations"))
            && stderr.contains(&format!(
                "continue with: cargo run --release -- train --resume {}",
                stopped.display()
            )),
        "{stderr}"
    );

    let resumed = scratchnet(&["--quiet", "train", "--resume", stopped.to_str().unwrap()]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    // Updates are counted over both sessions, the wall time over this one only.
    let printed = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        printed.contains("| all sessions: ")
            && printed.contains(" s this session, loading and writing included)")
            && !printed.contains("in all"),
        "{printed}"
    );
    assert!(
        !stopped.join("checkpoint.safetensors").exists(),
        "a finished run keeps no checkpoint"
    );
    let printed = ok(&[
        &["--quiet", "train", "--out", whole.to_str().unwrap()],
        extra,
    ]
    .concat());
    assert!(
        printed.contains(" s in all, loading and writing included)")
            && !printed.contains("session"),
        "{printed}"
    );

    for file in ["model.safetensors", "iters.csv"] {
        assert!(
            read(&stopped.join(file)) == read(&whole.join(file)),
            "{file} differs from the uninterrupted run's"
        );
    }
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
        1234,
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
    interrupted_then_resumed_equals_uninterrupted(&extra, 1111, libc::SIGTERM);
}

/// A small TwoLayerNet trained by `optimizer`: cheap enough to interrupt and resume.
fn small_run(optimizer: &str, seed: &str) -> [String; 8] {
    [
        "--iters",
        "3000",
        "--hidden-size",
        "20",
        "--optimizer",
        optimizer,
        "--seed",
        seed,
    ]
    .map(String::from)
}

/// [`interrupted_then_resumed_equals_uninterrupted`] for a [`small_run`].
fn small_run_resumes_bit_for_bit(optimizer: &str, seed: &str, sig: i32) {
    let args = small_run(optimizer, seed);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    interrupted_then_resumed_equals_uninterrupted(&args, 1111, sig);
}

#[test]
fn momentum_resumes_bit_for_bit() {
    small_run_resumes_bit_for_bit("momentum", "13", libc::SIGINT);
}

#[test]
fn nesterov_resumes_bit_for_bit() {
    small_run_resumes_bit_for_bit("nesterov", "14", libc::SIGTERM);
}

#[test]
fn adagrad_resumes_bit_for_bit() {
    small_run_resumes_bit_for_bit("adagrad", "15", libc::SIGINT);
}

#[test]
fn rmsprop_resumes_bit_for_bit() {
    small_run_resumes_bit_for_bit("rmsprop", "16", libc::SIGTERM);
}

#[test]
fn batchnorm_resumes_bit_for_bit_with_its_running_statistics() {
    // The running statistics forget their past at 0.9 per update: resumed 35 updates before
    // the end (epochs of 60 updates, stopped in the third), a run that lost them would not end
    // bit for bit the same.
    let extra = [
        "--iters",
        "160",
        "--batch-size",
        "1000",
        "--seed",
        "17",
        "--hidden",
        "100,100",
        "--activation",
        "relu",
        "--batchnorm",
    ];
    interrupted_then_resumed_equals_uninterrupted(&extra, 125, libc::SIGINT);
}

#[test]
fn a_second_ctrl_c_exits_at_once_where_one_waits_to_save_its_checkpoint() {
    // The test seam holds a stopped run this long before it writes its checkpoint: long
    // enough that the second Ctrl-C surely comes before the checkpoint is written.
    const HOLD: Duration = Duration::from_secs(4);
    let hold_ms = HOLD.as_millis().to_string();
    let root = tempfile::tempdir().unwrap();
    // Starts a run, waits for its first epoch, sends Ctrl-C and waits until it has been
    // heard; returns the run, its folder and when the Ctrl-C was sent.
    let stopping = |name: &str| -> (Watched, PathBuf, Instant) {
        let out = root.path().join(name);
        let args = ["train", "--out", out.to_str().unwrap(), "--iters", "10000"];
        let mut run = Watched::spawn(&args, &[(CHECKPOINT_DELAY_ENV, &hold_ms)]);
        run.stdout_line("epoch 0 |");
        let sent = Instant::now();
        run.signal(libc::SIGINT);
        run.stderr_line("stopping after this iteration (Ctrl-C again to quit at once)");
        (run, out, sent)
    };

    // One Ctrl-C: the run waits out the hold, saves its checkpoint and says how to resume.
    let (once, dir, sent) = stopping("once");
    let (code, stderr) = once.finish();
    assert!(sent.elapsed() >= HOLD, "the hold was not kept");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted after") && stderr.contains("--resume"));
    assert!(Checkpoint::load(&dir.join("checkpoint.safetensors")).is_ok());

    // Two: the second exits in less than half the hold, before any checkpoint, saying
    // nothing more, and leaves only the whole config.json and the live view's first lines,
    // written before training.
    let (twice, dir, _) = stopping("twice");
    twice.signal(libc::SIGINT);
    let (code, stderr) = twice.finish_within(HOLD / 2);
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "stopping after this iteration (Ctrl-C again to quit at once)"
    );
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    files.sort();
    // .scratchnet: the folder's claim (a `train` run's), made before the data was loaded.
    assert_eq!(files, [".scratchnet", "config.json", "live.jsonl"]);
    assert_eq!(config_number(&dir, "iters_num"), 10000);
}

/// `scratchnet --quiet train --out out extra…` to its end: its exit code and standard error.
fn quiet_train(out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let done = scratchnet(&[&["--quiet", "train", "--out", out.to_str().unwrap()], extra].concat());
    (
        done.status.code(),
        String::from_utf8_lossy(&done.stderr).into_owned(),
    )
}

#[test]
fn a_diverging_run_stops_with_the_reason_and_keeps_what_it_learned() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("run");
    let (code, stderr) = quiet_train(
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
    );
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

    let (code, stderr) = quiet_train(
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
    );
    assert_eq!(code, Some(0), "--on-nan continue keeps going: {stderr}");
}

/// Interrupts `scratchnet study <args> <folder>` (`args` ending with `--out`) with SIGINT
/// after update `at` of the run `victim`, checks the message and that the run stopped there,
/// having measured more than once, hands the run's folder to `when_stopped`, reruns the study to the end, runs the same study uninterrupted, and checks
/// that the two studies' measured results and every run's `files` are the same. Returns the
/// two study folders and the rerun's standard output.
fn interrupted_study_equals_uninterrupted(
    args: &[&str],
    (victim, at): (&str, usize),
    when_stopped: impl Fn(&Path),
    files: &[&str],
) -> (tempfile::TempDir, String) {
    let root = tempfile::tempdir().unwrap();
    let (stopped, whole) = (root.path().join("stopped"), root.path().join("whole"));
    fn with_out<'a>(args: &[&'a str], dir: &'a Path) -> Vec<&'a str> {
        [&["study"], args, &[dir.to_str().unwrap()]].concat()
    }
    let run = stopped.join("runs").join(victim);
    let study = Watched::spawn_held_at(&with_out(args, &stopped), &run, at);
    study.signal(libc::SIGINT);
    let (code, stderr) = study.finish();
    assert_eq!(code, Some(130), "{stderr}");
    let (iteration, measured) = checkpoint_state(&run);
    assert!(
        iteration == at && measured > 1 && iteration < config_number(&run, "iters_num"),
        "stopped at iteration {iteration} after {measured} measurements, not at {at}"
    );
    assert!(
        stderr.contains(&format!(
            "interrupted during run {victim} after {iteration} iterations"
        )) && stderr.contains("rerun the same command to resume"),
        "{stderr}"
    );
    let checkpoint = run.join("checkpoint.safetensors");
    assert!(
        stderr.contains(&checkpoint.display().to_string()),
        "{stderr}"
    );
    assert!(!run.join("outcome.json").exists());
    when_stopped(&run);

    let quiet = |dir| [&["--quiet"], &with_out(args, dir)[..]].concat();
    let rerun = ok(&quiet(&stopped));
    assert!(!checkpoint.exists(), "a finished run keeps no checkpoint");
    ok(&quiet(&whole));
    assert_eq!(measured_results(&stopped), measured_results(&whole));
    assert_same_run_files(&stopped, &whole, files);
    (root, rerun)
}

#[test]
fn an_interrupted_batch_size_study_exits_130_and_its_rerun_ends_as_if_never_stopped() {
    let (_root, rerun) = interrupted_study_equals_uninterrupted(
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
        // Measured after 1, 2, 3, 4, 6, 7, … of the 300 updates.
        ("batch-1000-seed-0", 9),
        |_| {},
        &["model.safetensors", "iters.csv"],
    );
    assert!(
        rerun.contains("1 runs done now, 2 in the study"),
        "the finished run is kept: {rerun}"
    );
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
            "iters:10000",
            "--out",
        ],
        // After the probe of the first epoch (600 updates), long before the end.
        ("mnist-d1-w50-relu-he-adam0.001-seed0", 1000),
        |run| {
            let probes: serde_json::Value =
                serde_json::from_slice(&read(&run.join("probes.json"))).unwrap();
            let updates: Vec<_> = probes
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["updates"].as_u64().unwrap())
                .collect();
            assert_eq!(
                updates,
                [0, 600],
                "the probes taken before the interruption"
            );
        },
        &["model.safetensors", "iters.csv", "probes.json"],
    );
    let (stopped, whole) = (root.path().join("stopped"), root.path().join("whole"));
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
