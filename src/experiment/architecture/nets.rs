//! The networks a group of the study trains: a conv net given in the core's text form, and the
//! MLPs of about its parameter count and of about its multiply-adds per sample.

use crate::experiment::depth_width::width_for_params;
use crate::run::NetworkSpec;
use crate::Result;
use scratchnet_core::net::{ConvNetConfig, MultiLayerNetConfig};

/// Pixels per image and classes: every network is 1×28×28 (784) → … → 10.
pub(super) const INPUT: usize = 784;
pub(super) const OUTPUT: usize = 10;

/// An MLP of `depth` hidden ReLU layers of `width` neurons, He-initialised (chapter 6's fair
/// choice for any depth).
pub fn mlp(depth: usize, width: usize) -> NetworkSpec {
    NetworkSpec::MultiLayerNet(MultiLayerNetConfig {
        hidden_size_list: vec![width; depth],
        ..MultiLayerNetConfig::default()
    })
}

/// An MLP's layer sizes, for tables: `784-546-10`.
pub fn mlp_name(depth: usize, width: usize) -> String {
    let sizes = mlp(depth, width).all_size_list(INPUT, OUTPUT);
    let sizes: Vec<String> = sizes.iter().map(usize::to_string).collect();
    sizes.join("-")
}

/// Forward multiply-adds per sample of an MLP: `Σ n_in·n_out`.
pub fn mlp_macs(depth: usize, width: usize) -> usize {
    let sizes = mlp(depth, width).all_size_list(INPUT, OUTPUT);
    sizes.windows(2).map(|p| p[0] * p[1]).sum()
}

/// The width whose MLP of `depth` hidden layers has the parameter count nearest `params`.
pub fn width_for_mlp_params(depth: usize, params: usize) -> usize {
    width_for_params(depth, params, INPUT, OUTPUT)
}

/// The width whose MLP of `depth` hidden layers has the multiply-adds per sample nearest
/// `macs` (at least 1): the positive root of `(d−1)w² + (in + out)w = macs`, then whichever
/// neighbouring integer comes nearer.
pub fn width_for_mlp_macs(depth: usize, macs: usize) -> usize {
    let a = (depth - 1) as f64;
    let b = (INPUT + OUTPUT) as f64;
    let c = -(macs as f64);
    let w = if a == 0.0 {
        -c / b
    } else {
        (-b + (b * b - 4.0 * a * c).sqrt()) / (2.0 * a)
    };
    let lo = (w.floor() as usize).max(1);
    let miss = |w: usize| mlp_macs(depth, w).abs_diff(macs);
    if miss(lo + 1) < miss(lo) {
        lo + 1
    } else {
        lo
    }
}

/// A conv net's size: (parameters, forward multiply-adds per sample) on 1×28×28 images and
/// 10 classes.
pub fn conv_size(spec: &str) -> Result<(usize, usize)> {
    let network = conv_network(spec)?;
    Ok((
        network.parameter_count(INPUT, OUTPUT),
        network.multiply_adds(INPUT, OUTPUT),
    ))
}

/// The conv net `spec` describes (the core's text form, He-initialised like the MLPs),
/// checked for 1×28×28 images and 10 classes.
pub fn conv_network(spec: &str) -> Result<NetworkSpec> {
    let config: ConvNetConfig = spec.parse()?;
    let network = NetworkSpec::ConvNet(config);
    network.validate(INPUT, OUTPUT)?;
    Ok(network)
}
