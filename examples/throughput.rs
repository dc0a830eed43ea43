//! Training throughput and numerical-gradient time, for `bench/compare` and the README.
//!
//! `cargo run --release --features bench --example throughput -- samples` prints training
//! samples/s (updates only, as `scratchnet train` counts them) for batch sizes 1–6000 and hidden
//! widths 50–800 (the feature `bench` keeps this tool out of `cargo test`);
//! `-- numgrad` times TwoLayerNet's `numerical_gradient` on 100 MNIST training images.
//! For instruction counts (a loaded machine makes times noisy), a fixed amount of work:
//! `-- steps BATCH ITERS [HIDDEN]` runs ITERS training steps of a 784-HIDDEN-10 net (50) and
//! `-- eval REPEATS` measures accuracy on all 70,000 images REPEATS times; under
//! `valgrind --tool=callgrind --toggle-collect='*measured*'` only that work is counted.
//! Fetches MNIST into the cache if needed.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet::data::{self, DatasetKind, FetchOptions};
use scratchnet::progress::Silent;
use scratchnet_core::layers::{Activation, SparseRows, Targets};
use scratchnet_core::net::{Network, TwoLayerNet, TwoLayerNetConfig};
use scratchnet_core::optim::{self, Sgd};
use scratchnet_core::train::sampler::{MiniBatchSampler, Sampling};
use std::time::Instant;

fn main() -> scratchnet::Result<()> {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "samples".into());
    let dataset = data::load(DatasetKind::Mnist, &FetchOptions::default(), &Silent)?;
    let t_train = dataset.t_train.clone();
    match mode.as_str() {
        "samples" => {
            let x_train = dataset.x_train.to_sparse();
            println!("hidden,batch_size,samples_per_s");
            for hidden in [50, 200, 800] {
                for batch in [1, 10, 100, 1000, 6000] {
                    let rate = samples_per_s(&x_train, &t_train, hidden, batch)?;
                    println!("{hidden},{batch},{rate:.0}");
                }
            }
        }
        "numgrad" => {
            let x = dataset.x_train.rows_dense(0..100).mapv(f64::from);
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            let net = TwoLayerNetConfig {
                hidden_size: 50,
                activation: Activation::Sigmoid,
                weight_init_std: 0.01,
            }
            .init::<f64>(784, 10, &mut rng)?;
            let t = Targets::Labels(&t_train[..100]);
            net.numerical_gradient(&x, t);
            let mut times: Vec<f64> = (0..5)
                .map(|_| {
                    let start = Instant::now();
                    net.numerical_gradient(&x, t);
                    start.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            println!("{{\"median_s\": {}}}", times[2]);
        }
        "steps" | "eval" => {
            let arg = |i: usize, default: usize| {
                std::env::args()
                    .nth(i)
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(default)
            };
            let x_train = dataset.x_train.to_sparse();
            let x_test = dataset.x_test.to_sparse();
            let t_test = dataset.t_test.clone();
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            let hidden = if mode == "steps" { arg(4, 50) } else { 50 };
            let net = TwoLayerNetConfig {
                hidden_size: hidden,
                activation: Activation::Sigmoid,
                weight_init_std: 0.01,
            }
            .init::<f32>(784, 10, &mut rng)?;
            let start = Instant::now();
            let result = if mode == "steps" {
                let (batch, iters) = (arg(2, 100), arg(3, 1000));
                f64::from(measured_steps(net, &x_train, &t_train, batch, iters))
            } else {
                let sets = [(&x_train, &t_train[..]), (&x_test, &t_test[..])];
                measured_eval(&net, &sets, arg(2, 1))
            };
            println!("{result} in {:.3} s", start.elapsed().as_secs_f64());
        }
        other => eprintln!("unknown mode {other}: expected samples, numgrad, steps or eval"),
    }
    Ok(())
}

/// Updates per second × batch size for a 784-hidden-10 sigmoid net, the trainer's way
/// (sparse mini-batches gathered from the sparse set, backprop, SGD), over about 0.5 s.
fn samples_per_s(
    x_train: &SparseRows<f32>,
    t_train: &[usize],
    hidden: usize,
    batch: usize,
) -> scratchnet::Result<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut net = TwoLayerNetConfig {
        hidden_size: hidden,
        activation: Activation::Sigmoid,
        weight_init_std: 0.01,
    }
    .init::<f32>(784, 10, &mut rng)?;
    let mut sgd = Sgd::new(0.1)?;
    let mut sampler = MiniBatchSampler::new(rng, Sampling::WithReplacement, t_train.len());
    let (mut mask, mut t, mut x) = (vec![0; batch], vec![0; batch], SparseRows::new());
    let mut step = |iters: usize| {
        for _ in 0..iters {
            sampler.next_batch(&mut mask);
            x.gather(x_train.view(), &mask);
            for (t, &i) in t.iter_mut().zip(&mask) {
                *t = t_train[i];
            }
            net.gradient(&x, Targets::Labels(&t));
            optim::step(&mut net, &mut sgd);
        }
    };
    // Warm up, then size the run to about half a second.
    let start = Instant::now();
    step(3);
    let per_iter = start.elapsed().as_secs_f64() / 3.0;
    let iters = ((0.5 / per_iter) as usize).clamp(3, 200_000);
    let start = Instant::now();
    step(iters);
    Ok((iters * batch) as f64 / start.elapsed().as_secs_f64())
}

/// `iters` training steps at batch `batch` (gather, backprop, SGD); returns the last loss.
#[inline(never)]
fn measured_steps(
    mut net: TwoLayerNet<f32>,
    x_train: &SparseRows<f32>,
    t_train: &[usize],
    batch: usize,
    iters: usize,
) -> f32 {
    let mut sgd = Sgd::new(0.1).expect("0.1 is a learning rate");
    let rng = ChaCha8Rng::seed_from_u64(1);
    let mut sampler = MiniBatchSampler::new(rng, Sampling::WithReplacement, t_train.len());
    let (mut mask, mut t, mut x) = (vec![0; batch], vec![0; batch], SparseRows::new());
    let mut loss = 0.0;
    for _ in 0..iters {
        sampler.next_batch(&mut mask);
        x.gather(x_train.view(), &mask);
        for (t, &i) in t.iter_mut().zip(&mask) {
            *t = t_train[i];
        }
        loss = net.gradient(&x, Targets::Labels(&t));
        optim::step(&mut net, &mut sgd);
    }
    loss
}

/// Accuracy on every (x, t) set, `repeats` times; returns the last accuracies' sum.
#[inline(never)]
fn measured_eval(
    net: &TwoLayerNet<f32>,
    sets: &[(&SparseRows<f32>, &[usize])],
    repeats: usize,
) -> f64 {
    let mut total = 0.0;
    for _ in 0..repeats {
        total = sets.iter().map(|(x, t)| net.accuracy(*x, t)).sum();
    }
    total
}
