//! A conv net's run folder and report hold what chapters 7 and 8 draw: the first layer's filters
//! before and after training, test image 0's feature maps and the misclassified test digits —
//! drawn from the weights the run really started from and ended with, and there after a resume.

use crate::common::*;

use ndarray::{Array4, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scratchnet_core::net::{ConvNetConfig, Network};
use std::path::Path;

/// A conv net small enough to train in a moment: 4 filters of 5 × 5, pool 2, affine 20.
const TINY: &str = "conv:4x5,pool:2,fc:20";

/// Checks that `png_path` (a grid of 4 filters of 5 × 5, 9 pixels to a weight) draws
/// each filter of `w` (FN, 1, 5, 5) with its largest weight white and its smallest black.
fn assert_filters_drawn(png_path: &Path, w: &Array4<f32>) {
    // 4 filters of 45 + 6 pixels, + 20, widened to 420 for the title; one row.
    let image = png(png_path, (420, 45 + 51 + 10));
    for (k, filter) in w.outer_iter().enumerate() {
        let filter = filter.index_axis(Axis(0), 0);
        let arg = |better: fn(f32, f32) -> bool| {
            let mut best = (0, 0);
            for ((r, c), &v) in filter.indexed_iter() {
                if better(v, filter[best]) {
                    best = (r, c);
                }
            }
            best
        };
        let at = |(r, c): (usize, usize)| {
            let (x, y) = (10 + 51 * k + 9 * c + 4, 45 + 9 * r + 4);
            image.get_pixel(x as u32, y as u32).0
        };
        assert_eq!(
            at(arg(|a, b| a > b)),
            [255; 3],
            "filter {k}'s largest weight"
        );
        assert_eq!(
            at(arg(|a, b| a < b)),
            [0; 3],
            "filter {k}'s smallest weight"
        );
    }
}

/// W1 of a network.
fn w1<N: Network<f32> + ?Sized>(net: &N) -> Array4<f32> {
    scratchnet::eval::conv_filters(net).expect("W1 is (FN, C, FH, FW)")
}

/// The captions ("true → predicted") of a misclassified grid's SVG, its title left out.
fn captions(svg_path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(svg_path).unwrap();
    svg_texts(&text).into_iter().skip(1).collect()
}

#[test]
fn a_conv_run_draws_its_filters_before_and_after_training_its_feature_maps_and_mistakes() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("run");
    let args = [
        "--quiet",
        "train",
        "--net",
        TINY,
        "--iters",
        "40",
        "--batch-size",
        "50",
        "--eval-samples",
        "1000",
        "--out",
        out.to_str().unwrap(),
    ];
    ok(&args);
    for stem in [
        "filters_initial",
        "filters",
        "feature_maps",
        "misclassified",
    ] {
        for ext in ["svg", "png"] {
            assert!(out.join(format!("{stem}.{ext}")).is_file(), "{stem}.{ext}");
        }
    }
    // Before training: W1 as the core draws it from seed 0.
    let config: ConvNetConfig = TINY.parse().unwrap();
    let initial = config
        .init::<f32>(784, 10, &mut ChaCha8Rng::seed_from_u64(0))
        .unwrap();
    let before = w1(&initial);
    assert_filters_drawn(&out.join("filters_initial.png"), &before);
    // After: W1 as model.safetensors holds it, no longer the initial one.
    let model = scratchnet::checkpoint::Checkpoint::load(&out.join("model.safetensors"))
        .unwrap()
        .network::<f32>()
        .unwrap();
    let after = w1(model.as_ref());
    assert_ne!(after, before);
    assert_filters_drawn(&out.join("filters.png"), &after);

    // Test image 0 (a 7) through the layers, each labelled with its shape.
    let maps = std::fs::read_to_string(out.join("feature_maps.svg")).unwrap();
    let labels: Vec<String> = svg_texts(&maps)
        .into_iter()
        .skip(1)
        .map(|t| t.split(", black").next().unwrap().to_string())
        .collect();
    assert_eq!(
        labels,
        [
            "Input: 1 × 28 × 28",
            "Conv1: 4 × 24 × 24",
            "Relu1: 4 × 24 × 24",
            "Pool1: 4 × 12 × 12"
        ]
    );
    assert!(
        svg_texts(&maps)[0].ends_with("(a 7)"),
        "{:?}",
        svg_texts(&maps)[0]
    );

    // Chapter 8's 20 mistakes: the first 20 that `eval` of the same weights finds.
    let shown = captions(&out.join("misclassified.svg"));
    assert_eq!(shown.len(), 20, "{shown:?}");
    let evaluated = root.path().join("eval");
    ok(&[
        "--quiet",
        "eval",
        "--model",
        out.join("model.safetensors").to_str().unwrap(),
        "--out",
        evaluated.to_str().unwrap(),
    ]);
    assert_eq!(shown, captions(&evaluated.join("misclassified.svg"))[..20]);
    // eval draws the filters of a conv model too.
    assert_filters_drawn(&evaluated.join("filters.png"), &after);

    // The report embeds the four figures, the filters side by side.
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("<h2>What the network learned</h2>"));
    let row = report.split("<div class=\"row\">").nth(1).expect("a row");
    let row = &row[..row.find("</div>").unwrap()];
    assert_eq!(row.matches("<figure").count(), 2, "before and after");
    assert!(row.contains("W1 before training") && row.contains("W1 after training"));
    for caption in [
        "filters before training",
        "test image through the layers",
        "misclassified",
    ] {
        assert!(report.contains(caption), "{caption}");
    }
}

#[test]
fn a_resumed_conv_run_still_shows_the_filters_it_started_from() {
    let root = tempfile::tempdir().unwrap();
    let (fresh, stopped) = (root.path().join("fresh"), root.path().join("stopped"));
    let common = [
        "--net",
        TINY,
        "--batch-size",
        "10",
        "--eval-samples",
        "1000",
    ];
    ok(&[
        &[
            "--quiet",
            "train",
            "--out",
            fresh.to_str().unwrap(),
            "--iters",
            "20",
        ],
        &common[..],
    ]
    .concat());
    let args = [&["--iters", "3000"], &common[..]].concat();
    let run = Watched::train_held_at(&stopped, &args, 100);
    run.signal(libc::SIGINT);
    let (code, stderr) = run.finish();
    assert_eq!(code, Some(130), "{stderr}");
    ok(&["--quiet", "train", "--resume", stopped.to_str().unwrap()]);
    // The same seed and network: the same W1 at the start, drawn the same.
    let bytes = |dir: &Path| std::fs::read(dir.join("filters_initial.png")).unwrap();
    assert_eq!(bytes(&stopped), bytes(&fresh));
    assert_ne!(
        std::fs::read(stopped.join("filters.png")).unwrap(),
        bytes(&stopped),
        "trained filters differ"
    );
}
