//! The fuzzers' corpora as regression tests: every input the IDX and checkpoint fuzzers found
//! interesting (minimised, in tests/fuzz_corpus/) must still give a result or an error, never a
//! panic. `cargo fuzz` (see fuzz/) grows the corpora; this runs them on every `cargo test`.

use scratchnet::checkpoint::Checkpoint;
use scratchnet_core::data::idx::{parse_images, parse_labels};
use std::path::{Path, PathBuf};

fn corpus(name: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_corpus")
        .join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn the_idx_reader_survives_its_corpus() {
    let files = corpus("idx");
    assert!(
        files.len() >= 50,
        "the IDX corpus holds {} inputs",
        files.len()
    );
    let mut parsed = 0;
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        parsed += parse_images("corpus", bytes.clone()).is_ok() as usize;
        parsed += parse_labels("corpus", bytes).is_ok() as usize;
    }
    assert!(parsed > 0, "some corpus inputs are valid IDX files");
}

#[test]
fn the_checkpoint_reader_survives_its_corpus() {
    let files = corpus("checkpoint");
    assert!(
        files.len() >= 50,
        "the checkpoint corpus holds {} inputs",
        files.len()
    );
    let mut rebuilt = 0;
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        if let Ok(checkpoint) = Checkpoint::from_bytes(&file, &bytes) {
            rebuilt += checkpoint.network::<f32>().is_ok() as usize;
        }
    }
    assert!(rebuilt > 0, "some corpus inputs are whole checkpoints");
}
