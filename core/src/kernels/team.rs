//! Splitting one training step's products over the cores, with helpers that wait by spinning.
//!
//! A step of the users' run (batch 100, 784-50-10) takes about 150 µs, its largest product
//! about 40. Handing half a product to rayon's pool costs about as much as it saves: an idle
//! rayon worker yields a few times, then sleeps, and waking a sleeping thread takes tens of
//! microseconds. So the step's products are split by a small team of helper threads that, once
//! they have finished a part, watch a counter for [`SPIN`] before they sleep: back-to-back steps
//! find them awake, and a call costs well under a microsecond.
//!
//! The caller runs part 0 itself and returns once every part is done. A split changes no
//! number: each part computes whole output elements by the same code, so the result is the
//! unsplit product's, bit for bit, for any number of parts. Each helper computes with the
//! caller's floating-point mode (its flush of subnormals), as if it were the calling thread.
//!
//! One call at a time uses the team; a second thread calling meanwhile runs its parts itself,
//! one after another (the same numbers). Inside rayon's parallel work — whose threads already
//! keep the cores busy — nothing is split ([`parts_for`] says 1).

use std::any::Any;
use std::cell::UnsafeCell;
use std::ops::Range;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, TryLockError};
use std::time::{Duration, Instant};

/// How long a helper watches for the next call before it sleeps.
pub const SPIN: Duration = Duration::from_micros(500);

/// Of [`SPIN`], how long a helper waits with pause instructions only, before it also yields
/// its core at each turn (for a machine with more threads running than cores): longer than
/// the serial stretches between a step's splits, so that a helper is never inside a system
/// call when the next split comes.
pub const SPIN_HOT: Duration = Duration::from_micros(200);

/// Parts a call may have: the calling thread and at most `MAX_PARTS - 1` helpers.
pub const MAX_PARTS: usize = 64;

/// The fewest multiply-adds (or comparable steps) worth a part of their own: about 15 µs of
/// the row kernels' work. A call costs under a microsecond when the helpers are awake, but a
/// part also pulls its share of the operands and of the output into its core's cache:
/// measured with 2¹⁷, 6000 steps of batch 10 through a 784-200-10 net took 0.88 s instead of
/// 0.71 s on one thread.
pub const MIN_PART_WORK: usize = 1 << 18;

/// How many parts a product of `work` multiply-adds over `units` separable pieces (rows,
/// pixels, elements) should be split into on this thread: one per thread of the pool (the
/// `--threads` setting), at most one per `min_work` multiply-adds and one per unit, and 1 on a
/// rayon worker thread.
pub fn parts_for(work: usize, min_work: usize, units: usize) -> usize {
    if let Some(parts) = FORCED.get() {
        return parts;
    }
    if rayon::current_thread_index().is_some() {
        return 1;
    }
    let threads = rayon::current_num_threads().min(MAX_PARTS);
    threads.min(work / min_work.max(1)).min(units).max(1)
}

thread_local! {
    static FORCED: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Makes [`parts_for`] answer `parts` on this thread (`None`: its own rule again), whatever
/// the work, and returns the setting it replaced. A split changes no number, so this changes
/// only speed: it exists so that tests can run any number of parts on any machine.
pub fn force_parts(parts: Option<usize>) -> Option<usize> {
    FORCED.replace(parts.map(|p| p.clamp(1, MAX_PARTS)))
}

/// Runs `job(p)` for every part `p` in `0..parts` (at most [`MAX_PARTS`]) at once, part 0 on
/// the calling thread and the others on the team's helpers; returns when all have finished. A
/// part's panic is raised again here, once every part has stopped. Where the team is busy or
/// no helper thread can be started, the caller runs the parts itself, one after another.
pub fn run(parts: usize, job: &(dyn Fn(usize) + Sync)) {
    assert!(parts <= MAX_PARTS, "at most {MAX_PARTS} parts, not {parts}");
    let Some(mut helpers) = (parts > 1).then(free_team).flatten() else {
        return (0..parts).for_each(job);
    };
    if !helpers.grow_to(parts - 1) {
        return (0..parts).for_each(job);
    }
    helpers.shared.call(parts, job);
}

/// The team's helpers, unless another thread's call is using them; the first call starts one
/// per thread of the pool but the caller's, so that training never starts one later.
fn free_team() -> Option<MutexGuard<'static, Helpers>> {
    let mut helpers = match TEAM.get_or_init(Team::default).call.try_lock() {
        Ok(helpers) => helpers,
        // A part panicked during an earlier call, which ended: the helpers are free.
        Err(TryLockError::Poisoned(e)) => e.into_inner(),
        Err(TryLockError::WouldBlock) => return None,
    };
    helpers.grow_to(rayon::current_num_threads().clamp(1, MAX_PARTS) - 1);
    Some(helpers)
}

/// Runs `job(p, &mut items[p])` for every item (at most [`MAX_PARTS`]) at once, one part each
/// (see [`run`]).
pub fn for_each_mut<T: Send>(items: &mut [T], job: impl Fn(usize, &mut T) + Sync) {
    let items_at = Shared(items.as_mut_ptr());
    run(items.len(), &|p| {
        // SAFETY: `run` makes exactly `items.len()` parts (asserting at most MAX_PARTS), so p
        // is in bounds; part p takes only item p, each part runs once, and `run` returns only
        // after every part has finished.
        job(p, unsafe { &mut *items_at.ptr().add(p) });
    });
}

/// Runs `job(p, block)` for every block the iterator gives (at most [`MAX_PARTS`]) at once,
/// one part each (see [`run`]); the blocks are kept on the stack.
pub fn for_each_block<T: Send>(blocks: impl IntoIterator<Item = T>, job: impl Fn(usize, T) + Sync) {
    let mut slots: [Option<T>; MAX_PARTS] = std::array::from_fn(|_| None);
    let mut blocks = blocks.into_iter();
    let mut count = 0;
    for (slot, block) in slots.iter_mut().zip(&mut blocks) {
        *slot = Some(block);
        count += 1;
    }
    assert!(blocks.next().is_none(), "at most {MAX_PARTS} blocks");
    for_each_mut(&mut slots[..count], |p, slot| {
        job(p, slot.take().expect("each block once"))
    });
}

/// Splits `out` — rows of `width` values — at the row numbers `bounds` (rising, from 0 to the
/// row count) into one block per part, and runs `job(rows, block, scratch)` on every block at
/// once (see [`run`]): `block` is `out`'s rows `rows`, `scratch` the part's own entry of
/// `scratch` (at least one per part).
pub fn for_row_blocks<T: Send, S: Send>(
    out: &mut [T],
    width: usize,
    bounds: &[usize],
    scratch: &mut [S],
    job: impl Fn(Range<usize>, &mut [T], &mut S) + Sync,
) {
    let parts = bounds.len().saturating_sub(1);
    assert!(scratch.len() >= parts, "one scratch per part");
    assert!(
        bounds.first() == Some(&0)
            && bounds.windows(2).all(|w| w[0] <= w[1])
            && bounds.last().map(|&n| n * width) == Some(out.len()),
        "row blocks must cover out in order"
    );
    if parts == 1 {
        return job(bounds[0]..bounds[1], out, &mut scratch[0]);
    }
    let mut rest = out;
    let blocks = bounds.windows(2).zip(scratch).map(|(ends, own)| {
        let (block, tail) = std::mem::take(&mut rest).split_at_mut((ends[1] - ends[0]) * width);
        rest = tail;
        (ends[0]..ends[1], block, own)
    });
    for_each_block(blocks, |_, (rows, block, own)| job(rows, block, own));
}

/// Splits `out` — rows of `width` values, `work` multiply-adds in all — into as many blocks of
/// consecutive rows, of equal size, as [`parts_for`] says, and runs `job(rows, block)` on
/// every block at once: the split of a product whose rows are computed independently.
pub fn for_even_row_blocks<T: Send>(
    out: &mut [T],
    width: usize,
    work: usize,
    job: impl Fn(Range<usize>, &mut [T]) + Sync,
) {
    let rows = out.len().checked_div(width).unwrap_or(0);
    let bounds = even_bounds(rows, parts_for(work, MIN_PART_WORK, rows));
    let mut no_scratch = [(); MAX_PARTS];
    for_row_blocks(out, width, &bounds, &mut no_scratch, |rows, block, _| {
        job(rows, block)
    });
}

/// `n` rows split into `parts` consecutive blocks of equal size (±1): the bounds
/// `0 = b₀ ≤ b₁ ≤ … ≤ b_parts = n` that [`for_row_blocks`] takes (on the stack: no allocation).
pub fn even_bounds(n: usize, parts: usize) -> Bounds {
    let parts = parts.clamp(1, MAX_PARTS);
    bounds(parts, |p| n * p / parts)
}

/// The bounds `at(0), at(1), …, at(parts)` of `parts` blocks (rising, for [`for_row_blocks`]).
pub fn bounds(parts: usize, at: impl Fn(usize) -> usize) -> Bounds {
    let parts = parts.clamp(1, MAX_PARTS);
    let mut bounds = Bounds([0; MAX_PARTS + 1], parts + 1);
    for (p, b) in bounds.0[..=parts].iter_mut().enumerate() {
        *b = at(p);
    }
    bounds
}

/// Row bounds of blocks, from [`even_bounds`] or [`bounds`]; reads as a slice.
pub struct Bounds([usize; MAX_PARTS + 1], usize);

impl std::ops::Deref for Bounds {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        &self.0[..self.1]
    }
}

/// A pointer the parts share; each part derives only its own item from it.
struct Shared<T>(*mut T);

impl<T> Shared<T> {
    /// The pointer (a method, so that closures capture the `Sync` wrapper, not its field).
    fn ptr(&self) -> *mut T {
        self.0
    }
}
// SAFETY: see `for_each_mut`: parts touch disjoint items through it.
unsafe impl<T: Send> Sync for Shared<T> {}

/// A job with the lifetime of its borrow erased while a call publishes it.
type Job = dyn Fn(usize) + Sync + 'static;

static TEAM: OnceLock<Team> = OnceLock::new();

#[derive(Default)]
struct Team {
    /// Held by the thread whose call the team is running.
    call: Mutex<Helpers>,
}

#[derive(Default)]
struct Helpers {
    shared: Arc<Board>,
    count: usize,
}

impl Helpers {
    /// Starts helpers until there are `n`; false if the system would not start one.
    fn grow_to(&mut self, n: usize) -> bool {
        while self.count < n {
            let (board, me) = (Arc::clone(&self.shared), self.count + 1);
            let seen = board.word.load(Ordering::SeqCst);
            let started = std::thread::Builder::new()
                .name(format!("scratchnet-team-{me}"))
                .spawn(move || board.serve(me, seen));
            if started.is_err() {
                return false;
            }
            self.count += 1;
        }
        true
    }
}

/// What the caller and its helpers share.
#[derive(Default)]
struct Board {
    /// The call's number (high bits) and its part count (low 8 bits), published together so
    /// that a helper never reads one call's number with another call's count.
    word: AtomicU64,
    /// The job of the current call: written only while no helper runs a part (the previous
    /// call has ended), read by a helper only after it has seen the call's `word`.
    job: UnsafeCell<Option<*const Job>>,
    /// Parts not yet finished by helpers.
    pending: AtomicUsize,
    /// The caller's MXCSR (x86-64's floating-point mode: flush of subnormals, rounding).
    mxcsr: AtomicU32,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    /// Helpers asleep, and where they sleep.
    sleepers: AtomicUsize,
    bell: (Mutex<()>, Condvar),
}

// SAFETY: `job` is accessed only under the protocol documented on it; the job it points to is
// `Sync`.
unsafe impl Sync for Board {}
unsafe impl Send for Board {}

const PARTS_BITS: u32 = 8;

impl Board {
    /// Publishes `job` for parts 1.. to the helpers, runs part 0, waits for the others.
    fn call(&self, parts: usize, job: &(dyn Fn(usize) + Sync)) {
        // SAFETY: no helper is running a part (the last call waited for all of them), and
        // this call waits for every part before `job`'s borrow ends, even when one panics.
        unsafe {
            let job: *const (dyn Fn(usize) + Sync + '_) = job;
            *self.job.get() = Some(std::mem::transmute::<
                *const (dyn Fn(usize) + Sync + '_),
                *const Job,
            >(job));
        }
        self.pending.store(parts - 1, Ordering::SeqCst);
        self.mxcsr.store(mxcsr(), Ordering::Relaxed);
        let number = (self.word.load(Ordering::Relaxed) >> PARTS_BITS) + 1;
        self.word
            .store(number << PARTS_BITS | parts as u64, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _bell = self.bell.0.lock().unwrap_or_else(|e| e.into_inner());
            self.bell.1.notify_all();
        }
        let mine = catch_unwind(AssertUnwindSafe(|| job(0)));
        let mut spins = 0u32;
        while self.pending.load(Ordering::Acquire) != 0 {
            pause(&mut spins);
        }
        let theirs = self.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(panic) = mine.err().or(theirs) {
            resume_unwind(panic);
        }
    }

    /// A helper's life: wait for a call, run its part `me` if the call has one, again.
    fn serve(&self, me: usize, mut seen: u64) {
        loop {
            seen = self.next_call(seen);
            let parts = (seen & ((1 << PARTS_BITS) - 1)) as usize;
            if me >= parts {
                continue;
            }
            set_mxcsr(self.mxcsr.load(Ordering::Relaxed));
            // SAFETY: the caller wrote the job before publishing `seen` and keeps it alive
            // until this part has decremented `pending`.
            let job = unsafe { &*(*self.job.get()).expect("a published job") };
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| job(me))) {
                *self.panic.lock().unwrap_or_else(|e| e.into_inner()) = Some(panic);
            }
            self.pending.fetch_sub(1, Ordering::Release);
        }
    }

    /// Waits until `word` differs from `seen` — spinning for [`SPIN`], then asleep — and
    /// returns it.
    fn next_call(&self, seen: u64) -> u64 {
        let (start, mut spins, mut hot) = (Instant::now(), 0u32, true);
        loop {
            let word = self.word.load(Ordering::Acquire);
            if word != seen {
                return word;
            }
            spins = spins.wrapping_add(1);
            if hot {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
            if spins.is_multiple_of(64) {
                let waited = start.elapsed();
                if waited > SPIN {
                    break;
                }
                hot = waited < SPIN_HOT;
            }
        }
        let mut bell = self.bell.0.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        loop {
            let word = self.word.load(Ordering::SeqCst);
            if word != seen {
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                return word;
            }
            bell = self.bell.1.wait(bell).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// One wait of a spinning loop: a pause instruction for the first [`PAUSES`] waits, then a
/// yield of the core, so that on a loaded machine the thread being waited for gets to run.
fn pause(spins: &mut u32) {
    *spins = spins.wrapping_add(1);
    if *spins < PAUSES {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// Pause instructions before a spinning loop starts yielding: about 50–200 µs on current
/// x86-64 cores (a pause takes 40–140 cycles), longer than the gaps between a step's splits.
const PAUSES: u32 = 1 << 12;

/// This thread's floating-point control register (0 off x86-64).
fn mxcsr() -> u32 {
    #[cfg(target_arch = "x86_64")]
    #[allow(deprecated)] // _mm_getcsr: the documented alternative is inline assembly.
    // SAFETY: reads this thread's floating-point control register.
    unsafe {
        std::arch::x86_64::_mm_getcsr()
    }
    #[cfg(not(target_arch = "x86_64"))]
    0
}

/// Makes this thread's floating-point mode `csr` (from [`mxcsr`] on another thread).
fn set_mxcsr(csr: u32) {
    #[cfg(target_arch = "x86_64")]
    #[allow(deprecated)] // as above
    // SAFETY: sets this thread's floating-point control register to a value another thread
    // of this process runs with; no memory is touched.
    unsafe {
        if std::arch::x86_64::_mm_getcsr() != csr {
            std::arch::x86_64::_mm_setcsr(csr);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = csr;
}

#[cfg(test)]
mod tests;
