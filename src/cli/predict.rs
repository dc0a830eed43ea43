//! `scratchnet predict`: a saved network's answer for drawings given as PNG files.

use super::train::model_file;
use crate::predict::{self, Model, Prediction};
use crate::threads;
use anyhow::Result;
use std::path::{Path, PathBuf};

/// `scratchnet predict`'s arguments.
#[derive(clap::Args, Debug)]
pub(super) struct PredictArgs {
    /// A model.safetensors (or best.safetensors) written by `train`, or the run folder that
    /// holds it.
    #[arg(long, value_name = "PATH")]
    model: PathBuf,
    /// Print one JSON object per image (the input, the probabilities, the predicted class, the
    /// class names and every layer's output), as the server's /api/predict returns it.
    #[arg(long)]
    json: bool,
    /// Write each image's 28 × 28 input, as the network sees it, into this folder as
    /// <image name>.input.png (never over an existing file).
    #[arg(long, value_name = "DIR")]
    save_input: Option<PathBuf>,
    /// The drawings: PNG files, dark strokes on white or transparent (or white on black), any
    /// size; each is cropped, scaled into 20 × 20 and centred in 28 × 28 as MNIST's digits were.
    #[arg(value_name = "IMAGE.png", required = true)]
    images: Vec<PathBuf>,
}

/// Predicts each image in turn and prints the answer; the first bad image ends the command
/// with an error naming it.
pub(super) fn run_predict(args: &PredictArgs) -> Result<()> {
    // The arithmetic training and eval use (subnormals flushed), so the answers are eval's.
    threads::init(None)?;
    let path = model_file(&args.model)?;
    let model = Model::load(&path)?;
    if let Some(warning) = &model.warning {
        eprintln!("{warning}");
    }
    for image in &args.images {
        let input = predict::read_png(image)?;
        let prediction = model.predict(input.view())?;
        if let Some(dir) = &args.save_input {
            let saved = dir.join(input_name(image));
            predict::save_input(input.view(), &saved)?;
            if !args.json {
                crate::say!("  input written to {}", saved.display());
            }
        }
        if args.json {
            crate::say!("{}", serde_json::to_string(&prediction)?);
        } else {
            say_prediction(image, &prediction);
        }
    }
    Ok(())
}

/// `digit.png` → `digit.input.png`.
fn input_name(image: &Path) -> String {
    let stem = image.file_stem().unwrap_or(image.as_os_str());
    format!("{}.input.png", stem.to_string_lossy())
}

/// `digit.png: 7 (probability 0.9812)` then every class's probability, one line of five.
fn say_prediction(image: &Path, p: &Prediction) {
    let label = |class: usize| match p.classes.get(class) {
        Some(name) if *name != class.to_string() => format!("{class} {name}"),
        _ => class.to_string(),
    };
    crate::say!(
        "{}: {} (probability {:.4})",
        image.display(),
        label(p.predicted),
        p.probs[p.predicted]
    );
    let cells: Vec<String> = p
        .probs
        .iter()
        .enumerate()
        .map(|(class, prob)| format!("{} {prob:.4}", label(class)))
        .collect();
    for line in cells.chunks(5) {
        crate::say!("  {}", line.join("   "));
    }
}
