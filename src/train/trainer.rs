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

use super::sampler::{gather_rows, MiniBatchSampler, Sampling};
use super::{EpochRecord, History};
use crate::layers::sparse::{density, SPARSE_MAX_DENSITY};
use crate::layers::{Input, SparseRows, Targets};
use crate::net::{accuracy_input, numerical_gradient, Network};
use crate::optim::{self, Optimizer};
use crate::progress::Progress;
use crate::{Error, Float, Result};
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How the gradient is computed each iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum GradientMethod {
    /// Backpropagation (chapter 5): one forward and one backward pass.
    Backprop,
    /// Numerical differentiation (chapter 4): two forward passes per parameter — very slow.
    Numerical,
}

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
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            iters_num: 10_000,
            batch_size: 100,
            sampling: Sampling::WithReplacement,
            gradient: GradientMethod::Backprop,
            seed: 0,
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
        if self.sampling == Sampling::ShuffledEpochs && self.batch_size > train_size {
            return Err(Error::invalid(
                "batch size",
                self.batch_size,
                "at most the training set size when sampling shuffled epochs",
            ));
        }
        Ok(())
    }
}

/// The data a run learns from and is measured on: x (N, D) with N labels each.
#[derive(Clone, Copy)]
pub struct TrainData<'a, F> {
    /// Training inputs, (train_size, D).
    pub x_train: ArrayView2<'a, F>,
    /// Training labels, train_size of them.
    pub t_train: &'a [usize],
    /// Test inputs, (test_size, D).
    pub x_test: ArrayView2<'a, F>,
    /// Test labels.
    pub t_test: &'a [usize],
}

/// Trains a network with mini-batch gradient descent and records its [`History`].
pub struct Trainer<'a, F: Float, N: Network<F>> {
    /// The network being trained.
    pub net: N,
    optimizer: Box<dyn Optimizer<F> + 'a>,
    data: TrainData<'a, F>,
    config: TrainConfig,
    sampler: MiniBatchSampler,
    /// The training and test inputs as their nonzero entries, when mostly zeros (MNIST: 19 %
    /// nonzero): mini-batches are gathered from these, and accuracy measured on them.
    x_train_sparse: Option<SparseRows<F>>,
    x_test_sparse: Option<SparseRows<F>>,
}

/// The nonzero entries of x, if it is sparse enough for the sparse kernels to win.
fn sparse_copy<F: Float>(x: ArrayView2<F>) -> Option<SparseRows<F>> {
    (density(x) <= SPARSE_MAX_DENSITY).then(|| SparseRows::from_dense(x))
}

/// How often the progress bar's status is refreshed.
const STATUS_EVERY: Duration = Duration::from_millis(200);

impl<'a, F: Float, N: Network<F> + Clone> Trainer<'a, F, N> {
    /// A trainer for `net` on `data`; fails on impossible settings.
    pub fn new(
        net: N,
        optimizer: Box<dyn Optimizer<F> + 'a>,
        data: TrainData<'a, F>,
        config: TrainConfig,
    ) -> Result<Self> {
        config.validate(data.t_train.len())?;
        // A stream of its own, so the sampler never shares draws with weight initialisation.
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(1);
        let sampler = MiniBatchSampler::new(rng, config.sampling, data.t_train.len());
        let backprop = config.gradient == GradientMethod::Backprop;
        Ok(Trainer {
            net,
            optimizer,
            x_train_sparse: backprop.then(|| sparse_copy(data.x_train)).flatten(),
            x_test_sparse: sparse_copy(data.x_test),
            data,
            config,
            sampler,
        })
    }

    /// Runs `iters_num` updates, measuring accuracy every `iter_per_epoch`; stops with
    /// [`Error::Diverged`] when the loss stops being a finite number.
    pub fn train(&mut self, progress: &dyn Progress) -> Result<History> {
        let iters_num = self.config.iters_num;
        let train_size = self.data.t_train.len();
        let iter_per_epoch = self.config.iter_per_epoch(train_size);
        let mut history = History {
            train_loss_list: Vec::with_capacity(iters_num),
            ..History::default()
        };
        let mut batch_mask = vec![0; self.config.batch_size];
        let mut t_batch = vec![0; self.config.batch_size];
        // The mini-batch, dense or as its nonzero entries; filled in place every iteration.
        let mut x_batch = Array2::zeros((0, 0));
        let mut x_batch_sparse = SparseRows::new();
        let start = Instant::now();
        let mut train_time = Duration::ZERO;
        let mut last_status = Instant::now();
        progress.begin("train", Some(iters_num as u64));

        for i in 0..iters_num {
            let step_start = Instant::now();
            self.sampler.next_batch(&mut batch_mask);
            let x = match &self.x_train_sparse {
                Some(x_train) => {
                    x_batch_sparse.gather(x_train.view(), &batch_mask);
                    Input::Sparse(x_batch_sparse.view())
                }
                None => {
                    gather_rows(self.data.x_train, &batch_mask, &mut x_batch);
                    Input::Dense(x_batch.view())
                }
            };
            for (t, &row) in t_batch.iter_mut().zip(&batch_mask) {
                *t = self.data.t_train[row];
            }
            let loss = Self::update(
                &mut self.net,
                self.optimizer.as_mut(),
                &self.config,
                x,
                &t_batch,
            );
            train_time += step_start.elapsed();
            let loss = loss.to_f64();
            if !loss.is_finite() {
                progress.end();
                let last_finite = history.train_loss_list.last().copied().unwrap_or(f64::NAN);
                return Err(Error::Diverged {
                    iteration: i,
                    loss,
                    last_finite,
                });
            }
            history.train_loss_list.push(loss);

            if i % iter_per_epoch == 0 {
                let record = self.measure(i / iter_per_epoch, i, start, train_time);
                progress.line(&format!(
                    "epoch {} | train acc, test acc | {:.4}, {:.4}",
                    record.epoch, record.train_acc, record.test_acc
                ));
                history.epochs.push(record);
            }
            if last_status.elapsed() >= STATUS_EVERY || i + 1 == iters_num {
                last_status = Instant::now();
                progress.update(i as u64 + 1, &format!("loss {loss:.4}"));
            }
        }
        progress.end();
        let last = match history.epochs.last() {
            Some(mark) if mark.iteration == iters_num - 1 => mark.clone(),
            _ => self.measure(history.epochs.len(), iters_num - 1, start, train_time),
        };
        history.final_train_acc = last.train_acc;
        history.final_test_acc = last.test_acc;
        history.train_seconds = train_time.as_secs_f64();
        history.eval_seconds = start.elapsed().as_secs_f64() - history.train_seconds;
        Ok(history)
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
                let loss = net.gradient_input(x_batch, t);
                optim::step(net, optimizer);
                loss
            }
            GradientMethod::Numerical => {
                let x_batch = x_batch.to_dense();
                let grads = numerical_gradient(net, x_batch.view(), t);
                let loss = net.loss(x_batch.view(), t);
                for (i, grad) in grads.iter().enumerate() {
                    let p = net.param(i);
                    optimizer.update(p.name, p.value, grad.view());
                }
                loss
            }
        }
    }

    /// The sparse copy of a set when there is one, else the dense set.
    fn input<'b>(sparse: &'b Option<SparseRows<F>>, dense: ArrayView2<'b, F>) -> Input<'b, F> {
        match sparse {
            Some(x) => Input::Sparse(x.view()),
            None => Input::Dense(dense),
        }
    }

    /// Accuracy on the whole training and test sets, timed.
    fn measure(
        &self,
        epoch: usize,
        iteration: usize,
        start: Instant,
        train_time: Duration,
    ) -> EpochRecord {
        let d = &self.data;
        EpochRecord {
            epoch,
            iteration,
            train_acc: accuracy_input(
                &self.net,
                Self::input(&self.x_train_sparse, d.x_train.view()),
                d.t_train,
            ),
            test_acc: accuracy_input(
                &self.net,
                Self::input(&self.x_test_sparse, d.x_test.view()),
                d.t_test,
            ),
            elapsed_s: start.elapsed().as_secs_f64(),
            train_s: train_time.as_secs_f64(),
        }
    }
}
