use super::*;
use ndarray::Array2;

/// A 28×28 batch of `n` images, every pixel different, in [0, 1].
fn batch(n: usize) -> Array2<f32> {
    Array2::from_shape_fn((n, 784), |(r, p)| ((p * 7 + r * 13) % 101) as f32 / 100.0)
}

fn augmenter(spec: &str) -> Augmenter {
    Augmenter::new(spec.parse().unwrap(), (28, 28), 7).unwrap()
}

fn distorter(spec: &str) -> Distorter {
    Distorter::new(spec.parse().unwrap(), (28, 28), 7).unwrap()
}

#[test]
fn a_shift_by_one_column_moves_every_pixel_exactly() {
    // shift:1 draws (sx, sy) from {−1, 0, 1}²; find a row whose draw is (1, 0) and check that
    // pixel (x, y) of the result is pixel (x − 1, y) of the source, and 0 in column 0.
    let source = batch(64);
    let mut a = augmenter("shift:1");
    let mut out = source.clone();
    a.apply(&mut out, 3);
    let moved_right = |r: usize| {
        (0..28).all(|y| {
            (0..28).all(|x| {
                let want = if x == 0 {
                    0.0
                } else {
                    source[[r, y * 28 + x - 1]]
                };
                out[[r, y * 28 + x]] == want
            })
        })
    };
    let rows: Vec<usize> = (0..64).filter(|&r| moved_right(r)).collect();
    assert!(!rows.is_empty(), "no row of 64 was shifted by (1, 0)");
    // Every row is the source moved by a whole number of pixels in each direction.
    for r in 0..64 {
        let found = (-1i64..=1).any(|sy| {
            (-1i64..=1).any(|sx| {
                (0..28i64).all(|y| {
                    (0..28i64).all(|x| {
                        let (u, v) = (x - sx, y - sy);
                        let want = match (0..28).contains(&u) && (0..28).contains(&v) {
                            true => source[[r, (v * 28 + u) as usize]],
                            false => 0.0,
                        };
                        out[[r, (y * 28 + x) as usize]] == want
                    })
                })
            })
        });
        assert!(found, "row {r} is not a whole-pixel shift of its source");
    }
}

#[test]
fn rotation_by_zero_and_elastic_with_alpha_zero_are_the_identity() {
    let source = batch(5);
    for spec in ["none", "elastic:0:4"] {
        let mut out = source.clone();
        augmenter(spec).apply(&mut out, 11);
        assert_eq!(out, source, "{spec}");
    }
    // Rotation by θ = 0 through the rotation formula itself (the spec draws θ ≠ 0).
    let mut a = augmenter("rotate:10");
    for worker in &mut a.workers {
        worker.spec.rotate = 1e-300;
    }
    let mut out = source.clone();
    a.apply(&mut out, 11);
    assert_eq!(out, source);
}

#[test]
fn a_quarter_turn_moves_a_corner_to_the_next() {
    // θ = 90°: output (0, 0) samples the source at c + R(θ)((0, 0) − c) with c = 13.5:
    // x' = 13.5 − 13.5·cos θ − 13.5·sin θ = 0, y' = 13.5 + 13.5·sin θ − 13.5·cos θ = 27 —
    // the bottom-left pixel comes to the top left (cos 90° is 6e-17, not 0: nearly exact).
    let mut image = vec![0.0f64; 784];
    image[27 * 28] = 1.0;
    let mut a = distorter("rotate:90");
    let draw = Draw {
        shift: (0.0, 0.0),
        theta: 90f64.to_radians(),
        alpha: 0.0,
    };
    a.resample(&mut image, draw);
    assert!((image[0] - 1.0).abs() < 1e-12, "{}", image[0]);
    assert!((image.iter().sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn the_same_seed_and_iteration_give_the_same_bits_and_others_differ() {
    let spec = "shift:2,rotate:10,elastic:34:4";
    let source = batch(8);
    let run = |seed: u64, iteration: usize| {
        let mut a = Augmenter::new(spec.parse().unwrap(), (28, 28), seed).unwrap();
        let mut out = source.clone();
        a.apply(&mut out, iteration);
        out
    };
    let first = run(1, 5);
    assert_eq!(first, run(1, 5));
    assert_ne!(first, run(1, 6));
    assert_ne!(first, run(2, 5));
    assert_ne!(first, source);
    // Rows differ from each other's distortion: each has its own draws.
    let (a, b) = (first.row(0).to_vec(), first.row(1).to_vec());
    assert_ne!(a, source.row(0).to_vec());
    assert_ne!(b, source.row(1).to_vec());
    // One augmenter reused gives what fresh ones give (no state carried between batches).
    let mut reused = Augmenter::new(spec.parse().unwrap(), (28, 28), 1).unwrap();
    let mut out = source.clone();
    reused.apply(&mut out, 9);
    let mut out = source.clone();
    reused.apply(&mut out, 5);
    assert_eq!(out, first);
}

#[test]
fn values_stay_within_zero_and_one() {
    let mut source = batch(32);
    source.mapv_inplace(|v| if v > 0.5 { 1.0 } else { v });
    for spec in [
        "rotate:30",
        "elastic:34:4",
        "elastic:100:1",
        "shift:3,rotate:15,elastic",
    ] {
        let mut out = source.clone();
        augmenter(spec).apply(&mut out, 0);
        assert!(out.iter().all(|&v| (0.0..=1.0).contains(&v)), "{spec}");
        assert_ne!(out, source, "{spec}");
    }
}

#[test]
fn the_gaussian_is_normalised_and_elastic_fields_are_smooth() {
    let g = gaussian(4.0);
    assert_eq!(g.len(), 25);
    assert!((g.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!((g[12] / g[16] - (16.0f64 / 32.0).exp()).abs() < 1e-12);
    // Neighbouring displacements of a smoothed field differ far less than raw uniform values.
    let mut a = distorter("elastic:34:4");
    let mut rng = a.rng(0, 0);
    a.elastic_field(&mut rng);
    let step: f64 = (0..27)
        .map(|x| (a.dx[14 * 28 + x + 1] - a.dx[14 * 28 + x]).abs())
        .sum::<f64>()
        / 27.0;
    let size: f64 = a.dx.iter().map(|d| d.abs()).sum::<f64>() / 784.0;
    assert!(
        step < 0.2 * size + 1e-9,
        "neighbours differ by {step}, values are {size}"
    );
    assert!(size > 0.005 && size < 0.2, "mean |d| = {size}");
}

#[test]
fn text_forms_parse_print_and_refuse_with_the_syntax() {
    for (text, printed) in [
        ("none", "none"),
        ("shift:2", "shift:2"),
        ("rotate:10,shift:2", "shift:2,rotate:10"),
        ("elastic", "elastic:34:4"),
        (
            "shift:2,rotate:10,elastic:34:4",
            "shift:2,rotate:10,elastic:34:4",
        ),
    ] {
        let a: Augment = text.parse().unwrap();
        assert_eq!(a.to_string(), printed);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Augment>(&json).unwrap(), a);
    }
    for bad in [
        "",
        "shift",
        "shift:0",
        "shift:9",
        "shift:-1",
        "rotate:0",
        "rotate:200",
        "elastic:34",
        "elastic:34:0",
        "elastic:500:4",
        "blur:2",
        "shift:2,shift:3",
        "rotate:nan",
    ] {
        let e = bad.parse::<Augment>().unwrap_err().to_string();
        assert!(e.contains(bad) && e.contains("shift:PIXELS"), "{bad}: {e}");
    }
    assert_eq!(Augment::image_shape(784).unwrap(), (28, 28));
    assert!(Augment::image_shape(785)
        .unwrap_err()
        .to_string()
        .contains("square"));
}

#[test]
fn smoothing_an_impulse_gives_the_gaussian_in_both_directions_and_cuts_at_the_border() {
    // A 1 at (row 14, column 3) of a 28×28 field: after smoothing, pixel (y, x) is
    // g[y − 14 + r]·g[x − 3 + r] within r = 6 of it (σ = 2), and 0 elsewhere.
    let taps = gaussian(2.0);
    let r = taps.len() as i64 / 2;
    let mut field = vec![0.0; 784];
    field[14 * 28 + 3] = 1.0;
    let mut scratch = vec![0.0; 784];
    smooth(&mut field, &mut scratch, (28, 28), &taps);
    for y in 0..28i64 {
        for x in 0..28i64 {
            let (dy, dx) = (y - 14, x - 3);
            let want = match dy.abs() <= r && dx.abs() <= r {
                true => taps[(dy + r) as usize] * taps[(dx + r) as usize],
                false => 0.0,
            };
            let got = field[(y * 28 + x) as usize];
            assert!((got - want).abs() < 1e-15, "({y}, {x}): {got} vs {want}");
        }
    }
}

#[test]
fn the_thread_count_changes_no_bit() {
    let spec = "shift:2,rotate:10,elastic:34:4";
    let source = batch(13);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut a = Augmenter::new(spec.parse().unwrap(), (28, 28), 3).unwrap();
            assert_eq!(a.workers.len(), threads);
            let mut out = source.clone();
            a.apply(&mut out, 4);
            out
        })
    };
    let one = run(1);
    assert_eq!(run(2), one);
    assert_eq!(run(5), one);
}
