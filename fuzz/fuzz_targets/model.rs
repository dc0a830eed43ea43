//! Fuzzes the model reader as `eval` uses it: any bytes as `model.safetensors`, read, checked
//! (checksum, metadata against tensor shapes, finite weights) and, when accepted, run forward
//! on a small batch — an error is fine, a panic, an abort or a runaway allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndarray::Array2;
use scratchnet::eval::load_model;

fuzz_target!(|data: &[u8]| {
    let dir = scratch_dir();
    let path = dir.join("model.safetensors");
    std::fs::write(&path, data).expect("the fuzzer's scratch folder is writable");
    if let Ok((net, _warning)) = load_model(&path) {
        let x = Array2::<f32>::zeros((2, net.input_size()));
        let y = net.predict(&x);
        assert_eq!(y.dim(), (2, net.output_size()));
    }
});

/// One scratch folder per fuzzing process.
fn scratch_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("scratchnet-fuzz-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder can be made");
    dir
}
