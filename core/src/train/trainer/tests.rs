use super::*;
use crate::init::randn;
use crate::layers::Activation;
use crate::net::TwoLayerNetConfig;
use crate::optim::Sgd;

fn run(config: TrainConfig) -> History {
    trained(config).0
}

/// A TwoLayerNet trained on 30 rows of 3 classes (the test set is the same rows): its
/// history, and its accuracy on the first 7 and all 30 rows, measured here.
fn trained(config: TrainConfig) -> (History, f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut x: Array2<f32> = randn(&mut rng, 30, 4, 1.0);
    let t: Vec<usize> = (0..30).map(|i| i % 3).collect();
    // A feature that gives the class away, so that a few updates learn something.
    for (i, &label) in t.iter().enumerate() {
        x[[i, label]] += 5.0;
    }
    let data = TrainData {
        x_train: x.view().into(),
        t_train: &t,
        x_test: x.view().into(),
        t_test: &t,
    };
    let net = TwoLayerNetConfig {
        hidden_size: 5,
        activation: Activation::Sigmoid,
        weight_init_std: 0.1,
    }
    .init(4, 3, &mut rng)
    .unwrap();
    let mut trainer = Trainer::new(net, Box::new(Sgd::new(0.1).unwrap()), data, config).unwrap();
    assert_eq!(trainer.train(&mut ()), Ended::Finished);
    let net = trainer.net();
    let first_7 = net.accuracy(&x.slice(ndarray::s![..7, ..]), &t[..7]);
    let all = net.accuracy(&x, &t);
    (trainer.history().clone(), first_7, all)
}

fn iterations(h: &History) -> Vec<usize> {
    h.epochs.iter().map(|e| e.iteration).collect()
}

#[test]
fn the_books_schedule_measures_every_iter_per_epoch_from_iteration_0() {
    let h = run(TrainConfig {
        iters_num: 10,
        batch_size: 10,
        ..TrainConfig::default()
    });
    assert_eq!(iterations(&h), vec![0, 3, 6, 9]);
    assert_eq!(h.train_loss_list.len(), 10);
    assert_eq!(h.update_seconds.len(), 10);
}

#[test]
fn the_books_trainer_measures_its_sample_each_epoch_and_the_whole_test_set_at_the_end() {
    let (h, first_7, all) = trained(TrainConfig {
        iters_num: 9,
        batch_size: 10,
        eval: EvalSchedule::EpochsSampled {
            evaluate_sample_num_per_epoch: 7,
        },
        ..TrainConfig::default()
    });
    // iter_per_epoch = 30 / 10 = 3: marks after iterations 0, 3 and 6 (epochs 1, 2, 3).
    assert_eq!(iterations(&h), vec![0, 3, 6]);
    for e in &h.epochs {
        for acc in [e.train_acc, e.test_acc] {
            assert!(((acc * 7.0) - (acc * 7.0).round()).abs() < 1e-9, "{acc}");
        }
    }
    // The last iteration (8) is no mark: the final weights are measured after it, the test
    // accuracy on all 30 rows (a multiple of 1/30), the training accuracy on the first 7.
    assert_eq!(h.final_test_acc, all);
    assert_eq!(h.final_train_acc, first_7);
    assert!(all > 1.0 / 3.0, "{all}: the net did not learn");
    assert_ne!(
        first_7, all,
        "the two row sets must score differently to tell them apart"
    );
}

#[test]
fn the_sample_schedule_measures_at_the_same_sample_counts_for_any_batch() {
    let h = run(TrainConfig {
        iters_num: 10,
        batch_size: 7,
        eval: EvalSchedule::Samples {
            per_decade: 2,
            train_rows: 12,
        },
        ..TrainConfig::default()
    });
    // Points 1, 3, 10, 32, 100: measured at the first update past each.
    let seen: Vec<usize> = h.epochs.iter().map(|e| e.samples_seen).collect();
    assert_eq!(seen, vec![7, 14, 35]);
    assert_eq!(next_point(0, 10), 1);
    assert_eq!(next_point(10, 10), 13);
    assert_eq!(next_point(100, 1), 1000);
    assert_eq!(next_point(99, 1), 100);
    // 12 training rows: accuracies are multiples of 1/12.
    for e in &h.epochs {
        assert!(((e.train_acc * 12.0) - (e.train_acc * 12.0).round()).abs() < 1e-9);
    }
}

#[test]
fn a_time_limit_stops_within_one_update() {
    let h = run(TrainConfig {
        iters_num: usize::MAX,
        batch_size: 10,
        time_limit_s: Some(0.05),
        ..TrainConfig::default()
    });
    let longest = h.update_seconds.iter().copied().fold(0.0f32, f32::max) as f64;
    assert!(h.train_seconds >= 0.05, "{}", h.train_seconds);
    assert!(
        h.train_seconds < 0.05 + longest + 1e-6,
        "{} vs {longest}",
        h.train_seconds
    );
    assert_eq!(h.train_loss_list.len(), h.update_seconds.len());
}
