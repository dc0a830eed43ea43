//! One line of the depth-width study's `study.csv`: every scalar metric of a run, and the
//! probes' per-layer mean |dW|.

use super::DwOutcome;
use crate::data::DatasetKind;
use crate::experiment::output::{Fixed, Plain};
use crate::report::label;
use serde::Serialize;

/// A run's row of `study.csv` (the curve and the probes go to `study.json`); the columns are
/// the fields.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DwRow {
    /// `mnist` or `fashion-mnist`.
    pub dataset: DatasetKind,
    /// Hidden layers.
    pub depth: usize,
    /// Neurons per hidden layer.
    pub width: usize,
    /// The hidden activation.
    pub activation: String,
    /// The initial weights' scale.
    pub weight_init: String,
    /// The update rule.
    pub optimizer: String,
    /// Its learning rate.
    pub learning_rate: Plain,
    /// The run's seed.
    pub seed: u64,
    /// Weights and biases.
    pub params: usize,
    /// Multiply-adds per sample, forward.
    pub macs_per_sample: usize,
    /// Updates made.
    pub updates: usize,
    /// Seconds of updates.
    pub train_s: Fixed<4>,
    /// Training samples per second of updates.
    pub samples_per_s: Fixed<1>,
    /// Training-subset accuracy of the final weights.
    pub final_train_acc: Fixed<4>,
    /// Test accuracy of the final weights.
    pub final_test_acc: Fixed<4>,
    /// Best training-subset accuracy measured.
    pub best_train_acc: Fixed<4>,
    /// Best test accuracy measured.
    pub best_test_acc: Fixed<4>,
    /// final_train_acc − final_test_acc.
    pub gap: Fixed<4>,
    /// Whether the run diverged.
    pub diverged: bool,
    /// Per layer, the mean |dW| at initialisation (`W1;W2;…`).
    pub grad_mean_abs_init: String,
    /// The same after the first epoch, or at the end of a shorter run.
    pub grad_mean_abs_epoch1: String,
    /// When that second probe was taken, in epochs.
    pub probe_epochs: Option<Fixed<3>>,
}

impl From<&DwOutcome> for DwRow {
    fn from(o: &DwOutcome) -> Self {
        let a = &o.accuracy;
        let grads = |k: usize| {
            o.probes.get(k).map_or(String::new(), |p| {
                let each: Vec<String> =
                    p.grad_mean_abs.iter().map(|g| format!("{g:.3e}")).collect();
                each.join(";")
            })
        };
        DwRow {
            dataset: o.dataset,
            depth: o.depth,
            width: o.width,
            activation: label(&o.setup.activation),
            weight_init: label(&o.setup.weight_init),
            optimizer: label(&o.setup.optimizer),
            learning_rate: Plain(o.setup.learning_rate),
            seed: o.seed,
            params: o.params,
            macs_per_sample: o.macs,
            updates: o.updates,
            train_s: Fixed(o.train_s),
            samples_per_s: Fixed(o.samples_per_s),
            final_train_acc: Fixed(a.final_train_acc),
            final_test_acc: Fixed(a.final_test_acc),
            best_train_acc: Fixed(a.best_train_acc),
            best_test_acc: Fixed(a.best_test_acc),
            gap: Fixed(a.gap),
            diverged: a.diverged.is_some(),
            grad_mean_abs_init: grads(0),
            grad_mean_abs_epoch1: grads(1),
            probe_epochs: o.probes.get(1).map(|p| Fixed(p.epochs)),
        }
    }
}
