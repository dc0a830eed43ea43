//! Who owns a folder, through the binary: a command writes only into a folder it created or
//! one holding its own kind of work, claimed before any work (issue 13, classes 3, 10, 11, 12
//! and the `--out` part of 13).

use crate::common::*;

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A train run small enough to take a fraction of a second.
const FAST: &[&str] = &["--iters", "5", "--hidden-size", "20"];

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn train(out: &Path) -> String {
    let mut args = vec!["--quiet", "train", "--out", s(out)];
    args.extend_from_slice(FAST);
    ok(&args)
}

/// `study batch-size` of two small runs into `out`, with `extra` flags.
fn batch_args<'a>(out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--quiet",
        "study",
        "batch-size",
        "--out",
        s(out),
        "--budget",
        "iters:20",
        "--train-eval-rows",
        "500",
        "--target",
        "0.5",
    ];
    if !extra.contains(&"--sizes") {
        args.extend(["--sizes", "10,100"]);
    }
    args.extend_from_slice(extra);
    args
}

fn batch_study(out: &Path, extra: &[&str]) -> String {
    ok(&batch_args(out, extra))
}

/// Every file under `dir`, relative path → bytes.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(tree(&path));
        } else {
            files.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    files.sort();
    files
}

// Class 3: files the user owns are not overwritten.

#[test]
fn train_into_a_study_folder_is_refused_and_its_report_kept() {
    let root = tempfile::tempdir().unwrap();
    let study = root.path().join("study");
    batch_study(&study, &[]);
    let before = tree(&study);
    let mut args = vec!["train", "--out", s(&study)];
    args.extend_from_slice(FAST);
    fails_naming(&args, "holds a batch-size study, not a `train` run");
    let run = study.join("runs").join("batch-10-seed-0");
    let mut args = vec!["train", "--out", s(&run)];
    args.extend_from_slice(FAST);
    fails_naming(&args, "is a run of the study in");
    fails_naming(&["train", "--restart", s(&run)], "is a run of the study in");
    let dw = depth_width_args(
        &study,
        &["--datasets", "mnist", "--depths", "1", "--widths", "10"],
    );
    fails_naming(&dw, "holds a batch-size study, not a depth-width study");
    assert_eq!(tree(&study), before);
}

#[test]
fn a_study_into_a_train_run_is_refused_and_the_run_kept() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("run");
    train(&run);
    let before = tree(&run);
    fails_naming(
        &batch_args(&run, &[]),
        "holds a `train` run, not a batch-size study",
    );
    // A run written by an older scratchnet (no marker) is recognised by its config.json.
    std::fs::remove_file(run.join(".scratchnet")).unwrap();
    fails_naming(
        &batch_args(&run, &[]),
        "holds a `train` run, not a batch-size study",
    );
    let mut args = vec!["train", "--out", s(&run)];
    args.extend_from_slice(FAST);
    fails_naming(&args, "already holds a run");
    assert!(tree(&run).iter().all(|f| before.contains(f)));
}

#[test]
fn a_folder_of_the_users_own_files_is_refused_naming_them() {
    let root = tempfile::tempdir().unwrap();
    let mine = root.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("model.safetensors"), "my weights").unwrap();
    std::fs::write(mine.join("report.html"), "my report").unwrap();
    let before = tree(&mine);
    let mut args = vec!["train", "--out", s(&mine)];
    args.extend_from_slice(FAST);
    fails_naming(
        &args,
        "holds files scratchnet did not write (model.safetensors, report.html)",
    );
    fails_naming(&batch_args(&mine, &[]), "did not write");
    assert_eq!(tree(&mine), before);

    let notes = root.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(notes.join("notes.txt"), "mine").unwrap();
    let mut args = vec!["train", "--out", s(&notes)];
    args.extend_from_slice(FAST);
    fails_naming(&args, "did not write (notes.txt)");
    assert_eq!(std::fs::read_dir(&notes).unwrap().count(), 1);
}

#[test]
fn of_two_trains_started_at_once_on_one_new_folder_exactly_one_writes_it() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("race");
    let args = [
        "--quiet",
        "train",
        "--out",
        s(&out),
        "--iters",
        "200",
        "--hidden-size",
        "20",
    ];
    for seed in 0..3 {
        let out = root.path().join(format!("race-{seed}"));
        let mut these = args.to_vec();
        these[3] = s(&out);
        let children: Vec<_> = (0..2)
            .map(|_| {
                let mut child = command(&these);
                child.stdout(Stdio::piped()).stderr(Stdio::piped());
                child.spawn().unwrap()
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let codes: Vec<_> = children.iter().map(|c| c.status.code()).collect();
        assert!(
            codes.contains(&Some(0)) && codes.contains(&Some(1)),
            "{codes:?}"
        );
        let loser = children.iter().find(|c| !c.status.success()).unwrap();
        let stderr = String::from_utf8_lossy(&loser.stderr);
        assert!(
            stderr.contains("in use by another scratchnet command")
                || stderr.contains("already holds a run"),
            "{stderr}"
        );
        assert!(out.join("model.safetensors").is_file());
    }
}

// Class 10: nothing is written before the plan is valid.

#[test]
fn a_refused_study_leaves_nothing_and_the_corrected_command_works() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("study");
    fails_naming(
        &batch_args(&out, &["--sizes", "10,70000"]),
        "at most the training set size",
    );
    assert!(!out.exists(), "a refused study writes nothing");
    fails_naming(&batch_args(&out, &["--sizes", "0,10"]), "batch sizes");
    assert!(!out.exists());
    fails_naming(&batch_args(&out, &["--budget", "iters:0"]), "budget");
    assert!(!out.exists());
    // An existing empty folder stays as it was.
    std::fs::create_dir(&out).unwrap();
    fails_naming(
        &batch_args(&out, &["--sizes", "10,70000"]),
        "at most the training set size",
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    let stdout = batch_study(&out, &[]);
    assert!(
        stdout.contains("2 runs done now, 2 in the study"),
        "{stdout}"
    );
}

/// `study depth-width` of small runs on MNIST into `out`, with `extra` flags.
fn depth_width_args<'a>(out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--quiet",
        "study",
        "depth-width",
        "--out",
        s(out),
        "--budget",
        "iters:5",
        "--no-diagnosis",
        "--train-eval-rows",
        "500",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn a_refused_depth_width_study_leaves_nothing() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("dw");
    for (extra, expected) in [
        (&["--depths", "0", "--widths", "10"][..], "depths"),
        (&["--depths", "1", "--widths", "0"][..], "widths"),
        (&["--batch-size", "70000"][..], "batch size"),
        (&["--datasets", "kmnist"][..], "kmnist"),
    ] {
        let mut args = depth_width_args(&out, &["--depths", "1", "--widths", "10"]);
        if !extra.contains(&"--datasets") {
            args.extend(["--datasets", "mnist"]);
        }
        args.extend_from_slice(extra);
        fails_naming(&args, expected);
        assert!(!out.exists(), "{extra:?} wrote into {}", out.display());
    }
    let stdout = ok(&depth_width_args(
        &out,
        &["--datasets", "mnist", "--depths", "1", "--widths", "10"],
    ));
    assert!(
        stdout.contains("1 runs done now, 1 in the study"),
        "{stdout}"
    );
}

#[test]
fn a_plan_json_left_by_an_older_refused_study_does_not_block_the_corrected_one() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("study");
    batch_study(&out, &["--sizes", "10"]);
    // What an older scratchnet left after a refusal: plan.json of other settings, no run.
    std::fs::remove_dir_all(out.join("runs")).unwrap();
    std::fs::remove_file(out.join(".scratchnet")).unwrap();
    let stdout = batch_study(&out, &[]);
    assert!(
        stdout.contains("2 runs done now, 2 in the study"),
        "{stdout}"
    );
    // With runs present, other settings are still refused.
    fails_naming(
        &batch_args(&out, &["--sizes", "10,1000"]),
        "its plan.json has other settings",
    );
}

// Class 11: merge checks every source before writing anything.

/// Two shards of a two-run batch-size study, in `root/shard-1` and `root/shard-2`.
fn shards(root: &Path) -> [PathBuf; 2] {
    let parts = [root.join("shard-1"), root.join("shard-2")];
    for (i, part) in parts.iter().enumerate() {
        let shard = format!("{}/2", i + 1);
        batch_study(part, &["--shard", &shard]);
    }
    parts
}

#[test]
fn merge_validates_every_source_first_and_follows_no_link() {
    let root = tempfile::tempdir().unwrap();
    let [a, b] = shards(root.path());
    let out = root.path().join("merged");
    let args = ["study", "merge", s(&a), s(&b), "--out", s(&out)];
    let merge = || args.to_vec();

    let outcome = b.join("runs/batch-100-seed-0/outcome.json");
    let good = std::fs::read(&outcome).unwrap();
    std::fs::write(&outcome, "{ not json").unwrap();
    fails_naming(&merge(), &format!("{}:", outcome.display()));
    assert!(!out.exists(), "a refused merge writes nothing");
    std::fs::write(&outcome, &good).unwrap();

    let run = a.join("runs/batch-10-seed-0");
    let link = run.join("loop");
    std::os::unix::fs::symlink(&run, &link).unwrap();
    fails_naming(&merge(), &format!("{}: is a symbolic link", link.display()));
    assert!(!out.exists());
    std::fs::remove_file(&link).unwrap();

    let elsewhere = root.path().join("elsewhere");
    std::fs::rename(b.join("runs/batch-100-seed-0"), &elsewhere).unwrap();
    let linked_run = b.join("runs/batch-100-seed-0");
    std::os::unix::fs::symlink(&elsewhere, &linked_run).unwrap();
    fails_naming(&merge(), "is a symbolic link");
    assert!(!out.exists());
    std::fs::remove_file(&linked_run).unwrap();
    std::fs::rename(&elsewhere, &linked_run).unwrap();

    let stdout = ok(&merge());
    assert!(stdout.contains("2 of the study's 2 runs"), "{stdout}");
    assert_eq!(rows(&out).len(), 2);
}

#[test]
fn merging_an_incomplete_set_names_the_missing_runs() {
    let root = tempfile::tempdir().unwrap();
    let [a, _] = shards(root.path());
    let out = root.path().join("merged");
    fails_naming(
        &["study", "merge", s(&a), "--out", s(&out)],
        "lack 1 of the study's 2 runs: batch-100-seed-0",
    );
    assert!(!out.exists());
    let stdout = ok(&["study", "merge", s(&a), "--out", s(&out), "--allow-partial"]);
    assert!(
        stdout.contains("1 of the study's 2 runs")
            && stdout.contains("partial: 1 runs missing: batch-100-seed-0"),
        "{stdout}"
    );
}

// Class 12: no dead ends.

/// Leaves in `run` only what a run killed before its first checkpoint leaves.
fn as_if_killed_before_its_checkpoint(run: &Path) {
    for entry in std::fs::read_dir(run).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        if name != "config.json" && name != ".scratchnet" {
            std::fs::remove_file(&path).unwrap();
        }
    }
}

#[test]
fn a_run_killed_before_its_checkpoint_is_explained_and_restarts() {
    let root = tempfile::tempdir().unwrap();
    let reference = root.path().join("reference");
    train(&reference);
    let run = root.path().join("run");
    train(&run);
    as_if_killed_before_its_checkpoint(&run);
    let stderr = fails_naming(
        &["train", "--resume", s(&run)],
        "started but stopped before saving a checkpoint",
    );
    assert!(stderr.contains("--restart"), "{stderr}");
    let mut args = vec!["train", "--out", s(&run)];
    args.extend_from_slice(FAST);
    fails_naming(&args, "train --restart");
    let stdout = ok(&["--quiet", "train", "--restart", s(&run)]);
    assert!(stdout.contains("final weights"), "{stdout}");
    assert_eq!(
        std::fs::read(run.join("model.safetensors")).unwrap(),
        std::fs::read(reference.join("model.safetensors")).unwrap(),
        "the restarted run is the run its config.json describes"
    );
    // Finished now: nothing to restart, nothing to resume.
    fails_naming(&["train", "--restart", s(&run)], "holds a finished run");
    fails_naming(&["train", "--resume", s(&run)], "holds a finished run");
    // A folder of an older scratchnet (no marker) restarts too.
    as_if_killed_before_its_checkpoint(&run);
    std::fs::remove_file(run.join(".scratchnet")).unwrap();
    ok(&["--quiet", "train", "--restart", s(&run)]);
    assert!(run.join("model.safetensors").is_file());
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    fails_naming(
        &["train", "--restart", s(&empty)],
        "holds no run to restart",
    );
    fails_naming(
        &["train", "--restart", s(&root.path().join("none"))],
        "no such folder",
    );
}

#[test]
fn a_study_run_killed_before_its_checkpoint_is_run_again() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("study");
    batch_study(&out, &[]);
    let run = out.join("runs/batch-10-seed-0");
    let model = std::fs::read(run.join("model.safetensors")).unwrap();
    as_if_killed_before_its_checkpoint(&run);
    let stdout = batch_study(&out, &[]);
    assert!(
        stdout.contains("1 runs done now, 2 in the study"),
        "{stdout}"
    );
    assert_eq!(std::fs::read(run.join("model.safetensors")).unwrap(), model);
}

// Class 13: an --out that is a file is refused at once, by name.

#[test]
fn an_out_that_is_a_file_is_refused_before_any_work() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("file");
    std::fs::write(&file, "mine").unwrap();
    let said = format!("{}: is a file, not a folder", file.display());
    let f = s(&file);
    // A data folder that does not exist: the refusal must come before any data is read.
    let none = root.path().join("no-data");
    let n = s(&none);
    fails_naming(&["train", "--out", f, "--data-dir", n], &said);
    fails_naming(&["study", "batch-size", "--out", f, "--data-dir", n], &said);
    fails_naming(
        &["study", "depth-width", "--out", f, "--data-dir", n],
        &said,
    );
    fails_naming(&["demo", "optimizers", "--out", f], &said);
    fails_naming(&["demo", "chapter4", "--out", f], &said);
    let run = root.path().join("run");
    train(&run);
    fails_naming(
        &["eval", "--model", s(&run), "--out", f, "--data-dir", n],
        &said,
    );
    let [a, b] = shards(&root.path().join("shards"));
    fails_naming(&["study", "merge", s(&a), s(&b), "--out", f], &said);
    assert_eq!(std::fs::read(&file).unwrap(), b"mine");
    assert!(!none.exists());
}
