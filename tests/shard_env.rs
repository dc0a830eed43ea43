//! `--shard auto` through the binary: the shard comes from a scheduler's environment.

use crate::common::*;

use std::path::Path;

/// The scheduler variables `--shard auto` reads, removed so that the test's own environment
/// (perhaps a Slurm job) does not leak in.
const SCHEDULER: [&str; 6] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_STEP",
    "SLURM_ARRAY_TASK_COUNT",
    "JOB_COMPLETION_INDEX",
    "SCRATCHNET_SHARD_COUNT",
];

/// A two-size batch-size study into `out` with `--shard auto` and the variables `vars`.
fn study_auto(out: &Path, vars: &[(&str, &str)]) -> std::process::Output {
    let mut command = command(&[
        "study",
        "batch-size",
        "--sizes",
        "100,1000",
        "--budget",
        "iters:5",
        "--train-eval-rows",
        "100",
        "--shard",
        "auto",
        "--out",
        out.to_str().unwrap(),
    ]);
    for name in SCHEDULER {
        command.env_remove(name);
    }
    command.envs(vars.iter().copied());
    command.output().unwrap()
}

#[test]
fn a_slurm_array_task_runs_its_own_shard() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("task1");
    // The second task of `sbatch --array=0-1`.
    let vars = [
        ("SLURM_ARRAY_TASK_ID", "1"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_STEP", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "2"),
    ];
    let stdout = succeeded(&["study", "--shard", "auto"], study_auto(&out, &vars));
    assert!(
        stdout.starts_with(
            "shard 2/2 (Slurm job array: SLURM_ARRAY_TASK_ID=1, SLURM_ARRAY_TASK_MIN=0, \
             SLURM_ARRAY_TASK_STEP=1, SLURM_ARRAY_TASK_COUNT=2)\n"
        ) && stdout.contains("1 runs done now, 1 in the study"),
        "{stdout}"
    );
    assert!(out.join("runs/batch-1000-seed-0/outcome.json").exists());
    assert!(!out.join("runs/batch-100-seed-0").exists());
}

#[test]
fn shard_auto_outside_a_scheduler_is_refused_naming_the_variables() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("none");
    let result = study_auto(&out, &[]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--shard auto: no scheduler's shard variables are set")
            && stderr.contains("SLURM_ARRAY_TASK_ID")
            && stderr.contains("JOB_COMPLETION_INDEX with SCRATCHNET_SHARD_COUNT"),
        "{stderr}"
    );
    assert!(
        !out.exists(),
        "nothing is written before the shard is known"
    );
}

#[test]
fn merging_a_kubernetes_shard_alone_names_the_runs_the_other_holds() {
    let root = tempfile::tempdir().unwrap();
    let part = root.path().join("shard-0");
    // The first pod of an Indexed Job of two completions.
    let vars = [
        ("JOB_COMPLETION_INDEX", "0"),
        ("SCRATCHNET_SHARD_COUNT", "2"),
    ];
    let stdout = succeeded(&["study", "--shard", "auto"], study_auto(&part, &vars));
    assert!(
        stdout.starts_with(
            "shard 1/2 (Kubernetes Indexed Job: JOB_COMPLETION_INDEX=0, SCRATCHNET_SHARD_COUNT=2)"
        ),
        "{stdout}"
    );
    let merged = root.path().join("merged");
    let (from, out) = (part.to_str().unwrap(), merged.to_str().unwrap());
    let stderr = fails_naming(
        &["study", "merge", from, "--out", out],
        "the study folders together lack 1 of the study's 2 runs: batch-1000-seed-0 (runs \
         number 2 of 2",
    );
    assert!(stderr.contains("--allow-partial"), "{stderr}");
    assert!(!merged.exists(), "a refused merge writes nothing");
    let stdout = ok(&["study", "merge", from, "--out", out, "--allow-partial"]);
    assert!(
        stdout.contains("1 of the study's 2 runs")
            && stdout.contains("partial: 1 runs missing: batch-1000-seed-0"),
        "{stdout}"
    );
    assert_eq!(rows(&merged).len(), 1);
}
