//! The users' costs, one by one: a training step (gather, backprop, SGD) at batch 1, 100 and
//! 1000; accuracy on all 70,000 images (one epoch mark); TwoLayerNet's `numerical_gradient` on
//! 100 images; the first layer's product dense against sparse at MNIST's density; and the
//! large dense products in the library's packed kernels against the `gemm` crate and
//! matrixmultiply.
//!
//! Run: `cargo bench --features bench --bench train`. Fetches MNIST first if the cache is empty.

// The book's names: `W1`, `b1`.
#![allow(non_snake_case)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ndarray::{s, Array2, ArrayView2};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scratchnet::data::{self, DatasetKind, FetchOptions};
use scratchnet::progress::Silent;
use scratchnet_core::kernels::packed::product_into;
use scratchnet_core::kernels::{self, Level};
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
    let x_train = dataset.x_train.to_sparse();
    let x_test = dataset.x_test.to_sparse();
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
    let x = dataset.x_train.rows_dense(0..100).mapv(f64::from);
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

    // x·W1 + b1 at batch 100: the packed product (the library's dense route for large products) against the
    // sparse kernel, at MNIST's density (19 %) and on denser inputs (50 %, 100 %).
    let mut group = c.benchmark_group("first_layer_batch_100");
    let (W1, b1) = (net.affine1.W.clone(), net.affine1.b.clone());
    let mnist = dataset.x_train.rows_dense(0..100);
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
        group.bench_function(BenchmarkId::new("dense_packed", name), |b| {
            b.iter(|| {
                product_into(x.view(), W1.view(), out.view_mut(), false);
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

/// One large product, out (m, n) = x (m, k) · w (k, n), as the studies meet it: the users'
/// first layer on dense Fashion-MNIST (100×784·784×50), a wide first layer (·784×400) and its
/// backward products (dW = xᵀ·dout: 784×100·100×400, dx = dout·Wᵀ: 100×400·400×784), a wide
/// hidden layer (100×400·400×400) and its backward ones, and an evaluation block
/// (10000×784·784×50). `x_t`/`w_t`: the operand is a transposed view, as in backward.
struct Shape {
    m: usize,
    k: usize,
    n: usize,
    x_t: bool,
    w_t: bool,
}

const SHAPES: [Shape; 8] = [
    Shape {
        m: 100,
        k: 784,
        n: 50,
        x_t: false,
        w_t: false,
    },
    Shape {
        m: 100,
        k: 784,
        n: 400,
        x_t: false,
        w_t: false,
    },
    Shape {
        m: 784,
        k: 100,
        n: 400,
        x_t: true,
        w_t: false,
    },
    Shape {
        m: 100,
        k: 400,
        n: 784,
        x_t: false,
        w_t: true,
    },
    Shape {
        m: 100,
        k: 400,
        n: 400,
        x_t: false,
        w_t: false,
    },
    Shape {
        m: 400,
        k: 100,
        n: 400,
        x_t: true,
        w_t: false,
    },
    Shape {
        m: 100,
        k: 400,
        n: 400,
        x_t: false,
        w_t: true,
    },
    Shape {
        m: 10_000,
        k: 784,
        n: 50,
        x_t: false,
        w_t: false,
    },
];

/// The large dense products in the library's packed kernels ([`product_into`], the same bits
/// on every CPU), against the `gemm` crate (its backend until issue 13: fused multiply-add,
/// kernels chosen per CPU) and matrixmultiply (ndarray's `dot`), on all threads and on one,
/// side by side (the packed kernels' one-thread figure runs inside a one-thread rayon pool,
/// whose worker the kernels' team never splits for). `SCRATCHNET_SIMD=avx2|plain` caps the packed kernels' level, as in the
/// binary; gemm and matrixmultiply pick their own.
fn gemm_backends(c: &mut Criterion) {
    if let Ok(level) = std::env::var("SCRATCHNET_SIMD") {
        let level = match level.as_str() {
            "avx2" => Level::Avx2,
            "plain" => Level::Plain,
            _ => Level::Avx512,
        };
        kernels::force_level(Some(level));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("gemm_backend");
    for shape in SHAPES {
        let Shape { m, k, n, x_t, w_t } = shape;
        let randn = |rows, cols, t: bool| {
            let (r, c) = if t { (cols, rows) } else { (rows, cols) };
            scratchnet_core::init::randn::<f32>(&mut rng.clone(), r, c, 1.0)
        };
        let (xs, ws) = (randn(m, k, x_t), randn(k, n, w_t));
        rng = ChaCha8Rng::seed_from_u64(rng.next_u64());
        let x = if x_t { xs.t() } else { xs.view() };
        let w = if w_t { ws.t() } else { ws.view() };
        let mut out = Array2::<f32>::zeros((m, n));
        let name = format!(
            "{m}x{k}x{n}{}{}",
            if x_t { "_xT" } else { "" },
            if w_t { "_wT" } else { "" }
        );
        group.bench_function(BenchmarkId::new("packed", &name), |b| {
            b.iter(|| product_into(x, w, black_box(out.view_mut()), false))
        });
        group.bench_function(BenchmarkId::new("packed_one_thread", &name), |b| {
            b.iter(|| one.install(|| product_into(x, w, black_box(out.view_mut()), false)))
        });
        let packed = out.clone();
        for (backend, parallelism) in [
            ("gemm_rayon", gemm::Parallelism::Rayon(0)),
            ("gemm_one_thread", gemm::Parallelism::None),
        ] {
            group.bench_function(BenchmarkId::new(backend, &name), |b| {
                b.iter(|| gemm_into(x, w, black_box(&mut out), parallelism))
            });
        }
        group.bench_function(BenchmarkId::new("matrixmultiply", &name), |b| {
            b.iter(|| ndarray::linalg::general_mat_mul(1.0, &x, &w, 0.0, black_box(&mut out)))
        });
        // All compute the same product (to rounding: they add in different orders).
        let worst = (&packed - &out).iter().fold(0.0f32, |a, v| a.max(v.abs()));
        assert!(worst < 1e-2, "packed and matrixmultiply differ by {worst}");
    }
    group.finish();
}

/// out = x·w by the `gemm` crate, for any strides.
fn gemm_into(
    x: ArrayView2<f32>,
    w: ArrayView2<f32>,
    out: &mut Array2<f32>,
    parallelism: gemm::Parallelism,
) {
    let ((m, k), n) = (x.dim(), w.ncols());
    let (xs, ws, os) = (x.strides(), w.strides(), out.strides().to_vec());
    // SAFETY: each pointer with its (column, row) strides addresses exactly its array's
    // elements; the arrays outlive the call and out overlaps neither x nor w.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            os[1],
            os[0],
            false,
            x.as_ptr(),
            xs[1],
            xs[0],
            w.as_ptr(),
            ws[1],
            ws[0],
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        )
    }
}

criterion_group!(benches, train, gemm_backends);
criterion_main!(benches);
