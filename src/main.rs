//! The scratchnet command-line tool: parses arguments and calls the library.

use anyhow::Result;
use clap::{Parser, Subcommand};

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
enum Command {}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {}
}
