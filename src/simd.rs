//! Kernels compiled for the widest vector instructions the CPU has, chosen at run time.
//!
//! A default build targets plain x86-64 (SSE2: 4 floats per instruction); the CPUs we run on
//! have AVX2 (8) or AVX-512 (16). Rather than ask users for `-C target-cpu=native` (and ship a
//! binary that crashes elsewhere), [`kernel!`](crate::kernel) compiles a kernel's body three
//! times — for AVX-512, for AVX2 and plain — and calls the best one the CPU supports. The
//! kernels use no fused multiply-add (`a * b + c` is never contracted without fast-math), so
//! every version rounds the same way and results are bit-identical whichever one runs.

/// Defines `fn name<F: Float>(args)` whose body is compiled for AVX-512, AVX2 and plain
/// x86-64, and dispatches at run time (one cached feature check per call).
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
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports every feature the function is compiled with.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: as above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
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
