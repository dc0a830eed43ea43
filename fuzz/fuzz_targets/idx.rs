//! Fuzzes the IDX reader: any bytes, raw or gzip, as images and as labels — an error is fine,
//! a panic, an abort or a runaway allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scratchnet_core::data::idx::{parse_images, parse_labels};

fuzz_target!(|data: &[u8]| {
    let _ = parse_images("fuzz-images", data.to_vec());
    let _ = parse_labels("fuzz-labels", data.to_vec());
});
