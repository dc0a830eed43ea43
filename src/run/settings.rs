//! A run's settings, as config.json holds them: the network ([`NetworkSpec`]), the optimizer
//! and the training loop's settings.

use crate::data::idx::NUM_CLASSES;
use crate::init::WeightInit;
use crate::layers::Activation;
use crate::net::MultiLayerNetConfig;
use crate::optim::{check_learning_rate, OptimizerKind};
use crate::report::label;
use crate::train::{EvalSchedule, GradientMethod, OnNan, Sampling, TrainConfig};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which network a run trains, with its shape and options. In config.json its fields sit
/// beside the other settings, tagged by `"network": "TwoLayerNet"` or `"MultiLayerNet"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "network")]
pub enum NetworkSpec {
    /// The book's TwoLayerNet: input → `hidden_size` → output, `W = weight_init_std · randn`.
    TwoLayerNet {
        /// Neurons in the hidden layer (50).
        hidden_size: usize,
        /// The hidden activation (sigmoid).
        activation: Activation,
        /// Standard deviation of the initial weights (0.01).
        weight_init_std: f64,
    },
    /// A MultiLayerNet: input → each of `hidden_size_list` → output, with its options.
    MultiLayerNet(MultiLayerNetConfig),
}

impl Default for NetworkSpec {
    /// The users' chapter-4 network: 50 sigmoid neurons, σ = 0.01.
    fn default() -> Self {
        NetworkSpec::TwoLayerNet {
            hidden_size: 50,
            activation: Activation::Sigmoid,
            weight_init_std: 0.01,
        }
    }
}

/// The most weights a network may have: training keeps about five f32 copies of each.
pub const MAX_WEIGHTS: usize = 100_000_000;

impl NetworkSpec {
    /// The network's type name (`TwoLayerNet` or `MultiLayerNet`).
    pub fn name(&self) -> &'static str {
        match self {
            NetworkSpec::TwoLayerNet { .. } => "TwoLayerNet",
            NetworkSpec::MultiLayerNet(_) => "MultiLayerNet",
        }
    }

    /// Checks the shape and options.
    pub fn validate(&self) -> Result<()> {
        match self {
            NetworkSpec::TwoLayerNet {
                hidden_size,
                weight_init_std,
                ..
            } => {
                if *hidden_size == 0 {
                    return Err(Error::invalid("hidden size", 0, "at least 1"));
                }
                WeightInit::Std(*weight_init_std).validate()
            }
            NetworkSpec::MultiLayerNet(config) => config.validate(),
        }?;
        // Both datasets have 28×28-pixel images and 10 classes.
        let sizes = self.all_size_list(28 * 28, NUM_CLASSES);
        let weights = sizes
            .windows(2)
            .try_fold(0usize, |n, w| n.checked_add(w[0].checked_mul(w[1])?));
        match weights {
            Some(n) if n <= MAX_WEIGHTS => Ok(()),
            _ => Err(Error::invalid(
                "network",
                self.shape(28 * 28, NUM_CLASSES),
                "at most 100,000,000 weights (with gradients and optimizer state, about 2 GB)",
            )),
        }
    }

    /// The layer sizes from input to output: `[input, hidden…, output]`.
    pub fn all_size_list(&self, input_size: usize, output_size: usize) -> Vec<usize> {
        let hidden = match self {
            NetworkSpec::TwoLayerNet { hidden_size, .. } => vec![*hidden_size],
            NetworkSpec::MultiLayerNet(config) => config.hidden_size_list.clone(),
        };
        std::iter::once(input_size)
            .chain(hidden)
            .chain([output_size])
            .collect()
    }

    /// The network's name and layer sizes: `TwoLayerNet 784-50-10`.
    pub fn shape(&self, input_size: usize, output_size: usize) -> String {
        let sizes: Vec<String> = self
            .all_size_list(input_size, output_size)
            .iter()
            .map(usize::to_string)
            .collect();
        format!("{} {}", self.name(), sizes.join("-"))
    }

    /// One line for reports: the shape, then each option
    /// (`TwoLayerNet 784-50-10, activation sigmoid, weight_init_std 0.01`).
    pub fn describe(&self, input_size: usize, output_size: usize) -> String {
        let mut parts = vec![self.shape(input_size, output_size)];
        parts.extend(
            self.option_rows()
                .into_iter()
                .map(|(name, value)| format!("{name} {value}")),
        );
        parts.join(", ")
    }

    /// (name, value) rows describing the options, for the report.
    pub(crate) fn option_rows(&self) -> Vec<(&'static str, String)> {
        match self {
            NetworkSpec::TwoLayerNet {
                activation,
                weight_init_std,
                ..
            } => vec![
                ("activation", label(activation)),
                ("weight_init_std", weight_init_std.to_string()),
            ],
            NetworkSpec::MultiLayerNet(c) => vec![
                ("activation", label(&c.activation)),
                ("weight_init", label(&c.weight_init)),
                ("weight_decay_lambda", c.weight_decay_lambda.to_string()),
                (
                    "use_dropout",
                    if c.use_dropout {
                        format!("true (dropout_ratio {})", c.dropout_ratio)
                    } else {
                        "false".into()
                    },
                ),
                ("use_batchnorm", c.use_batchnorm.to_string()),
            ],
        }
    }
}

/// Every setting of a run, saved as `config.json`; the defaults are the users' chapter-4 run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// The dataset's name (`mnist` or `fashion-mnist`).
    pub dataset: String,
    /// The network and its options (TwoLayerNet 784-50-10, sigmoid, σ 0.01).
    #[serde(flatten)]
    pub network: NetworkSpec,
    /// The update rule (SGD).
    pub optimizer: OptimizerKind,
    /// Number of updates (10000).
    pub iters_num: usize,
    /// Rows per mini-batch (100).
    pub batch_size: usize,
    /// The optimizer's learning rate (0.1).
    pub learning_rate: f64,
    /// How mini-batches are drawn (with replacement, as the book).
    pub sampling: Sampling,
    /// Backpropagation or numerical gradients.
    pub gradient: GradientMethod,
    /// Seed of the weights and of the mini-batch sampler.
    pub seed: u64,
    /// When accuracy is measured (the book's: every epoch, on the whole sets).
    pub eval: EvalSchedule,
    /// Stop once this many seconds of updates have passed, even before `iters_num`.
    pub time_limit_s: Option<f64>,
    /// What a NaN or infinite loss does: stop (keeping what was learned) or continue.
    #[serde(default)]
    pub on_nan: OnNan,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            dataset: "mnist".into(),
            network: NetworkSpec::default(),
            optimizer: OptimizerKind::Sgd,
            iters_num: 10_000,
            batch_size: 100,
            learning_rate: 0.1,
            sampling: Sampling::WithReplacement,
            gradient: GradientMethod::Backprop,
            seed: 0,
            eval: EvalSchedule::Epochs,
            time_limit_s: None,
            on_nan: OnNan::Stop,
        }
    }
}

impl TrainSettings {
    /// Checks every setting that can be checked before data is loaded.
    pub fn validate(&self) -> Result<()> {
        self.network.validate()?;
        check_learning_rate(self.learning_rate)?;
        // The training set's size is checked when the data is there.
        self.config().validate(usize::MAX)
    }

    /// The training loop's part of these settings.
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            iters_num: self.iters_num,
            batch_size: self.batch_size,
            sampling: self.sampling,
            gradient: self.gradient,
            seed: self.seed,
            eval: self.eval,
            time_limit_s: self.time_limit_s,
            on_nan: self.on_nan,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
