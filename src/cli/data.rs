//! The data flags every command that reads data shares, and `scratchnet fetch`.

use crate::data::{self, DatasetKind, FetchOptions};
use crate::progress::Console;
use anyhow::Result;
use std::path::PathBuf;

/// Where a dataset's files are cached and may be found.
#[derive(clap::Args, Debug, Clone)]
pub(super) struct DataSource {
    /// Root of the data cache (files go in DIR/<dataset>/); overrides $SCRATCHNET_DATA and the
    /// default <user cache>/scratchnet.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A folder holding the four IDX files (raw or .gz), used before any download.
    #[arg(long, value_name = "DIR")]
    from: Option<PathBuf>,
}

impl DataSource {
    /// The library's fetch options for these flags.
    pub(super) fn fetch_options(&self) -> FetchOptions {
        FetchOptions {
            data_dir: self.data_dir.clone(),
            from: self.from.clone(),
        }
    }
}

/// Which dataset, and where its files are: the data flags of every command that reads one
/// dataset (`#[command(flatten)]`).
#[derive(clap::Args, Debug, Clone)]
pub(super) struct DataArgs {
    /// The dataset: mnist (the default) or fashion-mnist.
    #[arg(long)]
    pub(super) dataset: Option<DatasetKind>,
    #[command(flatten)]
    pub(super) source: DataSource,
}

impl DataArgs {
    /// The dataset asked for, or MNIST.
    pub(super) fn dataset(&self) -> DatasetKind {
        self.dataset.unwrap_or_default()
    }

    /// The library's fetch options for these flags.
    pub(super) fn fetch_options(&self) -> FetchOptions {
        self.source.fetch_options()
    }
}

/// `scratchnet fetch`'s arguments.
#[derive(clap::Args, Debug)]
pub(super) struct FetchArgs {
    #[command(flatten)]
    data: DataArgs,
}

/// Fetches and verifies a dataset, then prints where each file is, its source and checksum.
pub(super) fn run_fetch(args: &FetchArgs, quiet: bool) -> Result<()> {
    let progress = Console::new(quiet);
    let kind = args.data.dataset();
    let fetched = data::fetch(kind, &args.data.fetch_options(), &progress)?;
    crate::say!(
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
        crate::say!(
            "  {:<24} {:>9} bytes  sha256 {}  {when} {}",
            file.name,
            file.size,
            file.sha256,
            file.origin
        );
    }
    crate::say!("all SHA-256 checksums verified against the pinned values");
    Ok(())
}
