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
