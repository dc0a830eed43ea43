//! Stopping long work cleanly: Ctrl-C (SIGINT) or SIGTERM asks the training loop to finish its
//! current iteration and save a checkpoint, instead of losing the run; anywhere else (loading
//! data, a gradient check, an evaluation, writing reports) it ends the program at once.
//!
//! The command-line tool installs the signal handler, which asks [`on_signal`] what to do; the
//! library marks its training loops as [`cooperative`] sections and reads [`stop_requested`]
//! between iterations (one relaxed atomic load).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

/// The environment variable that makes a training run, once it has done update N, say so on
/// standard error (`test hold: RUN at iteration N`) and wait until a stop is asked for (at most
/// a minute): a test seam, so that a test's signal lands at that very update whatever the
/// machine's speed. `N` holds every run; `RUN:N` only the run whose folder is named RUN.
pub const HOLD_AT_ITERATION_ENV: &str = "SCRATCHNET_TEST_HOLD_AT_ITERATION";

/// Waits as [`HOLD_AT_ITERATION_ENV`] says (not at all when it is unset), after update
/// `iteration` of the run in folder `run`, calling `before` first when it waits. The variable
/// is read once, at the first update.
pub fn hold_at_iteration(run: &std::path::Path, iteration: usize, before: impl FnOnce()) {
    /// The hold asked for: (the run's folder name if only one run, the update).
    static HOLD: std::sync::OnceLock<Option<(Option<String>, usize)>> = std::sync::OnceLock::new();
    let hold = HOLD.get_or_init(|| {
        let value = std::env::var(HOLD_AT_ITERATION_ENV).ok()?;
        match value.rsplit_once(':') {
            Some((only, at)) => Some((Some(only.to_string()), at.parse().ok()?)),
            None => Some((None, value.parse().ok()?)),
        }
    });
    let Some((only, _)) = hold.as_ref().filter(|(_, at)| *at == iteration) else {
        return;
    };
    let name = run.file_name().unwrap_or_default().to_string_lossy();
    if only.as_ref().is_some_and(|only| *only != name) {
        return;
    }
    before();
    eprintln!("test hold: {name} at iteration {iteration}");
    let start = std::time::Instant::now();
    while !stop_requested() && start.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Processes this one started that must stop when it ends (the server's training runs).
static CHILDREN: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Records child process `pid`: when this program is stopped by a signal, it gets one SIGINT —
/// what Ctrl-C does to it (a training run saves its checkpoint). Children in a process group of
/// their own get only this one, not the terminal's too (a second would quit without saving).
pub fn adopt(pid: u32) {
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
}

/// Forgets child `pid` (it ended).
pub fn disown(pid: u32) {
    CHILDREN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|&p| p != pid);
}

/// Sends SIGINT to every adopted child still recorded; how many.
pub fn stop_children() -> usize {
    let children = CHILDREN.lock().unwrap_or_else(|e| e.into_inner());
    for &pid in children.iter() {
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            // SAFETY: kill has no memory effects; the pid is a child this process started.
            unsafe { libc::kill(pid, libc::SIGINT) };
        }
    }
    children.len()
}

/// Active cooperative sections: parts of the work that read [`stop_requested`] often.
static COOPERATIVE: AtomicUsize = AtomicUsize::new(0);

/// A cooperative section while it lives: the training loop, a study's loop of runs. Inside
/// one, the first Ctrl-C asks the work to stop after its current iteration (and save a
/// checkpoint); outside every one, a signal ends the program at once ([`on_signal`]).
#[must_use = "the section ends when this is dropped"]
pub struct Cooperative(());

/// Enters a cooperative section, until the returned value is dropped.
pub fn cooperative() -> Cooperative {
    COOPERATIVE.fetch_add(1, Ordering::SeqCst);
    Cooperative(())
}

impl Drop for Cooperative {
    fn drop(&mut self) {
        COOPERATIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a Ctrl-C or SIGTERM does now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnSignal {
    /// The first signal in a cooperative section: the work stops after this iteration.
    StopAfterIteration,
    /// The first signal where no iteration will end soon (loading data, a gradient check, an
    /// evaluation, writing reports): end the program now, saying so.
    ExitNow,
    /// A second signal: end the program now, quietly (the first one was answered).
    ExitAgain,
}

/// Records a Ctrl-C or SIGTERM and says what to do with it (the signal handler's rule).
pub fn on_signal() -> OnSignal {
    if request_stop() {
        OnSignal::ExitAgain
    } else if COOPERATIVE.load(Ordering::SeqCst) > 0 {
        OnSignal::StopAfterIteration
    } else {
        OnSignal::ExitNow
    }
}
