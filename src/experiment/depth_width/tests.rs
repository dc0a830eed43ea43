use super::*;
use crate::data::DatasetKind;

/// The findings rendered, one sentence a line.
fn text(plan: &DepthWidthPlan, shapes: &[ShapeSummary]) -> String {
    let all: Vec<String> = findings(plan, shapes)
        .iter()
        .map(Finding::to_string)
        .collect();
    all.join("\n")
}

#[test]
fn parameters_and_multiply_adds_follow_the_layer_sizes() {
    // 784-50-10: the book's TwoLayerNet.
    assert_eq!(param_count(1, 50, 784, 10), 784 * 50 + 50 + 50 * 10 + 10);
    assert_eq!(macs_per_sample(1, 50, 784, 10), 784 * 50 + 50 * 10);
    // 784-100-100-100-10.
    assert_eq!(
        param_count(3, 100, 784, 10),
        785 * 100 + 2 * 101 * 100 + 101 * 10
    );
    assert_eq!(
        macs_per_sample(3, 100, 784, 10),
        784 * 100 + 2 * 100 * 100 + 100 * 10
    );
}

#[test]
fn the_width_solver_lands_within_a_few_percent_of_the_target() {
    for depth in 1..=8 {
        for target in [20_000, 100_000, 500_000] {
            let w = width_for_params(depth, target, 784, 10);
            let p = param_count(depth, w, 784, 10);
            let miss = p.abs_diff(target) as f64 / target as f64;
            assert!(
                miss < 0.03,
                "depth {depth} target {target}: width {w} has {p}"
            );
            // No neighbour is nearer.
            for other in [w - 1, w + 1] {
                assert!(param_count(depth, other, 784, 10).abs_diff(target) >= p.abs_diff(target));
            }
        }
    }
    assert_eq!(width_for_params(1, 79_510, 784, 10), 100);
    assert_eq!(width_for_params(3, 10, 784, 10), 1);
}

fn shape(dataset: DatasetKind, depth: usize, width: usize, acc: f64, gap: f64) -> ShapeSummary {
    ShapeSummary {
        dataset,
        setup: Setup::RELU_HE_ADAM,
        grid: true,
        depth,
        width,
        params: param_count(depth, width, 784, 10),
        macs: macs_per_sample(depth, width, 784, 10),
        runs: 1,
        diverged: 0,
        train_s: 1.0,
        final_test_acc: (acc, acc, acc),
        final_train_acc: acc + gap,
        best_test_acc: acc,
        gap: (gap, gap, gap),
        probes: Vec::new(),
    }
}

fn diag(setup: Setup, acc: f64, grads: Vec<f64>, std: f64) -> ShapeSummary {
    let probe = Probe {
        updates: 0,
        epochs: 0.0,
        loss: 2.3,
        grad_mean_abs: grads,
        act_mean: vec![0.5; 5],
        act_std: vec![std; 5],
        act_inactive: vec![0.0; 5],
        hist_range: (0.0, 1.0),
        hist: vec![vec![0.05; 20]; 5],
    };
    ShapeSummary {
        setup,
        grid: false,
        probes: vec![probe.clone(), probe],
        ..shape(DatasetKind::Mnist, 5, 100, acc, 0.0)
    }
}

#[test]
fn findings_name_the_shapes_and_numbers_that_support_them() {
    let plan = DepthWidthPlan {
        datasets: vec![DatasetKind::Mnist],
        depths: vec![1, 2],
        widths: vec![16, 50],
        ..DepthWidthPlan::default()
    };
    let d = Setup::diagnostics();
    let shapes = vec![
        shape(DatasetKind::Mnist, 1, 16, 0.9300, 0.001),
        shape(DatasetKind::Mnist, 1, 50, 0.9600, 0.004),
        shape(DatasetKind::Mnist, 2, 16, 0.9350, 0.002),
        shape(DatasetKind::Mnist, 2, 50, 0.9610, 0.015),
        diag(
            d[0],
            0.1135,
            vec![1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-3],
            0.002,
        ),
        diag(d[1], 0.8800, vec![1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-3], 0.2),
    ];
    let all = findings(&plan, &shapes);
    let Some(Finding::EqualParams {
        dataset,
        comparisons,
    }) = all
        .iter()
        .find(|f| matches!(f, Finding::EqualParams { .. }))
    else {
        panic!("{all:?}")
    };
    let Some(Finding::Answer(answer)) = all.first() else {
        panic!("the answer comes first: {all:?}")
    };
    assert_eq!(answer.dataset, DatasetKind::Mnist);
    assert_eq!(answer.depth_pays(), DepthPays::Helps);
    assert_eq!(
        (
            answer.deeper_wins,
            answer.shallower_wins,
            answer.comparisons
        ),
        (2, 0, 2)
    );
    assert_eq!((answer.overfit, answer.shapes), (1, 4));
    assert_eq!((answer.best.depth, answer.best.width), (2, 50));
    assert_eq!(*dataset, DatasetKind::Mnist);
    let dw = |s: &Shape| (s.depth, s.width);
    assert_eq!(comparisons.len(), 2);
    let (a, b) = (&comparisons[0], &comparisons[1]);
    assert_eq!((dw(&a.shallow), dw(&a.deep)), ((1, 16), (2, 16)));
    assert!((a.diff - 0.005).abs() < 1e-12);
    assert_eq!((dw(&b.shallow), dw(&b.deep)), ((1, 50), (2, 50)));
    assert!(comparisons
        .iter()
        .all(|c| c.spread.is_none() && c.margin() > 0.0));
    let Some(Finding::Failure {
        chance,
        init_grads,
        activations,
        ..
    }) = all.iter().find(|f| matches!(f, Finding::Failure { .. }))
    else {
        panic!("{all:?}")
    };
    assert!(chance);
    assert_eq!(*init_grads, Some((1e-9, 1e-3)));
    assert_eq!(activations.map(|a| a.2), Some(Activity::Uniform));
    let Some(Finding::Fixes { fixes, .. }) =
        all.iter().find(|f| matches!(f, Finding::Fixes { .. }))
    else {
        panic!("{all:?}")
    };
    assert_eq!(fixes[0].setup, d[1]);
    assert!((fixes[0].grad_ratio.unwrap() - 10.0).abs() < 1e-9);
    // The sentences, as the report and the console show them.
    let text = text(&plan, &shapes);
    assert!(text.contains("On mnist, the best shape is 2×50 (depth × width; 42310 parameters) at 0.9610 test accuracy; the worst is 1×16 (12730 parameters) at 0.9300."), "{text}");
    assert!(text.contains("at about 13000 parameters, 1×16 (0.9300) against 2×16 (0.9350): the deeper wins by 0.0050"), "{text}");
    assert!(text.contains("at about 40000 parameters, 1×50 (0.9600) against 2×50 (0.9610): the deeper wins by 0.0010"), "{text}");
    assert!(
        text.contains("the deeper network wins 2 of 2 comparisons"),
        "{text}"
    );
    assert!(text.starts_with("On mnist, depth helps: at equal size the deeper network was the more accurate in 2 of 2 comparisons. The best shape is 2×50 (0.9610 test accuracy). 1 of 4 shapes overfit (train ahead of test by more than 0.01)."), "{text}");
    assert!(
        text.contains("one seed, so differences of a few thousandths may be run-to-run noise"),
        "{text}"
    );
    assert!(text.contains("with 2 hidden layers test accuracy goes from 0.9350 at width 16 to 0.9610 at width 50, every widening gaining at least 0.002"), "{text}");
    assert!(text.contains("at width 50, 0.9600 with 1 hidden layer and 0.9610 with 2, best with 2 (0.9610); the first added layer that gains less than 0.002 is 1→2 (+0.0010)"), "{text}");
    assert!(
        text.contains(
            "is largest at 2×50 (42310 parameters): +0.0150. It exceeds 0.01 in 1 of 4 shapes"
        ),
        "{text}"
    );
    assert!(text.contains("the 5×100 network with sigmoid, std 0.01, SGD lr 0.01 ends at 0.1135 test accuracy — chance level"), "{text}");
    assert!(text.contains("mean |dW1| is 1.00e-9 against 1.00e-3 at the output layer W6: the gradient shrinks by a factor of 1.0e6"), "{text}");
    assert!(
        text.contains("standard deviation 0.0020 — every neuron outputs nearly the same value"),
        "{text}"
    );
    assert!(
        text.contains("sigmoid, xavier, SGD lr 0.01 reaches 0.8800, |dW6|/|dW1| at init 10.0"),
        "{text}"
    );
}

#[test]
fn with_several_seeds_differences_inside_the_spread_have_no_winner() {
    let plan = DepthWidthPlan {
        datasets: vec![DatasetKind::Mnist],
        depths: vec![1, 2],
        widths: vec![16],
        seeds: 3,
        diagnostics: Vec::new(),
        ..DepthWidthPlan::default()
    };
    let mut a = shape(DatasetKind::Mnist, 1, 16, 0.9300, 0.001);
    a.runs = 3;
    a.final_test_acc = (0.9300, 0.9250, 0.9350);
    let mut b = shape(DatasetKind::Mnist, 2, 16, 0.9320, 0.001);
    b.runs = 3;
    b.final_test_acc = (0.9320, 0.9300, 0.9330);
    let shapes = [a, b];
    let all = findings(&plan, &shapes);
    let Some(Finding::EqualParams { comparisons, .. }) = all
        .iter()
        .find(|f| matches!(f, Finding::EqualParams { .. }))
    else {
        panic!("{all:?}")
    };
    assert!((comparisons[0].spread.unwrap() - 0.01).abs() < 1e-12);
    assert_eq!(comparisons[0].margin(), 0.0);
    assert!(matches!(
        all.last(),
        Some(Finding::SeedSpread { seeds: 3, .. })
    ));
    let text = text(&plan, &shapes);
    assert!(text.contains("1×16 (0.9300) against 2×16 (0.9320): the deeper wins by 0.0020, within the seeds' spread (0.0100): no winner"), "{text}");
    assert!(
        text.contains(
            "depth neither helps nor hurts: deeper and shallower networks each won 0 of 1"
        ),
        "{text}"
    );
    assert!(text.contains("Across 3 seeds, one shape's final test accuracy varies by 0.0100 (median over shapes) and at most 0.0100"), "{text}");
}

#[test]
fn plans_list_the_grid_then_the_missing_diagnostic_runs() {
    let plan = DepthWidthPlan {
        datasets: vec![DatasetKind::Mnist],
        depths: vec![5],
        widths: vec![100],
        ..DepthWidthPlan::default()
    };
    let runs = plan.runs();
    // The grid's 5×100 run doubles as the relu/He/Adam diagnostic run.
    assert_eq!(runs.len(), 4);
    assert_eq!(runs[0].setup, Setup::RELU_HE_ADAM);
    let study = DepthWidthStudy::new(plan.clone()).unwrap();
    assert_eq!(
        study.run_id(&runs[1]),
        "mnist-d5-w100-sigmoid-std0.01-sgd0.01-seed0"
    );
    let equal = DepthWidthPlan {
        equal_params: Some(vec![100_000]),
        depths: vec![1, 3],
        ..plan
    };
    let widths: Vec<usize> = equal.shapes().iter().map(|s| s.1).collect();
    assert_eq!(widths, vec![126, 100]);
}

#[test]
fn the_answer_says_whether_depth_pays_and_how_many_shapes_overfit() {
    let best = Shape {
        depth: 1,
        width: 200,
        params: 159_010,
        test_acc: 0.8672,
        gap: 0.03,
    };
    let tally = |deeper_wins, shallower_wins, overfit| Tally {
        dataset: DatasetKind::FashionMnist,
        deeper_wins,
        shallower_wins,
        comparisons: 6,
        best: best.clone(),
        overfit,
        shapes: 25,
    };
    let hurts = tally(2, 4, 25);
    assert_eq!(hurts.depth_pays(), DepthPays::Hurts);
    assert_eq!(
        Finding::Answer(hurts).to_string(),
        "On fashion-mnist, depth does not help: at equal size the shallower network was the more accurate in 4 \
         of 6 comparisons. The best shape is 1×200 (0.8672 test accuracy). Every shape overfits: train is ahead \
         of test by more than 0.01."
    );
    let even = tally(3, 3, 0);
    assert_eq!(even.depth_pays(), DepthPays::Neither);
    let text = Finding::Answer(even).to_string();
    assert!(
        text.contains("neither helps nor hurts: deeper and shallower networks each won 3 of 6"),
        "{text}"
    );
    assert!(
        text.ends_with("No shape overfits (train ahead of test by more than 0.01)."),
        "{text}"
    );
}
