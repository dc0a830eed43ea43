use super::analysis::accuracy_at_time;
use super::findings::{verdict, Verdict, Winner};
use super::*;
use crate::data::DatasetKind;

const SMALL: &str = "conv:8x5,pool:2,fc:50";

#[test]
fn simple_convnet_has_the_books_size_and_its_mlps_match_it() {
    // conv 30×1×5×5 + 30; affine 30·12·12 → 100; affine 100 → 10.
    let params = 30 * 25 + 30 + 4320 * 100 + 100 + 100 * 10 + 10;
    // 24·24 outputs of 30 filters of 25 weights; then the two affine products.
    let macs = 24 * 24 * 30 * 25 + 4320 * 100 + 100 * 10;
    assert_eq!(conv_size(SIMPLE_CONVNET).unwrap(), (params, macs));
    assert_eq!((params, macs), (433_890, 865_000));
    let group = Group::of(SIMPLE_CONVNET, 1).unwrap();
    // 795·546 + 10 = 434,080 parameters; 794·1089 = 864,666 multiply-adds.
    assert_eq!((group.params_width, group.macs_width), (546, 1089));
    for depth in 1..=3 {
        for (p, m) in [(433_890, 865_000), (9_506, 66_976), (58_368, 173_300)] {
            let w = width_for_mlp_macs(depth, m);
            let miss = |w: usize| mlp_macs(depth, w).abs_diff(m);
            assert!(
                miss(w) <= miss(w + 1) && miss(w) <= miss(w - 1),
                "{depth} {m}: {w}"
            );
            assert!((miss(w) as f64) < 0.03 * m as f64, "{depth} {m}: {w}");
            let w = width_for_mlp_params(depth, p);
            assert!(w > 0);
        }
    }
}

#[test]
fn the_plan_lists_a_conv_net_and_its_two_mlps_per_dataset_and_seed() {
    let plan = ArchitecturePlan {
        convs: vec![SMALL.into(), SIMPLE_CONVNET.into()],
        seeds: 2,
        ..ArchitecturePlan::default()
    };
    let study = ArchitectureStudy::new(plan.clone()).unwrap();
    let runs = study.runs();
    assert_eq!(runs.len(), 2 * 2 * 2 * 3);
    let ids: Vec<String> = runs.iter().take(4).map(|r| study.run_id(r)).collect();
    assert_eq!(
        ids,
        [
            "mnist-conv8x5-pool2-fc50-conv-seed0",
            "mnist-conv8x5-pool2-fc50-mlp-params-seed0",
            "mnist-conv8x5-pool2-fc50-mlp-macs-seed0",
            "mnist-conv30x5-pool2-fc100-conv-seed0",
        ]
    );
    let groups = study.groups();
    let mlp = &runs[1];
    assert_eq!(
        plan.net_name(groups, mlp),
        format!("784-{}-10", groups[0].params_width)
    );
    let (params, _) = plan.size(groups, mlp);
    assert!(params.abs_diff(groups[0].params) as f64 / (groups[0].params as f64) < 0.02);
    let s = plan.settings(groups, &runs[2], 60_000).unwrap();
    assert_eq!(
        s.network.all_size_list(784, 10),
        [784, groups[0].macs_width, 10]
    );
    assert_eq!(
        (s.train.iters_num, s.train.batch_size, s.learning_rate),
        (1200, 100, 0.001)
    );
}

#[test]
fn bad_plans_are_refused_naming_the_value() {
    for (plan, expected) in [
        (
            ArchitecturePlan {
                convs: vec!["conv:8x50".into()],
                ..ArchitecturePlan::default()
            },
            "invalid layer conv1 (conv:8x50): a 50x50 window",
        ),
        (
            ArchitecturePlan {
                convs: vec!["conv:99999999x5,fc:99999999".into()],
                ..ArchitecturePlan::default()
            },
            "100,000,000",
        ),
        (
            ArchitecturePlan {
                seeds: 0,
                ..ArchitecturePlan::default()
            },
            "invalid seeds 0",
        ),
        (
            ArchitecturePlan {
                convs: Vec::new(),
                ..ArchitecturePlan::default()
            },
            "invalid convs []",
        ),
        (
            ArchitecturePlan {
                mlp_depth: 0,
                ..ArchitecturePlan::default()
            },
            "invalid MLP depth 0",
        ),
    ] {
        let err = ArchitectureStudy::new(plan)
            .err()
            .expect(expected)
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn statistics_and_interpolation_in_time() {
    let s = Stat::of([0.97, 0.98, 0.99]);
    assert!((s.mean - 0.98).abs() < 1e-12 && (s.sd - 0.01).abs() < 1e-12);
    assert_eq!((s.min, s.max), (0.97, 0.99));
    assert_eq!(Stat::of([0.5]).sd, 0.0);
    let curve = curve(&[(100, 1.0, 0.5), (1000, 3.0, 0.9)]);
    assert_eq!(accuracy_at_time(&curve, 2.0), Some(0.7));
    assert_eq!(accuracy_at_time(&curve, 1.0), Some(0.5));
    assert_eq!(accuracy_at_time(&curve, 0.5), None);
    assert_eq!(accuracy_at_time(&curve, 3.5), None);
}

/// A mean curve of (samples, seconds, accuracy) points, one seed.
fn curve(points: &[(usize, f64, f64)]) -> Vec<MeanPoint> {
    points
        .iter()
        .map(|&(samples_seen, train_s, acc)| MeanPoint {
            samples_seen,
            train_s,
            test_acc: Stat::of([acc]),
        })
        .collect()
}

/// A network's summary: final test errors of its seeds, µs per sample, and its mean curve
/// (ending at the final accuracy after `60000 × us` µs of training).
fn net(role: Role, errors: &[f64], us: f64, early: &[(usize, f64)]) -> NetSummary {
    let group = Group::of(SMALL, 1).unwrap();
    let (name, params, macs) = match role {
        Role::Conv => (SMALL.to_string(), group.params, group.macs),
        Role::MlpParams => ("784-73-10".into(), 58_045, 57_962),
        Role::MlpMacs => ("784-218-10".into(), 173_280, 173_092),
    };
    let acc = Stat::of(errors.iter().map(|e| 1.0 - e));
    let train_s = 60_000.0 * us * 1e-6;
    let mut points: Vec<(usize, f64, f64)> = early
        .iter()
        .map(|&(samples, a)| (samples, samples as f64 * us * 1e-6, a))
        .collect();
    points.push((60_000, train_s, acc.mean));
    NetSummary {
        dataset: DatasetKind::Mnist,
        conv: SMALL.into(),
        role,
        net: name,
        params,
        macs,
        runs: errors.len(),
        diverged: 0,
        test_acc: acc,
        test_error: Stat::of(errors.iter().copied()),
        gap: Stat::of([0.01]),
        train_s: Stat::of([train_s]),
        us_per_sample: Stat::of([us]),
        curve: curve(&points),
    }
}

fn plan() -> ArchitecturePlan {
    ArchitecturePlan {
        datasets: vec![DatasetKind::Mnist],
        convs: vec![SMALL.into()],
        ..ArchitecturePlan::default()
    }
}

fn text(found: &[Finding]) -> String {
    found
        .iter()
        .map(Finding::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_conv_net_winning_both_matchings_is_said_with_its_numbers() {
    let nets = vec![
        net(
            Role::Conv,
            &[0.014, 0.015, 0.016],
            10.0,
            &[(100, 0.30), (1000, 0.85)],
        ),
        net(
            Role::MlpParams,
            &[0.030, 0.031, 0.032],
            1.0,
            &[(100, 0.50), (1000, 0.86)],
        ),
        net(
            Role::MlpMacs,
            &[0.024, 0.025, 0.026],
            2.5,
            &[(100, 0.55), (1000, 0.88)],
        ),
    ];
    let found = findings(&plan(), &nets);
    let Finding::Answer {
        params,
        macs,
        slower,
        best,
        ..
    } = &found[0]
    else {
        panic!("{found:?}")
    };
    assert_eq!(
        (params.conv_wins, params.mlp_wins, params.comparisons),
        (1, 0, 1)
    );
    assert!((params.mean_cut - 0.016).abs() < 1e-12, "{params:?}");
    assert!((macs.mean_relative - 0.4).abs() < 1e-12, "{macs:?}");
    assert_eq!(verdict(params, macs), Verdict::Pays);
    assert_eq!(*slower, (4.0, 4.0));
    assert_eq!(best.name, SMALL);
    let all = text(&found);
    for said in [
        "On mnist, convolution's weight sharing pays: at equal parameters the conv net has the lower test error in \
         1 of 1 comparisons (1.60 points less on average, 52% of the MLP's error)",
        "at equal multiply-adds per sample the conv net has the lower test error in 1 of 1 comparisons (1.00 points \
         less on average, 40% of the MLP's error)",
        "Per training sample a conv net takes 4.0× the time of the MLP with its multiply-adds",
        "conv:8x5,pool:2,fc:50 (conv net) at 1.50% ± 0.10 test error",
        "At equal parameters weight sharing cuts the error by 1.60 points (52%); at equal multiply-adds it cuts the \
         error by 1.00 points (40%). The conv net takes 4.0× the time per sample of the latter.",
        "Across 3 seeds, one network's final test error varies by 0.20 points",
    ] {
        assert!(all.contains(said), "{said}\nnot in\n{all}");
    }
    // The MLPs lead on the smallest budgets (every seed), and per second of training.
    let Some(Finding::MlpBetter { cases, .. }) = found
        .iter()
        .find(|f| matches!(f, Finding::MlpBetter { .. }))
    else {
        panic!("{all}")
    };
    let tiny: Vec<_> = cases
        .iter()
        .filter_map(|c| match c {
            Case::TinyBudget {
                mlp,
                until,
                overtaken,
                ..
            } => Some((mlp.name.as_str(), *until, *overtaken)),
            _ => None,
        })
        .collect();
    assert_eq!(
        tiny,
        [
            ("784-73-10", 1000, Some(60_000)),
            ("784-218-10", 1000, Some(60_000))
        ]
    );
    let equal_time: Vec<_> = cases
        .iter()
        .filter_map(|c| match c {
            Case::EqualTime {
                mlp,
                seconds,
                conv_acc,
                mlp_acc,
                ..
            } => Some((mlp.name.clone(), *seconds, *conv_acc, *mlp_acc)),
            _ => None,
        })
        .collect();
    // After 0.06 s (the 784-73-10's whole run) the conv net has seen 6,000 samples: between
    // its points at 1,000 (0.85, 0.01 s) and 60,000 (0.985, 0.6 s).
    let (name, seconds, conv_acc, mlp_acc) = &equal_time[0];
    assert_eq!(name, "784-73-10");
    assert!((seconds - 0.06).abs() < 1e-12);
    let expected = 0.85 + (0.06 - 0.01) / (0.6 - 0.01) * (0.985 - 0.85);
    assert!((conv_acc - expected).abs() < 1e-9 && (mlp_acc - 0.969).abs() < 1e-9);
    let said = "Where an MLP is the better choice on mnist: per second of training, in 2 of 2 comparisons: after the \
         faster network's whole run the MLP is the more accurate (the widest lead: 784-73-10 at 0.9690 test accuracy \
         against conv:8x5,pool:2,fc:50's 0.8614 after 0.06 s); on the smallest budgets, in 2 of 2 comparisons: the \
         MLP is ahead of its conv net for every seed from the first measurement up to 1,000 samples seen. At the end \
         of the budget, though, no MLP is more accurate than its conv net";
    assert!(all.contains(said), "{said}\nnot in\n{all}");
}

#[test]
fn an_mlp_ahead_of_the_conv_net_turns_the_answer_around() {
    let nets = vec![
        net(Role::Conv, &[0.030, 0.031, 0.032], 10.0, &[(100, 0.5)]),
        net(
            Role::MlpParams,
            &[0.0305, 0.031, 0.0315],
            1.0,
            &[(100, 0.5)],
        ),
        net(Role::MlpMacs, &[0.020, 0.021, 0.022], 2.5, &[(100, 0.5)]),
    ];
    let found = findings(&plan(), &nets);
    let Finding::Answer { params, macs, .. } = &found[0] else {
        panic!()
    };
    // 0.031 against 0.031: inside the seeds' spread, no winner; the equal-MAC MLP wins.
    assert_eq!((params.conv_wins, params.mlp_wins), (0, 0));
    assert_eq!((macs.conv_wins, macs.mlp_wins), (0, 1));
    assert_eq!(verdict(params, macs), Verdict::Hurts);
    let all = text(&found);
    for said in [
        "On mnist, convolution's weight sharing does not pay",
        "at equal multiply-adds per sample the conv net has the lower test error in 0 of 1 comparisons, the MLP in 1 \
         (1.00 points more on average, 48% above the MLP's error)",
        "At equal parameters weight sharing makes no difference beyond the seeds' spread (0.00 points apart, against a \
         spread of 0.20): no winner; at equal multiply-adds it costs 1.00 points of error (48% more than the MLP's)",
        "costs 1.00 points of error (48% more than the MLP's)",
        "Where an MLP is the better choice on mnist: at the end of the budget, 784-218-10 is more accurate than \
         conv:8x5,pool:2,fc:50 at equal multiply-adds (2.10% ± 0.10 against 3.10% ± 0.10 test error); per second of \
         training, in 1 of 2 comparisons",
    ] {
        assert!(all.contains(said), "{said}\nnot in\n{all}");
    }
    let Finding::Group { params, .. } = found
        .iter()
        .find(|f| matches!(f, Finding::Group { .. }))
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(params.winner(), Winner::Neither);
}

#[test]
fn a_conv_net_ahead_everywhere_leaves_no_case_for_the_mlp() {
    let nets = vec![
        net(Role::Conv, &[0.015], 1.0, &[(100, 0.6)]),
        net(Role::MlpParams, &[0.03], 1.0, &[(100, 0.5)]),
        net(Role::MlpMacs, &[0.025], 2.0, &[(100, 0.5)]),
    ];
    let plan = ArchitecturePlan { seeds: 1, ..plan() };
    let found = findings(&plan, &nets);
    assert!(
        found.contains(&Finding::ConvEverywhere {
            dataset: DatasetKind::Mnist
        }),
        "{found:?}"
    );
    assert!(found.contains(&Finding::OneSeed));
    assert!(text(&found).contains("On mnist, no comparison here favours an MLP"));
}
