use super::*;
use crate::train::History;

fn record(epoch: usize, val_acc: f64) -> EpochRecord {
    EpochRecord {
        epoch,
        iteration: epoch * 10,
        samples_seen: (epoch * 10 + 1) * 100,
        train_acc: 0.5,
        test_acc: 0.4 + epoch as f64 / 100.0,
        elapsed_s: 0.0,
        train_s: 0.0,
        val_acc: Some(val_acc),
    }
}

#[test]
fn patience_counts_evaluations_without_a_strictly_better_validation_accuracy() {
    // Validation accuracies 0.5, 0.6, 0.6 (not better), 0.55, 0.7, 0.69, 0.69 with patience 2:
    // bests at epochs 0, 1 and 4; stop at epoch 6, the second in a row after epoch 4.
    let mut state = TrainState::default();
    let accs = [0.5, 0.6, 0.6, 0.55, 0.7, 0.69, 0.69];
    let verdicts: Vec<Verdict> = accs
        .iter()
        .enumerate()
        .map(|(e, &acc)| {
            let r = record(e, acc);
            let v = early_stopping(&mut state, &r, Some(2));
            state.history.epochs.push(r);
            v
        })
        .collect();
    use Verdict::*;
    assert_eq!(verdicts, [Best, Best, Wait, Stop, Best, Wait, Stop]);
    let best = state.history.best.as_ref().unwrap();
    assert_eq!((best.epoch, best.val_acc), (4, Some(0.7)));
    assert_eq!(best.test_acc, 0.44);
    assert_eq!(state.evals_since_best, 2);
    assert_eq!(check_best(&state), Ok(()));
    // Without patience nothing stops; without a validation accuracy nothing is watched.
    let mut state = TrainState::default();
    assert_eq!(early_stopping(&mut state, &record(0, 0.5), None), Best);
    assert_eq!(early_stopping(&mut state, &record(1, 0.4), None), Wait);
    let unwatched = EpochRecord {
        val_acc: None,
        ..record(2, 0.0)
    };
    assert_eq!(early_stopping(&mut state, &unwatched, Some(1)), Unwatched);
}

#[test]
fn a_snapshot_whose_best_is_not_in_its_history_is_refused() {
    let state = TrainState {
        history: History {
            best: Some(Box::new(record(3, 0.9))),
            epochs: vec![record(0, 0.5)],
            ..History::default()
        },
        ..TrainState::default()
    };
    assert!(check_best(&state)
        .unwrap_err()
        .contains("none of the history"));
    let state = TrainState {
        evals_since_best: 2,
        ..TrainState::default()
    };
    assert!(check_best(&state).unwrap_err().contains("only 0 were made"));
}

#[test]
fn the_last_rows_are_held_out() {
    let x = ndarray::Array2::from_shape_fn((10, 3), |(r, c)| (r * 3 + c) as f32);
    let t: Vec<usize> = (0..10).collect();
    let data = TrainData {
        x_train: x.view().into(),
        t_train: &t,
        x_test: x.view().into(),
        t_test: &t,
    };
    let (train, validation) = hold_out(data, 4).unwrap();
    let validation = validation.unwrap();
    assert_eq!(train.t_train, &t[..6]);
    assert_eq!(train.x_train.nrows(), 6);
    assert_eq!((validation.len(), validation.t), (4, &t[6..]));
    assert_eq!(validation.x.to_dense()[[0, 0]], 18.0);
    assert!(hold_out(data, 0).unwrap().1.is_none());
    let e = hold_out(data, 10).err().unwrap().to_string();
    assert!(e.contains("validation split 10"), "{e}");
}

#[test]
fn patience_needs_a_validation_split_and_settings_without_tools_load() {
    let tools = Tools {
        patience: Some(3),
        ..Tools::default()
    };
    assert!(tools
        .check()
        .unwrap_err()
        .to_string()
        .contains("--validation"));
    let zero = Tools {
        patience: Some(0),
        validation: 10,
        ..Tools::default()
    };
    assert!(zero.check().is_err());
    let old: Tools = serde_json::from_str("{}").unwrap();
    assert_eq!(old, Tools::default());
    let json = serde_json::to_value(Tools::default()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"lr_schedule": "constant", "warmup_epochs": 0.0, "validation": 0,
                           "patience": null, "augment": "none"})
    );
}

/// Records the rates the optimizer stepped with, and the weights handed to `Hooks::best`.
struct Watch {
    best: Vec<(EpochRecord, crate::net::TwoLayerNet<f32>)>,
}

impl crate::train::Hooks<crate::net::TwoLayerNet<f32>> for Watch {
    fn best(&mut self, record: &EpochRecord, net: &crate::net::TwoLayerNet<f32>) {
        self.best.push((record.clone(), net.clone()));
    }
}

#[test]
fn early_stopping_ends_the_run_and_hands_over_the_best_weights() {
    use crate::init::randn;
    use crate::net::{Network, TwoLayerNetConfig};
    use crate::train::{Ended, TrainConfig, Trainer};
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
    let x: ndarray::Array2<f32> = randn(&mut rng, 200, 4, 1.0);
    let t: Vec<usize> = x
        .rows()
        .into_iter()
        .map(|r| (r[0] > 0.0) as usize + (r[0] > 1.0) as usize)
        .collect();
    let data = TrainData {
        x_train: x.view().into(),
        t_train: &t,
        x_test: x.view().into(),
        t_test: &t,
    };
    let config = TrainConfig {
        iters_num: 2000,
        batch_size: 10,
        tools: Tools {
            validation: 50,
            patience: Some(3),
            schedule: LrSchedule {
                decay: "step:1:0.5".parse().unwrap(),
                warmup_epochs: 0.0,
            },
            ..Tools::default()
        },
        ..TrainConfig::default()
    };
    let net = TwoLayerNetConfig::default().init(4, 3, &mut rng).unwrap();
    let sgd = Box::new(crate::optim::Sgd::new(1.0).unwrap());
    let mut trainer = Trainer::new(net, sgd, data, config).unwrap();
    assert_eq!(trainer.data().t_train.len(), 150);
    let mut watch = Watch { best: Vec::new() };
    assert_eq!(trainer.train(&mut watch), Ended::Finished);
    let h = trainer.history();
    // 15 updates per epoch, halving the rate each epoch: learning stalls within a few epochs.
    let stopped = h
        .stopped_early
        .expect("patience ran out before 2000 updates");
    assert!(
        stopped < 2000 && stopped == h.train_loss_list.len(),
        "{stopped}"
    );
    let best = h.best.clone().unwrap();
    let (record, weights) = watch.best.last().unwrap();
    assert_eq!(record, &*best);
    // The weights handed over score the recorded accuracies on the held-out and test rows.
    let val = weights.accuracy(&x.slice(ndarray::s![150.., ..]), &t[150..]);
    assert_eq!(best.val_acc, Some(val));
    assert_eq!(weights.accuracy(&x.view(), &t), best.test_acc);
    // Three evaluations after the best, none better.
    let after: Vec<f64> = h
        .epochs
        .iter()
        .filter(|e| e.epoch > best.epoch)
        .filter_map(|e| e.val_acc)
        .collect();
    assert_eq!(after.len(), 3);
    assert!(after.iter().all(|&a| a <= best.val_acc.unwrap()));
    assert!(h
        .epochs
        .iter()
        .all(|e| e.val_acc.unwrap() <= best.val_acc.unwrap()));
}
