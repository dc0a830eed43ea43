//! `Network::layer_outputs`: every network kind shows its layers' outputs from its own
//! evaluation forward, ending with `predict`'s very scores (so that softmax of the last entry is
//! softmax of `predict`, bit for bit).

use ndarray::{Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet_core::functions::{sigmoid, softmax};
use scratchnet_core::layers::Activation;
use scratchnet_core::net::layer_output::SCORES;
use scratchnet_core::net::{
    ConvNetConfig, MultiLayerNet, MultiLayerNetConfig, Network, TwoLayerNetConfig,
};

/// Four inputs of `d` values in [0, 1), drawn from a fixed seed.
fn inputs(d: usize) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    Array2::from_shape_fn((4, d), |_| rand::Rng::random::<f32>(&mut rng))
}

/// Checks that the last output is `predict`'s scores, bit for bit, on the whole batch and on one
/// row, and that softmax of it is softmax of `predict`; returns the (name, sample shape) list.
fn check(net: &dyn Network<f32>, x: ArrayView2<f32>) -> Vec<(String, Vec<usize>)> {
    let outputs = net.layer_outputs(x);
    let last = outputs.last().expect("at least the scores");
    assert_eq!(last.name, SCORES);
    let predicted = net.predict(&x);
    assert_eq!(
        last.values,
        predicted.clone().into_dyn(),
        "scores = predict"
    );
    let one = net.layer_outputs(x.slice(ndarray::s![1..2, ..]));
    let one_scores = one.last().unwrap().values.index_axis(Axis(0), 0).to_owned();
    assert_eq!(
        one_scores,
        predicted.row(1).into_dyn(),
        "one row alone: the same bits"
    );
    assert_eq!(softmax(&one_scores), softmax(&predicted.row(1)).into_dyn());
    for output in &outputs {
        assert_eq!(output.values.shape()[0], x.nrows(), "{}", output.name);
        assert!(
            output.values.iter().all(|v| v.is_finite()),
            "{}",
            output.name
        );
    }
    outputs
        .iter()
        .map(|o| (o.name.clone(), o.sample_shape().to_vec()))
        .collect()
}

#[test]
fn a_two_layer_net_shows_its_hidden_sigmoid_as_computed_by_hand() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let config = TwoLayerNetConfig {
        hidden_size: 6,
        weight_init_std: 0.5,
        ..TwoLayerNetConfig::default()
    };
    let net = config.init::<f32>(5, 3, &mut rng).unwrap();
    let x = inputs(5);
    let names = check(&net, x.view());
    assert_eq!(
        names,
        [
            ("hidden 1 (sigmoid)".into(), vec![6]),
            ("scores".into(), vec![3])
        ]
    );
    let by_hand = sigmoid(&(x.dot(&net.affine1.W) + &net.affine1.b));
    let shown = &net.layer_outputs(x.view())[0];
    assert_eq!(shown.activation, Some(Activation::Sigmoid));
    let diff = (&shown.values - &by_hand.into_dyn()).mapv(f32::abs);
    assert!(diff.iter().all(|&d| d < 1e-6), "{diff}");
}

#[test]
fn a_multi_layer_net_with_batchnorm_and_dropout_shows_each_hidden_layer() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let config = MultiLayerNetConfig {
        hidden_size_list: vec![8, 5],
        use_batchnorm: true,
        use_dropout: true,
        dropout_ratio: 0.3,
        ..MultiLayerNetConfig::default()
    };
    let net = MultiLayerNet::<f32>::new(6, 4, &config, &mut rng).unwrap();
    let x = inputs(6);
    let names = check(&net, x.view());
    assert_eq!(
        names,
        [
            ("hidden 1 (relu)".into(), vec![8]),
            ("hidden 2 (relu)".into(), vec![5]),
            ("scores".into(), vec![4])
        ]
    );
    // The same numbers as the network's own probe of its hidden layers.
    let outputs = net.layer_outputs(x.view());
    for (shown, probed) in outputs.iter().zip(net.hidden_activations(x.view())) {
        assert_eq!(shown.values, probed.into_dyn());
        assert!(shown.values.iter().all(|&v| v >= 0.0), "after ReLU");
    }
}

#[test]
fn a_conv_net_shows_its_maps_then_its_fully_connected_layers() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut config: ConvNetConfig = "conv:3x5,pool:2,fc:7,dropout:0.5".parse().unwrap();
    config.input_shape = [1, 12, 12];
    let net = config.init::<f32>(144, 10, &mut rng).unwrap();
    let x = inputs(144);
    let names = check(&net, x.view());
    assert_eq!(
        names,
        [
            ("Conv1".into(), vec![3, 8, 8]),
            ("Relu1".into(), vec![3, 8, 8]),
            ("Pool1".into(), vec![3, 4, 4]),
            ("hidden 1 (relu)".into(), vec![7]),
            ("scores".into(), vec![10])
        ]
    );
    // feature_maps is layer_outputs' spatial part, for one image.
    let outputs = net.layer_outputs(x.slice(ndarray::s![2..3, ..]));
    let maps = net.feature_maps(x.row(2));
    assert_eq!(maps.len(), 3);
    for ((name, map), output) in maps.iter().zip(&outputs) {
        assert_eq!(name, &output.name);
        assert_eq!(map.view().into_dyn(), output.values.index_axis(Axis(0), 0));
    }
    let kinds: Vec<_> = outputs.iter().map(|o| o.activation).collect();
    let relu = Some(Activation::Relu);
    assert_eq!(kinds, [None, relu, None, relu, None]);
}

#[test]
fn the_simple_convnet_preset_on_mnist_shapes() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let net = ConvNetConfig::simple_convnet()
        .init::<f32>(784, 10, &mut rng)
        .unwrap();
    let names = check(&net, inputs(784).view());
    let shapes: Vec<_> = names.iter().map(|(_, s)| s.clone()).collect();
    assert_eq!(
        shapes,
        [
            vec![30, 24, 24],
            vec![30, 24, 24],
            vec![30, 12, 12],
            vec![100],
            vec![10]
        ]
    );
}
