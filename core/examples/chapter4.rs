//! The users' chapter-4 run against the core library alone — no folders, no command line:
//! TwoLayerNet 784-50-10 (sigmoid, σ 0.01), SGD at 0.1, batches of 100, 10,000 updates,
//! printing train and test accuracy every epoch as the book's `train_neuralnet.py` does.
//!
//! `cargo run --release -p scratchnet-core --example chapter4 -- DIR`, where DIR holds MNIST's
//! four IDX files (`scratchnet fetch` puts them in ~/.cache/scratchnet/mnist).

use scratchnet_core::data::mnist::load_dir;
use scratchnet_core::prelude::*;

/// Prints each accuracy measurement, as the book's loop does.
struct PrintEpochs;

impl<N> Hooks<N> for PrintEpochs {
    fn measured(&mut self, e: &EpochRecord) {
        println!(
            "train acc, test acc | {:.4}, {:.4}",
            e.train_acc, e.test_acc
        );
    }
}

fn main() -> Result<()> {
    let dir = std::env::args().nth(1).expect("usage: chapter4 MNIST_DIR");
    let data = load_dir(DatasetKind::Mnist, dir.as_ref())?;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let network = TwoLayerNetConfig::default().init(784, 10, &mut rng)?;
    let config = TrainConfig::default(); // iters_num 10000, batch_size 100, seed 0
    let mut trainer = Trainer::new(network, Box::new(Sgd::new(0.1)?), data.train_data(), config)?;
    trainer.train(&mut PrintEpochs);
    let h = trainer.history();
    println!(
        "final: train acc {:.4}, test acc {:.4}",
        h.final_train_acc, h.final_test_acc
    );
    Ok(())
}
