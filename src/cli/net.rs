//! The network and learning flags that `train` and the batch-size study share.

use super::value::choice;
use crate::data::DatasetKind;
use crate::run::settings::{conv_net, Choices};
use crate::run::{NetworkSpec, TrainSettings};
use scratchnet_core::init::WeightInit;
use scratchnet_core::layers::Activation;
use scratchnet_core::net::{ConvNetConfig, MultiLayerNetConfig, TwoLayerNetConfig};
use scratchnet_core::optim::OptimizerKind;
use scratchnet_core::train::Sampling;

/// The flags of `train` that describe an MLP, refused beside `--net`.
const MLP_ONLY: [&str; 8] = [
    "hidden_size",
    "hidden",
    "activation",
    "weight_init_std",
    "init",
    "weight_decay",
    "dropout",
    "batchnorm",
];

/// `train --net`: a convolutional network instead of an MLP.
#[derive(clap::Args, Debug, Clone)]
pub(super) struct ConvArgs {
    /// Train a convolutional network: simple-convnet (chapter 7), deep-convnet (chapter 8),
    /// or layers in text form, e.g. conv:30x5,pool:2,fc:100 (items conv:FNxF[sS][pP],
    /// pool:P[sS], fc:N, dropout:R, out; ReLU after each conv and fc; He initialisation).
    /// Trained as the book's Trainer does unless told otherwise: 20 epochs of batch 100, Adam
    /// lr 0.001, accuracy each epoch on the first 1000 images, the whole test set at the end.
    #[arg(
        long,
        value_name = "NET",
        value_parser = parse_conv_net,
        conflicts_with_all = MLP_ONLY
    )]
    pub(super) net: Option<ConvNetConfig>,
}

/// `--net`'s value, by the library's rule.
fn parse_conv_net(text: &str) -> Result<ConvNetConfig, String> {
    conv_net(text).map_err(|e| e.to_string())
}

/// The network and how it learns.
#[derive(clap::Args, Debug, Clone)]
pub(super) struct NetArgs {
    /// Neurons in the hidden layer of the TwoLayerNet.
    #[arg(long, default_value_t = 50, conflicts_with = "hidden")]
    hidden_size: usize,
    /// Train a MultiLayerNet with these hidden layer sizes, comma-separated (100,100,100).
    #[arg(long, value_delimiter = ',', value_name = "SIZES")]
    hidden: Option<Vec<usize>>,
    /// The hidden layers' activation.
    #[arg(long, value_parser = choice::<Activation>(), default_value_t = Activation::Sigmoid)]
    activation: Activation,
    /// Standard deviation of the TwoLayerNet's initial weights (W = std · randn).
    #[arg(
        long,
        default_value_t = 0.01,
        conflicts_with = "hidden",
        allow_negative_numbers = true
    )]
    weight_init_std: f64,
    /// MultiLayerNet weight initialisation: std:σ, xavier or he (default: he for relu,
    /// xavier for sigmoid).
    #[arg(long, value_name = "INIT", requires = "hidden")]
    init: Option<WeightInit>,
    /// MultiLayerNet L2 weight decay λ (loss += ½·λ·ΣW²).
    #[arg(
        long,
        value_name = "LAMBDA",
        requires = "hidden",
        allow_negative_numbers = true
    )]
    weight_decay: Option<f64>,
    /// MultiLayerNet: a Dropout layer of this ratio after each hidden activation.
    #[arg(
        long,
        value_name = "RATIO",
        requires = "hidden",
        allow_negative_numbers = true
    )]
    dropout: Option<f64>,
    /// MultiLayerNet: a BatchNorm layer before each hidden activation.
    #[arg(long, requires = "hidden")]
    batchnorm: bool,
    /// The update rule (default: sgd).
    #[arg(long, value_parser = choice::<OptimizerKind>())]
    optimizer: Option<OptimizerKind>,
    /// The learning rate (default: 0.1 for sgd, the book's defaults for the others:
    /// 0.01, adam 0.001).
    #[arg(long = "lr", alias = "learning-rate", allow_negative_numbers = true)]
    learning_rate: Option<f64>,
    /// How mini-batches are drawn: with replacement (the book's np.random.choice) or shuffled epochs.
    #[arg(long, value_parser = choice::<Sampling>(), default_value_t = Sampling::WithReplacement)]
    sampling: Sampling,
}

impl NetArgs {
    /// These settings on `dataset` with `choices` (the optimizer's and learning rate's
    /// filled in from these flags), the rest the network's defaults.
    pub(super) fn settings(
        &self,
        dataset: DatasetKind,
        choices: Choices,
    ) -> crate::Result<TrainSettings> {
        self.settings_of(dataset, self.network(), choices)
    }

    /// [`NetArgs::settings`] of `network` rather than the MLP these flags describe.
    pub(super) fn settings_of(
        &self,
        dataset: DatasetKind,
        network: NetworkSpec,
        choices: Choices,
    ) -> crate::Result<TrainSettings> {
        let choices = Choices {
            optimizer: self.optimizer,
            learning_rate: self.learning_rate,
            ..choices
        };
        let mut settings = TrainSettings::new(dataset, network, &choices)?;
        settings.train.sampling = self.sampling;
        Ok(settings)
    }

    /// The TwoLayerNet of `--hidden-size`, or with `--hidden` a MultiLayerNet.
    pub(super) fn network(&self) -> NetworkSpec {
        let Some(hidden_size_list) = &self.hidden else {
            return NetworkSpec::TwoLayerNet(TwoLayerNetConfig {
                hidden_size: self.hidden_size,
                activation: self.activation,
                weight_init_std: self.weight_init_std,
            });
        };
        let defaults = MultiLayerNetConfig::default();
        NetworkSpec::MultiLayerNet(MultiLayerNetConfig {
            hidden_size_list: hidden_size_list.clone(),
            activation: self.activation,
            weight_init: WeightInit::or_default_for(self.init, self.activation),
            weight_decay_lambda: self.weight_decay.unwrap_or(0.0),
            use_dropout: self.dropout.is_some(),
            dropout_ratio: self.dropout.unwrap_or(defaults.dropout_ratio),
            use_batchnorm: self.batchnorm,
        })
    }
}
