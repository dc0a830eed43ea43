//! Fuzzes `config.json` as a run folder's reader takes it (`--resume`, `eval` beside a model):
//! any bytes as the file, read and validated, and the network it describes counted — an error
//! is fine, a panic, an abort or a runaway allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scratchnet::eval::trained_on;
use scratchnet::run::RunDir;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("scratchnet-fuzz-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder can be made");
    std::fs::write(dir.join("config.json"), data).expect("the scratch folder is writable");
    let _ = trained_on(&dir.join("model.safetensors"));
    if let Ok(settings) = RunDir::open(&dir).settings() {
        if settings.validate().is_ok() {
            let _ = settings.network.parameter_count(784, 10);
            let _ = settings.network.describe(784, 10);
        }
    }
});
