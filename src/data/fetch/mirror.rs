//! Downloading the original gzip files from an HTTPS mirror.

use super::tally::{Failure, Tally};
use super::verify::store_verified_sized;
use crate::progress::Progress;
use crate::Result;
use scratchnet_core::data::catalog::FileSpec;
use std::path::Path;
use std::time::Duration;

/// How long a mirror may take to accept a connection before the next source is tried.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a download may stall before it is abandoned.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP agent with the fetch's timeouts that honours `HTTPS_PROXY`.
pub(crate) fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .try_proxy_from_env(true)
        .build()
}

/// Takes what it can of `wanted` from the mirror at `base` (serving `<base><name>.gz`); an
/// unreachable host fails the whole source at the first file.
pub(crate) fn take_from(
    base: &str,
    wanted: &[FileSpec],
    cache: &Path,
    origin: &str,
    progress: &dyn Progress,
) -> Result<Tally> {
    let mut tally = Tally::default();
    let agent = agent();
    for spec in wanted {
        let url = format!("{base}{}.gz", spec.name);
        let result = match agent.get(&url).call() {
            Ok(response) => {
                let total = response
                    .header("Content-Length")
                    .and_then(|v| v.parse().ok());
                let reader = response.into_reader();
                store_verified_sized(spec, cache, reader, total, origin, progress)
            }
            Err(ureq::Error::Status(code, _)) => {
                Err(Failure::Source(format!("HTTP status {code} for {url}")))
            }
            // The host is unreachable: the other files would fail alike, slowly.
            Err(ureq::Error::Transport(t)) => return Ok(tally.give_up(t.to_string())),
        };
        tally.record(spec, result)?;
    }
    Ok(tally)
}
