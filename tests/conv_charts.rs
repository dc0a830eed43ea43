//! Chapters 7 and 8's pictures drawn from arrays whose picture is known: the first layer's
//! filters (figure 7-24), a test image's feature maps, and the 4 × 5 grid of misclassified
//! digits; the PNG's pixels and the SVG's picture are read back.

use crate::common::*;

use ndarray::{Array2, Array3, Array4};
use scratchnet::plot::conv::{FeatureMaps, FilterGrid};
use scratchnet::plot::eval::{GridLayout, MisclassifiedGrid};
use scratchnet::plot::save;

/// The grey level of every chart pixel of a picture pixel drawn `scale` to a pixel with its
/// top-left corner at `at`; panics unless they are all the same.
fn grey_at(image: &RgbImage, at: (u32, u32), scale: u32, (r, c): (u32, u32)) -> u8 {
    let (x0, y0) = (at.0 + c * scale, at.1 + r * scale);
    let g = image.get_pixel(x0, y0).0;
    assert!(
        g[0] == g[1] && g[1] == g[2],
        "({x0}, {y0}) is {g:?}, not grey"
    );
    for (dx, dy) in [(scale - 1, 0), (0, scale - 1), (scale - 1, scale - 1)] {
        assert_eq!(
            image.get_pixel(x0 + dx, y0 + dy).0,
            g,
            "one pixel, one shade"
        );
    }
    g[0]
}

#[test]
fn each_filter_is_drawn_alone_from_its_smallest_weight_black_to_its_largest_white() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Array4::<f32>::zeros((30, 1, 5, 5));
    // Filter 0: one bright weight at row 1, column 3.
    w[[0, 0, 1, 3]] = 0.02;
    // Filter 1: weights rising along the columns, -0.01 to 0.03.
    for c in 0..5 {
        for r in 0..5 {
            w[[1, 0, r, c]] = -0.01 + 0.01 * c as f32;
        }
    }
    // Filter 9 (second row, second column): one dark weight far below the rest.
    w.slice_mut(ndarray::s![9, 0, .., ..]).fill(0.5);
    w[[9, 0, 4, 0]] = -2.0;
    // Filter 29 stays constant (all 0): mid-grey.
    let grid = FilterGrid {
        title: "W1 before training".into(),
        filters: w.view(),
    };
    let [svg_path, png_path] = save(&grid, dir.path(), "filters").unwrap();
    // 8 columns of 45 + 6 pixels (5 weights × 9) + 20; 4 rows of 51 under a 45-pixel title.
    let size = (428, 259);
    let text = svg(&svg_path, size);
    assert_eq!(svg_texts(&text), ["W1 before training"]);
    let image = png(&png_path, size);
    let tile = |k: u32| (10 + (k % 8) * 51, 45 + (k / 8) * 51);
    for r in 0..5 {
        for c in 0..5 {
            let want = if (r, c) == (1, 3) { 255 } else { 0 };
            assert_eq!(
                grey_at(&image, tile(0), 9, (r, c)),
                want,
                "filter 0 ({r}, {c})"
            );
            // -0.01 .. 0.03 over columns 0..4: a quarter of the way per column.
            let ramp = grey_at(&image, tile(1), 9, (r, c));
            assert!((i32::from(ramp) - 255 * c as i32 / 4).abs() <= 1, "{ramp}");
            let want = if (r, c) == (4, 0) { 0 } else { 255 };
            assert_eq!(
                grey_at(&image, tile(9), 9, (r, c)),
                want,
                "filter 9 ({r}, {c})"
            );
            assert_eq!(grey_at(&image, tile(29), 9, (r, c)), 128, "filter 29");
        }
    }
    // Each filter framed, one pixel outside it; nothing drawn after the 30th.
    assert_eq!(image.get_pixel(9, 44).0, [150, 150, 150]);
    assert_eq!(
        image.get_pixel(tile(30).0 + 20, tile(30).1 + 20).0,
        [255; 3]
    );
    // The SVG shows the same pixels as one picture.
    let ((x, y), pixels) = svg_image(&text);
    assert_eq!((x, y), (0.0, 0.0));
    let at = |k: u32, r: u32, c: u32| {
        pixels
            .get_pixel(tile(k).0 + 9 * c + 4, tile(k).1 + 9 * r + 4)
            .0
    };
    assert_eq!(at(0, 1, 3), [255, 255, 255, 255]);
    assert_eq!(at(0, 1, 2), [0, 0, 0, 255]);
    assert_eq!(at(9, 4, 0), [0, 0, 0, 255]);
    assert_eq!(
        pixels.get_pixel(9, 44).0[3],
        0,
        "see-through outside the filters"
    );
}

#[test]
fn feature_maps_draw_each_layer_s_channels_on_the_layer_s_scale_under_its_label() {
    let dir = tempfile::tempdir().unwrap();
    // The input: a bright 4 × 2 bar at rows 10..14, columns 20..22.
    let mut input = Array3::<f32>::zeros((1, 28, 28));
    input.slice_mut(ndarray::s![0, 10..14, 20..22]).fill(1.0);
    // Conv1: channel 0 all -1 (the layer's smallest), channel 2 peaks at 3 in (2, 1).
    let mut conv = Array3::<f32>::from_elem((3, 4, 4), 1.0);
    conv.slice_mut(ndarray::s![0, .., ..]).fill(-1.0);
    conv[[2, 2, 1]] = 3.0;
    // Pool1: 20 channels of 2 × 2, channel k holding k everywhere.
    let pool = Array3::from_shape_fn((20, 2, 2), |(k, _, _)| k as f32);
    let layers = vec![
        ("Input".to_string(), input),
        ("Conv1".to_string(), conv),
        ("Pool1".to_string(), pool),
    ];
    let chart = FeatureMaps {
        title: "Feature maps of test image 0".into(),
        layers: &layers,
    };
    let [svg_path, png_path] = save(&chart, dir.path(), "maps").unwrap();
    // Blocks: Input at 45 (label 22 + 56 + 4 + 8 = 90), Conv1 at 135 (22 + 32 + 4 + 8 = 66),
    // Pool1 at 201 (22 + 2 rows of 16 + 4 + 8 = 70), ending at 271; + 10.
    let size = (600, 281);
    let text = svg(&svg_path, size);
    assert_eq!(
        svg_texts(&text),
        [
            "Feature maps of test image 0",
            "Input: 1 × 28 × 28, black 0.000 … white 1.000",
            "Conv1: 3 × 4 × 4, black -1.000 … white 3.000",
            "Pool1: 20 × 2 × 2, black 0.000 … white 19.000",
        ]
    );
    let labels: Vec<f64> = svg_text_elements(&text)
        .iter()
        .skip(1)
        .map(|(a, _)| attr(a, "y"))
        .collect();
    assert_eq!(
        labels,
        [47.0, 137.0, 203.0],
        "each label at its block's top"
    );
    let image = png(&png_path, size);
    // The input, 2 pixels to a pixel at (10, 67): the bar is white, the rest black.
    for (r, c) in [(10, 20), (13, 21), (9, 20), (10, 22), (0, 0), (27, 27)] {
        let inside = (10..14).contains(&r) && (20..22).contains(&c);
        let g = grey_at(&image, (10, 67), 2, (r, c));
        assert_eq!(g, if inside { 255 } else { 0 }, "input ({r}, {c})");
    }
    // Conv1, 8 pixels to a pixel, its 32-pixel maps 36 apart at y 157, on one scale -1 .. 3:
    // channel 0 is black, channel 1 (all 1) half-way, channel 2's peak white.
    let conv_at = |k: u32| (10 + 36 * k, 157);
    assert_eq!(grey_at(&image, conv_at(0), 8, (3, 3)), 0);
    assert_eq!(grey_at(&image, conv_at(1), 8, (0, 0)), 128);
    assert_eq!(grey_at(&image, conv_at(2), 8, (2, 1)), 255);
    assert_eq!(grey_at(&image, conv_at(2), 8, (1, 1)), 128);
    // Pool1: 16 maps to a row, 20 apart; the 17th starts the second row.
    for k in [0u32, 5, 15, 16, 19] {
        let at = (10 + 20 * (k % 16), 223 + 20 * (k / 16));
        let want = (255.0 * k as f32 / 19.0).round() as u8;
        assert_eq!(grey_at(&image, at, 8, (1, 1)), want, "pool map {k}");
    }
    // Right of the 4th map of the second row: page.
    assert_eq!(image.get_pixel(10 + 20 * 4 + 5, 243 + 5).0, [255; 3]);
}

#[test]
fn chapter_8_s_grid_shows_20_digits_as_4_rows_of_5_with_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    // Image k has ink only in its pixel (0, k % 28).
    let mut images = Array2::<f32>::zeros((20, 784));
    for k in 0..20 {
        images[[k, k % 28]] = 1.0;
    }
    let labels: Vec<(usize, usize)> = (0..20).map(|k| (k % 10, (k + 3) % 10)).collect();
    let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let grid = MisclassifiedGrid {
        images: images.view(),
        labels: &labels,
        class_names: &names,
        layout: GridLayout::CHAPTER8,
    };
    let [svg_path, png_path] = save(&grid, dir.path(), "misclassified").unwrap();
    // 5 columns of 84 + 24 (+ 20, widened to 560 for the title); 4 rows of 84 + 26, + 60.
    let size = (560, 500);
    let text = svg(&svg_path, size);
    let texts = svg_texts(&text);
    assert_eq!(texts.len(), 21, "{texts:?}");
    assert_eq!(texts[1], "0 → 3");
    assert_eq!(texts[20], "9 → 2");
    let image = png(&png_path, size);
    for k in 0..20u32 {
        let origin = (10 + (k % 5) * 108, 45 + (k / 5) * 110);
        // Ink is black, 3 pixels to a pixel; the pixel beside it is white.
        assert_eq!(grey_at(&image, origin, 3, (0, k)), 0, "image {k}");
        assert_eq!(grey_at(&image, origin, 3, (0, k + 1)), 255, "image {k}");
        assert_eq!(grey_at(&image, origin, 3, (27, 27)), 255, "image {k}");
    }
    // The captions sit under their images: image 19's at (442, 375 + 84 + 4).
    let captions: Vec<(f64, f64)> = svg_text_elements(&text)
        .iter()
        .filter(|(_, t)| t == "9 → 2")
        .map(|(a, _)| (attr(a, "x"), attr(a, "y")))
        .collect();
    assert_eq!(captions.len(), 2);
    assert!(captions.contains(&(442.0, 463.0)), "{captions:?}");
}
