use super::*;
use std::sync::atomic::AtomicBool;

/// Runs `calls` calls of `parts` parts, each counting its part; every part must run exactly
/// once per call, and on a thread other than the caller's for parts above 0.
fn count_parts(parts: usize, calls: usize) {
    let counts: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
    let caller = std::thread::current().id();
    let elsewhere = AtomicUsize::new(0);
    for _ in 0..calls {
        run(parts, &|p| {
            counts[p].fetch_add(1, Ordering::Relaxed);
            if std::thread::current().id() != caller {
                elsewhere.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    for (p, c) in counts.iter().enumerate() {
        assert_eq!(c.load(Ordering::Relaxed), calls, "part {p} of {parts}");
    }
    // Another test may hold the team meanwhile: then this caller ran its parts itself.
    assert!(elsewhere.load(Ordering::Relaxed) <= calls * (parts - 1));
}

#[test]
fn every_part_runs_once_per_call_back_to_back_and_after_the_helpers_sleep() {
    for parts in 1..=4 {
        count_parts(parts, 500);
    }
    std::thread::sleep(SPIN * 3);
    count_parts(3, 10);
    // More parts than the last call: new helpers join.
    count_parts(6, 100);
}

#[test]
fn parts_run_on_other_threads_when_the_team_is_free() {
    assert!(on_a_helper(&|| ()), "part 1 never ran on a helper");
}

/// Runs `f` as part 1 of 2-part calls until a helper (not the caller) has run it — another
/// test's call may hold the team for a while — and says whether one did within 20 s.
fn on_a_helper(f: &(dyn Fn() + Sync)) -> bool {
    let (caller, start) = (std::thread::current().id(), Instant::now());
    while start.elapsed() < Duration::from_secs(20) {
        let moved = AtomicBool::new(false);
        run(2, &|p| {
            if p == 1 && std::thread::current().id() != caller {
                f();
                moved.store(true, Ordering::Relaxed);
            }
        });
        if moved.load(Ordering::Relaxed) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

#[test]
fn row_blocks_cover_out_with_their_own_rows_and_scratch() {
    let (rows, width) = (37, 5);
    for parts in 1..=5 {
        let mut out = vec![0usize; rows * width];
        let mut scratch = vec![0usize; parts];
        let bounds = even_bounds(rows, parts);
        assert_eq!(bounds.len(), parts + 1);
        assert_eq!((bounds[0], bounds[parts]), (0, rows));
        for_row_blocks(
            &mut out,
            width,
            &bounds,
            &mut scratch,
            |rows, block, own| {
                assert_eq!(block.len(), rows.len() * width);
                for (r, row) in rows.clone().zip(block.chunks_mut(width)) {
                    row.iter_mut()
                        .enumerate()
                        .for_each(|(j, v)| *v = r * width + j);
                }
                *own = rows.len();
            },
        );
        assert!(
            out.iter().enumerate().all(|(k, &v)| v == k),
            "{parts} parts"
        );
        assert_eq!(scratch.iter().sum::<usize>(), rows, "{parts} parts");
    }
}

#[test]
#[should_panic(expected = "row blocks must cover out")]
fn bounds_that_do_not_cover_out_are_refused() {
    let mut out = vec![0.0f32; 10];
    for_row_blocks(&mut out, 2, &[0, 3, 4], &mut [(); 2], |_, _, _| {});
}

#[test]
fn a_panicking_part_is_raised_in_the_caller_and_the_team_still_works() {
    for bad in [0, 1] {
        let caught = std::panic::catch_unwind(|| {
            run(2, &|p| {
                if p == bad {
                    panic!("part {p} fails");
                }
            })
        });
        let message = caught.expect_err("the panic reaches the caller");
        assert_eq!(
            message.downcast_ref::<String>().map(String::as_str),
            Some(&*format!("part {bad} fails"))
        );
        count_parts(2, 50);
    }
}

#[test]
fn callers_on_several_threads_at_once_each_get_every_part() {
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| count_parts(3, 100));
        }
    });
}

#[test]
fn parts_for_gives_one_part_per_thread_unit_and_enough_work_and_none_inside_rayon() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let on_worker = pool.install(|| parts_for(1 << 20, 1, 100));
    assert_eq!(on_worker, 1, "on a rayon worker");
    let threads = rayon::current_num_threads().min(MAX_PARTS);
    assert_eq!(parts_for(1 << 20, 1, 100), threads);
    assert_eq!(parts_for(10, 10, 100), 1);
    assert_eq!(parts_for(0, 10, 100), 1);
    assert_eq!(parts_for(20, 10, 100), threads.min(2));
    assert_eq!(parts_for(1 << 20, 1, 1), 1, "one unit");
    assert_eq!(parts_for(1 << 20, 1, 0), 1, "no unit");
}

#[test]
#[cfg(target_arch = "x86_64")]
fn helpers_compute_with_the_callers_floating_point_mode() {
    use std::hint::black_box;
    const FLUSH: u32 = (1 << 15) | (1 << 6);
    let subnormal = || (black_box(1e-20f32) * black_box(1e-20)).to_bits();
    for flush in [true, false] {
        // This test's own thread: the mode set here goes nowhere else.
        set_mxcsr(if flush {
            mxcsr() | FLUSH
        } else {
            mxcsr() & !FLUSH
        });
        let expected = subnormal();
        assert_eq!(expected == 0, flush);
        let seen = AtomicU32::new(u32::MAX);
        assert!(on_a_helper(&|| seen.store(subnormal(), Ordering::Relaxed)));
        assert_eq!(seen.load(Ordering::Relaxed), expected, "flush {flush}");
    }
    set_mxcsr(mxcsr() & !FLUSH);
}
