//! `scratchnet demo`: a chapter's figures, printed as the book shows them, and its charts.

use crate::demo::{chapter4, optimizers};
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

/// The demos, one per chapter.
#[derive(Subcommand)]
pub(super) enum Demo {
    /// Chapter 4: loss functions, numerical differentiation, gradients, gradient descent, simpleNet.
    Chapter4 {
        /// Sections to print, comma-separated: loss, diff, gradient, descent, simplenet.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "loss,diff,gradient,descent,simplenet"
        )]
        sections: Vec<chapter4::Section>,
        /// Folder for the charts (SVG and PNG).
        #[arg(long, default_value = "runs/demo-chapter4")]
        out: PathBuf,
    },
    /// Chapter 6: SGD, Momentum, Nesterov, AdaGrad, RMSprop and Adam on f(x, y) = x²/20 + y²
    /// from (-7, 2), 30 steps each (figure 6-8): final points, and the paths as a chart.
    Optimizers {
        /// Folder for the chart (SVG and PNG).
        #[arg(long, default_value = "runs/demo-optimizers")]
        out: PathBuf,
    },
}

/// Runs `demo`, printing to stdout (a failed print does not stop the charts being written).
pub(super) fn run(demo: Demo) -> Result<()> {
    let stdout = &mut crate::console::Stdout;
    match demo {
        Demo::Chapter4 { sections, out } => {
            crate::claim::check_out(&out)?;
            chapter4::run(&sections, &out, stdout)?
        }
        Demo::Optimizers { out } => {
            crate::claim::check_out(&out)?;
            optimizers::run(&out, stdout)?
        }
    };
    Ok(())
}
