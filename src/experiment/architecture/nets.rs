//! The networks a group of the study trains: a conv net given in the core's text form, and the
//! MLPs of about its parameter count and of about its multiply-adds per sample.

use super::plan::{INPUT, OUTPUT};
use crate::experiment::depth_width::width_for_params;
use crate::run::NetworkSpec;
use crate::{Error, Result};
use scratchnet_core::net::MultiLayerNetConfig;

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
    stand_in::size(spec)
}

/// The conv net `spec` describes, to train.
pub fn conv_network(spec: &str) -> Result<NetworkSpec> {
    Err(Error::invalid(
        "conv net",
        spec,
        "a network this scratchnet can train (conv nets arrive with the core's ConvNet)",
    ))
}

/// A stand-in for the core's conv-net text form until it lands: `conv:FNxF` (stride 1, no
/// pad, then ReLU), `pool:P` (P×P max pooling, stride P) and `fc:N` (Affine + ReLU), then the
/// output Affine.
mod stand_in {
    use super::{Error, Result, OUTPUT};
    use crate::run::MAX_WEIGHTS;

    pub fn size(spec: &str) -> Result<(usize, usize)> {
        let bad = || {
            Error::invalid(
                "conv net",
                spec,
                "layers conv:FNxF, pool:P and fc:N, comma-separated, e.g. conv:30x5,pool:2,fc:100, \
                 of at most 100,000,000 weights",
            )
        };
        // Products that overflow, or a network past the weight limit, are refused alike.
        let product = |factors: &[usize]| -> Result<usize> {
            factors
                .iter()
                .try_fold(1usize, |n, &f| n.checked_mul(f))
                .filter(|&n| n <= MAX_WEIGHTS.saturating_mul(1000))
                .ok_or_else(bad)
        };
        let number = |text: &str| -> Result<usize> {
            text.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(bad)
        };
        let (mut c, mut h, mut w) = (1usize, 28usize, 28usize);
        let (mut params, mut macs) = (0usize, 0usize);
        let mut flat: Option<usize> = None;
        for layer in spec.split(',') {
            let (kind, value) = layer.split_once(':').ok_or_else(bad)?;
            match kind.trim() {
                "conv" if flat.is_none() => {
                    let (filters, f) = value.split_once('x').ok_or_else(bad)?;
                    let (filters, f) = (number(filters)?, number(f)?);
                    if f > h || f > w {
                        return Err(bad());
                    }
                    let (oh, ow) = (h - f + 1, w - f + 1);
                    params += product(&[filters, c, f, f])? + filters;
                    macs += product(&[filters, c, f, f, oh, ow])?;
                    (c, h, w) = (filters, oh, ow);
                }
                "pool" if flat.is_none() => {
                    let p = number(value)?;
                    if p > h || p > w {
                        return Err(bad());
                    }
                    (h, w) = (h / p, w / p);
                }
                "fc" => {
                    let n = number(value)?;
                    let input = flat.unwrap_or(c * h * w);
                    params += product(&[input, n])? + n;
                    macs += product(&[input, n])?;
                    flat = Some(n);
                }
                _ => return Err(bad()),
            }
            if params > MAX_WEIGHTS {
                return Err(bad());
            }
        }
        let input = flat.unwrap_or(c * h * w);
        Ok((params + input * OUTPUT + OUTPUT, macs + input * OUTPUT))
    }
}
