//! Runs started from the browser: each is `scratchnet train` in a process of its own — the
//! command line's code path and run folder, so a page-started run is the same as a typed one —
//! at most `max` at a time, the others queued in order. A stop is what Ctrl-C does: SIGINT, and
//! the run saves its checkpoint; resuming is `train --resume`.

use crate::data::FetchOptions;
use serde::Serialize;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The lines of a failed run's error output kept for its message.
const KEPT_LINES: usize = 12;

/// One run asked for from the page.
#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub id: u64,
    /// The run folder's id under the runs folder.
    pub run: String,
    /// `queued`, `running`, `finished`, `failed` or `stopped`.
    pub state: &'static str,
    /// The `train` arguments (the server's `--out`/`--resume` included).
    pub args: Vec<String>,
    /// A failed run's last lines of error output.
    pub message: Option<String>,
    #[serde(skip)]
    pid: Option<u32>,
}

impl Job {
    /// The folder a fresh run's job was given (its `--out`).
    fn folder(&self) -> Option<&str> {
        let at = self.args.iter().position(|a| a == "--out")?;
        self.args.get(at + 1).map(String::as_str)
    }
}

/// The queue and the running jobs.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Mutex<Inner>>,
    exe: PathBuf,
    max: usize,
}

struct Inner {
    next: u64,
    /// Newest first.
    jobs: VecDeque<Job>,
}

impl Jobs {
    /// Jobs run by the program `exe` (this binary), `max` at a time.
    pub fn new(exe: PathBuf, max: usize) -> Jobs {
        Jobs {
            inner: Arc::new(Mutex::new(Inner {
                next: 1,
                jobs: VecDeque::new(),
            })),
            exe,
            max: max.max(1),
        }
    }

    /// Runs trained at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Every job, newest first.
    pub fn list(&self) -> Vec<Job> {
        self.lock().jobs.iter().cloned().collect()
    }

    /// Queues `train args…` for the run `run`, starting it at once if there is room.
    pub fn submit(&self, run: String, args: Vec<String>) -> Job {
        let job = {
            let mut inner = self.lock();
            let job = Job {
                id: inner.next,
                run,
                state: "queued",
                args,
                message: None,
                pid: None,
            };
            inner.next += 1;
            inner.jobs.push_front(job.clone());
            job
        };
        self.start_queued();
        job
    }

    /// Marks `row` as its run's newest job stands: `queued` while waiting; `failed`, with the
    /// trainer's last error lines, when its process failed before the run wrote its results.
    pub fn mark(&self, row: &mut super::index::Row) {
        let inner = self.lock();
        let Some(job) = inner.jobs.iter().find(|j| j.run == row.id) else {
            return;
        };
        match job.state {
            "queued" => row.state = "queued",
            "failed" if row.state != "finished" => {
                row.state = "failed";
                row.error = job.message.clone();
            }
            _ => {}
        }
    }

    /// The unfinished job of run `run`, if any.
    pub fn active(&self, run: &str) -> Option<Job> {
        self.lock()
            .jobs
            .iter()
            .find(|j| j.run == run && matches!(j.state, "queued" | "running"))
            .cloned()
    }

    /// Stops run `run`'s job: a queued one is dropped (the empty folder made for it removed),
    /// a running one gets SIGINT (it saves a checkpoint and exits). `false` when it has none.
    pub fn stop(&self, run: &str) -> bool {
        let mut inner = self.lock();
        let Some(job) = inner
            .jobs
            .iter_mut()
            .find(|j| j.run == run && matches!(j.state, "queued" | "running"))
        else {
            return false;
        };
        match job.pid {
            Some(pid) => super::watch::signal(pid, libc::SIGINT),
            None => {
                job.state = "stopped";
                if let Some(folder) = job.folder() {
                    // Only an empty folder goes: the one made for the job, never filled.
                    let _ = std::fs::remove_dir(folder);
                }
                true
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts queued jobs, oldest first, while fewer than `max` run.
    fn start_queued(&self) {
        let mut inner = self.lock();
        loop {
            let running = inner.jobs.iter().filter(|j| j.state == "running").count();
            if running >= self.max {
                return;
            }
            let Some(job) = inner.jobs.iter_mut().rev().find(|j| j.state == "queued") else {
                return;
            };
            let mut command = tokio::process::Command::new(&self.exe);
            command
                .arg("train")
                .arg("--quiet")
                .args(&job.args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(false);
            match command.spawn() {
                Ok(child) => {
                    job.state = "running";
                    job.pid = child.id();
                    tokio::spawn(self.clone().watch(job.id, child));
                }
                Err(e) => {
                    job.state = "failed";
                    job.message = Some(format!("{}: {e}", self.exe.display()));
                }
            }
        }
    }

    /// Waits for job `id`'s process, records how it ended, and starts the next.
    async fn watch(self, id: u64, mut child: tokio::process::Child) {
        let mut kept = VecDeque::new();
        if let Some(stderr) = child.stderr.take() {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if kept.len() == KEPT_LINES {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        }
        let status = child.wait().await;
        {
            let mut inner = self.lock();
            if let Some(job) = inner.jobs.iter_mut().find(|j| j.id == id) {
                job.pid = None;
                let code = status.as_ref().ok().and_then(|s| s.code());
                job.state = match code {
                    Some(0) => "finished",
                    // The command's exit status after Ctrl-C (and a stop is a SIGINT).
                    Some(130) => "stopped",
                    _ => "failed",
                };
                if job.state == "failed" {
                    let lines: Vec<String> = kept.into_iter().collect();
                    job.message = Some(match status {
                        Ok(s) if lines.is_empty() => format!("train exited with {s}"),
                        Ok(_) => lines.join("\n"),
                        Err(e) => e.to_string(),
                    });
                }
            }
        }
        self.start_queued();
    }
}

/// The `train` flags the server sets itself (where the run goes, what data it reads).
const SERVER_FLAGS: [&str; 6] = [
    "--out",
    "--resume",
    "--restart",
    "--data-dir",
    "--from",
    "--quiet",
];

/// Checks a page's `train` arguments with the command line's own parser; the reason they are
/// refused, as clap words it, otherwise.
pub fn check_args(args: &[String]) -> Result<(), String> {
    if let Some(flag) = args.iter().find(|a| {
        SERVER_FLAGS
            .iter()
            .any(|f| a == f || a.starts_with(&format!("{f}=")))
    }) {
        return Err(format!(
            "{flag} is set by the server (runs go into its runs folder)"
        ));
    }
    crate::cli::check_train_args(args)
}

/// The arguments for a new run into `folder` with the page's `args`, and the server's data
/// flags.
pub fn train_args(folder: &Path, args: &[String], data: &FetchOptions) -> Vec<String> {
    let mut all = args.to_vec();
    all.extend(["--out".to_string(), folder.display().to_string()]);
    all.extend(data_args(data));
    all
}

/// The arguments resuming the run in `folder`.
pub fn resume_args(folder: &Path, data: &FetchOptions) -> Vec<String> {
    let mut all = vec!["--resume".to_string(), folder.display().to_string()];
    all.extend(data_args(data));
    all
}

/// The server's own data flags, passed on.
fn data_args(data: &FetchOptions) -> Vec<String> {
    let flag = |name: &str, dir: &Option<std::path::PathBuf>| {
        dir.iter()
            .flat_map(|d| [name.to_string(), d.display().to_string()])
            .collect::<Vec<_>>()
    };
    [
        flag("--data-dir", &data.data_dir),
        flag("--from", &data.from),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_keeps_its_own_flags() {
        let refused = check_args(&["--out".into(), "/tmp/x".into()]).unwrap_err();
        assert!(refused.contains("--out"), "{refused}");
        assert!(check_args(&["--resume=/x".into()]).is_err());
        let bad = check_args(&["--batch-size".into(), "zero".into()]).unwrap_err();
        assert!(bad.contains("zero"), "{bad}");
        assert!(check_args(&[
            "--iters".into(),
            "5".into(),
            "--optimizer".into(),
            "adam".into()
        ])
        .is_ok());
        let data = FetchOptions::default();
        let args = train_args(Path::new("/r/x"), &["--iters".into(), "5".into()], &data);
        assert_eq!(args, ["--iters", "5", "--out", "/r/x"]);
    }
}
