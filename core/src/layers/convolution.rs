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
//! That route is kept as the reference ([`reference`](mod@reference)). The layer computes the
//! same numbers, bit for bit, one image at a time ([`kernels::conv`](crate::kernels::conv):
//! out (FN, OH·OW) = W·colᵀ, dcolᵀ = Wᵀ·dout folded back, dW = Σ_n dout_n·col_n) and blocks of
//! images on all cores. Every product sums in a fixed order, so the terms of each element meet
//! in the reference's order: `dW` sums over (n, oh, ow) ascending, image after image,
//! whichever thread computes which block of dW — the thread count changes no bit.
//!
//! The layer keeps x, as the book's does (padded, in its [`Batch`]), but never a batch's `col`:
//! 9× larger than x for a 3×3 filter (DeepConvNet's second layer: 45 MB against 5 MB). With
//! stride 1 the products read each image, padded, in place; otherwise an image's patches are
//! unrolled into a buffer per thread that stays in the cache, and unrolled again for dW.

pub mod reference;

use crate::kernels::conv::{
    dw_block, dx_image, forward_image, prepare_dout, Batch, Filters, Geometry, Scratch,
};
use crate::kernels::im2col::Window;
use crate::kernels::packed::{pack_a, Panels};
use crate::Float;
use ndarray::parallel::prelude::*;
use ndarray::{s, Array1, Array4, ArrayView2, ArrayView3, ArrayView4, ArrayViewMut2, Axis};
use rayon::slice::ParallelSliceMut;

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
    /// The last input's shape (N, C, H, W); the input itself (the book's `self.x`) is kept
    /// padded in `work`'s batch.
    x_shape: (usize, usize, usize, usize),
    /// Packed operands and buffers, kept from batch to batch (boxed: a network's layers are
    /// an enum, whose size is its largest variant's).
    work: Box<Work<F>>,
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
            work: Box::default(),
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

    /// x: (N, C, H, W) → out: (N, FN, OH, OW), keeping x (padded) for `backward`.
    pub fn forward(&mut self, x: ArrayView4<F>) -> ArrayView4<'_, F> {
        let shape = self.output_shape(x.dim());
        self.x_shape = x.dim();
        if self.out.shape() != shape {
            self.out = Array4::zeros(shape);
        }
        let (parts, keep) = ((&self.W, &self.b), true);
        forward_into(
            parts,
            (self.window(), keep),
            x,
            &mut self.work,
            self.out.view_mut(),
        );
        self.out.view()
    }

    /// The forward for evaluation, keeping nothing: x (N, C, H, W) → (N, FN, OH, OW).
    /// Allocates its output and its buffers (one padded image per block of work).
    pub fn forward_eval(&self, x: ArrayView4<F>) -> Array4<F> {
        let mut out = Array4::zeros(self.output_shape(x.dim()));
        let parts = (&self.W, &self.b);
        let keep = false;
        forward_into(
            parts,
            (self.window(), keep),
            x,
            &mut Work::default(),
            out.view_mut(),
        );
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
        // The forward's layout of the operands (its batch is laid for it).
        let panels = self.work.panels;
        let geo = self
            .work
            .prepare((&self.W, true), self.window(), self.x_shape, panels);
        let per = per_block(n);
        if geo.in_place() {
            // Each image's doutᵀ packed for dW once, on all cores, before dW's blocks read it.
            let packed = geo.dout_t_len(panels);
            dout.axis_chunks_iter(Axis(0), per)
                .into_par_iter()
                .zip(self.work.batch.douts_t.par_chunks_mut(per * packed))
                .for_each(|(dout, packs)| {
                    for (dout, pack) in dout.outer_iter().zip(packs.chunks_exact_mut(packed)) {
                        prepare_dout((&geo, panels), dout, pack);
                    }
                });
        }
        let dW = self
            .dW
            .view_mut()
            .into_shape_with_order((filters, geo.patch()))
            .expect("dW is in standard layout");
        weight_grad(&geo, dout, &mut self.work, dW);
        if !self.needs_dx {
            return self.dx.slice(s![0..0, .., .., ..]);
        }
        if self.dx.dim() != self.x_shape {
            self.dx = Array4::zeros(self.x_shape);
        }
        let (filters, _, threads) = self.work.parts();
        let products = (&geo, panels, &filters);
        self.dx
            .axis_chunks_iter_mut(Axis(0), per)
            .into_par_iter()
            .zip(dout.axis_chunks_iter(Axis(0), per))
            .zip(threads.par_iter_mut())
            .for_each(|((mut dx, dout), scratch)| {
                for (dx, dout) in dx.outer_iter_mut().zip(dout.outer_iter()) {
                    dx_image(products, dout, scratch, dx);
                }
            });
        self.dx.view()
    }
}

/// What the layer keeps between batches for its products: W packed for the forward, Wᵀ for
/// dx, where the operands' rows start, the [`Batch`], the operands' layout the batch was laid
/// for, and one [`Scratch`] per block of work running at once.
struct Work<F> {
    w: Packed<F>,
    w_t: Packed<F>,
    offsets: Vec<usize>,
    grid_rows: Vec<usize>,
    batch: Batch<F>,
    panels: Panels,
    threads: Vec<Scratch<F>>,
}

impl<F: Float> Default for Work<F> {
    fn default() -> Self {
        Work {
            w: Packed::default(),
            w_t: Packed::default(),
            offsets: Vec::new(),
            grid_rows: Vec::new(),
            batch: Batch::default(),
            panels: Panels::now::<F>(),
            threads: Vec::new(),
        }
    }
}

impl<F: Float> Clone for Work<F> {
    /// Fresh buffers: every batch fills them again.
    fn clone(&self) -> Self {
        Work::default()
    }
}

impl<F: Float> Work<F> {
    /// Packs W for the forward (or Wᵀ for dx, `backward`) for inputs of `x_shape` and operands
    /// laid out as `panels`, computes the offsets, and makes one [`Scratch`] per rayon thread;
    /// returns the geometry.
    fn prepare(
        &mut self,
        (W, backward): (&Array4<F>, bool),
        window: Window,
        x_shape: (usize, usize, usize, usize),
        panels: Panels,
    ) -> Geometry {
        let (_, c, h, w) = x_shape;
        let geo = Geometry::new(window, (c, h, w), W.dim().0).expect("the window fits (checked)");
        match backward {
            false => self.w.pack(matrix(W)),
            true => self.w_t.pack(matrix(W).reversed_axes()),
        }
        geo.offsets(&mut self.offsets);
        geo.grid_rows(&mut self.grid_rows);
        self.panels = panels;
        self.threads
            .resize_with(rayon::current_num_threads(), Scratch::default);
        geo
    }

    /// The filters as the products read them, the batch, and the threads' buffers.
    fn parts(&mut self) -> (Filters<'_, F>, &mut Batch<F>, &mut [Scratch<F>]) {
        let filters = Filters {
            w: self.w.values(),
            w_t: self.w_t.values(),
            offsets: &self.offsets,
            grid_rows: &self.grid_rows,
        };
        (filters, &mut self.batch, &mut self.threads)
    }
}

/// A matrix packed by [`pack_a`], kept with where its values start in the buffer.
struct Packed<F> {
    buf: Vec<F>,
    values: std::ops::Range<usize>,
}

impl<F> Default for Packed<F> {
    fn default() -> Self {
        Packed {
            buf: Vec::new(),
            values: 0..0,
        }
    }
}

impl<F: Float> Packed<F> {
    /// Packs `m` (rows, k) as the A operand.
    fn pack(&mut self, m: ArrayView2<F>) {
        let packed = pack_a(m, &mut self.buf);
        let (at, len) = (packed.as_ptr() as usize, packed.len());
        let start = (at - self.buf.as_ptr() as usize) / size_of::<F>();
        self.values = start..start + len;
    }

    /// The packed values.
    fn values(&self) -> &[F] {
        &self.buf[self.values.clone()]
    }
}

/// Images per block of work: the batch in as many blocks as rayon has threads.
fn per_block(images: usize) -> usize {
    images.div_ceil(rayon::current_num_threads()).max(1)
}

/// Each image: out (FN, OH·OW) ← W·colᵀ + b, the image padded into its slot of the batch
/// (when it is kept for the backward; otherwise into one slot per block, reused); blocks of
/// images on all cores.
fn forward_into<F: Float>(
    (W, b): (&Array4<F>, &Array1<F>),
    (window, keep): (Window, bool),
    x: ArrayView4<F>,
    work: &mut Work<F>,
    mut out: ndarray::ArrayViewMut4<F>,
) {
    let (n, filters, oh, ow) = out.dim();
    let mut out = out
        .view_mut()
        .into_shape_with_order((n, filters, oh * ow))
        .expect("out is in standard layout");
    let panels = Panels::now::<F>();
    let geo = work.prepare((W, false), window, x.dim(), panels);
    let per = per_block(n);
    let (slots, per_slot) = if keep { (n, 1) } else { (n.div_ceil(per), per) };
    work.batch.lay(&geo, slots, panels);
    let image_len = geo.image_len(panels.nr);
    let (filters, batch, threads) = work.parts();
    let products = (&geo, panels, &filters);
    x.axis_chunks_iter(Axis(0), per)
        .into_par_iter()
        .zip(out.axis_chunks_iter_mut(Axis(0), per))
        .zip(batch.images.par_chunks_mut(per / per_slot * image_len))
        .zip(threads.par_iter_mut())
        .for_each(|(((x, mut out), images), scratch)| {
            for (i, (x, out)) in x.outer_iter().zip(out.outer_iter_mut()).enumerate() {
                let slot = i / per_slot * image_len;
                let image = &mut images[slot..slot + image_len];
                forward_image(products, (x, image), b, scratch, out);
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

/// db[f] = Σ dout[n, f, p] over (n, p) ascending (the reference's row order). Each sum is a
/// chain of additions, each waiting for the last; eight filters' chains run side by side
/// (a position of eight filters at a time), so the adder is not left waiting (one chain at a
/// time took 2.3 ms of SimpleConvNet's 7 ms step [Xeon]); groups of eight on all cores.
fn bias_grad<F: Float>(dout: ArrayView3<F>, db: &mut Array1<F>) {
    const CHAINS: usize = 8;
    let (_, filters, positions) = dout.dim();
    let dout = dout.as_standard_layout();
    let dout = dout.as_slice().expect("standard layout");
    let db = db.as_slice_mut().expect("db is contiguous");
    db.par_chunks_mut(CHAINS)
        .enumerate()
        .for_each(|(chunk, sums)| {
            let mut acc = [F::zero(); CHAINS];
            for image in dout.chunks_exact(filters * positions) {
                let rows = &image[chunk * CHAINS * positions..];
                for p in 0..positions {
                    for (j, acc) in acc.iter_mut().enumerate().take(sums.len()) {
                        *acc += rows[j * positions + p];
                    }
                }
            }
            sums.copy_from_slice(&acc[..sums.len()]);
        });
}

/// dW (FN, C·FH·FW) = Σ_n dout_n (FN, OH·OW) · col_n (OH·OW, C·FH·FW): each element sums its
/// terms over (n, p) ascending, image after image (accumulating in place). dW's columns are
/// split into blocks of whole tiles, one per thread; a block runs through all the images, so
/// the split changes which thread sums an element, never its order.
fn weight_grad<F: Float>(
    geo: &Geometry,
    dout: ArrayView3<F>,
    work: &mut Work<F>,
    mut dW: ArrayViewMut2<F>,
) {
    let panels = work.panels;
    let unit = geo.dw_unit(panels);
    let blocks = geo.patch().div_ceil(unit);
    let size = blocks.div_ceil(rayon::current_num_threads()).max(1) * unit;
    let (filters, batch, threads) = work.parts();
    let (products, batch) = ((geo, panels, &filters), &*batch);
    dW.axis_chunks_iter_mut(Axis(1), size)
        .into_par_iter()
        .zip(threads.par_iter_mut())
        .enumerate()
        .for_each(|(block, (dW, scratch))| {
            let cols = block * size..block * size + dW.ncols();
            dw_block(products, (batch, dout), cols, scratch, dW);
        });
}

#[cfg(test)]
#[path = "convolution/tests.rs"]
mod tests;
