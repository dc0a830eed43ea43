//! What a training run records: the loss of every iteration and the accuracies of every epoch.

use serde::{Deserialize, Serialize};

/// Accuracies measured at one epoch mark (every `iter_per_epoch` iterations, from iteration 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 0 for the first mark (after iteration 0), then 1, 2, …
    pub epoch: usize,
    /// The iteration after whose update the accuracies were measured.
    pub iteration: usize,
    /// Training samples seen by then: `(iteration + 1) · batch_size`.
    pub samples_seen: usize,
    /// Accuracy on the training rows the schedule measures (the whole set, or its first
    /// `evaluate_sample_num_per_epoch` or `train_rows` images).
    pub train_acc: f64,
    /// Accuracy on the test rows the schedule measures (the whole set, or its first
    /// `evaluate_sample_num_per_epoch` images).
    pub test_acc: f64,
    /// Wall-clock seconds since training started, evaluation included.
    pub elapsed_s: f64,
    /// Seconds spent on training updates alone (evaluation excluded) up to this mark.
    pub train_s: f64,
}

/// Everything a run measured: the book's `train_loss_list`, `train_acc_list`, `test_acc_list`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The mini-batch loss of every iteration.
    pub train_loss_list: Vec<f64>,
    /// One record per epoch mark.
    pub epochs: Vec<EpochRecord>,
    /// Seconds spent on updates (sampling, gradient, optimizer step).
    pub train_seconds: f64,
    /// Seconds spent measuring accuracy.
    pub eval_seconds: f64,
    /// Seconds each update took (sampling, gradient, step), in order (kept in checkpoints, so
    /// that a resumed run's median update time covers the whole run).
    #[serde(default)]
    pub update_seconds: Vec<f32>,
    /// Accuracy of the final weights (after the last iteration) on the training rows the
    /// schedule measures (the whole set with the book's `Epochs`).
    pub final_train_acc: f64,
    /// Accuracy of the final weights on the whole test set, whatever the schedule (the book's
    /// "Final Test Accuracy"): what the saved model scores.
    pub final_test_acc: f64,
}

impl History {
    /// The last epoch mark, if any.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// `iters.csv`: one `iteration,loss` line per iteration.
    pub fn iters_csv(&self) -> String {
        let mut s = String::from("iteration,loss\n");
        for (i, loss) in self.train_loss_list.iter().enumerate() {
            s.push_str(&format!("{i},{loss}\n"));
        }
        s
    }

    /// `epochs.csv`: `epoch,iteration,samples_seen,train_acc,test_acc,elapsed_s,train_s` per
    /// measurement.
    pub fn epochs_csv(&self) -> String {
        let mut s =
            String::from("epoch,iteration,samples_seen,train_acc,test_acc,elapsed_s,train_s\n");
        for e in &self.epochs {
            s.push_str(&format!(
                "{},{},{},{},{},{:.3},{:.3}\n",
                e.epoch,
                e.iteration,
                e.samples_seen,
                e.train_acc,
                e.test_acc,
                e.elapsed_s,
                e.train_s
            ));
        }
        s
    }

    /// Median seconds per update.
    pub fn median_update_seconds(&self) -> f64 {
        let mut times = self.update_seconds.clone();
        if times.is_empty() {
            return 0.0;
        }
        let mid = times.len() / 2;
        let (_, median, _) = times.select_nth_unstable_by(mid, f32::total_cmp);
        *median as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpointed_history_keeps_every_update_time() {
        let h = History {
            train_loss_list: vec![2.3, 2.2, 2.1],
            update_seconds: vec![1.5e-4, 3.25e-4, 2.0e-4],
            ..History::default()
        };
        let back: History = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        assert!((back.median_update_seconds() - 2.0e-4).abs() < 1e-9);
        // Checkpoints written before the times were kept still load.
        let old: History = serde_json::from_str(
            r#"{"train_loss_list":[2.3],"epochs":[],"train_seconds":1.0,"eval_seconds":0.5,
                "final_train_acc":0.1,"final_test_acc":0.1}"#,
        )
        .unwrap();
        assert!(old.update_seconds.is_empty());
    }
}
