//! Blocks of 8 × 8 values copied transposed, for packing rows side by side: f32 in eight
//! 256-bit registers (AVX, at both SIMD levels), other types value by value.

use crate::kernels::Level;
use crate::Float;
use std::any::TypeId;

/// `dst[j·dst_stride + i] = src[i·src_stride + j]` for i, j in 0..8.
///
/// # Safety
/// src must be readable at 8 rows of 8 values, `src_stride` apart; dst writable at 8 rows of
/// 8, `dst_stride` apart, not overlapping src; `level` must not exceed what the CPU supports.
#[inline(always)]
pub(super) unsafe fn block8<F: Float>(
    level: Level,
    (src, src_stride): (*const F, usize),
    (dst, dst_stride): (*mut F, usize),
) {
    #[cfg(target_arch = "x86_64")]
    if level >= Level::Avx2 && TypeId::of::<F>() == TypeId::of::<f32>() {
        // SAFETY: the caller's promises; F is f32.
        return unsafe { x86::block8((src.cast(), src_stride), (dst.cast(), dst_stride)) };
    }
    let _ = level;
    for i in 0..8 {
        for j in 0..8 {
            // SAFETY: the caller's promises.
            unsafe { *dst.add(j * dst_stride + i) = *src.add(i * src_stride + j) };
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// [`super::block8`] for f32: the eight rows in registers, interleaved in pairs, then in
    /// fours, then the 128-bit halves exchanged (column j gathers in register j).
    ///
    /// # Safety
    /// As [`super::block8`]'s; the CPU must have AVX.
    #[target_feature(enable = "avx")]
    pub unsafe fn block8((src, ss): (*const f32, usize), (dst, ds): (*mut f32, usize)) {
        // SAFETY (loads and stores): the caller's promises.
        let r: [__m256; 8] = std::array::from_fn(|i| unsafe { _mm256_loadu_ps(src.add(i * ss)) });
        let t = [
            _mm256_unpacklo_ps(r[0], r[1]),
            _mm256_unpackhi_ps(r[0], r[1]),
            _mm256_unpacklo_ps(r[2], r[3]),
            _mm256_unpackhi_ps(r[2], r[3]),
            _mm256_unpacklo_ps(r[4], r[5]),
            _mm256_unpackhi_ps(r[4], r[5]),
            _mm256_unpacklo_ps(r[6], r[7]),
            _mm256_unpackhi_ps(r[6], r[7]),
        ];
        // s[0]: columns 0 and 4 of rows 0–3, s[1]: 1 and 5, s[2]: 2 and 6, s[3]: 3 and 7;
        // s[4..]: the same of rows 4–7.
        let s = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]),
            _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]),
            _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]),
            _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]),
            _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
        ];
        for j in 0..4 {
            let low = _mm256_permute2f128_ps::<0x20>(s[j], s[j + 4]);
            let high = _mm256_permute2f128_ps::<0x31>(s[j], s[j + 4]);
            unsafe {
                _mm256_storeu_ps(dst.add(j * ds), low);
                _mm256_storeu_ps(dst.add((j + 4) * ds), high);
            }
        }
    }
}
