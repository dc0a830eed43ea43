//! Which slice of a study's runs one machine does: `--shard I/N` given by hand, or
//! `--shard auto`, read from a scheduler's environment — a Slurm job array's task, or a
//! Kubernetes Indexed Job's pod.

use crate::{Error, Result};
use std::collections::HashMap;
use std::str::FromStr;

/// The I-th of N slices of a study's runs (1-based): runs I, I+N, I+2N, …
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, from 1.
    pub index: usize,
    /// How many slices.
    pub count: usize,
}

impl Shard {
    /// The whole study.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Whether run number `i` (from 0) belongs to this shard.
    pub fn contains(&self, i: usize) -> bool {
        i % self.count == self.index - 1
    }
}

impl FromStr for Shard {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("shard", s, "I/N with 1 ≤ I ≤ N, e.g. 2/4, or auto");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// `--shard` as given: a slice, or `auto` (the scheduler's environment says which).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardSpec {
    /// `I/N`.
    Given(Shard),
    /// `auto`: [`shard_from_env`] at the start of the study.
    Auto,
}

impl FromStr for ShardSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if s.trim() == "auto" {
            Ok(ShardSpec::Auto)
        } else {
            s.parse().map(ShardSpec::Given)
        }
    }
}

impl ShardSpec {
    /// The slice to run: the one given, or the one `vars` (the process's environment, see
    /// [`process_env`]) say; with where it came from, for the log.
    pub fn resolve(self, vars: &HashMap<String, String>) -> Result<(Shard, String)> {
        match self {
            ShardSpec::Given(shard) => Ok((shard, "given".to_string())),
            ShardSpec::Auto => shard_from_env(vars),
        }
    }
}

/// Slurm's job array variables.
const SLURM_ID: &str = "SLURM_ARRAY_TASK_ID";
const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
const SLURM_STEP: &str = "SLURM_ARRAY_TASK_STEP";
const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
/// A Kubernetes Indexed Job's pod index (from 0).
const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
/// The shard count, which Kubernetes does not pass to a pod: set it in the manifest to the
/// Job's `completions`.
pub const SHARD_COUNT: &str = "SCRATCHNET_SHARD_COUNT";

/// The shard the scheduler's environment `vars` gives, and a line saying which variables gave
/// it: a Slurm job array task (its index among `SLURM_ARRAY_TASK_MIN`,
/// `SLURM_ARRAY_TASK_MIN + SLURM_ARRAY_TASK_STEP`, … of `SLURM_ARRAY_TASK_COUNT` tasks) or a
/// Kubernetes Indexed Job pod (`JOB_COMPLETION_INDEX` of `SCRATCHNET_SHARD_COUNT`). Refuses,
/// naming the variables, when neither is set, a variable is missing or not a number, or they
/// disagree.
pub fn shard_from_env(vars: &HashMap<String, String>) -> Result<(Shard, String)> {
    match (vars.contains_key(SLURM_ID), vars.contains_key(K8S_INDEX)) {
        (true, true) => Err(refuse(format!(
            "both {SLURM_ID} (Slurm) and {K8S_INDEX} (Kubernetes) are set; unset the one that \
             does not belong to this job, or give --shard I/N"
        ))),
        (true, false) => slurm(vars),
        (false, true) => kubernetes(vars),
        (false, false) => Err(refuse(format!(
            "no scheduler's shard variables are set: looked for {SLURM_ID} with {SLURM_MIN}, \
             {SLURM_STEP} and {SLURM_COUNT} (a Slurm job array, sbatch --array) and for \
             {K8S_INDEX} with {SHARD_COUNT} (a Kubernetes Indexed Job); outside a scheduler \
             give --shard I/N"
        ))),
    }
}

/// A Slurm job array task's shard.
fn slurm(vars: &HashMap<String, String>) -> Result<(Shard, String)> {
    let id = number(vars, SLURM_ID)?.ok_or_else(|| missing(SLURM_ID, "Slurm"))?;
    let min = number(vars, SLURM_MIN)?.ok_or_else(|| missing(SLURM_MIN, "Slurm"))?;
    let count = number(vars, SLURM_COUNT)?.ok_or_else(|| missing(SLURM_COUNT, "Slurm"))?;
    let step = number(vars, SLURM_STEP)?.unwrap_or(1);
    let said =
        format!("{SLURM_ID}={id}, {SLURM_MIN}={min}, {SLURM_STEP}={step}, {SLURM_COUNT}={count}");
    let offset = id.checked_sub(min).filter(|_| step > 0);
    let index = match offset {
        Some(offset) if offset % step == 0 && offset / step < count => offset / step + 1,
        _ => {
            return Err(refuse(format!(
                "{said} do not agree: the task is not one of the {count} tasks {min}, {}, … \
                 (submit the array as an evenly spaced range, sbatch --array=MIN-MAX or \
                 MIN-MAX:STEP)",
                min + step
            )))
        }
    };
    if let Some(given) = number(vars, SHARD_COUNT)? {
        if given != count {
            return Err(refuse(format!(
                "{SHARD_COUNT}={given} but the Slurm array has {SLURM_COUNT}={count} tasks; \
                 unset {SHARD_COUNT} or make them equal"
            )));
        }
    }
    Ok((Shard { index, count }, format!("Slurm job array: {said}")))
}

/// A Kubernetes Indexed Job pod's shard.
fn kubernetes(vars: &HashMap<String, String>) -> Result<(Shard, String)> {
    let index = number(vars, K8S_INDEX)?.ok_or_else(|| missing(K8S_INDEX, "Kubernetes"))?;
    let count = number(vars, SHARD_COUNT)?.ok_or_else(|| {
        refuse(format!(
            "{K8S_INDEX}={index} is set but {SHARD_COUNT} is not: Kubernetes does not tell a \
             pod how many there are, so set {SHARD_COUNT} in the manifest to the Job's \
             completions"
        ))
    })?;
    if index >= count {
        return Err(refuse(format!(
            "{K8S_INDEX}={index} is not below {SHARD_COUNT}={count} (indices run from 0 to \
             {SHARD_COUNT} − 1); set {SHARD_COUNT} to the Job's completions"
        )));
    }
    Ok((
        Shard {
            index: index + 1,
            count,
        },
        format!("Kubernetes Indexed Job: {K8S_INDEX}={index}, {SHARD_COUNT}={count}"),
    ))
}

/// The variable `name` as a whole number, or `None` when it is not set.
fn number(vars: &HashMap<String, String>, name: &str) -> Result<Option<usize>> {
    vars.get(name)
        .map(|value| {
            value.trim().parse().map_err(|_| {
                refuse(format!(
                    "{name}={value:?} is not a whole number ≥ 0; is it the scheduler's?"
                ))
            })
        })
        .transpose()
}

/// The error for a variable `name` that the `scheduler`'s other variables need.
fn missing(name: &str, scheduler: &str) -> Error {
    refuse(format!(
        "{name} is not set, and --shard auto needs it with the other {scheduler} variables \
         ({SLURM_ID}, {SLURM_MIN}, {SLURM_COUNT} for Slurm; {K8S_INDEX}, {SHARD_COUNT} for \
         Kubernetes)"
    ))
}

fn refuse(reason: String) -> Error {
    Error::ShardEnvironment { reason }
}

/// The process's environment variables (those that are text; the scheduler's always are).
pub fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}
