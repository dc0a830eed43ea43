//! `scratchnet predict`: drawings as PNG files made MNIST inputs, answered by a saved network
//! of any kind; the `--json` value the server returns; bad files refused by name.

use crate::common::*;

use ndarray::{Array2, ArrayView1};
use scratchnet::data::{self, Dataset, DatasetKind, FetchOptions};
use scratchnet::predict::{self, Prediction};
use scratchnet::progress::Silent;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// MNIST, loaded once for the tests here.
fn mnist() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| {
        data::load(DatasetKind::Mnist, &FetchOptions::default(), &Silent)
            .unwrap_or_else(|e| panic!("fetching or loading MNIST failed:\n{e}"))
    })
}

/// Test digits 0..n, dense (n, 784).
fn test_digits(n: usize) -> Array2<f32> {
    mnist().x_test.select_dense(&(0..n).collect::<Vec<_>>())
}

/// A folder holding a TwoLayerNet trained for 100 updates (about 0.8 test accuracy): trained
/// once for every test here.
fn trained_run() -> &'static Path {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, run) = RUN.get_or_init(|| {
        let root = tempfile::tempdir().unwrap();
        let run = root.path().join("run");
        let out = run.to_str().unwrap();
        ok(&[
            "--quiet", "train", "--iters", "100", "--lr", "0.5", "--out", out,
        ]);
        (root, run)
    });
    run
}

/// A 28 × 28 MNIST digit drawn as a user would: dark strokes on white, each pixel made a
/// `scale` × `scale` block (8-bit greyscale PNG).
fn drawn_digit(digit: ArrayView1<f32>, scale: usize) -> Vec<u8> {
    let side = 28 * scale;
    let pixels: Vec<u8> = (0..side * side)
        .map(|i| {
            let (y, x) = (i / side / scale, i % side / scale);
            255 - (digit[y * 28 + x] * 255.0).round() as u8
        })
        .collect();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

/// Writes `bytes` to `dir/name` and returns the path as text.
fn file(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn mnist_digits_are_nearly_unchanged_by_the_procedure() {
    let digits = test_digits(1000);
    let (mut total, mut worst, mut exact) = (0.0f64, 0.0f32, 0);
    for digit in digits.outer_iter() {
        let again = predict::mnist_style(digit.into_shape_with_order((28, 28)).unwrap()).unwrap();
        let diff: f32 = (&again - &digit).mapv(f32::abs).mean().unwrap();
        total += f64::from(diff);
        worst = worst.max(diff);
        exact += usize::from(diff < 0.5 / 255.0);
    }
    let mean = total / 1000.0;
    // MNIST's digits are already in this form: box 20, centre of mass within half a pixel of
    // (14, 14), darkest pixel 254 or 255. What changes is the stretch of the darkest pixel to
    // 1 (at most 1/255) and, for the few digits whose edge row or column holds only ink below
    // INK_THRESHOLD, a box cropped a pixel smaller and scaled up. Measured on test digits
    // 0..1000: mean |difference| 0.00054, 994 digits within half a level (mean), the worst
    // digit's mean 0.11.
    assert!(mean < 0.002, "mean |difference| {mean}");
    assert!(exact >= 990, "{exact} of 1000 unchanged");
    assert!(worst < 0.2, "worst digit's mean |difference| {worst}");
}

#[test]
fn predict_gives_the_label_the_model_gives_on_the_mnist_digit() {
    let run = trained_run();
    let dir = tempfile::tempdir().unwrap();
    let digits = test_digits(10);
    let images: Vec<String> = digits
        .outer_iter()
        .enumerate()
        .map(|(i, digit)| file(dir.path(), &format!("digit{i}.png"), &drawn_digit(digit, 4)))
        .collect();
    let model = run.join("model.safetensors");
    let (net, _) = scratchnet::eval::load_model(&model).unwrap();
    let eval_labels = net.predict_labels(&digits);
    let mut args = vec!["predict", "--model", run.to_str().unwrap()];
    args.extend(images.iter().map(String::as_str));
    let text = ok(&args);
    let said: Vec<usize> = text
        .lines()
        .filter(|l| l.starts_with(dir.path().to_str().unwrap()))
        .map(|l| word_after(l, ": ").parse().unwrap())
        .collect();
    assert_eq!(said, eval_labels, "{text}");
    assert!(text.contains("probability"), "{text}");
}

/// Runs `predict --json` on `images` and parses each line.
fn predict_json(model: &Path, images: &[&str]) -> Vec<(String, Prediction)> {
    let mut args = vec!["predict", "--json", "--model", model.to_str().unwrap()];
    args.extend(images);
    ok(&args)
        .lines()
        .map(|line| {
            let parsed = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            (line.to_string(), parsed)
        })
        .collect()
}

/// Checks a prediction's shape against the HTTP contract's `/api/predict` response.
fn assert_contract_shape(line: &str, p: &Prediction) {
    let json: serde_json::Value = serde_json::from_str(line).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
    for key in ["input", "probs", "predicted", "classes", "layers"] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    assert_eq!(p.input.len(), 784);
    assert!(p.input.iter().all(|v| (0.0..=1.0).contains(v)));
    assert_eq!(p.probs.len(), 10);
    let sum: f32 = p.probs.iter().sum();
    assert!((sum - 1.0).abs() < 1e-5, "probabilities sum to {sum}");
    let best = (0..10)
        .max_by(|&a, &b| p.probs[a].total_cmp(&p.probs[b]))
        .unwrap();
    assert_eq!(p.predicted, best);
    for layer in &p.layers {
        assert_eq!(
            layer.values.len(),
            layer.shape.iter().product::<usize>(),
            "{}",
            layer.name
        );
    }
}

#[test]
fn json_is_the_servers_value_for_the_same_png() {
    let run = trained_run();
    let dir = tempfile::tempdir().unwrap();
    let bytes = drawn_digit(test_digits(1).row(0), 3);
    let image = file(dir.path(), "seven.png", &bytes);
    let lines = predict_json(run, &[&image]);
    assert_eq!(lines.len(), 1);
    let (line, p) = &lines[0];
    assert_contract_shape(line, p);
    assert_eq!(
        p.classes,
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
    let layers: Vec<_> = p
        .layers
        .iter()
        .map(|l| (l.name.as_str(), l.shape.clone()))
        .collect();
    assert_eq!(layers, [("hidden 1 (sigmoid)", vec![50])]);
    // What the server computes from the same bytes, serialised: the same text.
    let model = predict::Model::load(&run.join("model.safetensors")).unwrap();
    let served = model.predict_png(&bytes, "the drawing").unwrap();
    assert_eq!(serde_json::to_string(&served).unwrap(), *line);
    assert_eq!(p.predicted, 7, "test digit 0 is a 7");
}

#[test]
fn a_conv_net_shows_its_maps_and_a_batchnorm_mlp_its_hidden_layers() {
    let root = tempfile::tempdir().unwrap();
    let conv = root.path().join("conv");
    let mlp = root.path().join("mlp");
    let common = ["--quiet", "train", "--iters", "20", "--batch-size", "50"];
    ok(&[
        &common[..],
        &["--net", "conv:4x5,pool:2,fc:20", "--eval-samples", "1000"],
        &["--out", conv.to_str().unwrap()],
    ]
    .concat());
    ok(&[
        &common[..],
        &["--hidden", "30,20", "--batchnorm", "--dropout", "0.2"],
        &["--out", mlp.to_str().unwrap()],
    ]
    .concat());
    let image = file(root.path(), "d.png", &drawn_digit(test_digits(3).row(2), 2));
    let (line, p) = &predict_json(&conv, &[&image])[0];
    assert_contract_shape(line, p);
    let layers: Vec<_> = p
        .layers
        .iter()
        .map(|l| (l.name.as_str(), l.shape.clone()))
        .collect();
    assert_eq!(
        layers,
        [
            ("Conv1", vec![4, 24, 24]),
            ("Relu1", vec![4, 24, 24]),
            ("Pool1", vec![4, 12, 12]),
            ("hidden 1 (relu)", vec![20])
        ]
    );
    let (line, p) = &predict_json(&mlp.join("model.safetensors"), &[&image])[0];
    assert_contract_shape(line, p);
    let names: Vec<_> = p.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["hidden 1 (sigmoid)", "hidden 2 (sigmoid)"]);
    // Inside them, over 1000 test images: what /api/runs/<id>/inside returns.
    let (net, _) = scratchnet::eval::load_model(&conv.join("model.safetensors")).unwrap();
    let inside = predict::inside_of_test_set(net.as_ref(), mnist(), predict::inside::IMAGES);
    assert_eq!(inside.images, 1000);
    let counted: Vec<_> = inside
        .histograms
        .iter()
        .map(|h| (h.layer.as_str(), h.counts.iter().sum::<u64>() / 1000))
        .collect();
    assert_eq!(counted, [("Relu1", 4 * 24 * 24), ("hidden 1 (relu)", 20)]);
    let json = serde_json::to_value(&inside).unwrap();
    assert_eq!(json["first_layer"]["kind"], "conv");
    assert_eq!(json["histograms"][0]["edges"].as_array().unwrap().len(), 31);
    let (net, _) = scratchnet::eval::load_model(&mlp.join("model.safetensors")).unwrap();
    let inside = predict::inside_of_test_set(net.as_ref(), mnist(), 1000);
    let json = serde_json::to_value(&inside).unwrap();
    assert_eq!(json["first_layer"]["kind"], "dense");
    assert_eq!(json["first_layer"]["units"], 30);
    assert_eq!(json["histograms"][1]["layer"], "hidden 2 (sigmoid)");
    assert_eq!(json["histograms"][1]["edges"][30], 1.0);
    let total: u64 = inside.histograms[1].counts.iter().sum();
    assert_eq!(total, 1000 * 20);
}

#[test]
fn save_input_writes_the_28_by_28_input_and_never_over_a_file() {
    let run = trained_run();
    let dir = tempfile::tempdir().unwrap();
    let image = file(
        dir.path(),
        "two.png",
        &drawn_digit(test_digits(2).row(1), 5),
    );
    let inputs = dir.path().join("inputs");
    let args = [
        "predict",
        "--model",
        run.to_str().unwrap(),
        "--save-input",
        inputs.to_str().unwrap(),
        &image,
    ];
    let text = ok(&args);
    let saved = inputs.join("two.input.png");
    assert!(text.contains(saved.to_str().unwrap()), "{text}");
    let back = predict::ink_from_png(&std::fs::read(&saved).unwrap()).unwrap();
    let input = predict::from_png(&std::fs::read(&image).unwrap()).unwrap();
    let back = back.into_shape_with_order(784).unwrap();
    assert!((&back - &input)
        .iter()
        .all(|d| d.abs() <= 0.5 / 255.0 + 1e-6));
    let before = std::fs::read(&saved).unwrap();
    fails_naming(&args, "two.input.png: already exists");
    assert_eq!(std::fs::read(&saved).unwrap(), before);
}

#[test]
fn bad_images_and_models_end_with_exit_1_naming_the_file() {
    let run = trained_run();
    let model = run.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = drawn_digit(test_digits(1).row(0), 1);
    let blank = drawn_digit(ndarray::Array1::zeros(784).view(), 2);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "notes.png",
            b"not an image".to_vec(),
            "notes.png: not a PNG image",
        ),
        (
            "cut.png",
            good[..good.len() - 30].to_vec(),
            "cut.png: a damaged or truncated PNG",
        ),
        ("blank.png", blank, "no ink in "),
        (
            "huge.png",
            huge_png(),
            "huge.png: 4097 × 1 pixels, larger than",
        ),
    ];
    for (name, bytes, expected) in cases {
        let image = file(dir.path(), name, &bytes);
        let args = ["predict", "--model", model, &image];
        let stderr = fails_naming(&args, expected);
        assert!(stderr.contains(name), "{stderr}");
        assert_eq!(scratchnet(&args).status.code(), Some(1));
    }
    let missing = dir.path().join("missing.png");
    fails_naming(
        &["predict", "--model", model, missing.to_str().unwrap()],
        "missing.png",
    );
    let empty = tempfile::tempdir().unwrap();
    fails_naming(
        &[
            "predict",
            "--model",
            empty.path().to_str().unwrap(),
            "x.png",
        ],
        "model.safetensors: no such file",
    );
}

/// A 4097 × 1 white PNG: one pixel wider than accepted.
fn huge_png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 4097, 1);
    encoder.set_color(png::ColorType::Grayscale);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[255; 4097]).unwrap();
    writer.finish().unwrap();
    out
}

#[test]
fn a_fashion_model_names_its_classes() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("fashion");
    let out = run.to_str().unwrap();
    ok(&[
        "--quiet",
        "train",
        "--dataset",
        "fashion-mnist",
        "--iters",
        "20",
        "--out",
        out,
    ]);
    let image = file(root.path(), "d.png", &drawn_digit(test_digits(1).row(0), 2));
    let (line, p) = &predict_json(&run, &[&image])[0];
    assert_contract_shape(line, p);
    assert_eq!(p.classes[0], "T-shirt/top");
    assert_eq!(p.classes[9], "Ankle boot");
    let text = ok(&["predict", "--model", out, &image]);
    let said = format!(
        "d.png: {} {} (probability",
        p.predicted, p.classes[p.predicted]
    );
    assert!(text.contains(&said), "{said:?} in {text}");
    assert!(text.contains("9 Ankle boot "), "{text}");
}
