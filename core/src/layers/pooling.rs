//! The Pooling layer (chapter 7): max pooling, each output the largest value of its
//! `pool_h × pool_w` window in its channel.
//!
//! ```python
//! def forward(self, x):                               def backward(self, dout):
//!     col = im2col(x, pool_h, pool_w, stride, pad)        dout = dout.transpose(0, 2, 3, 1)
//!     col = col.reshape(-1, pool_h * pool_w)              dmax = np.zeros((dout.size, pool_size))
//!     self.arg_max = np.argmax(col, axis=1)               dmax[np.arange(self.arg_max.size),
//!     out = np.max(col, axis=1)                                self.arg_max.flatten()] = dout.flatten()
//!     return out.reshape(N, OH, OW, C)                    dcol = dmax.reshape(N * OH * OW, -1)
//!               .transpose(0, 3, 1, 2)                    return col2im(dcol, x.shape, pool_h, ...)
//! ```
//!
//! Backward sends each output's gradient to its window's maximum — the first one when several
//! tie, as `np.argmax` picks. The layer walks the windows in place (no `col`), and adds the
//! gradients where windows overlap in `col2im`'s order, so it gives the reference's bits
//! ([`reference`](mod@reference)).

use crate::kernels::im2col::{col2im, im2col, Window};
use crate::Float;
use ndarray::parallel::prelude::*;
use ndarray::{Array4, ArrayView3, ArrayView4, ArrayViewMut3, Axis};

/// Max pooling over `pool_h × pool_w` windows moved by `stride` (the book's networks: 2×2,
/// stride 2), over the input padded with `pad` zeros.
#[derive(Clone)]
pub struct Pooling<F: Float> {
    /// Window height.
    pub pool_h: usize,
    /// Window width.
    pub pool_w: usize,
    /// Step between two windows.
    pub stride: usize,
    /// Zeros added on each side (they take part in the max, as in the book).
    pub pad: usize,
    x_shape: (usize, usize, usize, usize),
    /// Where each output's maximum sits in its window, `ph·pool_w + pw` (the book's `arg_max`).
    arg_max: Array4<u32>,
    out: Array4<F>,
    dx: Array4<F>,
}

impl<F: Float> Pooling<F> {
    /// Max pooling of `pool_h × pool_w` windows, moved by `stride` (≥ 1), padding `pad`.
    pub fn new(pool_h: usize, pool_w: usize, stride: usize, pad: usize) -> Self {
        assert!(
            pool_h >= 1 && pool_w >= 1 && stride >= 1,
            "Pooling: sizes ≥ 1"
        );
        Pooling {
            pool_h,
            pool_w,
            stride,
            pad,
            x_shape: (0, 0, 0, 0),
            arg_max: Array4::zeros((0, 0, 0, 0)),
            out: Array4::zeros((0, 0, 0, 0)),
            dx: Array4::zeros((0, 0, 0, 0)),
        }
    }

    /// The window's geometry.
    pub fn window(&self) -> Window {
        Window {
            filter_h: self.pool_h,
            filter_w: self.pool_w,
            stride: self.stride,
            pad: self.pad,
        }
    }

    /// The output shape (N, C, OH, OW) for an input (N, C, H, W); panics, naming the sizes,
    /// when the window does not fit.
    pub fn output_shape(&self, (n, c, h, w): (usize, usize, usize, usize)) -> [usize; 4] {
        let window = self.window();
        let (oh, ow) = window
            .output_size(h, w)
            .unwrap_or_else(|| panic!("Pooling: a {window:?} does not fit {h}×{w}"));
        [n, c, oh, ow]
    }

    /// x: (N, C, H, W) → out: (N, C, OH, OW), each window's maximum; keeps where it was.
    pub fn forward(&mut self, x: ArrayView4<F>) -> ArrayView4<'_, F> {
        let shape = self.output_shape(x.dim());
        self.x_shape = x.dim();
        if self.out.shape() != shape {
            self.out = Array4::zeros(shape);
            self.arg_max = Array4::zeros(shape);
        }
        let window = self.window();
        x.axis_iter(Axis(0))
            .into_par_iter()
            .zip(self.out.axis_iter_mut(Axis(0)))
            .zip(self.arg_max.axis_iter_mut(Axis(0)))
            .for_each(|((x, out), arg)| max_image(&window, x, out, Some(arg)));
        self.out.view()
    }

    /// The forward for evaluation, keeping nothing: x (N, C, H, W) → (N, C, OH, OW).
    pub fn forward_eval(&self, x: ArrayView4<F>) -> Array4<F> {
        let mut out = Array4::zeros(self.output_shape(x.dim()));
        let window = self.window();
        x.axis_iter(Axis(0))
            .into_par_iter()
            .zip(out.axis_iter_mut(Axis(0)))
            .for_each(|(x, out)| max_image(&window, x, out, None));
        out
    }

    /// dout: (N, C, OH, OW) → dx: (N, C, H, W), each gradient added at its window's maximum.
    pub fn backward(&mut self, dout: ArrayView4<F>) -> ArrayView4<'_, F> {
        assert_eq!(dout.shape(), self.out.shape(), "Pooling: dout's shape");
        if self.dx.dim() != self.x_shape {
            self.dx = Array4::zeros(self.x_shape);
        }
        let window = self.window();
        self.dx
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(dout.axis_iter(Axis(0)))
            .zip(self.arg_max.axis_iter(Axis(0)))
            .for_each(|((dx, dout), arg)| route_image(&window, dout, arg, dx));
        self.dx.view()
    }
}

/// One image's backward: dx (C, H, W) ← 0, then each output's gradient added at its window's
/// maximum, window offset by window offset (where windows overlap, the terms of an element
/// then meet in col2im's order). Windows that neither overlap nor pad (the book's 2×2, stride
/// 2) each send one term to a distinct element: a plain store.
fn route_image<F: Float>(
    window: &Window,
    dout: ArrayView3<F>,
    arg: ArrayView3<u32>,
    mut dx: ArrayViewMut3<F>,
) {
    let (pool_h, pool_w, s) = (window.filter_h, window.filter_w, window.stride);
    let (_, h, w) = dx.dim();
    let (oh, ow) = (dout.dim().1, dout.dim().2);
    if (pool_h, pool_w, s, window.pad) != (2, 2, 2, 0) || h != 2 * oh || w != 2 * ow {
        dx.fill(F::zero());
    }
    if window.pad == 0 && s >= pool_h && s >= pool_w {
        let dx = dx.as_slice_mut().expect("dx is in standard layout");
        let (dout, arg) = (dout.as_standard_layout(), arg.as_standard_layout());
        let dout = dout.as_slice().expect("standard layout");
        let arg = arg.as_slice().expect("standard layout");
        if (pool_h, pool_w, s) == (2, 2, 2) {
            // Every element of every window written: 0, then d at the maximum, found by
            // arithmetic (a branch per element mispredicts on real data: 4× slower).
            let rows = dout.chunks_exact(ow).zip(arg.chunks_exact(ow));
            for (row, (dout, arg)) in rows.enumerate() {
                let (c, y) = (row / oh, row % oh);
                let top = (c * h + 2 * y) * w;
                let pair = &mut dx[top..top + 2 * w];
                pair.fill(F::zero());
                for (x, (&d, &a)) in dout.iter().zip(arg).enumerate() {
                    let a = a as usize & 3;
                    pair[(a >> 1) * w + 2 * x + (a & 1)] = d;
                }
            }
            return;
        }
        // Output (c, y, x) of index (c·OH + y)·OW + x; its window starts at (c·H + y·s)·W + x·s.
        for (row, (dout, arg)) in dout.chunks_exact(ow).zip(arg.chunks_exact(ow)).enumerate() {
            let (c, y) = (row / oh, row % oh);
            let start = (c * h + y * s) * w;
            for (x, (&d, &a)) in dout.iter().zip(arg).enumerate() {
                let (ph, pw) = (a as usize / pool_w, a as usize % pool_w);
                dx[start + ph * w + x * s + pw] = d;
            }
        }
        return;
    }
    for k in 0..pool_h * pool_w {
        let (ph, pw) = (k / pool_w, k % pool_w);
        for (((c, y, x), &d), &a) in dout.indexed_iter().zip(arg.iter()) {
            if a as usize != k {
                continue;
            }
            let sy = (y * s + ph).checked_sub(window.pad).filter(|&v| v < h);
            let sx = (x * s + pw).checked_sub(window.pad).filter(|&v| v < w);
            if let (Some(sy), Some(sx)) = (sy, sx) {
                dx[[c, sy, sx]] += d;
            }
        }
    }
}

/// One image's max pooling: out[c, oh, ow] = the window's maximum (padding reads 0), and
/// where it sits (the first maximum, in (ph, pw) order).
fn max_image<F: Float>(
    window: &Window,
    x: ArrayView3<F>,
    mut out: ArrayViewMut3<F>,
    mut arg: Option<ArrayViewMut3<u32>>,
) {
    let (_, h, w) = x.dim();
    let (c, oh, ow) = out.dim();
    if window.pad == 0 {
        // Every window inside the image: no padding to test for.
        let (pool_h, pool_w, s) = (window.filter_h, window.filter_w, window.stride);
        let x = x.as_standard_layout();
        let image = x.as_slice().expect("standard layout");
        let out = out.as_slice_mut().expect("out is in standard layout");
        let mut arg = arg
            .as_mut()
            .map(|a| a.as_slice_mut().expect("standard layout"));
        if (pool_h, pool_w, s) == (2, 2, 2) {
            // The book's pooling, branch-free: each output row reads two input rows.
            let mut scratch = [0u32; 0];
            for (row, out) in out.chunks_exact_mut(ow).enumerate() {
                let (ch, y) = (row / oh, row % oh);
                let top = (ch * h + 2 * y) * w;
                let arg = match arg.as_mut() {
                    Some(arg) => &mut arg[row * ow..(row + 1) * ow],
                    None => &mut scratch[..],
                };
                max_2x2(&image[top..top + w], &image[top + w..top + 2 * w], out, arg);
            }
            return;
        }
        // Output (c, y, x) of index (c·OH + y)·OW + x; its window starts at (c·H + y·s)·W + x·s.
        for (row, out) in out.chunks_exact_mut(ow).enumerate() {
            let (ch, y) = (row / oh, row % oh);
            let start = (ch * h + y * s) * w;
            for (x_out, o) in out.iter_mut().enumerate() {
                let corner = start + x_out * s;
                let (mut best, mut at) = (image[corner], 0);
                for ph in 0..pool_h {
                    let from = corner + ph * w;
                    for (pw, &v) in image[from..from + pool_w].iter().enumerate() {
                        if v > best {
                            (best, at) = (v, ph * pool_w + pw);
                        }
                    }
                }
                *o = best;
                if let Some(arg) = arg.as_mut() {
                    arg[row * ow + x_out] = at as u32;
                }
            }
        }
        return;
    }
    for ch in 0..c {
        for y in 0..oh {
            for x_out in 0..ow {
                let (mut best, mut at) = (F::zero(), 0);
                for k in 0..window.filter_h * window.filter_w {
                    let (ph, pw) = (k / window.filter_w, k % window.filter_w);
                    let sy = (y * window.stride + ph)
                        .checked_sub(window.pad)
                        .filter(|&v| v < h);
                    let sx = (x_out * window.stride + pw)
                        .checked_sub(window.pad)
                        .filter(|&v| v < w);
                    let v = match (sy, sx) {
                        (Some(sy), Some(sx)) => x[[ch, sy, sx]],
                        _ => F::zero(),
                    };
                    if k == 0 || v > best {
                        (best, at) = (v, k);
                    }
                }
                out[[ch, y, x_out]] = best;
                if let Some(arg) = arg.as_mut() {
                    arg[[ch, y, x_out]] = at as u32;
                }
            }
        }
    }
}

/// One row of 2×2 windows, stride 2: out[x] = max(top[2x], top[2x+1], bottom[2x],
/// bottom[2x+1]), the first maximum in that order, and where it sat (0…3) in `arg` unless
/// `arg` is empty.
#[inline(always)]
fn max_2x2<F: Float>(top: &[F], bottom: &[F], out: &mut [F], arg: &mut [u32]) {
    let windows = top.chunks_exact(2).zip(bottom.chunks_exact(2));
    let mut at = [0u32; 1];
    let keep = !arg.is_empty();
    for (x, (o, (t, b))) in out.iter_mut().zip(windows).enumerate() {
        let (mut best, mut k) = (t[0], 0);
        for (i, v) in [t[1], b[0], b[1]].into_iter().enumerate() {
            let more = v > best;
            best = if more { v } else { best };
            k = if more { i as u32 + 1 } else { k };
        }
        *o = best;
        let slot = if keep { &mut arg[x] } else { &mut at[0] };
        *slot = k;
    }
}

/// The book's Pooling, step for step through `im2col` and `col2im`.
pub mod reference {
    use super::*;
    use ndarray::Array2;

    /// `Pooling.forward` (out (N, C, OH, OW)) and its `arg_max`, one per output in
    /// (n, oh, ow, c) order.
    pub fn forward<F: Float>(pool: &Pooling<F>, x: ArrayView4<F>) -> (Array4<F>, Vec<usize>) {
        let [n, c, oh, ow] = pool.output_shape(x.dim());
        let size = pool.pool_h * pool.pool_w;
        let col = im2col(x, &pool.window());
        let col = col
            .into_shape_with_order((n * oh * ow * c, size))
            .expect("rows of a window");
        let mut arg_max = Vec::with_capacity(col.nrows());
        let mut out = Vec::with_capacity(col.nrows());
        for row in col.rows() {
            // np.argmax: the first index of the maximum.
            let at = (0..size).fold(0, |best, k| if row[k] > row[best] { k } else { best });
            arg_max.push(at);
            out.push(row[at]);
        }
        let out = Array4::from_shape_vec((n, oh, ow, c), out).expect("N·OH·OW·C values");
        (
            out.permuted_axes([0, 3, 1, 2])
                .as_standard_layout()
                .into_owned(),
            arg_max,
        )
    }

    /// `Pooling.backward` for input x (N, C, H, W) and dout (N, C, OH, OW) → dx (N, C, H, W).
    pub fn backward<F: Float>(
        pool: &Pooling<F>,
        x: ArrayView4<F>,
        dout: ArrayView4<F>,
    ) -> Array4<F> {
        let (_, arg_max) = forward(pool, x);
        let [n, c, oh, ow] = pool.output_shape(x.dim());
        let size = pool.pool_h * pool.pool_w;
        let dout = dout.permuted_axes([0, 2, 3, 1]);
        let mut dmax = Array2::zeros((dout.len(), size));
        for (i, (&d, &at)) in dout.iter().zip(&arg_max).enumerate() {
            dmax[[i, at]] = d;
        }
        let dcol = dmax
            .into_shape_with_order((n * oh * ow, c * size))
            .expect("rows of patches");
        col2im(dcol.view(), x.dim(), &pool.window())
    }
}

#[cfg(test)]
#[path = "pooling/tests.rs"]
mod tests;
