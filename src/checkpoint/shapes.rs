//! The checks that keep a weights file's metadata from driving what is built: the layer sizes
//! it names against its tensors' shapes, and no tensor the network does not hold.

use super::{fail, Checkpoint, NOT_OPTIONS};
use crate::Result;
use scratchnet_core::net::conv_net::config::{Shape, Stage};
use scratchnet_core::net::{ConvLayer, ConvNetConfig, MultiLayerNetConfig, Network};
use scratchnet_core::Float;
use serde::de::DeserializeOwned;

impl Checkpoint {
    /// The MultiLayerNet options the metadata records (each as its JSON text, strings bare:
    /// `relu`, `he`, `[100,100]`, `true`).
    pub(super) fn multi_layer_config(&self) -> Result<MultiLayerNetConfig> {
        self.options("hidden_size_list is a list of sizes such as [100,100]")
    }

    /// A network's config from the options its metadata records (each as its JSON text,
    /// strings bare); an error says what is wrong and, as `hint`, what is expected.
    pub(super) fn options<T: DeserializeOwned>(&self, hint: &str) -> Result<T> {
        let options: serde_json::Map<String, serde_json::Value> = self
            .metadata
            .iter()
            .filter(|(key, _)| !NOT_OPTIONS.contains(&key.as_str()))
            .map(|(key, text)| {
                let value = serde_json::from_str(text)
                    .unwrap_or_else(|_| serde_json::Value::String(text.clone()));
                (key.clone(), value)
            })
            .collect();
        serde_json::from_value(options.into())
            .map_err(|e| fail(&self.path, format!("metadata: {e} ({hint})")))
    }

    /// Checks that the tensors `W1`, `b1`, … of a ConvNet exist with the shapes the metadata's
    /// `config` implies — a conv's W (FN, C, FH, FW), an affine's (in, out), each b (out) — the
    /// number of classes read from the last W; returns that number.
    pub(super) fn check_conv_shapes(&self, config: &ConvNetConfig) -> Result<usize> {
        let bad = |reason: String| fail(&self.path, format!("metadata: {reason}"));
        let weighted = config.stages(1).map_err(|e| bad(e.to_string()))?;
        let last = weighted.iter().filter(|s| s.weights().is_some()).count();
        let classes = match self.tensors.get(&format!("W{last}")).map(|t| t.shape()) {
            Some(&[_, classes]) if classes > 0 => classes,
            other => {
                return Err(fail(
                    &self.path,
                    format!(
                        "tensor W{last} (the layers {config}'s last) has shape {other:?}; \
                         expected (in, classes)"
                    ),
                ))
            }
        };
        let stages = config.stages(classes).map_err(|e| bad(e.to_string()))?;
        let shapes = conv_param_shapes(&stages).ok_or_else(|| {
            bad(format!(
                "the layers {config} on input {:?} are too large to count",
                config.input_shape
            ))
        })?;
        for (name, shape) in shapes {
            match self.tensors.get(&name) {
                None => {
                    return Err(bad(format!(
                        "no tensor named {name}, which the layers {config} need"
                    )))
                }
                Some(t) if t.shape() != shape.as_slice() => {
                    return Err(fail(
                        &self.path,
                        format!(
                            "tensor {name} has shape {:?} but the metadata's layers {config} on \
                             input {:?} need {shape:?}",
                            t.shape(),
                            config.input_shape
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        if config
            .input_shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .is_none()
        {
            return Err(bad(format!(
                "input_shape {:?} is too large",
                config.input_shape
            )));
        }
        Ok(classes)
    }

    /// Checks that the weights `W1`…`W(n+1)` exist with the shapes `hidden` (the metadata's
    /// sizes) implies, and that there is no further `W`; returns (input, output) sizes.
    pub(super) fn check_layer_sizes(&self, hidden: &[usize]) -> Result<(usize, usize)> {
        let shape_of = |name: &str| -> Result<[usize; 2]> {
            let t = self.tensors.get(name).ok_or_else(|| {
                fail(
                    &self.path,
                    format!(
                        "no tensor named {name}, which the metadata's hidden_size_list {hidden:?} \
                         needs ({} layers)",
                        hidden.len() + 1
                    ),
                )
            })?;
            match t.shape() {
                &[rows, cols] => Ok([rows, cols]),
                other => Err(fail(
                    &self.path,
                    format!("tensor {name} has shape {other:?}; expected 2 dimensions"),
                )),
            }
        };
        let depth = hidden.len() + 1;
        let input_size = shape_of("W1")?[0];
        let output_size = shape_of(&format!("W{depth}"))?[1];
        let sizes: Vec<usize> = std::iter::once(input_size)
            .chain(hidden.iter().copied())
            .chain([output_size])
            .collect();
        for (i, pair) in sizes.windows(2).enumerate() {
            let name = format!("W{}", i + 1);
            let shape = shape_of(&name)?;
            if shape != [pair[0], pair[1]] {
                return Err(fail(
                    &self.path,
                    format!(
                        "tensor {name} has shape {shape:?} but the metadata's hidden_size_list \
                         {hidden:?} needs {:?}",
                        [pair[0], pair[1]]
                    ),
                ));
            }
        }
        if self.tensors.contains_key(&format!("W{}", depth + 1)) {
            return Err(fail(
                &self.path,
                format!(
                    "holds a tensor W{} but the metadata's hidden_size_list {hidden:?} has only \
                     {depth} layers",
                    depth + 1
                ),
            ));
        }
        if input_size == 0 || output_size == 0 {
            return Err(fail(&self.path, "W1 or the last W has a size of 0"));
        }
        Ok((input_size, output_size))
    }

    /// Refuses a tensor that is neither a parameter nor a buffer of `net` (state tensors, named
    /// `<group>/<name>`, are checked by whoever reads them).
    pub(super) fn check_no_stray_tensor<F: Float>(&self, net: &impl Network<F>) -> Result<()> {
        let params = net.params();
        let buffers = net.buffers();
        let known: std::collections::HashSet<&str> = params
            .iter()
            .map(|p| p.name)
            .chain(buffers.iter().map(|(name, _)| *name))
            .collect();
        let mut stray: Vec<&String> = self
            .tensors
            .keys()
            .filter(|name| !name.contains('/') && !known.contains(name.as_str()))
            .collect();
        stray.sort();
        match stray.first() {
            None => Ok(()),
            Some(name) => Err(fail(
                &self.path,
                format!("tensor {name} is not part of the network its metadata describes"),
            )),
        }
    }
}

/// The shape of every parameter of a ConvNet built as `stages`, by name (`W1`, `b1`, …), or
/// `None` when a size overflows (metadata naming absurd sizes).
fn conv_param_shapes(stages: &[Stage]) -> Option<Vec<(String, Vec<usize>)>> {
    let values = |shape: Shape| match shape {
        Shape::Maps(c, h, w) => c.checked_mul(h)?.checked_mul(w),
        Shape::Flat(n) => Some(n),
    };
    let mut shapes = Vec::new();
    for stage in stages {
        let (w, out) = match (stage.layer, stage.input, stage.output) {
            (ConvLayer::Conv { filters, size, .. }, Shape::Maps(c, ..), _) => {
                (vec![filters, c, size, size], filters)
            }
            (ConvLayer::Affine { .. } | ConvLayer::Output, input, output) => {
                let out = values(output)?;
                (vec![values(input)?, out], out)
            }
            _ => continue,
        };
        let k = shapes.len() / 2 + 1;
        shapes.push((format!("W{k}"), w));
        shapes.push((format!("b{k}"), vec![out]));
    }
    Some(shapes)
}
