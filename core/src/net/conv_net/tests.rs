use super::*;
use crate::init::WeightInit;
use crate::kernels::SparseRows;
use crate::net::NetworkSpec;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn shapes<F: Float>(net: &ConvNet<F>) -> Vec<(String, Vec<usize>)> {
    net.params()
        .iter()
        .map(|p| (p.name.to_string(), p.value.shape().to_vec()))
        .collect()
}

fn named(list: &[(&str, &[usize])]) -> Vec<(String, Vec<usize>)> {
    list.iter()
        .map(|(n, s)| (n.to_string(), s.to_vec()))
        .collect()
}

#[test]
fn the_books_presets_have_the_books_parameters_and_costs() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let simple = ConvNetConfig::simple_convnet();
    let net = simple.init::<f32>(784, 10, &mut rng).unwrap();
    assert_eq!(
        shapes(&net),
        named(&[
            ("W1", &[30, 1, 5, 5]),
            ("b1", &[30]),
            ("W2", &[4320, 100]),
            ("b2", &[100]),
            ("W3", &[100, 10]),
            ("b3", &[10])
        ])
    );
    assert_eq!(net.parameter_count(), 433_890);
    let spec = NetworkSpec::ConvNet(simple.clone());
    assert_eq!(spec.name(), "SimpleConvNet");
    assert_eq!(spec.parameter_count(784, 10), 433_890);
    // conv 30·25·24·24 = 432,000, Affine 4320·100 = 432,000, Affine 100·10 = 1,000.
    assert_eq!(spec.multiply_adds(784, 10), 865_000);
    assert_eq!(
        spec.shape(784, 10),
        "SimpleConvNet 1x28x28 conv:30x5,pool:2,fc:100 → 10"
    );
    // W1's spread is the book's 0.01.
    let w1 = &net.params()[0].value;
    let std = (w1.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / w1.len() as f64).sqrt();
    assert!((std - 0.01).abs() < 0.002, "{std}");

    let deep = ConvNetConfig::deep_convnet();
    let net = deep.init::<f32>(784, 10, &mut rng).unwrap();
    let got = shapes(&net);
    assert_eq!(got.len(), 16);
    let want = named(&[
        ("W1", &[16, 1, 3, 3]),
        ("W2", &[16, 16, 3, 3]),
        ("W3", &[32, 16, 3, 3]),
        ("W4", &[32, 32, 3, 3]),
        ("W5", &[64, 32, 3, 3]),
        ("W6", &[64, 64, 3, 3]),
        ("W7", &[1024, 50]),
        ("W8", &[50, 10]),
    ]);
    assert_eq!(got.iter().step_by(2).cloned().collect::<Vec<_>>(), want);
    let spec = NetworkSpec::ConvNet(deep);
    assert_eq!(spec.name(), "DeepConvNet");
    assert_eq!(spec.parameter_count(784, 10), 123_552);
    assert_eq!(spec.multiply_adds(784, 10), 8_772_340);
    assert_eq!(net.random_state().len(), 2, "two Dropout layers");
    // He: W6's σ is √(2 / (64·9)) = 0.0589.
    let w6 = &net.params()[10].value;
    let std = (w6.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / w6.len() as f64).sqrt();
    assert!((std - (2.0f64 / 576.0).sqrt()).abs() < 0.003, "{std}");
    // Spatial sizes 28 → 28 → 28 → 14 → 14 → 16 → 8 → 8 → 8 → 4, as the book lists them.
    let sizes = NetworkSpec::ConvNet(ConvNetConfig::deep_convnet()).all_size_list(784, 10);
    assert_eq!(
        sizes,
        [
            784,
            16 * 784,
            16 * 784,
            16 * 196,
            32 * 196,
            32 * 256,
            32 * 64,
            64 * 64,
            64 * 64,
            64 * 16,
            50,
            10
        ]
    );
    assert_eq!(
        NetworkSpec::default().multiply_adds(784, 10),
        784 * 50 + 50 * 10
    );
}

#[test]
fn the_text_form_round_trips_and_writes_the_deep_preset() {
    let deep = ConvNetConfig::deep_convnet();
    let text = "conv:16x3p1,conv:16x3p1,pool:2,conv:32x3p1,conv:32x3p2,pool:2,conv:64x3p1,\
                conv:64x3p1,pool:2,fc:50,dropout:0.5,out,dropout:0.5";
    assert_eq!(deep.to_string(), text);
    let parsed: ConvNetConfig = text.parse().unwrap();
    assert_eq!(parsed.layers, deep.layers);
    assert_eq!(parsed.weight_init, WeightInit::He);
    assert_eq!(parsed, deep, "the deep preset is He on 1x28x28");
    let simple: ConvNetConfig = "conv:30x5,pool:2,fc:100".parse().unwrap();
    assert_eq!(simple.layers, ConvNetConfig::simple_convnet().layers);
    for text in [
        "conv:16x5s2",
        "conv:8x3s2p1,pool:3s2,fc:20,dropout:0.25",
        "pool:2,out",
        "",
    ] {
        let parsed: ConvNetConfig = text.parse().unwrap();
        assert_eq!(parsed.to_string(), text);
    }
    assert_eq!(
        " Conv:16x5S2 , POOL:2 "
            .parse::<ConvNetConfig>()
            .unwrap()
            .to_string(),
        "conv:16x5s2,pool:2"
    );
}

#[test]
fn bad_text_and_shapes_that_do_not_fit_are_refused_by_name() {
    for (text, named) in [
        ("conv:30x5,pol:2", "'pol:2' (item 2"),
        ("conv:30", "'conv:30' (item 1"),
        ("conv:30x5q1", "'conv:30x5q1'"),
        ("fc:ten", "'fc:ten'"),
        ("conv:30x5,,fc:3", "'' (item 2"),
    ] {
        let err = text.parse::<ConvNetConfig>().unwrap_err().to_string();
        assert!(err.contains(named), "{text}: {err}");
        assert!(
            err.contains("conv:<filters>x<size>[s<stride>][p<pad>]"),
            "{err}"
        );
    }
    let refused = |text: &str| {
        let config: ConvNetConfig = text.parse().unwrap();
        config.validate(784, 10).unwrap_err().to_string()
    };
    let err = refused("conv:8x5,pool:2,conv:8x5,pool:2,conv:8x5");
    assert!(
        err.contains("conv3 (conv:8x5): a 5x5 window with pad 0 on a 4x4 input"),
        "{err}"
    );
    let err = refused("conv:8x3,pool:30");
    assert!(
        err.contains("pool1 (pool:30)") && err.contains("26x26"),
        "{err}"
    );
    assert!(refused("fc:10,conv:8x3").contains("conv1 (conv:8x3) after an fc layer"));
    assert!(refused("conv:0x3").contains("number of filters 0 in conv1"));
    assert!(refused("dropout:1.5").contains("dropout ratio 1.5"));
    assert!(refused("out,fc:3").contains("only dropout after out"));
    assert!(refused("out,out").contains("out at most once"));
    let err = ConvNetConfig::simple_convnet()
        .validate(100, 10)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("input size 100 for a ConvNet taking 1x28x28 = 784 values"),
        "{err}"
    );
    let huge: ConvNetConfig = "conv:4000x5,fc:1000".parse().unwrap();
    assert!(huge
        .validate(784, 10)
        .unwrap_err()
        .to_string()
        .contains("100,000,000 weights"));
}

#[test]
fn config_json_names_the_network_and_its_layers() {
    let spec = NetworkSpec::ConvNet(ConvNetConfig::simple_convnet());
    let json = serde_json::to_string(&spec).unwrap();
    assert_eq!(
        json,
        r#"{"network":"ConvNet","input_shape":[1,28,28],"layers":"conv:30x5,pool:2,fc:100","weight_init":"std:0.01"}"#
    );
    assert_eq!(serde_json::from_str::<NetworkSpec>(&json).unwrap(), spec);
    let short = r#"{"network":"ConvNet","layers":"conv:8x3,pool:2","weight_init":"he"}"#;
    let NetworkSpec::ConvNet(config) = serde_json::from_str(short).unwrap() else {
        panic!("a ConvNet");
    };
    assert_eq!(config.input_shape, [1, 28, 28]);
    let bad = r#"{"network":"ConvNet","layers":"conv:8y3","weight_init":"he"}"#;
    let err = serde_json::from_str::<NetworkSpec>(bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("'conv:8y3'"), "{err}");
    // Older files hold the other networks, unchanged.
    let old = r#"{"network":"TwoLayerNet","hidden_size":50,"activation":"sigmoid","weight_init_std":0.01}"#;
    assert_eq!(
        serde_json::from_str::<NetworkSpec>(old).unwrap(),
        NetworkSpec::default()
    );
}

/// A small net on 2×7×7 inputs with every kind of layer, stride and pad, f64.
fn small_net(seed: u64) -> (ConvNet<f64>, Array2<f64>, Vec<usize>) {
    let config = ConvNetConfig {
        input_shape: [2, 7, 7],
        weight_init: WeightInit::Std(0.3),
        ..ConvNetConfig::from_str_checked(
            "conv:3x3p1,conv:4x3s2p1,pool:2s1,fc:6,dropout:0.3,out,dropout:0.2",
        )
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut net = config.init::<f64>(98, 3, &mut rng).unwrap();
    for layer in &mut net.layers {
        match layer {
            Layer::Conv(c, _) => c.b.mapv_inplace(|_| rng.random_range(-0.2..0.2)),
            Layer::Affine(a) => a.b.mapv_inplace(|_| rng.random_range(-0.2..0.2)),
            _ => {}
        }
    }
    let x = randn(&mut rng, 4, 98, 1.0);
    (net, x, vec![0, 2, 1, 2])
}

impl ConvNetConfig {
    fn from_str_checked(text: &str) -> Self {
        text.parse().unwrap()
    }
}

#[test]
fn backprop_matches_numerical_gradient() {
    let (mut net, x, t) = small_net(1);
    net.fix_dropout_masks(true);
    let t = Targets::Labels(&t);
    net.loss(&x, t); // draws the masks, kept from now on
    let numerical = net.numerical_gradient(&x, t);
    net.gradient(&x, t);
    for (p, num) in net.params().iter().zip(&numerical) {
        let diff = (&p.grad - num).mapv(f64::abs).mean().unwrap();
        assert!(diff <= 1e-7, "{}: mean |diff| {diff:e}", p.name);
        assert!(
            num.iter().any(|v| v.abs() > 1e-6),
            "{} has no gradient",
            p.name
        );
    }
}

#[test]
fn predict_takes_blocks_and_sparse_input_gives_the_dense_numbers() {
    let (mut net, _, _) = small_net(2);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x = randn::<f64>(&mut rng, 230, 98, 1.0).mapv(|v| if v > 0.5 { v } else { 0.0 });
    let scores = net.predict(&x);
    assert_eq!(scores.dim(), (230, 3));
    for i in [0, 99, 100, 229] {
        let one = net.predict(&x.slice(s![i..i + 1, ..]));
        assert_eq!(one.row(0), scores.row(i));
    }
    let sparse = SparseRows::from_dense(x.view());
    assert_eq!(net.predict(&sparse), scores);
    let t: Vec<usize> = (0..230).map(|i| i % 3).collect();
    // A copy draws the same Dropout masks.
    let mut copy = net.clone();
    let sparse_loss = copy.loss(&sparse, Targets::Labels(&t));
    assert_eq!(net.loss(&x, Targets::Labels(&t)), sparse_loss);
    assert_ne!(
        net.loss(&x, Targets::Labels(&t)),
        sparse_loss,
        "new masks each time"
    );
    // Dropout's state round-trips.
    let state = net.random_state();
    assert_eq!(state.len(), 2);
    assert!(net.set_random_state(&state).is_ok());
    assert!(net.set_random_state(&state[..1]).is_err());
}

#[test]
fn feature_maps_show_each_spatial_layer_of_one_image() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let net = ConvNetConfig::simple_convnet()
        .init::<f32>(784, 10, &mut rng)
        .unwrap();
    let image = randn::<f32>(&mut rng, 1, 784, 1.0);
    let maps = net.feature_maps(image.row(0));
    let got: Vec<(&str, (usize, usize, usize))> =
        maps.iter().map(|(n, m)| (n.as_str(), m.dim())).collect();
    assert_eq!(
        got,
        [
            ("Conv1", (30, 24, 24)),
            ("Relu1", (30, 24, 24)),
            ("Pool1", (30, 12, 12))
        ]
    );
    let conv = net.layers.iter().find_map(|l| match l {
        Layer::Conv(c, _) => Some(c),
        _ => None,
    });
    let x4 = image.view().into_shape_with_order((1, 1, 28, 28)).unwrap();
    let want = conv.unwrap().forward_eval(x4);
    assert_eq!(maps[0].1, want.index_axis(ndarray::Axis(0), 0));
    assert!(maps[1].1.iter().all(|&v| v >= 0.0));
    assert_eq!(maps[2].1[[0, 0, 0]], {
        let r = &maps[1].1;
        r[[0, 0, 0]]
            .max(r[[0, 0, 1]])
            .max(r[[0, 1, 0]])
            .max(r[[0, 1, 1]])
    });
}

#[test]
fn a_training_step_gives_the_same_bits_on_one_thread_and_two() {
    // Batch 16 of 1x12x12 images: big enough that every layer splits its images (and dW its
    // blocks) over both threads.
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut config: ConvNetConfig = "conv:8x3p1,conv:16x3s2p1,pool:2,fc:20,dropout:0.5,out"
                .parse()
                .unwrap();
            config.input_shape = [1, 12, 12];
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let mut net = config.init::<f32>(144, 10, &mut rng).unwrap();
            let x = randn::<f32>(&mut rng, 16, 144, 1.0);
            let t: Vec<usize> = (0..16).map(|i| i % 10).collect();
            let mut adam = crate::optim::Adam::new(0.01).unwrap();
            let mut losses = Vec::new();
            for _ in 0..3 {
                losses.push(net.gradient(&x, Targets::Labels(&t)).to_bits());
                crate::optim::step(&mut net, &mut adam);
            }
            let weights: Vec<u32> = net
                .params()
                .iter()
                .flat_map(|p| p.value.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
                .collect();
            (losses, weights)
        })
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.0, two.0, "losses");
    assert!(one.1 == two.1, "weights differ between 1 and 2 threads");
}
