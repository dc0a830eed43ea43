//! Which instruction set the core's kernels may use, capped by the environment variable
//! `SCRATCHNET_SIMD` (`avx512`, `avx2` or `plain`): to measure on an AVX-512 machine how the
//! kernels run on an AVX2 one, or to check that all levels train the same weights. Results are
//! the same bits at every level (tests/simd_paths.rs), large dense products included.

use crate::{Error, Result};
use scratchnet_core::kernels::{self, Level};

/// The environment variable that caps the kernels' instruction set.
pub const SIMD_ENV: &str = "SCRATCHNET_SIMD";

/// Applies `SCRATCHNET_SIMD` if it is set; returns the cap (None when unset).
pub fn cap_from_env() -> Result<Option<Level>> {
    let Ok(value) = std::env::var(SIMD_ENV) else {
        return Ok(None);
    };
    let level = match value.as_str() {
        "avx512" => Level::Avx512,
        "avx2" => Level::Avx2,
        "plain" => Level::Plain,
        other => return Err(Error::invalid(SIMD_ENV, other, "avx512, avx2 or plain")),
    };
    kernels::force_level(Some(level));
    Ok(Some(level))
}
