//! A trainer stopped midway, its snapshot taken and its network rebuilt from the weights alone
//! (as a checkpoint does), continues bit for bit as if it had never stopped — with Adam,
//! Dropout, BatchNorm and shuffled epochs, whose states are all in the snapshot. Leaving out
//! any one part of the snapshot changes the result, so each part is needed.

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet_core::init::{randn, WeightInit};
use scratchnet_core::layers::Activation;
use scratchnet_core::net::{MultiLayerNet, MultiLayerNetConfig, Network};
use scratchnet_core::optim::OptimizerKind;
use scratchnet_core::train::{Ended, Hooks, Sampling, Snapshot, TrainConfig, TrainData, Trainer};

const STOP_AT: usize = 17;

struct StopAt(usize);

impl<N> Hooks<N> for StopAt {
    fn begin(&mut self, iteration: usize, _: usize, _: &N) {
        self.0 = self.0.saturating_sub(iteration);
    }
    fn should_stop(&mut self) -> bool {
        let stop = self.0 == 0;
        self.0 = self.0.saturating_sub(1);
        stop
    }
}

fn problem() -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let x: Array2<f32> = randn(&mut rng, 60, 6, 1.0);
    let t = x
        .rows()
        .into_iter()
        .map(|r| usize::from(r[0] + r[1] > 0.0) + usize::from(r[2] > 1.0))
        .collect();
    (x, t)
}

fn net(seed: u64) -> MultiLayerNet<f32> {
    let config = MultiLayerNetConfig {
        hidden_size_list: vec![8, 8],
        activation: Activation::Relu,
        weight_init: WeightInit::He,
        weight_decay_lambda: 0.01,
        use_dropout: true,
        dropout_ratio: 0.2,
        use_batchnorm: true,
    };
    MultiLayerNet::new(6, 3, &config, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap()
}

fn trainer<'a>(
    net: MultiLayerNet<f32>,
    data: TrainData<'a, f32>,
) -> Trainer<'a, f32, MultiLayerNet<f32>> {
    let config = TrainConfig {
        iters_num: 40,
        batch_size: 10,
        sampling: Sampling::ShuffledEpochs,
        seed: 3,
        ..TrainConfig::default()
    };
    let adam = OptimizerKind::Adam.build(0.01).unwrap();
    Trainer::new(net, adam, data, config).unwrap()
}

/// Every parameter and running statistic of `net`, as bits.
fn bits(net: &MultiLayerNet<f32>) -> Vec<(String, Vec<u32>)> {
    let params = net.params().into_iter().map(|p| {
        (
            p.name.to_string(),
            p.value.iter().map(|v| v.to_bits()).collect(),
        )
    });
    let buffers = net
        .buffers()
        .into_iter()
        .map(|(name, v)| (name.to_string(), v.iter().map(|v| v.to_bits()).collect()));
    params.chain(buffers).collect()
}

/// A network of other weights given `from`'s weights and running statistics, as a checkpoint
/// loads them (its Dropout generators are left where its own seed put them).
fn rebuilt(from: &MultiLayerNet<f32>) -> MultiLayerNet<f32> {
    let mut net = net(99);
    for (mut to, from) in net.params_mut().into_iter().zip(from.params()) {
        to.value.assign(&from.value);
    }
    let sources = from.buffers();
    for ((_, mut to), (_, from)) in net.buffers_mut().into_iter().zip(sources) {
        to.assign(&from);
    }
    net
}

/// Trains to the end from `snapshot`, restored into a rebuilt copy of the stopped network.
fn resumed(
    stopped: &MultiLayerNet<f32>,
    snapshot: Snapshot<f32>,
    data: TrainData<f32>,
) -> (Vec<(String, Vec<u32>)>, Vec<f64>) {
    let mut trainer = trainer(rebuilt(stopped), data);
    trainer.restore(snapshot).unwrap();
    assert_eq!(trainer.train(&mut ()), Ended::Finished);
    (
        bits(trainer.net()),
        trainer.history().train_loss_list.clone(),
    )
}

#[test]
fn a_restored_snapshot_continues_bit_for_bit_and_needs_every_part() {
    let (x, t) = problem();
    let data = TrainData {
        x_train: x.view().into(),
        t_train: &t,
        x_test: x.view().into(),
        t_test: &t,
    };

    let mut whole = trainer(net(1), data);
    assert_eq!(whole.train(&mut ()), Ended::Finished);
    let expected = (bits(whole.net()), whole.history().train_loss_list.clone());
    assert_eq!(expected.1.len(), 40);

    let mut first = trainer(net(1), data);
    assert_eq!(
        first.train(&mut StopAt(STOP_AT)),
        Ended::Stopped { iteration: STOP_AT }
    );
    assert_eq!(first.history().train_loss_list.len(), STOP_AT);
    let snapshot = first.snapshot();
    assert!(!snapshot.optimizer.is_empty() && !snapshot.network_random.is_empty());
    assert_eq!(resumed(first.net(), snapshot.clone(), data), expected);

    // The optimizer's moments left out would restart them from zero: refused.
    let mut no_optimizer = snapshot.clone();
    no_optimizer.optimizer.clear();
    let err = trainer(rebuilt(first.net()), data)
        .restore(no_optimizer)
        .unwrap_err();
    assert!(err.contains("optimizer state m/W1 is missing"), "{err}");

    // Each other part left out: the network's Dropout positions, the sampler's place in its
    // shuffled epoch.
    let mut no_dropout = snapshot.clone();
    no_dropout.network_random = net(99).random_state();
    let mut no_sampler = snapshot.clone();
    no_sampler.sampler = trainer(net(1), data).snapshot().sampler;
    for (part, broken) in [("dropout", no_dropout), ("sampler", no_sampler)] {
        let (weights, _) = resumed(first.net(), broken, data);
        assert_ne!(
            weights, expected.0,
            "without the {part} state the run still ended the same"
        );
    }
}
