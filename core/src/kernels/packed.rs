//! The large dense products, `out = x·w` (or `out += x·w`), packed and register-blocked, and
//! the same bits on every CPU.
//!
//! Every output element is one sum, in one order: it starts from 0 (or from `out`'s value when
//! accumulating) and adds `x[i, k]·w[k, j]` for k ascending as a fused multiply-add,
//! `s = fma(x[i, k], w[k, j], s)`: one rounding per term, the same at every level (the FMA
//! instruction on AVX-512 and AVX2, libm's correctly rounded `fma` on plain x86-64). Blocking changes only which elements are computed
//! together, never the order of an element's terms: tiles of MR rows × NR columns are summed in
//! registers over a block of k, stored, and reloaded for the next block of k (a float stored is
//! the float reloaded). So tile sizes, SIMD levels and thread counts cannot change a bit.
//!
//! The way to speed is BLIS's: x is copied into panels of MR rows and w into panels of NR
//! columns, both k-major, so that the micro-kernel (`micro`) reads memory in order and keeps
//! the MR × NR sums in vector registers; the tile size is chosen per SIMD level (as many
//! sums as that level's registers hold). Products of twice [`PARALLEL_PRODUCT`] or more are
//! split into blocks of output rows or columns, one per thread of the kernels' [`team`].
//!
//! [`multiply`] runs the same tiles on the calling thread for callers that lay out their own
//! operands: packed by [`pack_a`]/[`pack_b`] (or written in that layout), or read in place as
//! rows of a matrix at given offsets ([`Operand::Rows`]).

use super::{kernel, team};
use crate::Float;
use micro::micro;
use ndarray::{s, ArrayView2, ArrayViewMut2, Axis};
use std::any::Any;
use std::cell::RefCell;

mod micro;
mod transpose;

/// The fewest multiply-adds (m·k·n) worth a thread of their own: larger products are split
/// into parts of at least this many, one per thread of the kernels' team (whose helpers wait
/// spinning, so a split costs microseconds, not the wake-up of a sleeping thread: with rayon's
/// pool, 100×784·784×50 (3.9 M) ran slower on two threads than on one).
/// `cargo bench --features bench --bench train -- gemm_backend` compares one thread with all.
pub const PARALLEL_PRODUCT: usize = 1 << 20;

/// Rows of the micro-kernel's tile, at every level (its columns vary: [`Panels::nr`]).
pub const MR: usize = 6;

/// The widest tile's columns (f32 on AVX-512; a multiple of every other level's).
const WIDEST: usize = 32;

/// The k-block: the whole of k up to this (a tile of sums then goes to out once, not once per
/// block), while a panel of x (MR × KC) stays in the L1 cache.
const KC: usize = 1024;

/// Rows of x packed at once (MC × KC stays in the L2 cache).
const MC: usize = 384;

/// Columns of w packed at once (KC × NC stays in the L2 cache, beside x's block).
const NC: usize = 256;

/// `out = x·w`, or `out += x·w` when `accumulate`; x: (m, k), w: (k, n), out: (m, n), any
/// strides (transposed views included). Element (i, j) is `out[i, j]` (or 0) plus
/// `x[i, 0]·w[0, j]`, plus `x[i, 1]·w[1, j]`, … in that order, whatever the CPU or threads.
pub fn product_into<F: Float>(
    x: ArrayView2<F>,
    w: ArrayView2<F>,
    mut out: ArrayViewMut2<F>,
    accumulate: bool,
) {
    let ((m, k), n) = (x.dim(), w.ncols());
    assert_eq!(w.nrows(), k, "x·w: x has {k} columns, w {} rows", w.nrows());
    assert_eq!(out.dim(), (m, n), "x·w is ({m}, {n})");
    if without_terms((m, k, n), &mut out, accumulate) {
        return;
    }
    let parts = team::parts_for(m * k * n, PARALLEL_PRODUCT, m.max(n) / WIDEST);
    if parts < 2 {
        return on_this_thread(x, w, out, accumulate);
    }
    // Blocks of whole tiles along the longer side of out: each thread then packs only its
    // share of the operand that side belongs to (and all of the other, the smaller).
    let (axis, length, tile) = if m >= n {
        (Axis(0), m, MR)
    } else {
        (Axis(1), n, WIDEST)
    };
    let size = length.div_ceil(parts).next_multiple_of(tile);
    team::for_each_block(out.axis_chunks_iter_mut(axis, size), |b, out| {
        let range = b * size..b * size + out.len_of(axis);
        if axis == Axis(0) {
            on_this_thread(x.slice(s![range, ..]), w, out, accumulate);
        } else {
            on_this_thread(x, w.slice(s![.., range]), out, accumulate);
        }
    });
}

/// A product (m, k) · (k, n) with no outputs, or whose sums have no terms (out zeroed, or
/// left as it is when `accumulate`): true when there is nothing more to do.
fn without_terms<F: Float>(
    (m, k, n): (usize, usize, usize),
    out: &mut ArrayViewMut2<F>,
    accumulate: bool,
) -> bool {
    if m == 0 || n == 0 {
        return true;
    }
    if k == 0 && !accumulate {
        out.fill(F::zero());
    }
    k == 0
}

/// The packed kernel's operand layout at the level kernels run at now, for callers that write
/// their operands straight into it (the convolution's unrolled patches): A (m, k) in panels
/// of [`MR`] rows, B (k, n) in panels of `nr` columns, both k-major ([`pack_a`], [`pack_b`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Panels {
    level: super::Level,
    /// Columns of B's panels (and of the tile): 32 f32 on AVX-512, 16 on AVX2, 8 plain.
    pub nr: usize,
}

impl Panels {
    /// The layout for F at [`super::level`] now (fixed once taken: a later change of the
    /// level cap does not change an operand already packed).
    pub fn now<F: Float>() -> Self {
        let level = super::level();
        let vector_bytes = match level {
            super::Level::Avx512 => 64,
            super::Level::Avx2 => 32,
            super::Level::Plain => 16,
        };
        // Two vectors of columns per row of the tile.
        let nr = (2 * vector_bytes / std::mem::size_of::<F>()).clamp(4, WIDEST);
        Panels { level, nr }
    }

    /// Values of a packed A of m rows over k (whole panels).
    pub fn a_len(&self, m: usize, k: usize) -> usize {
        m.div_ceil(MR) * MR * k
    }

    /// Values of a packed B of n columns over k (whole panels).
    pub fn b_len(&self, n: usize, k: usize) -> usize {
        n.div_ceil(self.nr) * self.nr * k
    }
}

/// Packs src (m, k) as the A operand: `[(q·k + p)·MR + i] = src[q·MR + i, p]`, 0 past m.
pub fn pack_a<'b, F: Float>(src: ArrayView2<F>, buf: &'b mut Vec<F>) -> &'b [F] {
    pack(src, MR, buf)
}

/// Packs src (k, n) as the B operand of `panels`: `[(q·k + p)·nr + j] = src[p, q·nr + j]`, 0
/// past n.
pub fn pack_b<'b, F: Float>(panels: Panels, src: ArrayView2<F>, buf: &'b mut Vec<F>) -> &'b [F] {
    pack(src.reversed_axes(), panels.nr, buf)
}

/// [`pack_b`] into `dst`, which must be [`Panels::b_len`] long.
pub fn pack_b_into<F: Float>(panels: Panels, src: ArrayView2<F>, dst: &mut [F]) {
    pack_b_steps_into(panels, src, (src.nrows(), 0), dst);
}

/// Steps `first..first + src.nrows()` of a B (k, n) packed for `panels` in `dst` (which must
/// be [`Panels::b_len`] long for (n, k)), from src (those steps, n): the other steps' values
/// are left as they are.
pub fn pack_b_steps_into<F: Float>(
    panels: Panels,
    src: ArrayView2<F>,
    (k, first): (usize, usize),
    dst: &mut [F],
) {
    let (steps, n) = src.dim();
    assert_eq!(dst.len(), panels.b_len(n, k), "a packed B's length");
    assert!(
        first + steps <= k,
        "steps {first}..{} of {k}",
        first + steps
    );
    pack_into(src.reversed_axes(), panels.nr, (k, first), dst);
}

/// An operand of [`multiply`]: packed, or read in place as the rows of a matrix.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a, F> {
    /// A packed by [`pack_a`], or B packed for the [`Panels`] (by [`pack_b`] or written in
    /// their layout).
    Packed(&'a [F]),
    /// The matrix whose row t is `base[offsets[t]..]`: for A (m, k), one offset per row (as
    /// many as whole panels of [`MR`] rows hold; the padding rows' any), each row k long; for B
    /// (k, n), one per step, each row n long and readable to whole panels of `nr`.
    Rows { base: &'a [F], offsets: &'a [usize] },
}

/// `out = A·B`, or `out += A·B` when `accumulate`, out: (m, n), A: (m, k), B: (k, n), on this
/// thread: the same sums, in the same order, as [`product_into`] of the matrices the operands
/// hold. Panics if an operand is too short for its shape.
pub fn multiply<F: Float>(
    panels: Panels,
    (a, b, k): (Operand<F>, Operand<F>, usize),
    mut out: ArrayViewMut2<F>,
    accumulate: bool,
) {
    let (m, n) = out.dim();
    let (m_padded, n_padded) = (m.div_ceil(MR) * MR, n.div_ceil(panels.nr) * panels.nr);
    let fits = |op: Operand<F>, packed_len: usize, rows: usize, len: usize| match op {
        Operand::Packed(values) => values.len() >= packed_len,
        Operand::Rows { base, offsets } => {
            offsets.len() >= rows && offsets[..rows].iter().all(|&o| o + len <= base.len())
        }
    };
    assert!(
        fits(a, panels.a_len(m, k), m_padded, k),
        "x·w: A is too short"
    );
    assert!(
        fits(b, panels.b_len(n, k), k, n_padded),
        "x·w: B is too short"
    );
    if without_terms((m, k, n), &mut out, accumulate) {
        return;
    }
    match panels.nr {
        32 => with_operands::<F, 32>(panels.level, (a, b, k), &mut out, accumulate),
        16 => with_operands::<F, 16>(panels.level, (a, b, k), &mut out, accumulate),
        8 => with_operands::<F, 8>(panels.level, (a, b, k), &mut out, accumulate),
        _ => with_operands::<F, 4>(panels.level, (a, b, k), &mut out, accumulate),
    }
}

/// [`multiply`] with the micro-kernel's view of each panel of A and of B.
#[inline(always)]
fn with_operands<F: Float, const NR: usize>(
    level: super::Level,
    (a, b, k): (Operand<F>, Operand<F>, usize),
    out: &mut ArrayViewMut2<F>,
    accumulate: bool,
) {
    use micro::{Panel, Rows};
    // SAFETY (pointer arithmetic, in each): the panels are within the operands (checked).
    let packed = |x: &[F], width: usize| {
        let x = x.as_ptr();
        move |i: usize| Panel {
            ptr: unsafe { x.add(i * k * width) }.cast(),
            width,
        }
    };
    let (a_packed, b_packed) = (|a| packed(a, MR), |b| packed(b, NR));
    // A's panel ip: rows ip·MR… at their offsets; B's panel jp: columns jp·NR… of each row.
    let a_rows = |base: &[F], offsets: &[usize]| {
        let (base, offsets) = (base.as_ptr().cast(), offsets.as_ptr());
        move |ip: usize| Rows::<true> {
            base,
            offsets: unsafe { offsets.add(ip * MR) },
        }
    };
    let b_rows = |base: &[F], offsets: &[usize]| {
        let (base, offsets) = (base.as_ptr(), offsets.as_ptr());
        move |jp: usize| Rows::<false> {
            base: unsafe { base.add(jp * NR) }.cast(),
            offsets,
        }
    };
    match (a, b) {
        (Operand::Packed(a), Operand::Packed(b)) => {
            all_tiles::<F, NR, _, _>((level, a_packed(a), b_packed(b), k), out, accumulate)
        }
        (Operand::Packed(a), Operand::Rows { base, offsets }) => {
            let b = b_rows(base, offsets);
            all_tiles::<F, NR, _, _>((level, a_packed(a), b, k), out, accumulate)
        }
        (Operand::Rows { base, offsets }, Operand::Packed(b)) => {
            let a = a_rows(base, offsets);
            all_tiles::<F, NR, _, _>((level, a, b_packed(b), k), out, accumulate)
        }
        (
            Operand::Rows { base, offsets },
            Operand::Rows {
                base: b,
                offsets: o,
            },
        ) => {
            let (a, b) = (a_rows(base, offsets), b_rows(b, o));
            all_tiles::<F, NR, _, _>((level, a, b, k), out, accumulate)
        }
    }
}

/// [`product_into`] on the calling thread, with its packing buffers.
fn on_this_thread<F: Float>(
    x: ArrayView2<F>,
    w: ArrayView2<F>,
    mut out: ArrayViewMut2<F>,
    accumulate: bool,
) {
    with_buffers(|a, b| blocks(x, w, &mut out, accumulate, a, b));
}

thread_local! {
    /// Each thread's packing buffers, per float type: they grow to the largest product's
    /// panels and stay, so that training allocates nothing after its first batch.
    static BUFFERS: RefCell<(Buffers<f32>, Buffers<f64>)> = RefCell::default();
}

/// The packed panels of x and of w.
type Buffers<F> = (Vec<F>, Vec<F>);

/// Runs `f` with this thread's buffers for F (fresh ones for a float type other than f32 and
/// f64, or if they are in use).
fn with_buffers<F: Float>(f: impl FnOnce(&mut Vec<F>, &mut Vec<F>)) {
    let mut f = Some(f);
    let _ = BUFFERS.try_with(|cell| {
        let Ok(mut both) = cell.try_borrow_mut() else {
            return;
        };
        let (ref mut b32, ref mut b64) = *both;
        let own = (b32 as &mut dyn Any)
            .downcast_mut::<Buffers<F>>()
            .or_else(|| (b64 as &mut dyn Any).downcast_mut::<Buffers<F>>());
        if let (Some((a, b)), Some(f)) = (own, f.take()) {
            f(a, b);
        }
    });
    if let Some(f) = f {
        f(&mut Vec::new(), &mut Vec::new());
    }
}

kernel! {
    /// [`product_into`] on one thread: packs and multiplies with the tile of the level it runs
    /// at (f32: 6 × 32 on AVX-512, 6 × 16 on AVX2, 6 × 8 plain; f64 half as wide).
    fn blocks<F>(
        x: ArrayView2<F>,
        w: ArrayView2<F>,
        out: &mut ArrayViewMut2<F>,
        accumulate: bool,
        a: &mut Vec<F>,
        b: &mut Vec<F>,
    ) {
        let Panels { level, nr } = Panels::now::<F>();
        match nr {
            32 => at_level::<F, 32>(level, x, w, out, accumulate, a, b),
            16 => at_level::<F, 16>(level, x, w, out, accumulate, a, b),
            8 => at_level::<F, 8>(level, x, w, out, accumulate, a, b),
            _ => at_level::<F, 4>(level, x, w, out, accumulate, a, b),
        }
    }
}

/// [`blocks`] with tiles of MR × NR, laid on out or on its transpose (`outᵀ = wᵀ·xᵀ`: the
/// same terms, `fma(w, x, s) = fma(x, w, s)`), whichever computes fewer padding sums: 10000 ×
/// 50 (evaluation through a 50-wide layer) then pads 50 to 54 rows, not to 64 columns.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // The buffers travel with the operands.
fn at_level<F: Float, const NR: usize>(
    level: super::Level,
    x: ArrayView2<F>,
    w: ArrayView2<F>,
    out: &mut ArrayViewMut2<F>,
    accumulate: bool,
    a_buf: &mut Vec<F>,
    b_buf: &mut Vec<F>,
) {
    let (m, n) = out.dim();
    let padded = |rows: usize, cols: usize| rows.next_multiple_of(MR) * cols.next_multiple_of(NR);
    if padded(n, m) < padded(m, n) {
        let (x_t, w_t) = (w.reversed_axes(), x.reversed_axes());
        let mut out_t = out.view_mut().reversed_axes();
        return tiles::<F, NR>(level, x_t, w_t, &mut out_t, accumulate, a_buf, b_buf);
    }
    tiles::<F, NR>(level, x, w, out, accumulate, a_buf, b_buf);
}

/// [`at_level`] on out as it is, BLIS's loops: for each block of NC columns and of KC rows of
/// w, packed, x by blocks of MC rows, and every tile of those rows (columns outer: a panel of w
/// is reused by all).
#[inline(always)]
#[allow(clippy::too_many_arguments)] // The buffers travel with the operands.
fn tiles<F: Float, const NR: usize>(
    level: super::Level,
    x: ArrayView2<F>,
    w: ArrayView2<F>,
    out: &mut ArrayViewMut2<F>,
    accumulate: bool,
    a_buf: &mut Vec<F>,
    b_buf: &mut Vec<F>,
) {
    let ((m, k), n) = (x.dim(), w.ncols());
    let kc_blocks = k.div_ceil(KC);
    let kc_max = k.div_ceil(kc_blocks);
    for j0 in (0..n).step_by(NC) {
        let j1 = (j0 + NC).min(n);
        for kb in 0..kc_blocks {
            let (k0, k1) = (kb * kc_max, ((kb + 1) * kc_max).min(k));
            let b = pack(w.slice(s![k0..k1, j0..j1]).reversed_axes(), NR, b_buf);
            let from_out = accumulate || kb > 0;
            for i0 in (0..m).step_by(MC) {
                let rows = MC.min(m - i0);
                let a = pack(x.slice(s![i0..i0 + rows, k0..k1]), MR, a_buf);
                let mut out = out.slice_mut(s![i0..i0 + rows, j0..j1]);
                let operands = (Operand::Packed(a), Operand::Packed(b), k1 - k0);
                with_operands::<F, NR>(level, operands, &mut out, from_out);
            }
        }
    }
}

/// `out = A·B` (or `out += A·B` when `accumulate`) for out (m, n), A (m, k) and B (k, n) as
/// the micro-kernel reads them, panel by panel (`a(ip)`: rows ip·MR…, `b(jp)`: columns
/// jp·NR…): every tile, columns outer (a panel of B is reused by all of A's). Tiles of an out
/// with contiguous rows are summed in place; the others pass through a tile of sums on the
/// stack.
#[inline(always)]
fn all_tiles<F: Float, const NR: usize, A: micro::Operand, B: micro::Operand>(
    (level, a, b, k): (
        super::Level,
        impl Fn(usize) -> A,
        impl Fn(usize) -> B,
        usize,
    ),
    out: &mut ArrayViewMut2<F>,
    accumulate: bool,
) {
    let (m, n) = out.dim();
    let mut sums = [F::zero(); MR * WIDEST];
    let sums = &mut sums[..MR * NR];
    let rows_apart = out.strides()[0];
    let direct = out.strides()[1] == 1 && rows_apart >= NR as isize;
    let ldc = rows_apart.max(0) as usize;
    for jp in 0..n.div_ceil(NR) {
        let b = b(jp);
        for ip in 0..m.div_ceil(MR) {
            let operands = (a(ip), b, k);
            let (r0, c0) = (ip * MR, jp * NR);
            let (r1, c1) = ((r0 + MR).min(m), (c0 + NR).min(n));
            if direct && r1 - r0 == MR && c1 - c0 == NR {
                let at = r0 as isize * rows_apart + c0 as isize;
                // SAFETY: the tile is MR whole rows of NR columns of out (unit column
                // stride, rows further apart than NR); the operands hold the panels (the
                // caller's checks); the level is the CPU's.
                let c = unsafe { out.as_mut_ptr().offset(at) };
                unsafe { micro::<F, NR, A, B>(level, operands, (c, ldc), accumulate) };
                continue;
            }
            let mut tile = out.slice_mut(s![r0..r1, c0..c1]);
            if accumulate {
                load(&tile, sums);
            }
            // SAFETY: sums holds MR rows of NR; as above for the rest.
            unsafe { micro::<F, NR, A, B>(level, operands, (sums.as_mut_ptr(), NR), accumulate) };
            store(sums, &mut tile);
        }
    }
}

/// Copies a tile of out (at most MR × NR) into the sums (MR × NR, row-major).
#[inline(always)]
fn load<F: Float>(tile: &ArrayViewMut2<F>, sums: &mut [F]) {
    let nr = sums.len() / MR;
    sums.fill(F::zero());
    for (sums, row) in sums.chunks_exact_mut(nr).zip(tile.rows()) {
        for (s, &v) in sums.iter_mut().zip(row) {
            *s = v;
        }
    }
}

/// Copies the sums into a tile of out (at most MR × NR).
#[inline(always)]
fn store<F: Float>(sums: &[F], tile: &mut ArrayViewMut2<F>) {
    let nr = sums.len() / MR;
    for (sums, mut row) in sums.chunks_exact(nr).zip(tile.rows_mut()) {
        for (&s, v) in sums.iter().zip(row.iter_mut()) {
            *v = s;
        }
    }
}

/// `len` values of `buf` (grown if it is shorter) starting on a 64-byte boundary, for a packed
/// operand: vector loads then never straddle two cache lines.
pub fn buffer<F: Float>(buf: &mut Vec<F>, len: usize) -> &mut [F] {
    let slack = 64 / std::mem::size_of::<F>();
    if buf.len() < len + slack {
        buf.resize(len + slack, F::zero());
    }
    let start = buf.as_ptr().align_offset(64).min(slack);
    &mut buf[start..start + len]
}

/// Packs src (r, c) into `buf` as panels of `panel` rows, each k-major:
/// `[(q·c + p)·panel + i] = src[q·panel + i, p]`, the last panel padded with zeros. Returns the
/// packed values (a [`buffer`]).
#[inline(always)]
fn pack<'b, F: Float>(src: ArrayView2<F>, panel: usize, buf: &'b mut Vec<F>) -> &'b [F] {
    let (r, c) = src.dim();
    let dst = buffer(buf, r.div_ceil(panel) * panel * c);
    pack_into(src, panel, (c, 0), dst);
    dst
}

/// [`pack`] into `dst`, `r.div_ceil(panel) · panel · steps` values, src being steps
/// `first..first + c` of the `steps` (each panel's other steps are left as they are).
#[inline(always)]
fn pack_into<F: Float>(
    src: ArrayView2<F>,
    panel: usize,
    (steps, first): (usize, usize),
    dst: &mut [F],
) {
    let (r, c) = src.dim();
    // Panel q's values of src's steps.
    let chunk = |q: usize| (q * steps + first) * panel..(q * steps + first + c) * panel;
    if r % panel != 0 {
        // The padding rows of the last panel (their sums are computed, never stored).
        dst[chunk(r / panel)].fill(F::zero());
    }
    if src.strides()[0] == 1 && src.strides()[1] != 1 {
        // Columns contiguous (a transposed view): runs of `panel` values copy as they are.
        for (p, column) in src.columns().into_iter().enumerate() {
            for (q, run) in column.axis_chunks_iter(Axis(0), panel).enumerate() {
                let at = chunk(q).start + p * panel;
                for (d, &v) in dst[at..at + run.len()].iter_mut().zip(run) {
                    *d = v;
                }
            }
        }
        return;
    }
    if src.strides()[1] == 1 && src.strides()[0] > 0 && panel <= WIDEST {
        // Rows contiguous: each panel's rows read side by side, its values written in order
        // (a transpose of `panel` rows; scattering row after row with a stride was slower).
        // Blocks of 8 rows × 8 columns transposed in registers, the edges value by value.
        let level = super::level();
        for (q, rows) in src.axis_chunks_iter(Axis(0), panel).enumerate() {
            let mut slices: [&[F]; WIDEST] = [&[]; WIDEST];
            for (slice, row) in slices.iter_mut().zip(rows.rows()) {
                *slice = row.to_slice().expect("rows are contiguous");
            }
            let slices = &slices[..rows.nrows()];
            let panel_values = &mut dst[chunk(q)];
            let (whole_rows, whole_columns) = (slices.len() / 8 * 8, c / 8 * 8);
            let row_stride = rows.strides()[0].unsigned_abs();
            for i0 in (0..whole_rows).step_by(8) {
                for p0 in (0..whole_columns).step_by(8) {
                    let from = slices[i0][p0..].as_ptr();
                    let to = panel_values[p0 * panel + i0..].as_mut_ptr();
                    // SAFETY: rows i0..i0 + 8 (row_stride apart: rows[0] is the lowest, the
                    // stride positive) hold columns p0..p0 + 8; the panel holds columns
                    // p0..p0 + 8 of `panel` values, rows i0..i0 + 8 of each; the level is the
                    // CPU's.
                    unsafe { transpose::block8(level, (from, row_stride), (to, panel)) };
                }
            }
            for (p, column) in panel_values.chunks_exact_mut(panel).enumerate() {
                let done = if p < whole_columns { whole_rows } else { 0 };
                for (d, row) in column[done..].iter_mut().zip(&slices[done..]) {
                    *d = row[p];
                }
            }
        }
        return;
    }
    for (row_index, row) in src.rows().into_iter().enumerate() {
        let (q, i) = (row_index / panel, row_index % panel);
        let panel_values = &mut dst[chunk(q)];
        for (d, &v) in panel_values[i..].iter_mut().step_by(panel).zip(row) {
            *d = v;
        }
    }
}

#[cfg(test)]
#[path = "packed_tests.rs"]
mod tests;
