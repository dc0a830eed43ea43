//! How many threads the matrix products and the evaluation use.

/// More threads than this are refused: each has its own stack, and past the number of cores
/// they only take turns.
pub const MAX_THREADS: usize = 1024;

/// Why the thread count could not be set.
#[derive(Debug, thiserror::Error)]
pub enum ThreadsError {
    /// Zero threads, or more than [`MAX_THREADS`].
    #[error(
        "invalid --threads {asked}: expected 1 to {MAX_THREADS} (this machine has {cores} cores)"
    )]
    OutOfRange {
        /// The number asked for.
        asked: usize,
        /// The cores this machine has.
        cores: usize,
    },
    /// The global thread pool was already started.
    #[error(transparent)]
    Pool(#[from] rayon::ThreadPoolBuildError),
}

/// Sets the number of threads, `n`, for rayon (whose count also sizes the kernels' team, which
/// splits a training step's products) and for
/// matrixmultiply (ndarray's `dot`, which reads it from `MATMUL_NUM_THREADS`), before either
/// starts; `None` leaves both at one per core. This thread and every rayon thread then flush
/// subnormal floats to zero (see [`flush_subnormals`]).
pub fn init(n: Option<usize>) -> Result<(), ThreadsError> {
    if let Some(n) = n {
        if !(1..=MAX_THREADS).contains(&n) {
            return Err(ThreadsError::OutOfRange {
                asked: n,
                cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            });
        }
        std::env::set_var("MATMUL_NUM_THREADS", n.to_string());
    }
    flush_subnormals();
    rayon::ThreadPoolBuilder::new()
        .num_threads(n.unwrap_or(0))
        .start_handler(|_| flush_subnormals())
        .build_global()?;
    Ok(())
}

/// Makes the calling thread's SSE/AVX arithmetic treat subnormal floats (below 1.2e-38 in f32,
/// 2.2e-308 in f64) as zero, read or written (MXCSR's FTZ and DAZ bits). A trained network's
/// errors and Adam's second moments shrink into that range, and every product that meets one
/// then takes a slow microcode path: SimpleConvNet's epochs went from 5.2 s to 8.3 s after the
/// first [Xeon]. Every thread that computes does the same, so the thread count changes no bit.
/// Elsewhere than x86-64: nothing.
fn flush_subnormals() {
    #[cfg(target_arch = "x86_64")]
    #[allow(deprecated)] // _mm_setcsr: the documented alternative is inline assembly.
    // SAFETY: sets two bits of this thread's floating-point control register; no memory.
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        const FLUSH_TO_ZERO: u32 = 1 << 15;
        const DENORMALS_ARE_ZERO: u32 = 1 << 6;
        _mm_setcsr(_mm_getcsr() | FLUSH_TO_ZERO | DENORMALS_ARE_ZERO);
    }
}

#[cfg(test)]
mod tests {
    use std::hint::black_box;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn a_flushing_thread_computes_subnormals_as_zero() {
        // Each test runs on a thread of its own: the flag set here goes nowhere else.
        let tiny = black_box(1e-39f32); // subnormal: below f32::MIN_POSITIVE (1.18e-38)
        assert_ne!((tiny * black_box(1.0)).to_bits(), 0);
        assert_ne!((black_box(1e-20f32) * black_box(1e-20)).to_bits(), 0);
        let before = black_box(1e-18f32) * black_box(1e-18);
        super::flush_subnormals();
        // Bits, not ==: a comparison too reads subnormals as zero once the flag is set.
        assert_eq!((tiny * black_box(1.0)).to_bits(), 0, "read as zero (DAZ)");
        let product = black_box(1e-20f32) * black_box(1e-20);
        assert_eq!(product.to_bits(), 0, "written as zero (FTZ)");
        let normal = black_box(1e-18f32) * black_box(1e-18);
        assert_eq!(
            normal.to_bits(),
            before.to_bits(),
            "normal values untouched"
        );
    }
}
