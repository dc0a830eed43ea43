//! What every trainable network offers the trainer, the optimizers and the checkpoints.

use super::LayerOutput;
use crate::functions::argmax;
use crate::kernels::{AsInput, Input};
use crate::layers::{Affine, Targets};
use crate::Float;
use ndarray::{Array2, ArrayView, ArrayView2, ArrayViewD, ArrayViewMut, ArrayViewMutD, Dimension};
use rayon::prelude::*;

/// A network trained by mini-batch gradient descent, with named parameters (`W1`, `b1`, …).
///
/// Every method that takes an input batch x: (N, in) takes it dense or as its nonzero entries
/// (an `Array2`, an `ArrayView2`, a [`SparseRows`](crate::kernels::SparseRows) or its view:
/// see [`AsInput`]); the numbers are the same either way.
pub trait Network<F: Float>: Send + Sync {
    /// Class scores before softmax; x: (N, in) → (N, classes). For evaluation: keeps nothing.
    fn predict(&self, x: &dyn AsInput<F>) -> Array2<F>;

    /// The loss on a batch (forward only); x: (N, in), t: N labels or (N, classes) one-hot.
    fn loss(&mut self, x: &dyn AsInput<F>, t: Targets<F>) -> F;

    /// Forward and backward on a batch: returns the loss and leaves every parameter's
    /// gradient ready for [`Network::params`].
    fn gradient(&mut self, x: &dyn AsInput<F>, t: Targets<F>) -> F;

    /// Fraction of rows whose highest score is the true label; x: (N, in), t: N labels.
    fn accuracy(&self, x: &dyn AsInput<F>, t: &[usize]) -> f64 {
        if t.is_empty() {
            return 0.0;
        }
        let predicted = self.predict_labels(x);
        let correct = predicted.iter().zip(t).filter(|(p, t)| p == t).count();
        correct as f64 / t.len() as f64
    }

    /// The predicted class of every row (argmax of its scores); x: (N, in) → N labels.
    ///
    /// The rows are split into blocks evaluated on all cores; the result does not depend on
    /// the number of threads.
    fn predict_labels(&self, x: &dyn AsInput<F>) -> Vec<usize> {
        let x = x.as_input();
        let n = x.nrows();
        let blocks: Vec<Vec<usize>> = (0..n.div_ceil(EVAL_BLOCK))
            .into_par_iter()
            .map(|b| {
                let block = x.slice_rows(b * EVAL_BLOCK..((b + 1) * EVAL_BLOCK).min(n));
                self.predict(&block).outer_iter().map(argmax).collect()
            })
            .collect();
        blocks.concat()
    }

    /// Every layer's output in the evaluation forward of x: (N, in), input side first — each
    /// hidden layer after its activation, a conv net's maps (N, C, H, W) — ending with the
    /// class scores (N, classes), [`Network::predict`]'s numbers, named
    /// [`SCORES`](super::layer_output::SCORES). Each network runs its own layers' forward on
    /// the whole batch at once (every output is kept: give large sets in blocks of ~100 rows);
    /// the default knows only the scores.
    fn layer_outputs(&self, x: ArrayView2<F>) -> Vec<LayerOutput<F>> {
        vec![LayerOutput::scores(self.predict(&x).into_dyn())]
    }

    /// The chapter-4 numerical gradient: every parameter element nudged by ±h (h = 1e-4) and
    /// the loss on (x, t) recomputed, `(L(w+h) - L(w-h)) / 2h`, for checking backpropagation.
    /// Returns one array per parameter, in [`Network::params`] order. The default follows the
    /// definition ([`numerical_gradient_by_definition`]); a network may compute the same
    /// quantity faster (equal to rounding), as `TwoLayerNet` does.
    fn numerical_gradient(&self, x: &dyn AsInput<F>, t: Targets<F>) -> Vec<ndarray::ArrayD<F>>
    where
        Self: Sized + Clone,
    {
        numerical_gradient_by_definition(self, x, t)
    }

    /// Every parameter in layer order, by the book's name (`W1`, `b1`, `gamma1`, `beta1`,
    /// `W2`, …), with its value and the gradient of the last [`Network::gradient`] call.
    fn params(&self) -> Vec<ParamView<'_, F>>;

    /// Shows `f` every parameter in [`Network::params`] order, its value writable: what an
    /// optimizer updates (allocating nothing, as the training step must).
    fn for_each_param_mut<'a>(&'a mut self, f: &mut dyn FnMut(Param<'a, F>));

    /// [`Network::params`], the values writable.
    fn params_mut(&mut self) -> Vec<Param<'_, F>> {
        let mut params = Vec::new();
        self.for_each_param_mut(&mut |p| params.push(p));
        params
    }

    /// Features per input row (784 for MNIST): the rows of W1.
    fn input_size(&self) -> usize;

    /// Classes scored (10 for MNIST): the width of the last layer.
    fn output_size(&self) -> usize;

    /// The number of scalar parameters (weights, biases, BatchNorm's γ and β).
    fn parameter_count(&self) -> usize {
        self.params().iter().map(|p| p.value.len()).sum()
    }

    /// State that is saved with the parameters but not trained, by name (BatchNorm's
    /// `running_mean1`, `running_var1`, …); none by default.
    fn buffers(&self) -> Vec<(&str, ArrayViewD<'_, F>)> {
        Vec::new()
    }

    /// Where the network's own random draws stand — (seed, words used) of each generator
    /// (Dropout's masks) — for a checkpoint that resumes bit for bit; none by default.
    fn random_state(&self) -> Vec<(u64, u128)> {
        Vec::new()
    }

    /// Restores what [`Network::random_state`] gave.
    fn set_random_state(&mut self, state: &[(u64, u128)]) -> std::result::Result<(), String> {
        if state.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{} random-number positions for a network that draws none",
            state.len()
        ))
    }
}

/// One parameter of a network, read-only.
pub struct ParamView<'a, F> {
    /// The book's name for it: `W1`, `b1`, …
    pub name: &'a str,
    /// Its values: W (in, out), b (out,), γ and β (features,).
    pub value: ArrayViewD<'a, F>,
    /// The gradient of the loss with respect to it, from the last `gradient` call.
    pub grad: ArrayViewD<'a, F>,
}

/// One parameter of a network, lent out for an update.
pub struct Param<'a, F> {
    /// The book's name for it: `W1`, `b1`, …
    pub name: &'a str,
    /// Its values, to be changed in place.
    pub value: ArrayViewMutD<'a, F>,
    /// The gradient of the loss with respect to it, from the last `gradient` call.
    pub grad: ArrayViewD<'a, F>,
    /// For a weight matrix (in, out) whose gradient is exactly 0 outside some rows (the first
    /// layer on sparse inputs: rows of pixels that are 0 in the whole batch), those rows.
    pub rows: Option<&'a [u32]>,
}

impl<'a, F: Float> ParamView<'a, F> {
    /// A parameter's value and gradient (any shape), under `name`.
    pub fn new<D: Dimension>(
        name: &'a str,
        value: ArrayView<'a, F, D>,
        grad: ArrayView<'a, F, D>,
    ) -> Self {
        ParamView {
            name,
            value: value.into_dyn(),
            grad: grad.into_dyn(),
        }
    }
}

impl<'a, F: Float> Param<'a, F> {
    /// A parameter whose gradient can be nonzero anywhere, under `name`.
    pub fn new<D: Dimension>(
        name: &'a str,
        value: ArrayViewMut<'a, F, D>,
        grad: ArrayView<'a, F, D>,
    ) -> Self {
        Param {
            name,
            value: value.into_dyn(),
            grad: grad.into_dyn(),
            rows: None,
        }
    }

    /// An Affine layer's W and b under `names`, writable (W with the rows its gradient can be
    /// nonzero in, when the layer knows them).
    pub fn of_affine(affine: &'a mut Affine<F>, [w, b]: [&'a str; 2]) -> [Self; 2] {
        let (W, dW, rows, b_value, db) = affine.arrays_mut();
        [
            Param {
                name: w,
                value: W.into_dyn(),
                grad: dW.into_dyn(),
                rows,
            },
            Param::new(b, b_value, db),
        ]
    }
}

/// Rows evaluated together: large enough for fast matrix products, small enough to stay in cache.
const EVAL_BLOCK: usize = 2000;

/// [`Network::numerical_gradient`] by the definition: two whole forward passes per parameter
/// element.
///
/// The elements are split across all cores, each working on its own copy of the network; the
/// result does not depend on the number of threads.
pub fn numerical_gradient_by_definition<F: Float, N: Network<F> + Clone>(
    net: &N,
    x: &dyn AsInput<F>,
    t: Targets<F>,
) -> Vec<ndarray::ArrayD<F>> {
    let x = x.as_input();
    let shapes: Vec<_> = net.params().iter().map(|p| p.value.raw_dim()).collect();
    let sizes: Vec<usize> = shapes.iter().map(|s| s.size()).collect();
    // (parameter, element) pairs, flattened so the work splits evenly over threads.
    let jobs: Vec<(usize, usize)> = sizes
        .iter()
        .enumerate()
        .flat_map(|(i, &n)| (0..n).map(move |j| (i, j)))
        .collect();
    let chunk = jobs.len().div_ceil(rayon::current_num_threads() * 4).max(1);
    let slopes: Vec<F> = jobs
        .par_chunks(chunk)
        .flat_map_iter(|part| {
            let mut local = net.clone();
            part.iter()
                .map(|&(i, j)| central_difference(&mut local, i, j, x, t))
                .collect::<Vec<F>>()
        })
        .collect();
    let mut grads = Vec::with_capacity(sizes.len());
    let mut rest = &slopes[..];
    for shape in shapes {
        let (mine, tail) = rest.split_at(shape.size());
        grads.push(
            ndarray::ArrayD::from_shape_vec(shape, mine.to_vec()).expect("sizes match shapes"),
        );
        rest = tail;
    }
    grads
}

/// `(L(w+h) - L(w-h)) / 2h` for element `j` of parameter `i`, restoring the element exactly.
fn central_difference<F: Float, N: Network<F>>(
    net: &mut N,
    i: usize,
    j: usize,
    x: Input<F>,
    t: Targets<F>,
) -> F {
    let h = F::of(crate::numerical::H);
    let keep = element(net, i, j, None);
    element(net, i, j, Some(keep + h));
    let up = net.loss(&x, t);
    element(net, i, j, Some(keep - h));
    let down = net.loss(&x, t);
    element(net, i, j, Some(keep));
    (up - down) / (h + h)
}

/// Reads element `j` (in memory order) of parameter `i`, writing `set` into it when given.
fn element<F: Float, N: Network<F>>(net: &mut N, i: usize, j: usize, set: Option<F>) -> F {
    let mut params = net.params_mut();
    let values = params[i]
        .value
        .as_slice_memory_order_mut()
        .expect("parameters are contiguous arrays");
    if let Some(v) = set {
        values[j] = v;
    }
    values[j]
}
