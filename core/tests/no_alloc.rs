//! The training loop's hot path allocates nothing per iteration: a counting global allocator
//! watches 200 steps (sample, gather, backprop, SGD) of the users' network after a warm-up,
//! and every optimizer's steps after its first (when its state is made).
//!
//! Each thread counts its own allocations: the steps under test run on the test's thread, and
//! the test harness's own printing on other threads cannot be mistaken for theirs. The users'
//! network's steps are also split in two parts on the kernels' team (whatever the machine's
//! cores), and there every thread's allocations count: the tests of this file take turns.

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet_core::init::randn;
use scratchnet_core::layers::{Activation, Input, SparseRows, Targets};
use scratchnet_core::net::{MultiLayerNet, MultiLayerNetConfig, Network, TwoLayerNetConfig};
use scratchnet_core::optim::{self, OptimizerKind, Sgd};
use scratchnet_core::train::sampler::{MiniBatchSampler, Sampling};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

struct Counting;

thread_local! {
    /// Allocations (and reallocations) made by this thread.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// This thread's allocations so far.
fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Allocations made by any thread.
static EVERY_THREAD: AtomicUsize = AtomicUsize::new(0);

/// Held by each test: while one counts every thread's allocations, no other test runs.
static TURN: Mutex<()> = Mutex::new(());

/// Counts one allocation on this thread (none while the thread is being torn down).
fn count() {
    EVERY_THREAD.fetch_add(1, Ordering::Relaxed);
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn training_steps_allocate_nothing_after_warm_up() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    // The team's helpers allocate on their own threads: count them too.
    scratchnet_core::kernels::team::force_parts(Some(2));
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    // MNIST-like inputs: 80 % zeros.
    let x_train: Array2<f32> =
        randn(&mut rng, 2000, 784, 1.0).mapv(|v: f32| if v.abs() < 1.28 { 0.0 } else { v.abs() });
    let t_train: Vec<usize> = (0..2000).map(|i| i % 10).collect();
    let x_sparse = SparseRows::from_dense(x_train.view());
    let mut net = TwoLayerNetConfig {
        hidden_size: 50,
        activation: Activation::Sigmoid,
        weight_init_std: 0.01,
    }
    .init::<f32>(784, 10, &mut rng)
    .unwrap();
    let mut sgd = Sgd::new(0.1).unwrap();
    let mut sampler = MiniBatchSampler::new(rng, Sampling::WithReplacement, 2000);
    let batch = 100;
    let (mut mask, mut t) = (vec![0; batch], vec![0; batch]);
    let (mut x, mut x_dense) = (SparseRows::new(), Array2::zeros((batch, 784)));
    let mut steps = |n: usize, sparse: bool| {
        for _ in 0..n {
            sampler.next_batch(&mut mask);
            for (t, &i) in t.iter_mut().zip(&mask) {
                *t = t_train[i];
            }
            let input = if sparse {
                x.gather(x_sparse.view(), &mask);
                Input::Sparse(x.view())
            } else {
                // A dense batch from a set kept sparse, as numerical gradients and augmentation
                // gather from MNIST.
                Input::Sparse(x_sparse.view()).gather_rows_into(&mask, &mut x_dense);
                Input::Dense(x_dense.view())
            };
            net.gradient(&input, Targets::Labels(&t));
            optim::step(&mut net, &mut sgd);
        }
    };
    for sparse in [true, false] {
        // Warm-up: buffers grow to the largest batch seen (a few more nonzeros may come later,
        // so warm up long enough to see a dense-ish batch).
        steps(300, sparse);
        let (before, everywhere) = (allocations(), EVERY_THREAD.load(Ordering::Relaxed));
        steps(200, sparse);
        let after = allocations();
        assert_eq!(
            after - before,
            0,
            "allocations in 200 steps (sparse input: {sparse})"
        );
        let helpers = EVERY_THREAD.load(Ordering::Relaxed) - everywhere;
        assert_eq!(
            helpers, 0,
            "allocations on any thread, the team's helpers included, in 200 steps split in two \
             parts (sparse input: {sparse})"
        );
    }
}

/// ReLU outputs straddle the Affine layer's density threshold (40 % nonzero), so the hidden
/// layers switch between their sparse and dense paths from step to step: both keep their
/// buffers, so the switch allocates nothing either.
#[test]
fn switching_between_sparse_and_dense_paths_allocates_nothing() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    use scratchnet_core::net::{MultiLayerNet, MultiLayerNetConfig};
    use scratchnet_core::optim::OptimizerKind;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let config = MultiLayerNetConfig {
        hidden_size_list: vec![30, 20],
        activation: Activation::Relu,
        ..MultiLayerNetConfig::default()
    };
    let x = randn::<f32>(&mut rng, 16, 40, 1.0);
    let t: Vec<usize> = (0..16).map(|i| i % 10).collect();
    let mut net = MultiLayerNet::<f32>::new(40, 10, &config, &mut rng).unwrap();
    let kind = OptimizerKind::RmsProp;
    let mut optimizer = kind.build::<f32>(kind.default_learning_rate()).unwrap();
    let mut step = || {
        net.gradient(&x, Targets::Labels(&t));
        optim::step(&mut net, optimizer.as_mut());
    };
    for _ in 0..50 {
        step();
    }
    let before = allocations();
    for _ in 0..50 {
        step();
    }
    let after = allocations();
    assert_eq!(after - before, 0, "allocations in 50 RMSprop steps");
}

#[test]
fn every_optimizer_step_allocates_nothing_after_the_first() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let config = MultiLayerNetConfig {
        hidden_size_list: vec![30, 20],
        use_batchnorm: true,
        weight_decay_lambda: 0.01,
        ..MultiLayerNetConfig::default()
    };
    let x = randn::<f32>(&mut rng, 16, 40, 1.0);
    let t: Vec<usize> = (0..16).map(|i| i % 10).collect();
    for kind in OptimizerKind::ALL {
        let mut net = MultiLayerNet::<f32>::new(40, 10, &config, &mut rng).unwrap();
        let mut optimizer = kind.build::<f32>(kind.default_learning_rate()).unwrap();
        net.gradient(&x, Targets::Labels(&t));
        optim::step(&mut net, optimizer.as_mut());
        let mut during_steps = 0;
        for _ in 0..20 {
            net.gradient(&x, Targets::Labels(&t));
            let before = allocations();
            optim::step(&mut net, optimizer.as_mut());
            during_steps += allocations() - before;
        }
        assert_eq!(
            during_steps, 0,
            "{kind} allocated {during_steps} times in 20 steps"
        );
    }
}

/// The training tools in the hot loop: a scheduled learning rate set on the optimizer and every
/// distortion of a mini-batch (shift, rotation, elastic field) reuse what they have.
#[test]
fn a_scheduled_rate_and_augmentation_allocate_nothing() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    use scratchnet_core::data::augment::Augmenter;
    use scratchnet_core::optim::LrSchedule;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x_train: Array2<f32> = randn(&mut rng, 500, 784, 1.0).mapv(|v: f32| v.abs().min(1.0));
    let t_train: Vec<usize> = (0..500).map(|i| i % 10).collect();
    let mut net = TwoLayerNetConfig::default()
        .init::<f32>(784, 10, &mut rng)
        .unwrap();
    let mut adam = OptimizerKind::Adam.build::<f32>(0.001).unwrap();
    let schedule = LrSchedule {
        decay: "cosine:0.0001".parse().unwrap(),
        warmup_epochs: 1.0,
    };
    let mut augmenter = Augmenter::new(
        "shift:2,rotate:10,elastic:34:4".parse().unwrap(),
        (28, 28),
        5,
    )
    .unwrap();
    let mut sampler = MiniBatchSampler::new(rng, Sampling::WithReplacement, 500);
    let batch = 50;
    let (mut mask, mut t, mut x) = (vec![0; batch], vec![0; batch], Array2::zeros((0, 0)));
    let mut steps = |range: std::ops::Range<usize>| {
        for i in range {
            sampler.next_batch(&mut mask);
            for (t, &row) in t.iter_mut().zip(&mask) {
                *t = t_train[row];
            }
            Input::Dense(x_train.view()).gather_rows_into(&mask, &mut x);
            augmenter.apply(&mut x, i);
            adam.set_learning_rate(schedule.learning_rate(0.001, i, 40, 10));
            net.gradient(&Input::Dense(x.view()), Targets::Labels(&t));
            optim::step(&mut net, adam.as_mut());
        }
    };
    steps(0..5);
    let before = allocations();
    steps(5..40);
    assert_eq!(
        allocations() - before,
        0,
        "allocations in 35 augmented, scheduled steps"
    );
}

/// A conv net's training step (dense and sparse input, Adam, two Dropout layers) allocates
/// nothing after its first: every layer keeps its buffers, the conv layers their colᵀ.
///
/// The steps run inside a rayon pool, as training does: the conv layers split each batch over
/// the pool's threads, and a parallel call from outside a pool goes through rayon's global
/// injector queue, which allocates a block of slots every 63 calls (the allocation rayon
/// makes, not the step); from a pool thread, jobs go on its own deque.
#[test]
fn conv_net_steps_allocate_nothing_after_the_first() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    pool.install(conv_net_steps);
}

fn conv_net_steps() {
    use scratchnet_core::net::ConvNetConfig;
    use scratchnet_core::optim::Adam;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let config: ConvNetConfig = "conv:4x3p1,conv:6x3s2p1,pool:2,fc:12,dropout:0.5,out,dropout:0.5"
        .parse()
        .unwrap();
    let mut net = config.init::<f32>(784, 10, &mut rng).unwrap();
    let x = randn::<f32>(&mut rng, 20, 784, 1.0).mapv(|v| v.max(0.0));
    let sparse = SparseRows::from_dense(x.view());
    let t: Vec<usize> = (0..20).map(|i| i % 10).collect();
    let mut adam = Adam::new(0.001).unwrap();
    for sparse_input in [false, true] {
        let mut step = || {
            if sparse_input {
                net.gradient(&sparse, Targets::Labels(&t));
            } else {
                net.gradient(&x, Targets::Labels(&t));
            }
            optim::step(&mut net, &mut adam);
        };
        // Warm-up: the affine layers' sparse scratch grows to the most nonzeros seen.
        for _ in 0..30 {
            step();
        }
        let before = allocations();
        for _ in 0..20 {
            step();
        }
        let after = allocations();
        assert_eq!(
            after - before,
            0,
            "allocations in 20 steps (sparse input: {sparse_input})"
        );
    }
}
