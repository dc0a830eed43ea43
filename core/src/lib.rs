//! *Deep Learning from Scratch* in Rust: the book's functions, numerical gradients, layers,
//! networks, optimizers, the MNIST reader and the mini-batch training loop — and nothing else
//! (no files written, no printing: the `scratchnet` lab around it does that).
//!
//! Every module is one idea of the book, named as the book names it: [`functions`]
//! (activations and losses, ch. 3–4), [`numerical`] (numerical differentiation and gradient
//! descent, ch. 4), [`layers`] (forward beside backward, ch. 5–6), [`net`] (`SimpleNet`,
//! `TwoLayerNet`, `MultiLayerNet`), [`init`] (`std:σ`, Xavier, He), [`optim`] (SGD … Adam,
//! ch. 6), [`data`] (the IDX files of MNIST), [`train`] (the mini-batch loop of
//! `train_neuralnet.py`). [`kernels`] holds the fast products the layers call, each beside a
//! plain reference version.
//!
//! The chapter-4 run, on a small random problem (MNIST works the same way: see
//! `examples/chapter4.rs`):
//!
//! ```
//! use scratchnet_core::prelude::*;
//!
//! let mut rng = ChaCha8Rng::seed_from_u64(0);
//! let x: Array2<f32> = randn(&mut rng, 200, 4, 1.0);
//! let t: Vec<usize> = x.rows().into_iter().map(|r| usize::from(r[0] > 0.0)).collect();
//! let net = TwoLayerNetConfig { hidden_size: 8, ..TwoLayerNetConfig::default() }
//!     .init(4, 2, &mut rng)
//!     .unwrap();
//! let data = TrainData { x_train: x.view().into(), t_train: &t, x_test: x.view().into(), t_test: &t };
//! let config = TrainConfig { iters_num: 500, batch_size: 20, ..TrainConfig::default() };
//! let mut trainer = Trainer::new(net, Box::new(Sgd::new(1.0).unwrap()), data, config).unwrap();
//! assert_eq!(trainer.train(&mut ()), Ended::Finished);
//! assert!(trainer.history().final_test_acc > 0.9);
//! for p in trainer.net().params() {
//!     println!("{}: {:?}", p.name, p.value.shape()); // W1: [4, 8], b1: [8], W2: [8, 2], b2: [2]
//! }
//! ```

// The book's names for the book's ideas: `W1`, `dW`, `SoftmaxWithLoss`'s `t`.
#![allow(non_snake_case)]

pub mod choice;
pub mod data;
pub mod error;
pub mod float;
pub mod functions;
pub mod init;
pub mod kernels;
pub mod layers;
pub mod net;
pub mod numerical;
pub mod optim;
pub mod train;

pub use error::{Error, Result};
pub use float::Float;

/// What a program training a network needs, in one `use`.
pub mod prelude {
    pub use crate::data::{Dataset, DatasetKind};
    pub use crate::functions::{cross_entropy_error, sigmoid, softmax};
    pub use crate::init::{randn, WeightInit};
    pub use crate::layers::{Activation, Targets};
    pub use crate::net::{
        ConvLayer, ConvNet, ConvNetConfig, MultiLayerNet, MultiLayerNetConfig, Network,
        TwoLayerNet, TwoLayerNetConfig,
    };
    pub use crate::optim::{Adam, Optimizer, OptimizerKind, Sgd};
    pub use crate::train::{Ended, EpochRecord, History, Hooks, TrainConfig, TrainData, Trainer};
    pub use crate::{Error, Float, Result};
    pub use ndarray::{Array2, ArrayView2};
    pub use rand::SeedableRng;
    pub use rand_chacha::ChaCha8Rng;
}
