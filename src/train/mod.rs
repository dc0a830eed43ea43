//! Training: the book's mini-batch loop ([`Trainer`]), its sampler, and what it records
//! ([`History`]).

pub mod history;
pub mod resume;
pub mod run;
pub mod sampler;
pub mod trainer;

pub use history::{EpochRecord, History};
pub use run::{
    train, train_network, train_network_observed, NetworkSpec, RunSummary, TrainSettings,
};
pub use sampler::{MiniBatchSampler, Sampling};
pub use trainer::{
    EvalSchedule, GradientMethod, OnNan, TrainConfig, TrainData, TrainState, Trainer,
};
