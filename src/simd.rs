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

/// `y += Σ_k coeffs[k] · row(k)` (every row as long as y), four rows per pass over y.
///
/// Adding one row at a time would store y and load it back for every row; four at a time
/// keeps the partial sums in registers four times as long. The additions happen in the same
/// order as one row at a time (`((y + a₀r₀) + a₁r₁) + …`), so the result is identical.
#[inline(always)]
pub fn add_rows<'a, F: crate::Float>(y: &mut [F], coeffs: &[F], row: impl Fn(usize) -> &'a [F]) {
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
