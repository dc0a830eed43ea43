//! Bad input through the real binary, one test per case: each must exit non-zero with a
//! message that names the value or file at fault — never a panic, never a silent success.

use std::path::Path;
use std::process::Command;

use crate::common;
use crate::common::*;

/// `train` with `extra` flags, writing nowhere that matters.
fn train_fails(extra: &[&str], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut args = vec!["--quiet", "train", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    fails_naming(&args, expected);
}

macro_rules! train_cases {
    ($($name:ident: [$($arg:expr),*] => $expected:expr;)*) => {
        $(#[test] fn $name() { train_fails(&[$($arg),*], $expected); })*
    };
}

train_cases! {
    batch_size_zero: ["--batch-size", "0"] => "invalid batch size 0";
    batch_size_above_the_training_set: ["--batch-size", "60001"] => "invalid batch size 60001: at most the training set size";
    hidden_size_zero: ["--hidden-size", "0"] => "hidden size 0";
    a_hidden_layer_of_width_zero: ["--hidden", "100,0"] => "invalid hidden layer size 0";
    a_network_too_large_for_memory: ["--hidden-size", "100000000"] => "at most 100,000,000 weights";
    a_deep_network_too_large_for_memory: ["--hidden", "100000,100000"] => "784-100000-100000-10";
    negative_learning_rate: ["--lr", "-0.1"] => "learning rate -0.1";
    nan_learning_rate: ["--lr", "NaN"] => "learning rate NaN";
    zero_iterations: ["--iters", "0"] => "iters_num 0";
    zero_weight_std: ["--weight-init-std", "0"] => "weight init std 0";
    unknown_dataset: ["--dataset", "cifar"] => "cifar";
    unknown_optimizer: ["--hidden", "10", "--optimizer", "lbfgs"] => "lbfgs";
    unknown_activation: ["--activation", "tanh"] => "tanh";
    unknown_initialisation: ["--hidden", "10", "--init", "glorot"] => "glorot";
    dropout_ratio_of_one: ["--hidden", "10", "--dropout", "1"] => "dropout";
    zero_threads: ["--threads", "0"] => "--threads 0";
    negative_weight_decay: ["--hidden", "10", "--weight-decay", "-1"] => "invalid weight decay -1";
    negative_weight_init_std: ["--weight-init-std", "-1"] => "invalid weight init std -1";
    a_hundred_thousand_threads: ["--threads", "100000"] => "invalid --threads 100000: expected 1 to 1024";
    an_unparsable_number: ["--iters", "ten"] => "ten";
}

fn study_fails(extra: &[&str], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--quiet",
        "study",
        "batch-size",
        "--out",
        dir.path().to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    fails_naming(&args, expected);
}

#[test]
fn a_sizes_list_that_does_not_parse() {
    study_fails(&["--sizes", "10,x,100"], "x");
}

#[test]
fn a_budget_that_does_not_parse() {
    study_fails(&["--budget", "weeks:3"], "weeks:3");
}

#[test]
fn a_shard_beyond_its_count() {
    study_fails(&["--shard", "3/2"], "3/2");
}

/// A temporary data cache holding MNIST's four files, with `corrupt` applied to one of them;
/// returns the cache's root and the corrupted file's path there.
fn corrupt_cache(file: &str, corrupt: impl Fn(&mut Vec<u8>)) -> (tempfile::TempDir, String) {
    let cache = fetched_dir("mnist");
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("mnist");
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        let mut bytes = std::fs::read(cache.join(name)).unwrap();
        if name == file {
            corrupt(&mut bytes);
        }
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let path = dir.join(file).display().to_string();
    (root, path)
}

/// `train` offline (no source to fetch a good copy from) on the data cache `root`: refused
/// because `file` does not match its pinned checksum, which is checked before the IDX reader
/// sees a byte; the file is set aside beside itself, never deleted.
fn train_on_fails(root: &tempfile::TempDir, file: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let data_dir = root.path().to_str().unwrap();
    let args = [
        "--quiet",
        "train",
        "--out",
        out.to_str().unwrap(),
        "--data-dir",
        data_dir,
    ];
    let run = common::command(&args)
        .env("SCRATCHNET_SOURCES", "from")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(
        stderr.contains(&format!(
            "{file} does not match the checksum the catalog has for it"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("set aside as {file}.rejected-")),
        "{stderr}"
    );
    assert!(
        !out.join("model.safetensors").exists(),
        "no result on bad data"
    );
}

#[test]
fn a_dataset_file_with_a_bad_magic_number() {
    // A labels file starts 00 00 08 01 (unsigned bytes, one dimension): 0x801 = 2049.
    let (root, file) = corrupt_cache("t10k-labels-idx1-ubyte", |b| b[3] = 0x99);
    train_on_fails(&root, &file);
}

#[test]
fn a_dataset_file_with_a_label_out_of_range() {
    // The labels follow an 8-byte header (magic, count): byte 8 + 17 is label 17.
    let (root, file) = corrupt_cache("train-labels-idx1-ubyte", |b| b[8 + 17] = 10);
    train_on_fails(&root, &file);
}

#[test]
fn a_dataset_file_whose_header_declares_more_images_than_it_holds() {
    // Same size as the real file, but 10001 images declared: 10001 × 784 = 7840784 pixel
    // bytes declared, 10000 × 784 = 7840000 held (the IDX reader's own check, in its unit tests,
    // would say so; the checksum refuses the file first).
    let (root, file) = corrupt_cache("t10k-images-idx3-ubyte", |b| {
        b[4..8].copy_from_slice(&10001u32.to_be_bytes())
    });
    train_on_fails(&root, &file);
}

/// `eval --model` on a file made by `write`, failing with `expected` in the message.
fn eval_fails(write: impl Fn(&Path), expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.safetensors");
    write(&model);
    fails_naming(
        &[
            "--quiet",
            "eval",
            "--model",
            model.to_str().unwrap(),
            "--out",
            dir.path().to_str().unwrap(),
        ],
        expected,
    );
}

/// A safetensors file of f32 tensors with the given shapes and scratchnet's metadata.
fn checkpoint(path: &Path, tensors: &[(&str, Vec<usize>)], metadata: Option<&str>) {
    let data: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, s)| vec![0u8; 4 * s.iter().product::<usize>()])
        .collect();
    let views: Vec<_> = tensors
        .iter()
        .zip(&data)
        .map(|((name, shape), d)| {
            (
                *name,
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), d)
                    .unwrap(),
            )
        })
        .collect();
    let meta = metadata
        .map(|m| std::collections::HashMap::from([("scratchnet".to_string(), m.to_string())]));
    std::fs::write(path, safetensors::serialize(views, meta).unwrap()).unwrap();
}

const TWO_LAYER: &str = r#"{"activation":"sigmoid","network":"TwoLayerNet"}"#;

#[test]
fn a_model_that_is_not_safetensors() {
    eval_fails(
        |p| std::fs::write(p, b"W1,b1\n0.1,0.2\n").unwrap(),
        "not a safetensors file",
    );
}

#[test]
fn a_truncated_model() {
    eval_fails(
        |p| {
            checkpoint(
                p,
                &[
                    ("W1", vec![784, 50]),
                    ("b1", vec![50]),
                    ("W2", vec![50, 10]),
                    ("b2", vec![10]),
                ],
                Some(TWO_LAYER),
            );
            let bytes = std::fs::read(p).unwrap();
            std::fs::write(p, &bytes[..bytes.len() / 2]).unwrap();
        },
        "model.safetensors",
    );
}

#[test]
fn a_model_missing_a_tensor() {
    eval_fails(
        |p| {
            checkpoint(
                p,
                &[("W1", vec![784, 50]), ("b1", vec![50]), ("b2", vec![10])],
                Some(TWO_LAYER),
            )
        },
        "no tensor named W2",
    );
}

#[test]
fn a_model_for_other_images() {
    eval_fails(
        |p| {
            checkpoint(
                p,
                &[
                    ("W1", vec![700, 50]),
                    ("b1", vec![50]),
                    ("W2", vec![50, 10]),
                    ("b2", vec![10]),
                ],
                Some(TWO_LAYER),
            )
        },
        "W1 has 700 rows but the images have 784 pixels",
    );
}

#[test]
fn a_model_whose_shapes_do_not_fit_together() {
    eval_fails(
        |p| {
            checkpoint(
                p,
                &[
                    ("W1", vec![784, 50]),
                    ("b1", vec![40]),
                    ("W2", vec![50, 10]),
                    ("b2", vec![10]),
                ],
                Some(TWO_LAYER),
            )
        },
        "shapes do not fit together",
    );
}

#[test]
fn a_model_with_another_number_of_classes() {
    eval_fails(
        |p| {
            checkpoint(
                p,
                &[
                    ("W1", vec![784, 50]),
                    ("b1", vec![50]),
                    ("W2", vec![50, 12]),
                    ("b2", vec![12]),
                ],
                Some(TWO_LAYER),
            )
        },
        "12 outputs but the dataset has 10 classes",
    );
}

#[test]
fn a_model_of_integers() {
    eval_fails(
        |p| {
            let data = vec![0u8; 8];
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::I32, vec![2], &data)
                    .unwrap();
            let meta = std::collections::HashMap::from([(
                "scratchnet".to_string(),
                TWO_LAYER.to_string(),
            )]);
            std::fs::write(
                p,
                safetensors::serialize([("W1", view)], Some(meta)).unwrap(),
            )
            .unwrap();
        },
        "dtype I32",
    );
}

#[test]
fn a_model_written_by_another_program() {
    eval_fails(
        |p| checkpoint(p, &[("weight", vec![10, 10])], None),
        "not a scratchnet checkpoint",
    );
}

#[test]
fn a_model_that_does_not_exist() {
    fails_naming(
        &["eval", "--model", "/nonexistent/model.safetensors"],
        "/nonexistent/model.safetensors: No such file or directory (os error 2)\n",
    );
}

#[test]
fn a_gradient_check_on_no_images() {
    fails_naming(
        &["gradcheck", "--samples", "0"],
        "invalid --samples 0: at least 1 training image",
    );
}

#[test]
fn resuming_a_folder_that_is_not_a_run() {
    let dir = tempfile::tempdir().unwrap();
    fails_naming(
        &["train", "--resume", dir.path().to_str().unwrap()],
        "not a scratchnet run folder",
    );
}

#[test]
fn resuming_a_run_whose_config_is_garbage() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), "{\"iters_num\": \"many\"}").unwrap();
    fails_naming(
        &["train", "--resume", dir.path().to_str().unwrap()],
        "not the config.json of a scratchnet run",
    );
}

#[test]
fn resuming_a_run_that_finished() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&[
        "--quiet",
        "train",
        "--iters",
        "3",
        "--out",
        run.to_str().unwrap(),
    ]);
    fails_naming(
        &["train", "--resume", run.to_str().unwrap()],
        "nothing to resume",
    );
}

#[test]
fn resuming_with_other_settings_given() {
    fails_naming(
        &["train", "--resume", "/tmp", "--lr", "0.5"],
        "cannot be used with",
    );
}

#[test]
fn merging_folders_that_hold_no_study() {
    let dir = tempfile::tempdir().unwrap();
    fails_naming(
        &[
            "study",
            "merge",
            dir.path().to_str().unwrap(),
            "--out",
            "/tmp/never",
        ],
        "plan.json",
    );
}

#[test]
fn training_into_a_folder_that_holds_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    ok(&["--quiet", "train", "--iters", "5", "--out", out]);
    let before = snapshot(dir.path());
    fails_naming(
        &["train", "--iters", "5", "--seed", "1", "--out", out],
        &format!("{out}: already holds a run, whose files a new one would replace"),
    );
    assert_eq!(changed_files(dir.path(), &before), Vec::<String>::new());
}

#[test]
fn training_into_a_folder_that_holds_an_interrupted_run_points_at_resume() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("run");
    interrupted_run(&dir, &["--iters", "1000000"]);
    let before = snapshot(&dir);
    let out = dir.to_str().unwrap();
    let stderr = fails_naming(
        &["train", "--iters", "5", "--out", out],
        &format!(
            "{out}: holds an interrupted run: continue it with \
             `cargo run --release -- train --resume {out}`"
        ),
    );
    assert!(!stderr.contains("already holds"), "{stderr}");
    assert_eq!(changed_files(&dir, &before), Vec::<String>::new());
}

#[test]
fn evaluating_a_folder_without_a_model_says_why_and_what_to_do() {
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().to_str().unwrap();
    fails_naming(
        &["eval", "--model", folder],
        &format!(
            "{folder}/model.safetensors: no such file; it is not the folder of a finished run"
        ),
    );
    std::fs::write(root.path().join("checkpoint.safetensors"), "").unwrap();
    fails_naming(
        &["eval", "--model", folder],
        &format!(
            "its run was interrupted before writing its final weights; finish it with \
             `cargo run --release -- train --resume {folder}`"
        ),
    );
}

/// The standard error of a failed command, run by the binary at `exe` with `args`.
fn stderr_of(exe: &Path, args: &[&str]) -> String {
    // A program copied a moment ago can be "busy" while another test's fork, made during the
    // copy, still holds the copy's file open (until that child runs its own program).
    let mut tries = 0;
    let out = loop {
        match Command::new(exe).args(args).output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            result => break result.unwrap(),
        }
    };
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn hints_name_the_command_as_it_was_invoked_through_cargo_or_installed() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::write(run.join("checkpoint.safetensors"), "").unwrap();
    let out = run.to_str().unwrap();
    let args = ["train", "--out", out];
    // The tests run target/release/scratchnet: the cargo case.
    let built = Path::new(env!("CARGO_BIN_EXE_scratchnet"));
    let hint = |program: &str| format!("continue it with `{program} train --resume {out}`");
    let stderr = stderr_of(built, &args);
    assert!(stderr.contains(&hint("cargo run --release --")), "{stderr}");
    // A copy outside any Cargo project: the installed case.
    let installed = root.path().join("bin").join("scratchnet");
    std::fs::create_dir(installed.parent().unwrap()).unwrap();
    std::fs::copy(built, &installed).unwrap();
    let stderr = stderr_of(&installed, &args);
    assert!(stderr.contains(&hint("scratchnet")), "{stderr}");
    assert!(!stderr.contains("cargo"), "{stderr}");
}

#[test]
fn a_demo_whose_output_folder_cannot_be_made_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let out = file.join("charts");
    for demo in ["chapter4", "optimizers"] {
        let args = ["demo", demo, "--out", out.to_str().unwrap()];
        fails_naming(&args, "a-file/charts: Not a directory");
        let printed = scratchnet(&args).stdout;
        assert!(printed.is_empty(), "{demo} printed before failing");
    }
}
