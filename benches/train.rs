//! The users' costs, one by one: a training step (gather, backprop, SGD) at batch 1, 100 and
//! 1000; accuracy on all 70,000 images (one epoch mark); TwoLayerNet's `numerical_gradient` on
//! 100 images; the first layer's product dense against sparse at MNIST's density; and the
//! large dense products in matrixmultiply against the `gemm` crate.
//!
//! Run: `cargo bench --bench train`. Fetches MNIST first if the cache is empty.

// The book's names: `W1`, `b1`.
#![allow(non_snake_case)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ndarray::{s, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet::data::{self, DatasetKind, FetchOptions};
use scratchnet::progress::Silent;
use scratchnet_core::kernels::dense::gemm_into;
use scratchnet_core::kernels::{sparse, SparseRows};
use scratchnet_core::layers::{Activation, Targets};
use scratchnet_core::net::{Network, TwoLayerNetConfig};
use scratchnet_core::optim::{self, Sgd};
use scratchnet_core::train::sampler::{MiniBatchSampler, Sampling};
use std::hint::black_box;

fn train(c: &mut Criterion) {
    let dataset = data::load(DatasetKind::Mnist, &FetchOptions::default(), &Silent)
        .expect("MNIST can be fetched and loaded");
    let t_train = dataset.t_train.clone();
    let x_train = SparseRows::from_dense(dataset.x_train.view());
    let x_test = SparseRows::from_dense(dataset.x_test.view());
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let net = TwoLayerNetConfig {
        hidden_size: 50,
        activation: Activation::Sigmoid,
        weight_init_std: 0.01,
    }
    .init::<f32>(784, 10, &mut rng)
    .unwrap();

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
                let loss = net.gradient(&x, Targets::Labels(&t));
                optim::step(&mut net, &mut sgd);
                black_box(loss)
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("evaluate");
    group.sample_size(20);
    let t_test = dataset.t_test.clone();
    group.bench_function("accuracy_70000", |b| {
        b.iter(|| {
            let train = net.accuracy(&x_train, &t_train);
            let test = net.accuracy(&x_test, &t_test);
            black_box((train, test))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("numerical_gradient");
    group.sample_size(10);
    let x = dataset.x_train.slice(s![..100, ..]).mapv(f64::from);
    let net64 = TwoLayerNetConfig {
        hidden_size: 50,
        activation: Activation::Sigmoid,
        weight_init_std: 0.01,
    }
    .init::<f64>(784, 10, &mut rng)
    .unwrap();
    group.bench_function("two_layer_net_batch_100_f64", |b| {
        b.iter(|| black_box(net64.numerical_gradient(&x, Targets::Labels(&t_train[..100]))))
    });
    group.finish();

    // x·W1 + b1 at batch 100: dense GEMM (the library's dense route) against the
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
                gemm_into(x.view(), W1.view(), &mut out, false);
                black_box(&out);
            })
        });
        let mut rows = SparseRows::new();
        group.bench_function(BenchmarkId::new("sparse_incl_build", name), |b| {
            b.iter(|| {
                rows.assign(x.view());
                sparse::affine_into(rows.view(), W1.view(), &b1, &mut out);
                black_box(&out);
            })
        });
    }
    group.finish();
}

/// The large dense products, in matrixmultiply (ndarray's `general_mat_mul`, threaded: the
/// backend in use) and in the `gemm` crate (on rayon's threads, and on one), side by side:
/// out (m, n) = x (m, k) · w (k, n) for the shapes the studies meet — the users' first layer on
/// dense Fashion-MNIST (100×784·784×50), a wide first layer (·784×400), a wide hidden layer
/// (100×400·400×400) and an evaluation block (10000×784·784×50).
fn gemm_backends(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut group = c.benchmark_group("gemm_backend");
    for (m, k, n) in [
        (100, 784, 50),
        (100, 784, 400),
        (100, 400, 400),
        (10_000, 784, 50),
    ] {
        let x = scratchnet_core::init::randn::<f32>(&mut rng, m, k, 1.0);
        let w = scratchnet_core::init::randn::<f32>(&mut rng, k, n, 1.0);
        let mut out = Array2::<f32>::zeros((m, n));
        let shape = format!("{m}x{k}x{n}");
        group.bench_function(BenchmarkId::new("matrixmultiply", &shape), |b| {
            b.iter(|| {
                ndarray::linalg::general_mat_mul(1.0, &x, &w, 0.0, &mut out);
                black_box(&out);
            })
        });
        for (name, parallelism) in [
            ("gemm_rayon", gemm::Parallelism::Rayon(0)),
            ("gemm_one_thread", gemm::Parallelism::None),
        ] {
            group.bench_function(BenchmarkId::new(name, &shape), |b| {
                b.iter(|| {
                    // SAFETY: the pointers and strides describe the three arrays, standard
                    // layout (row stride = columns, column stride 1), which outlive the call.
                    unsafe {
                        gemm::gemm(
                            m,
                            n,
                            k,
                            out.as_mut_ptr(),
                            1,
                            n as isize,
                            false,
                            x.as_ptr(),
                            1,
                            k as isize,
                            w.as_ptr(),
                            1,
                            n as isize,
                            0.0,
                            1.0,
                            false,
                            false,
                            false,
                            parallelism,
                        )
                    };
                    black_box(&out);
                })
            });
        }
        // Both compute the same product (to rounding: they add in different orders).
        let mut check = Array2::<f32>::zeros((m, n));
        ndarray::linalg::general_mat_mul(1.0, &x, &w, 0.0, &mut check);
        let worst = (&check - &out).iter().fold(0.0f32, |a, v| a.max(v.abs()));
        assert!(worst < 1e-2, "gemm and matrixmultiply differ by {worst}");
    }
    group.finish();
}

criterion_group!(benches, train, gemm_backends);
criterion_main!(benches);
