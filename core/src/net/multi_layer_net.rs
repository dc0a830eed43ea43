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

use super::{Network, Param, ParamView};
use crate::init::WeightInit;
use crate::kernels::{AsInput, Input};
use crate::layers::dropout::check_dropout_ratio;
use crate::layers::{
    activate_inplace, Activation, ActivationLayer, Affine, BatchNorm, Dropout, SoftmaxWithLoss,
    Targets,
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
        let mut dropouts: Vec<&mut Dropout<F>> = self
            .layers
            .iter_mut()
            .filter_map(|layer| match layer {
                Layer::Dropout(d) => Some(d),
                _ => None,
            })
            .collect();
        if dropouts.len() != state.len() {
            return Err(format!(
                "{} random-number positions for {} Dropout layers",
                state.len(),
                dropouts.len()
            ));
        }
        for (d, &s) in dropouts.iter_mut().zip(state) {
            d.set_rng_state(s);
        }
        Ok(())
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
mod tests {
    use super::*;
    use crate::init::randn;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A 7-10-8-6-3 net (three hidden layers) and a batch of 5. The layers are wide enough that
    /// no sample has every ReLU of a layer off: its next pre-activation would be exactly b = 0,
    /// on ReLU's kink, where the numerical derivative is half the slope.
    fn setup(config: MultiLayerNetConfig) -> (MultiLayerNet<f64>, Array2<f64>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let net = MultiLayerNet::new(7, 3, &config, &mut rng).unwrap();
        let x = randn(&mut rng, 5, 7, 1.0);
        (net, x, vec![0, 2, 1, 2, 1])
    }

    fn config(activation: Activation) -> MultiLayerNetConfig {
        MultiLayerNetConfig {
            hidden_size_list: vec![10, 8, 6],
            activation,
            weight_init: WeightInit::Std(0.5),
            ..MultiLayerNetConfig::default()
        }
    }

    /// Backprop against `numerical_gradient`, mean |diff| per parameter ≤ 1e-7 (f64).
    fn assert_gradients_agree(mut net: MultiLayerNet<f64>, x: &Array2<f64>, t: &[usize]) {
        let t = Targets::Labels(t);
        let numerical = net.numerical_gradient(&x, t);
        net.gradient(&x, t);
        let params = net.params();
        assert_eq!(numerical.len(), params.len());
        for (p, num) in params.iter().zip(&numerical) {
            let diff = (&p.grad - num).mapv(f64::abs).mean().unwrap();
            assert!(diff <= 1e-7, "{}: mean |diff| {diff:e}", p.name);
        }
        assert!(
            numerical[0].iter().any(|v| v.abs() > 1e-4),
            "dW1 is all zero"
        );
    }

    #[test]
    fn backprop_matches_numerical_gradient_for_each_activation() {
        for activation in [Activation::Sigmoid, Activation::Relu] {
            let (net, x, t) = setup(config(activation));
            assert_gradients_agree(net, &x, &t);
        }
    }

    #[test]
    fn backprop_matches_numerical_gradient_with_batchnorm() {
        let (net, x, t) = setup(MultiLayerNetConfig {
            use_batchnorm: true,
            ..config(Activation::Relu)
        });
        let names: Vec<&str> = net.params().iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3", "gamma3",
                "beta3", "W4", "b4"
            ]
        );
        assert_gradients_agree(net, &x, &t);
    }

    #[test]
    fn backprop_matches_numerical_gradient_with_dropout_and_a_fixed_mask() {
        let (mut net, x, t) = setup(MultiLayerNetConfig {
            use_dropout: true,
            dropout_ratio: 0.3,
            ..config(Activation::Relu)
        });
        net.fix_dropout_masks(true);
        net.loss(&x, Targets::Labels(&t)); // draws the masks, kept from now on
        assert_gradients_agree(net, &x, &t);
    }

    #[test]
    fn backprop_matches_numerical_gradient_with_weight_decay() {
        let (net, x, t) = setup(MultiLayerNetConfig {
            weight_decay_lambda: 0.1,
            ..config(Activation::Relu)
        });
        assert_gradients_agree(net, &x, &t);
    }

    #[test]
    fn backprop_matches_numerical_gradient_with_everything_on() {
        let (mut net, x, t) = setup(MultiLayerNetConfig {
            weight_decay_lambda: 0.05,
            use_dropout: true,
            dropout_ratio: 0.2,
            use_batchnorm: true,
            ..config(Activation::Sigmoid)
        });
        net.fix_dropout_masks(true);
        net.loss(&x, Targets::Labels(&t));
        assert_gradients_agree(net, &x, &t);
    }

    #[test]
    fn weight_decay_adds_half_lambda_times_the_squared_weights() {
        let (mut plain, x, t) = setup(config(Activation::Relu));
        let (mut decayed, _, _) = setup(MultiLayerNetConfig {
            weight_decay_lambda: 0.1,
            ..config(Activation::Relu)
        });
        let squares: f64 = plain
            .params()
            .iter()
            .filter(|p| p.name.starts_with('W'))
            .map(|p| p.value.mapv(|w| w * w).sum())
            .sum();
        let t = Targets::Labels(&t);
        let gap = decayed.loss(&x, t) - plain.loss(&x, t);
        assert!((gap - 0.05 * squares).abs() < 1e-12, "{gap}");
    }

    #[test]
    fn predict_is_the_training_forward_without_dropout_and_batchnorm() {
        let (mut net, x, t) = setup(config(Activation::Sigmoid));
        let scores = net.predict(&x);
        let loss = net.loss(&x, Targets::Labels(&t));
        let expected =
            crate::functions::cross_entropy_error_labels(&crate::functions::softmax(&scores), &t);
        assert!((loss - expected).abs() < 1e-14);
    }

    /// The parameter or buffer called `name` (`W1`, `gamma2`, `running_var3`, …), as (rows,
    /// cols): a vector as one row.
    fn named(net: &MultiLayerNet<f64>, name: &str) -> Array2<f64> {
        let params = net.params();
        let array = match params.iter().find(|p| p.name == name) {
            Some(p) => p.value.clone(),
            None => {
                net.buffers()
                    .into_iter()
                    .find(|b| b.0 == name)
                    .expect(name)
                    .1
            }
        };
        let cols = array.shape().last().copied().unwrap_or(1);
        array
            .to_shape((array.len() / cols, cols))
            .unwrap()
            .to_owned()
    }

    /// `x·W + b` by plain loops; x: (N, in), W: (in, out), b: (1, out).
    fn plain_affine(x: &Array2<f64>, w: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        Array2::from_shape_fn((x.nrows(), w.ncols()), |(n, j)| {
            b[[0, j]] + (0..x.ncols()).map(|i| x[[n, i]] * w[[i, j]]).sum::<f64>()
        })
    }

    #[test]
    fn hidden_activations_are_each_hidden_layers_output_on_the_way_to_predict() {
        let (net, x, _) = setup(config(Activation::Sigmoid));
        let hidden = net.hidden_activations(x.view());
        assert_eq!(hidden.len(), 3);
        let mut h = x.clone();
        for (k, a) in hidden.iter().enumerate() {
            let (w, b) = (
                named(&net, &format!("W{}", k + 1)),
                named(&net, &format!("b{}", k + 1)),
            );
            h = plain_affine(&h, &w, &b).mapv(|v| 1.0 / (1.0 + (-v).exp()));
            assert!(
                (a - &h).mapv(f64::abs).iter().all(|&d| d < 1e-12),
                "layer {}",
                k + 1
            );
        }
        let scores = plain_affine(&hidden[2], &named(&net, "W4"), &named(&net, "b4"));
        assert!((net.predict(&x) - scores)
            .mapv(f64::abs)
            .iter()
            .all(|&d| d < 1e-12));
    }

    #[test]
    fn predict_uses_running_statistics_and_dropout_scaling() {
        let ratio = 0.3;
        let (mut net, x, t) = setup(MultiLayerNetConfig {
            use_batchnorm: true,
            use_dropout: true,
            dropout_ratio: ratio,
            ..config(Activation::Relu)
        });
        // gamma and beta away from their initial 1 and 0, each entry different.
        for (i, mut p) in net.params_mut().into_iter().enumerate() {
            if p.name.starts_with("gamma") || p.name.starts_with("beta") {
                for (j, v) in p.value.iter_mut().enumerate() {
                    *v = 0.5 + 0.1 * (i + j) as f64;
                }
            }
        }
        // Two training forwards on different batches move the running statistics.
        let x2 = x.mapv(|v| 0.5 * v + 0.3);
        net.loss(&x, Targets::Labels(&t));
        net.loss(&x2, Targets::Labels(&t));

        // BatchNorm1's input is x·W1 + b1 whatever the masks: running = 0.9·(0.1·s₁) + 0.1·s₂
        // for the batch mean and variance s of each batch.
        let (w1, b1) = (named(&net, "W1"), named(&net, "b1"));
        let stats = |x: &Array2<f64>| {
            let a = plain_affine(x, &w1, &b1);
            let n = a.nrows() as f64;
            let mean: Vec<f64> = a.columns().into_iter().map(|c| c.sum() / n).collect();
            let var: Vec<f64> = (a.columns().into_iter().zip(&mean))
                .map(|(c, m)| c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n)
                .collect();
            [mean, var]
        };
        let (first, second) = (stats(&x), stats(&x2));
        for (k, name) in ["running_mean1", "running_var1"].into_iter().enumerate() {
            let running = named(&net, name);
            for j in 0..running.ncols() {
                let expected = 0.09 * first[k][j] + 0.1 * second[k][j];
                let got = running[[0, j]];
                assert!(
                    (got - expected).abs() < 1e-12,
                    "{name}[{j}]: {got} vs {expected}"
                );
            }
        }

        // predict by hand: per hidden layer, affine, BatchNorm with the running statistics
        // gamma·(a − mean)/√(var + 1e-6) + beta, ReLU, then Dropout's scaling by 1 − ratio.
        let mut h = x.clone();
        for k in 1..=3 {
            let a = plain_affine(
                &h,
                &named(&net, &format!("W{k}")),
                &named(&net, &format!("b{k}")),
            );
            let [mean, var, gamma, beta] = ["running_mean", "running_var", "gamma", "beta"]
                .map(|what| named(&net, &format!("{what}{k}")));
            h = Array2::from_shape_fn(a.dim(), |(n, j)| {
                let normalized = (a[[n, j]] - mean[[0, j]]) / (var[[0, j]] + 1e-6).sqrt();
                let bn = gamma[[0, j]] * normalized + beta[[0, j]];
                bn.max(0.0) * (1.0 - ratio)
            });
        }
        let expected = plain_affine(&h, &named(&net, "W4"), &named(&net, "b4"));
        let scores = net.predict(&x);
        assert!(
            (&scores - &expected).iter().all(|d| d.abs() < 1e-12),
            "{scores}\nvs by hand\n{expected}"
        );
        assert_eq!(net.buffers().len(), 6);
    }

    #[test]
    fn impossible_options_are_refused() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for (bad, what) in [
            (
                MultiLayerNetConfig {
                    hidden_size_list: vec![],
                    ..Default::default()
                },
                "hidden_size_list",
            ),
            (
                MultiLayerNetConfig {
                    hidden_size_list: vec![10, 0],
                    ..Default::default()
                },
                "hidden layer size 0",
            ),
            (
                MultiLayerNetConfig {
                    weight_decay_lambda: -1.0,
                    ..Default::default()
                },
                "weight decay -1",
            ),
            (
                MultiLayerNetConfig {
                    use_dropout: true,
                    dropout_ratio: 1.0,
                    ..Default::default()
                },
                "dropout ratio 1",
            ),
        ] {
            let err = MultiLayerNet::<f32>::new(784, 10, &bad, &mut rng)
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(what), "{err}");
        }
    }

    #[test]
    fn one_hidden_layer_is_the_books_two_layer_net_bit_for_bit() {
        let mut two = crate::net::TwoLayerNetConfig {
            hidden_size: 6,
            activation: Activation::Sigmoid,
            weight_init_std: 0.5,
        }
        .init::<f64>(7, 3, &mut ChaCha8Rng::seed_from_u64(5))
        .unwrap();
        let config = MultiLayerNetConfig {
            hidden_size_list: vec![6],
            activation: Activation::Sigmoid,
            weight_init: WeightInit::Std(0.5),
            ..MultiLayerNetConfig::default()
        };
        let mut deep =
            MultiLayerNet::<f64>::new(7, 3, &config, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
        let x = randn(&mut ChaCha8Rng::seed_from_u64(6), 5, 7, 1.0);
        let t = Targets::Labels(&[0, 2, 1, 2, 1]);
        let mut sgd = crate::optim::Sgd::new(0.5).unwrap();
        for _ in 0..3 {
            assert_eq!(two.gradient(&x, t), deep.gradient(&x, t));
            crate::optim::step(&mut two, &mut sgd);
            crate::optim::step(&mut deep, &mut sgd);
        }
        let named = |p: &ParamView<f64>| (p.name.to_string(), p.value.to_owned());
        let deep_params: Vec<_> = deep.params().iter().map(named).collect();
        let two_params: Vec<_> = two.params().iter().map(named).collect();
        assert_eq!(deep_params, two_params);
        assert_eq!(deep.predict(&x), two.predict(&x));
    }

    #[test]
    fn sparse_and_dense_batches_give_the_same_loss_gradients_and_scores() {
        let config = MultiLayerNetConfig {
            use_batchnorm: true,
            weight_decay_lambda: 0.01,
            ..config(Activation::Relu)
        };
        let (mut dense, x, t) = setup(config);
        let mut sparse = dense.clone();
        // Mostly zeros, as MNIST's pixels are.
        let x = x.mapv(|v| if v > 0.6 { v } else { 0.0 });
        let rows = crate::kernels::SparseRows::from_dense(x.view());
        let t = Targets::Labels(&t);
        let a = dense.gradient(&x, t);
        let b = sparse.gradient(&rows, t);
        assert!((a - b).abs() < 1e-12);
        for (p, q) in dense.params().iter().zip(sparse.params()) {
            assert_eq!(p.name, q.name);
            assert!(
                (&p.grad - &q.grad).iter().all(|d| d.abs() < 1e-12),
                "{}",
                p.name
            );
        }
        let (p, q) = (dense.predict(&x), sparse.predict(&rows));
        assert!((&p - &q).iter().all(|d| d.abs() < 1e-12));
    }
}
