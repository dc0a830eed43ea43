//! The book's Convolution, step for step: `im2col`, one product for the whole batch, then
//! reshapes and transposes (allocating as NumPy does). The layer's fast route is tested
//! against it, bit for bit.

use super::Convolution;
use crate::kernels::im2col::{col2im, im2col};
use crate::kernels::packed::product_into;
use crate::Float;
use ndarray::{Array1, Array2, Array4, ArrayView4};

/// `Convolution.forward`: x (N, C, H, W) → (N, FN, OH, OW) through col (N·OH·OW, C·FH·FW).
pub fn forward<F: Float>(conv: &Convolution<F>, x: ArrayView4<F>) -> Array4<F> {
    let [n, filters, oh, ow] = conv.output_shape(x.dim());
    let col = im2col(x, &conv.window());
    // col_W = W.reshape(FN, -1).T: (C·FH·FW, FN).
    let col_W = conv.w_col().reversed_axes();
    let mut out = Array2::zeros((n * oh * ow, filters));
    product_into(col.view(), col_W, out.view_mut(), false);
    out += &conv.b;
    let out = out
        .into_shape_with_order((n, oh, ow, filters))
        .expect("N·OH·OW rows");
    out.permuted_axes([0, 3, 1, 2])
        .as_standard_layout()
        .into_owned()
}

/// What `Convolution.backward` computes: dx (N, C, H, W), dW (FN, C, FH, FW), db (FN,).
pub struct Gradients<F> {
    /// The input's gradient.
    pub dx: Array4<F>,
    /// The filters' gradient.
    pub dW: Array4<F>,
    /// The biases' gradient.
    pub db: Array1<F>,
}

/// `Convolution.backward` for input x (N, C, H, W) and dout (N, FN, OH, OW).
pub fn backward<F: Float>(
    conv: &Convolution<F>,
    x: ArrayView4<F>,
    dout: ArrayView4<F>,
) -> Gradients<F> {
    let [n, filters, oh, ow] = conv.output_shape(x.dim());
    let col = im2col(x, &conv.window());
    // dout.transpose(0, 2, 3, 1).reshape(-1, FN): one row per output position.
    let dout = dout
        .permuted_axes([0, 2, 3, 1])
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((n * oh * ow, filters))
        .expect("N·OH·OW rows");
    // db = Σ over rows, row after row.
    let mut db = Array1::zeros(filters);
    for row in dout.rows() {
        db += &row;
    }
    // dW = colᵀ · dout: (C·FH·FW, FN), transposed back to (FN, C, FH, FW).
    let mut dW_t = Array2::zeros((col.ncols(), filters));
    product_into(col.t(), dout.view(), dW_t.view_mut(), false);
    let dW = dW_t
        .reversed_axes()
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order(conv.W.raw_dim())
        .expect("FN·C·FH·FW values");
    // dcol = dout · col_Wᵀ = dout · W (FN, C·FH·FW).
    let mut dcol = Array2::zeros(col.dim());
    product_into(dout.view(), conv.w_col(), dcol.view_mut(), false);
    let dx = col2im(dcol.view(), x.dim(), &conv.window());
    Gradients { dx, dW, db }
}
