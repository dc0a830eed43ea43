//! Demonstrations that print the book's figures and draw its charts.

pub mod chapter4;
pub mod numpy_fmt;
pub mod optimizers;
