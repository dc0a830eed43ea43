//! Affine's forward and backward: the plain products on both routes at every SIMD level, and
//! central differences.

use super::*;
use crate::kernels::dense::tests::{case, plain_products, SHAPES};
use crate::kernels::mostly_zero;
use crate::kernels::tests::{at_every_level, rng};
use crate::layers::gradcheck::{max_diff, numerical_dx};
use ndarray::array;

#[test]
fn forward_is_x_dot_w_plus_b() {
    let mut layer = Affine::new(
        array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
        array![0.5, -0.5],
    );
    let out = layer.forward(array![[1.0, 0.0, -1.0]].view()).to_owned();
    assert_eq!(out, array![[-3.5, -4.5]]);
}

#[test]
fn both_routes_are_the_plain_ordered_sums_at_every_simd_level() {
    let mut rng = rng(3);
    // Each shape dense and mostly zeros; batches on both sides of the sparse route's
    // transposed dW.
    let cases: Vec<_> = SHAPES
        .iter()
        .flat_map(|&shape| [0.0, 0.75].map(|zeros| case(&mut rng, shape, zeros)))
        .collect();
    at_every_level(|level| {
        for (x, w, b, dout) in &cases {
            let rows = SparseRows::from_dense(x.view());
            let sparse = mostly_zero(x.view());
            let inputs = [Input::Dense(x.view()), Input::Sparse(rows.view())];
            for (input, given_as) in inputs.into_iter().zip(["dense", "sparse"]) {
                let mut layer = Affine::new(w.clone(), b.clone());
                let out = layer.forward(input).to_owned();
                let mut eval = Array2::zeros((0, 0));
                layer.forward_eval_into(input, &mut eval);
                let dx = layer.backward(dout.view()).to_owned();
                let got = [out, eval, layer.dW.clone(), dx];
                let [want_out, want_dw, want_dx] = plain_products(x, w, b, dout);
                let want = [want_out.clone(), want_out, want_dw, want_dx];
                let what = ["x·W + b", "x·W + b (eval)", "dW", "dx"];
                for ((got, want), what) in got.iter().zip(want).zip(what) {
                    assert!(
                        got == want,
                        "{level:?}, {:?} given {given_as} (mostly zeros: {sparse}): {what}\n{got}\nvs\n{want}",
                        x.dim()
                    );
                }
            }
        }
    });
}

#[test]
fn a_sparse_input_leaves_dW_zero_outside_its_columns_and_decay_spreads_it() {
    let x = array![[0.0, 1.0, 0.0], [0.0, 2.0, 0.0]];
    let mut layer = Affine::new(array![[1.0], [2.0], [3.0]], array![0.0]);
    layer.forward(x.view());
    layer.backward(array![[1.0], [1.0]].view());
    assert_eq!(layer.arrays_mut().2, Some(&[1][..]));
    assert_eq!(layer.dW, array![[0.0], [3.0], [0.0]]);
    layer.add_weight_decay(0.5);
    assert_eq!(layer.arrays_mut().2, None);
    assert_eq!(layer.dW, array![[0.5], [4.0], [1.5]]);
    // A dense input after the decayed one: dW is written whole.
    layer.forward(array![[1.0, 1.0, 1.0]].view());
    layer.backward(array![[2.0]].view());
    assert_eq!(layer.dW, array![[2.0], [2.0], [2.0]]);
}

#[test]
fn backward_matches_numerical_gradients() {
    let w = array![[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]];
    let b = array![0.1, -0.2];
    let x = array![[1.0, 2.0, -1.0], [0.5, -0.3, 0.8]];
    let dout = array![[0.3, -1.2], [0.9, 0.4]];
    let mut layer = Affine::new(w.clone(), b.clone());
    layer.forward(x.view());
    let dx = layer.backward(dout.view()).to_owned();
    let num_dx = numerical_dx(&x, &dout, |x| {
        let mut out = Array2::zeros((0, 0));
        layer.forward_eval_into(x, &mut out);
        out
    });
    assert!(max_diff(&num_dx, dx.view()) < 1e-7);
    let num_dw = numerical_dx(&w, &dout, |w| {
        let mut out = Array2::zeros((0, 0));
        Affine::new(w.to_owned(), b.clone()).forward_eval_into(x.view(), &mut out);
        out
    });
    assert!(max_diff(&num_dw, layer.dW.view()) < 1e-7);
    assert!((layer.db[0] - 1.2).abs() < 1e-15 && (layer.db[1] + 0.8).abs() < 1e-15);
}
