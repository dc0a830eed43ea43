//! Loading the full MNIST (70,000 images) from the cache the way training does (`data::load`:
//! cache check, read, validate, decode u8 → f32, kept as the nonzero pixels).
//!
//! Run: `cargo bench --features bench --bench load`. Fetches MNIST first if the cache is empty.

use criterion::{criterion_group, criterion_main, Criterion};
use scratchnet::data::{self, DatasetKind, FetchOptions};
use scratchnet::progress::Silent;
use std::hint::black_box;

fn load(c: &mut Criterion) {
    let options = FetchOptions::default();
    data::load(DatasetKind::Mnist, &options, &Silent).expect("MNIST can be fetched and loaded");
    let mut group = c.benchmark_group("load");
    group.sample_size(20);
    group.bench_function("mnist_70000_normalized", |b| {
        b.iter(|| {
            black_box(data::load(DatasetKind::Mnist, &options, &Silent).expect("MNIST loads"))
        })
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
