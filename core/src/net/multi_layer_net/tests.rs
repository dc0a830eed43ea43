use super::*;
use crate::init::randn;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A 7-10-8-6-3 net (three hidden layers) and a batch of 5. The layers are wide enough that
/// no sample has every ReLU of a layer off: its next pre-activation would be exactly b = 0,
/// on ReLU's kink, where the numerical derivative is half the slope.
fn setup(config: MultiLayerNetConfig) -> (MultiLayerNet<f64>, Array2<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let net = MultiLayerNet::new(7, 3, &config, &mut rng).unwrap();
    let x = randn(&mut rng, 5, 7, 1.0);
    (net, x, vec![0, 2, 1, 2, 1])
}

fn config(activation: Activation) -> MultiLayerNetConfig {
    MultiLayerNetConfig {
        hidden_size_list: vec![10, 8, 6],
        activation,
        weight_init: WeightInit::Std(0.5),
        ..MultiLayerNetConfig::default()
    }
}

/// Backprop against `numerical_gradient`, mean |diff| per parameter ≤ 1e-7 (f64).
fn assert_gradients_agree(mut net: MultiLayerNet<f64>, x: &Array2<f64>, t: &[usize]) {
    let t = Targets::Labels(t);
    let numerical = net.numerical_gradient(&x, t);
    net.gradient(&x, t);
    let params = net.params();
    assert_eq!(numerical.len(), params.len());
    for (p, num) in params.iter().zip(&numerical) {
        let diff = (&p.grad - num).mapv(f64::abs).mean().unwrap();
        assert!(diff <= 1e-7, "{}: mean |diff| {diff:e}", p.name);
    }
    assert!(
        numerical[0].iter().any(|v| v.abs() > 1e-4),
        "dW1 is all zero"
    );
}

#[test]
fn backprop_matches_numerical_gradient_for_each_activation() {
    for activation in [Activation::Sigmoid, Activation::Relu] {
        let (net, x, t) = setup(config(activation));
        assert_gradients_agree(net, &x, &t);
    }
}

#[test]
fn backprop_matches_numerical_gradient_with_batchnorm() {
    let (net, x, t) = setup(MultiLayerNetConfig {
        use_batchnorm: true,
        ..config(Activation::Relu)
    });
    let names: Vec<&str> = net.params().iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3", "gamma3",
            "beta3", "W4", "b4"
        ]
    );
    assert_gradients_agree(net, &x, &t);
}

#[test]
fn backprop_matches_numerical_gradient_with_dropout_and_a_fixed_mask() {
    let (mut net, x, t) = setup(MultiLayerNetConfig {
        use_dropout: true,
        dropout_ratio: 0.3,
        ..config(Activation::Relu)
    });
    net.fix_dropout_masks(true);
    net.loss(&x, Targets::Labels(&t)); // draws the masks, kept from now on
    assert_gradients_agree(net, &x, &t);
}

#[test]
fn backprop_matches_numerical_gradient_with_weight_decay() {
    let (net, x, t) = setup(MultiLayerNetConfig {
        weight_decay_lambda: 0.1,
        ..config(Activation::Relu)
    });
    assert_gradients_agree(net, &x, &t);
}

#[test]
fn backprop_matches_numerical_gradient_with_everything_on() {
    let (mut net, x, t) = setup(MultiLayerNetConfig {
        weight_decay_lambda: 0.05,
        use_dropout: true,
        dropout_ratio: 0.2,
        use_batchnorm: true,
        ..config(Activation::Sigmoid)
    });
    net.fix_dropout_masks(true);
    net.loss(&x, Targets::Labels(&t));
    assert_gradients_agree(net, &x, &t);
}

#[test]
fn weight_decay_adds_half_lambda_times_the_squared_weights() {
    let (mut plain, x, t) = setup(config(Activation::Relu));
    let (mut decayed, _, _) = setup(MultiLayerNetConfig {
        weight_decay_lambda: 0.1,
        ..config(Activation::Relu)
    });
    let squares: f64 = plain
        .params()
        .iter()
        .filter(|p| p.name.starts_with('W'))
        .map(|p| p.value.mapv(|w| w * w).sum())
        .sum();
    let t = Targets::Labels(&t);
    let gap = decayed.loss(&x, t) - plain.loss(&x, t);
    assert!((gap - 0.05 * squares).abs() < 1e-12, "{gap}");
}

#[test]
fn predict_is_the_training_forward_without_dropout_and_batchnorm() {
    let (mut net, x, t) = setup(config(Activation::Sigmoid));
    let scores = net.predict(&x);
    let loss = net.loss(&x, Targets::Labels(&t));
    let expected =
        crate::functions::cross_entropy_error_labels(&crate::functions::softmax(&scores), &t);
    assert!((loss - expected).abs() < 1e-14);
}

/// The parameter or buffer called `name` (`W1`, `gamma2`, `running_var3`, …), as (rows,
/// cols): a vector as one row.
fn named(net: &MultiLayerNet<f64>, name: &str) -> Array2<f64> {
    let params = net.params();
    let array = match params.iter().find(|p| p.name == name) {
        Some(p) => p.value.clone(),
        None => {
            net.buffers()
                .into_iter()
                .find(|b| b.0 == name)
                .expect(name)
                .1
        }
    };
    let cols = array.shape().last().copied().unwrap_or(1);
    array
        .to_shape((array.len() / cols, cols))
        .unwrap()
        .to_owned()
}

/// `x·W + b` by plain loops; x: (N, in), W: (in, out), b: (1, out).
fn plain_affine(x: &Array2<f64>, w: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    Array2::from_shape_fn((x.nrows(), w.ncols()), |(n, j)| {
        b[[0, j]] + (0..x.ncols()).map(|i| x[[n, i]] * w[[i, j]]).sum::<f64>()
    })
}

#[test]
fn hidden_activations_are_each_hidden_layers_output_on_the_way_to_predict() {
    let (net, x, _) = setup(config(Activation::Sigmoid));
    let hidden = net.hidden_activations(x.view());
    assert_eq!(hidden.len(), 3);
    let mut h = x.clone();
    for (k, a) in hidden.iter().enumerate() {
        let (w, b) = (
            named(&net, &format!("W{}", k + 1)),
            named(&net, &format!("b{}", k + 1)),
        );
        h = plain_affine(&h, &w, &b).mapv(|v| 1.0 / (1.0 + (-v).exp()));
        assert!(
            (a - &h).mapv(f64::abs).iter().all(|&d| d < 1e-12),
            "layer {}",
            k + 1
        );
    }
    let scores = plain_affine(&hidden[2], &named(&net, "W4"), &named(&net, "b4"));
    assert!((net.predict(&x) - scores)
        .mapv(f64::abs)
        .iter()
        .all(|&d| d < 1e-12));
}

#[test]
fn predict_uses_running_statistics_and_dropout_scaling() {
    let ratio = 0.3;
    let (mut net, x, t) = setup(MultiLayerNetConfig {
        use_batchnorm: true,
        use_dropout: true,
        dropout_ratio: ratio,
        ..config(Activation::Relu)
    });
    // gamma and beta away from their initial 1 and 0, each entry different.
    for (i, mut p) in net.params_mut().into_iter().enumerate() {
        if p.name.starts_with("gamma") || p.name.starts_with("beta") {
            for (j, v) in p.value.iter_mut().enumerate() {
                *v = 0.5 + 0.1 * (i + j) as f64;
            }
        }
    }
    // Two training forwards on different batches move the running statistics.
    let x2 = x.mapv(|v| 0.5 * v + 0.3);
    net.loss(&x, Targets::Labels(&t));
    net.loss(&x2, Targets::Labels(&t));

    // BatchNorm1's input is x·W1 + b1 whatever the masks: running = 0.9·(0.1·s₁) + 0.1·s₂
    // for the batch mean and variance s of each batch.
    let (w1, b1) = (named(&net, "W1"), named(&net, "b1"));
    let stats = |x: &Array2<f64>| {
        let a = plain_affine(x, &w1, &b1);
        let n = a.nrows() as f64;
        let mean: Vec<f64> = a.columns().into_iter().map(|c| c.sum() / n).collect();
        let var: Vec<f64> = (a.columns().into_iter().zip(&mean))
            .map(|(c, m)| c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n)
            .collect();
        [mean, var]
    };
    let (first, second) = (stats(&x), stats(&x2));
    for (k, name) in ["running_mean1", "running_var1"].into_iter().enumerate() {
        let running = named(&net, name);
        for j in 0..running.ncols() {
            let expected = 0.09 * first[k][j] + 0.1 * second[k][j];
            let got = running[[0, j]];
            assert!(
                (got - expected).abs() < 1e-12,
                "{name}[{j}]: {got} vs {expected}"
            );
        }
    }

    // predict by hand: per hidden layer, affine, BatchNorm with the running statistics
    // gamma·(a − mean)/√(var + 1e-6) + beta, ReLU, then Dropout's scaling by 1 − ratio.
    let mut h = x.clone();
    for k in 1..=3 {
        let a = plain_affine(
            &h,
            &named(&net, &format!("W{k}")),
            &named(&net, &format!("b{k}")),
        );
        let [mean, var, gamma, beta] = ["running_mean", "running_var", "gamma", "beta"]
            .map(|what| named(&net, &format!("{what}{k}")));
        h = Array2::from_shape_fn(a.dim(), |(n, j)| {
            let normalized = (a[[n, j]] - mean[[0, j]]) / (var[[0, j]] + 1e-6).sqrt();
            let bn = gamma[[0, j]] * normalized + beta[[0, j]];
            bn.max(0.0) * (1.0 - ratio)
        });
    }
    let expected = plain_affine(&h, &named(&net, "W4"), &named(&net, "b4"));
    let scores = net.predict(&x);
    assert!(
        (&scores - &expected).iter().all(|d| d.abs() < 1e-12),
        "{scores}\nvs by hand\n{expected}"
    );
    assert_eq!(net.buffers().len(), 6);
}

#[test]
fn impossible_options_are_refused() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for (bad, what) in [
        (
            MultiLayerNetConfig {
                hidden_size_list: vec![],
                ..Default::default()
            },
            "hidden_size_list",
        ),
        (
            MultiLayerNetConfig {
                hidden_size_list: vec![10, 0],
                ..Default::default()
            },
            "hidden layer size 0",
        ),
        (
            MultiLayerNetConfig {
                weight_decay_lambda: -1.0,
                ..Default::default()
            },
            "weight decay -1",
        ),
        (
            MultiLayerNetConfig {
                use_dropout: true,
                dropout_ratio: 1.0,
                ..Default::default()
            },
            "dropout ratio 1",
        ),
    ] {
        let err = MultiLayerNet::<f32>::new(784, 10, &bad, &mut rng)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(what), "{err}");
    }
}

#[test]
fn one_hidden_layer_is_the_books_two_layer_net_bit_for_bit() {
    let mut two = crate::net::TwoLayerNetConfig {
        hidden_size: 6,
        activation: Activation::Sigmoid,
        weight_init_std: 0.5,
    }
    .init::<f64>(7, 3, &mut ChaCha8Rng::seed_from_u64(5))
    .unwrap();
    let config = MultiLayerNetConfig {
        hidden_size_list: vec![6],
        activation: Activation::Sigmoid,
        weight_init: WeightInit::Std(0.5),
        ..MultiLayerNetConfig::default()
    };
    let mut deep =
        MultiLayerNet::<f64>::new(7, 3, &config, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
    let x = randn(&mut ChaCha8Rng::seed_from_u64(6), 5, 7, 1.0);
    let t = Targets::Labels(&[0, 2, 1, 2, 1]);
    let mut sgd = crate::optim::Sgd::new(0.5).unwrap();
    for _ in 0..3 {
        assert_eq!(two.gradient(&x, t), deep.gradient(&x, t));
        crate::optim::step(&mut two, &mut sgd);
        crate::optim::step(&mut deep, &mut sgd);
    }
    let named = |p: &ParamView<f64>| (p.name.to_string(), p.value.to_owned());
    let deep_params: Vec<_> = deep.params().iter().map(named).collect();
    let two_params: Vec<_> = two.params().iter().map(named).collect();
    assert_eq!(deep_params, two_params);
    assert_eq!(deep.predict(&x), two.predict(&x));
}

#[test]
fn sparse_and_dense_batches_give_the_same_loss_gradients_and_scores() {
    let config = MultiLayerNetConfig {
        use_batchnorm: true,
        weight_decay_lambda: 0.01,
        ..config(Activation::Relu)
    };
    let (mut dense, x, t) = setup(config);
    let mut sparse = dense.clone();
    // Mostly zeros, as MNIST's pixels are.
    let x = x.mapv(|v| if v > 0.6 { v } else { 0.0 });
    let rows = crate::kernels::SparseRows::from_dense(x.view());
    let t = Targets::Labels(&t);
    let a = dense.gradient(&x, t);
    let b = sparse.gradient(&rows, t);
    assert!((a - b).abs() < 1e-12);
    for (p, q) in dense.params().iter().zip(sparse.params()) {
        assert_eq!(p.name, q.name);
        assert!(
            (&p.grad - &q.grad).iter().all(|d| d.abs() < 1e-12),
            "{}",
            p.name
        );
    }
    let (p, q) = (dense.predict(&x), sparse.predict(&rows));
    assert!((&p - &q).iter().all(|d| d.abs() < 1e-12));
}
