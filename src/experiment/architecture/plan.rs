//! The architecture study's settings: the conv nets, the MLPs matched to each, the budget and
//! seeds, and the settings of each run.

use super::nets::{conv_network, conv_size, mlp, mlp_macs, mlp_name, width_for_mlp_macs};
use super::nets::{width_for_mlp_params, INPUT, OUTPUT};
use crate::data::DatasetKind;
use crate::experiment::{check_run_count, Budget};
use crate::run::{NetworkSpec, TrainSettings};
use crate::{Error, Result};
use scratchnet_core::net::spec::MAX_HIDDEN_LAYERS;
use scratchnet_core::optim::OptimizerKind;
use scratchnet_core::train::{EvalSchedule, TrainConfig};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The book's SimpleConvNet in the text form: conv 30×5×5 → ReLU → pool 2×2 → affine 100 →
/// ReLU → affine 10.
pub const SIMPLE_CONVNET: &str = "conv:30x5,pool:2,fc:100";

/// A network's part in its group: the conv net, or an MLP matched to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The group's conv net.
    Conv,
    /// The MLP with about the conv net's parameter count.
    MlpParams,
    /// The MLP with about the conv net's forward multiply-adds per sample.
    MlpMacs,
}

impl Role {
    /// Every role, in a group's order.
    pub const ALL: [Role; 3] = [Role::Conv, Role::MlpParams, Role::MlpMacs];

    /// For folder names and study.csv: `conv`, `mlp-params`, `mlp-macs`.
    pub fn slug(self) -> &'static str {
        match self {
            Role::Conv => "conv",
            Role::MlpParams => "mlp-params",
            Role::MlpMacs => "mlp-macs",
        }
    }

    /// For reports: what is matched.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Conv => "conv net",
            Role::MlpParams => "MLP, same parameters",
            Role::MlpMacs => "MLP, same multiply-adds",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// One conv net and the MLPs matched to it, with their sizes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    /// The conv net, in the core's text form (`conv:30x5,pool:2,fc:100`).
    pub conv: String,
    /// Its parameters.
    pub params: usize,
    /// Its forward multiply-adds per sample.
    pub macs: usize,
    /// The width of the MLP with about as many parameters.
    pub params_width: usize,
    /// The width of the MLP with about as many multiply-adds per sample.
    pub macs_width: usize,
}

impl Group {
    /// The group of the conv net `spec`, its MLPs `depth` hidden layers deep.
    pub fn of(spec: &str, depth: usize) -> Result<Group> {
        let (params, macs) = conv_size(spec)?;
        Ok(Group {
            conv: spec.to_string(),
            params,
            macs,
            params_width: width_for_mlp_params(depth, params),
            macs_width: width_for_mlp_macs(depth, macs),
        })
    }

    /// The MLP width of `role` (None for the conv net).
    pub fn width(&self, role: Role) -> Option<usize> {
        match role {
            Role::Conv => None,
            Role::MlpParams => Some(self.params_width),
            Role::MlpMacs => Some(self.macs_width),
        }
    }
}

/// The study's settings: saved as `plan.json`, shown in the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArchitecturePlan {
    /// Datasets, each trained on with every network (`mnist`, `fashion-mnist`).
    pub datasets: Vec<DatasetKind>,
    /// The conv nets, in the core's text form; each gets an MLP matched in parameters and one
    /// matched in multiply-adds per sample.
    pub convs: Vec<String>,
    /// Hidden layers of the matched MLPs.
    pub mlp_depth: usize,
    /// Training per run.
    pub budget: Budget,
    /// Seeds per network: 0, 1, … seeds−1 (a conv net and its MLPs share each seed's batches).
    pub seeds: u64,
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// The update rule, for every network.
    pub optimizer: OptimizerKind,
    /// Its learning rate.
    pub learning_rate: f64,
    /// Training rows (the first ones) the training accuracy is measured on.
    pub train_eval_rows: usize,
    /// Accuracy measurements per factor of ten of samples seen.
    pub points_per_decade: u32,
}

impl Default for ArchitecturePlan {
    /// Three conv nets from SimpleConvNet's shape down, against their matched MLPs of one
    /// hidden layer, on both datasets, two epochs, three seeds, Adam 0.001, batch 100; the training
    /// accuracy (only the gap uses it) on 2,000 rows, to keep the conv nets' evaluation short.
    fn default() -> Self {
        ArchitecturePlan {
            datasets: DatasetKind::ALL.to_vec(),
            convs: vec![
                "conv:4x5,pool:2,fc:16".into(),
                "conv:8x5,pool:2,fc:50".into(),
                SIMPLE_CONVNET.into(),
            ],
            mlp_depth: 1,
            budget: Budget::Epochs(2.0),
            seeds: 3,
            batch_size: 100,
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.001,
            train_eval_rows: 2000,
            points_per_decade: 3,
        }
    }
}

impl ArchitecturePlan {
    /// Checks the settings before any run starts, and returns the groups.
    pub fn validate(&self) -> Result<Vec<Group>> {
        if self.datasets.is_empty() {
            return Err(Error::invalid(
                "datasets",
                "[]",
                "mnist and/or fashion-mnist",
            ));
        }
        if self.convs.is_empty() {
            return Err(Error::invalid(
                "convs",
                "[]",
                "conv nets, e.g. conv:8x5,pool:2,fc:50",
            ));
        }
        if self.mlp_depth == 0 || self.mlp_depth > MAX_HIDDEN_LAYERS {
            return Err(Error::invalid(
                "MLP depth",
                self.mlp_depth,
                "hidden layers from 1 to 1000",
            ));
        }
        if self.seeds == 0 {
            return Err(Error::invalid("seeds", 0, "at least 1"));
        }
        let count = (self.convs.len() * Role::ALL.len())
            .checked_mul(usize::try_from(self.seeds).unwrap_or(usize::MAX))
            .and_then(|n| n.checked_mul(self.datasets.len()));
        check_run_count(count, "conv nets × 3 networks × seeds × datasets")?;
        let groups = self.groups()?;
        for run in self
            .runs_of(&groups)
            .iter()
            .take(groups.len() * Role::ALL.len())
        {
            if let Some(network) = self.mlp_of(&groups, run) {
                self.settings_for(run, network, 60_000).validate()?;
            }
        }
        Ok(groups)
    }

    /// Each conv net's group, in order.
    pub fn groups(&self) -> Result<Vec<Group>> {
        self.convs
            .iter()
            .map(|spec| Group::of(spec, self.mlp_depth))
            .collect()
    }

    /// Every run: per dataset and seed, each group's conv net, then its two MLPs.
    pub fn runs_of(&self, groups: &[Group]) -> Vec<ArchRun> {
        let mut runs = Vec::new();
        for dataset in &self.datasets {
            for seed in 0..self.seeds {
                for group in 0..groups.len() {
                    for role in Role::ALL {
                        runs.push(ArchRun {
                            dataset: *dataset,
                            group,
                            role,
                            seed,
                        });
                    }
                }
            }
        }
        runs
    }

    /// A run's network, by its name and shape: the conv spec, or the MLP's layer sizes.
    pub fn net_name(&self, groups: &[Group], run: &ArchRun) -> String {
        let group = &groups[run.group];
        match group.width(run.role) {
            None => group.conv.clone(),
            Some(width) => mlp_name(self.mlp_depth, width),
        }
    }

    /// A run's (parameters, multiply-adds per sample).
    pub fn size(&self, groups: &[Group], run: &ArchRun) -> (usize, usize) {
        let group = &groups[run.group];
        match group.width(run.role) {
            None => (group.params, group.macs),
            Some(width) => (
                mlp(self.mlp_depth, width).parameter_count(INPUT, OUTPUT),
                mlp_macs(self.mlp_depth, width),
            ),
        }
    }

    /// A run's MLP (None for a conv net).
    fn mlp_of(&self, groups: &[Group], run: &ArchRun) -> Option<NetworkSpec> {
        groups[run.group]
            .width(run.role)
            .map(|width| mlp(self.mlp_depth, width))
    }

    /// The settings of one run on a training set of `train_size` rows.
    pub fn settings(
        &self,
        groups: &[Group],
        run: &ArchRun,
        train_size: usize,
    ) -> Result<TrainSettings> {
        let network = match self.mlp_of(groups, run) {
            Some(network) => network,
            None => conv_network(&groups[run.group].conv)?,
        };
        Ok(self.settings_for(run, network, train_size))
    }

    fn settings_for(
        &self,
        run: &ArchRun,
        network: NetworkSpec,
        train_size: usize,
    ) -> TrainSettings {
        let (iters_num, time_limit_s) = self.budget.for_run(self.batch_size, train_size);
        TrainSettings {
            dataset: run.dataset,
            network,
            optimizer: self.optimizer,
            learning_rate: self.learning_rate,
            train: TrainConfig {
                iters_num,
                batch_size: self.batch_size,
                seed: run.seed,
                eval: EvalSchedule::Samples {
                    per_decade: self.points_per_decade,
                    train_rows: self.train_eval_rows,
                },
                time_limit_s,
                ..TrainConfig::default()
            },
        }
    }
}

/// A conv spec as part of a folder name: `conv:30x5,pool:2,fc:100` → `conv30x5-pool2-fc100`.
pub fn slug(spec: &str) -> String {
    spec.replace(':', "").replace(',', "-")
}

/// One run of the study.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArchRun {
    /// `mnist` or `fashion-mnist`.
    pub dataset: DatasetKind,
    /// Which conv net's group (its index in the plan's `convs`).
    pub group: usize,
    /// The conv net, or which MLP matched to it.
    pub role: Role,
    /// The run's seed.
    pub seed: u64,
}
