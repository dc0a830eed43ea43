//! The fast inner loops, in one place: each kernel beside the plain reference its tests
//! compare it with, bit for bit (llm.c's habit).
//!
//! - [`rows`]: `y += a·x` and `y += Σ_k a_k · row_k`, the inner loops of every product;
//! - [`csr`]: [`SparseRows`], a batch stored as its nonzero entries;
//! - [`input`]: [`Input`], a batch dense or sparse, and the rule that picks between them;
//! - [`sparse`]: the products of the Affine layer for a sparse x, skipping its zeros;
//! - [`im2col`]: the book's `im2col` and `col2im` (convolution's unrolling), and their
//!   per-image versions the Convolution layer runs;
//! - [`dense`]: the same products for a dense x: row kernels for small products, and
//! - [`packed`]: packed, register-blocked kernels for the large ones, split over threads;
//! - [`workspace`]: what the Affine layer keeps from forward for backward, and its scratch.
//!
//! Each product computes every output element from the same terms in one fixed order (from the
//! bias or 0, then the terms in ascending order of the summed index), whatever the route, the
//! SIMD level, the tile sizes or the number of threads, so a run gives the same bits on every
//! x86-64 CPU (tests/simd_paths.rs forces each level on one machine).
//!
//! A default build targets plain x86-64 (SSE2: 4 floats per instruction); the CPUs we run on
//! have AVX2 (8) or AVX-512 (16). Rather than ask users for `-C target-cpu=native` (and ship a
//! binary that crashes elsewhere), `kernel!` compiles a kernel's body three times — for
//! AVX-512, for AVX2 and plain — and calls the best one the CPU supports. Every version rounds
//! the same way, so results are bit-identical whichever one runs: the row kernels ([`rows`],
//! [`sparse`], [`csr`], the small dense products) round each multiply and each add (Rust
//! never contracts `a * b + c` into a fused multiply-add), and the [`packed`] kernel rounds
//! each term once, as a fused multiply-add at every level — the FMA instruction on AVX-512 and
//! AVX2 (both levels require FMA3), `mul_add` (libm's correctly rounded `fma`) on plain x86-64.
//! A correctly rounded fma has one right answer, so the two give the same bits.

pub mod conv;
pub mod csr;
pub mod dense;
pub mod im2col;
pub mod input;
pub mod packed;
pub mod rows;
pub mod sparse;
pub mod team;
pub mod workspace;

pub use csr::{SparseRows, SparseView};
pub use input::{density, few_nonzeros, mostly_zero, AsInput, Input, Samples, SPARSE_MAX_DENSITY};
pub use rows::{add_rows, axpy};
pub use workspace::Workspace;

use crate::Float;
use ndarray::{Array1, Array2, ArrayView2, Zip};
use std::sync::atomic::{AtomicU8, Ordering};

/// Defines `fn name<F: Float>(args)` whose body is compiled for AVX-512, AVX2 and plain
/// x86-64, and dispatches at run time to the widest the CPU has, within [`force_level`]'s cap
/// (one cached feature check and one atomic load per call).
macro_rules! kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$F:ident>($($arg:ident : $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        $vis fn $name<$F: $crate::Float>($($arg: $ty),*) {
            #[inline(always)]
            fn body<$F: $crate::Float>($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,avx,fma")]
                unsafe fn avx512<$F: $crate::Float>($($arg: $ty),*) {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2,avx,fma")]
                unsafe fn avx2<$F: $crate::Float>($($arg: $ty),*) {
                    body($($arg),*)
                }
                match $crate::kernels::level() {
                    // SAFETY: `level` never exceeds what the CPU supports.
                    $crate::kernels::Level::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::kernels::Level::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::kernels::Level::Plain => {}
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use kernel;

/// The instruction sets a kernel is compiled for, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Plain x86-64 (SSE2), or any other architecture.
    Plain,
    /// AVX2 and FMA3.
    Avx2,
    /// AVX-512 (F and VL) and FMA3.
    Avx512,
}

impl Level {
    /// Every level, narrowest first.
    pub const ALL: [Level; 3] = [Level::Plain, Level::Avx2, Level::Avx512];
}

/// The widest level kernels may use, as a `Level` number; `u8::MAX`: no cap.
static CAP: AtomicU8 = AtomicU8::new(u8::MAX);

/// Caps the instruction set every kernel uses, process-wide (`None`: the widest the CPU has).
/// All levels give the same bits, so this changes only speed: it exists so that tests can run
/// each level's code on one machine. Returns the cap it replaced.
pub fn force_level(cap: Option<Level>) -> Option<Level> {
    let old = CAP.swap(cap.map_or(u8::MAX, |l| l as u8), Ordering::Relaxed);
    Level::ALL.into_iter().find(|&l| l as u8 == old)
}

/// The widest level this CPU supports.
pub fn detected_level() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        // FMA at both: the packed kernel's fused multiply-adds (AVX2 CPUs without FMA3 are
        // rare; they run the plain level, the same bits through libm's fma).
        if has!("avx512f") && has!("avx512vl") && has!("fma") {
            return Level::Avx512;
        }
        if has!("avx2") && has!("fma") {
            return Level::Avx2;
        }
    }
    Level::Plain
}

/// The level kernels run at now: [`detected_level`], within [`force_level`]'s cap.
#[inline]
pub fn level() -> Level {
    let cap = CAP.load(Ordering::Relaxed);
    let detected = detected_level();
    if (detected as u8) <= cap {
        return detected;
    }
    Level::ALL[cap as usize]
}

/// `out = x·W + b`; x: (N, in), W: (in, out) in standard layout, b: (out,) → out: (N, out),
/// by the route x's form names: from its nonzero entries when sparse, from all of them when
/// dense (see [`Input::routed`] for choosing the form).
pub fn affine_into<F: Float>(x: Input<F>, W: ArrayView2<F>, b: &Array1<F>, out: &mut Array2<F>) {
    match x {
        Input::Dense(x) => dense::affine_into(x, W, b, out),
        Input::Sparse(x) => sparse::affine_into(x, W, b, out),
    }
}

/// Makes `buf` a (rows, cols) array, reallocating only when its shape changes.
pub fn ensure_shape<F: Float>(buf: &mut Array2<F>, rows: usize, cols: usize) {
    if buf.dim() != (rows, cols) {
        *buf = Array2::zeros((rows, cols));
    }
}

/// Copies `src` into `buf`, resizing `buf` first if needed.
pub fn copy_into<F: Float>(buf: &mut Array2<F>, src: ArrayView2<F>) {
    ensure_shape(buf, src.nrows(), src.ncols());
    Zip::from(buf).and(src).for_each(|b, &s| *b = s);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::sync::Mutex;

    /// Held while a test has the process-wide cap set, so that two such tests cannot change it
    /// under each other (other tests may run meanwhile: a cap changes no result).
    static CAP_LOCK: Mutex<()> = Mutex::new(());

    /// Makes this thread's products split into a given number of parts until dropped.
    pub struct ForceParts(Option<usize>);

    impl ForceParts {
        pub fn new(parts: usize) -> Self {
            ForceParts(super::team::force_parts(Some(parts)))
        }
    }

    impl Drop for ForceParts {
        fn drop(&mut self) {
            super::team::force_parts(self.0);
        }
    }

    /// Puts the cap back as it was when dropped, even if the test panicked.
    struct RestoreCap(Option<Level>);

    impl Drop for RestoreCap {
        fn drop(&mut self) {
            force_level(self.0);
        }
    }

    /// Runs `f` at every level this CPU supports, narrowest first, with kernels capped to that
    /// level (checked through [`level`], which every kernel consults), and returns the levels
    /// run. A level the CPU lacks cannot run: it is left out, and named on standard error.
    pub fn at_every_level(mut f: impl FnMut(Level)) -> Vec<Level> {
        let _lock = CAP_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _restore = RestoreCap(force_level(None));
        let (supported, lacking): (Vec<Level>, Vec<Level>) =
            Level::ALL.into_iter().partition(|&l| l <= detected_level());
        eprintln!("SIMD levels run: {supported:?}; not supported by this CPU: {lacking:?}");
        for &l in &supported {
            force_level(Some(l));
            assert_eq!(level(), l, "kernels do not run at the forced level");
            f(l);
        }
        supported
    }

    /// `len` uniform values in ±1 (different exponents, so a change of order would round
    /// differently).
    pub fn uniform<F: Float>(rng: &mut ChaCha8Rng, len: usize) -> Vec<F> {
        (0..len)
            .map(|_| F::of(rng.random_range(-1.0..1.0)))
            .collect()
    }

    /// A (rows, cols) matrix of uniform values in ±1, about `zeros` of them set to 0.
    pub fn matrix(rng: &mut ChaCha8Rng, (rows, cols): (usize, usize), zeros: f64) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |_| {
            let v: f64 = rng.random_range(-1.0..1.0);
            if rng.random::<f64>() < zeros {
                0.0
            } else {
                v
            }
        })
    }

    /// A random generator for a test, from its seed.
    pub fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    /// The bits of every value: equal bits, equal numbers (and zeros of the same sign).
    pub fn bits<F: Float>(v: &[F]) -> Vec<u64> {
        v.iter().map(|&x| Float::to_f64(x).to_bits()).collect()
    }

    #[test]
    fn force_level_caps_kernels_and_returns_the_cap_it_replaced() {
        let levels = at_every_level(|l| {
            assert_eq!(force_level(Some(Level::Plain)), Some(l));
            assert_eq!(level(), Level::Plain);
            assert_eq!(force_level(None), Some(Level::Plain));
            assert_eq!(level(), detected_level());
            force_level(Some(l));
        });
        assert_eq!(levels.first(), Some(&Level::Plain));
        assert_eq!(levels.last(), Some(&detected_level()));
    }
}
