//! Weights on disk: safetensors files holding the book's parameter names (`W1`, `b1`, `W2`, `b2`,
//! …, `gamma1`, `beta1`, …) and any saved state (BatchNorm's `running_mean1`, `running_var1`, …).
//!
//! Readable from Python with `safetensors.numpy.load_file`; W is (in, out) as in the book, so
//! `x @ W1 + b1` works on the loaded arrays as they are. The file's string metadata holds one
//! key, `scratchnet`, whose value is a JSON object (the network's kind, its activation, …):
//! one key keeps the file's bytes identical from run to run, which a map of several would not
//! (safetensors writes its metadata map in hash order). That object also holds the file's
//! checksum ([`seal`]), verified on every load.

mod seal;
mod shapes;

pub use seal::SEAL_KEY;

use crate::files::write_atomic;
use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use scratchnet_core::layers::Activation;
use scratchnet_core::net::spec::NetworkSpec;
use scratchnet_core::net::{
    ConvNet, ConvNetConfig, MultiLayerNet, MultiLayerNetConfig, Network, TwoLayerNet,
};
use scratchnet_core::Float;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The metadata key under which scratchnet stores its JSON object of settings.
pub const META_KEY: &str = "scratchnet";

/// Metadata keys that are not a MultiLayerNet's options.
const NOT_OPTIONS: [&str; 4] = ["network", "resume", "settings", SEAL_KEY];

/// What scratchnet records about a network in a checkpoint, in sorted key order.
pub type Metadata = BTreeMap<String, String>;

/// What a network records about itself in a checkpoint, so that it can be rebuilt.
pub trait Describe {
    /// The metadata to save beside the weights (`network`, `activation`, …).
    fn metadata(&self) -> Metadata;
}

impl<F: Float> Describe for TwoLayerNet<F> {
    fn metadata(&self) -> Metadata {
        two_layer_metadata(self)
    }
}

impl<F: Float> Describe for MultiLayerNet<F> {
    fn metadata(&self) -> Metadata {
        multi_layer_metadata(self)
    }
}

impl<F: Float> Describe for ConvNet<F> {
    fn metadata(&self) -> Metadata {
        options_metadata(self.config(), "ConvNet")
    }
}

/// Writes every parameter and buffer of `net` by name, with `metadata`, to `path` (atomically).
pub fn save<F: Float, N: Network<F> + ?Sized>(
    net: &N,
    metadata: Metadata,
    path: &Path,
) -> Result<()> {
    save_with(net, metadata, &[], path)
}

/// [`save`], with `extra` tensors written beside the network's (an optimizer's state).
pub fn save_with<F: Float, N: Network<F> + ?Sized>(
    net: &N,
    metadata: Metadata,
    extra: &[(String, ArrayD<F>)],
    path: &Path,
) -> Result<()> {
    let dtype = if F::NAME == "F64" {
        Dtype::F64
    } else {
        Dtype::F32
    };
    let params = net.params();
    let params = params.iter().map(|p| (p.name, p.value.view()));
    let extra = extra.iter().map(|(name, a)| (name.as_str(), a.view()));
    let tensors: Vec<OwnedTensor> = params
        .chain(net.buffers())
        .chain(extra)
        .map(|(name, view)| {
            (
                name.to_string(),
                dtype,
                view.shape().to_vec(),
                to_le_bytes(view.iter().copied()),
            )
        })
        .collect();
    write_sealed(path, &tensors, metadata)
}

/// A tensor to write: name, dtype, shape, little-endian bytes.
type OwnedTensor = (String, Dtype, Vec<usize>, Vec<u8>);

/// Writes `tensors` and `metadata`, with the checksum of both added, to `path` (atomically).
fn write_sealed(path: &Path, tensors: &[OwnedTensor], mut metadata: Metadata) -> Result<()> {
    let seen: Vec<seal::TensorBytes> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            (
                name.as_str(),
                format!("{dtype:?}"),
                shape.as_slice(),
                data.as_slice(),
            )
        })
        .collect();
    metadata.insert(SEAL_KEY.into(), seal::checksum(&seen, &metadata));
    let views = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            let view = TensorView::new(*dtype, shape.clone(), data).map_err(|e| fail(path, e))?;
            Ok((name.as_str(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    let file = safetensors::serialize(
        views,
        Some(HashMap::from([(
            META_KEY.to_string(),
            serde_json::to_string(&metadata).expect("strings serialise"),
        )])),
    )
    .map_err(|e| fail(path, e))?;
    write_atomic(path, &file)
}

/// Seals the weights file at `path` again after it was edited by hand (tests craft hostile
/// files this way): its checksum is recomputed from its tensors and metadata as they are.
pub fn reseal(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (metadata, st) = parse(path, &bytes)?;
    let tensors: Vec<OwnedTensor> = st
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            (
                name,
                view.dtype(),
                view.shape().to_vec(),
                view.data().to_vec(),
            )
        })
        .collect();
    write_sealed(path, &tensors, metadata)
}

/// The metadata and tensors of a safetensors file written by scratchnet.
fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<(Metadata, SafeTensors<'a>)> {
    let (_, meta) = SafeTensors::read_metadata(bytes)
        .map_err(|e| fail(path, format!("not a safetensors file ({e})")))?;
    let metadata: Metadata = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get(META_KEY))
        .and_then(|json| serde_json::from_str(json).ok())
        .ok_or_else(|| {
            fail(
                path,
                "not a scratchnet checkpoint (its metadata has no scratchnet entry)",
            )
        })?;
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| fail(path, format!("not a safetensors file ({e})")))?;
    Ok((metadata, st))
}

/// Checks the checksum of a parsed file: `Ok(true)` when it matches, `Ok(false)` when the file
/// has none (written before scratchnet sealed its files), an error naming the file otherwise.
fn verify(path: &Path, metadata: &Metadata, st: &SafeTensors) -> Result<bool> {
    let Some(stored) = metadata.get(SEAL_KEY) else {
        // A checksum under another key is a damaged key (one flipped bit in `sha256`), not
        // an old file.
        if metadata.values().any(|v| v.starts_with("sha256:")) {
            return Err(fail(
                path,
                "its checksum is stored under a damaged key: the file was changed or damaged \
                 after it was written; use another copy, or train again",
            ));
        }
        return Ok(false);
    };
    let tensors = st.tensors();
    let seen: Vec<seal::TensorBytes> = tensors
        .iter()
        .map(|(name, view)| {
            (
                name.as_str(),
                format!("{:?}", view.dtype()),
                view.shape(),
                view.data(),
            )
        })
        .collect();
    if seal::checksum(&seen, metadata) != *stored {
        return Err(fail(
            path,
            "its contents do not match its checksum: the file was changed or damaged after it \
             was written; use another copy, or train again",
        ));
    }
    Ok(true)
}

/// A loaded checkpoint: its tensors by name (widened to f64) and its metadata.
pub struct Checkpoint {
    path: PathBuf,
    tensors: HashMap<String, ArrayD<f64>>,
    /// What scratchnet recorded about the network (`network`, `activation`, …).
    pub metadata: Metadata,
    sealed: bool,
}

impl Checkpoint {
    /// Reads a safetensors file written by scratchnet; every problem names the file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(path, &bytes)
    }

    /// Reads a checkpoint from the bytes of a file (`path` names it in errors), verifying its
    /// checksum when it has one.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self> {
        let (metadata, st) = parse(path, bytes)?;
        let sealed = verify(path, &metadata, &st)?;
        let mut tensors = HashMap::new();
        for (name, view) in st.tensors() {
            let values = from_le_bytes(view.dtype(), view.data()).ok_or_else(|| {
                fail(
                    path,
                    format!(
                        "tensor {name} has dtype {:?}; expected F32 or F64",
                        view.dtype()
                    ),
                )
            })?;
            let array =
                ArrayD::from_shape_vec(IxDyn(view.shape()), values).map_err(|e| fail(path, e))?;
            tensors.insert(name, array);
        }
        Ok(Checkpoint {
            path: path.to_path_buf(),
            tensors,
            metadata,
            sealed,
        })
    }

    /// Whether the file carried a checksum (verified on load); files written before
    /// scratchnet sealed its files have none.
    pub fn is_sealed(&self) -> bool {
        self.sealed
    }

    /// The file this checkpoint was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tensor `name`, which must have `ndim` dimensions, converted to `F`.
    pub fn tensor<F: Float>(&self, name: &str, ndim: usize) -> Result<ArrayD<F>> {
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| fail(&self.path, format!("no tensor named {name}")))?;
        if t.ndim() != ndim {
            return Err(fail(
                &self.path,
                format!(
                    "tensor {name} has shape {:?}; expected {ndim} dimensions",
                    t.shape()
                ),
            ));
        }
        Ok(t.mapv(F::of))
    }

    /// Every tensor whose name starts with `prefix`, the prefix removed, converted to `F`
    /// (sorted by name).
    pub fn tensors_with_prefix<F: Float>(&self, prefix: &str) -> Vec<(String, ArrayD<F>)> {
        let mut out: Vec<(String, ArrayD<F>)> = self
            .tensors
            .iter()
            .filter_map(|(name, t)| {
                name.strip_prefix(prefix)
                    .map(|rest| (rest.to_string(), t.mapv(F::of)))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The metadata value `key`, or an error naming the file and the key.
    pub fn meta(&self, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| fail(&self.path, format!("metadata has no {key}")))
    }

    /// Rebuilds the `TwoLayerNet` this checkpoint holds, checking that the shapes fit together.
    pub fn two_layer_net<F: Float>(&self) -> Result<TwoLayerNet<F>> {
        let network = self.meta("network")?;
        if network != "TwoLayerNet" {
            return Err(fail(
                &self.path,
                format!("holds a {network}, not a TwoLayerNet"),
            ));
        }
        let activation: Activation =
            serde_json::from_value(serde_json::Value::String(self.meta("activation")?.into()))
                .map_err(|_| fail(&self.path, "activation must be sigmoid or relu"))?;
        let as2 = |name| -> Result<Array2<F>> {
            Ok(self
                .tensor(name, 2)?
                .into_dimensionality()
                .expect("checked ndim"))
        };
        let as1 = |name| -> Result<Array1<F>> {
            Ok(self
                .tensor(name, 1)?
                .into_dimensionality()
                .expect("checked ndim"))
        };
        let (W1, b1, W2, b2) = (as2("W1")?, as1("b1")?, as2("W2")?, as1("b2")?);
        let (input, hidden) = W1.dim();
        let output = W2.ncols();
        if b1.len() != hidden
            || W2.nrows() != hidden
            || b2.len() != output
            || input == 0
            || hidden == 0
            || output == 0
        {
            return Err(fail(
                &self.path,
                format!(
                    "shapes do not fit together: W1 {:?}, b1 {:?}, W2 {:?}, b2 {:?}; expected (in, h), (h), (h, out), (out)",
                    W1.dim(), b1.len(), W2.dim(), b2.len()
                ),
            ));
        }
        let net = TwoLayerNet::from_params(W1, b1, W2, b2, activation);
        self.check_no_stray_tensor(&net)?;
        Ok(net)
    }

    /// Rebuilds the `MultiLayerNet` this checkpoint holds: its options from the metadata, every
    /// parameter and running statistic from the tensors, each shape checked — the layer sizes
    /// the metadata names are checked against the tensors' shapes and the weight limit before
    /// anything is allocated, so lying metadata cannot drive a huge allocation.
    pub fn multi_layer_net<F: Float>(&self) -> Result<MultiLayerNet<F>> {
        let config = self.multi_layer_config()?;
        let (input_size, output_size) = self.check_layer_sizes(&config.hidden_size_list)?;
        NetworkSpec::MultiLayerNet(config.clone())
            .validate(input_size, output_size)
            .map_err(|e| fail(&self.path, format!("metadata: {e}")))?;
        // Every value is overwritten below; the seed only fills them meanwhile.
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        let mut net = MultiLayerNet::new(input_size, output_size, &config, &mut rng)
            .map_err(|e| fail(&self.path, e))?;
        for p in net.params_mut() {
            self.fill(p.name, p.value)?;
        }
        for (name, value) in net.buffers_mut() {
            let name = name.to_string();
            self.fill(&name, value)?;
        }
        self.check_no_stray_tensor(&net)?;
        Ok(net)
    }

    /// Rebuilds the `ConvNet` this checkpoint holds: its config from the metadata (`layers` in
    /// their text form, `input_shape`, `weight_init`), every parameter's shape that config
    /// implies checked against the tensors before anything is built (and so against the
    /// weight limit), then every value filled in.
    pub fn conv_net<F: Float>(&self) -> Result<ConvNet<F>> {
        let config: ConvNetConfig = self.options(
            "layers is a conv net's text form such as conv:30x5,pool:2,fc:100, input_shape [C,H,W]",
        )?;
        let classes = self.check_conv_shapes(&config)?;
        config
            .validate(config.input_size(), classes)
            .map_err(|e| fail(&self.path, format!("metadata: {e}")))?;
        // Every value is overwritten below; the seed only fills them meanwhile.
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        let mut net = config
            .init(config.input_size(), classes, &mut rng)
            .map_err(|e| fail(&self.path, e))?;
        for p in net.params_mut() {
            self.fill(p.name, p.value)?;
        }
        self.check_no_stray_tensor(&net)?;
        Ok(net)
    }

    /// Rebuilds whichever network the checkpoint holds (its metadata's `network`).
    pub fn network<F: Float>(&self) -> Result<Box<dyn Network<F>>> {
        match self.meta("network")? {
            "TwoLayerNet" => Ok(Box::new(self.two_layer_net::<F>()?)),
            "MultiLayerNet" => Ok(Box::new(self.multi_layer_net::<F>()?)),
            "ConvNet" => Ok(Box::new(self.conv_net::<F>()?)),
            other => Err(fail(
                &self.path,
                format!(
                    "unknown network {other:?}; expected TwoLayerNet, MultiLayerNet or ConvNet"
                ),
            )),
        }
    }

    /// Copies the tensor `name` into `value`, which must have its shape.
    fn fill<F: Float>(&self, name: &str, mut value: ndarray::ArrayViewMutD<F>) -> Result<()> {
        let tensor = self.tensor::<F>(name, value.ndim())?;
        if tensor.shape() != value.shape() {
            return Err(fail(
                &self.path,
                format!(
                    "tensor {name} has shape {:?}; the metadata's network needs {:?}",
                    tensor.shape(),
                    value.shape()
                ),
            ));
        }
        value.assign(&tensor);
        Ok(())
    }
}

/// The first tensor of `net` (parameters, then buffers) holding a value that is not a finite
/// number, and how many such values the network holds in all; `None` when every one is finite.
pub fn non_finite<F: Float, N: Network<F> + ?Sized>(net: &N) -> Option<(String, usize)> {
    let params = net.params();
    let buffers = net.buffers();
    let arrays = params
        .iter()
        .map(|p| (p.name, p.value.view()))
        .chain(buffers.iter().map(|(name, a)| (*name, a.view())));
    let mut first = None;
    let mut count = 0;
    for (name, array) in arrays {
        let bad = array.iter().filter(|v| !v.is_finite()).count();
        if bad > 0 && first.is_none() {
            first = Some(name.to_string());
        }
        count += bad;
    }
    first.map(|name| (name, count))
}

/// The metadata every TwoLayerNet checkpoint carries.
pub fn two_layer_metadata<F: Float>(net: &TwoLayerNet<F>) -> Metadata {
    let activation = serde_json::to_value(net.activation_kind()).expect("enum serialises");
    Metadata::from([
        ("network".to_string(), "TwoLayerNet".to_string()),
        (
            "activation".to_string(),
            activation.as_str().unwrap_or_default().to_string(),
        ),
    ])
}

/// The metadata every MultiLayerNet checkpoint carries: `network` and each option of its
/// [`MultiLayerNetConfig`] as JSON text, strings bare (`activation: relu`,
/// `hidden_size_list: [100,100]`, `use_batchnorm: true`, …).
pub fn multi_layer_metadata<F: Float>(net: &MultiLayerNet<F>) -> Metadata {
    config_metadata(net.config())
}

/// The metadata a network built from `spec` carries (what a checkpoint of it must hold).
pub fn spec_metadata(spec: &NetworkSpec) -> Metadata {
    match spec {
        NetworkSpec::TwoLayerNet(c) => {
            let activation = serde_json::to_value(c.activation).expect("enum serialises");
            Metadata::from([
                ("network".to_string(), "TwoLayerNet".to_string()),
                (
                    "activation".to_string(),
                    activation.as_str().unwrap_or_default().to_string(),
                ),
            ])
        }
        NetworkSpec::MultiLayerNet(config) => config_metadata(config),
        NetworkSpec::ConvNet(config) => options_metadata(config, "ConvNet"),
    }
}

/// [`multi_layer_metadata`] from the config alone.
fn config_metadata(config: &MultiLayerNetConfig) -> Metadata {
    options_metadata(config, "MultiLayerNet")
}

/// `network` and each field of `config` as JSON text, strings bare (`activation: relu`,
/// `hidden_size_list: [100,100]`, `layers: conv:30x5,pool:2,fc:100`, …).
fn options_metadata(config: &impl serde::Serialize, network: &str) -> Metadata {
    let options = serde_json::to_value(config).expect("config serialises");
    let mut metadata: Metadata = options
        .as_object()
        .expect("config is a struct")
        .iter()
        .map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (key.clone(), text)
        })
        .collect();
    metadata.insert("network".into(), network.into());
    metadata
}

fn fail(path: &Path, reason: impl ToString) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Little-endian bytes of the values, in the width of `F` (f32 values stay f32: exact).
fn to_le_bytes<F: Float>(values: impl Iterator<Item = F>) -> Vec<u8> {
    if F::NAME == "F64" {
        values.flat_map(|v| v.to_f64().to_le_bytes()).collect()
    } else {
        values
            .flat_map(|v| (v.to_f64() as f32).to_le_bytes())
            .collect()
    }
}

/// Values from little-endian bytes of dtype F32 or F64, widened to f64; `None` for other dtypes.
fn from_le_bytes(dtype: Dtype, data: &[u8]) -> Option<Vec<f64>> {
    match dtype {
        Dtype::F32 => Some(
            data.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64)
                .collect(),
        ),
        Dtype::F64 => Some(
            data.chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8")))
                .collect(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
