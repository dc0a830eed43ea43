//! The shipped `deploy/slurm/study.sbatch` on a real (one-node) Slurm: a two-task job array
//! runs a small study's two shards with `--shard auto`, and `study merge` combines them.
//! Needs root and Debian's `slurm-wlm` and `munge`; without them, or when the local Slurm does
//! not start, the test says why and passes.

use crate::common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The local Slurm of `deploy/slurm/local-cluster.sh`, stopped when dropped.
struct LocalSlurm {
    dir: PathBuf,
}

impl LocalSlurm {
    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm/local-cluster.sh")
    }

    /// Starts it in `dir`, or says why it cannot.
    fn start(dir: &Path) -> Result<LocalSlurm, String> {
        let out = Command::new(Self::script())
            .args(["start", dir.to_str().unwrap()])
            .output()
            .map_err(|e| format!("cannot run local-cluster.sh: {e}"))?;
        let cluster = LocalSlurm {
            dir: dir.to_path_buf(),
        };
        if out.status.success() {
            Ok(cluster)
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// A Slurm client command talking to this cluster.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env("SLURM_CONF", self.dir.join("slurm.conf"));
        command
    }
}

impl Drop for LocalSlurm {
    fn drop(&mut self) {
        let _ = Command::new(Self::script())
            .args(["stop", self.dir.to_str().unwrap()])
            .status();
    }
}

#[test]
fn a_slurm_job_array_runs_one_shard_per_task_and_the_shards_merge() {
    let root = tempfile::tempdir().unwrap();
    let slurm = match LocalSlurm::start(&root.path().join("slurm")) {
        Ok(slurm) => slurm,
        Err(why) => {
            println!("skipped: no local Slurm ({why})");
            return;
        }
    };
    let shared = root.path().join("shared");
    // The datasets where this machine has them, as a cluster's shared folder would hold them.
    let data = fetched_dir("mnist").parent().unwrap().to_path_buf();
    let binary = env!("CARGO_BIN_EXE_scratchnet");
    let submitted = slurm
        .command("sbatch")
        .args([
            "--wait",
            "--array=0-1",
            "--cpus-per-task=1",
            "--mem=0",
            &format!("--output={}/task-%a.log", root.path().display()),
        ])
        .env("SHARED", &shared)
        .env("SCRATCHNET", binary)
        .env("SCRATCHNET_DATA", &data)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm/study.sbatch"))
        .args(["--sizes", "100,1000", "--budget", "iters:5"])
        .args(["--train-eval-rows", "100"])
        .output()
        .unwrap();
    let log = |task: usize| {
        std::fs::read_to_string(root.path().join(format!("task-{task}.log"))).unwrap_or_default()
    };
    assert!(
        submitted.status.success(),
        "sbatch: {}\ntask 0: {}\ntask 1: {}",
        String::from_utf8_lossy(&submitted.stderr),
        log(0),
        log(1)
    );
    for (task, run) in [(0, "batch-100-seed-0"), (1, "batch-1000-seed-0")] {
        assert!(
            log(task).starts_with(&format!("shard {}/2 (Slurm job array:", task + 1)),
            "task {task}: {}",
            log(task)
        );
        let runs = shared.join(format!("study/shard-{task}/runs"));
        let held: Vec<_> = std::fs::read_dir(&runs)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(held, vec![run.to_string()], "task {task}");
    }
    let merged = shared.join("study/merged");
    let stdout = ok(&[
        "study",
        "merge",
        shared.join("study/shard-0").to_str().unwrap(),
        shared.join("study/shard-1").to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(stdout.contains("2 of the study's 2 runs"), "{stdout}");
    assert_eq!(rows(&merged).len(), 2);
}
