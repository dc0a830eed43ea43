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
//! That route is kept as the reference ([`reference`]). The layer computes the same numbers,
//! bit for bit, one image at a time and on all cores: each image's `col` transposed,
//! colᵀ (C·FH·FW, OH·OW), makes the image's output (FN, OH·OW) = W (FN, C·FH·FW) · colᵀ
//! directly in (N, FN, OH, OW) order, no transposes; `dcolᵀ = Wᵀ · dout` folds back with
//! `col2im`. Every product is [`product_into`]'s, whose sums run in a fixed order, so the
//! terms of each element meet in the reference's order: `dW` sums over (n, oh, ow) ascending,
//! image after image, whichever thread computes which block of dW — the thread count changes
//! no bit.

pub mod reference;

use crate::kernels::im2col::{col2im_image, im2col_image, Window};
use crate::kernels::packed::product_into;
use crate::Float;
use ndarray::parallel::prelude::*;
use ndarray::{s, Array1, Array3, Array4, ArrayView2, ArrayView3, ArrayView4, ArrayViewMut2, Axis};

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
    /// The last input's shape (N, C, H, W).
    x_shape: (usize, usize, usize, usize),
    /// Each image's colᵀ (N, C·FH·FW, OH·OW) from `forward`; `backward` reuses it for dcolᵀ.
    col: Array3<F>,
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
            x_shape: (0, 0, 0, 0),
            col: Array3::zeros((0, 0, 0)),
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

    /// x: (N, C, H, W) → out: (N, FN, OH, OW), keeping each image's colᵀ for `backward`.
    pub fn forward(&mut self, x: ArrayView4<F>) -> ArrayView4<'_, F> {
        let shape = self.output_shape(x.dim());
        let [n, _, oh, ow] = shape;
        self.x_shape = x.dim();
        let col_shape = (n, self.window().patch_len(x.dim().1), oh * ow);
        if self.col.dim() != col_shape {
            self.col = Array3::zeros(col_shape);
        }
        if self.out.shape() != shape {
            self.out = Array4::zeros(shape);
        }
        let (window, w_col) = (self.window(), matrix(&self.W));
        forward_into(
            (window, w_col, &self.b),
            x,
            self.col.view_mut(),
            self.out.view_mut(),
        );
        self.out.view()
    }

    /// The forward for evaluation, keeping nothing: x (N, C, H, W) → (N, FN, OH, OW).
    /// Allocates its colᵀ (for a batch of images at a time, not thousands).
    pub fn forward_eval(&self, x: ArrayView4<F>) -> Array4<F> {
        let shape = self.output_shape(x.dim());
        let [n, _, oh, ow] = shape;
        let mut col = Array3::zeros((n, self.window().patch_len(x.dim().1), oh * ow));
        let mut out = Array4::zeros(shape);
        let parts = (self.window(), self.w_col(), &self.b);
        forward_into(parts, x, col.view_mut(), out.view_mut());
        out
    }

    /// From dout: (N, FN, OH, OW), writes `db` (sums over n, oh, ow), `dW` (Σ dout ⊗ patch)
    /// and returns dx: (N, C, H, W) (an empty view when `needs_dx` is false).
    pub fn backward(&mut self, dout: ArrayView4<F>) -> ArrayView4<'_, F> {
        let [n, filters, oh, ow] = self.output_shape(self.x_shape);
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
        let dW_col = self
            .dW
            .view_mut()
            .into_shape_with_order((filters, self.col.dim().1))
            .expect("dW is in standard layout");
        weight_grad(dout, self.col.view(), dW_col);
        if !self.needs_dx {
            return self.dx.slice(s![0..0, .., .., ..]);
        }
        let dims = self.x_shape;
        if self.dx.dim() != dims {
            self.dx = Array4::zeros(dims);
        }
        let (window, w_col_t) = (self.window(), matrix(&self.W).reversed_axes());
        // dcolᵀ (C·FH·FW, OH·OW) = Wᵀ · dout, image by image, into the colᵀ no longer needed.
        self.col
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(self.dx.axis_iter_mut(Axis(0)))
            .zip(dout.axis_iter(Axis(0)))
            .for_each(|((mut dcol, dx), dout)| {
                product_into(w_col_t, dout, dcol.view_mut(), false);
                col2im_image(dcol.view(), &window, dx);
            });
        self.dx.view()
    }
}

/// Each image: colᵀ ← im2col(x), out (FN, OH·OW) ← W·colᵀ, then + b per filter; on all cores.
fn forward_into<F: Float>(
    (window, w_col, b): (Window, ArrayView2<F>, &Array1<F>),
    x: ArrayView4<F>,
    mut col: ndarray::ArrayViewMut3<F>,
    mut out: ndarray::ArrayViewMut4<F>,
) {
    let (n, filters, oh, ow) = out.dim();
    let mut out = out
        .view_mut()
        .into_shape_with_order((n, filters, oh * ow))
        .expect("out is in standard layout");
    x.axis_iter(Axis(0))
        .into_par_iter()
        .zip(col.axis_iter_mut(Axis(0)))
        .zip(out.axis_iter_mut(Axis(0)))
        .for_each(|((x, mut col), mut out)| {
            im2col_image(x, &window, col.view_mut());
            product_into(w_col, col.view(), out.view_mut(), false);
            for (mut row, &bias) in out.rows_mut().into_iter().zip(b) {
                row.mapv_inplace(|v| v + bias);
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
/// terms over (n, p) ascending, image after image (`product_into` accumulating); dW is split
/// into blocks along its longer side, one per thread, and every block runs through all the
/// images, so the split changes which thread sums an element, never its order.
fn weight_grad<F: Float>(dout: ArrayView3<F>, col: ArrayView3<F>, mut dW: ArrayViewMut2<F>) {
    let (rows, cols) = dW.dim();
    let axis = if rows >= cols { Axis(0) } else { Axis(1) };
    let length = dW.len_of(axis);
    let size = length.div_ceil(rayon::current_num_threads()).max(1);
    dW.axis_chunks_iter_mut(axis, size)
        .into_par_iter()
        .enumerate()
        .for_each(|(block, mut dW)| {
            let range = block * size..block * size + dW.len_of(axis);
            for (i, (dout, col)) in dout.outer_iter().zip(col.outer_iter()).enumerate() {
                let (dout, col_t) = if axis == Axis(0) {
                    (dout.slice_move(s![range.clone(), ..]), col)
                } else {
                    (dout, col.slice_move(s![range.clone(), ..]))
                };
                product_into(dout, col_t.reversed_axes(), dW.view_mut(), i > 0);
            }
        });
    if dout.dim().0 == 0 {
        dW.fill(F::zero());
    }
}

#[cfg(test)]
#[path = "convolution/tests.rs"]
mod tests;
