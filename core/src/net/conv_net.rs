//! Convolutional networks (chapters 7–8): the book's SimpleConvNet and DeepConvNet, and any
//! other stack of conv, pool, fc and dropout layers described by a [`ConvNetConfig`].
//!
//! ```text
//! x (N, C·H·W) ─as (N, C, H, W)→ [Conv → ReLU | Pool]… ─flatten→ [Affine → ReLU | Dropout]…
//!              → Affine (out) [→ Dropout] ─SoftmaxWithLoss→ loss
//! ```
//!
//! The layers sit in one list and `forward`/`backward` walk it like the book's `OrderedDict`.
//! Between layers every activation is a (N, values) matrix; a Conv or Pool layer reads it as
//! (N, C, H, W), and the first Affine reads the maps flattened in (C, H, W) order — the
//! book's `x.reshape(N, -1)`, free here since the maps are stored in that order (and dx goes
//! back the same way). Parameters are `W1`, `b1`, … numbered over the conv and affine layers
//! (SimpleConvNet: W1 (30, 1, 5, 5), W2 (4320, 100), W3 (100, 10)).

pub mod config;
pub mod text;

pub use config::{ConvNetConfig, Shape, Stage};
pub use text::ConvLayer;

use super::layer_output::hidden_name;
use super::{LayerOutput, Network, Param, ParamView};
use crate::init::randn;
use crate::kernels::{AsInput, Input};
use crate::layers::{
    set_rng_states, Activation, Affine, Convolution, Dropout, Pooling, Relu, SoftmaxWithLoss,
    Targets,
};
use crate::{Float, Result};
use ndarray::{s, Array1, Array2, Array3, Array4, ArrayView1, ArrayView2, Ix4};
use rand::Rng;

/// Rows the evaluation forward takes at once: the im2col of DeepConvNet's second layer for
/// 100 images is 45 MB.
const EVAL_ROWS: usize = 100;

/// One layer of the list, with the per-sample shape it reads.
#[derive(Clone)]
enum Layer<F: Float> {
    Conv(Convolution<F>, [usize; 3]),
    Pool(Pooling<F>, [usize; 3]),
    Relu(Relu<F>),
    Affine(Affine<F>),
    Dropout(Dropout<F>),
}

/// x (N, values) as (N, C, H, W).
fn maps<F>(x: ArrayView2<'_, F>, [c, h, w]: [usize; 3]) -> ndarray::ArrayView4<'_, F> {
    let n = x.nrows();
    x.into_shape_with_order((n, c, h, w))
        .expect("activations are stored in standard layout")
}

/// x (N, C, H, W) as (N, C·H·W): the book's flatten.
fn flat<F>(x: ndarray::ArrayView4<'_, F>) -> ArrayView2<'_, F> {
    let (n, c, h, w) = x.dim();
    x.into_shape_with_order((n, c * h * w))
        .expect("activations are stored in standard layout")
}

impl<F: Float> Layer<F> {
    /// The training forward; x: (N, in values) → (N, out values).
    fn forward(&mut self, x: ArrayView2<F>, train_flg: bool) -> ArrayView2<'_, F> {
        match self {
            Layer::Conv(conv, shape) => flat(conv.forward(maps(x, *shape))),
            Layer::Pool(pool, shape) => flat(pool.forward(maps(x, *shape))),
            Layer::Relu(relu) => relu.forward(x),
            Layer::Affine(affine) => affine.forward(x),
            Layer::Dropout(dropout) => dropout.forward(x, train_flg),
        }
    }

    /// dout: (N, out values) → dx: (N, in values), writing the layer's parameter gradients.
    fn backward(&mut self, dout: ArrayView2<F>) -> ArrayView2<'_, F> {
        match self {
            Layer::Conv(conv, [c, h, w]) => {
                let shape = conv.output_shape((dout.nrows(), *c, *h, *w));
                let dout = dout.into_shape_with_order(shape).expect("(N, FN·OH·OW)");
                flat(conv.backward(dout.into_dimensionality::<Ix4>().expect("4 axes")))
            }
            Layer::Pool(pool, [c, h, w]) => {
                let shape = pool.output_shape((dout.nrows(), *c, *h, *w));
                let dout = dout.into_shape_with_order(shape).expect("(N, C·OH·OW)");
                flat(pool.backward(dout.into_dimensionality::<Ix4>().expect("4 axes")))
            }
            Layer::Relu(relu) => relu.backward(dout),
            Layer::Affine(affine) => affine.backward(dout),
            Layer::Dropout(dropout) => dropout.backward(dout),
        }
    }

    /// The evaluation forward, keeping nothing; x: (N, in values) → (N, out values).
    fn forward_eval(&self, mut x: Array2<F>) -> Array2<F> {
        match self {
            Layer::Conv(conv, shape) => to_rows(conv.forward_eval(maps(x.view(), *shape))),
            Layer::Pool(pool, shape) => to_rows(pool.forward_eval(maps(x.view(), *shape))),
            Layer::Relu(_) => {
                x.mapv_inplace(|v| v.max(F::zero()));
                x
            }
            Layer::Affine(affine) => {
                let mut out = Array2::zeros((0, 0));
                affine.forward_eval_into(x.view(), &mut out);
                out
            }
            Layer::Dropout(dropout) => {
                dropout.forward_eval_inplace(&mut x);
                x
            }
        }
    }
}

/// (N, C, H, W) maps as (N, C·H·W) rows.
fn to_rows<F: Float>(x: Array4<F>) -> Array2<F> {
    let (n, c, h, w) = x.dim();
    x.into_shape_with_order((n, c * h * w))
        .expect("standard layout")
}

/// A convolutional network built from a [`ConvNetConfig`], parameters `W1`, `b1`, …
#[derive(Clone)]
pub struct ConvNet<F: Float> {
    layers: Vec<Layer<F>>,
    last_layer: SoftmaxWithLoss<F>,
    config: ConvNetConfig,
    output_size: usize,
    names: Vec<String>,
    /// A sparse or strided input batch copied dense, row-major (reused).
    input: Array2<F>,
}

impl ConvNetConfig {
    /// The network for `input_size` (= C·H·W) → `output_size` classes: every W drawn from
    /// `rng` as `σ · randn` in parameter order (a conv's as (FN, C, FH, FW)), b = 0, then one
    /// seed per Dropout layer.
    pub fn init<F: Float>(
        &self,
        input_size: usize,
        output_size: usize,
        rng: &mut impl Rng,
    ) -> Result<ConvNet<F>> {
        self.validate(input_size, output_size)?;
        let stages = self.stages(output_size)?;
        let mut weights = Vec::new();
        for stage in &stages {
            if let Some((count, fan_in, _)) = stage.weights() {
                let (fan_out, std) = (count / fan_in.max(1), self.weight_init.std(fan_in));
                // The book's shapes: a conv's W (FN, C, FH, FW), an affine's (in, out).
                weights.push(match stage.layer {
                    ConvLayer::Conv { .. } => randn::<F>(rng, fan_out, fan_in, std),
                    _ => randn::<F>(rng, fan_in, fan_out, std),
                });
            }
        }
        let mut weights = weights.into_iter();
        let (mut layers, mut names) = (Vec::new(), Vec::new());
        for stage in &stages {
            let input = match stage.input {
                Shape::Maps(c, h, w) => [c, h, w],
                Shape::Flat(n) => [n, 1, 1],
            };
            if stage.weights().is_some() {
                let k = names.len() / 2 + 1;
                names.extend([format!("W{k}"), format!("b{k}")]);
            }
            match stage.layer {
                ConvLayer::Conv {
                    size,
                    stride,
                    pad,
                    filters,
                } => {
                    let W = weights.next().expect("a W per conv");
                    let W = W
                        .into_shape_with_order((filters, input[0], size, size))
                        .expect("FN·C·FH·FW draws");
                    let mut conv = Convolution::new(W, Array1::zeros(filters), stride, pad);
                    conv.needs_dx = !layers.is_empty();
                    layers.push(Layer::Conv(conv, input));
                    layers.push(Layer::Relu(Relu::default()));
                }
                ConvLayer::Pool { size, stride } => {
                    layers.push(Layer::Pool(Pooling::new(size, size, stride, 0), input));
                }
                ConvLayer::Affine { .. } | ConvLayer::Output => {
                    let W = weights.next().expect("a W per affine");
                    let mut affine = Affine::new(W, Array1::zeros(stage.output.len()));
                    affine.needs_dx = !layers.is_empty();
                    layers.push(Layer::Affine(affine));
                    if stage.layer != ConvLayer::Output {
                        layers.push(Layer::Relu(Relu::default()));
                    }
                }
                ConvLayer::Dropout { ratio } => {
                    layers.push(Layer::Dropout(Dropout::new(ratio, 0)?));
                }
            }
        }
        for layer in &mut layers {
            if let Layer::Dropout(dropout) = layer {
                *dropout = Dropout::new(dropout.dropout_ratio, rng.random())?;
            }
        }
        Ok(ConvNet {
            layers,
            last_layer: SoftmaxWithLoss::default(),
            config: self.clone(),
            output_size,
            names,
            input: Array2::zeros((0, 0)),
        })
    }
}

impl<F: Float> ConvNet<F> {
    /// The config this network was built from.
    pub fn config(&self) -> &ConvNetConfig {
        &self.config
    }

    /// Makes every Dropout layer reuse its mask (`true`) or draw a new one per training forward.
    pub fn fix_dropout_masks(&mut self, fixed: bool) {
        for layer in &mut self.layers {
            if let Layer::Dropout(dropout) = layer {
                dropout.fixed_mask = fixed;
            }
        }
    }

    /// The training forward (dropout masks drawn) and the loss.
    fn forward_loss(&mut self, x: &dyn AsInput<F>, t: Targets<F>) -> F {
        let x = dense_rows(x.as_input(), &mut self.input);
        let mut h = x;
        for layer in &mut self.layers {
            h = layer.forward(h, true);
        }
        self.last_layer.forward(h, t)
    }

    /// The evaluation forward of a block of rows, showing `seen` each layer's output.
    fn forward_eval(&self, x: Input<F>, mut seen: impl FnMut(&Layer<F>, &Array2<F>)) -> Array2<F> {
        let mut h = x.to_dense().as_standard_layout().into_owned();
        for layer in &self.layers {
            h = layer.forward_eval(h);
            seen(layer, &h);
        }
        h
    }

    /// Each conv, ReLU and pool output for one image (C·H·W values) while the maps are
    /// spatial, named `Conv1`, `Relu1`, `Pool1`, … (numbered per kind): (C, H, W) each.
    pub fn feature_maps(&self, image: ArrayView1<F>) -> Vec<(String, Array3<F>)> {
        let x = image.insert_axis(ndarray::Axis(0));
        self.layer_outputs(x)
            .into_iter()
            .filter_map(|output| {
                let map = output.values.into_dimensionality::<Ix4>().ok()?;
                Some((output.name, map.index_axis_move(ndarray::Axis(0), 0)))
            })
            .collect()
    }
}

/// Names a conv net's layer outputs as its evaluation forward walks the layers, with the
/// per-sample shape each one outputs.
struct Namer {
    /// Conv, ReLU and Pool layers seen while the maps are spatial; fully connected ReLUs.
    counts: [usize; 4],
    /// The shape of the last output: (C, H, W) while spatial, then (values,).
    shape: Vec<usize>,
}

impl Namer {
    /// The name and activation of `layer`'s output, its per-sample shape left in `shape`;
    /// `None` for an Affine's (before its ReLU) and a Dropout's output, which are not shown.
    fn name<F: Float>(&mut self, layer: &Layer<F>) -> Option<(String, Option<Activation>)> {
        let spatial = self.shape.len() == 3;
        let (kind, slot, activation) = match layer {
            Layer::Conv(conv, [c, h, w]) => {
                let [_, filters, oh, ow] = conv.output_shape((1, *c, *h, *w));
                self.shape = vec![filters, oh, ow];
                ("Conv", 0, None)
            }
            Layer::Pool(pool, [c, h, w]) => {
                let [_, c, oh, ow] = pool.output_shape((1, *c, *h, *w));
                self.shape = vec![c, oh, ow];
                ("Pool", 2, None)
            }
            Layer::Relu(_) if spatial => ("Relu", 1, Some(Activation::Relu)),
            Layer::Relu(_) => {
                self.counts[3] += 1;
                let name = hidden_name(self.counts[3], Activation::Relu);
                return Some((name, Some(Activation::Relu)));
            }
            Layer::Affine(affine) => {
                self.shape = vec![affine.W.ncols()];
                return None;
            }
            Layer::Dropout(_) => return None,
        };
        self.counts[slot] += 1;
        Some((format!("{kind}{}", self.counts[slot]), activation))
    }
}

/// The batch as dense rows in standard layout: a dense row-major view as it is, anything else
/// copied into `buffer` (reused: no allocation once it has the batch's shape).
fn dense_rows<'a, F: Float>(x: Input<'a, F>, buffer: &'a mut Array2<F>) -> ArrayView2<'a, F> {
    if let Input::Dense(view) = x {
        if view.is_standard_layout() {
            return view;
        }
    }
    let (n, d) = match x {
        Input::Dense(v) => v.dim(),
        Input::Sparse(v) => (v.nrows(), v.ncols()),
    };
    crate::kernels::ensure_shape(buffer, n, d);
    match x {
        Input::Dense(v) => buffer.assign(&v),
        Input::Sparse(v) => {
            for (i, row) in buffer.rows_mut().into_iter().enumerate() {
                v.write_row_into(i, row.into_slice().expect("a row of a standard array"));
            }
        }
    }
    buffer.view()
}

impl<F: Float> Network<F> for ConvNet<F> {
    /// The evaluation forward (Dropout scales), EVAL_ROWS rows at a time.
    fn predict(&self, x: &dyn AsInput<F>) -> Array2<F> {
        let x = x.as_input();
        let n = x.nrows();
        let mut scores = Array2::zeros((n, self.output_size));
        for start in (0..n).step_by(EVAL_ROWS) {
            let end = (start + EVAL_ROWS).min(n);
            let block = self.forward_eval(x.slice_rows(start..end), |_, _| {});
            scores.slice_mut(s![start..end, ..]).assign(&block);
        }
        scores
    }

    /// Each conv, ReLU and pool output while the maps are spatial (`Conv1`, `Relu1`, `Pool1`,
    /// … numbered per kind: (N, C, H, W)), each fully connected hidden layer after its ReLU
    /// (`hidden 1 (relu)`: (N, width)), then the scores (N, out), from `predict`'s code.
    fn layer_outputs(&self, x: ArrayView2<F>) -> Vec<LayerOutput<F>> {
        let n = x.nrows();
        let mut namer = Namer {
            counts: [0; 4],
            shape: self.config.input_shape.to_vec(),
        };
        let mut outputs = Vec::new();
        let scores = self.forward_eval(Input::Dense(x), |layer, out| {
            if let Some((name, activation)) = namer.name(layer) {
                let shape: Vec<usize> = std::iter::once(n).chain(namer.shape.clone()).collect();
                let values = out
                    .clone()
                    .into_shape_with_order(shape)
                    .expect("the layer's output shape");
                outputs.push(LayerOutput::new(name, values, activation));
            }
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
        loss
    }

    fn params(&self) -> Vec<ParamView<'_, F>> {
        let arrays = self.layers.iter().flat_map(|layer| match layer {
            Layer::Conv(c, _) => vec![
                (c.W.view().into_dyn(), c.dW.view().into_dyn()),
                (c.b.view().into_dyn(), c.db.view().into_dyn()),
            ],
            Layer::Affine(a) => vec![
                (a.W.view().into_dyn(), a.dW.view().into_dyn()),
                (a.b.view().into_dyn(), a.db.view().into_dyn()),
            ],
            _ => vec![],
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
                Layer::Conv(c, _) => {
                    f(Param::new(name(), c.W.view_mut(), c.dW.view()));
                    f(Param::new(name(), c.b.view_mut(), c.db.view()));
                }
                Layer::Affine(a) => Param::of_affine(a, [name(), name()])
                    .into_iter()
                    .for_each(&mut *f),
                _ => {}
            }
        }
    }

    fn input_size(&self) -> usize {
        self.config.input_size()
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
}

#[cfg(test)]
#[path = "conv_net/tests.rs"]
mod tests;
