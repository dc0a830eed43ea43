//! Stopping long work cleanly: Ctrl-C (SIGINT) or SIGTERM asks the training loop to finish its
//! current iteration and save a checkpoint, instead of losing the run.
//!
//! The command-line tool installs the signal handler and calls [`request_stop`]; the library
//! only reads [`stop_requested`] between iterations (one relaxed atomic load).

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// Asks running training to stop after its current iteration; returns whether a stop had
/// already been asked for (a second Ctrl-C, which the caller may treat as "exit now").
pub fn request_stop() -> bool {
    STOP.swap(true, Ordering::SeqCst)
}

/// Whether a stop has been asked for.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// Forgets a stop request (for tests, and for a program that goes on after an interrupted run).
pub fn clear() {
    STOP.store(false, Ordering::SeqCst);
}

/// The environment variable that makes a stopped run wait this many milliseconds before it
/// saves its checkpoint: a test seam, so that a test can send a second Ctrl-C while the first
/// one's checkpoint is surely not yet written, and see the second quit at once.
pub const CHECKPOINT_DELAY_ENV: &str = "SCRATCHNET_TEST_CHECKPOINT_DELAY_MS";

/// Waits as long as [`CHECKPOINT_DELAY_ENV`] says (not at all when it is unset); called before
/// a stopped run saves its checkpoint.
pub fn delay_before_checkpoint() {
    let delay = std::env::var(CHECKPOINT_DELAY_ENV).ok();
    if let Some(ms) = delay.and_then(|ms| ms.parse().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}
