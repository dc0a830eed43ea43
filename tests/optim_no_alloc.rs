//! Optimizer state is allocated at a parameter's first update only: a counting global
//! allocator watches `optim::step` of every rule on a MultiLayerNet after its first step.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet::init::randn;
use scratchnet::layers::Targets;
use scratchnet::net::{MultiLayerNet, MultiLayerNetConfig, Network};
use scratchnet::optim::{self, OptimizerKind};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn every_optimizer_step_allocates_nothing_after_the_first() {
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
        net.gradient(x.view(), Targets::Labels(&t));
        optim::step(&mut net, optimizer.as_mut());
        let mut during_steps = 0;
        for _ in 0..20 {
            net.gradient(x.view(), Targets::Labels(&t));
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            optim::step(&mut net, optimizer.as_mut());
            during_steps += ALLOCATIONS.load(Ordering::Relaxed) - before;
        }
        assert_eq!(
            during_steps, 0,
            "{kind} allocated {during_steps} times in 20 steps"
        );
    }
}
