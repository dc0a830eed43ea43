//! The scratchnet command-line tool: parses arguments and calls the library.

use anyhow::Result;
use clap::{Parser, Subcommand};
use scratchnet::demo;
use std::path::PathBuf;

/// scratchnet: neural-network training from scratch, and a lab for measuring it.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Print nothing but results (no progress bars or log lines).
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a chapter's figures and draw its charts, as the book shows them.
    Demo {
        #[command(subcommand)]
        demo: Demo,
    },
}

#[derive(Subcommand)]
enum Demo {
    /// Chapter 4: loss functions, numerical differentiation, gradients, gradient descent, simpleNet.
    Chapter4 {
        /// Sections to print, comma-separated: loss, diff, gradient, descent, simplenet.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "loss,diff,gradient,descent,simplenet"
        )]
        sections: Vec<demo::chapter4::Section>,
        /// Folder for the charts (SVG and PNG).
        #[arg(long, default_value = "runs/demo-chapter4")]
        out: PathBuf,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { demo } => match demo {
            Demo::Chapter4 { sections, out } => {
                demo::chapter4::run(&sections, &out, &mut std::io::stdout().lock())?;
            }
        },
    }
    Ok(())
}
