//! The lab's integration tests, built as one test binary: each file beside this one is a module
//! of it (`cargo test --release --test integration train_cli::` runs one file's tests). One binary
//! links the lab and instantiates its generic code once, instead of once per file.
//!
//! A file whose tests change something process-wide (a global allocator, the global rayon pool,
//! environment variables, the current directory) would need a binary of its own: none here does;
//! the binaries they run get their environment through `Command::env`.

mod common;

mod architecture;
mod architecture_study_cli;
mod bad_input_cli;
#[cfg(feature = "serve")]
mod browser;
mod charts;
mod checkpoint_trust_cli;
mod cli_fetch;
mod conv_charts;
mod conv_figures_cli;
mod convnet_cli;
mod data_trust_cli;
mod demo_chapter4;
mod demo_optimizers;
mod depth_width_cli;
mod examples;
mod folders_cli;
mod fuzz_corpus;
mod interrupt_cli;
mod limits_cli;
mod mnist_real;
mod multi_layer_net;
mod predict_cli;
#[cfg(feature = "serve")]
mod serve_cli;
mod shard_env;
mod signals_cli;
mod simd_paths;
mod slurm_cluster;
mod study_cli;
mod train_cli;
mod train_tools_cli;
