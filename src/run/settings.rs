//! A run's settings, as config.json holds them: the network ([`NetworkSpec`]), the optimizer
//! and the training loop's settings.

use crate::data::{DatasetKind, IMAGE_PIXELS, NUM_CLASSES};
use crate::Result;
pub use scratchnet_core::net::spec::{NetworkSpec, MAX_WEIGHTS};
use scratchnet_core::optim::{check_learning_rate, OptimizerKind};
use scratchnet_core::train::TrainConfig;
use serde::{Deserialize, Serialize};

/// Every setting of a run, saved as `config.json`; the defaults are the users' chapter-4 run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// The dataset (MNIST).
    pub dataset: DatasetKind,
    /// The network and its options (TwoLayerNet 784-50-10, sigmoid, σ 0.01).
    #[serde(flatten)]
    pub network: NetworkSpec,
    /// The update rule (SGD).
    pub optimizer: OptimizerKind,
    /// The optimizer's learning rate (0.1).
    pub learning_rate: f64,
    /// The training loop's settings (the book's: 10000 updates of batch 100, seed 0).
    #[serde(flatten)]
    pub train: TrainConfig,
}

impl Default for TrainSettings {
    /// The users' chapter-4 run.
    fn default() -> Self {
        TrainSettings {
            dataset: DatasetKind::Mnist,
            network: NetworkSpec::default(),
            optimizer: OptimizerKind::Sgd,
            learning_rate: 0.1,
            train: TrainConfig::default(),
        }
    }
}

impl TrainSettings {
    /// Checks every setting that can be checked before data is loaded.
    pub fn validate(&self) -> Result<()> {
        // Both datasets have 28×28-pixel images and 10 classes.
        self.network.validate(IMAGE_PIXELS, NUM_CLASSES)?;
        check_learning_rate(self.learning_rate)?;
        check_samples_seen(&self.train)?;
        self.train
            .tools
            .validate(IMAGE_PIXELS, self.learning_rate)?;
        // The training set's size is checked when the data is there.
        Ok(self.train.validate(usize::MAX)?)
    }
}

/// The most training samples a run may see (updates × batch size), unless a time limit ends
/// it: 10^12 samples are weeks of training on any machine, and the trainer's counts of samples
/// seen must not overflow.
pub const MAX_SAMPLES_SEEN: usize = 1_000_000_000_000;

/// Refuses updates × batch size above [`MAX_SAMPLES_SEEN`] (a run with a time limit stops on
/// time, whatever its update count).
fn check_samples_seen(train: &TrainConfig) -> Result<()> {
    let seen = train.iters_num.checked_mul(train.batch_size);
    if train.time_limit_s.is_some() || seen.is_some_and(|n| n <= MAX_SAMPLES_SEEN) {
        return Ok(());
    }
    Err(crate::Error::invalid(
        "updates × batch size",
        format!("{} × {}", train.iters_num, train.batch_size),
        "at most 10^12 samples seen (weeks of training); give fewer --iters",
    ))
}

/// The config.json document: the settings plus what describes the run around them.
#[derive(Serialize)]
pub struct ConfigFile<'a> {
    /// The version of scratchnet that wrote it.
    pub scratchnet_version: &'static str,
    /// Features per input row (784).
    pub input_size: usize,
    /// Classes (10).
    pub output_size: usize,
    /// Weights and biases of the network.
    pub parameters: usize,
    /// Training rows.
    pub train_size: usize,
    /// Test rows.
    pub test_size: usize,
    /// Updates per epoch: train_size / batch_size.
    pub iter_per_epoch: usize,
    /// The run's settings.
    #[serde(flatten)]
    pub settings: &'a TrainSettings,
}

#[cfg(test)]
mod tests {
    use super::*;
    use scratchnet_core::init::WeightInit;
    use scratchnet_core::net::MultiLayerNetConfig;

    #[test]
    fn settings_round_trip_through_json_with_the_network_flattened() {
        let two = TrainSettings::default();
        let json = serde_json::to_value(&two).unwrap();
        assert_eq!(json["network"], "TwoLayerNet");
        assert_eq!(json["hidden_size"], 50);
        assert_eq!(json["activation"], "sigmoid");
        assert_eq!(json["optimizer"], "sgd");
        assert_eq!(serde_json::from_value::<TrainSettings>(json).unwrap(), two);

        let deep = TrainSettings {
            network: NetworkSpec::MultiLayerNet(MultiLayerNetConfig {
                hidden_size_list: vec![100, 100, 100],
                use_batchnorm: true,
                weight_init: WeightInit::Std(0.01),
                ..MultiLayerNetConfig::default()
            }),
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.001,
            ..TrainSettings::default()
        };
        let json = serde_json::to_value(&deep).unwrap();
        assert_eq!(json["network"], "MultiLayerNet");
        assert_eq!(json["hidden_size_list"], serde_json::json!([100, 100, 100]));
        assert_eq!(json["weight_init"], "std:0.01");
        assert_eq!(json["optimizer"], "adam");
        assert_eq!(serde_json::from_value::<TrainSettings>(json).unwrap(), deep);
        assert_eq!(
            deep.network.all_size_list(784, 10),
            vec![784, 100, 100, 100, 10]
        );
    }
}
