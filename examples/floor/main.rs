//! The users' run's floor on this machine, measured: a bare kernel doing only the run's
//! arithmetic, for `bench/compare` to print beside what `scratchnet train` achieves.
//!
//! `cargo run --release --features bench --example floor [-- --repeats 2]` prints JSON.
//!
//! The users' run is `scratchnet train` with no flags: TwoLayerNet 784-50-10, sigmoid, SGD lr
//! 0.1, 10,000 updates of batch 100 drawn from MNIST's 60,000 training images, and accuracy on
//! all 60,000 + 10,000 images at the 17 epoch marks (every 600 updates). This tool does that
//! run on the real MNIST (its nonzero pixels, about 19 %) with nothing but the arithmetic:
//!
//! - per update, (a) forward: each of the 100 rows' hidden pre-activations as b1 plus the sum,
//!   over the row's nonzero pixels, of pixel × W1's 50-float row, held in registers (fused
//!   multiply-adds), then sigmoid, the 50 × 10 layer, softmax and cross-entropy, and the small
//!   layer's backward (dy, dW2, db2, dh through the sigmoid); (b) backward: the batch's nonzeros
//!   bucketed by pixel (one pass, a bucket of 100 places per pixel), each touched pixel's dW1
//!   row summed in registers and W1's row updated at once, then W2, b1, b2; no allocation,
//!   buffers made beforehand, the batches drawn beforehand (fixed seed, with replacement);
//! - evaluation: the same first layer, sigmoid, second layer and arg max on all 70,000 images
//!   at each of the 17 marks;
//! - loading: `scratchnet::data::load` as it is (cache check, SHA-256, IDX to sparse rows).
//!
//! Each hidden row is padded from 50 to 64 floats (4 AVX-512 or 8 AVX2 vectors, 64-byte
//! aligned; W1 is 200 KB and lives in L2). The SIMD level is the best the CPU has (AVX-512F,
//! else AVX2 + FMA, else plain Rust); `FLOOR_SIMD=avx2|plain` caps it. It runs on one thread and
//! on two (one update's rows, then its pixels, split in two halves between spin barriers;
//! evaluation by halves of each set), `--repeats` times each, keeping the fastest run (a floor).
//! Before timing, every level the CPU has, on one and two threads, trains 100 updates and its
//! W1 is compared with a plain scalar version of the same steps and with scratchnet's own
//! TwoLayerNet and SGD: the tool panics if they differ by more than FMA's and the fast `exp`'s
//! rounding can explain.

mod check;
mod kernels;

use kernels::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scratchnet::data::{self, DatasetKind, FetchOptions};
use scratchnet::progress::Silent;
use serde_json::json;
use std::cell::UnsafeCell;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const STEPS: usize = 10_000;
const EPOCH: usize = 600;
const CHECK_STEPS: usize = 100;
/// Largest |W1 difference| accepted after CHECK_STEPS updates (W1's entries are about 0.01).
const TOLERANCE: f64 = 1e-6;

/// The run's data, ready: both sets, labels, every update's batch (rows and labels).
struct Data {
    train: Csr,
    test: Csr,
    t_train: Vec<u8>,
    t_test: Vec<u8>,
    batches: Vec<u32>,
    batch_labels: Vec<u8>,
    /// 0, 1, 2, …: rows in order, for evaluation.
    ids: Vec<u32>,
}

/// A barrier for two threads that spins (then yields, on a loaded machine).
struct SpinBarrier {
    threads: usize,
    count: AtomicUsize,
    generation: AtomicUsize,
}

impl SpinBarrier {
    fn wait(&self) {
        if self.threads == 1 {
            return;
        }
        let generation = self.generation.load(Ordering::Acquire);
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.threads {
            self.count.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
        } else {
            let mut spins = 0u32;
            while self.generation.load(Ordering::Acquire) == generation {
                spins += 1;
                if spins < 200 {
                    spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }
}

/// What the threads share. W1 is a raw pointer: both threads read all of it in the forward
/// phase, each writes its own pixels' rows in the backward phase, barriers between.
struct Shared<'a> {
    w1: *mut Row,
    small: UnsafeCell<Small>,
    parts: Vec<UnsafeCell<Part>>,
    barrier: SpinBarrier,
    data: &'a Data,
}

// SAFETY: every access follows the phases above, separated by the barrier's acquire/release.
unsafe impl Sync for Shared<'_> {}

#[derive(Clone, Copy, Default)]
struct Times {
    forward_s: f64,
    /// The transpose and the update (the transpose is also counted apart).
    backward_s: f64,
    transpose_s: f64,
    /// The forward's first layer (also counted in `forward_s`).
    first_layer_s: f64,
    eval_s: f64,
    loss: f32,
    train_acc: f64,
    test_acc: f64,
}

impl Times {
    fn total_s(&self) -> f64 {
        self.forward_s + self.backward_s + self.eval_s
    }
}

// --- the run -----------------------------------------------------------------------------------

/// Thread t's share of `steps` updates (and of the evaluations, if `evaluate`). Thread 0's clock
/// is the run's.
fn worker(sh: &Shared, t: usize, level: Level, steps: usize, evaluate: bool) -> Times {
    let (threads, data) = (sh.parts.len(), sh.data);
    let (r0, r1) = (t * BATCH / threads, (t + 1) * BATCH / threads);
    let mut times = Times::default();
    sh.barrier.wait();
    for step in 0..steps {
        let start = Instant::now();
        let rows = &data.batches[step * BATCH + r0..step * BATCH + r1];
        let labels = &data.batch_labels[step * BATCH + r0..step * BATCH + r1];
        let forward_end = {
            // SAFETY: this phase writes only this thread's part; W1 and the rest are read.
            let part = unsafe { &mut *sh.parts[t].get() };
            let (w1, s) = unsafe { (std::slice::from_raw_parts(sh.w1, D), &*sh.small.get()) };
            let n = rows.len();
            forward(level, w1, &s.b1, &data.train, rows, &mut part.h[..n]);
            times.first_layer_s += start.elapsed().as_secs_f64();
            part.loss = small(
                level,
                s,
                labels,
                &mut part.h[..n],
                &mut part.dh[..n],
                &mut part.grads,
            );
            let forward_end = Instant::now();
            transpose(&data.train, rows, part);
            times.transpose_s += forward_end.elapsed().as_secs_f64();
            forward_end
        };
        sh.barrier.wait();
        {
            // SAFETY: parts are read; each thread writes its own pixels' rows of W1, thread 0 the
            // rest of the parameters, which no other thread reads in this phase.
            let mut parts: [Option<&Part>; 2] = [None, None];
            for (p, cell) in parts.iter_mut().zip(&sh.parts) {
                *p = Some(unsafe { &*cell.get() });
            }
            let (c0, c1) = pixel_range(&parts, t, threads);
            let w1 = unsafe { std::slice::from_raw_parts_mut(sh.w1.add(c0), c1 - c0) };
            update(level, w1, c0, &parts);
            if t == 0 {
                let s = unsafe { &mut *sh.small.get() };
                for p in parts.iter().flatten() {
                    for k in 0..C {
                        for (j, (w, g)) in s.w2t[k].0.iter_mut().zip(&p.grads.dw2t[k].0).enumerate()
                        {
                            *w -= LR * g;
                            if j < H {
                                s.w2[j][k] = *w;
                            }
                        }
                        s.b2[k] -= LR * p.grads.db2[k];
                    }
                    for (b, g) in s.b1.0.iter_mut().zip(&p.grads.db1.0) {
                        *b -= LR * g;
                    }
                }
                times.loss = parts.iter().flatten().map(|p| p.loss).sum::<f32>() / BATCH as f32;
            }
        }
        sh.barrier.wait();
        let end = Instant::now();
        times.forward_s += (forward_end - start).as_secs_f64();
        times.backward_s += (end - forward_end).as_secs_f64();
        if evaluate && step % EPOCH == 0 {
            {
                // SAFETY: this thread's part written, the parameters read.
                let part = unsafe { &mut *sh.parts[t].get() };
                let (w1, s) = unsafe { (std::slice::from_raw_parts(sh.w1, D), &*sh.small.get()) };
                for (set, (x, labels)) in [(&data.train, &data.t_train), (&data.test, &data.t_test)]
                    .into_iter()
                    .enumerate()
                {
                    let n = labels.len();
                    let (a, b) = (t * n / threads, (t + 1) * n / threads);
                    part.correct[set] = 0;
                    for block in (a..b).step_by(BATCH) {
                        let rows = &data.ids[block..(block + BATCH).min(b)];
                        let h = &mut part.h[..rows.len()];
                        forward(level, w1, &s.b1, x, rows, h);
                        part.correct[set] +=
                            classify_at(level, s, &labels[block..block + rows.len()], h);
                    }
                }
            }
            sh.barrier.wait();
            if t == 0 {
                let correct = |set: usize| {
                    sh.parts
                        .iter()
                        .map(|p| unsafe { (*p.get()).correct[set] })
                        .sum::<usize>()
                };
                times.train_acc = correct(0) as f64 / data.t_train.len() as f64;
                times.test_acc = correct(1) as f64 / data.t_test.len() as f64;
            }
            // Thread 0 has read every part: they may be written again.
            sh.barrier.wait();
            times.eval_s += end.elapsed().as_secs_f64();
        }
    }
    times
}

/// Trains from `init` on `threads` threads; returns thread 0's times and W1 (D × H).
fn train(
    data: &Data,
    init: &(Vec<Row>, Small),
    level: Level,
    threads: usize,
    steps: usize,
    evaluate: bool,
) -> (Times, Vec<f32>) {
    let mut w1 = init.0.clone();
    let sh = Shared {
        w1: w1.as_mut_ptr(),
        small: UnsafeCell::new(init.1.clone()),
        parts: (0..threads).map(|_| UnsafeCell::new(Part::new())).collect(),
        barrier: SpinBarrier {
            threads,
            count: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
        },
        data,
    };
    let times = std::thread::scope(|scope| {
        for t in 1..threads {
            let sh = &sh;
            scope.spawn(move || worker(sh, t, level, steps, evaluate));
        }
        worker(&sh, 0, level, steps, evaluate)
    });
    (times, w1.iter().flat_map(|r| r.0[..H].to_vec()).collect())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The fastest of `repeats` whole runs (updates + evaluations) at one thread count.
fn best_run(
    data: &Data,
    init: &(Vec<Row>, Small),
    level: Level,
    threads: usize,
    repeats: usize,
) -> Times {
    (0..repeats)
        .map(|_| train(data, init, level, threads, STEPS, true).0)
        .min_by(|a, b| a.total_s().total_cmp(&b.total_s()))
        .expect("at least one run")
}

fn main() -> scratchnet::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let repeats = match args.iter().position(|a| a == "--repeats") {
        Some(i) => args
            .get(i + 1)
            .and_then(|r| r.parse().ok())
            .filter(|&r| r > 0)
            .expect("--repeats N (N ≥ 1)"),
        None => 2,
    };
    let start = Instant::now();
    let dataset = data::load(DatasetKind::Mnist, &FetchOptions::default(), &Silent)?;
    let load_s = start.elapsed().as_secs_f64();

    let x_train = dataset.x_train.to_sparse();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let batches: Vec<u32> = (0..STEPS * BATCH)
        .map(|_| rng.random_range(0..x_train.nrows() as u32))
        .collect();
    let data = Data {
        train: Csr::new(&x_train),
        test: Csr::new(&dataset.x_test.to_sparse()),
        t_train: dataset.t_train.iter().map(|&t| t as u8).collect(),
        t_test: dataset.t_test.iter().map(|&t| t as u8).collect(),
        batch_labels: batches
            .iter()
            .map(|&r| dataset.t_train[r as usize] as u8)
            .collect(),
        batches,
        ids: (0..x_train.nrows() as u32).collect(),
    };
    let init = check::initial()?;

    // Check every level at one and two threads against the scalar reference and the library.
    let scalar = check::reference(&data, &init, CHECK_STEPS);
    let lib = check::library(&x_train, &data, CHECK_STEPS)?;
    let levels = Level::available();
    let mut checks = vec![];
    for &level in &levels {
        for threads in [1, 2] {
            let (_, w1) = train(&data, &init, level, threads, CHECK_STEPS, false);
            let (a, b) = (
                check::max_abs_diff(&w1, &scalar),
                check::max_abs_diff(&w1, &lib),
            );
            assert!(
                a <= TOLERANCE && b <= TOLERANCE,
                "{} on {threads} thread(s): W1 after {CHECK_STEPS} updates differs from the \
                 scalar version by {a:e}, from scratchnet's TwoLayerNet by {b:e}",
                level.name()
            );
            checks.push(json!({"level": level.name(), "threads": threads,
                "max_abs_diff_vs_scalar": a, "max_abs_diff_vs_scratchnet": b}));
        }
    }
    let level = match std::env::var("FLOOR_SIMD") {
        Ok(cap) => *levels
            .iter()
            .find(|l| l.name().starts_with(&cap))
            .unwrap_or_else(|| panic!("FLOOR_SIMD={cap}: this CPU runs {levels:?}")),
        Err(_) => levels[0],
    };

    let one = best_run(&data, &init, level, 1, repeats);
    let two = best_run(&data, &init, level, 2, repeats);
    let per_step = |s: f64| s / STEPS as f64 * 1e6;
    let run = |t: &Times| {
        json!({"updates_s": t.forward_s + t.backward_s, "eval_s": t.eval_s,
            "total_s": t.total_s(), "forward_us_per_step": per_step(t.forward_s),
            "backward_update_us_per_step": per_step(t.backward_s),
            "of_which_transpose_us_per_step": per_step(t.transpose_s),
            "of_which_first_layer_us_per_step": per_step(t.first_layer_s)})
    };
    let faster = if two.total_s() < one.total_s() {
        &two
    } else {
        &one
    };
    let out = json!({
        "cpu": cpu_model(),
        "simd": level.name(),
        "repeats": repeats,
        "forward_us_per_step": per_step(one.forward_s),
        "backward_update_us_per_step": per_step(one.backward_s),
        "of_which_transpose_us_per_step": per_step(one.transpose_s),
        "of_which_first_layer_us_per_step": per_step(one.first_layer_s),
        "one_thread": run(&one),
        "two_threads": run(&two),
        "load_s": load_s,
        "load_note": "scratchnet::data::load as the run calls it (cache check, SHA-256, IDX to \
            sparse rows): what scratchnet does, not a floor of its own",
        "floor_s": load_s + faster.total_s(),
        "floor_threads": if std::ptr::eq(faster, &two) { 2 } else { 1 },
        "floor_note": "load_s + the faster of the one- and two-thread runs (updates + 17 \
            evaluations), both measured",
        "floor_ideal_split_s": load_s + one.total_s() / 2.0,
        "floor_ideal_split_note": "load_s + (one-thread updates + eval) / 2: a perfect two-core \
            split, assumed, not measured",
        "final_loss": one.loss,
        "train_acc": one.train_acc,
        "test_acc": one.test_acc,
        "check_steps": CHECK_STEPS,
        "check_tolerance": TOLERANCE,
        "checks": checks,
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    Ok(())
}
