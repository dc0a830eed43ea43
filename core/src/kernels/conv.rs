//! One image's products for the Convolution layer, on the packed kernel ([`multiply`]), with
//! no `col` matrix built in between where it can be helped.
//!
//! Two routes give the same bits (each element's terms, in the reference's order):
//!
//! - **in place** (stride 1): the image is copied once with its padding, (C, Hp, Wp), and the
//!   products read it where it lies. Row (c, fh, fw) of colᵀ, taken over the *extended grid*
//!   of output positions `y·Wp + x` (x running over the padded width Wp, not only the OW
//!   outputs), is the run of the padded image starting at `(c·Hp + fh)·Wp + fw`: the forward
//!   reads colᵀ as those runs (B in place), dW reads them as A's rows. The extra positions
//!   (x ≥ OW) are computed and dropped (forward), or meet a gradient of exactly 0 (dW, dx), and
//!   adding `±0·v` to a sum that started at +0 changes no bit (such a sum is never −0).
//! - **panels** (any stride): the unrolled patches written straight into the kernel's packed
//!   layout ([`im2col_panels`], [`col_panels`]).
//!
//! dx is Wᵀ·dout (dcolᵀ) folded back with `col2im`'s order of additions: on the extended grid
//! that fold is one contiguous run per row of dcolᵀ.

use super::im2col::{col2im_image, col_panels, im2col_panels, pad_image, unpad_image, Window};
use super::packed::{self, multiply, pack_a, pack_b, pack_b_steps_into, Operand, Panels, MR};
use super::rows::copy;
use crate::Float;
use ndarray::{s, Array1, ArrayView2, ArrayView3, ArrayViewMut2, ArrayViewMut3};

/// A convolution's sizes for one image: C × H × W in, FN filters of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// The filters' window.
    pub window: Window,
    /// The input's (C, H, W).
    pub input: (usize, usize, usize),
    /// FN.
    pub filters: usize,
    /// (OH, OW).
    pub output: (usize, usize),
}

impl Geometry {
    /// The geometry of `filters` filters of `window` on inputs (C, H, W); `None` when the
    /// window does not fit.
    pub fn new(window: Window, input: (usize, usize, usize), filters: usize) -> Option<Self> {
        let output = window.output_size(input.1, input.2)?;
        Some(Geometry {
            window,
            input,
            filters,
            output,
        })
    }

    /// C·FH·FW: values per patch.
    pub fn patch(&self) -> usize {
        self.window.patch_len(self.input.0)
    }

    /// OH·OW: output positions.
    pub fn positions(&self) -> usize {
        self.output.0 * self.output.1
    }

    /// Whether the products read the padded image in place (stride 1).
    pub fn in_place(&self) -> bool {
        self.window.stride == 1
    }

    /// The padded input's (Hp, Wp).
    fn padded(&self) -> (usize, usize) {
        let pad = 2 * self.window.pad;
        (self.input.1 + pad, self.input.2 + pad)
    }

    /// Positions of the extended grid, OH·Wp.
    fn grid(&self) -> usize {
        self.output.0 * self.padded().1
    }

    /// dW's columns go to threads in blocks of this many (whole tiles).
    pub fn dw_unit(&self, panels: Panels) -> usize {
        if self.in_place() {
            MR
        } else {
            panels.nr
        }
    }

    /// Where row (c, fh, fw) of colᵀ starts in the padded image, for each of the C·FH·FW rows,
    /// then 0 up to whole panels of MR rows.
    pub fn offsets(&self, offsets: &mut Vec<usize>) {
        let (fh, fw) = (self.window.filter_h, self.window.filter_w);
        let (hp, wp) = self.padded();
        offsets.clear();
        offsets
            .extend((0..self.patch()).map(|r| ((r / (fh * fw) * hp + r / fw % fh) * wp) + r % fw));
        offsets.resize(self.patch().div_ceil(MR) * MR, 0);
    }

    /// Where row f of dout on the extended grid starts (f·OH·Wp), for each of the FN rows.
    pub fn grid_rows(&self, rows: &mut Vec<usize>) {
        rows.clear();
        rows.extend((0..self.filters).map(|f| f * self.grid()));
    }

    /// Values of one image padded: C·Hp·Wp, then zeros enough for a row of colᵀ read in place
    /// to whole panels of `nr` past the last one.
    pub fn image_len(&self, nr: usize) -> usize {
        let (hp, wp) = self.padded();
        self.input.0 * hp * wp + self.window.filter_w + self.grid().div_ceil(nr) * nr
    }

    /// Writes x (C, H, W) inside its padding in `image` ([`Geometry::image_len`] values whose
    /// others are 0).
    pub fn pad<F: Float>(&self, x: ArrayView3<F>, image: &mut [F]) {
        pad_image(x, self.window.pad, image);
    }

    /// The padded image (C, Hp, Wp) at the start of an image's slot.
    fn padded_view<'a, F: Float>(&self, image: &'a [F]) -> ArrayView3<'a, F> {
        let (c, (hp, wp)) = (self.input.0, self.padded());
        ArrayView3::from_shape((c, hp, wp), &image[..c * hp * wp]).expect("C × Hp × Wp")
    }

    /// Values of one image's dout on the extended grid: FN·OH·Wp, then zeros to whole panels
    /// of `nr` past the last row.
    fn dout_len(&self, nr: usize) -> usize {
        self.filters * self.grid() + self.grid().div_ceil(nr) * nr
    }

    /// Writes dout (FN, OH·OW) on the extended grid, (FN, OH·Wp) in `on_grid`
    /// ([`Geometry::dout_len`] values whose others are 0: x ≥ OW stays 0).
    fn spread<F: Float>(&self, dout: ArrayView2<F>, on_grid: &mut [F]) {
        let (ow, wp) = (self.output.1, self.padded().1);
        let dout = dout.as_standard_layout();
        let rows = dout.as_slice().expect("standard layout").chunks_exact(ow);
        // Output row i (of filter i / OH) starts at i·Wp: filter f's rows start at f·OH·Wp.
        for (row, at) in rows.zip((0..).step_by(wp)) {
            copy(&mut on_grid[at..at + ow], row);
        }
    }

    /// Values of one image's doutᵀ (grid, FN) packed as dW's B operand.
    pub fn dout_t_len(&self, panels: Panels) -> usize {
        panels.b_len(self.filters, self.grid())
    }
}

/// What the Convolution layer keeps of a batch from its forward to its backward, and builds
/// once per image for the products that read it: the images padded, and (stride 1 only; empty
/// otherwise) each image's doutᵀ on the extended grid, packed as dW's B operand. One slot per
/// image, each [`Geometry::image_len`] (or [`Geometry::dout_t_len`]) long.
pub struct Batch<F> {
    /// The images padded, one after another.
    pub images: Vec<F>,
    /// Each image's doutᵀ packed.
    pub douts_t: Vec<F>,
    /// What the buffers' zeros were laid for: (geometry, images, panels).
    laid: Option<(Geometry, usize, Panels)>,
}

impl<F: Float> Default for Batch<F> {
    fn default() -> Self {
        Batch {
            images: Vec::new(),
            douts_t: Vec::new(),
            laid: None,
        }
    }
}

impl<F: Float> Batch<F> {
    /// Sizes the buffers for `n` images of `geo`, all zeros when that differs from the last
    /// batch's (otherwise the padding and the grid's extra positions are zeros already: every
    /// batch writes the same places).
    pub fn lay(&mut self, geo: &Geometry, n: usize, panels: Panels) {
        if self.laid == Some((*geo, n, panels)) {
            return;
        }
        let lay = |buf: &mut Vec<F>, len: usize| {
            buf.clear();
            buf.resize(n * len, F::zero());
        };
        lay(&mut self.images, geo.image_len(panels.nr));
        // Only the products that read the image in place (stride 1) read doutᵀ laid out.
        lay(
            &mut self.douts_t,
            usize::from(geo.in_place()) * geo.dout_t_len(panels),
        );
        self.laid = Some((*geo, n, panels));
    }
}

/// Writes one image's doutᵀ, dout (FN, OH·OW) transposed, on the extended grid and packed as
/// dW's B operand, into its slot of [`Batch::douts_t`] (stride 1 only): output row by output
/// row, the grid's extra positions left as the slot has them (zeros).
pub fn prepare_dout<F: Float>(
    (geo, panels): (&Geometry, Panels),
    dout: ArrayView2<F>,
    packed: &mut [F],
) {
    let ((oh, ow), wp, grid) = (geo.output, geo.padded().1, geo.grid());
    for y in 0..oh {
        let row = dout.slice(s![.., y * ow..(y + 1) * ow]).reversed_axes();
        pack_b_steps_into(panels, row, (grid, y * wp), packed);
    }
}

/// One thread's buffers, kept between batches: packed operands, an image's output on the
/// extended grid, its dout on the grid (with the geometry and layout its zeros were laid for),
/// its dcolᵀ, and the padded dx.
pub struct Scratch<F> {
    a: Vec<F>,
    b: Vec<F>,
    grid: Vec<F>,
    dout: (Vec<F>, Option<(Geometry, Panels)>),
    dcol: Vec<F>,
    dx: Vec<F>,
}

impl<F: Float> Default for Scratch<F> {
    fn default() -> Self {
        Scratch {
            a: Vec::new(),
            b: Vec::new(),
            grid: Vec::new(),
            dout: (Vec::new(), None),
            dcol: Vec::new(),
            dx: Vec::new(),
        }
    }
}

impl<F: Float> Clone for Scratch<F> {
    /// Fresh buffers: they hold nothing worth copying.
    fn clone(&self) -> Self {
        Scratch::default()
    }
}

/// The filters as the products read them: W (FN, C·FH·FW) packed for the forward, Wᵀ for dx,
/// and where the rows of the operands read in place start.
pub struct Filters<'a, F> {
    /// W packed by [`pack_a`].
    pub w: &'a [F],
    /// Wᵀ packed by [`pack_a`] (dx only).
    pub w_t: &'a [F],
    /// Where colᵀ's rows start in the padded image ([`Geometry::offsets`]).
    pub offsets: &'a [usize],
    /// Where dout's rows start on the extended grid ([`Geometry::grid_rows`]).
    pub grid_rows: &'a [usize],
}

/// out (FN, OH·OW) = W·colᵀ + b for one image x (C, H, W), written padded into its `image`
/// slot of a laid [`Batch`] first.
pub fn forward_image<F: Float>(
    (geo, panels, filters): (&Geometry, Panels, &Filters<F>),
    (x, image): (ArrayView3<F>, &mut [F]),
    b: &Array1<F>,
    scratch: &mut Scratch<F>,
    mut out: ArrayViewMut2<F>,
) {
    let (k, fns) = (geo.patch(), geo.filters);
    let w = Operand::Packed(filters.w);
    geo.pad(x, image);
    if geo.in_place() {
        let (oh, ow) = geo.output;
        let (wp, grid) = (geo.padded().1, geo.grid());
        let col_t = Operand::Rows {
            base: image,
            offsets: &filters.offsets[..k],
        };
        let sums = packed::buffer(&mut scratch.grid, fns * grid);
        let sums_view = ArrayViewMut2::from_shape((fns, grid), &mut *sums).expect("FN × grid");
        multiply(panels, (w, col_t, k), sums_view, false);
        let out = out.as_slice_mut().expect("an image's output is contiguous");
        let rows = out.chunks_exact_mut(ow).zip(sums.chunks_exact(wp));
        for (i, (out, sums)) in rows.enumerate() {
            let bias = b[i / oh];
            for (o, &v) in out.iter_mut().zip(sums) {
                *o = v + bias;
            }
        }
        return;
    }
    let col = packed::buffer(&mut scratch.b, panels.b_len(geo.positions(), k));
    im2col_panels(geo.padded_view(image), &geo.window, panels.nr, col);
    multiply(panels, (w, Operand::Packed(col), k), out.view_mut(), false);
    for (mut row, &bias) in out.rows_mut().into_iter().zip(b) {
        row.mapv_inplace(|v| v + bias);
    }
}

/// dx (C, H, W) of one image from its dout (FN, OH·OW): dcolᵀ = Wᵀ·dout folded back.
pub fn dx_image<F: Float>(
    (geo, panels, filters): (&Geometry, Panels, &Filters<F>),
    dout: ArrayView2<F>,
    scratch: &mut Scratch<F>,
    dx: ArrayViewMut3<F>,
) {
    let (k, fns) = (geo.patch(), geo.filters);
    let w_t = Operand::Packed(filters.w_t);
    if !geo.in_place() {
        let positions = geo.positions();
        let dcol = packed::buffer(&mut scratch.dcol, k * positions);
        let mut dcol = ArrayViewMut2::from_shape((k, positions), dcol).expect("k × positions");
        let dout = Operand::Packed(pack_b(panels, dout, &mut scratch.b));
        multiply(panels, (w_t, dout, fns), dcol.view_mut(), false);
        return col2im_image(dcol.view(), &geo.window, dx);
    }
    let (c, (hp, wp), grid) = (geo.input.0, geo.padded(), geo.grid());
    let (on_grid, laid) = &mut scratch.dout;
    if *laid != Some((*geo, panels)) {
        // Zeros at the grid's extra positions, which `spread` leaves as they are.
        on_grid.clear();
        on_grid.resize(geo.dout_len(panels.nr), F::zero());
        *laid = Some((*geo, panels));
    }
    geo.spread(dout, on_grid);
    let dout = Operand::Rows {
        base: on_grid,
        offsets: filters.grid_rows,
    };
    let dcol = packed::buffer(&mut scratch.dcol, k * grid);
    let dcol_view = ArrayViewMut2::from_shape((k, grid), &mut *dcol).expect("k × grid");
    multiply(panels, (w_t, dout, fns), dcol_view, false);
    // col2im: row (c, fh, fw) adds onto the padded dx from its offset on, rows in order, so
    // each pixel receives its terms in (fh, fw) order, as the reference adds them.
    let padded_dx = &mut scratch.dx;
    padded_dx.clear();
    padded_dx.resize(c * hp * wp + geo.window.filter_w, F::zero());
    for (&at, row) in filters.offsets[..k].iter().zip(dcol.chunks_exact(grid)) {
        for (d, &v) in padded_dx[at..at + grid].iter_mut().zip(row) {
            *d += v;
        }
    }
    unpad_image(padded_dx, geo.window.pad, dx);
}

/// dW's columns `cols` (a block of whole [`Geometry::dw_unit`]s) from a batch's dout
/// (N, FN, OH·OW) and its [`Batch`] (images padded by the forward; stride 1: doutᵀ prepared
/// by [`prepare_dout`]): `dW[:, cols] = Σ_n dout_n · col_n[:, cols]`, each element's terms
/// over (n, position) ascending.
pub fn dw_block<F: Float>(
    (geo, panels, filters): (&Geometry, Panels, &Filters<F>),
    (batch, dout): (&Batch<F>, ArrayView3<F>),
    cols: std::ops::Range<usize>,
    scratch: &mut Scratch<F>,
    mut dW: ArrayViewMut2<F>,
) {
    if dout.dim().0 == 0 {
        return dW.fill(F::zero());
    }
    let images = batch.images.chunks_exact(geo.image_len(panels.nr));
    if !geo.in_place() {
        let positions = geo.positions();
        for (i, (image, dout)) in images.zip(dout.outer_iter()).enumerate() {
            let padded = geo.padded_view(image);
            let a = Operand::Packed(pack_a(dout, &mut scratch.a));
            let col = packed::buffer(&mut scratch.b, panels.b_len(cols.len(), positions));
            col_panels(padded, &geo.window, cols.clone(), panels.nr, col);
            let col = Operand::Packed(&*col);
            multiply(panels, (a, col, positions), dW.view_mut(), i > 0);
        }
        return;
    }
    // dWᵀ (cols, FN) = Σ_n colᵀ_n (cols, grid) · doutᵀ_n (grid, FN): A is colᵀ's rows in the
    // padded image, B the image's doutᵀ packed; the sums in a buffer whose rows hold whole
    // tiles, copied into dW at the end.
    let (fns, grid) = (geo.filters, geo.grid());
    let width = fns.next_multiple_of(panels.nr);
    let sums = packed::buffer(&mut scratch.dcol, cols.len() * width);
    let mut sums = ArrayViewMut2::from_shape((cols.len(), width), sums).expect("cols × width");
    let douts_t = batch.douts_t.chunks_exact(geo.dout_t_len(panels));
    for (i, (image, dout_t)) in images.zip(douts_t).enumerate() {
        let col_t = Operand::Rows {
            base: image,
            offsets: &filters.offsets[cols.start..],
        };
        multiply(
            panels,
            (col_t, Operand::Packed(dout_t), grid),
            sums.view_mut(),
            i > 0,
        );
    }
    dW.assign(&sums.slice(ndarray::s![.., ..fns]).reversed_axes());
}
