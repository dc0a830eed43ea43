use super::*;
use crate::kernels::tests::{at_every_level, bits, matrix, rng, ForceParts};
use ndarray::Array2;

/// The plain reference: out[i, j] from out[i, j] (accumulating) or 0, then
/// `s = fma(x[i, p], w[p, j], s)` for p ascending.
fn plain<F: Float>(
    x: ArrayView2<F>,
    w: ArrayView2<F>,
    out: &Array2<F>,
    accumulate: bool,
) -> Array2<F> {
    Array2::from_shape_fn(out.dim(), |(i, j)| {
        let start = if accumulate { out[[i, j]] } else { F::zero() };
        (0..x.ncols()).fold(start, |s, p| x[[i, p]].mul_add(w[[p, j]], s))
    })
}

/// A random (rows, cols) matrix of F, in ±1.
fn random<F: Float>(rng: &mut rand_chacha::ChaCha8Rng, dim: (usize, usize)) -> Array2<F> {
    matrix(rng, dim, 0.1).mapv(F::of)
}

/// Checks product_into against [`plain`] on (m, k, n), bit for bit: x and w as they are and
/// transposed (stored the other way round), overwriting and accumulating.
fn check<F: Float>(
    rng: &mut rand_chacha::ChaCha8Rng,
    (m, k, n): (usize, usize, usize),
    what: &str,
) {
    let (x, w) = (random::<F>(rng, (m, k)), random::<F>(rng, (k, n)));
    let (x_t, w_t) = (random::<F>(rng, (k, m)), random::<F>(rng, (n, k)));
    let start = random::<F>(rng, (m, n));
    let pairs = [
        (x.view(), w.view()),
        (x_t.t(), w.view()),
        (x.view(), w_t.t()),
        (x_t.t(), w_t.t()),
    ];
    for (x, w) in pairs {
        for accumulate in [false, true] {
            let want = plain(x, w, &start, accumulate);
            let mut got = start.clone();
            product_into(x, w, got.view_mut(), accumulate);
            assert!(
                bits(got.as_slice().unwrap()) == bits(want.as_slice().unwrap()),
                "{what}: ({m}, {k}, {n}), strides {:?}·{:?}, accumulate {accumulate}",
                x.strides(),
                w.strides()
            );
        }
    }
}

/// Shapes with every edge: 1s, primes, tile multiples ± 1, k across a KC boundary, n across
/// NC boundaries, out laid as it is and transposed (see at_level).
const SHAPES: [(usize, usize, usize); 12] = [
    (1, 1, 1),
    (1, 7, 1),
    (5, 3, 7),
    (6, 16, 32),
    (7, 17, 33),
    (13, 1, 65),
    (11, 257, 9),
    (25, 300, 17),
    (MR * 3 + 1, 2 * KC + 3, 31),
    (MC + 5, 20, 40),
    (9, 45, 2 * NC + 3),
    (2 * NC + 5, 30, 7),
];

#[test]
fn products_are_the_plain_ordered_sums_at_every_level_f32_and_f64() {
    let mut rng = rng(11);
    at_every_level(|level| {
        for &shape in &SHAPES {
            check::<f32>(&mut rng, shape, &format!("{level:?} f32"));
            check::<f64>(&mut rng, shape, &format!("{level:?} f64"));
        }
    });
}

#[test]
fn random_shapes_are_the_plain_ordered_sums() {
    let mut rng = rng(12);
    at_every_level(|level| {
        for _ in 0..20 {
            let mut size = |most: usize| rand::Rng::random_range(&mut rng, 1..=most);
            let shape = (size(70), size(600), size(90));
            check::<f32>(&mut rng, shape, &format!("{level:?} f32"));
        }
    });
}

#[test]
fn threads_split_rows_or_columns_without_changing_a_bit() {
    let mut rng = rng(13);
    // Large enough to be split (with a partial last block), by rows then by columns.
    for (m, k, n) in [(203, 300, 150), (20, 2200, 201)] {
        assert!(m * k * n >= 2 * PARALLEL_PRODUCT);
        let (x, w) = (
            random::<f32>(&mut rng, (m, k)),
            random::<f32>(&mut rng, (n, k)),
        );
        let want = plain(x.view(), w.t(), &Array2::zeros((m, n)), false);
        for parts in [1, 2, 3, 4] {
            let _parts = ForceParts::new(parts);
            let mut got = Array2::from_elem((m, n), f32::NAN);
            product_into(x.view(), w.t(), got.view_mut(), false);
            let same = bits(got.as_slice().unwrap()) == bits(want.as_slice().unwrap());
            assert!(same, "({m}, {k}, {n}) in {parts} parts");
        }
    }
}

#[test]
fn empty_sums_give_zero_or_leave_out_as_it_was() {
    let (x, w) = (Array2::<f32>::zeros((3, 0)), Array2::<f32>::zeros((0, 4)));
    let mut out = Array2::from_elem((3, 4), 2.0f32);
    product_into(x.view(), w.view(), out.view_mut(), true);
    assert!(out.iter().all(|&v| v == 2.0));
    product_into(x.view(), w.view(), out.view_mut(), false);
    assert!(out.iter().all(|&v| v == 0.0));
}

/// The operand a buffer and its offsets stand for: packed without offsets, else rows.
fn operand<'a, F>(base: &'a [F], offsets: &'a [usize]) -> Operand<'a, F> {
    match offsets.is_empty() {
        true => Operand::Packed(base),
        false => Operand::Rows { base, offsets },
    }
}

/// A (m, k) or B (k, n) as `multiply` reads them: packed, and read in place, each row at its
/// own offset in a longer buffer (gaps of NaN between rows, which no sum may read).
fn both_ways<F: Float>(
    matrix: &Array2<F>,
    is_a: bool,
    panels: Panels,
) -> [(Vec<F>, Vec<usize>); 2] {
    let (rows, cols) = matrix.dim();
    let packed = match is_a {
        true => pack_a(matrix.view(), &mut Vec::new()).to_vec(),
        false => pack_b(panels, matrix.view(), &mut Vec::new()).to_vec(),
    };
    // A's rows are its lanes (as many as whole panels of MR hold: the padding rows repeat the
    // last); B's rows are its steps, each readable to whole panels of nr (zeros past n).
    let (count, width) = match is_a {
        true => (rows.div_ceil(MR) * MR, cols),
        false => (rows, cols.div_ceil(panels.nr) * panels.nr),
    };
    let at = |t: usize| 3 + t.min(rows - 1) * (width + 2);
    let mut base = vec![F::of(f64::NAN); at(rows) + width + 2];
    for (t, row) in matrix.rows().into_iter().enumerate() {
        base[at(t)..at(t) + width].fill(F::zero());
        for (j, &v) in row.iter().enumerate() {
            base[at(t) + j] = v;
        }
    }
    [(packed, Vec::new()), (base, (0..count).map(at).collect())]
}

#[test]
fn multiply_reads_packed_and_in_place_operands_as_the_plain_ordered_sums() {
    let mut rng = rng(14);
    at_every_level(|level| {
        let panels = Panels::now::<f32>();
        for (m, k, n) in [(1, 1, 1), (7, 5, 33), (13, 40, 17), (6, 9, 64), (20, 3, 5)] {
            let (x, w) = (
                random::<f32>(&mut rng, (m, k)),
                random::<f32>(&mut rng, (k, n)),
            );
            let start = random::<f32>(&mut rng, (m, n));
            let (a_ways, b_ways) = (both_ways(&x, true, panels), both_ways(&w, false, panels));
            for ((a_base, a_offsets), (b_base, b_offsets)) in a_ways
                .iter()
                .flat_map(|a| b_ways.iter().map(move |b| (a, b)))
            {
                let (a, b) = (operand(a_base, a_offsets), operand(b_base, b_offsets));
                for accumulate in [false, true] {
                    let want = plain(x.view(), w.view(), &start, accumulate);
                    // Into out as it is (whole tiles in place) and into a transposed view.
                    let mut got = start.clone();
                    multiply(panels, (a, b, k), got.view_mut(), accumulate);
                    let mut got_t = start.t().as_standard_layout().into_owned();
                    multiply(
                        panels,
                        (a, b, k),
                        got_t.view_mut().reversed_axes(),
                        accumulate,
                    );
                    let what = format!("{level:?} ({m}, {k}, {n}) {a:?} {b:?} {accumulate}");
                    let want = bits(want.as_slice().unwrap());
                    assert_eq!(bits(got.as_slice().unwrap()), want, "{what}");
                    let got_t = got_t.t().as_standard_layout().into_owned();
                    assert_eq!(bits(got_t.as_slice().unwrap()), want, "{what}, transposed");
                }
            }
        }
    });
}

#[test]
fn packing_b_a_range_of_steps_at_a_time_gives_the_whole_packing() {
    let mut rng = rng(15);
    at_every_level(|level| {
        let panels = Panels::now::<f32>();
        // Rows of B (steps) contiguous or not, 1 to 3 panels, ranges of 1 to 9 steps.
        for (k, n) in [(1, 1), (9, 8), (17, 33), (24, 70)] {
            let b = random::<f32>(&mut rng, (k, n));
            let b_t = b.t().as_standard_layout().into_owned();
            let whole = pack_b(panels, b.view(), &mut Vec::new()).to_vec();
            for (src, layout) in [(b.view(), "rows"), (b_t.t(), "columns")] {
                let mut parts = vec![f32::NAN; whole.len()];
                let mut first = 0;
                for steps in (1..10).cycle() {
                    let steps = steps.min(k - first);
                    let part = src.slice(s![first..first + steps, ..]);
                    pack_b_steps_into(panels, part, (k, first), &mut parts);
                    first += steps;
                    if first == k {
                        break;
                    }
                }
                assert_eq!(bits(&parts), bits(&whole), "{level:?} ({k}, {n}) {layout}");
            }
        }
    });
}
