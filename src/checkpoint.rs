//! Weights on disk: safetensors files holding the book's parameter names (`W1`, `b1`, `W2`, `b2`).
//!
//! Readable from Python with `safetensors.numpy.load_file`; W is (in, out) as in the book, so
//! `x @ W1 + b1` works on the loaded arrays as they are. The file's string metadata holds one
//! key, `scratchnet`, whose value is a JSON object (the network's kind, its activation, …):
//! one key keeps the file's bytes identical from run to run, which a map of several would not
//! (safetensors writes its metadata map in hash order).

use crate::files::write_atomic;
use crate::layers::Activation;
use crate::net::{Network, TwoLayerNet};
use crate::{Error, Float, Result};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The metadata key under which scratchnet stores its JSON object of settings.
pub const META_KEY: &str = "scratchnet";

/// What scratchnet records about a network in a checkpoint, in sorted key order.
pub type Metadata = BTreeMap<String, String>;

/// Writes every parameter of `net` by name, with `metadata`, to `path` (atomically).
pub fn save<F: Float, N: Network<F> + ?Sized>(
    net: &N,
    metadata: Metadata,
    path: &Path,
) -> Result<()> {
    let dtype = if F::NAME == "F64" {
        Dtype::F64
    } else {
        Dtype::F32
    };
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = net
        .param_names()
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let view = net.param_view(i);
            (
                name.clone(),
                to_le_bytes(view.iter().copied()),
                view.shape().to_vec(),
            )
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, data, shape)| {
            let view = TensorView::new(dtype, shape.clone(), data).map_err(|e| fail(path, e))?;
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

/// A loaded checkpoint: its tensors by name (widened to f64) and its metadata.
pub struct Checkpoint {
    path: PathBuf,
    tensors: HashMap<String, ArrayD<f64>>,
    /// What scratchnet recorded about the network (`network`, `activation`, …).
    pub metadata: Metadata,
}

impl Checkpoint {
    /// Reads a safetensors file written by scratchnet; every problem names the file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let (_, meta) = SafeTensors::read_metadata(&bytes)
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
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| fail(path, format!("not a safetensors file ({e})")))?;
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
        })
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

    /// The metadata value `key`, or an error naming the file and the key.
    pub fn meta(&self, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| fail(&self.path, format!("metadata has no {key}")))
    }

    /// Rebuilds the `TwoLayerNet` this checkpoint holds, checking that the shapes fit together.
    pub fn two_layer_net<F: Float>(&self) -> Result<TwoLayerNet<F>> {
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
        if b1.len() != hidden || W2.nrows() != hidden || b2.len() != W2.ncols() || input == 0 {
            return Err(fail(
                &self.path,
                format!(
                    "shapes do not fit together: W1 {:?}, b1 {:?}, W2 {:?}, b2 {:?}; expected (in, h), (h), (h, out), (out)",
                    W1.dim(), b1.len(), W2.dim(), b2.len()
                ),
            ));
        }
        Ok(TwoLayerNet::from_params(W1, b1, W2, b2, activation))
    }
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
mod tests {
    use super::*;
    use crate::net::Network;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn net() -> TwoLayerNet<f32> {
        TwoLayerNet::new(
            12,
            5,
            3,
            0.1,
            Activation::Relu,
            &mut ChaCha8Rng::seed_from_u64(9),
        )
        .unwrap()
    }

    #[test]
    fn save_then_load_gives_the_same_predictions_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let net = net();
        save(&net, two_layer_metadata(&net), &path).unwrap();
        let loaded: TwoLayerNet<f32> = Checkpoint::load(&path).unwrap().two_layer_net().unwrap();
        let x = crate::init::randn::<f32>(&mut ChaCha8Rng::seed_from_u64(1), 7, 12, 1.0);
        assert_eq!(net.predict(x.view()), loaded.predict(x.view()));
        assert_eq!(loaded.activation_kind(), Activation::Relu);
    }

    #[test]
    fn bad_files_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.safetensors");
        std::fs::write(&junk, b"definitely not safetensors").unwrap();
        let err = Checkpoint::load(&junk).err().unwrap().to_string();
        assert!(
            err.contains("junk.safetensors") && err.contains("not a safetensors"),
            "{err}"
        );

        let truncated = dir.path().join("truncated.safetensors");
        let net = net();
        save(&net, two_layer_metadata(&net), &truncated).unwrap();
        let bytes = std::fs::read(&truncated).unwrap();
        std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
        assert!(Checkpoint::load(&truncated).is_err());

        let foreign = dir.path().join("foreign.safetensors");
        let data = vec![0u8; 8];
        let view = TensorView::new(Dtype::F32, vec![2], &data).unwrap();
        std::fs::write(
            &foreign,
            safetensors::serialize([("W1", view)], None).unwrap(),
        )
        .unwrap();
        let err = Checkpoint::load(&foreign).err().unwrap().to_string();
        assert!(err.contains("not a scratchnet checkpoint"), "{err}");
    }
}
