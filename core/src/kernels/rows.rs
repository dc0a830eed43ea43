//! The inner loops of every product: `y += a·x` ([`axpy`]) and `y += Σ_k a_k · row_k`
//! ([`add_rows`]), inlined into the kernels that call them (so compiled for their SIMD level).
//! Tests compare [`add_rows`] with the plain ordered sum, bit for bit, at every level.

use crate::Float;

/// `y += a · x`, element by element (the inner loop of every product here); x, y: same length.
#[inline(always)]
pub fn axpy<F: Float>(a: F, x: &[F], y: &mut [F]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// `dst = src` for a row of a few dozen values, by fixed blocks of 8 that compile to a few
/// vector moves (`copy_from_slice` calls `memmove`, whose call costs as much as such a copy).
#[inline(always)]
pub fn copy<F: Float>(dst: &mut [F], src: &[F]) {
    let done = dst.len() / 8 * 8;
    let mut blocks = dst.chunks_exact_mut(8);
    for (d, s) in (&mut blocks).zip(src.chunks_exact(8)) {
        let s: &[F; 8] = s.try_into().expect("8 values");
        d.copy_from_slice(s);
    }
    for (d, &s) in blocks.into_remainder().iter_mut().zip(&src[done..]) {
        *d = s;
    }
}

/// `y = 0`, element by element.
#[inline(always)]
pub fn zero<F: Float>(y: &mut [F]) {
    y.fill(F::zero());
}

/// Lanes summed together in one register-held accumulator: one AVX-512 register of f32.
pub const LANES: usize = 16;

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
pub fn add_rows<'a, F: Float>(y: &mut [F], coeffs: &[F], row: impl Fn(usize) -> &'a [F]) {
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
fn add_rows_chunks<'a, F: Float, const C: usize>(
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
fn add_rows_streamed<'a, F: Float>(y: &mut [F], coeffs: &[F], row: impl Fn(usize) -> &'a [F]) {
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
mod tests {
    use super::*;
    use crate::kernels::detected_level;
    use crate::kernels::tests::{at_every_level, bits, rng, uniform};

    crate::kernels::kernel! {
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

    /// Widths around every case of add_rows: short (streamed), 16 to 64 in one to four chunks
    /// (16 and 33–48 included), the overlap at each non-multiple of 16, and wide (streamed).
    const WIDTHS: [std::ops::RangeInclusive<usize>; 3] = [1..=70, 128..=128, 200..=200];

    /// Row counts: none, fewer than four, multiples of four and remainders (streamed passes).
    const ROW_COUNTS: [usize; 7] = [0, 1, 3, 4, 5, 8, 11];

    /// add_rows at every width, row count and level against [`plain_add_rows`], bit for bit.
    fn check_add_rows<F: Float>() {
        let mut rng = rng(16);
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
}
