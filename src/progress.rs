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
    /// A line of results worth keeping (an epoch's accuracies, a source that failed).
    fn line(&self, _text: &str) {}
    /// Something the user must know even when quiet (a cache file set aside): on stderr.
    fn warn(&self, _text: &str) {}
    /// The current task is over.
    fn end(&self) {}
}

/// The longest status [`Progress::update`] should pass for the bar's line to fit an
/// 80-column terminal (with a task name of 5 characters, "train", and counts up to 999999).
pub const STATUS_WIDTH: usize = 31;

/// The bar's line: the task, the bar, the count, the status and the time left.
fn style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix} [{bar:15}] {pos}/{len} {msg} (eta {eta})")
        .expect("the progress template is valid")
        .progress_chars("=> ")
}

/// Reports nothing: for tests and for `--quiet`.
pub struct Silent;

impl Progress for Silent {}

/// Reports to the terminal: a live bar on stderr when it is a TTY, result lines on stdout,
/// and nothing at all when quiet.
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
        bar.set_style(style());
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
            Some(bar) => bar.suspend(|| crate::say!("{text}")),
            None => crate::say!("{text}"),
        }
    }

    fn warn(&self, text: &str) {
        use std::io::Write;
        let write = || {
            let _ = writeln!(std::io::stderr(), "warning: {text}");
        };
        match self.bar.lock().expect("progress lock").as_ref() {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    fn end(&self) {
        if let Some(bar) = self.bar.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::TermLike;
    use std::sync::Arc;

    /// A terminal that keeps what is written to it.
    #[derive(Debug, Default, Clone)]
    struct Screen(Arc<Mutex<Vec<String>>>);

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            200
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push(s.to_string());
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_training_bar_fits_an_80_column_terminal() {
        let screen = Screen::default();
        let target = ProgressDrawTarget::term_like(Box::new(screen.clone()));
        let bar = ProgressBar::with_draw_target(Some(999_999), target);
        bar.set_style(style());
        bar.set_prefix("train");
        bar.set_position(999_998);
        bar.set_message("x".repeat(STATUS_WIDTH));
        bar.tick();
        let drawn = screen.0.lock().unwrap().clone();
        let line = drawn
            .iter()
            .rev()
            .find(|line| line.starts_with("train ["))
            .unwrap_or_else(|| panic!("no bar drawn: {drawn:?}"));
        assert!(line.contains(&"x".repeat(STATUS_WIDTH)), "{line}");
        // The time left is "0s" here; a longer one ("59m", "23h") takes one column more.
        let longest = line.trim_end().chars().count() + 1;
        assert!(longest < 80, "{longest} columns: {line}");
        assert!(longest > 70, "the bar's line is {line:?}");
    }
}
