//! The training tools a user reaches for beyond the book's loop, all opt-in: a learning-rate
//! schedule ([`LrSchedule`]), a validation split held out of the training set with early
//! stopping on it, and data augmentation ([`Augment`]).
//!
//! - **Validation**: the *last* `validation` rows of the training set are held out — never
//!   sampled, never in the training accuracy — and their accuracy is measured at every
//!   evaluation. The best validation accuracy so far (strictly better wins; the first
//!   measurement is the first best) is kept in the [`History`](super::History) with the test
//!   accuracy of the same weights, and [`Hooks::best`] is handed those
//!   weights.
//! - **Early stopping**: with `patience` K, training ends (as finished) after the evaluation
//!   that makes K in a row without a better validation accuracy.
//! - **Augmentation**: each mini-batch is distorted after it is gathered, with draws keyed by
//!   (seed, iteration), so that a resumed run needs no state for it.

use super::{EpochRecord, Hooks, TrainConfig, TrainData, TrainState};
use crate::data::augment::{Augment, Augmenter};
use crate::kernels::{Input, SparseRows};
use crate::net::Network;
use crate::optim::{LrSchedule, Optimizer};
use crate::{Error, Float, Result};
use serde::{Deserialize, Serialize};

/// The tools' settings, flattened into [`TrainConfig`] (and so into a
/// run's config.json); every one is off by default, and settings files without them load so.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tools {
    /// The learning rate of every update (`lr_schedule`, `warmup_epochs`).
    #[serde(flatten)]
    pub schedule: LrSchedule,
    /// Training rows held out (the last ones) to measure validation accuracy on (0: none).
    pub validation: usize,
    /// Evaluations without a better validation accuracy after which training stops.
    pub patience: Option<usize>,
    /// The distortions applied to every mini-batch.
    pub augment: Augment,
}

impl Tools {
    /// Checks the settings that need no data: a patience of at least 1, given only with a
    /// validation split.
    pub fn check(&self) -> Result<()> {
        match self.patience {
            Some(0) => Err(Error::invalid(
                "patience",
                0,
                "at least 1 evaluation without a better validation accuracy",
            )),
            Some(k) if self.validation == 0 => Err(Error::invalid(
                "patience",
                k,
                "early stopping watches the validation accuracy: give a validation split \
                 (--validation N) too",
            )),
            _ => Ok(()),
        }
    }

    /// Checks the settings against the data (`train_size` rows of `input_size` pixels, split
    /// already) and the optimizer's learning rate `lr`.
    pub fn validate(&self, input_size: usize, lr: f64) -> Result<()> {
        self.check()?;
        self.schedule.validate(lr)?;
        if !self.augment.is_none() {
            Augment::image_shape(input_size)?;
        }
        Ok(())
    }

    /// The augmenter of a run seeded `seed` on images of `input_size` pixels, if any.
    pub fn augmenter(&self, input_size: usize, seed: u64) -> Result<Option<Augmenter>> {
        if self.augment.is_none() {
            return Ok(None);
        }
        let shape = Augment::image_shape(input_size)?;
        Augmenter::new(self.augment, shape, seed).map(Some)
    }
}

/// The held-out rows: x (N, D) with N labels, and x's nonzeros when mostly zero.
pub struct Validation<'a, F> {
    x: Input<'a, F>,
    t: &'a [usize],
    sparse: Option<SparseRows<F>>,
}

impl<F: Float> Validation<'_, F> {
    /// Rows held out.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// Whether no row is held out.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// The accuracy of `net` on the held-out rows.
    pub fn accuracy<N: Network<F> + ?Sized>(&self, net: &N) -> f64 {
        net.accuracy(&self.x.with_copy(&self.sparse), self.t)
    }
}

/// Splits the last `n` training rows off `data`: the data to train on, and the validation
/// rows (none when `n` is 0). Refuses a split that leaves no training row.
pub fn hold_out<F: Float>(
    data: TrainData<'_, F>,
    n: usize,
) -> Result<(TrainData<'_, F>, Option<Validation<'_, F>>)> {
    let rows = data.t_train.len();
    if n == 0 {
        return Ok((data, None));
    }
    if n >= rows {
        return Err(Error::invalid(
            "validation split",
            n,
            "fewer rows than the training set holds (MNIST: 60000), such as 5000",
        ));
    }
    let keep = rows - n;
    let x = data.x_train.slice_rows(keep..rows);
    let validation = Validation {
        x,
        t: &data.t_train[keep..],
        sparse: x.sparse_copy(),
    };
    let train = TrainData {
        x_train: data.x_train.slice_rows(0..keep),
        t_train: &data.t_train[..keep],
        ..data
    };
    Ok((train, Some(validation)))
}

/// What the tools need while a trainer runs: the held-out rows, the augmenter, the schedule's
/// inputs.
pub(super) struct Running<'a, F> {
    tools: Tools,
    /// The optimizer's own learning rate, which a schedule scales.
    base_lr: f64,
    /// (iters_num, iter_per_epoch) of the run.
    run: (usize, usize),
    validation: Option<Validation<'a, F>>,
    /// Distorts each mini-batch, when augmentation is on.
    pub augmenter: Option<Augmenter>,
}

impl<'a, F: Float> Running<'a, F> {
    /// Splits the validation rows off `data` and checks `config` against the rest and the
    /// optimizer's rate `lr`; returns the data to train on and the tools' working parts.
    pub fn new(
        data: TrainData<'a, F>,
        config: &TrainConfig,
        lr: f64,
    ) -> Result<(TrainData<'a, F>, Self)> {
        let (data, validation) = hold_out(data, config.tools.validation)?;
        config.validate(data.t_train.len())?;
        let input_size = data.x_train.ncols();
        config.tools.validate(input_size, lr)?;
        let running = Running {
            tools: config.tools.clone(),
            base_lr: lr,
            run: (config.iters_num, config.iter_per_epoch(data.t_train.len())),
            validation,
            augmenter: config.tools.augmenter(input_size, config.seed)?,
        };
        Ok((data, running))
    }

    /// Sets the optimizer's rate for update `i` (nothing to do for a constant schedule).
    pub fn set_rate(&self, optimizer: &mut dyn Optimizer<F>, i: usize) {
        if !self.tools.schedule.is_constant() {
            let (iters_num, iter_per_epoch) = self.run;
            let rate =
                (self.tools.schedule).learning_rate(self.base_lr, i, iters_num, iter_per_epoch);
            optimizer.set_learning_rate(rate);
        }
    }

    /// The accuracy of `net` on the validation rows, if there are some.
    pub fn validation_accuracy<N: Network<F> + ?Sized>(&self, net: &N) -> Option<f64> {
        self.validation.as_ref().map(|v| v.accuracy(net))
    }

    /// Records the measurement `record` in `state`'s history after judging it for early
    /// stopping; a new best is handed to `hooks` with the weights of `net`.
    pub fn watch<N>(
        &self,
        state: &mut TrainState,
        record: EpochRecord,
        hooks: &mut dyn Hooks<N>,
        net: &N,
    ) -> Verdict {
        let verdict = early_stopping(state, &record, self.tools.patience);
        if verdict == Verdict::Best {
            hooks.best(&record, net);
        }
        state.history.epochs.push(record);
        verdict
    }
}

/// What an evaluation means for early stopping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// No validation accuracy was measured.
    Unwatched,
    /// A new best validation accuracy.
    Best,
    /// No better, but patience remains.
    Wait,
    /// `patience` evaluations in a row without a better one: stop.
    Stop,
}

/// Keeps `record` as the best when its validation accuracy beats the best so far, else counts
/// one more evaluation without a better one.
pub(super) fn early_stopping(
    state: &mut TrainState,
    record: &EpochRecord,
    patience: Option<usize>,
) -> Verdict {
    let Some(acc) = record.val_acc else {
        return Verdict::Unwatched;
    };
    let best = &mut state.history.best;
    if best
        .as_ref()
        .is_none_or(|b| b.val_acc.is_some_and(|b| acc > b))
    {
        *best = Some(Box::new(record.clone()));
        state.evals_since_best = 0;
        return Verdict::Best;
    }
    state.evals_since_best += 1;
    match patience {
        Some(k) if state.evals_since_best >= k => Verdict::Stop,
        _ => Verdict::Wait,
    }
}

/// A snapshot's early-stopping state must fit its history: a best among the measurements, and
/// no more evaluations since it than were made.
pub(super) fn check_best(state: &TrainState) -> std::result::Result<(), String> {
    let h = &state.history;
    if let Some(best) = &h.best {
        if !h.epochs.contains(&**best) {
            return Err(format!(
                "the best validation accuracy (epoch {}, iteration {}) is none of the history's \
                 measurements",
                best.epoch, best.iteration
            ));
        }
    }
    if state.evals_since_best > h.epochs.len() {
        return Err(format!(
            "{} evaluations since the best, but only {} were made",
            state.evals_since_best,
            h.epochs.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
