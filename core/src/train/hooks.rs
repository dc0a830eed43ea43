//! How the training loop talks to the world around it: one [`Hooks`] trait for progress,
//! observation and stopping, every method doing nothing by default.

use super::EpochRecord;

/// Receives what the training loop does, and is asked between updates whether to stop.
///
/// The loop calls these outside its timed part, so a hook's cost is not counted as training.
pub trait Hooks<N: ?Sized> {
    /// Training starts (or resumes) after `iteration` of `iters_num` updates; `net` as it is.
    fn begin(&mut self, _iteration: usize, _iters_num: usize, _net: &N) {}
    /// Update number `iteration` (counted from 1) is done; `loss` is its mini-batch's loss.
    fn step(&mut self, _iteration: usize, _loss: f64, _net: &N) {}
    /// Accuracy was measured (every epoch, or on the sample schedule).
    fn measured(&mut self, _record: &EpochRecord) {}
    /// A new best validation accuracy was measured (`record`); `net` holds the weights that
    /// reached it.
    fn best(&mut self, _record: &EpochRecord, _net: &N) {}
    /// Asked before every update: `true` ends training there, ready for a checkpoint.
    fn should_stop(&mut self) -> bool {
        false
    }
    /// Training is over (finished, stopped or diverged).
    fn end(&mut self) {}
}

/// No hooks: train silently to the end.
impl<N: ?Sized> Hooks<N> for () {}

/// How a call to [`super::Trainer::train`] ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Ended {
    /// All `iters_num` updates were made (or the time limit came first).
    Finished,
    /// [`Hooks::should_stop`] said stop before update `iteration` (counted from 0); the
    /// trainer stands where a checkpoint can save it.
    Stopped { iteration: usize },
    /// The loss was not finite, or far worse than guessing; the weights are those from
    /// before the failing update.
    Diverged(Divergence),
}

/// Where and why training diverged.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// The update whose loss gave it away (counted from 0).
    pub iteration: usize,
    /// What was seen: the loss became NaN, or the mean loss was far above guessing's.
    pub reason: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "training diverged at iteration {}: {}; the learning rate is probably too large",
            self.iteration, self.reason
        )
    }
}
