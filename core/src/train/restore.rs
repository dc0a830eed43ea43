//! What a snapshot must hold before a trainer takes it: every check that keeps a hostile or
//! mismatched checkpoint from panicking deep inside a kernel, or from silently restarting some
//! state from zero.

use super::{Snapshot, TrainConfig};
use crate::net::Network;
use crate::Float;
use std::collections::HashMap;

/// Checks `snapshot` against the network it will continue, the optimizer's state `slots`
/// ([`crate::optim::Optimizer::state_slots`]) and the run's `config`; says what does not fit.
pub(super) fn check_snapshot<F: Float, N: Network<F>>(
    snapshot: &Snapshot<F>,
    net: &N,
    slots: &[&str],
    config: &TrainConfig,
) -> Result<(), String> {
    let iteration = snapshot.state.iteration;
    if iteration > config.iters_num {
        return Err(format!(
            "iteration {iteration} is past the run's end (iters_num {})",
            config.iters_num
        ));
    }
    check_history(snapshot, iteration)?;
    super::tools::check_best(&snapshot.state)?;
    check_optimizer_state(&snapshot.optimizer, net, slots, iteration)
}

/// The history must hold one loss and one timing per iteration done, and measurements only of
/// those iterations.
fn check_history<F>(snapshot: &Snapshot<F>, iteration: usize) -> Result<(), String> {
    let h = &snapshot.state.history;
    if h.train_loss_list.len() != iteration || h.update_seconds.len() != iteration {
        return Err(format!(
            "history holds {} losses and {} update times for {iteration} iterations",
            h.train_loss_list.len(),
            h.update_seconds.len()
        ));
    }
    if let Some(late) = h.epochs.iter().find(|e| e.iteration >= iteration) {
        return Err(format!(
            "history holds a measurement at iteration {} but only {iteration} iterations were done",
            late.iteration
        ));
    }
    Ok(())
}

/// After any update, a rule with state holds `slot/name` for each of its slots and each
/// parameter, of the parameter's shape; before the first, nothing.
fn check_optimizer_state<F: Float, N: Network<F>>(
    state: &[(String, ndarray::ArrayD<F>)],
    net: &N,
    slots: &[&str],
    iteration: usize,
) -> Result<(), String> {
    let params = net.params();
    let mut expected: HashMap<String, &[usize]> = HashMap::new();
    if iteration > 0 {
        for slot in slots {
            for p in &params {
                expected.insert(format!("{slot}/{}", p.name), p.value.shape());
            }
        }
    }
    for (name, array) in state {
        match expected.remove(name) {
            None => {
                return Err(format!(
                    "optimizer state {name} does not belong to this optimizer and network \
                     after {iteration} iterations"
                ))
            }
            Some(shape) if shape != array.shape() => {
                return Err(format!(
                    "optimizer state {name} has shape {:?}; its parameter has {shape:?}",
                    array.shape()
                ))
            }
            Some(_) => {}
        }
    }
    let mut missing: Vec<String> = expected.into_keys().collect();
    missing.sort();
    match missing.first() {
        None => Ok(()),
        Some(name) => Err(format!(
            "optimizer state {name} is missing ({} of the {} arrays the optimizer keeps after \
             {iteration} iterations)",
            missing.len(),
            slots.len() * params.len()
        )),
    }
}
