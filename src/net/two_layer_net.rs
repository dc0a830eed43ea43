//! The book's two-layer network: `Affine → Sigmoid → Affine → SoftmaxWithLoss`.
//!
//! input (N, 784) ─W1, b1→ (N, 50) ─sigmoid→ (N, 50) ─W2, b2→ (N, 10) ─softmax→ probabilities

use super::{Network, Param};
use crate::functions::CEE_DELTA;
use crate::init::randn;
use crate::kernels::{AsInput, Input, SparseRows};
use crate::layers::{
    activate_inplace, Activation, ActivationLayer, Affine, SoftmaxWithLoss, Targets,
};
use crate::{Error, Float, Result};
use ndarray::{Array1, Array2, ArrayD, ArrayViewD};
use rand::Rng;
use rayon::prelude::*;

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
    names: Vec<String>,
}

impl<F: Float> TwoLayerNet<F> {
    /// The book's initialisation: `W = weight_init_std · randn`, `b = 0`, W1 drawn before W2.
    pub fn new(
        input_size: usize,
        hidden_size: usize,
        output_size: usize,
        weight_init_std: f64,
        activation: Activation,
        rng: &mut impl Rng,
    ) -> Result<Self> {
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
        Ok(Self::from_params(
            W1,
            Array1::zeros(hidden_size),
            W2,
            Array1::zeros(output_size),
            activation,
        ))
    }

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
            names: ["W1", "b1", "W2", "b2"].map(String::from).to_vec(),
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
        let mut a1 = Array2::zeros((0, 0));
        self.affine1.forward_eval_into(x.as_input(), &mut a1);
        activate_inplace(self.kind, &mut a1);
        let mut y = Array2::zeros((0, 0));
        self.affine2.forward_eval_into(a1.view(), &mut y);
        y
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

    fn param_names(&self) -> &[String] {
        &self.names
    }

    fn param(&mut self, i: usize) -> Param<'_, F> {
        let layer = if i < 2 {
            &mut self.affine1
        } else {
            &mut self.affine2
        };
        let (value, grad, rows) = if i % 2 == 0 {
            let (W, dW, rows) = layer.W_and_grad();
            (W.into_dyn(), dW.into_dyn(), rows)
        } else {
            (
                layer.b.view_mut().into_dyn(),
                layer.db.view().into_dyn(),
                None,
            )
        };
        Param {
            name: &self.names[i],
            value,
            grad,
            rows,
        }
    }

    fn param_view(&self, i: usize) -> ArrayViewD<'_, F> {
        let layer = if i < 2 { &self.affine1 } else { &self.affine2 };
        if i % 2 == 0 {
            layer.W.view().into_dyn()
        } else {
            layer.b.view().into_dyn()
        }
    }
}

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
        let net = TwoLayerNet::new(6, 5, 3, 0.5, activation, &mut rng).unwrap();
        let x = randn(&mut rng, 4, 6, 1.0);
        (net, x, vec![0, 2, 1, 2])
    }

    #[test]
    fn backprop_matches_numerical_gradient_in_f64() {
        for activation in [Activation::Sigmoid, Activation::Relu] {
            let (mut net, x, t) = setup(activation);
            let numerical = net.numerical_gradient(&x, Targets::Labels(&t));
            net.gradient(&x, Targets::Labels(&t));
            for (i, num) in numerical.iter().enumerate() {
                let p = net.param(i);
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
        for i in 0..4 {
            assert_eq!(net.param_view(i), before.param_view(i));
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
        let err = TwoLayerNet::<f32>::new(784, 0, 10, 0.01, Activation::Sigmoid, &mut rng)
            .err()
            .unwrap();
        assert!(err.to_string().contains("hidden_size"), "{err}");
        assert!(TwoLayerNet::<f32>::new(784, 50, 10, -1.0, Activation::Sigmoid, &mut rng).is_err());
    }
}
