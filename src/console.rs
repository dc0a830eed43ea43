//! Standard output: every line the lab prints goes through [`say!`] (or [`Stdout`] for code that
//! takes an `io::Write`), the one place where a failed print is handled.
//!
//! A print must never undo the work it reports: `println!` panics when standard output is full
//! (`> /dev/full`) after the files were written. Here the first failure is said once on
//! standard error, later prints are dropped, the work goes on, and the command exits with
//! status 1 at its end ([`failed`]). A closed pipe (`| head -1`) ends the program quietly
//! through SIGPIPE, as it does other command-line tools (`cli` restores SIGPIPE's default).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// A print failed (and was reported): the command's exit status must say so.
static FAILED: AtomicBool = AtomicBool::new(false);

/// Standard output was closed when the program started (`>&-`): the Rust runtime then points
/// it at /dev/null before `main`, so the fact is recorded before it, by [`CHECK_CLOSED`].
static CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

/// Runs [`record_closed_stdout`] when the program is loaded, before the runtime's `main`.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static CHECK_CLOSED: extern "C" fn() = record_closed_stdout;

#[cfg(target_os = "linux")]
extern "C" fn record_closed_stdout() {
    // SAFETY: F_GETFD only asks whether descriptor 1 is open.
    if unsafe { libc::fcntl(1, libc::F_GETFD) } == -1 {
        CLOSED_AT_START.store(true, Ordering::SeqCst);
    }
}

/// Prints a line to standard output, like `println!`, but a failure is reported (once, on
/// standard error) instead of panicking; see [`crate::console`].
#[macro_export]
macro_rules! say {
    () => {
        $crate::console::write_bytes(b"\n")
    };
    ($($arg:tt)*) => {
        $crate::console::write_bytes(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}

/// Standard output as an `io::Write` that never fails (failures are handled as [`say!`]'s).
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        write_bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes `bytes` to standard output, handling a failure as the module says.
pub fn write_bytes(bytes: &[u8]) {
    if FAILED.load(Ordering::Relaxed) {
        return;
    }
    if CLOSED_AT_START.load(Ordering::Relaxed) {
        let closed = std::io::Error::from_raw_os_error(libc::EBADF);
        return report(&closed);
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        report(&e);
    }
}

/// Whether a reader gone away leaves the program running ([`outlive_readers`]).
static OUTLIVE: AtomicBool = AtomicBool::new(false);

/// For a program that serves others (`scratchnet serve`): a closed standard output ends its
/// printing, not the program. The caller also ignores SIGPIPE.
pub fn outlive_readers() {
    OUTLIVE.store(true, Ordering::SeqCst);
}

/// Says once that standard output failed, and marks the command as failed.
fn report(e: &std::io::Error) {
    if FAILED.swap(true, Ordering::SeqCst) {
        return;
    }
    if e.kind() == std::io::ErrorKind::BrokenPipe && OUTLIVE.load(Ordering::SeqCst) {
        // Nobody reads any more: nothing to say it to.
        return;
    }
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        // The reader is gone and SIGPIPE is ignored: end quietly, as the signal would have.
        std::process::exit(141);
    }
    eprintln!(
        "error: cannot write to standard output: {e} (the command goes on and writes its files, \
         but prints nothing more)"
    );
}

/// Whether standard output is a terminal (where clap draws its help in colour itself).
pub fn is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

/// Whether a print failed: the command then ends with exit status 1 after finishing its work.
pub fn failed() -> bool {
    FAILED.load(Ordering::SeqCst)
}
