//! What a checkpoint must agree with before a run resumes from it: sealed by its checksum,
//! written by a run of the same settings as the folder's config.json, holding the network
//! those settings describe. (The trainer checks the state itself: `Trainer::restore`.)

use super::settings::TrainSettings;
use crate::checkpoint::{spec_metadata, Checkpoint, Describe, SEAL_KEY};
use crate::{Error, Result};
use scratchnet_core::net::Network;

/// The metadata key of the settings of the run that wrote a checkpoint.
pub const SETTINGS_KEY: &str = "settings";

/// Checks that `ckpt`, whose network `net` was rebuilt from it, belongs to the run of
/// `settings` on `input` → `output` features and classes.
pub fn check_checkpoint<N: Network<f32> + Describe>(
    ckpt: &Checkpoint,
    net: &N,
    settings: &TrainSettings,
    (input, output): (usize, usize),
) -> Result<()> {
    let bad = |reason: String| Error::BadFile {
        path: ckpt.path().to_path_buf(),
        reason,
    };
    if !ckpt.is_sealed() {
        return Err(bad(format!(
            "has no checksum ({SEAL_KEY}): it was written by an older scratchnet and cannot be \
             verified; start the run again in a new folder"
        )));
    }
    let written_by: TrainSettings = ckpt
        .meta(SETTINGS_KEY)
        .ok()
        .and_then(|json| serde_json::from_str(json).ok())
        .ok_or_else(|| bad("holds no readable settings of the run that wrote it".into()))?;
    if let Some(difference) = first_difference(&written_by, settings) {
        return Err(bad(format!(
            "was written by a run with other settings than the config.json beside it \
             ({difference}): it is not this run's checkpoint"
        )));
    }
    let expected = spec_metadata(&settings.network);
    let count = settings.network.parameter_count(input, output);
    let (got_in, got_out) = (net.input_size(), net.output_size());
    if net.metadata() != expected
        || (got_in, got_out) != (input, output)
        || net.parameter_count() != count
    {
        return Err(bad(format!(
            "holds a network of {} parameters for {got_in} inputs and {got_out} classes, but \
             config.json describes {} ({count} parameters): it is not this run's checkpoint",
            net.parameter_count(),
            settings.network.describe(input, output)
        )));
    }
    Ok(())
}

/// The first setting that differs, as `key: checkpoint A, config.json B`.
fn first_difference(checkpoint: &TrainSettings, config: &TrainSettings) -> Option<String> {
    let a = serde_json::to_value(checkpoint).expect("settings serialise");
    let b = serde_json::to_value(config).expect("settings serialise");
    let (a, b) = (a.as_object()?, b.as_object()?);
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().find_map(|key| {
        let (x, y) = (a.get(key), b.get(key));
        (x != y).then(|| {
            let show = |v: Option<&serde_json::Value>| v.map_or("none".into(), |v| v.to_string());
            format!("{key}: checkpoint {}, config.json {}", show(x), show(y))
        })
    })
}
