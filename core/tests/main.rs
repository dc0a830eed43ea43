//! The core's integration tests, built as one test binary: each file beside this one is a module
//! of it (`cargo test --release -p scratchnet-core --test integration snapshot::` runs one file's
//! tests). One binary links the core and instantiates its generic code once, instead of once per
//! file.
//!
//! `no_alloc.rs` stays a binary of its own: its counting global allocator would sit under every
//! other test's allocations, and its counts must see only its own steps — with other tests in
//! the process, their parallel calls through rayon's global queue could leave that queue's next
//! block allocation to one of its steps.

mod conv_properties;
mod forward_fixtures;
mod layer_outputs;
mod properties;
mod snapshot;
