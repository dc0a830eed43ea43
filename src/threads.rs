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

/// Sets the number of threads, `n`, for rayon (which the large packed products also use) and for
/// matrixmultiply (ndarray's `dot`, which reads it from `MATMUL_NUM_THREADS`), before either
/// starts; `None` leaves both at one per core.
pub fn init(n: Option<usize>) -> Result<(), ThreadsError> {
    let Some(n) = n else { return Ok(()) };
    if !(1..=MAX_THREADS).contains(&n) {
        return Err(ThreadsError::OutOfRange {
            asked: n,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        });
    }
    std::env::set_var("MATMUL_NUM_THREADS", n.to_string());
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()?;
    Ok(())
}
