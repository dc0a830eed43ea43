//! Kernels compiled for the widest vector instructions the CPU has, chosen at run time.
//!
//! A default build targets plain x86-64 (SSE2: 4 floats per instruction); the CPUs we run on
//! have AVX2 (8) or AVX-512 (16). Rather than ask users for `-C target-cpu=native` (and ship a
//! binary that crashes elsewhere), [`kernel!`](crate::kernel) compiles a kernel's body three
//! times — for AVX-512, for AVX2 and plain — and calls the best one the CPU supports. The
//! kernels use no fused multiply-add (`a * b + c` is never contracted without fast-math), so
//! every version rounds the same way and results are bit-identical whichever one runs.

use std::sync::atomic::{AtomicU8, Ordering};

/// Defines `fn name<F: Float>(args)` whose body is compiled for AVX-512, AVX2 and plain
/// x86-64, and dispatches at run time to the widest the CPU has, within [`force_level`]'s cap
/// (one cached feature check and one atomic load per call).
#[macro_export]
macro_rules! kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$F:ident>($($arg:ident : $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        $vis fn $name<$F: $crate::Float>($($arg: $ty),*) {
            #[inline(always)]
            fn body<$F: $crate::Float>($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,avx")]
                unsafe fn avx512<$F: $crate::Float>($($arg: $ty),*) {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2,avx")]
                unsafe fn avx2<$F: $crate::Float>($($arg: $ty),*) {
                    body($($arg),*)
                }
                match $crate::simd::level() {
                    // SAFETY: `level` never exceeds what the CPU supports.
                    $crate::simd::Level::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::simd::Level::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::simd::Level::Plain => {}
                }
            }
            body($($arg),*)
        }
    };
}

/// The instruction sets a [`kernel!`](crate::kernel) is compiled for, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Plain x86-64 (SSE2), or any other architecture.
    Plain,
    /// AVX2.
    Avx2,
    /// AVX-512 (F and VL).
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
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            return Level::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
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

/// `y += a · x`, element by element (the inner loop of every product here); x, y: same length.
#[inline(always)]
pub fn axpy<F: crate::Float>(a: F, x: &[F], y: &mut [F]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// `y = 0`, element by element.
#[inline(always)]
pub fn zero<F: crate::Float>(y: &mut [F]) {
    y.fill(F::zero());
}

/// Lanes summed together in one register-held accumulator: one AVX-512 register of f32.
const LANES: usize = 16;

/// `y += Σ_k coeffs[k] · row(k)` (every row as long as y); for y of 16 to 64 lanes (the users'
/// hidden layer of 50), each lane summed in a register.
///
/// Each lane's sum is a chain of additions `((y + a₀r₀) + a₁r₁) + …`, each waiting for the last.
/// Adding rows to y in memory would make every link of that chain a store and a load; here y
/// is cut into chunks of [`LANES`] lanes, up to four chunks (independent chains) held in
/// registers while every row is added, and stored once. When y's length is not a
/// multiple of [`LANES`], the last chunk is the last `LANES` lanes, overlapping the one before:
/// the shared lanes are computed twice, by the same operations in the same order, so they
/// agree. The additions are those of one row at a time, in the same order: same result.
/// Measured on the users' run (one thread): updates 1.57 → 1.38 s, weights bit for bit the same.
#[inline(always)]
pub fn add_rows<'a, F: crate::Float>(y: &mut [F], coeffs: &[F], row: impl Fn(usize) -> &'a [F]) {
    let n = y.len();
    if !(LANES..=4 * LANES).contains(&n) {
        return add_rows_streamed(y, coeffs, row);
    }
    // One to four chunks, starting at 0, 16, 32 and n − 16 (the last may overlap).
    let start = |c: usize| (c * LANES).min(n - LANES);
    match n.div_ceil(LANES) {
        1 => add_rows_chunks([0], y, coeffs, &row),
        2 => add_rows_chunks([0, start(1)], y, coeffs, &row),
        3 => add_rows_chunks([0, LANES, start(2)], y, coeffs, &row),
        _ => add_rows_chunks([0, LANES, 2 * LANES, start(3)], y, coeffs, &row),
    }
}

/// [`add_rows`] on the `C` chunks of [`LANES`] lanes of y starting at `starts`, held in
/// registers while every row is added.
#[inline(always)]
fn add_rows_chunks<'a, F: crate::Float, const C: usize>(
    starts: [usize; C],
    y: &mut [F],
    coeffs: &[F],
    row: &impl Fn(usize) -> &'a [F],
) {
    let chunk = |v: &[F], s: usize| -> [F; LANES] { v[s..s + LANES].try_into().expect("16 lanes") };
    let mut acc = [[F::zero(); LANES]; C];
    for (acc, &s) in acc.iter_mut().zip(&starts) {
        *acc = chunk(y, s);
    }
    for (k, &a) in coeffs.iter().enumerate() {
        let r = row(k);
        for (acc, &s) in acc.iter_mut().zip(&starts) {
            let r = chunk(r, s);
            for l in 0..LANES {
                acc[l] += a * r[l];
            }
        }
    }
    for (acc, &s) in acc.iter().zip(&starts) {
        y[s..s + LANES].copy_from_slice(acc);
    }
}

/// [`add_rows`] for y shorter than [`LANES`] (an output layer of 10) or longer than four
/// chunks (a hidden layer of 200 or 800): four rows per pass over y, so that y is loaded and
/// stored once per four rows. Measured against holding four chunks in registers pass after
/// pass, it is faster for these widths (width 800: 1.49 against 1.87 s of updates for 1200
/// steps; width 200: 0.43 against 0.48 s).
#[inline(always)]
fn add_rows_streamed<'a, F: crate::Float>(
    y: &mut [F],
    coeffs: &[F],
    row: impl Fn(usize) -> &'a [F],
) {
    let n = y.len();
    let mut k = 0;
    while k + 4 <= coeffs.len() {
        let (r0, r1, r2, r3) = (
            &row(k)[..n],
            &row(k + 1)[..n],
            &row(k + 2)[..n],
            &row(k + 3)[..n],
        );
        let (a0, a1, a2, a3) = (coeffs[k], coeffs[k + 1], coeffs[k + 2], coeffs[k + 3]);
        for j in 0..n {
            y[j] = y[j] + a0 * r0[j] + a1 * r1[j] + a2 * r2[j] + a3 * r3[j];
        }
        k += 4;
    }
    while k < coeffs.len() {
        axpy(coeffs[k], &row(k)[..n], y);
        k += 1;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Float;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::sync::Mutex;

    /// Held while a test has the process-wide cap set, so that two such tests cannot change it
    /// under each other (other tests may run meanwhile: a cap changes no result).
    static CAP_LOCK: Mutex<()> = Mutex::new(());

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

    crate::kernel! {
        /// [`add_rows`] as a kernel: y += Σ_k coeffs[k] · row k of `rows` (rows of y's length,
        /// one after another).
        fn add_rows_kernel<F>(y: &mut [F], coeffs: &[F], rows: &[F]) {
            let n = y.len();
            add_rows(y, coeffs, |k| &rows[k * n..(k + 1) * n]);
        }
    }

    /// The plain sum add_rows must equal: one row at a time, in order, `y ← y + a·r`.
    fn plain_add_rows<F: Float>(y: &mut [F], coeffs: &[F], rows: &[F]) {
        let n = y.len();
        for (k, &a) in coeffs.iter().enumerate() {
            for (j, y) in y.iter_mut().enumerate() {
                *y += a * rows[k * n + j];
            }
        }
    }

    /// `len` uniform values in ±1 (different exponents, so a change of order would round
    /// differently).
    fn uniform<F: Float>(rng: &mut ChaCha8Rng, len: usize) -> Vec<F> {
        (0..len)
            .map(|_| F::of(rng.random_range(-1.0..1.0)))
            .collect()
    }

    /// Widths around every case of add_rows: short (streamed), 16 to 64 in one to four chunks
    /// (16 and 33–48 included), the overlap at each non-multiple of 16, and wide (streamed).
    const WIDTHS: [std::ops::RangeInclusive<usize>; 3] = [1..=70, 128..=128, 200..=200];

    /// Row counts: none, fewer than four, multiples of four and remainders (streamed passes).
    const ROW_COUNTS: [usize; 7] = [0, 1, 3, 4, 5, 8, 11];

    /// add_rows at every width, row count and level against [`plain_add_rows`], bit for bit.
    fn check_add_rows<F: Float>() {
        let mut rng = ChaCha8Rng::seed_from_u64(16);
        let levels = at_every_level(|l| {
            for n in WIDTHS.into_iter().flatten() {
                for rows in ROW_COUNTS {
                    let (y0, coeffs, r) = (
                        uniform::<F>(&mut rng, n),
                        uniform::<F>(&mut rng, rows),
                        uniform::<F>(&mut rng, rows * n),
                    );
                    let (mut y, mut expected) = (y0.clone(), y0);
                    add_rows_kernel(&mut y, &coeffs, &r);
                    plain_add_rows(&mut expected, &coeffs, &r);
                    let bits = |v: &[F]| {
                        v.iter()
                            .map(|&x| Float::to_f64(x).to_bits())
                            .collect::<Vec<_>>()
                    };
                    assert!(
                        bits(&y) == bits(&expected),
                        "{l:?}, width {n}, {rows} rows:\n{y:?}\nvs the plain sum\n{expected:?}"
                    );
                }
            }
        });
        assert_eq!(levels.last(), Some(&detected_level()));
    }

    #[test]
    fn add_rows_is_the_plain_ordered_sum_at_every_width_and_level_f32() {
        check_add_rows::<f32>();
    }

    #[test]
    fn add_rows_is_the_plain_ordered_sum_at_every_width_and_level_f64() {
        check_add_rows::<f64>();
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
