//! A run's settings, as config.json holds them: the network ([`NetworkSpec`]), the optimizer
//! and the training loop's settings.

use crate::data::{catalog, DatasetKind, IMAGE_PIXELS, NUM_CLASSES};
use crate::Result;
pub use scratchnet_core::net::spec::{NetworkSpec, MAX_WEIGHTS};
use scratchnet_core::net::ConvNetConfig;
use scratchnet_core::optim::{check_learning_rate, OptimizerKind};
use scratchnet_core::train::{EvalSchedule, TrainConfig};
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

/// How long a run trains: a number of updates (the book's `iters_num`) or of epochs (the
/// book's `Trainer`: `epochs · iter_per_epoch` updates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// This many updates.
    Iters(usize),
    /// This many epochs of `max(train_size / batch_size, 1)` updates.
    Epochs(usize),
}

/// The settings of a run that default by network, each `None` to take the network's default
/// ([`TrainSettings::new`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Choices {
    /// Updates or epochs.
    pub length: Option<Length>,
    /// Rows per mini-batch.
    pub batch_size: Option<usize>,
    /// The update rule.
    pub optimizer: Option<OptimizerKind>,
    /// The learning rate (default: the optimizer's).
    pub learning_rate: Option<f64>,
    /// The book's `evaluate_sample_num_per_epoch`: accuracy each epoch on the first N training
    /// and test images, then the final weights on the whole test set.
    pub eval_samples: Option<usize>,
}

/// What a network trains with unless told otherwise.
struct Defaults {
    length: Length,
    batch_size: usize,
    optimizer: OptimizerKind,
    eval: EvalSchedule,
}

impl Defaults {
    /// The users' chapter-4 run for the MLPs: 10000 updates of batch 100, SGD, accuracy each
    /// epoch on the whole sets.
    fn of(network: &NetworkSpec) -> Defaults {
        match network {
            NetworkSpec::TwoLayerNet(_) | NetworkSpec::MultiLayerNet(_) => Defaults {
                length: Length::Iters(10_000),
                batch_size: 100,
                optimizer: OptimizerKind::Sgd,
                eval: EvalSchedule::Epochs,
            },
            // ch07/train_convnet.py and ch08/train_deepnet.py: the book's Trainer.
            NetworkSpec::ConvNet(_) => Defaults {
                length: Length::Epochs(20),
                batch_size: 100,
                optimizer: OptimizerKind::Adam,
                eval: EvalSchedule::EpochsSampled {
                    evaluate_sample_num_per_epoch: 1000,
                },
            },
        }
    }
}

/// The names `--net` takes for the book's two conv nets, beside a layer list in text form.
pub const CONV_NET_NAMES: [&str; 2] = ["simple-convnet", "deep-convnet"];

/// The conv net `text` names: `simple-convnet` (chapter 7), `deep-convnet` (chapter 8), or
/// layers in their text form (`conv:30x5,pool:2,fc:100`, He initialisation) — checked against
/// MNIST's 1×28×28 images and 10 classes, each error naming the item at fault.
pub fn conv_net(text: &str) -> Result<ConvNetConfig> {
    let config = match text.trim() {
        "simple-convnet" => ConvNetConfig::simple_convnet(),
        "deep-convnet" => ConvNetConfig::deep_convnet(),
        "" => {
            return Err(crate::Error::invalid(
                "network",
                "''",
                "simple-convnet, deep-convnet, or layers such as conv:30x5,pool:2,fc:100",
            ))
        }
        layers => layers.parse()?,
    };
    config.validate(IMAGE_PIXELS, NUM_CLASSES)?;
    Ok(config)
}

impl TrainSettings {
    /// The settings of a run of `network` on `dataset`: each of `choices` given, the rest the
    /// network's defaults — the users' chapter-4 run for the MLPs, the book's Trainer of
    /// chapters 7–8 for conv nets (20 epochs of batch 100, Adam lr 0.001, accuracy each epoch
    /// on the first 1000 images, the whole test set at the end); the loop's other settings
    /// (seed, sampling, …) as in the users' run.
    pub fn new(dataset: DatasetKind, network: NetworkSpec, choices: &Choices) -> Result<Self> {
        let defaults = Defaults::of(&network);
        let optimizer = choices.optimizer.unwrap_or(defaults.optimizer);
        let batch_size = choices.batch_size.unwrap_or(defaults.batch_size);
        let eval = match choices.eval_samples {
            Some(n) => EvalSchedule::EpochsSampled {
                evaluate_sample_num_per_epoch: n,
            },
            None => defaults.eval,
        };
        let mut settings = TrainSettings {
            dataset,
            network,
            optimizer,
            learning_rate: optimizer.learning_rate_or_default(choices.learning_rate),
            train: TrainConfig {
                batch_size,
                eval,
                ..TrainConfig::default()
            },
        };
        settings.train.iters_num = settings.iters_num(choices.length.unwrap_or(defaults.length))?;
        Ok(settings)
    }

    /// Training rows of the run's dataset: 60000 for both.
    pub fn train_size(&self) -> usize {
        catalog::TRAIN_SIZE
    }

    /// Updates in a run of `length` at this batch size: `epochs · iter_per_epoch`, with the
    /// book's `iter_per_epoch = max(train_size / batch_size, 1)`.
    pub fn iters_num(&self, length: Length) -> Result<usize> {
        let epochs = match length {
            Length::Iters(iters) => return Ok(iters),
            Length::Epochs(0) => {
                return Err(crate::Error::invalid("epochs", 0, "at least 1"));
            }
            Length::Epochs(epochs) => epochs,
        };
        let iter_per_epoch = self.train.iter_per_epoch(self.train_size());
        epochs.checked_mul(iter_per_epoch).ok_or_else(|| {
            crate::Error::invalid(
                "epochs",
                epochs,
                "few enough that the updates can be counted",
            )
        })
    }

    /// Checks every setting that can be checked before data is loaded.
    pub fn validate(&self) -> Result<()> {
        // Both datasets have 28×28-pixel images and 10 classes.
        self.network.validate(IMAGE_PIXELS, NUM_CLASSES)?;
        check_learning_rate(self.learning_rate)?;
        check_samples_seen(&self.train)?;
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
        "at most 10^12 samples seen (weeks of training); give fewer --iters or --epochs",
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
    fn no_choice_gives_the_users_run() {
        let settings = TrainSettings::new(
            DatasetKind::Mnist,
            NetworkSpec::default(),
            &Choices::default(),
        );
        assert_eq!(settings.unwrap(), TrainSettings::default());
    }

    #[test]
    fn epochs_are_iter_per_epoch_updates_each_at_the_batch_size_chosen() {
        let iters = |epochs, batch_size| {
            let choices = Choices {
                length: Some(Length::Epochs(epochs)),
                batch_size,
                ..Choices::default()
            };
            TrainSettings::new(DatasetKind::FashionMnist, NetworkSpec::default(), &choices)
                .map(|s| s.train.iters_num)
        };
        assert_eq!(iters(3, None).unwrap(), 3 * 600);
        // 60000 / 7 = 8571 (the book's integer division), at least 1.
        assert_eq!(iters(2, Some(7)).unwrap(), 2 * 8571);
        assert_eq!(iters(5, Some(60_000)).unwrap(), 5);
        assert_eq!(iters(5, Some(100_000)).unwrap(), 5);
        let zero = iters(0, None).unwrap_err().to_string();
        assert!(
            zero.contains("epochs") && zero.contains("at least 1"),
            "{zero}"
        );
        let huge = iters(usize::MAX, Some(1)).unwrap_err().to_string();
        assert!(huge.contains("epochs"), "{huge}");
        // Updates given as such are taken as they are.
        let choices = Choices {
            length: Some(Length::Iters(17)),
            batch_size: Some(7),
            ..Choices::default()
        };
        let s = TrainSettings::new(DatasetKind::Mnist, NetworkSpec::default(), &choices);
        assert_eq!(s.unwrap().train.iters_num, 17);
    }

    #[test]
    fn an_evaluation_sample_count_is_the_books_trainers() {
        let choices = Choices {
            eval_samples: Some(1000),
            optimizer: Some(OptimizerKind::Adam),
            ..Choices::default()
        };
        let s = TrainSettings::new(DatasetKind::Mnist, NetworkSpec::default(), &choices).unwrap();
        assert_eq!(
            s.train.eval,
            EvalSchedule::EpochsSampled {
                evaluate_sample_num_per_epoch: 1000
            }
        );
        // The optimizer's own default learning rate.
        assert_eq!((s.optimizer, s.learning_rate), (OptimizerKind::Adam, 0.001));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            json["eval"]["epochs-sampled"]["evaluate_sample_num_per_epoch"],
            1000
        );
        assert_eq!(serde_json::from_value::<TrainSettings>(json).unwrap(), s);
        let zero = TrainSettings {
            train: TrainConfig {
                eval: EvalSchedule::EpochsSampled {
                    evaluate_sample_num_per_epoch: 0,
                },
                ..s.train
            },
            ..s
        };
        let refused = zero.validate().unwrap_err().to_string();
        assert!(
            refused.contains("evaluate_sample_num_per_epoch"),
            "{refused}"
        );
    }

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
