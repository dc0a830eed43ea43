//! The Trainer: the book's `train_neuralnet.py` loop.
//!
//! ```text
//! for i in 0..iters_num:
//!     batch_mask = sample(train_size, batch_size)          # with replacement, like np.random.choice
//!     grad = network.gradient(x_batch, t_batch)            # backprop (or numerical, to check)
//!     params[key] -= learning_rate * grad[key]             # the optimizer's step
//!     train_loss_list.append(loss)
//!     if i % iter_per_epoch == 0: record train and test accuracy on the whole sets
//! ```

use super::evaluation::{next_point, EvalSchedule};
use super::hooks::{Divergence, Ended, Hooks};
use super::sampler::{MiniBatchSampler, SamplerState, Sampling};
use super::tools::{self, Tools, Verdict};
use super::{EpochRecord, History};
use crate::choice::{display_and_parse, Choice};
use crate::kernels::{Input, SparseRows};
use crate::layers::Targets;
use crate::net::Network;
use crate::optim::{self, Optimizer};
use crate::{Error, Float, Result};
use ndarray::{Array2, ArrayD};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How the gradient is computed each iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GradientMethod {
    /// Backpropagation (chapter 5): one forward and one backward pass.
    Backprop,
    /// Numerical differentiation (chapter 4): two forward passes per parameter — very slow.
    Numerical,
}

impl Choice for GradientMethod {
    const ALL: &'static [Self] = &[GradientMethod::Backprop, GradientMethod::Numerical];

    fn name(self) -> &'static str {
        match self {
            GradientMethod::Backprop => "backprop",
            GradientMethod::Numerical => "numerical",
        }
    }

    fn help(self) -> &'static str {
        match self {
            GradientMethod::Backprop => "Backpropagation (chapter 5): one forward and one backward pass",
            GradientMethod::Numerical => "Numerical differentiation (chapter 4): two forward passes per parameter — very slow",
        }
    }
}

display_and_parse!(GradientMethod);

/// The loop's settings, named as in the book.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Number of updates (the book's `iters_num`, 10000).
    pub iters_num: usize,
    /// Rows per mini-batch (the book's `batch_size`, 100).
    pub batch_size: usize,
    /// How mini-batches are drawn.
    pub sampling: Sampling,
    /// How the gradient is computed.
    pub gradient: GradientMethod,
    /// Seed of the mini-batch sampler.
    pub seed: u64,
    /// When accuracy is measured.
    pub eval: EvalSchedule,
    /// Stop once this many seconds of updates (evaluation excluded) have passed.
    pub time_limit_s: Option<f64>,
    /// What a loss that is not a finite number does.
    #[serde(default)]
    pub on_nan: OnNan,
    /// Learning-rate schedule, validation split and early stopping, augmentation (all off).
    #[serde(flatten)]
    pub tools: Tools,
}

/// How training reacts to divergence — a loss that is NaN or infinite, or whose mean over
/// [`DIVERGENCE_WINDOW`] iterations is more than twice that of guessing (ln of the number of
/// classes): signs of a learning rate far too large.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnNan {
    /// Stop at that iteration, keeping the weights from before it.
    #[default]
    Stop,
    /// Keep going, to watch what happens.
    Continue,
}

impl Choice for OnNan {
    const ALL: &'static [Self] = &[OnNan::Stop, OnNan::Continue];

    fn name(self) -> &'static str {
        match self {
            OnNan::Stop => "stop",
            OnNan::Continue => "continue",
        }
    }

    fn help(self) -> &'static str {
        match self {
            OnNan::Stop => "Stop at that iteration, keeping the weights from before it",
            OnNan::Continue => "Keep going, to watch what happens",
        }
    }
}

display_and_parse!(OnNan);

/// Iterations over which the mean loss is compared with guessing's.
pub const DIVERGENCE_WINDOW: usize = 100;

/// Where a run stands: what a checkpoint saves and a resumed run starts from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Iterations done.
    pub iteration: usize,
    /// Samples seen at which accuracy is next measured (sample schedule only).
    pub next_eval: usize,
    /// What was measured so far.
    pub history: History,
    /// Evaluations since the best validation accuracy (early stopping's count).
    #[serde(default)]
    pub evals_since_best: usize,
}

/// What a checkpoint holds besides the network's weights: see [`Trainer::snapshot`].
#[derive(Clone, Debug)]
pub struct Snapshot<F> {
    /// Where the loop stands and what it measured.
    pub state: TrainState,
    /// The mini-batch sampler's position.
    pub sampler: SamplerState,
    /// The network's own random generators: (seed, words used) each (Dropout's masks).
    pub network_random: Vec<(u64, u128)>,
    /// The optimizer's state as named arrays (`v/W1`, `m/W1`, …).
    pub optimizer: Vec<(String, ArrayD<F>)>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            iters_num: 10_000,
            batch_size: 100,
            sampling: Sampling::WithReplacement,
            gradient: GradientMethod::Backprop,
            seed: 0,
            eval: EvalSchedule::Epochs,
            time_limit_s: None,
            on_nan: OnNan::Stop,
            tools: Tools::default(),
        }
    }
}

impl TrainConfig {
    /// Iterations between accuracy measurements: `max(train_size / batch_size, 1)`.
    pub fn iter_per_epoch(&self, train_size: usize) -> usize {
        (train_size / self.batch_size.max(1)).max(1)
    }

    /// Checks the settings against a training set of `train_size` rows.
    pub fn validate(&self, train_size: usize) -> Result<()> {
        if self.iters_num == 0 {
            return Err(Error::invalid("iters_num", 0, "at least 1"));
        }
        if self.batch_size == 0 {
            return Err(Error::invalid("batch size", 0, "at least 1"));
        }
        if train_size == 0 {
            return Err(Error::invalid("training set size", 0, "at least 1 row"));
        }
        self.eval.validate()?;
        if let Some(limit) = self.time_limit_s.filter(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(Error::invalid(
                "time limit",
                limit,
                "a positive number of seconds",
            ));
        }
        // With replacement a larger batch could be drawn, but it would only repeat rows: a
        // mistake far more often than a wish, so it is refused whatever the sampling.
        if self.batch_size > train_size {
            return Err(Error::invalid(
                "batch size",
                self.batch_size,
                "at most the training set size",
            ));
        }
        Ok(())
    }
}

/// The data a run learns from and is measured on: x (N, D) with N labels each.
#[derive(Clone, Copy)]
pub struct TrainData<'a, F> {
    /// Training inputs, (train_size, D): dense, or their nonzero entries.
    pub x_train: Input<'a, F>,
    /// Training labels, train_size of them.
    pub t_train: &'a [usize],
    /// Test inputs, (test_size, D): dense, or their nonzero entries.
    pub x_test: Input<'a, F>,
    /// Test labels.
    pub t_test: &'a [usize],
}

/// Trains a network with mini-batch gradient descent and records its [`History`].
pub struct Trainer<'a, F: Float, N: Network<F>> {
    net: N,
    optimizer: Box<dyn Optimizer<F> + 'a>,
    data: TrainData<'a, F>,
    config: TrainConfig,
    sampler: MiniBatchSampler,
    /// Iterations done and everything measured so far.
    state: TrainState,
    /// The loss of a network that guesses every class equally: ln(classes).
    guessing_loss: f64,
    /// The training and test inputs as their nonzero entries, when they come dense but are
    /// mostly zeros (MNIST: 19 % nonzero): mini-batches are gathered from these, and accuracy
    /// measured on them.
    x_train_sparse: Option<SparseRows<F>>,
    x_test_sparse: Option<SparseRows<F>>,
    /// The training tools' working parts: validation rows, augmenter, the scheduled rate.
    tools: tools::Running<'a, F>,
}

impl<'a, F: Float, N: Network<F> + Clone> Trainer<'a, F, N> {
    /// A trainer for `net` on `data`; fails on impossible settings.
    pub fn new(
        net: N,
        optimizer: Box<dyn Optimizer<F> + 'a>,
        data: TrainData<'a, F>,
        config: TrainConfig,
    ) -> Result<Self> {
        let (data, tools) = tools::Running::new(data, &config, optimizer.learning_rate())?;
        // A stream of its own, so the sampler never shares draws with weight initialisation.
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(1);
        let sampler = MiniBatchSampler::new(rng, config.sampling, data.t_train.len());
        let backprop = config.gradient == GradientMethod::Backprop;
        Ok(Trainer {
            net,
            optimizer,
            x_train_sparse: backprop.then(|| data.x_train.sparse_copy()).flatten(),
            x_test_sparse: data.x_test.sparse_copy(),
            data,
            config,
            sampler,
            state: TrainState::default(),
            tools,
            guessing_loss: (data.t_train.iter().max().map_or(1, |&m| m + 1) as f64).ln(),
        })
    }

    /// The data the trainer learns from (without the validation rows) and measures on.
    pub fn data(&self) -> TrainData<'a, F> {
        self.data
    }

    /// The network being trained.
    pub fn net(&self) -> &N {
        &self.net
    }

    /// The network, handed back once training is over.
    pub fn into_net(self) -> N {
        self.net
    }

    /// Iterations done and everything measured so far.
    pub fn state(&self) -> &TrainState {
        &self.state
    }

    /// What was measured so far: losses, accuracies, timings.
    pub fn history(&self) -> &History {
        &self.state.history
    }

    /// Everything besides the network's weights that a checkpoint must hold for training to
    /// continue bit for bit: where the loop stands, the sampler's and the network's random
    /// positions, and the optimizer's state.
    pub fn snapshot(&self) -> Snapshot<F> {
        Snapshot {
            state: self.state.clone(),
            sampler: self.sampler.state(),
            network_random: self.net.random_state(),
            optimizer: self.optimizer.state(),
        }
    }

    /// Puts the trainer back where [`Trainer::snapshot`] found it (the network's weights are
    /// restored by whoever rebuilt the network); says what does not fit — checked before
    /// anything is changed: the iteration within the run, the history's length, every array
    /// of the optimizer's state present with its parameter's shape, the sampler's order.
    pub fn restore(&mut self, snapshot: Snapshot<F>) -> std::result::Result<(), String> {
        let slots = self.optimizer.state_slots();
        super::restore::check_snapshot(&snapshot, &self.net, slots, &self.config)?;
        self.net.set_random_state(&snapshot.network_random)?;
        self.optimizer
            .set_state(snapshot.optimizer, snapshot.state.iteration)?;
        self.sampler.restore(&snapshot.sampler)?;
        self.state = snapshot.state;
        Ok(())
    }

    /// Runs the remaining of `iters_num` updates (fewer if the time limit comes first),
    /// measuring accuracy on the schedule; what was measured is in [`Trainer::history`].
    ///
    /// Ends early, with the trainer as it was after the last whole iteration (ready for a
    /// [`Trainer::snapshot`]), when `hooks` asks to stop ([`Ended::Stopped`]) or on a loss that
    /// is not a finite number ([`Ended::Diverged`], unless `on_nan` is `continue`; the weights
    /// are then those from before the failing update).
    pub fn train(&mut self, hooks: &mut dyn Hooks<N>) -> Ended {
        let iters_num = self.config.iters_num;
        let batch_size = self.config.batch_size;
        let time_limit = self.config.time_limit_s.map(Duration::from_secs_f64);
        let left = iters_num.saturating_sub(self.state.iteration).min(1 << 20);
        self.state.history.train_loss_list.reserve(left);
        self.state.history.update_seconds.reserve(left);
        let mut batch_mask = vec![0; batch_size];
        let mut t_batch = vec![0; batch_size];
        // The mini-batch, dense or as its nonzero entries; filled in place every iteration.
        let mut x_batch = Array2::zeros((0, 0));
        let mut x_batch_sparse = SparseRows::new();
        let backprop = self.config.gradient == GradientMethod::Backprop;
        self.warm_up(batch_size);
        let start = Instant::now();
        let before = self.state.history.train_seconds + self.state.history.eval_seconds;
        let mut train_time = Duration::from_secs_f64(self.state.history.train_seconds);
        let mut ended = Ended::Finished;
        hooks.begin(self.state.iteration, iters_num, &self.net);

        for i in self.state.iteration..iters_num {
            if time_limit.is_some_and(|limit| train_time >= limit) {
                break;
            }
            if hooks.should_stop() {
                ended = Ended::Stopped { iteration: i };
                break;
            }
            let step_start = Instant::now();
            self.sampler.next_batch(&mut batch_mask);
            let x_train = self.data.x_train.with_copy(&self.x_train_sparse);
            let x = match (x_train, &mut self.tools.augmenter) {
                (Input::Sparse(x_train), None) if backprop => {
                    x_batch_sparse.gather(x_train, &batch_mask);
                    Input::Sparse(x_batch_sparse.view())
                }
                (x_train, augmenter) => {
                    x_train.gather_rows_into(&batch_mask, &mut x_batch);
                    if let Some(augmenter) = augmenter {
                        augmenter.apply(&mut x_batch, i);
                    }
                    Input::Dense(x_batch.view())
                }
            };
            for (t, &row) in t_batch.iter_mut().zip(&batch_mask) {
                *t = self.data.t_train[row];
            }
            self.tools.set_rate(self.optimizer.as_mut(), i);
            let loss = Self::update(
                &mut self.net,
                self.optimizer.as_mut(),
                &self.config,
                x,
                &t_batch,
            );
            let step = step_start.elapsed();
            train_time += step;
            let loss = loss.to_f64();
            if self.config.on_nan == OnNan::Stop {
                if let Some(reason) = self.divergence(loss) {
                    ended = Ended::Diverged(Divergence {
                        iteration: i,
                        reason,
                    });
                    break;
                }
            }
            self.state.iteration = i + 1;
            self.state.history.train_loss_list.push(loss);
            self.state.history.update_seconds.push(step.as_secs_f32());
            let mut verdict = Verdict::Unwatched;
            if self.eval_due(i, (i + 1) * batch_size) {
                let record = self.measure(
                    self.state.history.epochs.len(),
                    i,
                    (before, start),
                    train_time,
                );
                hooks.measured(&record);
                verdict = self.tools.watch(&mut self.state, record, hooks, &self.net);
            }
            hooks.step(i + 1, loss, &self.net);
            if verdict == Verdict::Stop {
                self.state.history.stopped_early = Some(i + 1);
                break;
            }
        }
        hooks.end();
        let history = &mut self.state.history;
        history.train_seconds = train_time.as_secs_f64();
        history.eval_seconds = before + start.elapsed().as_secs_f64() - history.train_seconds;
        if let Ended::Stopped { .. } = ended {
            return ended;
        }
        let (final_train_acc, final_test_acc) = self.final_accuracies();
        let history = &mut self.state.history;
        history.final_train_acc = final_train_acc;
        history.final_test_acc = final_test_acc;
        history.eval_seconds = before + start.elapsed().as_secs_f64() - history.train_seconds;
        ended
    }

    /// Why training has diverged, given this iteration's `loss` (the history holds the ones
    /// before it); `None` while it has not.
    fn divergence(&self, loss: f64) -> Option<String> {
        let losses = &self.state.history.train_loss_list;
        if !loss.is_finite() {
            let last = losses
                .last()
                .map_or("none".to_string(), |l| format!("{l:.4}"));
            return Some(format!(
                "the loss became {loss} (the last finite loss was {last})"
            ));
        }
        let n = losses.len();
        if n + 1 < DIVERGENCE_WINDOW {
            return None;
        }
        let window = &losses[n + 1 - DIVERGENCE_WINDOW..];
        let mean = (window.iter().sum::<f64>() + loss) / DIVERGENCE_WINDOW as f64;
        (mean > 2.0 * self.guessing_loss).then(|| {
            format!(
                "the mean loss of the last {DIVERGENCE_WINDOW} iterations is {mean:.3}, more than twice that of \
                 guessing uniformly ({:.3})",
                self.guessing_loss
            )
        })
    }

    /// One untimed gradient on a copy of the network, so that thread pools and first-touch
    /// memory are ready before the clock starts; the network and the sampler are unchanged.
    fn warm_up(&self, batch_size: usize) {
        let rows = batch_size.min(self.data.t_train.len());
        let x = self.train_input().slice_rows(0..rows);
        let t = &self.data.t_train[..rows];
        let mut copy = self.net.clone();
        copy.gradient(&x, Targets::Labels(t));
        copy.accuracy(&x, t);
    }

    /// Whether accuracy is measured after iteration `i`, with `samples_seen` samples seen so
    /// far (the sample schedule moves its next point on).
    fn eval_due(&mut self, i: usize, samples_seen: usize) -> bool {
        match self.config.eval {
            EvalSchedule::Epochs | EvalSchedule::EpochsSampled { .. } => {
                i.is_multiple_of(self.config.iter_per_epoch(self.data.t_train.len()))
            }
            EvalSchedule::Samples { per_decade, .. } => {
                if samples_seen < self.state.next_eval {
                    return false;
                }
                self.state.next_eval = next_point(samples_seen, per_decade);
                true
            }
        }
    }

    /// One update on a mini-batch; returns the mini-batch loss before the update.
    fn update(
        net: &mut N,
        optimizer: &mut dyn Optimizer<F>,
        config: &TrainConfig,
        x_batch: Input<F>,
        t_batch: &[usize],
    ) -> F {
        let t = Targets::Labels(t_batch);
        match config.gradient {
            GradientMethod::Backprop => {
                let loss = net.gradient(&x_batch, t);
                if loss.is_finite() || config.on_nan == OnNan::Continue {
                    optim::step(net, optimizer);
                }
                loss
            }
            GradientMethod::Numerical => {
                let grads = net.numerical_gradient(&x_batch, t);
                let loss = net.loss(&x_batch, t);
                if !loss.is_finite() && config.on_nan == OnNan::Stop {
                    return loss;
                }
                for (p, grad) in net.params_mut().into_iter().zip(&grads) {
                    optimizer.update(p.name, p.value, grad.view());
                }
                loss
            }
        }
    }

    /// The training set as the kernels read it: its sparse copy when there is one.
    fn train_input(&self) -> Input<'_, F> {
        self.data.x_train.with_copy(&self.x_train_sparse)
    }

    /// Accuracy on the rows the schedule measures, timed.
    /// (`before` seconds had passed in earlier sessions of a resumed run, `start` is this
    /// session's.)
    fn measure(
        &self,
        epoch: usize,
        iteration: usize,
        (before, start): (f64, Instant),
        train_time: Duration,
    ) -> EpochRecord {
        let (train_acc, test_acc) = self.accuracies(self.rows());
        EpochRecord {
            epoch,
            iteration,
            samples_seen: (iteration + 1) * self.config.batch_size,
            train_acc,
            test_acc,
            elapsed_s: before + start.elapsed().as_secs_f64(),
            train_s: train_time.as_secs_f64(),
            val_acc: self.tools.validation_accuracy(&self.net),
        }
    }

    /// The final weights' accuracy on the schedule's training rows and on the whole test set
    /// (the book's "Final Test Accuracy"): the last mark's, when it measured these weights on
    /// these rows.
    fn final_accuracies(&self) -> (f64, f64) {
        let last_iteration = self.state.iteration.saturating_sub(1);
        let (train_rows, test_rows) = self.rows();
        let test_size = self.data.t_test.len();
        match self.state.history.epochs.last() {
            Some(mark) if mark.iteration == last_iteration && test_rows == test_size => {
                (mark.train_acc, mark.test_acc)
            }
            _ => self.accuracies((train_rows, test_size)),
        }
    }

    /// Rows (from the first) of the training and test sets that the schedule measures.
    fn rows(&self) -> (usize, usize) {
        let d = &self.data;
        self.config.eval.rows(d.t_train.len(), d.t_test.len())
    }

    /// Accuracy on the first `train_rows` training and `test_rows` test rows.
    fn accuracies(&self, (train_rows, test_rows): (usize, usize)) -> (f64, f64) {
        let d = &self.data;
        let train = self.train_input().slice_rows(0..train_rows);
        let test = d
            .x_test
            .with_copy(&self.x_test_sparse)
            .slice_rows(0..test_rows);
        (
            self.net.accuracy(&train, &d.t_train[..train_rows]),
            self.net.accuracy(&test, &d.t_test[..test_rows]),
        )
    }
}

#[cfg(test)]
mod tests;
