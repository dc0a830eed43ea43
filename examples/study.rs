//! A small batch-size study through the lab's API: three sizes, 600 updates each, on MNIST
//! (fetched into the cache if needed), then every finding — as the typed value a program can
//! use, and as the sentence the report prints.
//!
//! `cargo run --release --example study -- OUT_DIR` (OUT_DIR must not hold another study).

use scratchnet::data::{self, DatasetKind, FetchOptions};
use scratchnet::experiment::batch_size::{findings, summarise, BatchSizePlan, BatchSizeStudy};
use scratchnet::experiment::runner::{run_study, Shard};
use scratchnet::experiment::Budget;
use scratchnet::progress::Silent;
use scratchnet::run::TrainSettings;

fn main() -> scratchnet::Result<()> {
    let out = std::env::args().nth(1).expect("usage: study OUT_DIR");
    let plan = BatchSizePlan {
        sizes: vec![10, 100, 1000],
        budget: Budget::Iters(600),
        ..BatchSizePlan::new(TrainSettings::default())
    };
    let study = BatchSizeStudy::new(plan.clone())?;
    let mnist = data::load(DatasetKind::Mnist, &FetchOptions::default(), &Silent)?;
    let result = run_study(&study, &mnist, out.as_ref(), Shard::ALL, &Silent)?;
    for finding in findings(&plan, &summarise(&plan, &result.outcomes)) {
        println!("{finding:?}");
        println!("  {finding}");
    }
    Ok(())
}
