//! The book's `MultiLayerNetExtend`: any number of fully connected hidden layers, each
//! optionally batch-normalized and followed by dropout, with optional weight decay.
//!
//! ```text
//! x (N, input) ─Affine1→ [BatchNorm1] → Activation1 → [Dropout1] ─Affine2→ … ─AffineL→ (N, output)
//!              ─SoftmaxWithLoss→ loss (+ ½·λ·Σ‖Wₗ‖²)
//! ```
//!
//! The layers sit in one list, in this order, and `forward`/`backward` walk it like the book's
//! `OrderedDict`. Parameters are `W1`, `b1`, …, `WL`, `bL`, then `gamma1`, `beta1`, … when
//! batch normalization is on (the book's order).

use super::layer_output::hidden_name;
use super::{LayerOutput, Network, Param, ParamView};
use crate::init::WeightInit;
use crate::kernels::{AsInput, Input};
use crate::layers::dropout::check_dropout_ratio;
use crate::layers::{
    activate_inplace, set_rng_states, Activation, ActivationLayer, Affine, BatchNorm, Dropout,
    SoftmaxWithLoss, Targets,
};
use crate::{Error, Float, Result};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewD, ArrayViewMutD};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A MultiLayerNet's shape and options: the book's `MultiLayerNetExtend` arguments between
/// `input_size` and `output_size`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MultiLayerNetConfig {
    /// Neurons of each hidden layer, input side first (`[100, 100, 100]`).
    pub hidden_size_list: Vec<usize>,
    /// The hidden layers' activation.
    pub activation: Activation,
    /// How initial weights are scaled (the book's `weight_init_std`: a σ, `xavier` or `he`).
    pub weight_init: WeightInit,
    /// L2 weight decay λ: the loss gains `½·λ·Σ W²` and each `dW` gains `λ·W` (0: none).
    pub weight_decay_lambda: f64,
    /// Whether a Dropout layer follows each hidden activation.
    pub use_dropout: bool,
    /// The Dropout layers' ratio (used when `use_dropout`).
    pub dropout_ratio: f64,
    /// Whether a BatchNorm layer sits between each hidden Affine and its activation.
    pub use_batchnorm: bool,
}

impl Default for MultiLayerNetConfig {
    /// Two hidden layers of 100, ReLU with He initialisation, no regularisation.
    fn default() -> Self {
        MultiLayerNetConfig {
            hidden_size_list: vec![100, 100],
            activation: Activation::Relu,
            weight_init: WeightInit::He,
            weight_decay_lambda: 0.0,
            use_dropout: false,
            dropout_ratio: 0.5,
            use_batchnorm: false,
        }
    }
}

impl MultiLayerNetConfig {
    /// Checks every option: at least one hidden layer, sizes ≥ 1, λ ≥ 0, ratio in [0, 1).
    pub fn validate(&self) -> Result<()> {
        if self.hidden_size_list.is_empty() {
            return Err(Error::invalid(
                "hidden_size_list",
                "[]",
                "at least one hidden layer, such as 100,100",
            ));
        }
        if let Some(&zero) = self.hidden_size_list.iter().find(|&&n| n == 0) {
            return Err(Error::invalid("hidden layer size", zero, "at least 1"));
        }
        self.weight_init.validate()?;
        if !(self.weight_decay_lambda.is_finite() && self.weight_decay_lambda >= 0.0) {
            return Err(Error::invalid(
                "weight decay",
                self.weight_decay_lambda,
                "a number ≥ 0 such as 0.1",
            ));
        }
        if self.use_dropout {
            check_dropout_ratio(self.dropout_ratio)?;
        }
        Ok(())
    }
}

/// One layer of the list.
#[derive(Clone)]
enum Layer<F: Float> {
    Affine(Affine<F>),
    BatchNorm(Box<BatchNorm<F>>),
    Activation(ActivationLayer<F>),
    Dropout(Dropout<F>),
}

impl<F: Float> Layer<F> {
    /// The training-mode forward (`train_flg` for BatchNorm and Dropout); x: (N, D_in) → (N, D_out).
    fn forward(&mut self, x: ArrayView2<F>, train_flg: bool) -> ArrayView2<'_, F> {
        match self {
            Layer::Affine(layer) => layer.forward(x),
            Layer::BatchNorm(layer) => layer.forward(x, train_flg),
            Layer::Activation(layer) => layer.forward(x),
            Layer::Dropout(layer) => layer.forward(x, train_flg),
        }
    }

    /// dout: (N, D_out) → dx: (N, D_in), writing the layer's parameter gradients.
    fn backward(&mut self, dout: ArrayView2<F>) -> ArrayView2<'_, F> {
        match self {
            Layer::Affine(layer) => layer.backward(dout),
            Layer::BatchNorm(layer) => layer.backward(dout),
            Layer::Activation(layer) => layer.backward(dout),
            Layer::Dropout(layer) => layer.backward(dout),
        }
    }
}

/// `MultiLayerNet(input_size, hidden_size_list, output_size, …)` with parameters `W1`, `b1`, …
#[derive(Clone)]
pub struct MultiLayerNet<F: Float> {
    layers: Vec<Layer<F>>,
    last_layer: SoftmaxWithLoss<F>,
    config: MultiLayerNetConfig,
    input_size: usize,
    output_size: usize,
    names: Vec<String>,
    buffer_names: Vec<String>,
}

impl<F: Float> MultiLayerNet<F> {
    /// A network input_size → hidden_size_list → output_size: every W drawn from `rng` as
    /// `σ · randn` (W1 first), b = 0, gamma = 1, beta = 0; then one seed per Dropout layer.
    pub fn new(
        input_size: usize,
        output_size: usize,
        config: &MultiLayerNetConfig,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        config.validate()?;
        for (name, size) in [("input_size", input_size), ("output_size", output_size)] {
            if size == 0 {
                return Err(Error::invalid(name, size, "at least 1"));
            }
        }
        let sizes: Vec<usize> = std::iter::once(input_size)
            .chain(config.hidden_size_list.iter().copied())
            .chain([output_size])
            .collect();
        let affines: Vec<Affine<F>> = sizes
            .windows(2)
            .map(|pair| {
                let W = config.weight_init.weights(rng, pair[0], pair[1]);
                Affine::new(W, Array1::zeros(pair[1]))
            })
            .collect();
        let depth = affines.len();
        let mut layers = Vec::new();
        for (idx, mut affine) in affines.into_iter().enumerate() {
            // The input images need no gradient: skip the largest product of backward.
            affine.needs_dx = idx > 0;
            let width = affine.W.ncols();
            layers.push(Layer::Affine(affine));
            if idx + 1 == depth {
                break;
            }
            if config.use_batchnorm {
                layers.push(Layer::BatchNorm(Box::new(BatchNorm::new(width))));
            }
            layers.push(Layer::Activation(ActivationLayer::new(config.activation)));
            if config.use_dropout {
                layers.push(Layer::Dropout(Dropout::new(
                    config.dropout_ratio,
                    rng.random(),
                )?));
            }
        }
        Ok(Self::from_layers(
            layers,
            config.clone(),
            input_size,
            output_size,
        ))
    }

    /// Names each parameter and buffer in the book's order.
    fn from_layers(
        layers: Vec<Layer<F>>,
        config: MultiLayerNetConfig,
        input_size: usize,
        output_size: usize,
    ) -> Self {
        // In layer order: W1, b1, gamma1, beta1, W2, … (the order of params()).
        let (mut names, mut buffer_names) = (Vec::new(), Vec::new());
        let (mut affines, mut norms) = (0, 0);
        for layer in &layers {
            match layer {
                Layer::Affine(_) => {
                    affines += 1;
                    names.extend([format!("W{affines}"), format!("b{affines}")]);
                }
                Layer::BatchNorm(_) => {
                    norms += 1;
                    names.extend([format!("gamma{norms}"), format!("beta{norms}")]);
                    buffer_names.extend([
                        format!("running_mean{norms}"),
                        format!("running_var{norms}"),
                    ]);
                }
                Layer::Activation(_) | Layer::Dropout(_) => {}
            }
        }
        MultiLayerNet {
            layers,
            last_layer: SoftmaxWithLoss::default(),
            config,
            input_size,
            output_size,
            names,
            buffer_names,
        }
    }

    /// The options this network was built with.
    pub fn config(&self) -> &MultiLayerNetConfig {
        &self.config
    }

    /// The book's `all_size_list`: input size, each hidden size, output size.
    pub fn all_size_list(&self) -> Vec<usize> {
        std::iter::once(self.input_size)
            .chain(self.config.hidden_size_list.iter().copied())
            .chain([self.output_size])
            .collect()
    }

    /// Makes every Dropout layer reuse its mask (`true`) or draw a new one per training forward.
    pub fn fix_dropout_masks(&mut self, fixed: bool) {
        for layer in &mut self.layers {
            if let Layer::Dropout(dropout) = layer {
                dropout.fixed_mask = fixed;
            }
        }
    }

    /// The BatchNorm running statistics by name (`running_mean1`, `running_var1`, …), writable
    /// (for loading a checkpoint).
    pub fn buffers_mut(&mut self) -> Vec<(&str, ArrayViewMutD<'_, F>)> {
        let arrays = self.layers.iter_mut().filter_map(|layer| match layer {
            Layer::BatchNorm(bn) => Some([
                bn.running_mean.view_mut().into_dyn(),
                bn.running_var.view_mut().into_dyn(),
            ]),
            _ => None,
        });
        self.buffer_names
            .iter()
            .map(String::as_str)
            .zip(arrays.flatten())
            .collect()
    }

    /// The training forward (batch statistics, which also update the running ones; dropout
    /// masks) on a dense or sparse x: (N, input), and the loss with weight decay.
    fn forward_loss(&mut self, x: &dyn AsInput<F>, t: Targets<F>) -> F {
        let Some((Layer::Affine(first), rest)) = self.layers.split_first_mut() else {
            unreachable!("the first layer is an Affine")
        };
        let mut h = first.forward(x.as_input());
        for layer in rest {
            h = layer.forward(h, true);
        }
        let loss = self.last_layer.forward(h, t);
        loss + self.weight_decay()
    }

    /// The evaluation forward (BatchNorm on its running statistics, Dropout scaling) on a
    /// dense or sparse x: (N, input) → (N, output), showing `seen` each hidden activation's
    /// output (N, width) on the way.
    fn forward_eval(&self, x: Input<F>, mut seen: impl FnMut(&Array2<F>)) -> Array2<F> {
        let Some((Layer::Affine(first), rest)) = self.layers.split_first() else {
            unreachable!("the first layer is an Affine")
        };
        let mut h = Array2::zeros((0, 0));
        first.forward_eval_into(x, &mut h);
        let mut next = Array2::zeros((0, 0));
        for layer in rest {
            match layer {
                Layer::Affine(affine) => {
                    affine.forward_eval_into(h.view(), &mut next);
                    std::mem::swap(&mut h, &mut next);
                }
                Layer::BatchNorm(bn) => bn.forward_eval_inplace(&mut h),
                Layer::Activation(_) => {
                    activate_inplace(self.config.activation, &mut h);
                    seen(&h);
                }
                Layer::Dropout(dropout) => dropout.forward_eval_inplace(&mut h),
            }
        }
        h
    }

    /// What each hidden layer's activation outputs in the evaluation forward of x: (N, input):
    /// one (N, width) array per hidden layer, input side first.
    pub fn hidden_activations(&self, x: ArrayView2<F>) -> Vec<Array2<F>> {
        let mut outputs = Vec::new();
        self.forward_eval(Input::Dense(x), |h| outputs.push(h.clone()));
        outputs
    }

    /// `½·λ·Σ W²` over every Affine layer (0 without weight decay).
    fn weight_decay(&self) -> F {
        let lambda = self.config.weight_decay_lambda;
        if lambda == 0.0 {
            return F::zero();
        }
        let sum: F = self
            .layers
            .iter()
            .filter_map(|layer| match layer {
                Layer::Affine(affine) => Some(affine.W.iter().map(|&w| w * w).sum::<F>()),
                _ => None,
            })
            .sum();
        F::of(0.5 * lambda) * sum
    }
}

impl<F: Float> Network<F> for MultiLayerNet<F> {
    /// The evaluation forward: BatchNorm uses its running statistics, Dropout scales.
    fn predict(&self, x: &dyn AsInput<F>) -> Array2<F> {
        self.forward_eval(x.as_input(), |_| {})
    }

    /// The training forward (batch statistics, which also update the running ones; dropout
    /// masks) and the loss with weight decay.
    /// `hidden k (<activation>)` (N, width) after each hidden activation (before its Dropout's
    /// scaling), then the scores (N, output), from `predict`'s code.
    fn layer_outputs(&self, x: ArrayView2<F>) -> Vec<LayerOutput<F>> {
        let kind = self.config.activation;
        let mut outputs = Vec::new();
        let scores = self.forward_eval(Input::Dense(x), |h| {
            let name = hidden_name(outputs.len() + 1, kind);
            outputs.push(LayerOutput::new(name, h.clone().into_dyn(), Some(kind)));
        });
        outputs.push(LayerOutput::scores(scores.into_dyn()));
        outputs
    }

    fn loss(&mut self, x: &dyn AsInput<F>, t: Targets<F>) -> F {
        self.forward_loss(x, t)
    }

    fn gradient(&mut self, x: &dyn AsInput<F>, t: Targets<F>) -> F {
        let loss = self.forward_loss(x, t);
        let mut dout = self.last_layer.backward(t);
        for layer in self.layers.iter_mut().rev() {
            dout = layer.backward(dout);
        }
        let lambda = F::of(self.config.weight_decay_lambda);
        if lambda != F::zero() {
            for layer in &mut self.layers {
                if let Layer::Affine(affine) = layer {
                    affine.add_weight_decay(lambda);
                }
            }
        }
        loss
    }

    fn params(&self) -> Vec<ParamView<'_, F>> {
        let arrays = self.layers.iter().flat_map(|layer| match layer {
            Layer::Affine(a) => vec![
                (a.W.view().into_dyn(), a.dW.view().into_dyn()),
                (a.b.view().into_dyn(), a.db.view().into_dyn()),
            ],
            Layer::BatchNorm(n) => vec![
                (n.gamma.view().into_dyn(), n.dgamma.view().into_dyn()),
                (n.beta.view().into_dyn(), n.dbeta.view().into_dyn()),
            ],
            Layer::Activation(_) | Layer::Dropout(_) => vec![],
        });
        self.names
            .iter()
            .zip(arrays)
            .map(|(name, (value, grad))| ParamView::new(name, value, grad))
            .collect()
    }

    fn for_each_param_mut<'a>(&'a mut self, f: &mut dyn FnMut(Param<'a, F>)) {
        let mut names = self.names.iter().map(String::as_str);
        let mut name = || names.next().expect("a name for every parameter");
        for layer in &mut self.layers {
            match layer {
                Layer::Affine(a) => Param::of_affine(a, [name(), name()])
                    .into_iter()
                    .for_each(&mut *f),
                Layer::BatchNorm(n) => {
                    f(Param::new(name(), n.gamma.view_mut(), n.dgamma.view()));
                    f(Param::new(name(), n.beta.view_mut(), n.dbeta.view()));
                }
                Layer::Activation(_) | Layer::Dropout(_) => {}
            }
        }
    }

    fn input_size(&self) -> usize {
        self.input_size
    }

    fn output_size(&self) -> usize {
        self.output_size
    }

    fn random_state(&self) -> Vec<(u64, u128)> {
        self.layers
            .iter()
            .filter_map(|layer| match layer {
                Layer::Dropout(d) => Some(d.rng_state()),
                _ => None,
            })
            .collect()
    }

    fn set_random_state(&mut self, state: &[(u64, u128)]) -> std::result::Result<(), String> {
        let dropouts = self.layers.iter_mut().filter_map(|layer| match layer {
            Layer::Dropout(d) => Some(d),
            _ => None,
        });
        set_rng_states(dropouts, state)
    }

    fn buffers(&self) -> Vec<(&str, ArrayViewD<'_, F>)> {
        let arrays = self.layers.iter().filter_map(|layer| match layer {
            Layer::BatchNorm(bn) => Some([
                bn.running_mean.view().into_dyn(),
                bn.running_var.view().into_dyn(),
            ]),
            _ => None,
        });
        self.buffer_names
            .iter()
            .map(String::as_str)
            .zip(arrays.flatten())
            .collect()
    }
}

#[cfg(test)]
mod tests;
