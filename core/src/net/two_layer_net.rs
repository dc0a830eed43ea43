//! The book's two-layer network: `Affine → Sigmoid → Affine → SoftmaxWithLoss`.
//!
//! input (N, 784) ─W1, b1→ (N, 50) ─sigmoid→ (N, 50) ─W2, b2→ (N, 10) ─softmax→ probabilities

use super::layer_output::hidden_name;
use super::{LayerOutput, Network, Param, ParamView};
use crate::functions::{argmax, CEE_DELTA};
use crate::init::randn;
use crate::kernels::{AsInput, Input, SparseRows};
use crate::layers::{
    activate_inplace, Activation, ActivationLayer, Affine, SoftmaxWithLoss, Targets,
};
use crate::{Error, Float, Result};
use ndarray::{Array1, Array2, ArrayD, ArrayView2};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// `TwoLayerNet(input_size, hidden_size, output_size)` with parameters `W1`, `b1`, `W2`, `b2`.
#[derive(Clone)]
pub struct TwoLayerNet<F: Float> {
    /// The first layer: `W1` (input, hidden), `b1` (hidden,).
    pub affine1: Affine<F>,
    /// The hidden activation (sigmoid in the book's chapter 4, ReLU in chapter 5).
    pub activation: ActivationLayer<F>,
    /// The second layer: `W2` (hidden, output), `b2` (output,).
    pub affine2: Affine<F>,
    /// Softmax and cross-entropy, for training.
    pub last_layer: SoftmaxWithLoss<F>,
    kind: Activation,
}

/// A TwoLayerNet's hidden layer and initial weights: the book's `TwoLayerNet(input_size,
/// hidden_size, output_size, weight_init_std)` between its sizes; the default is the users'
/// chapter-4 network (50 sigmoid neurons, σ 0.01).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TwoLayerNetConfig {
    /// Neurons in the hidden layer (50).
    pub hidden_size: usize,
    /// The hidden activation (sigmoid).
    pub activation: Activation,
    /// Standard deviation of the initial weights (0.01).
    pub weight_init_std: f64,
}

impl Default for TwoLayerNetConfig {
    fn default() -> Self {
        TwoLayerNetConfig {
            hidden_size: 50,
            activation: Activation::Sigmoid,
            weight_init_std: 0.01,
        }
    }
}

impl TwoLayerNetConfig {
    /// The network `input_size → hidden_size → output_size`, initialised as the book does:
    /// `W = weight_init_std · randn`, `b = 0`, W1 drawn from `rng` before W2.
    pub fn init<F: Float>(
        &self,
        input_size: usize,
        output_size: usize,
        rng: &mut impl Rng,
    ) -> Result<TwoLayerNet<F>> {
        let TwoLayerNetConfig {
            hidden_size,
            activation,
            weight_init_std,
        } = *self;
        check_size("input_size", input_size)?;
        check_size("hidden_size", hidden_size)?;
        check_size("output_size", output_size)?;
        if !(weight_init_std.is_finite() && weight_init_std > 0.0) {
            return Err(Error::invalid(
                "weight_init_std",
                weight_init_std,
                "a positive number such as 0.01",
            ));
        }
        let W1 = randn(rng, input_size, hidden_size, weight_init_std);
        let W2 = randn(rng, hidden_size, output_size, weight_init_std);
        Ok(TwoLayerNet::from_params(
            W1,
            Array1::zeros(hidden_size),
            W2,
            Array1::zeros(output_size),
            activation,
        ))
    }
}

impl<F: Float> TwoLayerNet<F> {
    /// A network from given parameters W1 (in, hidden), b1 (hidden,), W2 (hidden, out), b2 (out,).
    pub fn from_params(
        W1: Array2<F>,
        b1: Array1<F>,
        W2: Array2<F>,
        b2: Array1<F>,
        activation: Activation,
    ) -> Self {
        let mut affine1 = Affine::new(W1, b1);
        // The input images need no gradient: skip the largest product of backward.
        affine1.needs_dx = false;
        TwoLayerNet {
            affine1,
            activation: ActivationLayer::new(activation),
            affine2: Affine::new(W2, b2),
            last_layer: SoftmaxWithLoss::default(),
            kind: activation,
        }
    }

    /// The hidden activation's kind.
    pub fn activation_kind(&self) -> Activation {
        self.kind
    }

    /// (input_size, hidden_size, output_size).
    pub fn sizes(&self) -> (usize, usize, usize) {
        let (input, hidden) = self.affine1.W.dim();
        (input, hidden, self.affine2.W.ncols())
    }
}

/// A layer size must be at least 1.
fn check_size(name: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(Error::invalid(name, value, "at least 1"));
    }
    Ok(())
}

impl<F: Float> TwoLayerNet<F> {
    /// Class scores for evaluation, keeping nothing: x: (N, in) → `scores` (N, out), with `a1`
    /// (N, hidden) as the hidden layer's buffer.
    fn scores_into(&self, x: Input<F>, a1: &mut Array2<F>, scores: &mut Array2<F>) {
        self.affine1.forward_eval_into(x, a1);
        activate_inplace(self.kind, a1);
        self.affine2.forward_eval_into(a1.view(), scores);
    }

    /// The training forward pass, keeping what backward needs; returns the loss.
    fn forward_loss(&mut self, x: &dyn AsInput<F>, t: Targets<F>) -> F {
        let a1 = self.affine1.forward(x.as_input());
        let z1 = self.activation.forward(a1);
        let scores = self.affine2.forward(z1);
        self.last_layer.forward(scores, t)
    }
}

impl<F: Float> Network<F> for TwoLayerNet<F> {
    fn predict(&self, x: &dyn AsInput<F>) -> Array2<F> {
        let (mut a1, mut y) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        self.scores_into(x.as_input(), &mut a1, &mut y);
        y
    }

    /// Evaluation fused per block of `FUSED_BLOCK` (256) rows — first layer, activation, second
    /// layer, argmax — in buffers each rayon job reuses for its blocks, blocks spread over all
    /// cores: `predict`'s argmax (the same code, row by row), nothing of the whole set
    /// materialised but the labels.
    fn predict_labels(&self, x: &dyn AsInput<F>) -> Vec<usize> {
        let x = x.as_input();
        let mut labels = vec![0; x.nrows()];
        let buffers = || (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        labels
            .par_chunks_mut(FUSED_BLOCK)
            .enumerate()
            .for_each_init(buffers, |(a1, scores), (b, labels)| {
                let start = b * FUSED_BLOCK;
                self.scores_into(x.slice_rows(start..start + labels.len()), a1, scores);
                for (label, row) in labels.iter_mut().zip(scores.outer_iter()) {
                    *label = argmax(row);
                }
            });
        labels
    }

    /// `hidden 1 (<activation>)` (N, hidden) and the scores (N, out), from `predict`'s code.
    fn layer_outputs(&self, x: ArrayView2<F>) -> Vec<LayerOutput<F>> {
        let (mut a1, mut scores) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
        self.scores_into(Input::Dense(x), &mut a1, &mut scores);
        vec![
            LayerOutput::new(hidden_name(1, self.kind), a1.into_dyn(), Some(self.kind)),
            LayerOutput::scores(scores.into_dyn()),
        ]
    }

    fn loss(&mut self, x: &dyn AsInput<F>, t: Targets<F>) -> F {
        self.forward_loss(x, t)
    }

    fn gradient(&mut self, x: &dyn AsInput<F>, t: Targets<F>) -> F {
        let loss = self.forward_loss(x, t);
        let dout = self.last_layer.backward(t);
        let dz1 = self.affine2.backward(dout);
        let da1 = self.activation.backward(dz1);
        self.affine1.backward(da1);
        loss
    }

    fn numerical_gradient(&self, x: &dyn AsInput<F>, t: Targets<F>) -> Vec<ArrayD<F>> {
        incremental_numerical_gradient(self, x.as_input(), t)
    }

    fn params(&self) -> Vec<ParamView<'_, F>> {
        let [W1, b1, W2, b2] = PARAM_NAMES;
        let (a1, a2) = (&self.affine1, &self.affine2);
        vec![
            ParamView::new(W1, a1.W.view(), a1.dW.view()),
            ParamView::new(b1, a1.b.view(), a1.db.view()),
            ParamView::new(W2, a2.W.view(), a2.dW.view()),
            ParamView::new(b2, a2.b.view(), a2.db.view()),
        ]
    }

    fn for_each_param_mut<'a>(&'a mut self, f: &mut dyn FnMut(Param<'a, F>)) {
        let [W1, b1, W2, b2] = PARAM_NAMES;
        Param::of_affine(&mut self.affine1, [W1, b1])
            .into_iter()
            .for_each(&mut *f);
        Param::of_affine(&mut self.affine2, [W2, b2])
            .into_iter()
            .for_each(f);
    }

    fn input_size(&self) -> usize {
        self.affine1.W.nrows()
    }

    fn output_size(&self) -> usize {
        self.affine2.W.ncols()
    }
}

/// Rows evaluated together by `predict_labels`: the hidden activations of a block (256 × 50
/// floats for the users' net) stay in the core's cache between the two layers.
const FUSED_BLOCK: usize = 256;

/// The parameters' names, in order.
const PARAM_NAMES: [&str; 4] = ["W1", "b1", "W2", "b2"];

/// The numerical gradient `(L(w+h) − L(w−h)) / 2h` of every parameter, computed incrementally.
///
/// Nudging one weight changes little of the forward pass, so only that little is recomputed,
/// from the unperturbed pass `a1 = x·W1 + b1` (N, hidden), `z1 = act(a1)`, `s = z1·W2 + b2`
/// (N, out) and the per-sample losses `ℓ_n = −ln(softmax(s_n)_t + 1e-7)`, `L = Σ ℓ_n / N`:
/// - `W1[i, j] ± h` moves `a1[n, j]` by `± h·x[n, i]` — only in the samples whose pixel i is
///   nonzero — hence `s_n` by `(act(a1[n, j] ± h·x[n, i]) − z1[n, j]) · W2[j, :]`;
/// - `b1[j] ± h` moves `a1[n, j]` by `± h` in every sample, likewise;
/// - `W2[j, k] ± h` moves `s[n, k]` by `± h·z1[n, j]`; `b2[k] ± h` moves `s[n, k]` by `± h`.
///
/// Samples the nudge does not reach keep their loss exactly, so `L(w+h) − L(w−h)` is the sum of
/// the reached samples' `ℓ_n(w+h) − ℓ_n(w−h)`, over N. That is the definition's quantity, equal
/// to rounding, in O(N·out) per weight instead of a whole forward pass. Weights are spread over
/// all cores; each result depends only on its own weight, not on the number of threads.
pub fn incremental_numerical_gradient<F: Float>(
    net: &TwoLayerNet<F>,
    x: Input<F>,
    t: Targets<F>,
) -> Vec<ArrayD<F>> {
    let h = F::of(crate::numerical::H);
    let (W1, W2) = (&net.affine1.W, &net.affine2.W);
    let (n, hidden, out) = (x.nrows(), W1.ncols(), W2.ncols());
    let mut a1 = Array2::zeros((0, 0));
    net.affine1.forward_eval_into(x, &mut a1);
    let mut z1 = a1.clone();
    activate_inplace(net.kind, &mut z1);
    let mut s = Array2::zeros((0, 0));
    net.affine2.forward_eval_into(z1.view(), &mut s);
    // Which samples each pixel reaches: x's columns as lists of (sample, value).
    let mut x_cols = SparseRows::new();
    match x {
        Input::Sparse(x) => x.transpose_into(&mut x_cols),
        Input::Dense(x) => SparseRows::from_dense(x).transpose_into(&mut x_cols),
    }
    let act = |v: F| {
        let mut a = Array2::from_elem((1, 1), v);
        activate_inplace(net.kind, &mut a);
        a[[0, 0]]
    };
    let inv_n = F::one() / F::of(n as f64);
    // ℓ_n(s_n + d) − ℓ_n(s_n − d) for the moves d(±) of sample n's scores, with `row` as scratch.
    let loss_change = |sample: usize, row: &mut [F], move_scores: &dyn Fn(&mut [F], F)| {
        let mut change = F::zero();
        for sign in [F::one(), -F::one()] {
            row.copy_from_slice(s.row(sample).as_slice().expect("standard layout"));
            move_scores(row, sign);
            let l = sample_loss(row, t, sample);
            change += if sign > F::zero() { l } else { -l };
        }
        change
    };
    // ∂L/∂a1[:, j] nudged by ±h·c_n in the listed samples: the slope for one W1/b1 element.
    let hidden_slope = |j: usize, samples: &mut dyn Iterator<Item = (usize, F)>, row: &mut [F]| {
        let mut total = F::zero();
        for (m, c) in samples {
            let (a, z) = (a1[[m, j]], z1[[m, j]]);
            total += loss_change(m, row, &|row, sign| {
                let dz = act(a + sign * h * c) - z;
                for (r, &w) in row.iter_mut().zip(W2.row(j)) {
                    *r += dz * w;
                }
            });
        }
        total * inv_n / (h + h)
    };
    let dW1: Vec<F> = (0..W1.len())
        .into_par_iter()
        .map_init(
            || vec![F::zero(); out],
            |row, e| {
                let (i, j) = (e / hidden, e % hidden);
                let (samples, values) = x_cols.row(i);
                let mut reached = samples.iter().zip(values).map(|(&m, &v)| (m as usize, v));
                hidden_slope(j, &mut reached, row)
            },
        )
        .collect();
    let db1: Vec<F> = (0..hidden)
        .into_par_iter()
        .map_init(
            || vec![F::zero(); out],
            |row, j| hidden_slope(j, &mut (0..n).map(|m| (m, F::one())), row),
        )
        .collect();
    // W2[j, k] (or b2[k] with z = 1) nudged: s[:, k] moves by ±h·z1[:, j].
    let score_slope = |j: Option<usize>, k: usize, row: &mut [F]| {
        let mut total = F::zero();
        for m in 0..n {
            let c = j.map_or(F::one(), |j| z1[[m, j]]);
            total += loss_change(m, row, &|row, sign| row[k] += sign * h * c);
        }
        total * inv_n / (h + h)
    };
    let dW2: Vec<F> = (0..W2.len())
        .into_par_iter()
        .map_init(
            || vec![F::zero(); out],
            |row, e| score_slope(Some(e / out), e % out, row),
        )
        .collect();
    let db2: Vec<F> = (0..out)
        .into_par_iter()
        .map_init(|| vec![F::zero(); out], |row, k| score_slope(None, k, row))
        .collect();
    let shaped =
        |v: Vec<F>, shape: &[usize]| ArrayD::from_shape_vec(shape, v).expect("sizes match");
    vec![
        shaped(dW1, &[W1.nrows(), hidden]),
        shaped(db1, &[hidden]),
        shaped(dW2, &[hidden, out]),
        shaped(db2, &[out]),
    ]
}

/// One sample's cross-entropy after softmax: `−Σ_k t_k·ln(softmax(s)_k + 1e-7)`; s: (out,).
fn sample_loss<F: Float>(s: &[F], t: Targets<F>, sample: usize) -> F {
    let max = s.iter().fold(F::neg_infinity(), |m, &v| m.max(v));
    let sum: F = s.iter().map(|&v| (v - max).exp()).sum();
    let y = |k: usize| (s[k] - max).exp() / sum;
    let delta = F::of(CEE_DELTA);
    match t {
        Targets::Labels(labels) => -(y(labels[sample]) + delta).ln(),
        Targets::OneHot(onehot) => -onehot
            .row(sample)
            .iter()
            .enumerate()
            .filter(|(_, &t)| t != F::zero())
            .map(|(k, &t)| t * (y(k) + delta).ln())
            .fold(F::zero(), |a, b| a + b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A small net and batch where every gradient is far from zero.
    fn setup(activation: Activation) -> (TwoLayerNet<f64>, Array2<f64>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let net = TwoLayerNetConfig {
            hidden_size: 5,
            activation,
            weight_init_std: 0.5,
        }
        .init(6, 3, &mut rng)
        .unwrap();
        let x = randn(&mut rng, 4, 6, 1.0);
        (net, x, vec![0, 2, 1, 2])
    }

    #[test]
    fn fused_labels_are_the_argmax_of_predict_dense_or_sparse() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let config = TwoLayerNetConfig {
            weight_init_std: 1.0,
            ..Default::default()
        };
        let net = config.init::<f32>(30, 10, &mut rng).unwrap();
        // 600 rows: two whole blocks and a partial one; about half the inputs 0.
        let x = randn(&mut rng, 600, 30, 1.0).mapv(|v: f32| if v < 0.0 { 0.0 } else { v });
        let want: Vec<usize> = net.predict(&x).outer_iter().map(argmax).collect();
        assert!(want.iter().any(|&l| l != want[0]), "the labels vary");
        assert_eq!(net.predict_labels(&x), want, "dense");
        assert_eq!(
            net.predict_labels(&SparseRows::from_dense(x.view())),
            want,
            "sparse"
        );
    }

    #[test]
    fn backprop_matches_numerical_gradient_in_f64() {
        for activation in [Activation::Sigmoid, Activation::Relu] {
            let (mut net, x, t) = setup(activation);
            let numerical = net.numerical_gradient(&x, Targets::Labels(&t));
            net.gradient(&x, Targets::Labels(&t));
            for (p, num) in net.params().iter().zip(&numerical) {
                let diff = (&p.grad - num).mapv(f64::abs).mean().unwrap();
                assert!(
                    diff < 1e-7,
                    "{activation:?} {}: mean |diff| {diff:e}",
                    p.name
                );
            }
        }
    }

    #[test]
    fn incremental_numerical_gradient_equals_the_definition_to_rounding() {
        for activation in [Activation::Sigmoid, Activation::Relu] {
            let (net, mut x, t) = setup(activation);
            // Zeros in x, as in MNIST: nudging W1 rows of zero pixels changes nothing.
            x.slice_mut(ndarray::s![.., 1..3]).fill(0.0);
            x[[2, 4]] = 0.0;
            let mut onehot = Array2::zeros((t.len(), 3));
            for (n, &label) in t.iter().enumerate() {
                onehot[[n, label]] = 1.0;
            }
            for targets in [Targets::Labels(&t), Targets::OneHot(onehot.view())] {
                let fast = incremental_numerical_gradient(&net, x.view().into(), targets);
                let slow = crate::net::numerical_gradient_by_definition(&net, &x, targets);
                for (a, b) in fast.iter().zip(&slow) {
                    let diff = (a - b).mapv(f64::abs).fold(0.0f64, |m, &v| m.max(v));
                    assert!(diff < 1e-10, "{activation:?}: max |diff| {diff:e}");
                }
            }
        }
    }

    #[test]
    fn numerical_gradient_leaves_weights_unchanged() {
        let (net, x, t) = setup(Activation::Sigmoid);
        let before = net.clone();
        net.numerical_gradient(&x, Targets::Labels(&t));
        for (p, q) in net.params().iter().zip(before.params()) {
            assert_eq!(p.value, q.value);
        }
    }

    #[test]
    fn predict_agrees_with_the_training_forward_pass() {
        let (mut net, x, t) = setup(Activation::Sigmoid);
        let scores = net.predict(&x);
        let loss = net.loss(&x, Targets::Labels(&t));
        let expected =
            crate::functions::cross_entropy_error_labels(&crate::functions::softmax(&scores), &t);
        assert!((loss - expected).abs() < 1e-14);
        let predicted: Vec<usize> = scores
            .rows()
            .into_iter()
            .map(crate::functions::argmax)
            .collect();
        let correct = predicted.iter().zip(&t).filter(|(a, b)| a == b).count();
        assert_eq!(net.accuracy(&x, &t), correct as f64 / 4.0);
    }

    #[test]
    fn zero_sizes_and_bad_std_are_refused() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let err = TwoLayerNetConfig {
            hidden_size: 0,
            activation: Activation::Sigmoid,
            weight_init_std: 0.01,
        }
        .init::<f32>(784, 10, &mut rng)
        .err()
        .unwrap();
        assert!(err.to_string().contains("hidden_size"), "{err}");
        assert!(TwoLayerNetConfig {
            hidden_size: 50,
            activation: Activation::Sigmoid,
            weight_init_std: -1.0
        }
        .init::<f32>(784, 10, &mut rng)
        .is_err());
    }
}
