//! Dropout (chapter 6): while training, each neuron is dropped with probability
//! `dropout_ratio`; at evaluation every output is scaled by `1 − dropout_ratio` instead, as
//! the book's `Dropout` does.

use super::ensure_shape;
use crate::{Error, Float, Result};
use ndarray::{Array2, ArrayView2, Zip};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Dropout with its own seeded RNG; keeps `mask` (true where a neuron is kept) for `backward`.
#[derive(Clone)]
pub struct Dropout<F: Float> {
    /// Probability that a neuron is dropped (the book's `dropout_ratio`), in [0, 1).
    pub dropout_ratio: f64,
    /// When set, a training `forward` reuses the last mask (drawing one only if the shape
    /// changed), so that repeated forwards compute the same function — for gradient checks.
    pub fixed_mask: bool,
    mask: Array2<bool>,
    seed: u64,
    rng: ChaCha8Rng,
    out: Array2<F>,
    dx: Array2<F>,
}

impl<F: Float> Dropout<F> {
    /// Dropout of `dropout_ratio` (0 ≤ ratio < 1) whose masks are drawn from `seed`.
    pub fn new(dropout_ratio: f64, seed: u64) -> Result<Self> {
        check_dropout_ratio(dropout_ratio)?;
        Ok(Dropout {
            dropout_ratio,
            fixed_mask: false,
            mask: Array2::from_elem((0, 0), false),
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed),
            out: Array2::zeros((0, 0)),
            dx: Array2::zeros((0, 0)),
        })
    }

    /// The mask generator's seed and how many random words it has used (to save and resume
    /// a run).
    pub fn rng_state(&self) -> (u64, u128) {
        (self.seed, self.rng.get_word_pos())
    }

    /// Puts the mask generator at `position` words from `seed`.
    pub fn set_rng_state(&mut self, (seed, position): (u64, u128)) {
        self.seed = seed;
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.rng.set_word_pos(position);
    }

    /// Training (`train_flg`): `out = x ⊙ mask`, each element kept when a uniform draw exceeds
    /// `dropout_ratio`; evaluation: `out = x · (1 − dropout_ratio)`. x: (N, D) → (N, D).
    pub fn forward(&mut self, x: ArrayView2<F>, train_flg: bool) -> ArrayView2<'_, F> {
        ensure_shape(&mut self.out, x.nrows(), x.ncols());
        if !train_flg {
            let keep = F::of(1.0 - self.dropout_ratio);
            Zip::from(&mut self.out)
                .and(x)
                .for_each(|o, &v| *o = v * keep);
            return self.out.view();
        }
        if !(self.fixed_mask && self.mask.dim() == x.dim()) {
            if self.mask.dim() != x.dim() {
                self.mask = Array2::from_elem(x.dim(), false);
            }
            let ratio = self.dropout_ratio;
            let rng = &mut self.rng;
            self.mask
                .iter_mut()
                .for_each(|m| *m = rng.random::<f64>() > ratio);
        }
        Zip::from(&mut self.out)
            .and(x)
            .and(&self.mask)
            .for_each(|o, &v, &m| *o = if m { v } else { F::zero() });
        self.out.view()
    }

    /// `dx = dout ⊙ mask` (the mask of the last training `forward`); dout: (N, D) → dx: (N, D).
    pub fn backward(&mut self, dout: ArrayView2<F>) -> ArrayView2<'_, F> {
        ensure_shape(&mut self.dx, dout.nrows(), dout.ncols());
        Zip::from(&mut self.dx)
            .and(dout)
            .and(&self.mask)
            .for_each(|dx, &d, &m| *dx = if m { d } else { F::zero() });
        self.dx.view()
    }

    /// The evaluation forward in place, keeping nothing: `x ← x · (1 − dropout_ratio)`; x: (N, D).
    pub fn forward_eval_inplace(&self, x: &mut Array2<F>) {
        let keep = F::of(1.0 - self.dropout_ratio);
        x.mapv_inplace(|v| v * keep);
    }
}

/// A dropout ratio must lie in [0, 1).
pub fn check_dropout_ratio(ratio: f64) -> Result<()> {
    if !(0.0..1.0).contains(&ratio) {
        return Err(Error::invalid(
            "dropout ratio",
            ratio,
            "a probability in [0, 1) such as 0.5",
        ));
    }
    Ok(())
}

/// Restores each Dropout's generator position, in layer order, from what their `rng_state`s
/// gave; refuses a count of positions that differs from the count of layers.
pub fn set_rng_states<'a, F: Float + 'a>(
    dropouts: impl Iterator<Item = &'a mut Dropout<F>>,
    state: &[(u64, u128)],
) -> std::result::Result<(), String> {
    let mut dropouts: Vec<&mut Dropout<F>> = dropouts.collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn training_drops_about_the_ratio_and_backward_uses_the_same_mask() {
        let x = Array2::from_elem((200, 50), 2.0);
        let mut layer = Dropout::new(0.3, 5).unwrap();
        let out = layer.forward(x.view(), true).to_owned();
        let kept = out.iter().filter(|&&v| v == 2.0).count() as f64 / x.len() as f64;
        assert!((kept - 0.7).abs() < 0.02, "kept {kept}");
        assert!(out.iter().all(|&v| v == 0.0 || v == 2.0));
        let dx = layer.backward(Array2::ones((200, 50)).view()).to_owned();
        assert_eq!(dx.mapv(|v| v * 2.0), out);
    }

    #[test]
    fn a_fixed_mask_repeats() {
        let x = Array2::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as f64 + 1.0);
        let mut layer = Dropout::new(0.5, 1).unwrap();
        let first = layer.forward(x.view(), true).to_owned();
        assert_ne!(layer.forward(x.view(), true), first, "a new mask each time");
        layer.fixed_mask = true;
        let fixed = layer.forward(x.view(), true).to_owned();
        assert_eq!(layer.forward(x.view(), true), fixed);
        assert!(Dropout::<f64>::new(1.0, 0).is_err());
        assert!(Dropout::<f64>::new(-0.1, 0).is_err());
    }

    #[test]
    fn training_keeps_the_draws_above_the_ratio_and_evaluation_scales_by_one_minus_it() {
        let x = Array2::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as f64 - 7.5);
        // The mask is the seeded generator's uniform draws in row order, an element kept
        // (unscaled, as in the book) where its draw exceeds the ratio; drawn again here.
        let mut draws = ChaCha8Rng::seed_from_u64(11);
        let expected = x.mapv(|v| if draws.random::<f64>() > 0.3 { v } else { 0.0 });
        let mut layer = Dropout::new(0.3, 11).unwrap();
        assert_eq!(layer.forward(x.view(), true), expected);
        let dropped = expected.iter().filter(|&&v| v == 0.0).count();
        assert!((3..=12).contains(&dropped), "{dropped} of 24 dropped");
        // Ratio 0: a mask of ones, whatever the draws.
        let mut keep_all = Dropout::new(0.0, 3).unwrap();
        assert_eq!(keep_all.forward(x.view(), true), x);
        // Evaluation: every output times 1 − 0.3 = 0.7 (not 0.3: a ratio of 0.5 would hide it).
        let by_hand = x.mapv(|v| v * 0.7);
        let mut in_place = x.clone();
        layer.forward_eval_inplace(&mut in_place);
        for got in [layer.forward(x.view(), false).to_owned(), in_place] {
            assert!((&got - &by_hand).iter().all(|d| d.abs() < 1e-14), "{got}");
        }
    }
}
