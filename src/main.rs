//! The scratchnet command-line tool: parses arguments and calls the library.

use anyhow::Result;
use clap::{Parser, Subcommand};
use scratchnet::data::{self, DatasetKind, FetchOptions};
use scratchnet::progress::Console;
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
    /// Download (or copy) a dataset into the cache, verify its checksums and say where it is.
    Fetch(FetchArgs),
}

/// Which dataset, and where its files are cached and may be found: shared by every command that
/// reads data (`#[command(flatten)]`).
#[derive(clap::Args, Debug, Clone)]
struct DataArgs {
    /// The dataset: mnist or fashion-mnist.
    #[arg(long, default_value_t = DatasetKind::Mnist)]
    dataset: DatasetKind,
    /// Root of the data cache (files go in DIR/<dataset>/); overrides $SCRATCHNET_DATA and the
    /// default <user cache>/scratchnet.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A folder holding the four IDX files (raw or .gz), used before any download.
    #[arg(long, value_name = "DIR")]
    from: Option<PathBuf>,
}

impl DataArgs {
    /// The library's fetch options for these flags.
    fn fetch_options(&self) -> FetchOptions {
        FetchOptions {
            data_dir: self.data_dir.clone(),
            from: self.from.clone(),
        }
    }
}

/// `scratchnet fetch`'s arguments.
#[derive(clap::Args, Debug)]
struct FetchArgs {
    #[command(flatten)]
    data: DataArgs,
}

/// Fetches and verifies a dataset, then prints where each file is, its source and checksum.
fn run_fetch(args: &FetchArgs, quiet: bool) -> Result<()> {
    let progress = Console::new(quiet);
    let kind = args.data.dataset;
    let fetched = data::fetch(kind, &args.data.fetch_options(), &progress)?;
    println!(
        "{kind}: {} files in {}",
        fetched.files.len(),
        fetched.dir.display()
    );
    for file in &fetched.files {
        let when = if file.was_cached {
            "cached, from"
        } else {
            "fetched from"
        };
        println!(
            "  {:<24} {:>9} bytes  sha256 {}  {when} {}",
            file.name, file.size, file.sha256, file.origin
        );
    }
    println!("all SHA-256 checksums verified against the pinned values");
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Fetch(args) => run_fetch(&args, cli.quiet),
    }
}
