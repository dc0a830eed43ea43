//! Training: the book's mini-batch loop ([`Trainer`]), its sampler, what it records
//! ([`History`]) and how it talks to the world around it ([`Hooks`]).

pub mod evaluation;
pub mod history;
pub mod hooks;
mod restore;
pub mod sampler;
pub mod trainer;

pub use evaluation::EvalSchedule;
pub use history::{EpochRecord, History};
pub use hooks::{Divergence, Ended, Hooks};
pub use sampler::{MiniBatchSampler, Sampling};
pub use trainer::{GradientMethod, OnNan, Snapshot, TrainConfig, TrainData, TrainState, Trainer};
