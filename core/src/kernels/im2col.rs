//! The book's `im2col` and `col2im` (chapter 7): a convolution's input unrolled into a matrix,
//! one row per output position, and the gradient of that matrix folded back onto the input.
//!
//! ```text
//! x (N, C, H, W) ─im2col→ col (N·OH·OW, C·FH·FW)     row (n, oh, ow) = the patch under the
//!                                                     filter at (oh, ow), in (c, fh, fw) order
//! dcol (N·OH·OW, C·FH·FW) ─col2im→ dx (N, C, H, W)    each patch's gradient added back where
//!                                                     it was read (overlaps summed)
//! ```
//!
//! [`im2col`] and [`col2im`] are the plain references, loop for loop the book's layout; the
//! convolution layer's fast route works one image at a time, with the same numbers written
//! straight into the packed kernel's operand layout — [`im2col_panels`] (colᵀ for the
//! forward), [`col_panels`] (col for dW) — and [`col2im_image`], which adds them back in the
//! reference's order (tests compare the bits).

use super::rows::copy;
use crate::Float;
use ndarray::{Array2, Array4, ArrayView2, ArrayView3, ArrayView4, ArrayViewMut3};

/// A filter's or pooling window's geometry: `filter_h × filter_w`, moved by `stride`, over
/// the input padded with `pad` zeros on every side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The book's `filter_h` (FH).
    pub filter_h: usize,
    /// The book's `filter_w` (FW).
    pub filter_w: usize,
    /// Step between two output positions.
    pub stride: usize,
    /// Zeros added on each side of the input.
    pub pad: usize,
}

impl Window {
    /// The output size (OH, OW) on an H × W input: `OH = 1 + (H + 2·pad − FH) / stride`;
    /// `None` when the window does not fit once (or the stride is 0).
    pub fn output_size(&self, h: usize, w: usize) -> Option<(usize, usize)> {
        let side = |input: usize, filter: usize| {
            let padded = input + 2 * self.pad;
            (self.stride > 0 && filter > 0 && padded >= filter)
                .then(|| 1 + (padded - filter) / self.stride)
        };
        Some((side(h, self.filter_h)?, side(w, self.filter_w)?))
    }

    /// Values per patch for C channels: C·FH·FW.
    pub fn patch_len(&self, channels: usize) -> usize {
        channels * self.filter_h * self.filter_w
    }

    /// The input coordinate read by output position `o` at filter offset `f` (padding: `None`).
    fn source(&self, o: usize, f: usize, size: usize) -> Option<usize> {
        (o * self.stride + f)
            .checked_sub(self.pad)
            .filter(|&i| i < size)
    }

    /// The output positions `o` in `0..outputs` whose input coordinate at filter offset `f`
    /// lies inside `0..size` (not in the padding): a range, since the coordinate grows with o.
    fn inside(&self, f: usize, size: usize, outputs: usize) -> std::ops::Range<usize> {
        let s = self.stride;
        // o·s + f − pad ≥ 0  ⇔  o ≥ ⌈(pad − f) / s⌉;   o·s + f − pad < size  ⇔  o < ⌈(size + pad − f) / s⌉.
        let lo = self.pad.saturating_sub(f).div_ceil(s);
        let hi = (size + self.pad).saturating_sub(f).div_ceil(s);
        lo.min(outputs)..hi.min(outputs).max(lo.min(outputs))
    }
}

/// The output size of `window` on x's (H, W), panicking with the sizes when it does not fit.
fn output_size_of(window: &Window, h: usize, w: usize) -> (usize, usize) {
    window
        .output_size(h, w)
        .unwrap_or_else(|| panic!("a {window:?} does not fit a {h}×{w} input"))
}

/// The book's `im2col`: x (N, C, H, W) → col (N·OH·OW, C·FH·FW), the row of output position
/// (n, oh, ow) holding x's padded patch under the filter there, in (c, fh, fw) order.
pub fn im2col<F: Float>(input: ArrayView4<F>, window: &Window) -> Array2<F> {
    let (n, c, h, w) = input.dim();
    let (oh, ow) = output_size_of(window, h, w);
    let (fh, fw) = (window.filter_h, window.filter_w);
    let mut col = Array2::zeros((n * oh * ow, window.patch_len(c)));
    for i in 0..n {
        for y in 0..oh {
            for x in 0..ow {
                let row = (i * oh + y) * ow + x;
                for ch in 0..c {
                    for dy in 0..fh {
                        for dx in 0..fw {
                            let value = match (window.source(y, dy, h), window.source(x, dx, w)) {
                                (Some(sy), Some(sx)) => input[[i, ch, sy, sx]],
                                _ => F::zero(),
                            };
                            col[[row, (ch * fh + dy) * fw + dx]] = value;
                        }
                    }
                }
            }
        }
    }
    col
}

/// The book's `col2im`: col (N·OH·OW, C·FH·FW) → dx (N, C, H, W) of `input_shape`, each
/// patch added back onto the padded input where `im2col` read it, then the padding stripped.
/// Each element receives its terms in the book's order: filter offsets (fh, fw) ascending.
pub fn col2im<F: Float>(
    col: ArrayView2<F>,
    input_shape: (usize, usize, usize, usize),
    window: &Window,
) -> Array4<F> {
    let (n, c, h, w) = input_shape;
    let (oh, ow) = output_size_of(window, h, w);
    let (fh, fw, s, pad) = (window.filter_h, window.filter_w, window.stride, window.pad);
    let mut img = Array4::zeros((n, c, h + 2 * pad + s - 1, w + 2 * pad + s - 1));
    for i in 0..n {
        for ch in 0..c {
            for dy in 0..fh {
                for dx in 0..fw {
                    for y in 0..oh {
                        for x in 0..ow {
                            let row = (i * oh + y) * ow + x;
                            img[[i, ch, y * s + dy, x * s + dx]] +=
                                col[[row, (ch * fh + dy) * fw + dx]];
                        }
                    }
                }
            }
        }
    }
    img.slice(ndarray::s![.., .., pad..pad + h, pad..pad + w])
        .to_owned()
}

/// [`im2col`] for one image, transposed and packed as the packed kernel's B operand (see
/// [`Panels`](super::packed::Panels)): colᵀ (K, OH·OW) with K = C·FH·FW, row (c, fh, fw) holding
/// what the filter's element (c, fh, fw) sees at each output position, laid in panels of `nr`
/// positions, each row after row: `dst[(q·K + r)·nr + j] = colᵀ[r, q·nr + j]`, 0 past the last
/// position. With `nr` = OH·OW this is colᵀ row-major. `padded` is the image with the window's
/// padding around it ([`pad_image`]); every element of `dst` is written.
pub fn im2col_panels<F: Float>(padded: ArrayView3<F>, window: &Window, nr: usize, dst: &mut [F]) {
    let (c, hp, wp) = padded.dim();
    let (oh, ow) = output_size_of(&Window { pad: 0, ..*window }, hp, wp);
    let (k, positions) = (window.patch_len(c), oh * ow);
    let whole = positions.div_ceil(nr) * nr;
    assert_eq!(dst.len(), whole * k, "colᵀ's panels' length");
    let (fh, fw, s) = (window.filter_h, window.filter_w, window.stride);
    let image = padded
        .as_slice()
        .expect("a padded image is in standard layout");
    for r in 0..k {
        let (ch, dy, dx) = (r / (fh * fw), r / fw % fh, r % fw);
        let mut row = PanelRow { dst, k, nr, r };
        for y in 0..oh {
            // Output row y reads padded row y·s + dy, from column dx on, every s-th value.
            let src = &image[(ch * hp + y * s + dy) * wp + dx..];
            row.put(y * ow, ow, |i| src[i * s]);
        }
        row.put(positions, whole - positions, |_| F::zero());
    }
}

/// Row `r` of a (K, positions) matrix laid in panels of `nr` positions (see [`im2col_panels`]).
struct PanelRow<'a, F> {
    dst: &'a mut [F],
    k: usize,
    nr: usize,
    r: usize,
}

impl<F: Float> PanelRow<'_, F> {
    /// Writes `value(i)` at position `p + i` of the row, for i in 0..len: runs within a panel
    /// are contiguous.
    #[inline(always)]
    fn put(&mut self, mut p: usize, len: usize, value: impl Fn(usize) -> F) {
        let mut i = 0;
        while i < len {
            let (q, j) = (p / self.nr, p % self.nr);
            let run = (self.nr - j).min(len - i);
            let at = (q * self.k + self.r) * self.nr + j;
            for (t, d) in self.dst[at..at + run].iter_mut().enumerate() {
                *d = value(i + t);
            }
            (i, p) = (i + run, p + run);
        }
    }
}

/// x (C, H, W) into the first C·(H + 2·pad)·(W + 2·pad) values of `padded`, the image with
/// its padding, (c, y, x) order: x's rows written inside, the padding left as it is (the zeros
/// the caller laid). [`im2col_panels`] and [`col_panels`] read it.
pub fn pad_image<F: Float>(input: ArrayView3<F>, pad: usize, padded: &mut [F]) {
    let (_, h, w) = input.dim();
    let input = input.as_standard_layout();
    let rows = input
        .as_slice()
        .expect("standard layout")
        .chunks_exact(w.max(1));
    for (row, at) in rows.zip(inside_rows((h, w), pad)) {
        copy(&mut padded[at..at + w], row);
    }
}

/// The inverse of [`pad_image`]: out (C, H, W), stored in standard layout, from inside its
/// padding in `padded`.
pub fn unpad_image<F: Float>(padded: &[F], pad: usize, mut out: ArrayViewMut3<F>) {
    let (_, h, w) = out.dim();
    let out = out
        .as_slice_mut()
        .expect("out is stored in (c, y, x) order");
    for (row, at) in out.chunks_exact_mut(w.max(1)).zip(inside_rows((h, w), pad)) {
        copy(row, &padded[at..at + w]);
    }
}

/// Where row (c, y) of an image (C, H, W) starts inside the image padded with `pad` on every
/// side, (C, H + 2·pad, W + 2·pad), for the rows in (c, y) order (computed only for rows that
/// exist: H > 0).
fn inside_rows((h, w): (usize, usize), pad: usize) -> impl Iterator<Item = usize> {
    let (hp, wp) = (h + 2 * pad, w + 2 * pad);
    (0..).map(move |i| ((i / h) * hp + i % h + pad) * wp + pad)
}

/// The columns `cols` of one image's col (OH·OW, K) (the patches, one row per output
/// position), packed as the B operand of a product summed over positions (the layer's
/// `dW = doutᵀ·col`): panels of `nr` columns, position after position,
/// `dst[(q·P + p)·nr + j] = col[p, cols.start + q·nr + j]` (P = OH·OW; 0 past `cols.end`).
/// `padded` is the image with the window's padding around it ([`pad_image`]).
pub fn col_panels<F: Float>(
    padded: ArrayView3<F>,
    window: &Window,
    cols: std::ops::Range<usize>,
    nr: usize,
    dst: &mut [F],
) {
    let (c, hp, wp) = padded.dim();
    let (fh, fw, s) = (window.filter_h, window.filter_w, window.stride);
    let unpadded = Window { pad: 0, ..*window };
    let (oh, ow) = output_size_of(&unpadded, hp, wp);
    let positions = oh * ow;
    assert!(
        cols.end <= window.patch_len(c) && nr <= MAX_PANEL,
        "col's columns"
    );
    assert_eq!(dst.len(), cols.len().div_ceil(nr) * nr * positions);
    let image = padded
        .as_slice()
        .expect("a padded image is in standard layout");
    let mut offsets = [0; MAX_PANEL];
    for (q, start) in cols.clone().step_by(nr).enumerate() {
        let width = nr.min(cols.end - start);
        for (j, offset) in offsets[..width].iter_mut().enumerate() {
            let r = start + j;
            let (ch, dy, dx) = (r / (fh * fw), r / fw % fh, r % fw);
            *offset = (ch * hp + dy) * wp + dx;
        }
        let panel = &mut dst[q * positions * nr..(q + 1) * positions * nr];
        for (p, out) in panel.chunks_exact_mut(nr).enumerate() {
            // Output position (y, x) reads the padded image from (y·s, x·s) on.
            let base = (p / ow * wp + p % ow) * s;
            for (o, &offset) in out[..width].iter_mut().zip(&offsets[..width]) {
                *o = image[base + offset];
            }
            out[width..].fill(F::zero());
        }
    }
}

/// The widest panel [`col_panels`] writes.
const MAX_PANEL: usize = 64;

/// [`col2im`] for one image from its transposed block: dcolᵀ (C·FH·FW, OH·OW) → dx (C, H, W)
/// (overwritten, stored in standard layout), each element's terms added in the same order as `col2im` (fh, fw ascending),
/// the padding's never stored (it would be stripped).
pub fn col2im_image<F: Float>(dcol_t: ArrayView2<F>, window: &Window, mut dx: ArrayViewMut3<F>) {
    let (c, h, w) = dx.dim();
    let (oh, ow) = output_size_of(window, h, w);
    assert_eq!(
        dcol_t.dim(),
        (window.patch_len(c), oh * ow),
        "dcolᵀ's shape"
    );
    let (fh, fw, s) = (window.filter_h, window.filter_w, window.stride);
    dx.fill(F::zero());
    let image = dx.as_slice_mut().expect("dx is stored in (c, y, x) order");
    for ch in 0..c {
        for dy in 0..fh {
            for dx_off in 0..fw {
                let inside = window.inside(dx_off, w, ow);
                let row = dcol_t.row((ch * fh + dy) * fw + dx_off);
                let row = row.as_slice().expect("dcolᵀ rows are contiguous");
                for (y, terms) in row.chunks_exact(ow).enumerate() {
                    let Some(sy) = window.source(y, dy, h) else {
                        continue;
                    };
                    let dst = &mut image[(ch * h + sy) * w..(ch * h + sy + 1) * w];
                    let first = inside.start * s + dx_off - window.pad;
                    let terms = &terms[inside.clone()];
                    if s == 1 {
                        for (d, &v) in dst[first..first + terms.len()].iter_mut().zip(terms) {
                            *d += v;
                        }
                    } else {
                        for (i, &v) in terms.iter().enumerate() {
                            dst[first + i * s] += v;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "im2col_tests.rs"]
mod tests;
