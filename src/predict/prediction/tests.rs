use super::*;
use ndarray::Array1;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet_core::net::{ConvNetConfig, MultiLayerNet, MultiLayerNetConfig, TwoLayerNetConfig};

/// MNIST's class names.
fn digits() -> Vec<String> {
    (0..10).map(|d| d.to_string()).collect()
}

/// An input of 784 values in [0, 1) from a fixed seed.
fn input() -> Array1<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    Array1::from_shape_fn(784, |_| rand::Rng::random::<f32>(&mut rng))
}

/// Every network kind, freshly initialised for 784 → 10.
fn networks() -> Vec<Box<dyn Network<f32>>> {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let relu = TwoLayerNetConfig {
        activation: scratchnet_core::layers::Activation::Relu,
        weight_init_std: 0.1,
        ..TwoLayerNetConfig::default()
    };
    let deep = MultiLayerNetConfig {
        hidden_size_list: vec![40, 30],
        use_batchnorm: true,
        use_dropout: true,
        ..MultiLayerNetConfig::default()
    };
    vec![
        Box::new(
            TwoLayerNetConfig::default()
                .init(784, 10, &mut rng)
                .unwrap(),
        ),
        Box::new(relu.init(784, 10, &mut rng).unwrap()),
        Box::new(MultiLayerNet::new(784, 10, &deep, &mut rng).unwrap()),
        Box::new(
            ConvNetConfig::simple_convnet()
                .init(784, 10, &mut rng)
                .unwrap(),
        ),
    ]
}

#[test]
fn the_probabilities_are_softmax_of_predict_for_every_network_kind() {
    let x = input();
    for net in networks() {
        let p = predict(net.as_ref(), x.view(), &digits()).unwrap();
        let scores = net.predict(&x.view().insert_axis(ndarray::Axis(0)));
        let expected = softmax(&scores.row(0));
        assert_eq!(p.probs, expected.to_vec(), "bit for bit");
        assert_eq!(p.predicted, argmax(scores.row(0)));
        assert_eq!(p.input, x.to_vec());
        assert!(!p.layers.is_empty());
        assert!(p.layers.iter().all(|l| l.name != "scores"));
    }
}

#[test]
fn sizes_that_do_not_match_the_network_are_refused() {
    let net = &networks()[0];
    let short = Array1::zeros(100);
    let e = predict(net.as_ref(), short.view(), &digits()).unwrap_err();
    assert!(
        e.to_string()
            .contains("100 values but the network takes 784"),
        "{e}"
    );
    let e = predict(net.as_ref(), input().view(), &digits()[..3]).unwrap_err();
    assert!(e.to_string().contains("3 class names"), "{e}");
}
