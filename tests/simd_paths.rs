//! The same seed trains the same weights, bit for bit, on every instruction set the kernels
//! have (AVX-512, AVX2, plain x86-64: forced with `SCRATCHNET_SIMD`) and on one thread or two,
//! on a network whose products are large enough to take the packed dense route (issue 13,
//! "Same results on every machine").

use crate::common;

use scratchnet::data::{self, DatasetKind, FetchOptions};
use scratchnet::progress::Silent;
use scratchnet_core::kernels::dense::SMALL_PRODUCT;
use scratchnet_core::kernels::packed::PARALLEL_PRODUCT;
use scratchnet_core::kernels::{density, Samples, SPARSE_MAX_DENSITY};
use std::path::Path;
use std::process::Child;

/// Fashion-MNIST through a 128-wide ReLU layer, batch 100: products of 100·784·128 multiply-adds
/// forward and backward (xᵀ·dout), above the threshold where they are split over threads, and
/// 10000·784·128 in evaluation (which takes most of the run's time, above all on the plain level,
/// where each fused multiply-add is a call to libm's `fmaf`: hence one narrow layer and few
/// iterations).
const NETWORK: [&str; 12] = [
    "--quiet",
    "train",
    "--dataset",
    "fashion-mnist",
    "--hidden",
    "128",
    "--activation",
    "relu",
    "--optimizer",
    "adam",
    "--iters",
    "10",
];

/// The levels of `SCRATCHNET_SIMD` this CPU can run, and those it cannot (with why).
fn levels() -> (Vec<&'static str>, Vec<String>) {
    let mut run = vec!["plain"];
    let mut skipped = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = std::arch::is_x86_feature_detected!("avx2");
        let avx512 = std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl");
        for (level, has) in [("avx2", avx2), ("avx512", avx512)] {
            if has {
                run.push(level);
            } else {
                skipped.push(format!("{level} (this CPU lacks it)"));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    skipped.push("avx2, avx512 (not an x86-64 CPU)".to_string());
    (run, skipped)
}

/// Starts `train` into `out` with the level `simd` (None: the CPU's own) and `threads`.
fn start(out: &Path, simd: Option<&str>, threads: &str) -> Child {
    let mut args = NETWORK.to_vec();
    args.extend(["--threads", threads, "--out", out.to_str().unwrap()]);
    let mut command = common::command(&args);
    command.stdout(std::process::Stdio::null());
    command.stderr(std::process::Stdio::piped());
    if let Some(level) = simd {
        command.env("SCRATCHNET_SIMD", level);
    }
    command.spawn().expect("the scratchnet binary starts")
}

#[test]
fn every_simd_level_and_thread_count_trains_the_same_weights_on_large_products() {
    // The dense packed route: products above SMALL_PRODUCT (the largest split over threads),
    // on inputs too dense for the sparse route.
    const { assert!(100 * 784 * 128 > SMALL_PRODUCT && 100 * 784 * 128 >= 2 * PARALLEL_PRODUCT) };
    let fashion = data::load(DatasetKind::FashionMnist, &FetchOptions::default(), &Silent)
        .expect("Fashion-MNIST can be fetched and loaded");
    let Samples::Dense(x_train) = &fashion.x_train else {
        panic!("Fashion-MNIST is kept as its nonzero pixels: sparse route")
    };
    let share = density(x_train.view());
    assert!(
        share > SPARSE_MAX_DENSITY,
        "Fashion-MNIST is {share} nonzero: sparse route"
    );

    let (levels, skipped) = levels();
    eprintln!("SCRATCHNET_SIMD levels run: native, {levels:?}; skipped: {skipped:?}");
    let dir = tempfile::tempdir().unwrap();
    // The CPU's own level on one thread, then every level forced, on two.
    let mut runs = vec![(None, "1")];
    runs.extend(levels.iter().map(|&level| (Some(level), "2")));
    // All at once: each spends much of its time loading and writing.
    let children: Vec<_> = runs
        .iter()
        .map(|&(simd, threads)| {
            let out = dir
                .path()
                .join(format!("{}-{threads}", simd.unwrap_or("native")));
            let child = start(&out, simd, threads);
            (out, child)
        })
        .collect();
    let models: Vec<_> = children
        .into_iter()
        .zip(&runs)
        .map(|((out, child), run)| {
            let done = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&done.stderr);
            assert!(done.status.success(), "{run:?} failed:\n{stderr}");
            (run, std::fs::read(out.join("model.safetensors")).unwrap())
        })
        .collect();
    let (first, reference) = &models[0];
    for (run, model) in &models[1..] {
        assert!(
            model == reference,
            "(SCRATCHNET_SIMD, --threads) {run:?} trained other weights than {first:?}"
        );
    }
}
