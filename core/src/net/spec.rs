//! Which network a run trains, as a value: built from the dataset's sizes and a seed, saved in
//! a run's config.json.

use crate::init::WeightInit;
use crate::net::ConvLayer;
use crate::net::{ConvNetConfig, MultiLayerNetConfig, TwoLayerNetConfig};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which network, with its shape and options. In JSON its fields sit beside the other
/// settings, tagged by `"network": "TwoLayerNet"`, `"MultiLayerNet"` or `"ConvNet"` (a
/// ConvNet's layers in their text form: `"layers": "conv:30x5,pool:2,fc:100"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "network")]
pub enum NetworkSpec {
    /// The book's TwoLayerNet: input → `hidden_size` → output, `W = weight_init_std · randn`.
    TwoLayerNet(TwoLayerNetConfig),
    /// A MultiLayerNet: input → each of `hidden_size_list` → output, with its options.
    MultiLayerNet(MultiLayerNetConfig),
    /// A convolutional network (chapters 7–8): SimpleConvNet, DeepConvNet or another stack.
    ConvNet(ConvNetConfig),
}

impl Default for NetworkSpec {
    /// The users' chapter-4 network: 50 sigmoid neurons, σ = 0.01.
    fn default() -> Self {
        NetworkSpec::TwoLayerNet(TwoLayerNetConfig::default())
    }
}

/// The most weights a network may have: training keeps about five f32 copies of each.
pub const MAX_WEIGHTS: usize = 100_000_000;

/// The most hidden layers a network may have: each is its own product and activation, and
/// without residual connections a network past a few dozen layers does not learn (chapter 6);
/// a longer list is a slip, and would build a network of millions of tiny layers.
pub const MAX_HIDDEN_LAYERS: usize = 1000;

/// The most layer sizes an error message quotes: past it the shape is shortened.
const QUOTED_SIZES: usize = 10;

impl NetworkSpec {
    /// The network's type name (`TwoLayerNet`, `MultiLayerNet`, `SimpleConvNet` or
    /// `DeepConvNet` for the book's two conv nets, `ConvNet` for another).
    pub fn name(&self) -> &'static str {
        match self {
            NetworkSpec::TwoLayerNet(_) => "TwoLayerNet",
            NetworkSpec::MultiLayerNet(_) => "MultiLayerNet",
            NetworkSpec::ConvNet(c) => c.name(),
        }
    }

    /// Checks the shape and options for `input_size` → `output_size`.
    pub fn validate(&self, input_size: usize, output_size: usize) -> Result<()> {
        match self {
            NetworkSpec::TwoLayerNet(c) => {
                if c.hidden_size == 0 {
                    return Err(Error::invalid("hidden size", 0, "at least 1"));
                }
                WeightInit::Std(c.weight_init_std).validate()
            }
            NetworkSpec::MultiLayerNet(config) => config.validate(),
            NetworkSpec::ConvNet(config) => return config.validate(input_size, output_size),
        }?;
        let sizes = self.all_size_list(input_size, output_size);
        if sizes.len() - 2 > MAX_HIDDEN_LAYERS {
            return Err(Error::invalid(
                "number of hidden layers",
                sizes.len() - 2,
                "at most 1000 hidden layers",
            ));
        }
        let weights = sizes
            .windows(2)
            .try_fold(0usize, |n, w| n.checked_add(w[0].checked_mul(w[1])?));
        match weights {
            Some(n) if n <= MAX_WEIGHTS => Ok(()),
            _ => Err(Error::invalid(
                "network",
                self.short_shape(input_size, output_size),
                "at most 100,000,000 weights (with gradients and optimizer state, about 2 GB)",
            )),
        }
    }

    /// The layer sizes from input to output: `[input, hidden…, output]` (a ConvNet's: the
    /// values per sample after each conv, pool and fc).
    pub fn all_size_list(&self, input_size: usize, output_size: usize) -> Vec<usize> {
        let hidden = match self {
            NetworkSpec::TwoLayerNet(c) => vec![c.hidden_size],
            NetworkSpec::MultiLayerNet(c) => c.hidden_size_list.clone(),
            NetworkSpec::ConvNet(c) => c
                .stages(output_size)
                .unwrap_or_default()
                .iter()
                .filter(|s| !matches!(s.layer, ConvLayer::Dropout { .. } | ConvLayer::Output))
                .map(|s| s.output.len())
                .collect(),
        };
        std::iter::once(input_size)
            .chain(hidden)
            .chain([output_size])
            .collect()
    }

    /// The number of weights and biases (BatchNorm's γ and β included).
    pub fn parameter_count(&self, input_size: usize, output_size: usize) -> usize {
        if let NetworkSpec::ConvNet(c) = self {
            return c.parameter_count(output_size);
        }
        let sizes = self.all_size_list(input_size, output_size);
        let affine: usize = sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
        let norm: usize = match self {
            NetworkSpec::MultiLayerNet(c) if c.use_batchnorm => {
                2 * c.hidden_size_list.iter().sum::<usize>()
            }
            _ => 0,
        };
        affine + norm
    }

    /// Multiply-adds of one sample's forward pass: the affine layers' in·out, a conv's
    /// FN·C·FH·FW·OH·OW (SimpleConvNet about 0.87 M, DeepConvNet 8.8 M, TwoLayerNet 784-50-10
    /// 39,700).
    pub fn multiply_adds(&self, input_size: usize, output_size: usize) -> usize {
        if let NetworkSpec::ConvNet(c) = self {
            return c.multiply_adds(output_size);
        }
        let sizes = self.all_size_list(input_size, output_size);
        sizes.windows(2).map(|w| w[0] * w[1]).sum()
    }

    /// The network's name and layer sizes: `TwoLayerNet 784-50-10`; a ConvNet's input shape,
    /// layers in their text form and classes: `SimpleConvNet 1x28x28 conv:30x5,pool:2,fc:100 → 10`.
    pub fn shape(&self, input_size: usize, output_size: usize) -> String {
        if let NetworkSpec::ConvNet(c) = self {
            let [ch, h, w] = c.input_shape;
            return format!("{} {ch}x{h}x{w} {c} → {output_size}", c.name());
        }
        let sizes: Vec<String> = self
            .all_size_list(input_size, output_size)
            .iter()
            .map(usize::to_string)
            .collect();
        format!("{} {}", self.name(), sizes.join("-"))
    }

    /// [`Self::shape`] for an error message: a long list of sizes keeps its ends and its length
    /// (`MultiLayerNet 784-50-50-50-…-50-10, 1000 hidden layers`).
    fn short_shape(&self, input_size: usize, output_size: usize) -> String {
        let sizes = self.all_size_list(input_size, output_size);
        if sizes.len() <= QUOTED_SIZES || matches!(self, NetworkSpec::ConvNet(_)) {
            return self.shape(input_size, output_size);
        }
        let join = |s: &[usize]| s.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
        let (head, tail) = (&sizes[..4], &sizes[sizes.len() - 2..]);
        format!(
            "{} {}-…-{}, {} hidden layers",
            self.name(),
            join(head),
            join(tail),
            sizes.len() - 2
        )
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

    /// (name, value) rows describing the options, for reports.
    pub fn option_rows(&self) -> Vec<(&'static str, String)> {
        match self {
            NetworkSpec::TwoLayerNet(c) => vec![
                ("activation", c.activation.to_string()),
                ("weight_init_std", c.weight_init_std.to_string()),
            ],
            NetworkSpec::MultiLayerNet(c) => vec![
                ("activation", c.activation.to_string()),
                ("weight_init", c.weight_init.to_string()),
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
            NetworkSpec::ConvNet(c) => vec![("weight_init", c.weight_init.to_string())],
        }
    }
}
