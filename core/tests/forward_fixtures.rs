//! Forward passes against NumPy: every layer's forward and both networks' predict and loss,
//! compared with the book's own layer classes run in float64 by
//! `tests/fixtures/forward/generate.py` (which writes `forward.json`; no scratchnet code runs
//! there). The gradient checks in `properties.rs` compare backward with differences of the
//! same forward, so they cannot see a wrong forward; these can.

use ndarray::{Array1, Array2, ArrayD, ArrayView, Dimension, IxDyn};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet_core::init::WeightInit;
use scratchnet_core::kernels::{density, SPARSE_MAX_DENSITY};
use scratchnet_core::layers::{
    Activation, Affine, BatchNorm, Convolution, Pooling, Relu, Sigmoid, SoftmaxWithLoss, Targets,
};
use scratchnet_core::net::{
    ConvNetConfig, MultiLayerNet, MultiLayerNetConfig, Network, TwoLayerNet,
};
use serde_json::Value;
use std::sync::OnceLock;

/// float64 results computed in another order (NumPy's) agree to this, relative above 1.
const TOL: f64 = 1e-12;

/// `forward.json`, parsed once.
fn fixtures() -> &'static Value {
    static FIXTURES: OnceLock<Value> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        serde_json::from_str(include_str!("fixtures/forward/forward.json")).expect("valid JSON")
    })
}

/// A number or nested lists of numbers as an array of that many axes.
fn array(v: &Value) -> ArrayD<f64> {
    let mut shape = Vec::new();
    let mut inner = v;
    while let Value::Array(items) = inner {
        shape.push(items.len());
        inner = &items[0];
    }
    let mut values = Vec::new();
    flatten(v, &mut values);
    ArrayD::from_shape_vec(IxDyn(&shape), values).expect("rectangular lists")
}

/// The numbers of nested lists, in row-major order.
fn flatten(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(items) => items.iter().for_each(|item| flatten(item, out)),
        number => out.push(number.as_f64().expect("a number")),
    }
}

/// Lists of lists as a matrix.
fn matrix(v: &Value) -> Array2<f64> {
    array(v).into_dimensionality().expect("a matrix")
}

/// A list as a vector.
fn vector(v: &Value) -> Array1<f64> {
    array(v).into_dimensionality().expect("a vector")
}

/// A list of whole numbers (class labels, layer sizes).
fn whole_numbers(v: &Value) -> Vec<usize> {
    let items = v.as_array().expect("a list").iter();
    items
        .map(|l| l.as_u64().expect("a whole number") as usize)
        .collect()
}

/// A number.
fn number(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

/// One-hot rows for `labels` over `classes` classes.
fn one_hot(labels: &[usize], classes: usize) -> Array2<f64> {
    Array2::from_shape_fn((labels.len(), classes), |(n, c)| f64::from(labels[n] == c))
}

/// Fails unless `a` and `b` agree to [`TOL`], absolutely below 1 and relatively above.
fn assert_close(what: &str, got: f64, want: f64) {
    let scale = got.abs().max(want.abs()).max(1.0);
    assert!(
        (got - want).abs() <= TOL * scale,
        "{what}: {got} vs NumPy's {want}"
    );
}

/// [`assert_close`] element by element, for arrays of one shape.
fn assert_all_close<D: Dimension>(what: &str, got: ArrayView<f64, D>, want: &Value) {
    let want = array(want);
    assert_eq!(got.shape(), want.shape(), "{what}: shapes");
    for (idx, (&g, &w)) in got.iter().zip(&want).enumerate() {
        assert_close(&format!("{what} (element {idx})\n{got}\nvs\n{want}"), g, w);
    }
}

/// Copies the fixture's parameters (`params`) and running statistics (`buffers`, if any) by
/// name into `net`, checking that every name of the net is set.
fn load(net: &mut MultiLayerNet<f64>, case: &Value) {
    for mut p in net.params_mut() {
        let value = array(&case["params"][p.name]);
        p.value.assign(&value);
    }
    if let Some(buffers) = case.get("buffers") {
        for (name, mut value) in net.buffers_mut() {
            value.assign(&array(&buffers[name]));
        }
    }
}

/// A MultiLayerNet of the fixture's `sizes` and `activation` with `options` on top, its
/// parameters and running statistics the fixture's.
fn multi_layer_net(case: &Value, options: MultiLayerNetConfig) -> MultiLayerNet<f64> {
    let sizes = whole_numbers(&case["sizes"]);
    let activation = match case["activation"].as_str() {
        Some("relu") => Activation::Relu,
        Some("sigmoid") => Activation::Sigmoid,
        other => panic!("activation {other:?}"),
    };
    let config = MultiLayerNetConfig {
        hidden_size_list: sizes[1..sizes.len() - 1].to_vec(),
        activation,
        weight_init: WeightInit::Std(0.1),
        use_batchnorm: true,
        ..options
    };
    let (input, output) = (sizes[0], sizes[sizes.len() - 1]);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut net = MultiLayerNet::new(input, output, &config, &mut rng).unwrap();
    load(&mut net, case);
    net
}

#[test]
fn affine_forward_is_x_dot_w_plus_b_on_both_routes() {
    let cases = fixtures()["affine"].as_array().unwrap();
    let sparse: Vec<bool> = cases
        .iter()
        .map(|c| density(matrix(&c["x"]).view()) <= SPARSE_MAX_DENSITY)
        .collect();
    assert_eq!(sparse, [false, true, false], "each route is exercised");
    for (k, case) in cases.iter().enumerate() {
        let mut layer = Affine::new(matrix(&case["W"]), vector(&case["b"]));
        let out = layer.forward(matrix(&case["x"]).view());
        assert_all_close(&format!("Affine case {k}"), out, &case["out"]);
    }
}

#[test]
fn sigmoid_forward_is_one_over_one_plus_exp_minus_x() {
    let case = &fixtures()["sigmoid"];
    let mut layer = Sigmoid::default();
    assert_all_close(
        "Sigmoid",
        layer.forward(matrix(&case["x"]).view()),
        &case["out"],
    );
}

#[test]
fn relu_forward_is_max_zero_x() {
    let case = &fixtures()["relu"];
    let mut layer = Relu::default();
    assert_all_close(
        "Relu",
        layer.forward(matrix(&case["x"]).view()),
        &case["out"],
    );
}

#[test]
fn softmax_with_loss_forward_is_the_books_cross_entropy_of_the_softmax() {
    let case = &fixtures()["softmax_with_loss"];
    let (x, t) = (matrix(&case["x"]), whole_numbers(&case["labels"]));
    let t_one_hot = one_hot(&t, x.ncols());
    let mut layer = SoftmaxWithLoss::default();
    let want = number(&case["loss"]);
    assert_close(
        "loss (labels)",
        layer.forward(x.view(), Targets::Labels(&t)),
        want,
    );
    let loss = layer.forward(x.view(), Targets::OneHot(t_one_hot.view()));
    assert_close("loss (one-hot)", loss, want);
}

#[test]
fn batch_norm_forward_uses_batch_statistics_in_training_and_running_ones_after() {
    let case = &fixtures()["batch_norm"];
    let mut layer = BatchNorm::from_params(vector(&case["gamma"]), vector(&case["beta"]));
    for (k, batch) in case["train"].as_array().unwrap().iter().enumerate() {
        let out = layer.forward(matrix(&batch["x"]).view(), true);
        assert_all_close(&format!("training batch {k}"), out, &batch["out"]);
        for (what, got) in [
            ("running_mean", &layer.running_mean),
            ("running_var", &layer.running_var),
        ] {
            assert_all_close(&format!("{what} after batch {k}"), got.view(), &batch[what]);
        }
    }
    let eval = &case["eval"];
    let x = matrix(&eval["x"]);
    assert_all_close("evaluation", layer.forward(x.view(), false), &eval["out"]);
    let mut in_place = x.clone();
    layer.forward_eval_inplace(&mut in_place);
    assert_all_close("evaluation in place", in_place.view(), &eval["out"]);
}

#[test]
fn two_layer_net_predict_and_loss_are_numpys_for_each_activation() {
    for case in fixtures()["two_layer_net"].as_array().unwrap() {
        let activation = match case["activation"].as_str() {
            Some("sigmoid") => Activation::Sigmoid,
            _ => Activation::Relu,
        };
        let [w1, w2] = ["W1", "W2"].map(|w| matrix(&case[w]));
        let [b1, b2] = ["b1", "b2"].map(|b| vector(&case[b]));
        let mut net = TwoLayerNet::from_params(w1, b1, w2, b2, activation);
        let (x, t) = (matrix(&case["x"]), whole_numbers(&case["labels"]));
        let what = format!("{activation:?}");
        assert_all_close(&what, net.predict(&x).view(), &case["scores"]);
        let loss = net.loss(&x, Targets::Labels(&t));
        assert_close(&format!("{what} loss"), loss, number(&case["loss"]));
    }
}

#[test]
fn multi_layer_net_predict_uses_running_statistics_and_scales_by_one_minus_the_ratio() {
    let case = &fixtures()["multi_layer_net"]["predict"];
    let net = multi_layer_net(
        case,
        MultiLayerNetConfig {
            use_dropout: true,
            dropout_ratio: number(&case["dropout_ratio"]),
            ..MultiLayerNetConfig::default()
        },
    );
    let scores = net.predict(&matrix(&case["x"]));
    assert_all_close("MultiLayerNet predict", scores.view(), &case["scores"]);
}

#[test]
fn multi_layer_net_training_loss_uses_batch_statistics_and_weight_decay() {
    let case = &fixtures()["multi_layer_net"]["loss"];
    let mut net = multi_layer_net(
        case,
        MultiLayerNetConfig {
            weight_decay_lambda: number(&case["weight_decay_lambda"]),
            ..MultiLayerNetConfig::default()
        },
    );
    let (x, t) = (matrix(&case["x"]), whole_numbers(&case["labels"]));
    let loss = net.loss(&x, Targets::Labels(&t));
    assert_close("MultiLayerNet training loss", loss, number(&case["loss"]));
    let buffers = net.buffers();
    assert_eq!(buffers.len(), 4);
    for (name, value) in buffers {
        assert_all_close(name, value, &case["buffers_after"][name]);
    }
}

/// Nested lists as an array of four axes (N, C, H, W).
fn maps(v: &Value) -> ndarray::Array4<f64> {
    array(v).into_dimensionality().expect("four axes")
}

#[test]
fn convolution_forward_is_numpys_im2col_product_for_each_stride_and_pad() {
    for case in fixtures()["convolution"].as_array().unwrap() {
        let stride = case["stride"].as_u64().unwrap() as usize;
        let pad = case["pad"].as_u64().unwrap() as usize;
        let mut conv = Convolution::new(maps(&case["W"]), vector(&case["b"]), stride, pad);
        let x = maps(&case["x"]);
        assert_all_close("convolution", conv.forward(x.view()), &case["out"]);
        assert_all_close(
            "convolution (eval)",
            conv.forward_eval(x.view()).view(),
            &case["out"],
        );
    }
}

#[test]
fn pooling_forward_is_numpys_window_maximum() {
    for case in fixtures()["pooling"].as_array().unwrap() {
        let size = case["size"].as_u64().unwrap() as usize;
        let stride = case["stride"].as_u64().unwrap() as usize;
        let mut pool = Pooling::new(size, size, stride, 0);
        assert_all_close(
            "pooling",
            pool.forward(maps(&case["x"]).view()),
            &case["out"],
        );
    }
}

#[test]
fn conv_net_predict_and_loss_are_numpys() {
    let case = &fixtures()["conv_net"];
    let mut config: ConvNetConfig = case["layers"].as_str().unwrap().parse().unwrap();
    config.input_shape = [2, 8, 8];
    let mut net = config
        .init::<f64>(128, 3, &mut ChaCha8Rng::seed_from_u64(0))
        .unwrap();
    for p in net.params_mut() {
        let mut value = p.value;
        let want = array(&case["params"][p.name]);
        assert_eq!(value.shape(), want.shape(), "{}", p.name);
        value.assign(&want);
    }
    let x = matrix(&case["x"]);
    let scores = net.predict(&x);
    assert_all_close("conv net scores", scores.view(), &case["scores"]);
    let labels = whole_numbers(&case["labels"]);
    // The loss of the evaluation scores (the book's loss with train_flg=False).
    let mut last = SoftmaxWithLoss::default();
    let loss = last.forward(scores.view(), Targets::Labels(&labels));
    assert_close("conv net loss", loss, number(&case["loss"]));
}
