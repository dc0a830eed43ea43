//! `scratchnet serve`: the lab in the browser.

use super::data::DataSource;
use crate::say;
use anyhow::Result;
use std::net::IpAddr;
use std::path::PathBuf;

/// The flags of `scratchnet serve`.
#[derive(clap::Args, Debug)]
pub(super) struct ServeArgs {
    /// The runs folder to show (the one `train` writes into by default).
    #[arg(long, value_name = "DIR", default_value = "runs")]
    runs: PathBuf,
    /// The port (0: any free one).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// The address to listen on; 127.0.0.1 lets only this machine in.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Runs trained at once from the page; the others wait in a queue (default: one per two
    /// cores, at least one — a run uses two).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: Option<u16>,
    /// Let starting and stopping runs need no token (only on a loopback address).
    #[arg(long)]
    no_token: bool,
    #[command(flatten)]
    source: DataSource,
}

/// Serves the runs folder until Ctrl-C.
pub(super) fn run_serve(args: &ServeArgs) -> Result<()> {
    let options = crate::serve::Options {
        runs: args.runs.clone(),
        host: args.host,
        port: args.port,
        token: !args.no_token,
        max_jobs: args
            .jobs
            .map_or_else(crate::serve::default_jobs, usize::from),
        data: args.source.fetch_options(),
    };
    let runs = args.runs.display().to_string();
    crate::serve::serve(options, |url| {
        say!("serving {runs} at {url}");
        say!("(Ctrl-C stops the server; runs it started stop with a checkpoint)");
    })?;
    Ok(())
}
