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
