//! Fuzzes the checkpoint reader: any bytes as a safetensors checkpoint, then rebuilding the
//! network it describes — an error is fine, a panic, an abort or a runaway allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scratchnet::checkpoint::Checkpoint;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(checkpoint) = Checkpoint::from_bytes(Path::new("fuzz.safetensors"), data) {
        let _ = checkpoint.network::<f32>();
    }
});
