//! scratchnet: neural-network training written from scratch, following *Deep Learning from Scratch*.
//!
//! Every module is one idea of the book, named as the book names it:
//! [`functions`] (activations and losses), [`numerical`] (numerical differentiation and gradient
//! descent), [`layers`] (forward beside backward), [`net`] (`SimpleNet`, `TwoLayerNet`,
//! `MultiLayerNet`), [`init`] (`std:σ`, Xavier, He), [`optim`] (SGD, Momentum, Nesterov,
//! AdaGrad, RMSprop, Adam), [`data`] (MNIST), [`train`] (the mini-batch loop), [`checkpoint`], [`plot`] and
//! [`report`]. The command-line tool ([`cli`]) only parses arguments and calls these.

// The book's names for the book's ideas: `W1`, `dW`, `SoftmaxWithLoss`'s `t`.
#![allow(non_snake_case)]

pub mod checkpoint;
pub mod choice;
pub mod cli;
pub mod data;
pub mod demo;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod files;
pub mod float;
pub mod functions;
pub mod gradcheck;
pub mod init;
pub mod interrupt;
pub mod kernels;
pub mod layers;
pub mod net;
pub mod numerical;
pub mod optim;
pub mod plot;
pub mod progress;
pub mod report;
pub mod run;
pub mod threads;
pub mod train;

pub use error::{Error, Result};
pub use float::Float;
