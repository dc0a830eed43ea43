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
//! convolution layer's fast route works one image at a time on each image's block of `col`
//! transposed, (C·FH·FW, OH·OW), with [`im2col_image`] and [`col2im_image`], which read and add
//! the same numbers in the same order (tests compare the bits).

use crate::Float;
use ndarray::{Array2, Array4, ArrayView2, ArrayView3, ArrayView4, ArrayViewMut2, ArrayViewMut3};

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

/// [`im2col`] for one image, transposed: x (C, H, W) → colᵀ (C·FH·FW, OH·OW), row
/// (c, fh, fw) holding what the filter's element (c, fh, fw) sees at each output position.
/// colᵀ must have that shape; every element is written.
pub fn im2col_image<F: Float>(input: ArrayView3<F>, window: &Window, col_t: ArrayViewMut2<F>) {
    let rows = window.patch_len(input.dim().0);
    im2col_rows(input, window, 0..rows, col_t);
}

/// Rows `rows` of [`im2col_image`]'s colᵀ: x (C, H, W) → part (rows.len(), OH·OW), row r of
/// the part being colᵀ's row `rows.start + r`. Every element of the part is written.
pub fn im2col_rows<F: Float>(
    input: ArrayView3<F>,
    window: &Window,
    rows: std::ops::Range<usize>,
    mut part: ArrayViewMut2<F>,
) {
    let (c, h, w) = input.dim();
    let (oh, ow) = output_size_of(window, h, w);
    assert!(
        rows.end <= window.patch_len(c),
        "colᵀ has {} rows",
        window.patch_len(c)
    );
    assert_eq!(part.dim(), (rows.len(), oh * ow), "colᵀ's part's shape");
    let (fh, fw, s) = (window.filter_h, window.filter_w, window.stride);
    // The image's values in (c, y, x) order (a copy only if x is not stored that way).
    let input = input.as_standard_layout();
    let image = input.as_slice().expect("standard layout");
    for (r, mut row) in rows.zip(part.rows_mut()) {
        let (ch, dy, dx) = (r / (fh * fw), r / fw % fh, r % fw);
        let inside = window.inside(dx, w, ow);
        let row = row.as_slice_mut().expect("colᵀ rows are contiguous");
        for (y, out) in row.chunks_exact_mut(ow).enumerate() {
            let Some(sy) = window.source(y, dy, h) else {
                out.fill(F::zero());
                continue;
            };
            out[..inside.start].fill(F::zero());
            out[inside.end..].fill(F::zero());
            let src = &image[(ch * h + sy) * w..(ch * h + sy + 1) * w];
            let first = inside.start * s + dx - window.pad;
            let out = &mut out[inside.clone()];
            if s == 1 {
                out.copy_from_slice(&src[first..first + out.len()]);
            } else {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = src[first + i * s];
                }
            }
        }
    }
}

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
