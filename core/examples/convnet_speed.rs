//! Times training steps (gradient + Adam update, batch 100) of the book's SimpleConvNet and
//! DeepConvNet on 1 and 2 threads, and prints seconds per epoch-equivalent (600 steps: 60,000
//! images) and the achieved GFLOP/s (a training step ≈ 3 × the forward's multiply-adds × 2
//! flops).
//!
//! usage: cargo run --release -p scratchnet-core --features bench --example convnet_speed [steps]
//! [threads…] [simple|deep] (default: 20 steps after 3 warm-up steps, threads 1 and 2, both
//! networks; the feature `bench` keeps this tool out of `cargo test`).
//!
//! Each thread count runs in a process of its own, its steps on the main thread with rayon's
//! global pool of that size, as `scratchnet train --threads N` runs them (inside a pool's
//! worker the kernels' team would not split a product).

use scratchnet_core::init::randn;
use scratchnet_core::layers::Targets;
use scratchnet_core::net::{ConvNetConfig, Network, NetworkSpec};
use scratchnet_core::optim::{self, Adam};
use scratchnet_core::prelude::*;
use std::time::Instant;

fn main() {
    let words: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<usize> = words.iter().filter_map(|a| a.parse().ok()).collect();
    let only = words.iter().find(|a| a.parse::<usize>().is_err());
    let steps = args.first().copied().unwrap_or(20);
    let threads = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        vec![1, 2]
    };
    if threads.len() > 1 {
        // One process per thread count: rayon's global pool is sized once.
        for n in threads {
            let exe = std::env::current_exe().expect("this program's path");
            let mut args: Vec<String> = vec![steps.to_string(), n.to_string()];
            args.extend(only.cloned());
            let status = std::process::Command::new(exe).args(args).status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "the run on {n} threads failed"
            );
        }
        return;
    }
    let n = threads[0];
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .expect("the global pool is built once");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    // MNIST-like: 80 % zeros, the rest in (0, 1].
    let x: Array2<f32> =
        randn(&mut rng, 100, 784, 1.0).mapv(|v: f32| if v > 0.84 { v.min(1.0) } else { 0.0 });
    let t: Vec<usize> = (0..100).map(|i| i % 10).collect();
    for (name, config) in [
        ("SimpleConvNet", ConvNetConfig::simple_convnet()),
        ("DeepConvNet", ConvNetConfig::deep_convnet()),
    ] {
        if only.is_some_and(|o| !name.to_lowercase().starts_with(o.as_str())) {
            continue;
        }
        let flops =
            3.0 * 2.0 * 100.0 * NetworkSpec::ConvNet(config.clone()).multiply_adds(784, 10) as f64;
        let mut net = config
            .init::<f32>(784, 10, &mut ChaCha8Rng::seed_from_u64(1))
            .unwrap();
        let mut adam = Adam::new(0.001).unwrap();
        let mut step = || {
            net.gradient(&x, Targets::Labels(&t));
            optim::step(&mut net, &mut adam);
        };
        for _ in 0..3 {
            step();
        }
        let start = Instant::now();
        for _ in 0..steps {
            step();
        }
        let seconds = start.elapsed().as_secs_f64() / steps as f64;
        println!(
            "{name:<14} threads {n}: {:6.2} ms/step, {:6.2} s per 600 steps, {:6.1} GFLOP/s",
            seconds * 1e3,
            seconds * 600.0,
            flops / seconds / 1e9
        );
    }
}
