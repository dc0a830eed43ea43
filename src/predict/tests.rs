//! PNG drawings of every kind read into the same MNIST input; bad files refused by name.

use super::*;
use ndarray::{s, Array2};

/// Encodes `samples` (already laid out for `color` and `depth`) as a PNG of `size`.
fn encode(
    samples: &[u8],
    (width, height): (u32, u32),
    color: png::ColorType,
    depth: png::BitDepth,
    palette: Option<(Vec<u8>, Vec<u8>)>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(depth);
    if let Some((palette, trns)) = palette {
        encoder.set_palette(palette);
        encoder.set_trns(trns);
    }
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(samples).unwrap();
    writer.finish().unwrap();
    out
}

/// A drawing's ink (64 × 48): an "L" of strokes 6 pixels wide, with a grey edge.
fn drawing() -> Array2<f32> {
    let mut ink = Array2::<f32>::zeros((64, 48));
    ink.slice_mut(s![8..56, 10..16]).fill(1.0);
    ink.slice_mut(s![50..56, 10..40]).fill(1.0);
    ink.slice_mut(s![8..56, 16..17]).fill(0.5);
    ink
}

/// The bytes of 8-bit samples.
fn level(v: f32) -> u8 {
    (v * 255.0).round() as u8
}

/// The drawing's MNIST input from its ink, with levels rounded to 8 bits as the PNGs hold them.
fn expected() -> Array1<f32> {
    let ink = drawing().mapv(|v| f32::from(level(v)) / 255.0);
    mnist_style(ink.view()).unwrap()
}

/// Checks that `png` gives the drawing's input to rounding.
fn assert_reads_as_the_drawing(png: &[u8], what: &str) {
    let got = from_png(png).unwrap_or_else(|e| panic!("{what}: {e}"));
    let diff = (&got - &expected()).mapv(f32::abs);
    let worst = diff.iter().copied().fold(0.0, f32::max);
    assert!(worst < 2e-3, "{what}: differs by {worst}");
}

const SIZE: (u32, u32) = (48, 64);

#[test]
fn every_colour_type_and_depth_reads_as_the_same_drawing() {
    use png::{BitDepth, ColorType};
    let ink = drawing();
    // Dark strokes on white: grey = 1 − ink.
    let grey: Vec<u8> = ink.iter().map(|&v| level(1.0 - v)).collect();
    assert_reads_as_the_drawing(
        &encode(&grey, SIZE, ColorType::Grayscale, BitDepth::Eight, None),
        "grey 8",
    );
    let grey16: Vec<u8> = grey
        .iter()
        .flat_map(|&g| (u16::from(g) * 257).to_be_bytes())
        .collect();
    assert_reads_as_the_drawing(
        &encode(&grey16, SIZE, ColorType::Grayscale, BitDepth::Sixteen, None),
        "grey 16",
    );
    let rgb: Vec<u8> = grey.iter().flat_map(|&g| [g, g, g]).collect();
    assert_reads_as_the_drawing(
        &encode(&rgb, SIZE, ColorType::Rgb, BitDepth::Eight, None),
        "rgb",
    );
    let rgba16: Vec<u8> = grey
        .iter()
        .flat_map(|&g| {
            let g = (u16::from(g) * 257).to_be_bytes();
            [g, g, g, [0xff, 0xff]].concat()
        })
        .collect();
    assert_reads_as_the_drawing(
        &encode(&rgba16, SIZE, ColorType::Rgba, BitDepth::Sixteen, None),
        "rgba 16",
    );
}

#[test]
fn black_strokes_on_a_transparent_background_are_ink() {
    use png::{BitDepth, ColorType};
    // Black everywhere, the ink as opacity: what a browser canvas gives.
    let ink = drawing();
    let rgba: Vec<u8> = ink.iter().flat_map(|&v| [0, 0, 0, level(v)]).collect();
    assert_reads_as_the_drawing(
        &encode(&rgba, SIZE, ColorType::Rgba, BitDepth::Eight, None),
        "rgba on transparent",
    );
    let grey_alpha: Vec<u8> = ink.iter().flat_map(|&v| [0, level(v)]).collect();
    assert_reads_as_the_drawing(
        &encode(
            &grey_alpha,
            SIZE,
            ColorType::GrayscaleAlpha,
            BitDepth::Eight,
            None,
        ),
        "grey + alpha",
    );
    // A palette: 0 transparent, 1 black, 2 half-transparent black (tRNS).
    let indices: Vec<u8> = ink
        .iter()
        .map(|&v| {
            if v == 0.0 {
                0
            } else if v == 1.0 {
                1
            } else {
                2
            }
        })
        .collect();
    let palette = (vec![255, 255, 255, 0, 0, 0, 0, 0, 0], vec![0, 255, 128]);
    let png = encode(
        &indices,
        SIZE,
        ColorType::Indexed,
        BitDepth::Eight,
        Some(palette),
    );
    let got = from_png(&png).unwrap();
    let want = mnist_style(
        drawing()
            .mapv(|v| if v == 0.5 { 128.0 / 255.0 } else { v })
            .view(),
    );
    let worst = (&got - &want.unwrap())
        .mapv(f32::abs)
        .fold(0.0f32, |a, &b| a.max(b));
    assert!(worst < 1e-5, "palette: {worst}");
}

#[test]
fn a_white_digit_on_black_reads_as_the_same_drawing() {
    use png::{BitDepth, ColorType};
    let inverted: Vec<u8> = drawing().iter().map(|&v| level(v)).collect();
    assert_reads_as_the_drawing(
        &encode(&inverted, SIZE, ColorType::Grayscale, BitDepth::Eight, None),
        "white on black",
    );
}

#[test]
fn bad_images_are_refused_with_a_reason() {
    use png::{BitDepth, ColorType};
    let name = "d.png";
    let says = |bytes: &[u8]| from_png(bytes).unwrap_err().in_file(name);
    assert!(
        says(b"hello").contains("d.png: not a PNG image"),
        "{}",
        says(b"hello")
    );
    let good = encode(
        &[255; 48 * 64],
        SIZE,
        ColorType::Grayscale,
        BitDepth::Eight,
        None,
    );
    assert_eq!(says(&good), "no ink in d.png: draw a digit");
    let truncated = &good[..good.len() / 2];
    assert!(
        says(truncated).contains("damaged or truncated"),
        "{}",
        says(truncated)
    );
    // A header claiming 5000 × 10 pixels (the data is never reached).
    let wide = encode(
        &[255; 5000 * 10],
        (5000, 10),
        ColorType::Grayscale,
        BitDepth::Eight,
        None,
    );
    assert_eq!(
        says(&wide),
        "d.png: 5000 × 10 pixels, larger than the 4096 × 4096 accepted"
    );
}

#[test]
fn the_input_png_is_mnist_s_white_digit_on_black() {
    let input = expected();
    let png = input_png(input.view()).unwrap();
    // Read back: a mostly dark image, so its light pixels are the ink; the same 784 levels.
    let back = ink_from_png(&png).unwrap();
    assert_eq!(back.dim(), (28, 28));
    let diff = (&back.into_shape_with_order(784).unwrap() - &input).mapv(f32::abs);
    assert!(diff.iter().all(|&d| d <= 0.5 / 255.0 + 1e-6));
}
