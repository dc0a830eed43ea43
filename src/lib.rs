//! scratchnet's lab: everything around the book's code in [`scratchnet_core`] — fetching the
//! datasets ([`data`]), run folders with checkpoints and resume ([`run`], [`checkpoint`]),
//! the studies ([`experiment`]), charts ([`plot`]), HTML reports ([`report`]), the demos
//! ([`demo`]), evaluation and gradient checks ([`eval`], [`gradcheck`]), progress on the
//! console ([`progress`], [`console`]), Ctrl-C ([`interrupt`]) and the command-line tool ([`cli`]).
//! `main.rs` only calls [`cli::main`].

// The book's names for the book's ideas: `W1`, `dW`, `SoftmaxWithLoss`'s `t`.
#![allow(non_snake_case)]

pub mod checkpoint;
pub mod claim;
pub mod cli;
pub mod console;
pub mod cpu;
pub mod data;
pub mod demo;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod files;
pub mod gradcheck;
pub mod interrupt;
pub mod invocation;
pub mod plot;
pub mod predict;
pub mod progress;
pub mod report;
pub mod run;
#[cfg(feature = "serve")]
pub mod serve;
pub mod threads;

pub use error::{Error, Result};
