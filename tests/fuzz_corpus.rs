//! The fuzzers' corpora as regression tests: every input the IDX, checkpoint, model,
//! config.json and plan.json fuzzers found interesting (minimised, in tests/fuzz_corpus/) must
//! still give a result or an error, never a panic. `cargo fuzz` (see fuzz/) grows the corpora; this runs them on every `cargo test`.

use ndarray::Array2;
use scratchnet::checkpoint::Checkpoint;
use scratchnet::eval::{load_model, trained_on};
use scratchnet::experiment::architecture::ArchitectureStudy;
use scratchnet::experiment::batch_size::BatchSizeStudy;
use scratchnet::experiment::depth_width::DepthWidthStudy;
use scratchnet::experiment::registry::StudyKind;
use scratchnet::experiment::runner::{read_plan, Study};
use scratchnet::run::RunDir;
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

/// Each input of the corpus `name`, written in turn as `file_name` in one scratch folder.
fn each_written_as(name: &str, file_name: &str, mut check: impl FnMut(&Path)) -> usize {
    let scratch = tempfile::tempdir().unwrap();
    let files = corpus(name);
    for file in &files {
        std::fs::copy(file, scratch.path().join(file_name)).unwrap();
        check(scratch.path());
    }
    files.len()
}

#[test]
fn the_model_reader_survives_its_corpus() {
    let mut accepted = 0;
    let inputs = each_written_as("model", "model.safetensors", |dir| {
        if let Ok((net, _warning)) = load_model(&dir.join("model.safetensors")) {
            let y = net.predict(&Array2::<f32>::zeros((2, net.input_size())));
            assert_eq!(y.dim(), (2, net.output_size()));
            accepted += 1;
        }
    });
    assert!(inputs >= 50, "the model corpus holds {inputs} inputs");
    assert!(accepted > 0, "some corpus inputs are whole models");
}

#[test]
fn the_config_reader_survives_its_corpus() {
    let mut valid = 0;
    let inputs = each_written_as("config", "config.json", |dir| {
        let _ = trained_on(&dir.join("model.safetensors"));
        if let Ok(settings) = RunDir::open(dir).settings() {
            if settings.validate().is_ok() {
                let _ = settings.network.describe(784, 10);
                valid += 1;
            }
        }
    });
    assert!(inputs >= 50, "the config corpus holds {inputs} inputs");
    assert!(valid > 0, "some corpus inputs are valid settings");
}

#[test]
fn the_plan_reader_survives_its_corpus() {
    let mut studies = 0;
    let inputs = each_written_as("plan", "plan.json", |dir| match StudyKind::of(dir) {
        Ok(StudyKind::BatchSize) => {
            if let Ok(study) = read_plan::<BatchSizeStudy>(dir).and_then(BatchSizeStudy::new) {
                studies += (!study.runs().is_empty()) as usize;
            }
        }
        Ok(StudyKind::DepthWidth) => {
            if let Ok(study) = read_plan::<DepthWidthStudy>(dir).and_then(DepthWidthStudy::new) {
                studies += (!study.runs().is_empty()) as usize;
            }
        }
        Ok(StudyKind::Architecture) => {
            if let Ok(study) = read_plan::<ArchitectureStudy>(dir).and_then(ArchitectureStudy::new)
            {
                studies += (!study.runs().is_empty()) as usize;
            }
        }
        Err(_) => {}
    });
    assert!(inputs >= 50, "the plan corpus holds {inputs} inputs");
    assert!(studies > 0, "some corpus inputs are whole study plans");
}
