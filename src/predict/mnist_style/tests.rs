use super::*;

/// A white canvas (height, width) with ink 1 in the rectangle [top, bottom) × [left, right).
fn rectangle(size: (usize, usize), [top, bottom, left, right]: [usize; 4]) -> Array2<f32> {
    let mut ink = Array2::zeros(size);
    ink.slice_mut(s![top..bottom, left..right]).fill(1.0);
    ink
}

/// The 784 values as 28 × 28.
fn field(values: &Array1<f32>) -> Array2<f32> {
    values.clone().into_shape_with_order((SIDE, SIDE)).unwrap()
}

/// A synthetic "7" drawn on a `side` × `side` canvas with a pen of width side/10: the ink of
/// each pixel is the fraction of its 8 × 8 sub-samples within the pen's reach of the strokes
/// (coordinates in 0..1 of the canvas), so that every size draws the same shape.
fn seven(side: usize) -> Array2<f32> {
    let strokes = [((0.25, 0.2), (0.75, 0.2)), ((0.75, 0.2), (0.4, 0.85))];
    let pen = 0.05;
    let near = |px: f64, py: f64| {
        strokes.iter().any(|&((x0, y0), (x1, y1))| {
            let (dx, dy) = (x1 - x0, y1 - y0);
            let t = (((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
            let (cx, cy) = (x0 + t * dx - px, y0 + t * dy - py);
            (cx * cx + cy * cy).sqrt() <= pen
        })
    };
    Array2::from_shape_fn((side, side), |(y, x)| {
        let mut inside = 0;
        for sy in 0..8 {
            for sx in 0..8 {
                let px = (x as f64 + (sx as f64 + 0.5) / 8.0) / side as f64;
                let py = (y as f64 + (sy as f64 + 0.5) / 8.0) / side as f64;
                inside += usize::from(near(px, py));
            }
        }
        inside as f32 / 64.0
    })
}

/// [rows, cols] of the box around the nonzero values.
fn extent(values: &Array2<f32>) -> [usize; 2] {
    let nonzero = values.mapv(|v| if v > 0.0 { 1.0 } else { 0.0 });
    let [top, bottom, left, right] = bounding_box(nonzero.view()).unwrap();
    [bottom - top, right - left]
}

#[test]
fn a_filled_rectangle_fills_a_20_pixel_side_centred_on_its_mass() {
    // 30 wide, 60 tall, off-centre in a 100 × 120 canvas.
    let ink = rectangle((100, 120), [10, 70, 70, 100]);
    let out = field(&mnist_style(ink.view()).unwrap());
    assert_eq!(extent(&out), [20, 10], "60 × 30 scaled by 1/3");
    let (cy, cx) = centre_of_mass(out.view());
    assert!(
        (cy - 14.0).abs() <= 0.5 && (cx - 14.0).abs() <= 0.5,
        "({cy}, {cx})"
    );
    // Whole source pixels: every output pixel fully covered, ink 1.
    assert!(out.iter().all(|&v| v == 0.0 || v == 1.0), "{out}");
    assert_eq!(out.sum(), 200.0);
}

#[test]
fn a_tall_bar_stays_tall_with_an_anti_aliased_edge() {
    // 10 wide, 80 tall: scaled by 1/4 to 20 × 2.5, so 3 columns, the last half covered.
    let ink = rectangle((100, 100), [5, 85, 40, 50]);
    let out = field(&mnist_style(ink.view()).unwrap());
    assert_eq!(extent(&out), [20, 3]);
    let [_, left] = {
        let b = bounding_box(out.view()).unwrap();
        [b[0], b[2]]
    };
    let (full, edge): (Vec<f32>, Vec<f32>) = (0..SIDE)
        .filter(|&r| out[[r, left]] > 0.0)
        .map(|r| (out[[r, left]], out[[r, left + 2]]))
        .unzip();
    assert!(full.iter().all(|&v| v == 1.0), "{full:?}");
    assert!(edge.iter().all(|&v| (v - 0.5).abs() < 1e-6), "{edge:?}");
    let (cy, cx) = centre_of_mass(out.view());
    assert!(
        (cy - 14.0).abs() <= 0.5 && (cx - 14.0).abs() <= 0.5,
        "({cy}, {cx})"
    );
}

#[test]
fn area_averaging_weighs_each_source_pixel_by_its_exact_coverage() {
    // 40 × 40 → 20 × 20: each output pixel the mean of a 2 × 2 block.
    let image = Array2::from_shape_fn((40, 40), |(y, x)| ((y * 40 + x) % 7) as f32 / 7.0);
    let out = area_scale(image.view());
    assert_eq!(out.dim(), (20, 20));
    for ((y, x), &v) in out.indexed_iter() {
        let block = image.slice(s![2 * y..2 * y + 2, 2 * x..2 * x + 2]);
        assert!((v - block.mean().unwrap()).abs() < 1e-6);
    }
    // 30 → 20: output pixel 0 covers source 0 and half of 1; pixel 1 the other half and 2.
    let row = Array2::from_shape_fn((30, 30), |(_, x)| x as f32);
    let out = area_scale(row.view());
    assert!(
        (out[[0, 0]] - (0.0 + 0.5 * 1.0) / 1.5).abs() < 1e-5,
        "{}",
        out[[0, 0]]
    );
    assert!(
        (out[[0, 1]] - (0.5 * 1.0 + 2.0) / 1.5).abs() < 1e-5,
        "{}",
        out[[0, 1]]
    );
    // Upscaling a single pixel fills the box.
    let dot = Array2::from_elem((1, 1), 0.7);
    assert_eq!(area_scale(dot.view()), Array2::from_elem((20, 20), 0.7));
}

#[test]
fn the_same_drawing_at_two_sizes_gives_nearly_the_same_input() {
    let small = mnist_style(seven(80).view()).unwrap();
    let large = mnist_style(seven(400).view()).unwrap();
    let mean_abs: f32 = (&small - &large).mapv(f32::abs).mean().unwrap();
    // Measured 6.5e-5: both renderings hold each pixel's exact share of the pen (to 1/64),
    // and area averaging keeps shares; a digit's own mean level is about 0.1.
    assert!(mean_abs < 1e-3, "mean |difference| {mean_abs}");
    assert!(small.mean().unwrap() > 0.05);
}

#[test]
fn the_darkest_pixel_is_brought_to_full_ink_and_faint_noise_ignored() {
    let mut ink = rectangle((50, 50), [10, 40, 20, 30]).mapv(|v| v * 0.4);
    ink[[0, 0]] = 0.05; // below INK_THRESHOLD: not part of the box
    let out = mnist_style(ink.view()).unwrap();
    assert_eq!(out.iter().copied().fold(0.0, f32::max), 1.0);
    assert_eq!(extent(&field(&out)), [20, 7]);
}

#[test]
fn a_blank_canvas_has_no_ink() {
    let blank = Array2::from_elem((30, 30), 0.05);
    assert_eq!(mnist_style(blank.view()), Err(ImageError::NoInk));
    assert_eq!(
        ImageError::NoInk.in_file("image.png"),
        "no ink in image.png: draw a digit"
    );
}

#[test]
fn a_lopsided_digit_stays_whole_in_the_field() {
    // A long thin bar with a heavy blob at its left end: the centre of mass near the left.
    let mut ink = rectangle((40, 200), [18, 20, 0, 200]);
    ink.slice_mut(s![0..40, 0..10]).fill(1.0);
    let out = field(&mnist_style(ink.view()).unwrap());
    let mass: f32 = out.sum();
    let scaled = area_scale(ink.view());
    let darkest = scaled.iter().copied().fold(0.0, f32::max);
    assert!(
        (mass - scaled.sum() / darkest).abs() < 1e-3,
        "nothing cut off"
    );
    let (_, cx) = centre_of_mass(out.view());
    assert!(
        cx < 13.0,
        "the shift is limited, so the mass stays left: {cx}"
    );
}
