use super::*;
use ndarray::{array, Array1, Array2};
use scratchnet_core::net::TwoLayerNet;

/// A 2-2-2 network whose hidden layer is `activation(x · W1 + b1)`.
fn tiny(w1: Array2<f32>, b1: Array1<f32>, activation: Activation) -> TwoLayerNet<f32> {
    TwoLayerNet::from_params(w1, b1, Array2::eye(2), Array1::zeros(2), activation)
}

#[test]
fn sigmoid_histograms_span_0_to_1_and_count_by_hand() {
    // W1 = 0, b1 = [0, ln 3]: every image gives sigmoid(0) = 0.5 and sigmoid(ln 3) = 0.75.
    let net = tiny(
        Array2::zeros((2, 2)),
        array![0.0, 3.0f32.ln()],
        Activation::Sigmoid,
    );
    let images = array![[0.3, 0.9], [1.0, 0.0], [0.5, 0.5f32]];
    let histograms = activation_histograms(&net, images.view(), 4);
    assert_eq!(histograms.len(), 1);
    let h = &histograms[0];
    assert_eq!(h.layer, "hidden 1 (sigmoid)");
    assert_eq!(h.edges, [0.0, 0.25, 0.5, 0.75, 1.0]);
    // 0.5 in [0.5, 0.75); 0.75 in [0.75, 1].
    assert_eq!(h.counts, [0, 0, 3, 3]);
}

#[test]
fn relu_histograms_span_0_to_the_largest_output() {
    // W1 = I, b1 = 0: the hidden layer is max(0, x).
    let net = tiny(Array2::eye(2), Array1::zeros(2), Activation::Relu);
    let images = array![[1.0, -1.0], [0.0, 2.0], [3.0, 3.0f32]];
    let h = &activation_histograms(&net, images.view(), 4)[0];
    assert_eq!(h.edges, [0.0, 0.75, 1.5, 2.25, 3.0]);
    // 1 → [0.75, 1.5); 0, 0 → [0, 0.75); 2 → [1.5, 2.25); 3, 3 → the last, closed bin.
    assert_eq!(h.counts, [2, 1, 1, 2]);
}

#[test]
fn counts_sum_to_images_times_units_over_several_blocks() {
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(5);
    let config = scratchnet_core::net::MultiLayerNetConfig {
        hidden_size_list: vec![7, 3],
        ..Default::default()
    };
    let net = scratchnet_core::net::MultiLayerNet::<f32>::new(4, 2, &config, &mut rng).unwrap();
    let images = Array2::from_shape_fn((250, 4), |(i, j)| ((i * 4 + j) % 11) as f32 / 11.0);
    let histograms = activation_histograms(&net, images.view(), 30);
    let totals: Vec<u64> = histograms.iter().map(|h| h.counts.iter().sum()).collect();
    assert_eq!(totals, [250 * 7, 250 * 3]);
    for h in &histograms {
        assert_eq!(h.edges.len(), 31);
        let largest = net
            .layer_outputs(images.view())
            .into_iter()
            .find(|o| o.name == h.layer)
            .unwrap()
            .values
            .iter()
            .copied()
            .fold(0.0, f32::max);
        assert_eq!(h.edges[30], largest, "{}", h.layer);
    }
}

#[test]
fn the_first_layer_of_a_dense_net_is_its_columns_as_images() {
    let w1 = Array2::from_shape_fn((784, 3), |(i, u)| (i * 3 + u) as f32);
    let net = TwoLayerNet::from_params(
        w1.clone(),
        Array1::zeros(3),
        Array2::zeros((3, 10)),
        Array1::zeros(10),
        Activation::Sigmoid,
    );
    let Some(FirstLayer::Dense {
        units,
        height,
        width,
        weights,
    }) = first_layer(&net)
    else {
        panic!("a dense first layer")
    };
    assert_eq!((units, height, width, weights.len()), (3, 28, 28, 3));
    assert_eq!(weights[2], w1.column(2).to_vec());
    let json = serde_json::to_value(first_layer(&net).unwrap()).unwrap();
    assert_eq!(json["kind"], "dense");
    assert_eq!(json["weights"][1].as_array().unwrap().len(), 784);
}

#[test]
fn the_first_layer_of_a_conv_net_is_its_filters() {
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(6);
    let net = scratchnet_core::net::ConvNetConfig::simple_convnet()
        .init::<f32>(784, 10, &mut rng)
        .unwrap();
    let layer = first_layer(&net).unwrap();
    let json = serde_json::to_value(&layer).unwrap();
    assert_eq!(json["kind"], "conv");
    assert_eq!(
        [
            &json["filters"],
            &json["channels"],
            &json["height"],
            &json["width"]
        ],
        [30, 1, 5, 5]
    );
    let FirstLayer::Conv { weights, .. } = layer else {
        panic!("conv")
    };
    let w1 = crate::eval::conv_filters(&net).unwrap();
    assert_eq!(
        weights[4],
        w1.slice(s![4, .., .., ..])
            .iter()
            .copied()
            .collect::<Vec<_>>()
    );
}
