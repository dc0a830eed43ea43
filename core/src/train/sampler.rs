//! The mini-batch sampler: which training rows each iteration learns from.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::choice::{display_and_parse, Choice};

/// How mini-batches are drawn from the training set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampling {
    /// The book's `np.random.choice(train_size, batch_size)`: uniform, with replacement.
    WithReplacement,
    /// Shuffle once per epoch and walk through it: every row seen once per epoch.
    ShuffledEpochs,
}

impl Choice for Sampling {
    const ALL: &'static [Self] = &[Sampling::WithReplacement, Sampling::ShuffledEpochs];

    fn name(self) -> &'static str {
        match self {
            Sampling::WithReplacement => "with-replacement",
            Sampling::ShuffledEpochs => "shuffled-epochs",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Sampling::WithReplacement => {
                "The book's `np.random.choice(train_size, batch_size)`: uniform, with replacement"
            }
            Sampling::ShuffledEpochs => {
                "Shuffle once per epoch and walk through it: every row seen once per epoch"
            }
        }
    }
}

display_and_parse!(Sampling);

/// Draws `batch_size` row indices per call from `0..train_size`, reproducibly from its RNG.
#[derive(Clone)]
pub struct MiniBatchSampler {
    rng: ChaCha8Rng,
    sampling: Sampling,
    train_size: usize,
    order: Vec<usize>,
    pos: usize,
}

impl MiniBatchSampler {
    /// A sampler over `train_size` rows drawing with `rng`.
    pub fn new(rng: ChaCha8Rng, sampling: Sampling, train_size: usize) -> Self {
        let order = match sampling {
            Sampling::WithReplacement => Vec::new(),
            Sampling::ShuffledEpochs => (0..train_size).collect(),
        };
        MiniBatchSampler {
            rng,
            sampling,
            train_size,
            // Start "at the end" so the first call shuffles.
            pos: order.len(),
            order,
        }
    }

    /// Fills `batch_mask` with the next mini-batch's row indices (the book's `batch_mask`).
    pub fn next_batch(&mut self, batch_mask: &mut [usize]) {
        match self.sampling {
            Sampling::WithReplacement => {
                for i in batch_mask.iter_mut() {
                    *i = self.rng.random_range(0..self.train_size);
                }
            }
            Sampling::ShuffledEpochs => {
                for i in batch_mask.iter_mut() {
                    if self.pos == self.order.len() {
                        self.order.shuffle(&mut self.rng);
                        self.pos = 0;
                    }
                    *i = self.order[self.pos];
                    self.pos += 1;
                }
            }
        }
    }
}

/// Where a sampler stands, for a checkpoint: its generator's position and, for shuffled
/// epochs, the current order and how far through it the sampler is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplerState {
    /// Words the generator has used since its seed (a u128, as text).
    pub word_pos: String,
    /// The current epoch's order (shuffled epochs only).
    pub order: Vec<u32>,
    /// How many rows of `order` were used.
    pub pos: usize,
}

impl MiniBatchSampler {
    /// Where the sampler stands.
    pub fn state(&self) -> SamplerState {
        SamplerState {
            word_pos: self.rng.get_word_pos().to_string(),
            order: self.order.iter().map(|&i| i as u32).collect(),
            pos: self.pos,
        }
    }

    /// Puts the sampler back where `state` says (the seed and mode are the sampler's own).
    pub fn restore(&mut self, state: &SamplerState) -> std::result::Result<(), String> {
        let word_pos: u128 = state
            .word_pos
            .parse()
            .map_err(|_| format!("sampler position {:?} is not a number", state.word_pos))?;
        if state.order.len() != self.order.len()
            || state.pos > state.order.len()
            || state.order.iter().any(|&i| i as usize >= self.train_size)
        {
            return Err(format!(
                "sampler order of {} rows does not fit a training set of {}",
                state.order.len(),
                self.train_size
            ));
        }
        let mut seen = vec![false; state.order.len()];
        for &i in &state.order {
            if std::mem::replace(&mut seen[i as usize], true) {
                return Err(format!(
                    "sampler order lists row {i} twice: not a shuffle of the training set"
                ));
            }
        }
        self.rng.set_word_pos(word_pos);
        self.order = state.order.iter().map(|&i| i as usize).collect();
        self.pos = state.pos;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn shuffled_epochs_visit_every_row_once_per_epoch() {
        let mut s =
            MiniBatchSampler::new(ChaCha8Rng::seed_from_u64(1), Sampling::ShuffledEpochs, 10);
        let mut seen = vec![0; 10];
        let mut batch = [0; 5];
        for _ in 0..4 {
            s.next_batch(&mut batch);
            batch.iter().for_each(|&i| seen[i] += 1);
        }
        assert_eq!(seen, vec![2; 10]);
    }

    #[test]
    fn with_replacement_is_uniform_and_reproducible() {
        let draw = || {
            let mut s =
                MiniBatchSampler::new(ChaCha8Rng::seed_from_u64(3), Sampling::WithReplacement, 4);
            let mut batch = vec![0; 40_000];
            s.next_batch(&mut batch);
            batch
        };
        let batch = draw();
        assert_eq!(batch, draw());
        for k in 0..4 {
            let count = batch.iter().filter(|&&i| i == k).count();
            assert!(
                (9_500..10_500).contains(&count),
                "row {k} drawn {count} times"
            );
        }
    }
}
