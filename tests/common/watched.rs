//! A scratchnet process whose output a test reads line by line as it is written, so that the
//! test can act (interrupt it, say) once a line says how far it has got.

use scratchnet::interrupt::HOLD_AT_ITERATION_ENV;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long a test waits for a line or for the end of a run before it fails.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A running scratchnet whose standard output and error are read line by line as it writes
/// them, so that a test can wait for the line that says how far it has got.
pub struct Watched {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// The standard error read so far.
    stderr_seen: String,
}

impl Drop for Watched {
    /// Ends the process if a failed test left it running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends every line of `from` to the returned receiver, as it comes.
fn lines_of(from: impl Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            if send.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    receive
}

/// The next line from `lines` that satisfies `wanted`, each line read added to `seen`; fails
/// when the process closes the stream first or after [`PATIENCE`].
fn wait_for(
    lines: &Receiver<String>,
    seen: &mut String,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let start = Instant::now();
    loop {
        let left = PATIENCE.saturating_sub(start.elapsed());
        match lines.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if wanted(&line) {
                    return line;
                }
            }
            Err(RecvTimeoutError::Timeout) => panic!("no {what} after {PATIENCE:?}:\n{seen}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the run ended before {what}:\n{seen}"),
        }
    }
}

impl Watched {
    /// Starts scratchnet with `args` and the environment variables `env`.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Watched {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scratchnet"))
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Watched {
            stdout: lines_of(child.stdout.take().unwrap()),
            stderr: lines_of(child.stderr.take().unwrap()),
            child,
            stderr_seen: String::new(),
        }
    }

    /// `scratchnet train --out out extra…` (not quiet: it prints a line per epoch).
    pub fn train(out: &Path, extra: &[&str]) -> Watched {
        Watched::spawn(
            &[&["train", "--out", out.to_str().unwrap()], extra].concat(),
            &[],
        )
    }

    /// `scratchnet train --out out extra…` held after update `iteration` by the test seam
    /// [`HOLD_AT_ITERATION_ENV`]: returns once the run waits there, so that a signal sent
    /// next stops it at that update, whatever the machine's speed.
    pub fn train_held_at(out: &Path, extra: &[&str], iteration: usize) -> Watched {
        let args = [&["train", "--out", out.to_str().unwrap()], extra].concat();
        Watched::spawn_held_at(&args, out, iteration)
    }

    /// Starts scratchnet with `args` and the test seam [`HOLD_AT_ITERATION_ENV`] holding the
    /// run in folder `run` after update `iteration`; returns once the run waits there.
    pub fn spawn_held_at(args: &[&str], run: &Path, iteration: usize) -> Watched {
        let name = run.file_name().unwrap().to_str().unwrap();
        let hold = format!("{name}:{iteration}");
        let mut watched = Watched::spawn(args, &[(HOLD_AT_ITERATION_ENV, &hold)]);
        watched.stderr_line(&format!("test hold: {name} at iteration {iteration}"));
        watched
    }

    /// Waits for a line of standard output that starts with `start`.
    pub fn stdout_line(&mut self, start: &str) -> String {
        let mut seen = String::new();
        wait_for(&self.stdout, &mut seen, start, |l| l.starts_with(start))
    }

    /// Waits for a line of standard error that holds `text`.
    pub fn stderr_line(&mut self, text: &str) -> String {
        wait_for(&self.stderr, &mut self.stderr_seen, text, |l| {
            l.contains(text)
        })
    }

    /// Sends the signal `sig` to the process.
    pub fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to a child process we started.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    /// Waits for the process to end, at most `limit` (else kills it and fails); returns its
    /// exit code and its whole standard error.
    pub fn finish_within(mut self, limit: Duration) -> (Option<i32>, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > limit {
                self.child.kill().unwrap();
                self.child.wait().unwrap();
                panic!("still running after {limit:?}:\n{}", self.stderr_seen);
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        // The stream ends with the process: the rest of its lines are there.
        while let Ok(line) = self.stderr.recv_timeout(PATIENCE) {
            self.stderr_seen.push_str(&line);
            self.stderr_seen.push('\n');
        }
        (status.code(), std::mem::take(&mut self.stderr_seen))
    }

    /// Waits for the process to end, at most [`PATIENCE`]; returns its exit code and standard error.
    pub fn finish(self) -> (Option<i32>, String) {
        self.finish_within(PATIENCE)
    }
}
