//! Hostile weight files through the real binary (issue 13, classes 2, 5, 6, 7 and eval's part of
//! 13): a model or checkpoint whose metadata lies, whose state does not fit, whose bytes were
//! changed, or whose weights are not finite must be refused with a message naming the file —
//! never a panic (exit 101), an abort (134), a huge allocation, or a silent result.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;

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
        scratchnet::checkpoint::reseal(path).unwrap();
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

// ---- class 7: restoring state checks shapes ----

/// The flags of an interrupted run with every kind of state: Adam's moments, BatchNorm's
/// running statistics, Dropout's positions and a shuffled order.
const STATEFUL: [&str; 14] = [
    "--hidden",
    "8,6",
    "--activation",
    "relu",
    "--optimizer",
    "adam",
    "--batchnorm",
    "--dropout",
    "0.2",
    "--sampling",
    "shuffled-epochs",
    "--batch-size",
    "50",
    "--seed",
];

/// An interrupted [`STATEFUL`] run in `root/stateful`.
fn stateful_run(root: &Path) -> PathBuf {
    let run = root.join("stateful");
    interrupted_run(
        &run,
        &[&STATEFUL[..], &["3", "--iters", "1000000"]].concat(),
    );
    run
}

/// Copies `run` to `root/name`, edits its checkpoint with `edit` (sealed again) and checks
/// that `train --resume` refuses it saying `expected`.
fn edited_resume_fails(
    run: &Path,
    root: &Path,
    name: &str,
    edit: impl FnOnce(&mut Weights),
    expected: &str,
) {
    let dir = copy_run(run, root, name);
    let ckpt = dir.join("checkpoint.safetensors");
    let mut w = Weights::read(&ckpt);
    edit(&mut w);
    w.write(&ckpt);
    let stderr = resume_fails(&dir, expected);
    assert!(stderr.contains("checkpoint.safetensors"), "{stderr}");
}

#[test]
fn state_that_does_not_fit_the_network_is_refused_on_resume() {
    let root = tempfile::tempdir().unwrap();
    let run = stateful_run(root.path());
    // The example: Adam's first moment of W1, transposed.
    edited_resume_fails(
        &run,
        root.path(),
        "transposed",
        |w| {
            let (shape, _) = w.tensor("optimizer/m/W1");
            shape.reverse();
        },
        "optimizer state m/W1 has shape [8, 784]",
    );
    edited_resume_fails(
        &run,
        root.path(),
        "short_order",
        |w| {
            let mut resume = w.resume();
            resume["sampler"]["order"].as_array_mut().unwrap().pop();
            w.set_resume(&resume);
        },
        "sampler order",
    );
    edited_resume_fails(
        &run,
        root.path(),
        "repeated_row",
        |w| {
            let mut resume = w.resume();
            let order = resume["sampler"]["order"].as_array_mut().unwrap();
            order[1] = order[0].clone();
            w.set_resume(&resume);
        },
        "twice",
    );
    edited_resume_fails(
        &run,
        root.path(),
        "running_mean",
        |w| {
            let (shape, values) = w.tensor("running_mean1");
            shape[0] += 1;
            values.push(0.0);
        },
        "running_mean1",
    );
    edited_resume_fails(
        &run,
        root.path(),
        "dropout",
        |w| {
            let mut resume = w.resume();
            resume["network_random"].as_array_mut().unwrap().pop();
            w.set_resume(&resume);
        },
        "random-number positions",
    );
    edited_resume_fails(
        &run,
        root.path(),
        "stray_state",
        |w| {
            let b1 = w.tensor("optimizer/m/b1").clone();
            w.tensors.insert("optimizer/h/b1".into(), b1);
        },
        "optimizer state h/b1 does not belong",
    );
}

// ---- class 2: the checkpoint must hold every piece of state, within the run ----

#[test]
fn a_checkpoint_missing_state_or_past_the_end_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let run = stateful_run(root.path());
    // The example: Adam's moments gone would restart them from zero.
    edited_resume_fails(
        &run,
        root.path(),
        "no_moments",
        |w| {
            w.tensors.retain(|name, _| !name.starts_with("optimizer/"));
        },
        "optimizer state m/W1 is missing",
    );
    edited_resume_fails(
        &run,
        root.path(),
        "no_v",
        |w| {
            w.tensors.remove("optimizer/v/gamma2");
        },
        "optimizer state v/gamma2 is missing",
    );
    // The example: an iteration past the end "finished" at once.
    edited_resume_fails(
        &run,
        root.path(),
        "past_the_end",
        |w| {
            let mut resume = w.resume();
            resume["state"]["iteration"] = 2_000_000.into();
            w.set_resume(&resume);
        },
        "iteration 2000000 is past the run's end",
    );
    edited_resume_fails(
        &run,
        root.path(),
        "short_history",
        |w| {
            let mut resume = w.resume();
            resume["state"]["history"]["train_loss_list"]
                .as_array_mut()
                .unwrap()
                .pop();
            w.set_resume(&resume);
        },
        "history holds",
    );
    edited_resume_fails(
        &run,
        root.path(),
        "no_dropout_state",
        |w| {
            let mut resume = w.resume();
            resume["network_random"] = Value::Array(vec![]);
            w.set_resume(&resume);
        },
        "random-number positions",
    );
}

// ---- class 2: the checkpoint and config.json must agree; a flipped bit is caught ----

#[test]
fn a_checkpoint_of_another_run_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let (small, large) = (root.path().join("small"), root.path().join("large"));
    let long = ["--iters", "1000000"];
    interrupted_run(&small, &[&["--hidden-size", "30"][..], &long].concat());
    interrupted_run(&large, &[&["--hidden-size", "200"][..], &long].concat());
    let config_before = std::fs::read(large.join("config.json")).unwrap();

    // The example: a 784-30-10 checkpoint in a 784-200-10 run's folder.
    let dir = copy_run(&large, root.path(), "swapped");
    std::fs::copy(
        small.join("checkpoint.safetensors"),
        dir.join("checkpoint.safetensors"),
    )
    .unwrap();
    resume_fails(&dir, "hidden_size: checkpoint 30, config.json 200");
    assert_eq!(
        std::fs::read(dir.join("config.json")).unwrap(),
        config_before
    );

    // The same, its recorded settings made to match: the network itself still does not.
    let dir = copy_run(&large, root.path(), "disguised");
    let mut w = Weights::read(&small.join("checkpoint.safetensors"));
    let large_settings =
        Weights::read(&large.join("checkpoint.safetensors")).meta["settings"].clone();
    w.meta.insert("settings".into(), large_settings);
    w.write(&dir.join("checkpoint.safetensors"));
    resume_fails(&dir, "config.json describes TwoLayerNet 784-200-10");

    // Another learning rate, the same network.
    let dir = copy_run(&large, root.path(), "other_lr");
    let ckpt = dir.join("checkpoint.safetensors");
    let mut w = Weights::read(&ckpt);
    let mut settings: Value = serde_json::from_str(&w.meta["settings"]).unwrap();
    settings["learning_rate"] = 0.5.into();
    w.meta.insert("settings".into(), settings.to_string());
    w.write(&ckpt);
    resume_fails(&dir, "learning_rate: checkpoint 0.5, config.json 0.1");
}

#[test]
fn a_flipped_bit_or_a_missing_checksum_is_caught() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("run");
    interrupted_run(&run, &["--hidden-size", "12", "--iters", "1000000"]);
    let ckpt_len = std::fs::metadata(run.join("checkpoint.safetensors"))
        .unwrap()
        .len() as usize;
    for (name, at) in [("in_weights", ckpt_len - 5), ("in_header", 200)] {
        let dir = copy_run(&run, root.path(), name);
        let ckpt = dir.join("checkpoint.safetensors");
        let mut bytes = std::fs::read(&ckpt).unwrap();
        bytes[at] ^= 0x04;
        std::fs::write(&ckpt, bytes).unwrap();
        resume_fails(&dir, "checkpoint.safetensors");
    }
    // An old checkpoint, without a checksum, is refused: its state cannot be verified.
    let dir = copy_run(&run, root.path(), "unsealed");
    let ckpt = dir.join("checkpoint.safetensors");
    let mut w = Weights::read(&ckpt);
    w.meta.remove("sha256");
    w.write_unsealed(&ckpt);
    resume_fails(&dir, "has no checksum");

    // A model file: a flipped bit is refused; without a checksum it is read, with a warning.
    let done = root.path().join("done");
    finished_run(&done, &["--hidden-size", "12"]);
    let model = done.join("model.safetensors");
    let original = std::fs::read(&model).unwrap();
    let mut bytes = original.clone();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    std::fs::write(&model, bytes).unwrap();
    eval_fails(&model, "do not match its checksum");
    std::fs::write(&model, &original).unwrap();
    let mut w = Weights::read(&model);
    w.meta.remove("sha256");
    w.write_unsealed(&model);
    let out = scratchnet(&["--quiet", "eval", "--model", model.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("has no checksum"), "{stderr}");
}

#[test]
fn flags_that_cannot_apply_to_a_resumed_run_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("nothing-here");
    for flags in [
        &["--optimizer", "adam"][..],
        &["--sampling", "shuffled-epochs"],
        &["--weight-init-std", "0.1"],
        &["--batchnorm"],
        &["--dropout", "0.3"],
    ] {
        let args = [
            &["--quiet", "train", "--resume", dir.to_str().unwrap()][..],
            flags,
        ]
        .concat();
        fails_naming(&args, "cannot be used with");
    }
}

// ---- class 5: divergence never saves non-finite weights; eval refuses them ----

/// Every value of every tensor of the weights file at `path` is a finite number.
fn all_finite(path: &Path) -> bool {
    let w = Weights::read(path);
    w.tensors
        .values()
        .all(|(_, v)| v.iter().all(|x| x.is_finite()))
}

/// A diverging `train` with `extra`: exits 1 saying so, and keeps only finite weights — or no
/// model file at all, said in the error and in report.html.
fn diverges_keeping_no_nan(root: &Path, name: &str, extra: &[&str]) {
    let out = root.join(name);
    let args = [
        &[
            "--quiet",
            "train",
            "--out",
            out.to_str().unwrap(),
            "--iters",
            "50",
        ][..],
        extra,
    ]
    .concat();
    let done = scratchnet(&args);
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("training diverged"), "{stderr}");
    let model = out.join("model.safetensors");
    if model.exists() {
        assert!(all_finite(&model), "{name}: non-finite weights saved");
        ok(&["--quiet", "eval", "--model", model.to_str().unwrap()]);
    } else {
        assert!(stderr.contains("no model.safetensors"), "{stderr}");
        let report = std::fs::read_to_string(out.join("report.html")).unwrap();
        assert!(
            report.contains("model.safetensors was not written"),
            "{name}"
        );
    }
}

#[test]
fn a_diverging_run_keeps_no_weights_that_are_not_finite() {
    let root = tempfile::tempdir().unwrap();
    // The example: every weight NaN or infinite after the first update.
    diverges_keeping_no_nan(root.path(), "sgd", &["--lr", "1e308", "--hidden-size", "8"]);
    assert!(!root.path().join("sgd/model.safetensors").exists());
    // Its report says the final weights' accuracies mean nothing, and writes the rate as 1e308.
    let report = std::fs::read_to_string(root.path().join("sgd/report.html")).unwrap();
    assert!(
        report.contains("so these accuracies mean nothing"),
        "{report}"
    );
    assert!(report.contains(">1e308<"), "{report}");
    // eval of that folder says why it holds no weights.
    let sgd = root.path().join("sgd");
    let refused = scratchnet(&["eval", "--model", sgd.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("its run ended with weights that were not finite numbers"),
        "{stderr}"
    );
    diverges_keeping_no_nan(
        root.path(),
        "deep",
        &["--hidden", "8,6", "--activation", "relu", "--lr", "1e30"],
    );
    diverges_keeping_no_nan(
        root.path(),
        "adam",
        &["--hidden-size", "8", "--optimizer", "adam", "--lr", "1e38"],
    );

    // --on-nan continue runs to the end; its NaN weights are not saved, and it says so.
    let out = root.path().join("continued");
    let args = [
        "--quiet",
        "train",
        "--out",
        out.to_str().unwrap(),
        "--iters",
        "20",
        "--hidden-size",
        "8",
        "--lr",
        "1e308",
        "--on-nan",
        "continue",
    ];
    let done = scratchnet(&args);
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{stderr}");
    assert!(
        stderr.contains("model.safetensors was not written"),
        "{stderr}"
    );
    assert!(!out.join("model.safetensors").exists());
}

#[test]
fn eval_refuses_weights_that_are_not_finite() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("run");
    finished_run(&run, &["--hidden-size", "8"]);
    for (i, (tensor, value)) in [
        ("W1", f32::NAN),
        ("b2", f32::INFINITY),
        ("W2", f32::NEG_INFINITY),
    ]
    .into_iter()
    .enumerate()
    {
        let mut w = Weights::read(&run.join("model.safetensors"));
        let values = &mut w.tensor(tensor).1;
        let at = 3 % values.len();
        values[at] = value;
        let path = root.path().join(format!("case{i}.safetensors"));
        w.write(&path);
        let stderr = eval_fails(&path, "not finite numbers");
        assert!(
            stderr.contains(&format!("the first in {tensor}")),
            "{stderr}"
        );
    }
}

// ---- class 13 (eval): a config.json beside the model must say which dataset ----

#[test]
fn eval_refuses_a_config_json_it_cannot_read_instead_of_guessing_mnist() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("run");
    finished_run(&run, &["--hidden-size", "8"]);
    let config = run.join("config.json");
    let original = std::fs::read_to_string(&config).unwrap();
    let json: Value = serde_json::from_str(&original).unwrap();
    let mut unknown = json.clone();
    unknown["dataset"] = "cifar-10".into();
    let mut none = json.clone();
    none.as_object_mut().unwrap().remove("dataset");
    for (text, expected) in [
        ("{\"dataset\": \"mnist\",".to_string(), "not JSON"),
        (unknown.to_string(), "\"cifar-10\""),
        (none.to_string(), "names no dataset"),
    ] {
        std::fs::write(&config, text).unwrap();
        for model in [run.clone(), run.join("model.safetensors")] {
            let stderr = fails_naming(
                &["--quiet", "eval", "--model", model.to_str().unwrap()],
                expected,
            );
            assert!(stderr.contains(&config.display().to_string()), "{stderr}");
        }
    }
    std::fs::write(&config, original).unwrap();
    ok(&["--quiet", "eval", "--model", run.to_str().unwrap()]);
}
