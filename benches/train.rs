//! The users' costs, one by one: a training step (gather, backprop, SGD) at batch 1, 100 and
//! 1000; accuracy on all 70,000 images (one epoch mark); TwoLayerNet's `numerical_gradient` on
//! 100 images; and the first layer's product dense against sparse at MNIST's density.
//!
//! Run: `cargo bench --bench train`. Fetches MNIST first if the cache is empty.

// The book's names: `W1`, `b1`.
#![allow(non_snake_case)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ndarray::{s, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet::data::{self, DatasetKind, FetchOptions};
use scratchnet::layers::sparse::sparse_affine_into;
use scratchnet::layers::{Activation, Input, SparseRows, Targets};
use scratchnet::net::{accuracy_input, numerical_gradient, Network, TwoLayerNet};
use scratchnet::optim::{self, Sgd};
use scratchnet::progress::Silent;
use scratchnet::train::run::labels;
use scratchnet::train::sampler::{MiniBatchSampler, Sampling};
use std::hint::black_box;

fn train(c: &mut Criterion) {
    let dataset = data::load(DatasetKind::Mnist, &FetchOptions::default(), &Silent)
        .expect("MNIST can be fetched and loaded");
    let t_train = labels(&dataset.t_train);
    let x_train = SparseRows::from_dense(dataset.x_train.view());
    let x_test = SparseRows::from_dense(dataset.x_test.view());
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let net = TwoLayerNet::<f32>::new(784, 50, 10, 0.01, Activation::Sigmoid, &mut rng).unwrap();

    let mut group = c.benchmark_group("train_step");
    for batch in [1usize, 100, 1000] {
        let mut net = net.clone();
        let mut sgd = Sgd::new(0.1).unwrap();
        let mut sampler = MiniBatchSampler::new(rng.clone(), Sampling::WithReplacement, 60_000);
        let (mut mask, mut t, mut x) = (vec![0; batch], vec![0; batch], SparseRows::new());
        group.bench_function(BenchmarkId::from_parameter(batch), |b| {
            b.iter(|| {
                sampler.next_batch(&mut mask);
                x.gather(x_train.view(), &mask);
                for (t, &i) in t.iter_mut().zip(&mask) {
                    *t = t_train[i];
                }
                let loss = net.gradient_input(Input::Sparse(x.view()), Targets::Labels(&t));
                optim::step(&mut net, &mut sgd);
                black_box(loss)
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("evaluate");
    group.sample_size(20);
    let t_test = labels(&dataset.t_test);
    group.bench_function("accuracy_70000", |b| {
        b.iter(|| {
            let train = accuracy_input(&net, Input::Sparse(x_train.view()), &t_train);
            let test = accuracy_input(&net, Input::Sparse(x_test.view()), &t_test);
            black_box((train, test))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("numerical_gradient");
    group.sample_size(10);
    let x = dataset.x_train.slice(s![..100, ..]).mapv(f64::from);
    let net64 = TwoLayerNet::<f64>::new(784, 50, 10, 0.01, Activation::Sigmoid, &mut rng).unwrap();
    group.bench_function("two_layer_net_batch_100_f64", |b| {
        b.iter(|| {
            black_box(numerical_gradient(
                &net64,
                x.view(),
                Targets::Labels(&t_train[..100]),
            ))
        })
    });
    group.finish();

    // x·W1 + b1 at batch 100: dense GEMM (matrixmultiply, the former path) against the
    // sparse kernel, at MNIST's density (19 %) and on denser inputs (50 %, 100 %).
    let mut group = c.benchmark_group("first_layer_batch_100");
    let (W1, b1) = (net.affine1.W.clone(), net.affine1.b.clone());
    let mnist = dataset.x_train.slice(s![..100, ..]).to_owned();
    let denser = |fill: f32| mnist.mapv(|v| if v == 0.0 { fill } else { v });
    let dense_half = {
        let mut x = denser(0.5);
        // Zero every other pixel column: about half the entries are nonzero.
        x.slice_mut(s![.., ..;2]).fill(0.0);
        x
    };
    for (name, x) in [
        ("mnist", mnist.clone()),
        ("half", dense_half),
        ("full", denser(0.5)),
    ] {
        let mut out = Array2::zeros((100, 50));
        group.bench_function(BenchmarkId::new("dense_gemm", name), |b| {
            b.iter(|| {
                ndarray::linalg::general_mat_mul(1.0, &x, &W1, 0.0, &mut out);
                black_box(&out);
            })
        });
        let mut sparse = SparseRows::new();
        group.bench_function(BenchmarkId::new("sparse_incl_build", name), |b| {
            b.iter(|| {
                sparse.assign(x.view());
                sparse_affine_into(sparse.view(), W1.view(), &b1, &mut out);
                black_box(&out);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, train);
criterion_main!(benches);
