//! Optimizers: how a parameter moves given its gradient. One type per rule, behind one trait,
//! each following the book's `common/optimizer.py` with its defaults.
//!
//! Rules with state (Momentum's `v`, AdaGrad's `h`, Adam's `m` and `v`) keep it per parameter
//! name, allocated at the parameter's first update and reused from then on.

pub mod adagrad;
pub mod adam;
pub mod momentum;
pub mod nesterov;
pub mod rmsprop;
pub mod schedule;
pub mod sgd;

pub use adagrad::AdaGrad;
pub use adam::Adam;
pub use momentum::Momentum;
pub use nesterov::Nesterov;
pub use rmsprop::RmsProp;
pub use schedule::{Decay, LrSchedule};
pub use sgd::{check_learning_rate, Sgd};

use crate::choice::{display_and_parse, Choice};
use crate::kernels::team;
use crate::net::Network;
use crate::{Float, Result};
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An update rule, applied parameter by parameter; `key` names the parameter (`W1`, `b1`, …)
/// so that rules with state (momentum, Adam) keep one state per parameter.
pub trait Optimizer<F: Float> {
    /// Moves `param` using its gradient `grad` (same shape).
    fn update(&mut self, key: &str, param: ArrayViewMutD<F>, grad: ArrayViewD<F>);

    /// The learning rate the next updates step with.
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate of the next updates (a [`LrSchedule`]'s, each iteration); the
    /// rule's state (Adam's moments and update count) is untouched, and nothing is allocated.
    fn set_learning_rate(&mut self, lr: f64);

    /// [`Optimizer::update`] for a 2-D `param` whose `grad` is exactly 0 outside `rows`.
    /// Rules under which a zero gradient leaves a weight unchanged (SGD: `w − lr·0 = w`) need
    /// only visit those rows; the default updates everything, as rules with state must
    /// (Momentum's velocity and Adam's moments decay every step, gradient or not).
    fn update_rows(
        &mut self,
        key: &str,
        param: ArrayViewMutD<F>,
        grad: ArrayViewD<F>,
        rows: &[u32],
    ) {
        let _ = rows;
        self.update(key, param, grad);
    }

    /// The slots of per-parameter state the rule keeps once it has updated (`["m", "v"]` for
    /// Adam; none for SGD): after any update, [`Optimizer::state`] holds `slot/name` for every
    /// slot and parameter, each of the parameter's shape.
    fn state_slots(&self) -> &'static [&'static str] {
        &[]
    }

    /// The rule's state as named arrays (`v/W1`, `m/W1`, …) for a checkpoint; SGD has none.
    fn state(&self) -> Vec<(String, ArrayD<F>)> {
        Vec::new()
    }

    /// Restores what [`Optimizer::state`] gave, after `updates` updates of every parameter
    /// (Adam's bias correction counts them); an entry the rule does not know is an error.
    fn set_state(
        &mut self,
        state: Vec<(String, ArrayD<F>)>,
        _updates: usize,
    ) -> std::result::Result<(), String> {
        match state.first() {
            None => Ok(()),
            Some((name, _)) => Err(format!(
                "optimizer state {name} does not belong to this optimizer"
            )),
        }
    }
}

/// One slot of per-parameter state (`v` of Momentum, …) as checkpoint entries `slot/key`,
/// in key order so that files come out the same every time.
fn export_slot<'a, F: Float>(
    slot: &str,
    entries: impl Iterator<Item = (&'a String, &'a ArrayD<F>)>,
) -> Vec<(String, ArrayD<F>)> {
    let mut out: Vec<(String, ArrayD<F>)> = entries
        .map(|(key, a)| (format!("{slot}/{key}"), a.clone()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Takes the entries `slot/key` out of `state`, keyed by parameter name.
fn import_slot<F: Float>(
    slot: &str,
    state: &mut Vec<(String, ArrayD<F>)>,
) -> HashMap<String, ArrayD<F>> {
    let prefix = format!("{slot}/");
    let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(state)
        .into_iter()
        .partition(|(name, _)| name.starts_with(&prefix));
    *state = rest;
    mine.into_iter()
        .map(|(name, a)| (name[prefix.len()..].to_string(), a))
        .collect()
}

/// Restores a rule whose whole state is one slot of arrays (Momentum, Nesterov, AdaGrad,
/// RMSprop): every entry must be of that slot.
fn set_single_slot<F: Float>(
    slot: &str,
    map: &mut HashMap<String, ArrayD<F>>,
    mut state: Vec<(String, ArrayD<F>)>,
) -> std::result::Result<(), String> {
    *map = import_slot(slot, &mut state);
    match state.first() {
        None => Ok(()),
        Some((name, _)) => Err(format!(
            "optimizer state {name} does not belong to this optimizer"
        )),
    }
}

/// Applies `optimizer` to every parameter of `net`, with the gradients of its last `gradient`.
pub fn step<F: Float, N: Network<F> + ?Sized>(net: &mut N, optimizer: &mut dyn Optimizer<F>) {
    net.for_each_param_mut(&mut |p| match p.rows {
        Some(rows) => optimizer.update_rows(p.name, p.value, p.grad, rows),
        None => optimizer.update(p.name, p.value, p.grad),
    });
}

/// The book's `1e-7`, added to a root before dividing by it (AdaGrad, RMSprop, Adam).
pub const EPSILON: f64 = 1e-7;

/// Applies an update rule `rule(w, g, [slot values])` to every element of a parameter, its
/// gradient and its `S` state arrays (the same shape), blocks of elements at once on the
/// kernels' team of threads — each element's arithmetic is its own, so the split changes no
/// number.
fn for_each_element<F: Float, const S: usize>(
    mut param: ArrayViewMutD<F>,
    grad: ArrayViewD<F>,
    mut slots: [&mut ArrayD<F>; S],
    rule: impl Fn(&mut F, F, [&mut F; S]) + Sync,
) {
    for slot in &slots {
        assert_eq!(
            slot.shape(),
            param.shape(),
            "an optimizer's state has its parameter's shape"
        );
    }
    assert_eq!(
        grad.shape(),
        param.shape(),
        "a gradient has its parameter's shape"
    );
    let states = slots
        .each_mut()
        .map(|s| s.as_slice_mut().expect("state arrays are made contiguous"));
    let parts = team::parts_for(param.len() * ELEMENT_COST, team::MIN_PART_WORK, param.len());
    if let (2.., Some(w), Some(g)) = (parts, param.as_slice_mut(), grad.as_slice()) {
        let bounds = team::even_bounds(w.len(), parts);
        let mut rest = (w, states);
        let blocks = bounds.windows(2).map(|ends| {
            let len = ends[1] - ends[0];
            let (w, tail) = std::mem::take(&mut rest.0).split_at_mut(len);
            rest.0 = tail;
            let mut heads: [&mut [F]; S] = std::array::from_fn(|_| &mut [][..]);
            for (head, state) in heads.iter_mut().zip(rest.1.iter_mut()) {
                let (h, t) = std::mem::take(state).split_at_mut(len);
                (*head, *state) = (h, t);
            }
            (&g[ends[0]..ends[1]], w, heads)
        });
        return team::for_each_block(blocks, |_, (g, w, states)| {
            apply_slices(w, g, states, &rule)
        });
    }
    if let (Some(w), Some(g)) = (param.as_slice_mut(), grad.as_slice()) {
        return apply_slices(w, g, states, &rule);
    }
    // One part, or a strided view: element by element, in logical order (the states' memory
    // order).
    apply(param.iter_mut(), grad.iter(), states, &rule);
}

/// `rule` on the elements of contiguous `w` and `g`, in order, with the states' elements at
/// the same positions: slices of one length, indexed, so that the compiler can vectorize the
/// rule (Adam's square root and division included).
fn apply_slices<F: Float, const S: usize>(
    w: &mut [F],
    g: &[F],
    states: [&mut [F]; S],
    rule: &impl Fn(&mut F, F, [&mut F; S]),
) {
    let n = w.len();
    let g = &g[..n];
    let mut states = states.map(|s| &mut s[..n]);
    for k in 0..n {
        rule(&mut w[k], g[k], states.each_mut().map(|s| &mut s[k]));
    }
}

/// `rule` on the elements of `w` and `g`, in order, with the states' elements at the same
/// positions.
fn apply<'a, F: Float + 'a, const S: usize>(
    w: impl Iterator<Item = &'a mut F>,
    g: impl Iterator<Item = &'a F>,
    mut states: [&mut [F]; S],
    rule: &impl Fn(&mut F, F, [&mut F; S]),
) {
    for (k, (w, &g)) in w.zip(g).enumerate() {
        rule(w, g, states.each_mut().map(|s| &mut s[k]));
    }
}

/// An update rule's cost per element in multiply-adds, roughly (a square root and a division
/// for the adaptive ones), for splitting the work between threads.
const ELEMENT_COST: usize = 8;

/// The state of parameter `key`, made by `init` at its first update (the only allocation).
fn state<'a, S>(map: &'a mut HashMap<String, S>, key: &str, init: impl FnOnce() -> S) -> &'a mut S {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), init());
    }
    map.get_mut(key).expect("inserted above")
}

/// The update rules by name, for the command line and the settings files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// [`Sgd`]: `W ← W − lr·dW`.
    Sgd,
    /// [`Momentum`] (0.9).
    Momentum,
    /// [`Nesterov`] (0.9).
    Nesterov,
    /// [`AdaGrad`].
    AdaGrad,
    /// [`RmsProp`] (decay 0.99).
    RmsProp,
    /// [`Adam`] (β1 0.9, β2 0.999).
    Adam,
}

impl OptimizerKind {
    /// Every rule, in the book's order.
    pub const ALL: [OptimizerKind; 6] = [
        OptimizerKind::Sgd,
        OptimizerKind::Momentum,
        OptimizerKind::Nesterov,
        OptimizerKind::AdaGrad,
        OptimizerKind::RmsProp,
        OptimizerKind::Adam,
    ];

    /// The book's class name: `SGD`, `Momentum`, `Nesterov`, `AdaGrad`, `RMSprop`, `Adam`.
    pub fn book_name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "SGD",
            OptimizerKind::Momentum => "Momentum",
            OptimizerKind::Nesterov => "Nesterov",
            OptimizerKind::AdaGrad => "AdaGrad",
            OptimizerKind::RmsProp => "RMSprop",
            OptimizerKind::Adam => "Adam",
        }
    }

    /// The learning rate used when none is given: 0.1 for SGD (the chapter-4 run's), and the
    /// book's defaults for the others (0.01; Adam 0.001).
    pub fn default_learning_rate(self) -> f64 {
        match self {
            OptimizerKind::Sgd => 0.1,
            OptimizerKind::Adam => 0.001,
            _ => 0.01,
        }
    }

    /// `lr`, or when none is given this rule's [`default_learning_rate`](Self::default_learning_rate).
    pub fn learning_rate_or_default(self, lr: Option<f64>) -> f64 {
        lr.unwrap_or_else(|| self.default_learning_rate())
    }

    /// A fresh optimizer of this kind with learning rate `lr` (positive, finite).
    pub fn build<F: Float>(self, lr: f64) -> Result<Box<dyn Optimizer<F> + Send>> {
        Ok(match self {
            OptimizerKind::Sgd => Box::new(Sgd::new(lr)?),
            OptimizerKind::Momentum => Box::new(Momentum::new(lr)?),
            OptimizerKind::Nesterov => Box::new(Nesterov::new(lr)?),
            OptimizerKind::AdaGrad => Box::new(AdaGrad::new(lr)?),
            OptimizerKind::RmsProp => Box::new(RmsProp::new(lr)?),
            OptimizerKind::Adam => Box::new(Adam::new(lr)?),
        })
    }
}

impl Choice for OptimizerKind {
    const ALL: &'static [Self] = &OptimizerKind::ALL;

    fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Momentum => "momentum",
            OptimizerKind::Nesterov => "nesterov",
            OptimizerKind::AdaGrad => "adagrad",
            OptimizerKind::RmsProp => "rmsprop",
            OptimizerKind::Adam => "adam",
        }
    }

    fn help(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "SGD: W ← W − lr·dW",
            OptimizerKind::Momentum => "Momentum (0.9)",
            OptimizerKind::Nesterov => "Nesterov (0.9)",
            OptimizerKind::AdaGrad => "AdaGrad",
            OptimizerKind::RmsProp => "RMSprop (decay 0.99)",
            OptimizerKind::Adam => "Adam (β1 0.9, β2 0.999)",
        }
    }
}

display_and_parse!(OptimizerKind);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ndarray::array;

    /// Runs two updates of `W1 = (1, −2)` with gradients g1 = (0.5, −1) then g2 = (0.2, 0.4)
    /// and checks the weights after each against the hand-computed `after1`, `after2`.
    pub fn assert_two_updates(opt: &mut dyn Optimizer<f64>, after1: [f64; 2], after2: [f64; 2]) {
        let mut w = array![1.0, -2.0].into_dyn();
        let mut other = array![3.0].into_dyn();
        for (g, expected) in [([0.5, -1.0], after1), ([0.2, 0.4], after2)] {
            opt.update("W1", w.view_mut(), array![g[0], g[1]].into_dyn().view());
            // Another parameter in between: state must stay per name.
            opt.update("b1", other.view_mut(), array![1.0].into_dyn().view());
            for (got, want) in w.iter().zip(expected) {
                assert!((got - want).abs() < 1e-12, "{w} vs {expected:?}");
            }
        }
    }

    /// A (5, width) weight matrix, every entry different.
    pub fn start_weights(width: usize) -> ArrayD<f64> {
        ndarray::Array2::from_shape_fn((5, width), |(i, j)| 0.37 * (i * width + j) as f64 - 3.0)
            .into_dyn()
    }

    /// Five steps of gradients for a [`start_weights`] matrix, each exactly 0 outside its
    /// listed rows: rows out of order, a batch that touches none, row 3 three times, rising
    /// rows with a gap.
    pub fn row_sparse_gradients(width: usize) -> Vec<(ArrayD<f64>, Vec<u32>)> {
        [vec![3, 1], vec![], vec![0], vec![4, 3], vec![0, 2, 3, 4]]
            .into_iter()
            .enumerate()
            .map(|(step, rows)| {
                let mut g = ndarray::Array2::zeros((5, width));
                for &i in &rows {
                    for j in 0..width {
                        g[[i as usize, j]] = (step + 1) as f64 * 0.1 * (j as f64 - 1.5) + 0.01;
                    }
                }
                (g.into_dyn(), rows)
            })
            .collect()
    }

    #[test]
    fn update_rows_gives_the_dense_update_for_every_rule() {
        for kind in OptimizerKind::ALL {
            let (mut by_rows, mut dense) = (kind.build(0.1).unwrap(), kind.build(0.1).unwrap());
            let start = start_weights(40);
            let (mut a, mut b) = (start.clone(), start.clone());
            for (g, rows) in row_sparse_gradients(40) {
                by_rows.update_rows("W1", a.view_mut(), g.view(), &rows);
                dense.update("W1", b.view_mut(), g.view());
                assert_eq!(a, b, "{kind}, rows {rows:?}");
            }
            assert_ne!(a, start, "{kind} moved nothing");
        }
    }

    #[test]
    fn every_rule_gives_the_same_bits_in_any_number_of_parts_and_on_a_strided_view() {
        use crate::kernels::tests::ForceParts;
        let start = start_weights(301);
        let grads: Vec<_> = (1..=3)
            .map(|k| start.mapv(|w| (w * k as f64).sin()))
            .collect();
        for kind in OptimizerKind::ALL {
            let run = |parts: usize, strided: bool| {
                let _parts = ForceParts::new(parts);
                let mut opt = kind.build(0.1).unwrap();
                // A transposed copy updated through its transposed view: the same weights,
                // reached through strides.
                let mut w = if strided {
                    start.t().to_owned()
                } else {
                    start.clone()
                };
                for g in &grads {
                    let view = if strided {
                        w.view_mut().reversed_axes()
                    } else {
                        w.view_mut()
                    };
                    opt.update("W1", view, g.view());
                }
                if strided {
                    w.t().to_owned()
                } else {
                    w
                }
            };
            let one = run(1, false);
            assert_ne!(one, start, "{kind} moved nothing");
            for parts in [2, 3, 5] {
                assert_eq!(run(parts, false), one, "{kind} in {parts} parts");
            }
            assert_eq!(run(2, true), one, "{kind} on a strided view");
        }
    }

    #[test]
    fn build_makes_the_rule_of_its_kind_with_the_given_rate() {
        // Two updates with the same gradient g from w = (1, −2) at lr 0.3 (no rule's default).
        // Each rule's total move is −lr·c·g, or −lr·c·sign(g) for the rules that divide by a
        // root of squared gradients, with c by hand (ε = 1e-7 shifts these by < 1e-5):
        // SGD 1 + 1; Momentum v = −lr·g then −1.9·lr·g: 2.9; Nesterov (0.81 + 1.9) then
        // (0.81·1.9 + 1.9): 6.149; AdaGrad h = g² then 2g²: 1 + 1/√2; RMSprop h = 0.01·g² then
        // 0.0199·g²: 10 + 1/√0.0199; Adam m/√v = 0.1·g/√(0.001·g²) times lr_t = lr·√0.001/0.1,
        // then 0.19·g/√(0.001999·g²) times lr·√0.001999/0.19: 1 + 1.
        let rules = [
            (OptimizerKind::Sgd, 2.0, false),
            (OptimizerKind::Momentum, 2.9, false),
            (OptimizerKind::Nesterov, 6.149, false),
            (OptimizerKind::AdaGrad, 1.0 + 0.5f64.sqrt(), true),
            (OptimizerKind::RmsProp, 10.0 + 1.0 / 0.0199f64.sqrt(), true),
            (OptimizerKind::Adam, 2.0, true),
        ];
        assert_eq!(rules.map(|r| r.0), OptimizerKind::ALL);
        let (lr, g) = (0.3, [0.5, -1.0]);
        for (kind, c, by_sign) in rules {
            let mut opt = kind.build::<f64>(lr).unwrap();
            let mut w = array![1.0, -2.0].into_dyn();
            for _ in 0..2 {
                opt.update("W1", w.view_mut(), array![g[0], g[1]].into_dyn().view());
            }
            for (k, start) in [1.0, -2.0].into_iter().enumerate() {
                let direction = if by_sign { g[k].signum() } else { g[k] };
                let expected = start - lr * c * direction;
                assert!(
                    (w[k] - expected).abs() < 1e-4,
                    "{kind}: {w} vs w[{k}] = {expected}"
                );
            }
        }
    }

    #[test]
    fn a_rule_restored_from_its_state_continues_bit_for_bit() {
        let grads = [
            [0.5, -1.0],
            [0.2, 0.4],
            [-0.3, 0.1],
            [0.7, 0.2],
            [0.05, -0.6],
        ];
        for kind in OptimizerKind::ALL {
            let run =
                |opt: &mut dyn Optimizer<f32>, w: &mut ndarray::ArrayD<f32>, steps: &[[f32; 2]]| {
                    for g in steps {
                        opt.update("W1", w.view_mut(), array![g[0], g[1]].into_dyn().view());
                    }
                };
            let grads: Vec<[f32; 2]> = grads.iter().map(|g| [g[0] as f32, g[1] as f32]).collect();
            let mut whole = kind.build::<f32>(0.1).unwrap();
            let mut w_whole = array![1.0f32, -2.0].into_dyn();
            run(whole.as_mut(), &mut w_whole, &grads);

            let mut first = kind.build::<f32>(0.1).unwrap();
            let mut w = array![1.0f32, -2.0].into_dyn();
            run(first.as_mut(), &mut w, &grads[..3]);
            let mut second = kind.build::<f32>(0.1).unwrap();
            second.set_state(first.state(), 3).unwrap();
            run(second.as_mut(), &mut w, &grads[3..]);
            assert_eq!(w, w_whole, "{kind}");
            assert_eq!(second.state(), whole.state(), "{kind}");
            let stray = vec![(
                "zz/W1".to_string(),
                ndarray::ArrayD::zeros(ndarray::IxDyn(&[2])),
            )];
            assert!(
                kind.build::<f32>(0.1).unwrap().set_state(stray, 3).is_err(),
                "{kind}"
            );
        }
    }

    #[test]
    fn kinds_parse_print_and_build() {
        for kind in OptimizerKind::ALL {
            let name = kind.to_string();
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<OptimizerKind>(&json).unwrap(), kind);
            assert!(kind.build::<f32>(-1.0).is_err());
        }
        assert_eq!(OptimizerKind::RmsProp.to_string(), "rmsprop");
        assert_eq!(OptimizerKind::AdaGrad.to_string(), "adagrad");
    }
}
