//! The batch-size study's settings: which sizes, how much training, how the learning rate
//! follows the batch size.

use crate::experiment::{check_run_count, quote_list, Budget};
use crate::run::TrainSettings;
use crate::{Error, Result};
use scratchnet_core::choice::{display_and_parse, Choice};
use serde::{Deserialize, Serialize};

/// The batch size the learning rate is given for, when it is scaled (the book's 100).
pub const REFERENCE_BATCH: usize = 100;

/// How the learning rate follows the batch size: `lr · (B / 100)^p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrScaling {
    /// The same learning rate for every size (p = 0).
    None,
    /// Proportional to the batch size (p = 1).
    Linear,
    /// Proportional to its square root (p = ½).
    Sqrt,
}

impl Choice for LrScaling {
    const ALL: &'static [Self] = &[LrScaling::None, LrScaling::Linear, LrScaling::Sqrt];

    fn name(self) -> &'static str {
        match self {
            LrScaling::None => "none",
            LrScaling::Linear => "linear",
            LrScaling::Sqrt => "sqrt",
        }
    }

    fn help(self) -> &'static str {
        match self {
            LrScaling::None => "The same learning rate for every size (p = 0)",
            LrScaling::Linear => "Proportional to the batch size (p = 1)",
            LrScaling::Sqrt => "Proportional to its square root (p = ½)",
        }
    }
}

display_and_parse!(LrScaling);

impl LrScaling {
    /// The learning rate for `batch_size` given `lr` at the reference batch.
    pub fn apply(self, lr: f64, batch_size: usize) -> f64 {
        let ratio = batch_size as f64 / REFERENCE_BATCH as f64;
        match self {
            LrScaling::None => lr,
            LrScaling::Linear => lr * ratio,
            LrScaling::Sqrt => lr * ratio.sqrt(),
        }
    }
}

/// The study's settings: saved as `plan.json`, shown in the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchSizePlan {
    /// The batch sizes compared.
    pub sizes: Vec<usize>,
    /// How much training each run gets.
    pub budget: Budget,
    /// How the learning rate follows the batch size.
    pub lr_scaling: LrScaling,
    /// Seeds per size: 0, 1, … seeds−1.
    pub seeds: u64,
    /// The test accuracy whose first crossing is timed.
    pub target: f64,
    /// Training rows (the first ones) the training accuracy is measured on.
    pub train_eval_rows: usize,
    /// Measurement points per factor of ten of samples seen.
    pub points_per_decade: u32,
    /// Everything else: the users' run unless flagged (network, learning rate at batch 100, …).
    pub base: TrainSettings,
}

impl BatchSizePlan {
    /// The default study: sizes 1 to 60000, five epochs each, the users' settings otherwise.
    pub fn new(base: TrainSettings) -> Self {
        BatchSizePlan {
            sizes: vec![1, 10, 100, 1000, 6000, 60000],
            budget: Budget::Epochs(5.0),
            lr_scaling: LrScaling::None,
            seeds: 1,
            target: 0.90,
            train_eval_rows: 10_000,
            points_per_decade: 10,
            base,
        }
    }

    /// Checks the settings before any run starts.
    pub fn validate(&self) -> Result<()> {
        const SIZES: &str = "a list of different sizes ≥ 1, e.g. 1,10,100 (--seeds repeats a size)";
        if self.seeds == 0 {
            return Err(Error::invalid("seeds", 0, "at least 1"));
        }
        let runs = usize::try_from(self.seeds)
            .ok()
            .and_then(|seeds| seeds.checked_mul(self.sizes.len()));
        check_run_count(runs, "batch sizes × seeds")?;
        if self.sizes.is_empty() {
            return Err(Error::invalid("batch sizes", "[]", SIZES));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(at) = (self.sizes.iter()).position(|&s| s == 0 || !seen.insert(s)) {
            return Err(Error::invalid(
                "batch sizes",
                quote_list(&self.sizes, at),
                SIZES,
            ));
        }
        if !(self.target > 0.0 && self.target <= 1.0) {
            return Err(Error::invalid(
                "target accuracy",
                self.target,
                "a number in (0, 1], e.g. 0.9",
            ));
        }
        for &size in &self.sizes {
            let mut settings = self.base.clone();
            settings.train.batch_size = size;
            settings.learning_rate = self.lr_scaling.apply(self.base.learning_rate, size);
            settings.validate()?;
        }
        Ok(())
    }
}
