//! Whole-command tests of `scratchnet train`, `gradcheck` and `eval` on real MNIST.

use crate::common;
use crate::common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

fn train(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["--quiet", "train", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    ok(&args)
}

/// `scratchnet --quiet eval --model model`, its charts written beside the model; its output.
fn eval_beside(model: &Path) -> String {
    let dir = model.parent().unwrap();
    ok(&[
        "--quiet",
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ])
}

/// (train_acc, test_acc) of every row of epochs.csv.
fn accuracies(dir: &Path) -> Vec<(f64, f64)> {
    let csv = std::fs::read_to_string(dir.join("epochs.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("epoch,iteration,samples_seen,train_acc,test_acc,elapsed_s,train_s")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[3].parse().unwrap(), f[4].parse().unwrap())
        })
        .collect()
}

/// The mini-batch loss of every iteration, from iters.csv (whose rows must be 0, 1, 2, …).
fn losses(dir: &Path) -> Vec<f64> {
    let csv = std::fs::read_to_string(dir.join("iters.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("iteration,loss"));
    lines
        .enumerate()
        .map(|(i, l)| {
            let (iteration, loss) = l.split_once(',').unwrap();
            assert_eq!(iteration, i.to_string());
            loss.parse().unwrap()
        })
        .collect()
}

/// The mean of `values`.
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The number that follows `label` in `text` (up to the next space, comma or bracket).
fn number_after(text: &str, label: &str) -> f64 {
    let rest = &text[text
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in {text}"))
        + label.len()..];
    let end = rest.find([' ', ',', '(', '\n']).unwrap_or(rest.len());
    rest[..end]
        .parse()
        .unwrap_or_else(|_| panic!("{label:?} is followed by {:?}", &rest[..end]))
}

/// The accuracies `train` prints for its final weights: (train, test).
fn printed_final(stdout: &str) -> (f64, f64) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("final weights: "))
        .unwrap_or_else(|| panic!("no final weights line in {stdout}"));
    (
        number_after(line, "train acc "),
        number_after(line, ", test acc "),
    )
}

/// The accuracies of the report's "Final weights" sentence: (train, test).
fn reported_final(dir: &Path) -> (f64, f64) {
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let sentence = &html[html.find("Final weights: ").expect("the sentence")..];
    (
        number_after(sentence, "train accuracy "),
        number_after(sentence, "test accuracy "),
    )
}

#[test]
fn the_users_run_reaches_the_books_accuracy_for_two_seeds() {
    for seed in ["1", "2"] {
        let dir = tempfile::tempdir().unwrap();
        let stdout = train(dir.path(), &["--seed", seed]);
        let acc = accuracies(dir.path());
        assert_eq!(
            acc.len(),
            17,
            "10000 iterations of 600 per epoch give 17 marks"
        );
        let (first_train, first_test) = acc[0];
        assert!(
            first_train < 0.2 && first_test < 0.2,
            "epoch 0 is near chance: {:?}",
            acc[0]
        );
        let (train_acc, test_acc) = *acc.last().unwrap();
        assert!(
            (0.93..=0.96).contains(&test_acc),
            "seed {seed}: test acc {test_acc}"
        );
        assert!(
            (train_acc - test_acc).abs() <= 0.01,
            "seed {seed}: {train_acc} vs {test_acc}"
        );
        assert!(stdout.contains("final weights: train acc"), "{stdout}");
        for file in [
            "config.json",
            "iters.csv",
            "model.safetensors",
            "loss.svg",
            "loss.png",
            "accuracy.svg",
            "accuracy.png",
            "report.html",
        ] {
            assert!(dir.path().join(file).is_file(), "{file} missing");
        }
        let iters = std::fs::read_to_string(dir.path().join("iters.csv")).unwrap();
        assert_eq!(iters.lines().count(), 10_001);
    }
}

#[test]
fn the_users_run_starts_at_chance_loss_learns_and_reports_its_saved_weights() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = train(dir.path(), &[]); // the users' run: seed 0, weight std 0.01
    let losses = losses(dir.path());
    assert_eq!(losses.len(), 10_000);
    // With W ~ N(0, 0.01²) every hidden pre-activation is x·w with std 0.01·|x| ≈ 0.1, so the
    // sigmoid gives ≈ 0.5 ± 0.025 for every image, and the 10 scores are nearly the same
    // vector for all of them, each of std 0.01·√(50·0.25) ≈ 0.035. The batch's cross-entropy
    // is then ln 10 − Σ_k (f_k − 0.1)(a_k − ā) + ½·var(a), f_k the batch's class
    // frequencies (± 0.03 for 100 images): ≈ ±√10·0.03·0.035 ≈ ±0.0033, plus 0.0006.
    // 0.02 is six such deviations; a std of 0.1 instead already puts the loss ≈ 0.05 off.
    for (i, loss) in losses[..10].iter().enumerate() {
        assert!(
            (loss - std::f64::consts::LN_10).abs() < 0.02,
            "iteration {i}: loss {loss}, expected ln 10 = 2.3026 ± 0.02"
        );
    }
    // 600 iterations per epoch: epoch 5 begins at iteration 3000.
    let epoch = |e: usize| mean(&losses[e * 600..(e + 1) * 600]);
    assert!(
        epoch(4) < 0.5,
        "mean loss of iterations 2400-2999: {}",
        epoch(4)
    );
    assert!(
        epoch(15) < epoch(4) - 0.05,
        "the loss keeps falling: epoch 4 {}, epoch 15 {}",
        epoch(4),
        epoch(15)
    );
    let acc = accuracies(dir.path());
    assert!(acc[0].1 < 0.2 && acc[1].1 > 0.7, "{acc:?}");

    // The report's sentence, the printed summary and the saved weights tell the same accuracies.
    let printed = printed_final(&stdout);
    assert_eq!(reported_final(dir.path()), printed, "report vs {stdout}");
    assert!(std::fs::read_to_string(dir.path().join("report.html"))
        .unwrap()
        .contains("after 10000 iterations of batch 100"));
    let model = dir.path().join("model.safetensors");
    let eval = eval_beside(&model);
    assert_eq!(number_after(&eval, "test accuracy "), printed.1, "{eval}");
    let mnist = scratchnet::data::load(
        scratchnet::data::DatasetKind::Mnist,
        &scratchnet::data::FetchOptions::default(),
        &scratchnet::progress::Silent,
    )
    .unwrap();
    let net = scratchnet::checkpoint::Checkpoint::load(&model)
        .unwrap()
        .network::<f32>()
        .unwrap();
    let train_acc =
        scratchnet::eval::evaluate(net.as_ref(), &mnist.x_train, &mnist.t_train, 10).accuracy;
    assert_eq!(format!("{train_acc:.4}"), format!("{:.4}", printed.0));

    check_training_charts(dir.path(), &stdout, &losses, &acc);
    check_eval_charts(dir.path(), &eval);
}

/// loss.svg/png and accuracy.svg/png of a run whose iters.csv and epochs.csv hold `losses`
/// and `acc`: the curves are drawn, with their points, and go the way the numbers go.
fn check_training_charts(dir: &Path, stdout: &str, losses: &[f64], acc: &[(f64, f64)]) {
    // The raw loss in light blue (#78A0DC), at most 5000 points, over the moving average.
    let loss_svg = svg(&dir.join("loss.svg"), (800, 500));
    let raw = polylines(&loss_svg, "#78A0DC");
    let curve = raw.iter().max_by_key(|p| p.len()).unwrap();
    let step = losses.len().div_ceil(5000);
    let drawn: Vec<(f64, f64)> = losses
        .iter()
        .enumerate()
        .step_by(step)
        .map(|(i, &l)| (i as f64, l))
        .collect();
    assert_plotted(curve, &drawn);
    let tail: Vec<f64> = curve[curve.len() * 9 / 10..].iter().map(|p| p.1).collect();
    assert!(
        mean(&tail) > curve[0].1 + 200.0,
        "the drawn loss falls (SVG y grows downwards): starts at y {}, ends near {}",
        curve[0].1,
        mean(&tail)
    );
    assert!(polylines(&loss_svg, "#000000")
        .iter()
        .any(|p| p.len() == curve.len()));
    assert!(svg_texts(&loss_svg)
        .iter()
        .any(|t| *t == format!("moving average over {}", losses.len() / 100)));
    let loss_png = png(&dir.join("loss.png"), (800, 500));
    let blue = pixels_of(&loss_png, [120, 160, 220]);
    assert!(blue > 2000, "{blue} pixels of the loss curve's colour");

    // Train accuracy solid blue, test accuracy dashed red, one point per epoch mark.
    let acc_svg = svg(&dir.join("accuracy.svg"), (800, 500));
    let train = polylines(&acc_svg, "#0000FF");
    let line = train
        .iter()
        .find(|p| p.len() == acc.len() + 1)
        .unwrap_or_else(|| panic!("no train line of {} points: {train:?}", acc.len() + 1));
    // One point per epoch mark, then the final weights' after 10000 / 600 epochs.
    let final_acc = printed_final(stdout);
    let mut train_acc: Vec<(f64, f64)> = acc
        .iter()
        .enumerate()
        .map(|(e, a)| (e as f64, a.0))
        .collect();
    train_acc.push((10000.0 / 600.0, final_acc.0));
    assert_plotted(line, &train_acc);
    let rise = line[0].1 - line[line.len() - 1].1;
    assert!(rise > 250.0, "train accuracy 0.1 → 0.94 rises {rise} px");
    assert!(
        polylines(&acc_svg, "#FF0000").len() > 10,
        "test accuracy dashed"
    );
    let acc_png = png(&dir.join("accuracy.png"), (800, 500));
    let (blue, red) = (
        pixels_of(&acc_png, [0, 0, 255]),
        pixels_of(&acc_png, [255, 0, 0]),
    );
    // The train line spans about nine tenths of the width (room is left for the final values),
    // partly under the dashed test line.
    assert!(blue > 800 && red > 500, "blue {blue}, red {red} pixels");
}

/// confusion.svg/png and misclassified.svg/png written by `eval`, whose output was `eval`.
fn check_eval_charts(dir: &Path, eval: &str) {
    // The printed table: the counts the chart must shade.
    let counts: Vec<Vec<u64>> = eval
        .lines()
        .skip(2)
        .take(10)
        .map(|l| {
            let row = l.split_once('|').unwrap().1;
            row.split_whitespace().map(|c| c.parse().unwrap()).collect()
        })
        .collect();
    assert_eq!(counts.iter().flatten().sum::<u64>(), 10_000);
    confusion_chart(
        &dir.join("confusion.svg"),
        &dir.join("confusion.png"),
        &counts,
    );

    // The misclassified grid: its title, then "true → predicted" under each of 60 images.
    let misclassified = number_after(eval, "(") as usize;
    let shown = misclassified.min(60);
    let grid = svg(
        &dir.join("misclassified.svg"),
        (820, shown.div_ceil(10) as u32 * 82 + 60),
    );
    // The 60 images are one embedded PNG: the file stays small (it was 4 MB of rectangles).
    let bytes = std::fs::metadata(dir.join("misclassified.svg"))
        .unwrap()
        .len();
    assert!(bytes < 200_000, "misclassified.svg is {bytes} bytes");
    let (_, pixels) = svg_image(&grid);
    let dark = pixels
        .pixels()
        .filter(|p| p.0[3] == 255 && p.0[0] < 64)
        .count();
    assert!(
        dark > shown * 100,
        "{dark} dark pixels for {shown} digits in the SVG"
    );
    let captions = svg_texts(&grid);
    assert_eq!(captions.len(), 1 + shown, "{captions:?}");
    for caption in &captions[1..] {
        let (truth, guess) = caption.split_once(" → ").unwrap();
        assert_ne!(truth, guess, "{caption}");
    }
    let image = png(
        &dir.join("misclassified.png"),
        (820, shown.div_ceil(10) as u32 * 82 + 60),
    );
    let ink = image
        .pixels()
        .filter(|p| p.0.iter().all(|&c| c < 64))
        .count();
    assert!(ink > shown * 100, "{ink} dark pixels for {shown} digits");
}

#[test]
fn the_same_seed_gives_identical_metrics_and_weights_whatever_the_threads() {
    let runs: Vec<tempfile::TempDir> = ["1", "2", "2"]
        .iter()
        .map(|threads| {
            let dir = tempfile::tempdir().unwrap();
            train(
                dir.path(),
                &["--seed", "7", "--iters", "1300", "--threads", threads],
            );
            dir
        })
        .collect();
    let weights =
        |d: &tempfile::TempDir| std::fs::read(d.path().join("model.safetensors")).unwrap();
    let iters =
        |d: &tempfile::TempDir| std::fs::read_to_string(d.path().join("iters.csv")).unwrap();
    assert_eq!(accuracies(runs[0].path()).len(), 3);
    for other in &runs[1..] {
        assert_eq!(accuracies(runs[0].path()), accuracies(other.path()));
        assert_eq!(iters(&runs[0]), iters(other));
        assert_eq!(weights(&runs[0]), weights(other));
    }
    let dir = tempfile::tempdir().unwrap();
    train(dir.path(), &["--seed", "8", "--iters", "1300"]);
    assert_ne!(
        weights(&runs[0]),
        std::fs::read(dir.path().join("model.safetensors")).unwrap()
    );
}

#[test]
fn the_report_holds_both_charts_and_the_table_and_nothing_external() {
    let dir = tempfile::tempdir().unwrap();
    // 601 iterations: the last one is the epoch mark at iteration 600, so the final weights are
    // the ones that mark measured.
    let stdout = train(dir.path(), &["--iters", "601"]);
    let marks = accuracies(dir.path());
    assert_eq!(marks.len(), 2);
    let printed = printed_final(&stdout);
    let reported = reported_final(dir.path());
    assert_eq!(reported, printed, "{stdout}");
    let four = |(train, test): (f64, f64)| format!("{train:.4} {test:.4}");
    assert_eq!(four(reported), four(marks[1]), "report vs epochs.csv");
    assert!(
        reported.1 > 0.7,
        "one epoch of the users' run: {reported:?}"
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2, "two inline charts");
    assert!(html.contains("<th>train acc</th>") && html.contains("<td>600</td>"));
    let final_row = format!(
        "<tr><td>final weights</td><td>600</td><td>{:.4}</td><td>{:.4}</td>",
        printed.0, printed.1
    );
    assert!(html.contains(&final_row), "no {final_row} in {html}");
    for external in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "@import",
        "<script src",
        "<link ",
    ] {
        assert!(
            !html.contains(external),
            "report references an external resource: {external}"
        );
    }
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["iters_num"], 601);
    assert_eq!(config["batch_size"], 100);
    assert_eq!(config["learning_rate"], 0.1);
    assert_eq!(config["activation"], "sigmoid");
    assert_eq!(config["scratchnet_version"], env!("CARGO_PKG_VERSION"));
}

/// The mean differences `gradcheck` printed, by parameter, in order.
fn gradcheck_diffs(stdout: &str) -> Vec<(String, f64)> {
    ["W1", "b1", "W2", "b2"]
        .iter()
        .map(|name| {
            let line = stdout
                .lines()
                .find(|l| l.starts_with(&format!("{name}: ")))
                .unwrap_or_else(|| panic!("no {name} line in {stdout}"));
            (name.to_string(), line[name.len() + 2..].parse().unwrap())
        })
        .collect()
}

#[test]
fn gradcheck_agrees_to_the_books_precision() {
    let stdout = ok(&["--quiet", "gradcheck"]);
    for (name, diff) in gradcheck_diffs(&stdout) {
        assert!(diff < 1e-9, "{name}: {diff}");
    }
    assert!(stdout.contains("ok: every difference is below 1e-7"));
}

#[test]
fn gradcheck_fails_on_the_first_parameter_above_the_tolerance_asked_for() {
    let diffs = gradcheck_diffs(&ok(&["--quiet", "gradcheck"]));
    let check = |tolerance: &str| {
        let args = ["--quiet", "gradcheck", "--tolerance", tolerance];
        let out = scratchnet(&args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (
            out.status.code(),
            stderr,
            String::from_utf8(out.stdout).unwrap(),
        )
    };
    // Nothing is that close: the first parameter, W1, fails, and the differences still print.
    let (code, stderr, stdout) = check("1e-20");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "gradient check failed: W1 differs by {:e}, more than 1e-20",
            diffs[0].1
        )),
        "{stderr}"
    );
    assert_eq!(gradcheck_diffs(&stdout), diffs);
    assert!(!stdout.contains("ok:"), "{stdout}");

    // Between the two largest differences: only the largest fails.
    let mut sorted = diffs.clone();
    sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (second, largest) = (&sorted[2], &sorted[3]);
    assert!(second.1 < largest.1, "{sorted:?}");
    let between = format!("{:e}", (second.1 * largest.1).sqrt());
    let (code, stderr, _) = check(&between);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("gradient check failed: {} differs by", largest.0)),
        "{between}: {stderr}"
    );
    // A difference equal to the tolerance passes (it is printed so that it reads back exactly).
    let (code, stderr, stdout) = check(&format!("{:e}", largest.1));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(&format!("ok: every difference is below {:e}", largest.1)));

    for bad in ["-0.5", "NaN", "inf"] {
        fails_naming(
            &["gradcheck", "--tolerance", bad],
            &format!("invalid --tolerance {bad}"),
        );
    }
}

#[test]
fn train_without_out_writes_its_run_under_runs_named_for_the_utc_second() {
    let cwd = tempfile::tempdir().unwrap();
    let args = ["--quiet", "train", "--iters", "5"];
    let before = std::time::SystemTime::now();
    let stdout = succeeded(
        &args,
        command(&args).current_dir(cwd.path()).output().unwrap(),
    );
    let after = std::time::SystemTime::now();
    let runs: Vec<String> = std::fs::read_dir(cwd.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let name = &runs[0];
    // RFC 3339 in UTC to the second, with '-' for the ':' some filesystems refuse:
    // 2026-11-29T11-40-00Z.
    assert!(
        name.len() == 20 && name.ends_with('Z') && !name.contains(':'),
        "{name}"
    );
    let (date, time) = name.split_once('T').unwrap();
    let stamp = format!("{date}T{}", time.replace('-', ":"));
    let started = humantime::parse_rfc3339(&stamp).unwrap_or_else(|e| panic!("{name}: {e}"));
    let second = std::time::Duration::from_secs(1);
    assert!(
        before - second <= started && started <= after,
        "{name} is not between {} and {}",
        humantime::format_rfc3339_seconds(before),
        humantime::format_rfc3339_seconds(after)
    );
    let dir = format!("runs/{name}");
    assert!(stdout.contains(&format!("wrote {dir} (")), "{stdout}");
    let run = cwd.path().join(&dir);
    for file in [
        "config.json",
        "iters.csv",
        "epochs.csv",
        "model.safetensors",
        "report.html",
    ] {
        assert!(run.join(file).is_file(), "{file} missing from {dir}");
    }
    assert_eq!(losses(&run).len(), 5);
}

#[test]
fn eval_says_when_the_dataset_is_not_the_one_the_model_was_trained_on() {
    let dir = tempfile::tempdir().unwrap();
    train(dir.path(), &["--iters", "600"]);
    let model = dir.path().join("model.safetensors");
    let model = model.to_str().unwrap();
    let eval = |dataset: &[&str]| {
        let mut args = vec![
            "eval",
            "--model",
            model,
            "--out",
            dir.path().to_str().unwrap(),
        ];
        args.extend_from_slice(dataset);
        let out = scratchnet(&args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (succeeded(&args, out), stderr)
    };
    let (stdout, stderr) = eval(&["--dataset", "fashion-mnist"]);
    assert!(
        stderr.contains(&format!(
            "note: {model} was trained on mnist (its config.json says so); \
             evaluating on fashion-mnist as asked"
        )),
        "{stderr}"
    );
    // It did evaluate on Fashion-MNIST: the table names its classes.
    assert!(stdout.contains("0 T-shirt/top |"), "{stdout}");
    for same in [&[][..], &["--dataset", "mnist"][..]] {
        let (stdout, stderr) = eval(same);
        assert!(!stderr.contains("note:"), "{same:?}: {stderr}");
        assert!(!stdout.contains("T-shirt"), "{same:?}: {stdout}");
        assert!(number_after(&stdout, "test accuracy ") > 0.7, "{stdout}");
    }
    // The run's folder stands for its model.
    let folder = dir.path().to_str().unwrap();
    let by_folder = ok(&["--quiet", "eval", "--model", folder, "--out", folder]);
    assert_eq!(by_folder, eval(&[]).0);
}

#[test]
fn training_by_numerical_gradients_estimates_its_time_and_learns() {
    // A 784-3-10 net, 5 images a batch: 2395 parameters, two forward passes each per update.
    let flags = [
        "--hidden-size",
        "3",
        "--batch-size",
        "5",
        "--iters",
        "1000",
        "--lr",
        "1",
    ];
    let root = tempfile::tempdir().unwrap();
    let run = |gradient: &str| {
        let dir = root.path().join(gradient);
        let mut args = vec![
            "train",
            "--out",
            dir.to_str().unwrap(),
            "--gradient",
            gradient,
        ];
        args.extend_from_slice(&flags);
        (ok(&args), losses(&dir), accuracies(&dir))
    };
    let (out, numerical, marks) = run("numerical");
    assert!(
        out.contains("numerical gradients: one iteration takes")
            && out.contains("so 1000 iterations will take about"),
        "{out}"
    );
    assert_eq!(
        marks.len(),
        1,
        "12000 iterations per epoch: only the first mark"
    );
    assert!(marks[0].1 < 0.2, "epoch 0 is near chance: {marks:?}");
    let (train_acc, test_acc) = printed_final(&out);
    assert!(
        train_acc > 0.3 && test_acc > 0.3,
        "chance is 0.1; 1000 numerical updates reach about 0.45: {out}"
    );
    assert!(
        mean(&numerical[900..]) < mean(&numerical[..50]) - 0.5,
        "loss falls: first 50 {}, last 100 {}",
        mean(&numerical[..50]),
        mean(&numerical[900..])
    );
    // The same seed draws the same batches: while the weights stay close, so do the losses.
    // f32 central differences with h = 1e-4 are off by about ε·loss/h ≈ 3e-3 per element.
    let (_, backprop, _) = run("backprop");
    for i in 0..50 {
        assert!(
            (numerical[i] - backprop[i]).abs() < 0.02,
            "iteration {i}: numerical {} vs backprop {}",
            numerical[i],
            backprop[i]
        );
    }
}

/// A Python virtual environment with safetensors and NumPy, made once under target/.
fn python_with_safetensors() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-venv");
    let python = venv.join("bin/python");
    let ready = |p: &Path| {
        Command::new(p)
            .args(["-c", "import safetensors, numpy"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready(&python) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 runs");
        assert!(made.success(), "python3 -m venv {} failed", venv.display());
        let pip = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "safetensors", "numpy"])
            .status()
            .expect("pip runs");
        assert!(pip.success(), "pip install safetensors numpy failed");
    }
    assert!(
        ready(&python),
        "safetensors and numpy are not importable from {}",
        python.display()
    );
    python
}

#[test]
fn python_reads_the_weights_and_numpy_gets_the_same_test_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    train(dir.path(), &["--iters", "1500", "--seed", "3"]);
    let model = dir.path().join("model.safetensors");
    let eval = eval_beside(&model);
    let ours: f64 = eval.split_whitespace().nth(2).unwrap().parse().unwrap();
    let data_dir = fetched_dir("mnist");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/numpy_forward.py");
    let out = Command::new(python_with_safetensors())
        .arg(script)
        .arg(&model)
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let numpy: f64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        format!("{ours:.4}"),
        format!("{numpy:.4}"),
        "scratchnet eval {ours} vs numpy {numpy}"
    );
    assert!(ours > 0.85, "1500 iterations reach about 0.9: {ours}");
}

#[test]
fn impossible_settings_are_refused_with_the_value_named() {
    for (args, expected) in [
        (vec!["--batch-size", "0"], "batch size 0"),
        (vec!["--hidden-size", "0"], "hidden size 0"),
        (vec!["--lr", "-0.1"], "learning rate -0.1"),
        (vec!["--lr", "NaN"], "learning rate NaN"),
        (vec!["--iters", "0"], "iters_num 0"),
        (vec!["--weight-init-std", "0"], "weight init std 0"),
    ] {
        let mut all = vec!["train", "--out", "/nonexistent/never-written"];
        all.extend_from_slice(&args);
        let out = scratchnet(&all);
        assert!(!out.status.success(), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// `SCRATCHNET_SIMD` caps the kernels' instruction set (to measure an AVX2 machine on an
/// AVX-512 one); every level trains the same weights bit for bit, and a wrong value is named.
#[test]
fn every_simd_level_trains_the_same_weights_and_a_wrong_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = |level: Option<&str>| {
        let out = dir.path().join(level.unwrap_or("native"));
        let args = [
            "train",
            "--iters",
            "300",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ];
        let mut command = common::command(&args);
        if let Some(level) = level {
            command.env("SCRATCHNET_SIMD", level);
        }
        common::succeeded(&args, command.output().unwrap());
        std::fs::read(out.join("model.safetensors")).unwrap()
    };
    let native = model(None);
    for level in ["avx2", "plain"] {
        assert!(
            model(Some(level)) == native,
            "{level} trained other weights"
        );
    }
    let out = dir.path().join("refused");
    let args = ["train", "--iters", "1", "--out", out.to_str().unwrap()];
    let refused = common::command(&args)
        .env("SCRATCHNET_SIMD", "sse9")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("invalid SCRATCHNET_SIMD sse9: avx512, avx2 or plain"),
        "{stderr}"
    );
    assert!(!out.exists(), "a refused run wrote {}", out.display());
}
