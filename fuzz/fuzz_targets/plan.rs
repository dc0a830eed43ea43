//! Fuzzes `plan.json` as a study folder's reader takes it (rerunning a study, `study merge`):
//! any bytes as the file, its study kind and plan read, the study built from it and its runs
//! listed — an error is fine, a panic, an abort or a runaway allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scratchnet::experiment::architecture::ArchitectureStudy;
use scratchnet::experiment::batch_size::BatchSizeStudy;
use scratchnet::experiment::depth_width::DepthWidthStudy;
use scratchnet::experiment::registry::StudyKind;
use scratchnet::experiment::runner::{read_plan, Study};

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("scratchnet-fuzz-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder can be made");
    std::fs::write(dir.join("plan.json"), data).expect("the scratch folder is writable");
    match StudyKind::of(&dir) {
        Ok(StudyKind::BatchSize) => {
            if let Ok(study) = read_plan::<BatchSizeStudy>(&dir).and_then(BatchSizeStudy::new) {
                let _ = study.runs().len();
            }
        }
        Ok(StudyKind::DepthWidth) => {
            if let Ok(study) = read_plan::<DepthWidthStudy>(&dir).and_then(DepthWidthStudy::new) {
                let _ = study.runs().len();
            }
        }
        Ok(StudyKind::Architecture) => {
            if let Ok(study) = read_plan::<ArchitectureStudy>(&dir).and_then(ArchitectureStudy::new)
            {
                let _ = study.runs().len();
            }
        }
        Err(_) => {}
    }
});
