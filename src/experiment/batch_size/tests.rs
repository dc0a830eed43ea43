use super::*;
use crate::experiment::Budget;

fn summary(batch_size: usize, sps: f64, acc: f64, to_target: Option<(f64, f64)>) -> SizeSummary {
    SizeSummary {
        batch_size,
        runs: 1,
        diverged: 0,
        updates: 60_000.0 / batch_size as f64,
        median_update_ms: batch_size as f64 / sps * 1e3,
        samples_per_s: (sps, sps, sps),
        updates_per_s: sps / batch_size as f64,
        to_target,
        final_test_acc: (acc, acc, acc),
        final_train_acc: acc + 0.001,
        best_test_acc: acc,
        gap: (0.001, 0.001, 0.001),
        train_s: 1.0,
        eval_s: 0.5,
        peak_rss_mb: 300.0,
    }
}

fn rate(batch_size: usize, samples_per_s: f64) -> SizeRate {
    SizeRate {
        batch_size,
        samples_per_s,
    }
}

/// The finding of `kind` (matched by a pattern) among `all`.
macro_rules! find {
    ($all:expr, $pat:pat) => {
        $all.iter()
            .find(|f| matches!(f, $pat))
            .unwrap_or_else(|| panic!("no {} in {:?}", stringify!($pat), $all))
    };
}

#[test]
fn findings_name_the_sizes_and_numbers_that_support_them() {
    let plan = BatchSizePlan::new(TrainSettings::default());
    let sizes = vec![
        summary(1, 50_000.0, 0.93, Some((0.5, 0.4))),
        summary(100, 400_000.0, 0.95, Some((0.2, 0.8))),
        summary(1000, 420_000.0, 0.90, None),
    ];
    let all = findings(&plan, &sizes);
    let Finding::Target { reached, never, .. } = find!(all, Finding::Target { .. }) else {
        unreachable!()
    };
    assert_eq!(
        (reached[0].batch_size, reached[0].seconds, reached[0].epochs),
        (100, 0.2, 0.8)
    );
    assert_eq!(reached[1].batch_size, 1);
    assert_eq!(never, &[1000]);
    assert_eq!(
        find!(all, Finding::Throughput { .. }),
        &Finding::Throughput {
            smallest: rate(1, 50_000.0),
            largest: rate(1000, 420_000.0),
            fastest: rate(1000, 420_000.0),
            plateau: rate(100, 400_000.0),
        }
    );
    let Finding::Accuracy {
        best,
        near,
        enough,
        largest,
        ..
    } = find!(all, Finding::Accuracy { .. })
    else {
        unreachable!()
    };
    assert_eq!((best.batch_size, best.test_acc), (100, 0.95));
    assert!(near.is_empty());
    assert_eq!(enough.batch_size, 100);
    assert_eq!((largest.batch_size, largest.test_acc), (1000, 0.90));
    let Finding::BatchOne {
        median_update_ms, ..
    } = find!(all, Finding::BatchOne { .. })
    else {
        unreachable!()
    };
    assert!((median_update_ms - 0.02).abs() < 1e-12);
    // The sentences, as the report and the console show them.
    let text: Vec<String> = all.iter().map(Finding::to_string).collect();
    assert_eq!(
        text[0],
        "Batch 100 reached 0.90 test accuracy first: after 0.20 s of updates (0.800 epochs). Then batch 1 after 0.50 s \
         (0.400 epochs). Batch 1000 never reached it within the budget (epochs:5)."
    );
    assert_eq!(
        text[1],
        "Throughput grows from 50000 samples/s at batch 1 to a peak of 420000 samples/s at batch 1000. It stops growing \
         at batch 100 (400000 samples/s, within 10% of the peak): larger batches buy little more speed per sample."
    );
    assert_eq!(
        text[2],
        "Final test accuracy is highest at batch 100 (0.9500). The lowest is batch 1000 (0.9000). Accuracy stops \
         improving at batch 100: no larger batch does better, and batch 1000 ends at 0.9000 (-0.0500), \
         with updates of 2.3810 ms against 0.2500 ms."
    );
}

#[test]
fn findings_cover_a_fastest_smallest_batch_and_a_best_largest_one() {
    let plan = BatchSizePlan::new(TrainSettings::default());
    let mut sizes = vec![
        summary(10, 500_000.0, 0.90, None),
        summary(100, 300_000.0, 0.94, None),
    ];
    sizes[0].gap = (-0.0120, -0.0120, -0.0120);
    sizes[1].gap = (-0.0084, -0.0084, -0.0084);
    let all = findings(&plan, &sizes);
    assert_eq!(
        all[0],
        Finding::Target {
            target: 0.9,
            budget: Budget::Epochs(5.0),
            reached: Vec::new(),
            never: vec![10, 100],
        }
    );
    let Finding::Throughput {
        fastest, plateau, ..
    } = &all[1]
    else {
        panic!("{all:?}")
    };
    assert_eq!(
        (fastest, plateau),
        (&rate(10, 500_000.0), &rate(10, 500_000.0))
    );
    assert_eq!(
        all[1].to_string(),
        "Throughput is highest at the smallest batch tried, 10 (500000 samples/s), and 300000 samples/s at batch 100."
    );
    let Finding::Accuracy {
        enough, largest, ..
    } = &all[2]
    else {
        panic!("{all:?}")
    };
    assert_eq!(enough.batch_size, largest.batch_size);
    assert_eq!(
        find!(all, Finding::Gap { .. }),
        &Finding::Gap {
            train_eval_rows: 10_000,
            batch_size: 100,
            gap: -0.0084,
            overfits: false,
        }
    );
    // No positive gap: training was never ahead, whatever the widest negative one.
    assert_eq!(
        find!(all, Finding::Gap { .. }).to_string(),
        "Training accuracy (on 10000 training images) was never ahead of test accuracy: the gap train − test is at \
         most -0.0084 (batch 100), so no batch size overfits."
    );
    // The users' own comparison: past batch 100 accuracy barely moves.
    let sizes = vec![
        summary(10, 200_000.0, 0.9404, None),
        summary(100, 600_000.0, 0.9460, None),
        summary(6000, 500_000.0, 0.9467, None),
    ];
    let all = findings(&plan, &sizes);
    let Finding::Accuracy {
        best,
        near,
        enough,
        largest,
        ..
    } = &all[2]
    else {
        panic!("{all:?}")
    };
    assert_eq!((best.batch_size, enough.batch_size), (6000, 100));
    assert_eq!(near.iter().map(|s| s.batch_size).collect::<Vec<_>>(), [100]);
    assert!((largest.median_update_ms - 12.0).abs() < 1e-9);
    assert!(all[2].to_string().ends_with(
        "Accuracy stops improving at batch 100 (0.9460, within 0.005 of the best): batch 6000 ends at 0.9467 \
         (+0.0007), with updates of 12.0000 ms against 0.1667 ms."
    ));
    // The same sizes given largest first say the same.
    let reversed: Vec<SizeSummary> = sizes.into_iter().rev().collect();
    assert_eq!(findings(&plan, &reversed), all);
}

#[test]
fn with_no_finished_run_there_is_one_finding() {
    let plan = BatchSizePlan::new(TrainSettings::default());
    let all = findings(&plan, &[]);
    assert_eq!(all, [Finding::NoRuns]);
    assert_eq!(all[0].to_string(), "No run has finished yet.");
}

#[test]
fn learning_rates_scale_from_batch_100() {
    assert_eq!(LrScaling::None.apply(0.1, 1000), 0.1);
    assert!((LrScaling::Linear.apply(0.1, 1000) - 1.0).abs() < 1e-12);
    assert!((LrScaling::Sqrt.apply(0.1, 10_000) - 1.0).abs() < 1e-12);
}

#[test]
fn impossible_plans_are_refused() {
    let mut plan = BatchSizePlan::new(TrainSettings::default());
    plan.sizes = vec![10, 0];
    assert!(BatchSizeStudy::new(plan.clone())
        .err()
        .unwrap()
        .to_string()
        .contains("batch sizes"));
    plan.sizes = vec![10];
    plan.seeds = 0;
    assert!(BatchSizeStudy::new(plan).is_err());
}

#[test]
fn one_size_gives_its_figures_and_no_comparison() {
    let plan = BatchSizePlan::new(TrainSettings::default());
    let all = findings(&plan, &[summary(100, 283_800.0, 0.91, Some((0.3, 0.5)))]);
    assert!(!all
        .iter()
        .any(|f| matches!(f, Finding::Throughput { .. } | Finding::Accuracy { .. })));
    let one = find!(all, Finding::OneSize { .. });
    let Finding::OneSize { rate: r, acc } = one else {
        unreachable!()
    };
    assert_eq!((r.batch_size, r.samples_per_s), (100, 283_800.0));
    assert_eq!((acc.batch_size, acc.test_acc), (100, 0.91));
    assert_eq!(
        one.to_string(),
        "Only batch 100 was tried, so nothing is compared: 283800 samples/s, updates of 0.3524 ms, final test \
         accuracy 0.9100. Give more --sizes to see where speed and accuracy stop growing."
    );
}

#[test]
fn two_sizes_within_tolerance_are_a_tie_said_once() {
    let plan = BatchSizePlan::new(TrainSettings::default());
    // The user's report: batch 1000 is best by 0.0003, within the tolerance of batch 100.
    let sizes = vec![
        summary(100, 300_000.0, 0.8948, None),
        summary(1000, 400_000.0, 0.8951, None),
    ];
    let all = findings(&plan, &sizes);
    let Finding::Accuracy {
        best, near, enough, ..
    } = find!(all, Finding::Accuracy { .. })
    else {
        unreachable!()
    };
    assert_eq!((best.batch_size, enough.batch_size), (1000, 100));
    assert_eq!(near.iter().map(|s| s.batch_size).collect::<Vec<_>>(), [100]);
    let text = find!(all, Finding::Accuracy { .. }).to_string();
    assert_eq!(
        text,
        "Final test accuracy is highest at batch 1000 (0.8951). Within 0.005 of it: batch 100 (0.8948). The lowest is \
         batch 100 (0.8948). The smallest batch, 100 (0.8948), is already within 0.005 of the best: batch 1000 ends at \
         0.8951 (+0.0003), with updates of 2.5000 ms against 0.3333 ms."
    );
    assert!(!text.contains("improves on"), "{text}");
    // The same sizes the other way round: batch 100 best, 1000 within the tolerance but worse.
    let sizes = vec![
        summary(100, 300_000.0, 0.8003, None),
        summary(1000, 200_000.0, 0.7965, None),
    ];
    let text = find!(findings(&plan, &sizes), Finding::Accuracy { .. }).to_string();
    assert!(
        text.ends_with(
            "No larger batch improves on batch 100: batch 1000 ends at 0.7965 (-0.0038), with updates of 5.0000 ms \
             against 0.3333 ms."
        ),
        "{text}"
    );
    // Many sizes, the best in the middle and a tie below it: larger ones add at most the tie.
    let sizes = vec![
        summary(10, 100_000.0, 0.80, None),
        summary(100, 300_000.0, 0.948, None),
        summary(1000, 400_000.0, 0.950, None),
        summary(6000, 410_000.0, 0.93, None),
    ];
    let text = find!(findings(&plan, &sizes), Finding::Accuracy { .. }).to_string();
    assert!(
        text.ends_with(
            "Accuracy stops improving at batch 100 (0.9480, within 0.005 of the best): larger batches add at most \
             +0.0020, and batch 6000 ends at 0.9300 (-0.0180), with updates of 14.6341 ms against 0.3333 ms."
        ),
        "{text}"
    );
}

#[test]
fn ranges_over_seeds_are_one_compact_cell() {
    assert_eq!(
        report::ranged(1, (0.9, 0.9, 0.9), |v| format!("{v:.4}")),
        "0.9000"
    );
    assert_eq!(
        report::ranged(2, (0.8951, 0.8948, 0.8954), |v| format!("{v:.4}")),
        "0.8951 (0.8948\u{a0}to\u{a0}0.8954)"
    );
    assert_eq!(
        report::ranged(3, (0.001, -0.002, 0.004), |v| format!("{v:+.4}")),
        "+0.0010 (-0.0020\u{a0}to\u{a0}+0.0040)"
    );
}

#[test]
fn the_size_table_shows_scaled_rates_and_notes_only_when_needed() {
    let mut plan = BatchSizePlan::new(TrainSettings::default());
    plan.sizes = vec![100, 400];
    let sizes = vec![
        summary(100, 300_000.0, 0.9, None),
        summary(400, 400_000.0, 0.9, None),
    ];
    let study = BatchSizeStudy::new(plan.clone()).unwrap();
    let (headers, rows) = study.size_table(&sizes);
    assert!(!headers.contains(&"learning rate") && !headers.contains(&"notes"));
    assert!(headers.iter().all(|h| !h.is_empty()));
    assert!(rows.iter().all(|r| r.len() == headers.len()));
    plan.lr_scaling = LrScaling::Sqrt;
    let study = BatchSizeStudy::new(plan).unwrap();
    let mut sizes = sizes;
    sizes[1].diverged = 1;
    let (headers, rows) = study.size_table(&sizes);
    assert_eq!(headers[1], "learning rate");
    assert_eq!(headers.last(), Some(&"notes"));
    assert_eq!(rows[0][1], "0.1000");
    assert_eq!(rows[1][1], "0.2000");
    assert_eq!(rows[0].last().unwrap(), "");
    assert_eq!(rows[1].last().unwrap(), "1 diverged");
}
