//! The Convolution layer (chapter 7): FN filters of C × FH × FW slid over the input, each
//! output pixel a patch's dot product with a filter plus the filter's bias.
//!
//! ```python
//! def forward(self, x):                          def backward(self, dout):
//!     col = im2col(x, FH, FW, stride, pad)           dout = dout.transpose(0,2,3,1).reshape(-1, FN)
//!     col_W = W.reshape(FN, -1).T                    db = np.sum(dout, axis=0)
//!     out = np.dot(col, col_W) + b                   dW = np.dot(col.T, dout)
//!     out = out.reshape(N, OH, OW, -1)               dW = dW.transpose(1, 0).reshape(FN, C, FH, FW)
//!     return out.transpose(0, 3, 1, 2)               dcol = np.dot(dout, col_W.T)
//!                                                    return col2im(dcol, x.shape, FH, FW, stride, pad)
//! ```
//!
//! That route is kept as the reference ([`reference`](mod@reference)). The layer computes the same numbers,
//! bit for bit, one image at a time and on all cores, as products of the packed kernel
//! ([`multiply_packed`]) whose operands are written straight into its packed layout:
//!
//! - forward: out (FN, OH·OW) = W (FN, C·FH·FW) · colᵀ, W packed once per batch and each
//!   image's colᵀ unrolled into panels ([`im2col_panels`]), in (N, FN, OH, OW) order, no
//!   transposes;
//! - dx: dcolᵀ (C·FH·FW, OH·OW) = Wᵀ · dout, Wᵀ packed once per batch, folded back with
//!   `col2im`;
//! - dW (FN, C·FH·FW) = Σ_n dout_n · col_n, each image's col unrolled into panels
//!   ([`col_panels`]) from the image with its padding.
//!
//! Every product sums in a fixed order, so the terms of each element meet in the reference's
//! order: `dW` sums over (n, oh, ow) ascending, image after image, whichever thread computes
//! which block of dW — the thread count changes no bit.
//!
//! The layer keeps x, as the book's does, but not `col`: an image's unrolled patches are
//! built into a buffer per thread that stays in the cache, and built again for dW. A batch's
//! `col` is 9× larger than x for a 3×3 filter (DeepConvNet's second layer: 45 MB against
//! 5 MB), and writing it out and reading it back cost more than building it twice.

pub mod reference;

use crate::kernels::im2col::{col2im_image, col_panels, im2col_panels, pad_image, Window};
use crate::kernels::packed::{self, multiply_packed, pack_a, pack_b, Panels, MR};
use crate::Float;
use ndarray::parallel::prelude::*;
use ndarray::{s, Array1, Array2, Array3, Array4, ArrayView2, ArrayView3, ArrayView4, ArrayViewMut2, Axis};

/// A convolution with filters `W: (FN, C, FH, FW)` and biases `b: (FN,)`.
#[derive(Clone)]
pub struct Convolution<F: Float> {
    /// Filters, (FN, C, FH, FW): the book's `W`.
    pub W: Array4<F>,
    /// One bias per filter, (FN,): the book's `b`.
    pub b: Array1<F>,
    /// Step between two output positions.
    pub stride: usize,
    /// Zeros added on each side of the input.
    pub pad: usize,
    /// Gradient of the loss with respect to `W`, (FN, C, FH, FW), written by `backward`.
    pub dW: Array4<F>,
    /// Gradient of the loss with respect to `b`, (FN,), written by `backward`.
    pub db: Array1<F>,
    /// Whether `backward` computes `dx` (a network's first layer: its input is the data).
    pub needs_dx: bool,
    /// The last input, (N, C, H, W) (the book's `self.x`).
    x: Array4<F>,
    /// Packed operands and buffers, kept from batch to batch.
    work: Work<F>,
    out: Array4<F>,
    dx: Array4<F>,
}

impl<F: Float> Convolution<F> {
    /// A layer from filters `W: (FN, C, FH, FW)`, biases `b: (FN,)`, stride (≥ 1) and pad.
    pub fn new(W: Array4<F>, b: Array1<F>, stride: usize, pad: usize) -> Self {
        assert_eq!(W.dim().0, b.len(), "Convolution: FN filters need FN biases");
        assert!(stride >= 1, "Convolution: stride 0");
        // The products read W as the matrix (FN, C·FH·FW).
        let W = W.as_standard_layout().into_owned();
        let (dW, db) = (Array4::zeros(W.raw_dim()), Array1::zeros(b.len()));
        Convolution {
            W,
            b,
            stride,
            pad,
            dW,
            db,
            needs_dx: true,
            x: Array4::zeros((0, 0, 0, 0)),
            work: Work::default(),
            out: Array4::zeros((0, 0, 0, 0)),
            dx: Array4::zeros((0, 0, 0, 0)),
        }
    }

    /// The filters' geometry (FH, FW, stride, pad).
    pub fn window(&self) -> Window {
        let (_, _, filter_h, filter_w) = self.W.dim();
        Window {
            filter_h,
            filter_w,
            stride: self.stride,
            pad: self.pad,
        }
    }

    /// The output shape (N, FN, OH, OW) for an input (N, C, H, W); panics, naming the sizes,
    /// when C is not the filters' or the filter does not fit.
    pub fn output_shape(&self, x_shape: (usize, usize, usize, usize)) -> [usize; 4] {
        let (n, c, h, w) = x_shape;
        let (filters, channels, ..) = self.W.dim();
        assert_eq!(
            c, channels,
            "Convolution: {c} input channels, filters of {channels}"
        );
        let window = self.window();
        let (oh, ow) = window
            .output_size(h, w)
            .unwrap_or_else(|| panic!("Convolution: a {window:?} does not fit {h}×{w}"));
        [n, filters, oh, ow]
    }

    /// W as the matrix (FN, C·FH·FW) (the book's `col_W` transposed).
    fn w_col(&self) -> ArrayView2<'_, F> {
        matrix(&self.W)
    }

    /// x: (N, C, H, W) → out: (N, FN, OH, OW), keeping x for `backward`.
    pub fn forward(&mut self, x: ArrayView4<F>) -> ArrayView4<'_, F> {
        let shape = self.output_shape(x.dim());
        if self.x.dim() != x.dim() {
            self.x = Array4::zeros(x.dim());
        }
        self.x.assign(&x);
        if self.out.shape() != shape {
            self.out = Array4::zeros(shape);
        }
        let (window, w_col) = (self.window(), matrix(&self.W));
        forward_into(
            (window, w_col, &self.b),
            self.x.view(),
            &mut self.work,
            self.out.view_mut(),
        );
        self.out.view()
    }

    /// The forward for evaluation, keeping nothing: x (N, C, H, W) → (N, FN, OH, OW).
    /// Allocates its output and its buffers.
    pub fn forward_eval(&self, x: ArrayView4<F>) -> Array4<F> {
        let mut out = Array4::zeros(self.output_shape(x.dim()));
        let parts = (self.window(), self.w_col(), &self.b);
        forward_into(parts, x, &mut Work::default(), out.view_mut());
        out
    }

    /// From dout: (N, FN, OH, OW), writes `db` (sums over n, oh, ow), `dW` (Σ dout ⊗ patch)
    /// and returns dx: (N, C, H, W) (an empty view when `needs_dx` is false).
    pub fn backward(&mut self, dout: ArrayView4<F>) -> ArrayView4<'_, F> {
        let [n, filters, oh, ow] = self.output_shape(self.x.dim());
        assert_eq!(
            dout.shape(),
            [n, filters, oh, ow],
            "Convolution: dout's shape"
        );
        let dout = dout.as_standard_layout();
        let dout = dout
            .view()
            .into_shape_with_order((n, filters, oh * ow))
            .expect("standard layout");
        bias_grad(dout, &mut self.db);
        let window = self.window();
        let patch = window.patch_len(self.x.dim().1);
        let dW_col = self
            .dW
            .view_mut()
            .into_shape_with_order((filters, patch))
            .expect("dW is in standard layout");
        weight_grad(&window, self.x.view(), dout, &mut self.work, dW_col);
        if !self.needs_dx {
            return self.dx.slice(s![0..0, .., .., ..]);
        }
        if self.dx.dim() != self.x.dim() {
            self.dx = Array4::zeros(self.x.dim());
        }
        // dcolᵀ (C·FH·FW, OH·OW) = Wᵀ · dout, image by image, folded back into dx.
        let panels = Panels::now::<F>();
        let Work { w_t, threads, .. } = &mut self.work;
        let w_t = pack_a(matrix(&self.W).reversed_axes(), w_t);
        let per = per_block(n);
        ensure_threads(threads);
        self.dx
            .axis_chunks_iter_mut(Axis(0), per)
            .into_par_iter()
            .zip(dout.axis_chunks_iter(Axis(0), per))
            .zip(threads.par_iter_mut())
            .for_each(|((mut dx, dout), scratch)| {
                if scratch.dcol.dim() != (patch, oh * ow) {
                    scratch.dcol = Array2::zeros((patch, oh * ow));
                }
                for (dx, dout) in dx.outer_iter_mut().zip(dout.outer_iter()) {
                    let b = pack_b(panels, dout, &mut scratch.b);
                    multiply_packed(panels, (w_t, b, filters), scratch.dcol.view_mut(), false);
                    col2im_image(scratch.dcol.view(), &window, dx);
                }
            });
        self.dx.view()
    }
}

/// What the layer keeps between batches for its products: W packed for the forward, Wᵀ for
/// dx, and one [`Scratch`] per block of work running at once.
#[derive(Clone)]
struct Work<F> {
    w: Vec<F>,
    w_t: Vec<F>,
    threads: Vec<Scratch<F>>,
}

impl<F> Default for Work<F> {
    fn default() -> Self {
        Work {
            w: Vec::new(),
            w_t: Vec::new(),
            threads: Vec::new(),
        }
    }
}

/// One thread's buffers: an image's packed operands, its dcolᵀ (C·FH·FW, OH·OW) and its
/// padded copy (C, H + 2·pad, W + 2·pad).
#[derive(Clone)]
struct Scratch<F> {
    a: Vec<F>,
    b: Vec<F>,
    dcol: Array2<F>,
    padded: Array3<F>,
}

impl<F: Float> Default for Scratch<F> {
    fn default() -> Self {
        Scratch {
            a: Vec::new(),
            b: Vec::new(),
            dcol: Array2::zeros((0, 0)),
            padded: Array3::zeros((0, 0, 0)),
        }
    }
}

/// Images per block of work: the batch in as many blocks as rayon has threads.
fn per_block(images: usize) -> usize {
    images.div_ceil(rayon::current_num_threads()).max(1)
}

/// One [`Scratch`] per rayon thread.
fn ensure_threads<F: Float>(threads: &mut Vec<Scratch<F>>) {
    threads.resize_with(rayon::current_num_threads(), Scratch::default);
}

/// Each image: colᵀ ← im2col(x) in panels, out (FN, OH·OW) ← W·colᵀ, then + b per filter;
/// blocks of images on all cores.
fn forward_into<F: Float>(
    (window, w_col, b): (Window, ArrayView2<F>, &Array1<F>),
    x: ArrayView4<F>,
    work: &mut Work<F>,
    mut out: ndarray::ArrayViewMut4<F>,
) {
    let (n, filters, oh, ow) = out.dim();
    let mut out = out
        .view_mut()
        .into_shape_with_order((n, filters, oh * ow))
        .expect("out is in standard layout");
    let (panels, patch) = (Panels::now::<F>(), w_col.ncols());
    let Work { w, threads, .. } = work;
    let w = pack_a(w_col, w);
    let per = per_block(n);
    ensure_threads(threads);
    x.axis_chunks_iter(Axis(0), per)
        .into_par_iter()
        .zip(out.axis_chunks_iter_mut(Axis(0), per))
        .zip(threads.par_iter_mut())
        .for_each(|((x, mut out), scratch)| {
            for (x, mut out) in x.outer_iter().zip(out.outer_iter_mut()) {
                let col = packed::buffer(&mut scratch.b, panels.b_len(oh * ow, patch));
                im2col_panels(x, &window, panels.nr, col);
                multiply_packed(panels, (w, col, patch), out.view_mut(), false);
                for (mut row, &bias) in out.rows_mut().into_iter().zip(b) {
                    row.mapv_inplace(|v| v + bias);
                }
            }
        });
}

/// W (FN, C, FH, FW) as the matrix (FN, C·FH·FW).
fn matrix<F: Float>(W: &Array4<F>) -> ArrayView2<'_, F> {
    let filters = W.dim().0;
    let len = W.len() / filters.max(1);
    W.view()
        .into_shape_with_order((filters, len))
        .expect("W is in standard layout")
}

/// db[f] = Σ dout[n, f, p] over (n, p) ascending (the reference's row order).
fn bias_grad<F: Float>(dout: ArrayView3<F>, db: &mut Array1<F>) {
    db.fill(F::zero());
    for image in dout.outer_iter() {
        for (sum, row) in db.iter_mut().zip(image.outer_iter()) {
            for &v in row {
                *sum += v;
            }
        }
    }
}

/// dW (FN, C·FH·FW) = Σ_n dout_n (FN, OH·OW) · col_n (OH·OW, C·FH·FW): each element sums its
/// terms over (n, p) ascending, image after image (accumulating in place). dW is split into
/// blocks of whole panels of columns (or of rows, when there are fewer column panels than
/// threads), one per thread; a block packs its part of each image's dout and col and runs
/// through all the images, so the split changes which thread sums an element, never its order.
fn weight_grad<F: Float>(
    window: &Window,
    x: ArrayView4<F>,
    dout: ArrayView3<F>,
    work: &mut Work<F>,
    mut dW: ArrayViewMut2<F>,
) {
    let (filters, patch) = dW.dim();
    let positions = dout.dim().2;
    let panels = Panels::now::<F>();
    let threads = rayon::current_num_threads();
    let by_columns = patch.div_ceil(panels.nr) >= threads.min(filters.div_ceil(MR));
    let (axis, unit, units) = match by_columns {
        true => (Axis(1), panels.nr, patch.div_ceil(panels.nr)),
        false => (Axis(0), MR, filters.div_ceil(MR)),
    };
    let size = units.div_ceil(threads).max(1) * unit;
    ensure_threads(&mut work.threads);
    dW.axis_chunks_iter_mut(axis, size)
        .into_par_iter()
        .zip(work.threads.par_iter_mut())
        .enumerate()
        .for_each(|(block, (mut dW, scratch))| {
            let part = block * size..block * size + dW.len_of(axis);
            let (rows, cols) = match by_columns {
                true => (0..filters, part),
                false => (part, 0..patch),
            };
            for (i, (x, dout)) in x.outer_iter().zip(dout.outer_iter()).enumerate() {
                pad_image(x, window.pad, &mut scratch.padded);
                let a = pack_a(dout.slice(s![rows.clone(), ..]), &mut scratch.a);
                let b = packed::buffer(&mut scratch.b, panels.b_len(cols.len(), positions));
                col_panels(scratch.padded.view(), window, cols.clone(), panels.nr, b);
                multiply_packed(panels, (a, b, positions), dW.view_mut(), i > 0);
            }
        });
    if dout.dim().0 == 0 {
        dW.fill(F::zero());
    }
}

#[cfg(test)]
#[path = "convolution/tests.rs"]
mod tests;
