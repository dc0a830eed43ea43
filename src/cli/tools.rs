//! `train`'s flags for the training tools — learning-rate schedule, validation split and early
//! stopping, augmentation — and the lines that report them; the rules live in the core
//! (`scratchnet_core::train::tools`).

use scratchnet_core::data::augment::Augment;
use scratchnet_core::optim::{Decay, LrSchedule};
use scratchnet_core::train::{History, Tools};
use std::path::Path;

/// The flags of the training tools (each off by default: the book's loop).
#[derive(clap::Args, Debug)]
pub(super) struct ToolArgs {
    /// Learning-rate schedule: constant; step:EPOCHS:GAMMA (times GAMMA every EPOCHS epochs,
    /// like PyTorch's StepLR: step:5:0.5); cosine or cosine:FLOOR (half a cosine from the
    /// learning rate down to FLOOR at the end of the run, like CosineAnnealingLR).
    #[arg(long, value_name = "SCHEDULE", default_value = "constant", value_parser = parse::<Decay>)]
    lr_schedule: Decay,
    /// Epochs of linear warm-up from learning-rate/W to the learning rate before the schedule
    /// (W = the warm-up's updates; fractions allowed, e.g. 0.5).
    #[arg(
        long,
        value_name = "EPOCHS",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    warmup: f64,
    /// Hold out the last N training images (never trained on) and measure their accuracy at
    /// every evaluation; the weights of the best one are kept as best.safetensors.
    #[arg(long, value_name = "N", default_value_t = 0)]
    validation: usize,
    /// Stop after K evaluations in a row without a better validation accuracy (early
    /// stopping; needs --validation).
    #[arg(long, value_name = "K")]
    patience: Option<usize>,
    /// Distort every training batch: none, or any of shift:PIXELS, rotate:DEGREES,
    /// elastic[:ALPHA:SIGMA] (Simard et al. 2003; elastic alone is 34:4), comma separated,
    /// e.g. shift:2,rotate:10,elastic:34:4. Deterministic under --seed.
    #[arg(long, value_name = "LIST", default_value = "none", value_parser = parse::<Augment>)]
    augment: Augment,
}

/// `s` parsed by the core's `FromStr`, its error (naming the value and the syntax) as clap's.
fn parse<T: std::str::FromStr<Err = scratchnet_core::Error>>(s: &str) -> Result<T, String> {
    s.parse().map_err(|e: scratchnet_core::Error| e.to_string())
}

impl ToolArgs {
    /// The tools' settings the flags give.
    pub(super) fn tools(&self) -> Tools {
        Tools {
            schedule: LrSchedule {
                decay: self.lr_schedule,
                warmup_epochs: self.warmup,
            },
            validation: self.validation,
            patience: self.patience,
            augment: self.augment,
        }
    }
}

/// The lines `train` prints about the best validation accuracy and early stopping, if any.
pub(super) fn summary(h: &History, best_file: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(updates) = h.stopped_early {
        lines.push(format!(
            "stopped early after {updates} updates: the validation accuracy had not improved for the patience given"
        ));
    }
    if let (Some(best), true) = (&h.best, best_file.is_file()) {
        lines.push(format!(
            "best validation accuracy {:.4} at epoch {} (iteration {}), test acc {:.4} there: {}",
            best.val_acc.unwrap_or(f64::NAN),
            best.epoch,
            best.iteration,
            best.test_acc,
            best_file.display()
        ));
    }
    lines
}
