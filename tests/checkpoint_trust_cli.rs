//! Hostile weight files through the real binary (issue 13, classes 2, 5, 6, 7 and eval's part of
//! 13): a model or checkpoint whose metadata lies, whose state does not fit, whose bytes were
//! changed, or whose weights are not finite must be refused with a message naming the file —
//! never a panic (exit 101), an abort (134), a huge allocation, or a silent result.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod common;
use common::*;

/// A safetensors file as plain values: metadata (scratchnet's JSON object) and tensors.
struct Weights {
    meta: BTreeMap<String, String>,
    tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
}

impl Weights {
    fn read(path: &Path) -> Weights {
        let bytes = std::fs::read(path).unwrap();
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let json = &header.metadata().as_ref().unwrap()["scratchnet"];
        let meta = serde_json::from_str(json).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let tensors = st
            .tensors()
            .into_iter()
            .map(|(name, view)| {
                let values = view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect();
                (name, (view.shape().to_vec(), values))
            })
            .collect();
        Weights { meta, tensors }
    }

    /// Writes the file back, sealed again with a valid checksum (the edit is then caught only
    /// by the checks that come after the checksum's).
    fn write(&self, path: &Path) {
        self.write_unsealed(path);
        // (sealed again once checkpoints carry a checksum)
    }

    /// Writes the file back as it is, checksum and all.
    fn write_unsealed(&self, path: &Path) {
        let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = self
            .tensors
            .iter()
            .map(|(name, (shape, values))| {
                let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                (name.clone(), data, shape.clone())
            })
            .collect();
        let views = bytes.iter().map(|(name, data, shape)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                    .unwrap();
            (name.clone(), view)
        });
        let meta = std::collections::HashMap::from([(
            "scratchnet".to_string(),
            serde_json::to_string(&self.meta).unwrap(),
        )]);
        std::fs::write(path, safetensors::serialize(views, Some(meta)).unwrap()).unwrap();
    }

    fn tensor(&mut self, name: &str) -> &mut (Vec<usize>, Vec<f32>) {
        self.tensors
            .get_mut(name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    /// The checkpoint's resume state (iteration, sampler, history, …) as JSON.
    fn resume(&self) -> Value {
        serde_json::from_str(&self.meta["resume"]).unwrap()
    }

    fn set_resume(&mut self, resume: &Value) {
        self.meta.insert("resume".into(), resume.to_string());
    }
}

/// Copies the folder `from` (files only) to a new folder in `root` named `name`.
fn copy_run(from: &Path, root: &Path, name: &str) -> PathBuf {
    let to = root.join(name);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    to
}

/// A finished tiny run: 20 updates of `extra`'s network.
fn finished_run(out: &Path, extra: &[&str]) {
    let args = [
        &[
            "--quiet",
            "train",
            "--iters",
            "20",
            "--out",
            out.to_str().unwrap(),
        ],
        extra,
    ]
    .concat();
    ok(&args);
}

/// `eval --model model` must fail, quickly and without a panic or abort, saying `expected`.
fn eval_fails(model: &Path, expected: &str) -> String {
    let started = Instant::now();
    let stderr = fails_naming(
        &["--quiet", "eval", "--model", model.to_str().unwrap()],
        expected,
    );
    assert!(stderr.contains(&model.display().to_string()), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    stderr
}

/// `train --resume dir` must fail without a panic, saying `expected`.
fn resume_fails(dir: &Path, expected: &str) -> String {
    fails_naming(
        &["--quiet", "train", "--resume", dir.to_str().unwrap()],
        expected,
    )
}

const DEEP: [&str; 4] = ["--hidden", "8,6", "--activation", "relu"];

// ---- class 6: metadata drives allocation before any check ----

#[test]
fn model_metadata_that_lies_about_the_layers_is_refused_before_anything_is_built() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("deep");
    finished_run(&run, &DEEP);
    let model = run.join("model.safetensors");
    let original = Weights::read(&model);
    let cases: [(&str, &str, &str); 8] = [
        // The example: 784·10⁹ weights would be 3 TB.
        ("hidden_size_list", "[1000000000]", "hidden_size_list"),
        ("hidden_size_list", "[300000,20]", "hidden_size_list"),
        ("hidden_size_list", "[-5,6]", "hidden_size_list"),
        ("hidden_size_list", "[\"many\"]", "hidden_size_list"),
        ("hidden_size_list", "[8,6,4]", "no tensor named W4"),
        ("hidden_size_list", "[8]", "hidden_size_list"),
        ("activation", "tanh", "tanh"),
        ("network", "ThreeLayerNet", "unknown network"),
    ];
    for (i, (key, value, expected)) in cases.into_iter().enumerate() {
        let mut w = Weights {
            meta: original.meta.clone(),
            tensors: original.tensors.clone(),
        };
        w.meta.insert(key.into(), value.into());
        let path = root.path().join(format!("case{i}.safetensors"));
        w.write(&path);
        eval_fails(&path, expected);
    }
}

#[test]
fn tensors_that_do_not_fit_their_network_or_their_bytes_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("two");
    finished_run(&run, &["--hidden-size", "7"]);
    let model = run.join("model.safetensors");
    let original = Weights::read(&model);

    let mut short_bias = Weights::read(&model);
    short_bias.tensor("b1").0 = vec![6];
    short_bias.tensor("b1").1.pop();
    let path = root.path().join("short_bias.safetensors");
    short_bias.write(&path);
    eval_fails(&path, "shapes do not fit together");

    let mut stray = Weights::read(&model);
    stray
        .tensors
        .insert("W3".into(), (vec![10, 10], vec![0.0; 100]));
    let path = root.path().join("stray.safetensors");
    stray.write(&path);
    eval_fails(&path, "tensor W3 is not part of the network");

    let mut empty_hidden = Weights::read(&model);
    empty_hidden.tensor("W1").0 = vec![784, 0];
    empty_hidden.tensor("W1").1.clear();
    empty_hidden.tensor("b1").0 = vec![0];
    empty_hidden.tensor("b1").1.clear();
    empty_hidden.tensor("W2").0 = vec![0, 10];
    empty_hidden.tensor("W2").1.clear();
    let path = root.path().join("empty_hidden.safetensors");
    empty_hidden.write(&path);
    eval_fails(&path, "shapes do not fit together");

    // A header whose declared shape does not match the bytes that follow it.
    let bytes = std::fs::read(&model).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[8..8 + n].to_vec()).unwrap();
    let lying = header.replacen("[784,7]", "[784,8]", 1);
    assert_ne!(lying, header, "{header}");
    let mut edited = bytes[..8].to_vec();
    edited.extend_from_slice(lying.as_bytes());
    edited.extend_from_slice(&bytes[8 + n..]);
    let path = root.path().join("lying_header.safetensors");
    std::fs::write(&path, edited).unwrap();
    eval_fails(&path, "not a safetensors file");
    drop(original);
}

#[test]
fn a_checkpoint_whose_metadata_lies_is_refused_on_resume() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("deep");
    interrupted_run(&run, &[&DEEP[..], &["--iters", "1000000"]].concat());
    let ckpt = run.join("checkpoint.safetensors");
    let original = Weights::read(&ckpt);
    for (i, (value, expected)) in [
        ("[1000000000]", "hidden_size_list"),
        ("[8,6,5]", "no tensor named W4"),
        ("[-1]", "hidden_size_list"),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = copy_run(&run, root.path(), &format!("case{i}"));
        let mut w = Weights {
            meta: original.meta.clone(),
            tensors: original.tensors.clone(),
        };
        w.meta.insert("hidden_size_list".into(), value.into());
        w.write(&dir.join("checkpoint.safetensors"));
        resume_fails(&dir, expected);
    }
}
