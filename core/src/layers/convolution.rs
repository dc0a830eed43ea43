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
//! bit for bit, one image at a time and on all cores: each image's `col` transposed,
//! colᵀ (C·FH·FW, OH·OW), makes the image's output (FN, OH·OW) = W (FN, C·FH·FW) · colᵀ
//! directly in (N, FN, OH, OW) order, no transposes; `dcolᵀ = Wᵀ · dout` folds back with
//! `col2im`. Every product is [`product_into`]'s, whose sums run in a fixed order, so the
//! terms of each element meet in the reference's order: `dW` sums over (n, oh, ow) ascending,
//! image after image, whichever thread computes which block of dW — the thread count changes
//! no bit.
//!
//! The layer keeps x, as the book's does, but not `col`: colᵀ is built one image at a time
//! into a buffer per thread that stays in the cache, and built again, block of rows by block
//! of rows, for dW. A batch's `col` is 9× larger than x for a 3×3 filter (DeepConvNet's
//! second layer: 45 MB against 5 MB), and writing it out and reading it back cost more than
//! building it twice.

pub mod reference;

use crate::kernels::im2col::{col2im_image, im2col_image, im2col_rows, Window};
use crate::kernels::packed::product_into;
use crate::Float;
use ndarray::parallel::prelude::*;
use ndarray::{s, Array1, Array2, Array4, ArrayView2, ArrayView3, ArrayView4, ArrayViewMut2, Axis};

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
    /// One colᵀ (C·FH·FW, OH·OW) per block of work running at once (reused).
    scratch: Vec<Array2<F>>,
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
            scratch: Vec::new(),
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
            &mut self.scratch,
            self.out.view_mut(),
        );
        self.out.view()
    }

    /// The forward for evaluation, keeping nothing: x (N, C, H, W) → (N, FN, OH, OW).
    /// Allocates its output and a colᵀ per thread.
    pub fn forward_eval(&self, x: ArrayView4<F>) -> Array4<F> {
        let mut out = Array4::zeros(self.output_shape(x.dim()));
        let parts = (self.window(), self.w_col(), &self.b);
        forward_into(parts, x, &mut Vec::new(), out.view_mut());
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
        weight_grad(&window, self.x.view(), dout, &mut self.scratch, dW_col);
        if !self.needs_dx {
            return self.dx.slice(s![0..0, .., .., ..]);
        }
        if self.dx.dim() != self.x.dim() {
            self.dx = Array4::zeros(self.x.dim());
        }
        let w_col_t = matrix(&self.W).reversed_axes();
        // dcolᵀ (C·FH·FW, OH·OW) = Wᵀ · dout, image by image, folded back into dx.
        let per = per_block(n);
        ensure_scratch(&mut self.scratch, (patch, oh * ow));
        self.dx
            .axis_chunks_iter_mut(Axis(0), per)
            .into_par_iter()
            .zip(dout.axis_chunks_iter(Axis(0), per))
            .zip(self.scratch.par_iter_mut())
            .for_each(|((mut dx, dout), dcol)| {
                for (dx, dout) in dx.outer_iter_mut().zip(dout.outer_iter()) {
                    product_into(w_col_t, dout, dcol.view_mut(), false);
                    col2im_image(dcol.view(), &window, dx);
                }
            });
        self.dx.view()
    }
}

/// Images per block of work: the batch in as many blocks as rayon has threads.
fn per_block(images: usize) -> usize {
    images.div_ceil(rayon::current_num_threads()).max(1)
}

/// One (rows, cols) buffer per rayon thread, reallocated only when the shape changes.
fn ensure_scratch<F: Float>(scratch: &mut Vec<Array2<F>>, shape: (usize, usize)) {
    scratch.resize_with(rayon::current_num_threads(), || Array2::zeros((0, 0)));
    for buffer in scratch.iter_mut().filter(|b| b.dim() != shape) {
        *buffer = Array2::zeros(shape);
    }
}

/// Each image: colᵀ ← im2col(x) into a block's buffer, out (FN, OH·OW) ← W·colᵀ, then + b per
/// filter; blocks of images on all cores.
fn forward_into<F: Float>(
    (window, w_col, b): (Window, ArrayView2<F>, &Array1<F>),
    x: ArrayView4<F>,
    scratch: &mut Vec<Array2<F>>,
    mut out: ndarray::ArrayViewMut4<F>,
) {
    let (n, filters, oh, ow) = out.dim();
    let mut out = out
        .view_mut()
        .into_shape_with_order((n, filters, oh * ow))
        .expect("out is in standard layout");
    let per = per_block(n);
    ensure_scratch(scratch, (w_col.ncols(), oh * ow));
    x.axis_chunks_iter(Axis(0), per)
        .into_par_iter()
        .zip(out.axis_chunks_iter_mut(Axis(0), per))
        .zip(scratch.par_iter_mut())
        .for_each(|((x, mut out), col)| {
            for (x, mut out) in x.outer_iter().zip(out.outer_iter_mut()) {
                im2col_image(x, &window, col.view_mut());
                product_into(w_col, col.view(), out.view_mut(), false);
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
/// terms over (n, p) ascending, image after image (`product_into` accumulating). dW's
/// columns are split into blocks, one per thread; a block builds its rows of each image's colᵀ
/// and runs through all the images, so the split changes which thread sums an element, never
/// its order.
fn weight_grad<F: Float>(
    window: &Window,
    x: ArrayView4<F>,
    dout: ArrayView3<F>,
    scratch: &mut Vec<Array2<F>>,
    mut dW: ArrayViewMut2<F>,
) {
    let patch = dW.ncols();
    let size = patch.div_ceil(rayon::current_num_threads()).max(1);
    ensure_scratch(scratch, (patch, dout.dim().2));
    dW.axis_chunks_iter_mut(Axis(1), size)
        .into_par_iter()
        .zip(scratch.par_iter_mut())
        .enumerate()
        .for_each(|(block, (mut dW, col))| {
            let rows = block * size..block * size + dW.ncols();
            let mut col = col.slice_mut(s![..rows.len(), ..]);
            for (i, (x, dout)) in x.outer_iter().zip(dout.outer_iter()).enumerate() {
                im2col_rows(x, window, rows.clone(), col.view_mut());
                product_into(dout, col.view().reversed_axes(), dW.view_mut(), i > 0);
            }
        });
    if dout.dim().0 == 0 {
        dW.fill(F::zero());
    }
}

#[cfg(test)]
#[path = "convolution/tests.rs"]
mod tests;
