//! The packed kernel's micro-kernels: a tile of MR × NR sums kept in vector registers while
//! the panels of x and w pass by, each term a fused multiply-add. An [`Operand`] says where a
//! step's values are: a packed panel, or rows of a matrix read in place at their offsets (the
//! convolution's padded image).
//!
//! On AVX-512 and AVX2 the tile is written with explicit intrinsics (LLVM, left to vectorize
//! the generic loop, keeps to 256-bit vectors even where 512-bit ones are allowed); on plain
//! x86-64 (and for other float types) it is the generic loop, `mul_add` per term. Both round
//! each term once, so they agree bit for bit.

use super::MR;
use crate::kernels::Level;
use crate::Float;
use std::any::TypeId;

/// Where the micro-kernel reads an operand's values: step p's value for lane t (A: row t of the
/// tile; B: column t).
pub(crate) trait Operand: Copy {
    /// The address of step p, lane t, for elements of type E.
    ///
    /// # Safety
    /// The operand must hold E values there.
    unsafe fn at<E>(self, p: usize, t: usize) -> *const E;
}

/// A packed panel: `width` values per step, one step after another.
#[derive(Clone, Copy)]
pub(crate) struct Panel {
    pub ptr: *const (),
    pub width: usize,
}

impl Operand for Panel {
    #[inline(always)]
    unsafe fn at<E>(self, p: usize, t: usize) -> *const E {
        // SAFETY: the caller's promise.
        unsafe { self.ptr.cast::<E>().add(p * self.width + t) }
    }
}

/// An operand read in place, each row at `base + offsets[i]`: for B (`BY_LANE` false) row p
/// holds step p's values, one per lane; for A (`BY_LANE` true) row t holds lane t's values,
/// one per step.
#[derive(Clone, Copy)]
pub(crate) struct Rows<const BY_LANE: bool> {
    pub base: *const (),
    pub offsets: *const usize,
}

impl<const BY_LANE: bool> Operand for Rows<BY_LANE> {
    #[inline(always)]
    unsafe fn at<E>(self, p: usize, t: usize) -> *const E {
        let (row, along) = if BY_LANE { (t, p) } else { (p, t) };
        // SAFETY: the caller's promise.
        unsafe { self.base.cast::<E>().add(*self.offsets.add(row) + along) }
    }
}

/// The tile's sums: `c[i·ldc + j] = fma(a(p, i), b(p, j), c[i·ldc + j])` for p in 0..steps
/// ascending, starting from c's values when `accumulate`, else from zero.
///
/// # Safety
/// c must be valid for reads and writes of MR rows of NR values, `ldc` apart (rows that do
/// not overlap); a must hold F values at every (p, i) for i < MR and b at every (p, j) for
/// j < NR; `level` must not exceed what the CPU supports.
#[inline(always)]
pub(super) unsafe fn micro<F: Float, const NR: usize, A: Operand, B: Operand>(
    level: Level,
    (a, b, steps): (A, B, usize),
    (c, ldc): (*mut F, usize),
    accumulate: bool,
) {
    #[cfg(target_arch = "x86_64")]
    {
        use x86::*;
        let is = |t: TypeId| TypeId::of::<F>() == t;
        let ops = (a, b, steps);
        // SAFETY (each arm): the caller's promises, F being the kernel's element type.
        match (level, NR) {
            (Level::Avx512, 32) if is(TypeId::of::<f32>()) => {
                return unsafe { z32_2(ops, (c.cast(), ldc), accumulate) }
            }
            (Level::Avx2, 16) if is(TypeId::of::<f32>()) => {
                return unsafe { y32_2(ops, (c.cast(), ldc), accumulate) }
            }
            (Level::Avx512, 16) if is(TypeId::of::<f64>()) => {
                return unsafe { z64_2(ops, (c.cast(), ldc), accumulate) }
            }
            (Level::Avx2, 8) if is(TypeId::of::<f64>()) => {
                return unsafe { y64_2(ops, (c.cast(), ldc), accumulate) }
            }
            _ => {}
        }
    }
    // SAFETY: the caller's promises.
    unsafe { generic::<F, NR, A, B>((a, b, steps), (c, ldc), accumulate) };
}

/// [`micro`] as a generic loop: plain x86-64 and any float type.
///
/// The sums are loaded from c into named rows, kept in registers over the whole loop, and
/// stored once (a local array indexed by a variable would stay in memory).
///
/// # Safety
/// As [`micro`]'s, for c.
#[inline(always)]
unsafe fn generic<F: Float, const NR: usize, A: Operand, B: Operand>(
    (a, b, steps): (A, B, usize),
    (c, ldc): (*mut F, usize),
    accumulate: bool,
) {
    const { assert!(MR == 6) };
    // SAFETY: row i is NR values at c + i·ldc (the caller's promise).
    let row = |i: usize| -> [F; NR] {
        match accumulate {
            true => unsafe { c.add(i * ldc).cast::<[F; NR]>().read_unaligned() },
            false => [F::zero(); NR],
        }
    };
    let (mut r0, mut r1, mut r2, mut r3, mut r4, mut r5) =
        (row(0), row(1), row(2), row(3), row(4), row(5));
    for p in 0..steps {
        // SAFETY: a and b hold values at every step's lanes (the caller's promise).
        let (x, w) = unsafe {
            let x = |i| *a.at::<F>(p, i);
            (
                [x(0), x(1), x(2), x(3), x(4), x(5)],
                b.at::<F>(p, 0).cast::<[F; NR]>().read_unaligned(),
            )
        };
        add_product(&mut r0, x[0], &w);
        add_product(&mut r1, x[1], &w);
        add_product(&mut r2, x[2], &w);
        add_product(&mut r3, x[3], &w);
        add_product(&mut r4, x[4], &w);
        add_product(&mut r5, x[5], &w);
    }
    for (i, r) in [r0, r1, r2, r3, r4, r5].into_iter().enumerate() {
        // SAFETY: as above.
        unsafe { c.add(i * ldc).cast::<[F; NR]>().write_unaligned(r) };
    }
}

/// `r[j] = fma(a, b[j], r[j])` for every j: one rounding per term (libm's correctly rounded
/// fma where the CPU has no FMA instruction).
#[inline(always)]
fn add_product<F: Float, const NR: usize>(r: &mut [F; NR], a: F, b: &[F; NR]) {
    for (r, &b) in r.iter_mut().zip(b) {
        *r = a.mul_add(b, *r);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The tile with explicit 512-bit (AVX-512) and 256-bit (AVX2) vectors.

    use super::{Operand, MR};
    use std::arch::x86_64::*;

    /// One vector type: loads, stores, broadcasts and fused multiply-adds of its lanes.
    pub trait Simd {
        /// The element.
        type E: Copy;
        /// The vector.
        type V: Copy;
        /// Elements per vector.
        const LANES: usize;
        /// All zeros.
        unsafe fn zero() -> Self::V;
        /// LANES elements from p.
        unsafe fn load(p: *const Self::E) -> Self::V;
        /// LANES elements to p.
        unsafe fn store(p: *mut Self::E, v: Self::V);
        /// x in every lane.
        unsafe fn splat(x: Self::E) -> Self::V;
        /// `a·b + c`, rounded once.
        unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    }

    /// Defines a [`Simd`] from its intrinsics and the features they need.
    macro_rules! simd {
        ($name:ident, $e:ty, $v:ty, $lanes:expr, $features:literal,
         $zero:ident, $load:ident, $store:ident, $splat:ident, $fma:ident) => {
            #[doc = concat!("`", stringify!($v), "`: ", stringify!($lanes), " × ", stringify!($e), ".")]
            pub struct $name;
            impl Simd for $name {
                type E = $e;
                type V = $v;
                const LANES: usize = $lanes;
                #[inline]
                #[target_feature(enable = $features)]
                unsafe fn zero() -> $v {
                    $zero()
                }
                #[inline]
                #[target_feature(enable = $features)]
                unsafe fn load(p: *const $e) -> $v {
                    $load(p)
                }
                #[inline]
                #[target_feature(enable = $features)]
                unsafe fn store(p: *mut $e, v: $v) {
                    $store(p, v)
                }
                #[inline]
                #[target_feature(enable = $features)]
                unsafe fn splat(x: $e) -> $v {
                    $splat(x)
                }
                #[inline]
                #[target_feature(enable = $features)]
                unsafe fn fma(a: $v, b: $v, c: $v) -> $v {
                    $fma(a, b, c)
                }
            }
        };
    }

    simd!(
        Z32,
        f32,
        __m512,
        16,
        "avx512f,fma",
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps
    );
    simd!(
        Y32,
        f32,
        __m256,
        8,
        "avx2,avx,fma",
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps
    );
    simd!(
        Z64,
        f64,
        __m512d,
        8,
        "avx512f,fma",
        _mm512_setzero_pd,
        _mm512_loadu_pd,
        _mm512_storeu_pd,
        _mm512_set1_pd,
        _mm512_fmadd_pd
    );
    simd!(
        Y64,
        f64,
        __m256d,
        4,
        "avx2,avx,fma",
        _mm256_setzero_pd,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_set1_pd,
        _mm256_fmadd_pd
    );

    /// Defines `unsafe fn $name(operands, c, accumulate)`: [`tile`] compiled for its
    /// instruction set.
    macro_rules! tiles {
        ($($name:ident = $s:ident * $v:literal, $features:literal;)*) => {$(
            #[doc = concat!("[`tile`] of ", stringify!($v), " × [`", stringify!($s), "`] per row.")]
            #[doc = ""]
            #[doc = "# Safety"]
            #[doc = "As [`tile`]'s."]
            #[target_feature(enable = $features)]
            pub unsafe fn $name<A: Operand, B: Operand>(
                ops: (A, B, usize),
                c: (*mut <$s as Simd>::E, usize),
                accumulate: bool,
            ) {
                tile::<$s, $v, A, B>(ops, c, accumulate)
            }
        )*};
    }

    tiles! {
        z32_2 = Z32 * 2, "avx512f,fma";
        y32_2 = Y32 * 2, "avx2,avx,fma";
        z64_2 = Z64 * 2, "avx512f,fma";
        y64_2 = Y64 * 2, "avx2,avx,fma";
    }

    /// The tile of MR rows × V vectors of S: [`super::micro`] for S's instruction set.
    ///
    /// # Safety
    /// The CPU must have S's features; c holds MR rows of V·LANES values, `ldc` apart; a holds
    /// values at every step's MR lanes, b at every step's V·LANES lanes.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // Constant bounds: the loops unroll into registers.
    pub unsafe fn tile<S: Simd, const V: usize, A: Operand, B: Operand>(
        (a, b, steps): (A, B, usize),
        (c, ldc): (*mut S::E, usize),
        accumulate: bool,
    ) {
        let mut sums = [[S::zero(); V]; MR];
        if accumulate {
            for i in 0..MR {
                for v in 0..V {
                    sums[i][v] = S::load(c.add(i * ldc + v * S::LANES));
                }
            }
        }
        for p in 0..steps {
            let mut w = [S::zero(); V];
            for v in 0..V {
                w[v] = S::load(b.at(p, v * S::LANES));
            }
            for i in 0..MR {
                let x = S::splat(*a.at(p, i));
                for v in 0..V {
                    sums[i][v] = S::fma(x, w[v], sums[i][v]);
                }
            }
        }
        for i in 0..MR {
            for v in 0..V {
                S::store(c.add(i * ldc + v * S::LANES), sums[i][v]);
            }
        }
    }
}
