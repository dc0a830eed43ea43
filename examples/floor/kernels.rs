//! The floor's kernels: the first layer gathered from W1's rows and its gradient summed by pixel
//! (AVX-512F, AVX2 + FMA, plain), the small layer (plain Rust compiled at each level), the batch's
//! nonzeros bucketed by pixel.

use scratchnet_core::layers::SparseRows;

/// Inputs, hidden units, outputs of the users' run's TwoLayerNet; its batch and learning rate.
pub const D: usize = 784;
pub const H: usize = 50;
/// A hidden row's floats in memory: H padded to a cache line's multiple.
pub const S: usize = 64;
pub const C: usize = 10;
pub const BATCH: usize = 100;
pub const LR: f32 = 0.1;

/// One padded row of 64 floats, 64-byte aligned; lanes H..S stay 0.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub struct Row(pub [f32; S]);

pub const ZERO: Row = Row([0.0; S]);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Level {
    Avx512,
    Avx2,
    Plain,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Avx512 => "avx512f",
            Level::Avx2 => "avx2+fma",
            Level::Plain => "plain",
        }
    }

    /// Every level this CPU runs, best first.
    pub fn available() -> Vec<Level> {
        let mut levels = vec![];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                levels.push(Level::Avx512);
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                levels.push(Level::Avx2);
            }
        }
        levels.push(Level::Plain);
        levels
    }
}

/// A set's nonzero pixels (CSR), column numbers as u16.
pub struct Csr {
    pub indptr: Vec<u32>,
    pub indices: Vec<u16>,
    pub values: Vec<f32>,
}

impl Csr {
    pub fn new(x: &SparseRows<f32>) -> Csr {
        let mut csr = Csr {
            indptr: vec![0],
            indices: Vec::with_capacity(x.nnz()),
            values: Vec::with_capacity(x.nnz()),
        };
        assert_eq!(x.ncols(), D);
        for n in 0..x.nrows() {
            let (indices, values) = x.row(n);
            csr.indices.extend(indices.iter().map(|&i| i as u16));
            csr.values.extend_from_slice(values);
            csr.indptr.push(csr.indices.len() as u32);
        }
        csr
    }

    #[inline(always)]
    pub fn row(&self, n: u32) -> (&[u16], &[f32]) {
        let range = self.indptr[n as usize] as usize..self.indptr[n as usize + 1] as usize;
        (&self.indices[range.clone()], &self.values[range])
    }
}

/// Everything but W1.
#[derive(Clone)]
pub struct Small {
    pub b1: Row,
    /// W2 transposed: output k's 50 weights, padded (for dh = W2 · dy).
    pub w2t: [Row; C],
    /// W2 as it is: hidden unit j's 10 weights, padded to 16 lanes (for z · W2), the same values.
    pub w2: [[f32; 16]; H],
    pub b2: [f32; C],
}

#[derive(Clone)]
pub struct Grads {
    pub dw2t: [Row; C],
    pub db2: [f32; C],
    pub db1: Row,
}

/// One thread's buffers: its rows' hidden layer and gradient, its nonzeros bucketed by pixel.
pub struct Part {
    pub h: Vec<Row>,
    pub dh: Vec<Row>,
    /// Pixel i's entries are `entries(i)` in `trow` (row in the part) and `tval`: a bucket of
    /// BATCH places per pixel (a pixel is at most once in a row), `count[i]` of them filled.
    pub count: Vec<u32>,
    pub trow: Vec<u16>,
    pub tval: Vec<f32>,
    pub grads: Grads,
    pub loss: f32,
    pub correct: [usize; 2],
}

impl Part {
    #[inline(always)]
    pub fn entries(&self, i: usize) -> std::ops::Range<usize> {
        i * BATCH..i * BATCH + self.count[i] as usize
    }

    pub fn new() -> Part {
        Part {
            h: vec![ZERO; BATCH],
            dh: vec![ZERO; BATCH],
            count: vec![0; D],
            trow: vec![0; BATCH * D],
            tval: vec![0.0; BATCH * D],
            grads: Grads {
                dw2t: [ZERO; C],
                db2: [0.0; C],
                db1: ZERO,
            },
            loss: 0.0,
            correct: [0; 2],
        }
    }
}

// --- the kernels ------------------------------------------------------------------------------

#[cfg(target_arch = "x86_64")]
// The accumulators are arrays of registers indexed like the row's vectors they hold.
#[allow(clippy::needless_range_loop)]
pub mod simd {
    use super::{Csr, Part, Row, C, D, S};
    use std::arch::x86_64::*;

    /// h[n] = b1 + Σ x·W1[i] over row n's nonzeros: 4 × 16 lanes, two sets of accumulators
    /// (even and odd nonzeros) to hide the fused multiply-add's latency.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn forward_avx512(w1: &[Row], b1: &Row, x: &Csr, rows: &[u32], h: &mut [Row]) {
        let w1 = w1.as_ptr() as *const f32;
        for (out, &r) in h.iter_mut().zip(rows) {
            let (idx, val) = x.row(r);
            let b = b1.0.as_ptr();
            let mut a = [0; 4].map(|_| _mm512_setzero_ps());
            let mut c = a;
            for k in 0..4 {
                a[k] = _mm512_load_ps(b.add(16 * k));
            }
            let pairs = idx.len() / 2;
            for p in 0..pairs {
                let (i0, i1) = (*idx.get_unchecked(2 * p), *idx.get_unchecked(2 * p + 1));
                let v0 = _mm512_set1_ps(*val.get_unchecked(2 * p));
                let v1 = _mm512_set1_ps(*val.get_unchecked(2 * p + 1));
                let (w0, w1_) = (w1.add(i0 as usize * S), w1.add(i1 as usize * S));
                for k in 0..4 {
                    a[k] = _mm512_fmadd_ps(v0, _mm512_load_ps(w0.add(16 * k)), a[k]);
                    c[k] = _mm512_fmadd_ps(v1, _mm512_load_ps(w1_.add(16 * k)), c[k]);
                }
            }
            if idx.len() % 2 == 1 {
                let v = _mm512_set1_ps(val[idx.len() - 1]);
                let w = w1.add(idx[idx.len() - 1] as usize * S);
                for k in 0..4 {
                    a[k] = _mm512_fmadd_ps(v, _mm512_load_ps(w.add(16 * k)), a[k]);
                }
            }
            let o = out.0.as_mut_ptr();
            for k in 0..4 {
                _mm512_store_ps(o.add(16 * k), _mm512_add_ps(a[k], c[k]));
            }
        }
    }

    /// The same with 7 × 8 lanes (56 ≥ 50), one set of accumulators (16 registers).
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn forward_avx2(w1: &[Row], b1: &Row, x: &Csr, rows: &[u32], h: &mut [Row]) {
        let w1 = w1.as_ptr() as *const f32;
        for (out, &r) in h.iter_mut().zip(rows) {
            let (idx, val) = x.row(r);
            let b = b1.0.as_ptr();
            let mut a = [0; 7].map(|_| _mm256_setzero_ps());
            for k in 0..7 {
                a[k] = _mm256_load_ps(b.add(8 * k));
            }
            for (&i, &v) in idx.iter().zip(val) {
                let v = _mm256_set1_ps(v);
                let w = w1.add(i as usize * S);
                for k in 0..7 {
                    a[k] = _mm256_fmadd_ps(v, _mm256_load_ps(w.add(8 * k)), a[k]);
                }
            }
            let o = out.0.as_mut_ptr();
            for k in 0..7 {
                _mm256_store_ps(o.add(8 * k), a[k]);
            }
        }
    }

    /// For each pixel of `w1` (rows c0.. of W1): dW1 row = Σ x·dh[n] over its entries in every
    /// part, held in registers, then W1 row −= lr · dW1 row. Untouched pixels are skipped.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn update_avx512(w1: &mut [Row], c0: usize, parts: &[Option<&Part>; 2], lr: f32) {
        let lr = _mm512_set1_ps(lr);
        for (j, row) in w1.iter_mut().enumerate() {
            let i = c0 + j;
            let mut a = [0; 4].map(|_| _mm512_setzero_ps());
            let mut c = a;
            let mut touched = false;
            for p in parts.iter().flatten() {
                let std::ops::Range { start: s, end: e } = p.entries(i);
                touched |= e > s;
                let dh = p.dh.as_ptr() as *const f32;
                let mut e0 = s;
                while e0 + 1 < e {
                    let v0 = _mm512_set1_ps(*p.tval.get_unchecked(e0));
                    let v1 = _mm512_set1_ps(*p.tval.get_unchecked(e0 + 1));
                    let d0 = dh.add(*p.trow.get_unchecked(e0) as usize * S);
                    let d1 = dh.add(*p.trow.get_unchecked(e0 + 1) as usize * S);
                    for k in 0..4 {
                        a[k] = _mm512_fmadd_ps(v0, _mm512_load_ps(d0.add(16 * k)), a[k]);
                        c[k] = _mm512_fmadd_ps(v1, _mm512_load_ps(d1.add(16 * k)), c[k]);
                    }
                    e0 += 2;
                }
                if e0 < e {
                    let v = _mm512_set1_ps(p.tval[e0]);
                    let d = dh.add(p.trow[e0] as usize * S);
                    for k in 0..4 {
                        a[k] = _mm512_fmadd_ps(v, _mm512_load_ps(d.add(16 * k)), a[k]);
                    }
                }
            }
            if touched {
                let w = row.0.as_mut_ptr();
                for k in 0..4 {
                    let g = _mm512_add_ps(a[k], c[k]);
                    let new = _mm512_fnmadd_ps(lr, g, _mm512_load_ps(w.add(16 * k)));
                    _mm512_store_ps(w.add(16 * k), new);
                }
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn update_avx2(w1: &mut [Row], c0: usize, parts: &[Option<&Part>; 2], lr: f32) {
        let lr = _mm256_set1_ps(lr);
        for (j, row) in w1.iter_mut().enumerate() {
            let i = c0 + j;
            let mut a = [0; 7].map(|_| _mm256_setzero_ps());
            let mut touched = false;
            for p in parts.iter().flatten() {
                let std::ops::Range { start: s, end: e } = p.entries(i);
                touched |= e > s;
                let dh = p.dh.as_ptr() as *const f32;
                for e in s..e {
                    let v = _mm256_set1_ps(*p.tval.get_unchecked(e));
                    let d = dh.add(*p.trow.get_unchecked(e) as usize * S);
                    for k in 0..7 {
                        a[k] = _mm256_fmadd_ps(v, _mm256_load_ps(d.add(8 * k)), a[k]);
                    }
                }
            }
            if touched {
                let w = row.0.as_mut_ptr();
                for k in 0..7 {
                    let new = _mm256_fnmadd_ps(lr, a[k], _mm256_load_ps(w.add(8 * k)));
                    _mm256_store_ps(w.add(8 * k), new);
                }
            }
        }
    }

    // The small layer's code is plain Rust, compiled here with each level's instructions.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn small_avx512(
        s: &super::Small,
        t: &[u8],
        h: &mut [Row],
        dh: &mut [Row],
        g: &mut super::Grads,
    ) -> f32 {
        super::small_layer(s, t, h, dh, g)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn small_avx2(
        s: &super::Small,
        t: &[u8],
        h: &mut [Row],
        dh: &mut [Row],
        g: &mut super::Grads,
    ) -> f32 {
        super::small_layer(s, t, h, dh, g)
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn classify_avx512(s: &super::Small, t: &[u8], h: &mut [Row]) -> usize {
        super::classify(s, t, h)
    }

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn classify_avx2(s: &super::Small, t: &[u8], h: &mut [Row]) -> usize {
        super::classify(s, t, h)
    }

    const _: () = assert!(D < u16::MAX as usize && C == 10);
}

pub fn forward_plain(w1: &[Row], b1: &Row, x: &Csr, rows: &[u32], h: &mut [Row]) {
    for (out, &r) in h.iter_mut().zip(rows) {
        let (idx, val) = x.row(r);
        out.0 = b1.0;
        for (&i, &v) in idx.iter().zip(val) {
            for (o, w) in out.0[..H].iter_mut().zip(&w1[i as usize].0[..H]) {
                *o += v * w;
            }
        }
    }
}

pub fn update_plain(w1: &mut [Row], c0: usize, parts: &[Option<&Part>; 2], lr: f32) {
    for (j, row) in w1.iter_mut().enumerate() {
        let i = c0 + j;
        let mut g = [0.0f32; H];
        let mut touched = false;
        for p in parts.iter().flatten() {
            for e in p.entries(i) {
                touched = true;
                let (v, d) = (p.tval[e], &p.dh[p.trow[e] as usize].0);
                for (g, d) in g.iter_mut().zip(d) {
                    *g += v * d;
                }
            }
        }
        if touched {
            for (w, g) in row.0.iter_mut().zip(g) {
                *w -= lr * g;
            }
        }
    }
}

/// e^x to about 1e-7 relative, without branches (it vectorises): 2^n · p(r), x = n ln 2 + r.
#[inline(always)]
pub fn exp_fast(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer, in the low bits
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E + MAGIC;
    let n = t - MAGIC;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let e = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32) + 127;
    p * f32::from_bits((e << 23) as u32)
}

/// Sigmoid in place over the real lanes; the padding lanes set to 0 (so that they stay out of
/// every product and gradient).
#[inline(always)]
pub fn sigmoid_row(h: &mut Row) {
    for v in &mut h.0[..H] {
        *v = 1.0 / (1.0 + exp_fast(-*v));
    }
    h.0[H..].fill(0.0);
}

/// The second layer's outputs for z, C padded to 16 lanes (the padding 0): z[j] times W2's
/// row j added for each j, even and odd rows into two sums (so that it vectorises).
#[inline(always)]
pub fn logits(s: &Small, z: &Row) -> [f32; 16] {
    let (mut a, mut c) = ([0.0f32; 16], [0.0f32; 16]);
    a[..C].copy_from_slice(&s.b2);
    for (z, w) in z.0[..H].chunks_exact(2).zip(s.w2.chunks_exact(2)) {
        for l in 0..16 {
            a[l] += z[0] * w[0][l];
            c[l] += z[1] * w[1][l];
        }
    }
    for l in 0..16 {
        a[l] += c[l];
    }
    a
}

/// v[0] ⊕ v[1] ⊕ … ⊕ v[15], pairwise (halves folded onto each other, unrolled).
#[inline(always)]
pub fn tree(v: [f32; 16], op: impl Fn(f32, f32) -> f32) -> f32 {
    let v: [f32; 8] = std::array::from_fn(|l| op(v[l], v[l + 8]));
    let v: [f32; 4] = std::array::from_fn(|l| op(v[l], v[l + 4]));
    let v: [f32; 2] = std::array::from_fn(|l| op(v[l], v[l + 2]));
    op(v[0], v[1])
}

/// The rows' forward from the hidden pre-activations `h` (turned into z in place), softmax,
/// cross-entropy and backward to dh, accumulating dW2, db2 and db1. Returns the loss summed.
#[inline(always)]
pub fn small_layer(s: &Small, t: &[u8], h: &mut [Row], dh: &mut [Row], g: &mut Grads) -> f32 {
    *g = Grads {
        dw2t: [ZERO; C],
        db2: [0.0; C],
        db1: ZERO,
    };
    let inv = 1.0 / BATCH as f32;
    let mut loss = 0.0;
    for ((z, d), &t) in h.iter_mut().zip(dh.iter_mut()).zip(t) {
        sigmoid_row(z);
        let mut a = logits(s, z);
        a[C..].fill(f32::MIN);
        let m = tree(a, f32::max);
        let mut e = [0.0f32; 16];
        for l in 0..16 {
            e[l] = if l < C { exp_fast(a[l] - m) } else { 0.0 };
        }
        let sum = tree(e, |x, y| x + y);
        loss += sum.ln() - (a[t as usize] - m);
        let mut dy = [0.0f32; 16];
        for l in 0..16 {
            dy[l] = e[l] / sum * inv;
        }
        dy[t as usize] -= inv;
        d.0 = [0.0; S];
        for (k, &dy) in dy[..C].iter().enumerate() {
            g.db2[k] += dy;
            let (gw, w) = (&mut g.dw2t[k].0, &s.w2t[k].0);
            for ((gw, zj), (dj, wj)) in gw.iter_mut().zip(&z.0).zip(d.0.iter_mut().zip(w)) {
                *gw += dy * zj;
                *dj += dy * wj;
            }
        }
        for ((dj, zj), b) in d.0.iter_mut().zip(&z.0).zip(&mut g.db1.0) {
            *dj *= (1.0 - zj) * zj;
            *b += *dj;
        }
    }
    loss
}

/// The rows' sigmoid, second layer and arg max: how many match the labels.
#[inline(always)]
pub fn classify(s: &Small, t: &[u8], h: &mut [Row]) -> usize {
    let mut correct = 0;
    for (z, &t) in h.iter_mut().zip(t) {
        sigmoid_row(z);
        let a = logits(s, z);
        let best = (1..C).fold(0, |b, k| if a[k] > a[b] { k } else { b });
        correct += usize::from(best == t as usize);
    }
    correct
}

pub fn forward(level: Level, w1: &[Row], b1: &Row, x: &Csr, rows: &[u32], h: &mut [Row]) {
    match level {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => unsafe { simd::forward_avx512(w1, b1, x, rows, h) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { simd::forward_avx2(w1, b1, x, rows, h) },
        _ => forward_plain(w1, b1, x, rows, h),
    }
}

pub fn update(level: Level, w1: &mut [Row], c0: usize, parts: &[Option<&Part>; 2]) {
    match level {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => unsafe { simd::update_avx512(w1, c0, parts, LR) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { simd::update_avx2(w1, c0, parts, LR) },
        _ => update_plain(w1, c0, parts, LR),
    }
}

pub fn small(
    level: Level,
    s: &Small,
    t: &[u8],
    h: &mut [Row],
    dh: &mut [Row],
    g: &mut Grads,
) -> f32 {
    match level {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => unsafe { simd::small_avx512(s, t, h, dh, g) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { simd::small_avx2(s, t, h, dh, g) },
        _ => small_layer(s, t, h, dh, g),
    }
}

pub fn classify_at(level: Level, s: &Small, t: &[u8], h: &mut [Row]) -> usize {
    match level {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => unsafe { simd::classify_avx512(s, t, h) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { simd::classify_avx2(s, t, h) },
        _ => classify(s, t, h),
    }
}

/// The part's nonzeros bucketed by pixel, in one pass: pixel i's (row, value) pairs.
pub fn transpose(x: &Csr, rows: &[u32], p: &mut Part) {
    p.count.fill(0);
    for (n, &r) in rows.iter().enumerate() {
        let (idx, val) = x.row(r);
        for (&i, &v) in idx.iter().zip(val) {
            let e = i as usize * BATCH + p.count[i as usize] as usize;
            p.trow[e] = n as u16;
            p.tval[e] = v;
            p.count[i as usize] += 1;
        }
    }
}

/// Thread t's pixels: the two threads split the update's nonzeros in halves, by pixel.
pub fn pixel_range(parts: &[Option<&Part>; 2], t: usize, threads: usize) -> (usize, usize) {
    if threads == 1 {
        return (0, D);
    }
    let count = |i: usize| {
        parts
            .iter()
            .flatten()
            .map(|p| p.count[i] as usize)
            .sum::<usize>()
    };
    let half = (0..D).map(count).sum::<usize>() / 2;
    let mut seen = 0;
    let split = (0..D)
        .find(|&i| {
            seen += count(i);
            seen >= half
        })
        .map_or(D, |i| i + 1);
    if t == 0 {
        (0, split)
    } else {
        (split, D)
    }
}
