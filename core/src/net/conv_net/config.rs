//! A ConvNet's shape as a value: the input (C, H, W), a list of layers, the weight scale; the
//! book's two networks as presets; the sizes every layer sees, checked before anything is built.

use super::text::{self, ConvLayer};
use crate::init::WeightInit;
use crate::kernels::im2col::Window;
use crate::layers::dropout::check_dropout_ratio;
use crate::net::spec::MAX_WEIGHTS;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a layer's output is, per sample: feature maps (C, H, W), or a vector once flattened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// C channels of H × W.
    Maps(usize, usize, usize),
    /// A vector of this length.
    Flat(usize),
}

impl Shape {
    /// Values per sample.
    pub fn len(self) -> usize {
        match self {
            Shape::Maps(c, h, w) => c * h * w,
            Shape::Flat(n) => n,
        }
    }

    /// Whether a sample has no values.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// A layer of the network as built: the list's item (the final `Output` always present),
/// its name (`conv1`, `pool1`, `fc1`, `dropout1`, `out`), and the shapes in and out.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// The item.
    pub layer: ConvLayer,
    /// `conv2`, `pool1`, …: the kind and its number among that kind.
    pub name: String,
    /// Per-sample input.
    pub input: Shape,
    /// Per-sample output.
    pub output: Shape,
}

impl Stage {
    /// (weights, fan_in, multiply-adds per sample) of a Conv or Affine stage; None otherwise.
    pub fn weights(&self) -> Option<(usize, usize, usize)> {
        match (self.layer, self.output) {
            (ConvLayer::Conv { size, .. }, Shape::Maps(filters, oh, ow)) => {
                let fan_in = channels(self.input) * size * size;
                Some((filters * fan_in, fan_in, filters * fan_in * oh * ow))
            }
            (ConvLayer::Affine { .. } | ConvLayer::Output, out) => {
                let (n, size) = (self.input.len(), out.len());
                Some((n * size, n, n * size))
            }
            _ => None,
        }
    }
}

fn channels(shape: Shape) -> usize {
    match shape {
        Shape::Maps(c, ..) => c,
        Shape::Flat(n) => n,
    }
}

/// A convolutional network's shape: input (C, H, W), the layers, how weights are drawn.
/// In config.json beside `"network": "ConvNet"`: `"input_shape": [1, 28, 28]`,
/// `"layers": "conv:30x5,pool:2,fc:100"`, `"weight_init": "std:0.01"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConvNetConfig {
    /// (C, H, W) of one input image; the input rows hold C·H·W values in that order.
    #[serde(default = "mnist_shape")]
    pub input_shape: [usize; 3],
    /// The layers, input side first (ReLU after each conv and fc implied).
    #[serde(with = "text::serde_layers")]
    pub layers: Vec<ConvLayer>,
    /// σ of every W (`std:0.01`, or `he`: √(2 / fan_in), fan_in = C·FH·FW for a conv).
    pub weight_init: WeightInit,
}

fn mnist_shape() -> [usize; 3] {
    [1, 28, 28]
}

/// A conv item with stride 1 and `pad`.
fn conv(filters: usize, size: usize, pad: usize) -> ConvLayer {
    ConvLayer::Conv {
        filters,
        size,
        stride: 1,
        pad,
    }
}

/// The book's 2 × 2 pooling, stride 2.
const POOL2: ConvLayer = ConvLayer::Pool { size: 2, stride: 2 };

impl ConvNetConfig {
    /// The book's SimpleConvNet (ch07/simple_convnet.py): conv 30 × 5×5 → ReLU → pool 2×2 →
    /// Affine 100 → ReLU → Affine 10, weights `0.01 · randn`.
    pub fn simple_convnet() -> Self {
        ConvNetConfig {
            input_shape: mnist_shape(),
            layers: vec![conv(30, 5, 0), POOL2, ConvLayer::Affine { size: 100 }],
            weight_init: WeightInit::Std(0.01),
        }
    }

    /// The book's DeepConvNet (ch08/deep_convnet.py): six 3×3 convs (16, 16, 32, 32, 64, 64;
    /// pads 1, 1, 1, 2, 1, 1), a 2×2 pool after each pair, Affine 50, ReLU, Dropout 0.5,
    /// Affine 10, Dropout 0.5; He initialisation.
    pub fn deep_convnet() -> Self {
        let dropout = ConvLayer::Dropout { ratio: 0.5 };
        ConvNetConfig {
            input_shape: mnist_shape(),
            layers: vec![
                conv(16, 3, 1),
                conv(16, 3, 1),
                POOL2,
                conv(32, 3, 1),
                conv(32, 3, 2),
                POOL2,
                conv(64, 3, 1),
                conv(64, 3, 1),
                POOL2,
                ConvLayer::Affine { size: 50 },
                dropout,
                ConvLayer::Output,
                dropout,
            ],
            weight_init: WeightInit::He,
        }
    }

    /// `SimpleConvNet` or `DeepConvNet` when this is one of the book's presets, else `ConvNet`.
    pub fn name(&self) -> &'static str {
        if *self == Self::simple_convnet() {
            "SimpleConvNet"
        } else if *self == Self::deep_convnet() {
            "DeepConvNet"
        } else {
            "ConvNet"
        }
    }

    /// Values per input row: C·H·W.
    pub fn input_size(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Every layer as built for `classes` classes (the final `out` added when the list does
    /// not name it), with the shapes it sees; fails naming the layer when an option is
    /// invalid, a conv or pool follows an fc, or a window does not fit its input.
    pub fn stages(&self, classes: usize) -> Result<Vec<Stage>> {
        let [c, h, w] = self.input_shape;
        if c == 0 || h == 0 || w == 0 {
            return Err(Error::invalid(
                "input shape",
                format!("{c}x{h}x{w}"),
                "channels, height and width of at least 1, such as 1x28x28",
            ));
        }
        self.weight_init.validate()?;
        let mut items = self.layers.clone();
        if !items.contains(&ConvLayer::Output) {
            items.push(ConvLayer::Output);
        }
        let mut counts = [0usize; 4];
        let (mut shape, mut seen_output) = (Shape::Maps(c, h, w), false);
        let mut stages = Vec::with_capacity(items.len());
        for layer in items {
            let (kind, slot) = match layer {
                ConvLayer::Conv { .. } => ("conv", 0),
                ConvLayer::Pool { .. } => ("pool", 1),
                ConvLayer::Affine { .. } => ("fc", 2),
                ConvLayer::Dropout { .. } => ("dropout", 3),
                ConvLayer::Output => ("out", 4),
            };
            let name = match slot {
                4 => "out".to_string(),
                _ => {
                    counts[slot] += 1;
                    format!("{kind}{}", counts[slot])
                }
            };
            if seen_output && layer != ConvLayer::Output && slot != 3 {
                return Err(Error::invalid(
                    "layer",
                    format!("{name} ({})", layer),
                    "only dropout after out (the affine layer to the classes)",
                ));
            }
            if layer == ConvLayer::Output {
                if seen_output {
                    return Err(Error::invalid("layer", "out", "out at most once"));
                }
                seen_output = true;
            }
            let output = match layer {
                ConvLayer::Output => Shape::Flat(classes),
                _ => next_shape(&layer, &name, shape)?,
            };
            stages.push(Stage {
                layer,
                name,
                input: shape,
                output,
            });
            shape = output;
        }
        Ok(stages)
    }

    /// Checks the options and sizes for `input_size` → `classes`: the input must hold C·H·W
    /// values, every window must fit, the weights must number at most [`MAX_WEIGHTS`].
    pub fn validate(&self, input_size: usize, classes: usize) -> Result<()> {
        let stages = self.stages(classes)?;
        if input_size != self.input_size() {
            let [c, h, w] = self.input_shape;
            return Err(Error::invalid(
                "input size",
                format!(
                    "{input_size} for a ConvNet taking {c}x{h}x{w} = {} values",
                    c * h * w
                ),
                "input rows of C·H·W values (MNIST: 1x28x28 = 784)",
            ));
        }
        if classes == 0 {
            return Err(Error::invalid("output_size", classes, "at least 1"));
        }
        let weights = stages.iter().try_fold(0usize, |sum, stage| {
            sum.checked_add(stage.weights().map_or(0, |(w, ..)| w))
        });
        match weights {
            Some(n) if n <= MAX_WEIGHTS => Ok(()),
            _ => Err(Error::invalid(
                "network",
                format!("ConvNet {self}"),
                "at most 100,000,000 weights (with gradients and optimizer state, about 2 GB)",
            )),
        }
    }

    /// Weights and biases of a network for `classes` classes (0 when the shapes do not fit).
    pub fn parameter_count(&self, classes: usize) -> usize {
        let stages = self.stages(classes).unwrap_or_default();
        stages
            .iter()
            .filter_map(|s| s.weights().map(|(w, ..)| w + channels(s.output)))
            .sum()
    }

    /// Multiply-adds of one sample's forward pass (convolutions and affine layers).
    pub fn multiply_adds(&self, classes: usize) -> usize {
        let stages = self.stages(classes).unwrap_or_default();
        stages
            .iter()
            .filter_map(|s| s.weights().map(|(.., m)| m))
            .sum()
    }
}

/// The shape `layer` (named `name`) makes of `input`, or why it cannot.
fn next_shape(layer: &ConvLayer, name: &str, input: Shape) -> Result<Shape> {
    let described = || format!("{name} ({})", layer);
    let positive = |value: usize, what: &'static str| {
        if value == 0 {
            return Err(Error::invalid(
                what,
                format!("0 in {}", described()),
                "at least 1",
            ));
        }
        Ok(())
    };
    let window = |size: usize, stride: usize, pad: usize| -> Result<Shape> {
        let Shape::Maps(c, h, w) = input else {
            return Err(Error::invalid(
                "layer",
                format!("{} after an fc layer", described()),
                "conv and pool layers before the first fc (fc flattens the maps)",
            ));
        };
        let geometry = Window {
            filter_h: size,
            filter_w: size,
            stride,
            pad,
        };
        let Some((oh, ow)) = geometry.output_size(h, w) else {
            return Err(Error::invalid(
                "layer",
                format!(
                    "{}: a {size}x{size} window with pad {pad} on a {h}x{w} input leaves no output",
                    described()
                ),
                "windows that fit their input (1 + (H + 2·pad − size) / stride ≥ 1)",
            ));
        };
        Ok(Shape::Maps(c, oh, ow))
    };
    match *layer {
        ConvLayer::Conv {
            filters,
            size,
            stride,
            pad,
        } => {
            positive(filters, "number of filters")?;
            positive(size, "filter size")?;
            positive(stride, "stride")?;
            match window(size, stride, pad)? {
                Shape::Maps(_, oh, ow) => Ok(Shape::Maps(filters, oh, ow)),
                flat => Ok(flat),
            }
        }
        ConvLayer::Pool { size, stride } => {
            positive(size, "pool size")?;
            positive(stride, "stride")?;
            window(size, stride, 0)
        }
        ConvLayer::Affine { size } => {
            positive(size, "fc size")?;
            Ok(Shape::Flat(size))
        }
        ConvLayer::Dropout { ratio } => {
            check_dropout_ratio(ratio)?;
            Ok(input)
        }
        ConvLayer::Output => unreachable!("out's shape is the classes"),
    }
}

impl fmt::Display for ConvNetConfig {
    /// The layers' text form (`conv:30x5,pool:2,fc:100`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text::layers_text(&self.layers))
    }
}

impl FromStr for ConvNetConfig {
    type Err = Error;

    /// Layers from their text, on MNIST's 1×28×28 input, He initialisation (ReLU's).
    fn from_str(s: &str) -> Result<Self> {
        Ok(ConvNetConfig {
            input_shape: [1, 28, 28],
            layers: text::parse_layers(s)?,
            weight_init: WeightInit::He,
        })
    }
}
