//! How long-running library work (downloads, training, studies) tells the user where it is.
//!
//! The library never prints: it calls a [`Progress`], and the command-line tool installs one —
//! [`Console`] draws an `indicatif` bar on a terminal, prints plain lines when output is piped,
//! and nothing at all when quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;

/// Receives progress from long-running work; every method has a do-nothing default.
pub trait Progress: Sync {
    /// A task of `total` steps (bytes, iterations, runs) begins; `None` when the total is unknown.
    fn begin(&self, _task: &str, _total: Option<u64>) {}
    /// `done` steps of the current task are finished; `status` is a short text (loss, accuracy).
    fn update(&self, _done: u64, _status: &str) {}
    /// A line worth keeping on screen (an epoch's accuracies, a source that failed).
    fn line(&self, _text: &str) {}
    /// The current task is over.
    fn end(&self) {}
}

/// Reports nothing: for tests and for `--quiet`.
pub struct Silent;

impl Progress for Silent {}

/// Reports to the terminal: a live bar on a TTY, plain lines otherwise, nothing when quiet.
pub struct Console {
    quiet: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Console {
    /// A console reporter; `quiet` silences everything except what the caller prints itself.
    pub fn new(quiet: bool) -> Self {
        Console {
            quiet,
            bar: Mutex::new(None),
        }
    }

    fn interactive(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }
}

impl Progress for Console {
    fn begin(&self, task: &str, total: Option<u64>) {
        if !self.interactive() {
            return;
        }
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            None => ProgressBar::new_spinner(),
        };
        let style =
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} (eta {eta})")
                .expect("the progress template is valid")
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(task.to_string());
        *self.bar.lock().expect("progress lock") = Some(bar);
    }

    fn update(&self, done: u64, status: &str) {
        if let Some(bar) = self.bar.lock().expect("progress lock").as_ref() {
            bar.set_position(done);
            bar.set_message(status.to_string());
        }
    }

    fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        match self.bar.lock().expect("progress lock").as_ref() {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn end(&self) {
        if let Some(bar) = self.bar.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
    }
}
