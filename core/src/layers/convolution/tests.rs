use super::*;
use ndarray::{array, Array4};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random<F: Float, D>(rng: &mut ChaCha8Rng, shape: D) -> ndarray::Array<F, D>
where
    D: ndarray::Dimension + ndarray::ShapeBuilder<Dim = D>,
{
    ndarray::Array::from_shape_simple_fn(shape, || F::of(rng.random_range(-1.0..1.0)))
}

fn bits<F: Float>(a: impl IntoIterator<Item = F>) -> Vec<u64> {
    a.into_iter().map(|v| v.to_f64().to_bits()).collect()
}

/// A layer of `filters` (FN, C, FH, FW) with random weights, and a random input.
fn setup<F: Float>(
    seed: u64,
    x_shape: (usize, usize, usize, usize),
    (filters, size): (usize, usize),
    stride: usize,
    pad: usize,
) -> (Convolution<F>, Array4<F>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let W = random(&mut rng, ndarray::Dim([filters, x_shape.1, size, size]));
    let b = random(&mut rng, ndarray::Dim([filters]));
    let x = random(
        &mut rng,
        ndarray::Dim([x_shape.0, x_shape.1, x_shape.2, x_shape.3]),
    );
    (Convolution::new(W, b, stride, pad), x)
}

#[test]
fn forward_is_each_patch_times_the_filter_plus_its_bias() {
    // A 3×3 image, one 2×2 filter [[1, 2], [3, 4]], bias 10.
    let x = Array4::from_shape_vec((1, 1, 3, 3), (1..=9).map(f64::from).collect()).unwrap();
    let W = Array4::from_shape_vec((1, 1, 2, 2), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let mut conv = Convolution::new(W, array![10.0], 1, 0);
    // Top-left patch [[1, 2], [4, 5]]: 1 + 4 + 12 + 20 = 37, + 10.
    assert_eq!(
        conv.forward(x.view()).slice(s![0, 0, .., ..]),
        array![[47.0, 57.0], [77.0, 87.0]]
    );
    // Padding 1, stride 2: the corner patch sees only x[0, 0] = 1 under the filter's 4.
    let mut padded = Convolution::new(conv.W.clone(), array![0.0], 2, 1);
    let out = padded.forward(x.view()).to_owned();
    assert_eq!(out.shape(), [1, 1, 2, 2]);
    assert_eq!(out[[0, 0, 0, 0]], 4.0);
    assert_eq!(out[[0, 0, 1, 1]], 5.0 + 2.0 * 6.0 + 3.0 * 8.0 + 4.0 * 9.0);
}

/// Each case: input (N, C, H, W), (FN, F), stride, pad.
/// (N, C, H, W).
type Dims = (usize, usize, usize, usize);

const CASES: [(Dims, (usize, usize), usize, usize); 7] = [
    ((2, 1, 8, 8), (3, 3), 1, 0),
    ((3, 2, 7, 7), (4, 3), 1, 1),
    ((2, 3, 9, 8), (5, 3), 2, 2),
    ((1, 2, 6, 6), (2, 5), 1, 1),
    ((4, 4, 12, 12), (16, 3), 1, 1),
    ((2, 2, 5, 7), (3, 2), 3, 0),
    // More filters than one panel of B holds at every level, rows of 10 outputs (8 + 2).
    ((2, 3, 10, 10), (40, 3), 1, 1),
];

fn same_bits_as_the_reference<F: Float>() {
    for (i, &(x_shape, filters, stride, pad)) in CASES.iter().enumerate() {
        let (mut conv, x) = setup::<F>(i as u64, x_shape, filters, stride, pad);
        let out = conv.forward(x.view()).to_owned();
        assert_eq!(
            bits(out.iter().copied()),
            bits(reference::forward(&conv, x.view()))
        );
        assert_eq!(bits(out.iter().copied()), bits(conv.forward_eval(x.view())));
        let mut rng = ChaCha8Rng::seed_from_u64(100 + i as u64);
        let dout = random::<F, _>(&mut rng, out.raw_dim());
        let dx = conv.backward(dout.view()).to_owned();
        let want = reference::backward(&conv, x.view(), dout.view());
        assert_eq!(bits(dx), bits(want.dx), "dx, case {i}");
        assert_eq!(bits(conv.dW.iter().copied()), bits(want.dW), "dW, case {i}");
        assert_eq!(bits(conv.db.iter().copied()), bits(want.db), "db, case {i}");
    }
}

#[test]
fn the_fast_route_gives_the_books_route_bit_for_bit_at_every_simd_level() {
    // Both routes (stride 1 in place, other strides in panels) and every micro-kernel.
    crate::kernels::tests::at_every_level(|_| {
        same_bits_as_the_reference::<f64>();
        same_bits_as_the_reference::<f32>();
    });
}

#[test]
fn one_thread_and_two_give_the_same_bits() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (mut conv, x) = setup::<f32>(7, (8, 3, 12, 12), (32, 3), 1, 1);
            let out = conv.forward(x.view()).to_owned();
            let dout = out.mapv(|v| v.sin());
            let dx = conv.backward(dout.view()).to_owned();
            (
                bits(out),
                bits(dx),
                bits(conv.dW.iter().copied()),
                bits(conv.db.iter().copied()),
            )
        })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn backward_matches_numerical_gradients() {
    for (i, &(x_shape, filters, stride, pad)) in CASES.iter().take(4).enumerate() {
        let (mut conv, x) = setup::<f64>(i as u64, x_shape, filters, stride, pad);
        let out = conv.forward(x.view()).to_owned();
        let mut rng = ChaCha8Rng::seed_from_u64(50 + i as u64);
        let dout = random::<f64, _>(&mut rng, out.raw_dim());
        let dx = conv.backward(dout.view()).to_owned();
        // L = Σ forward ⊙ dout; central differences with h = 1e-5 (L is linear in each
        // argument, so only rounding remains).
        let loss =
            |conv: &Convolution<f64>, x: &Array4<f64>| (&conv.forward_eval(x.view()) * &dout).sum();
        let h = 1e-5;
        let slope = |up: f64, down: f64| (up - down) / (2.0 * h);
        let mut probe = conv.clone();
        for idx in 0..x.len() {
            let (mut up, mut down) = (x.clone(), x.clone());
            up.as_slice_mut().unwrap()[idx] += h;
            down.as_slice_mut().unwrap()[idx] -= h;
            let num = slope(loss(&probe, &up), loss(&probe, &down));
            assert!(
                (num - dx.as_slice().unwrap()[idx]).abs() < 1e-8,
                "dx[{idx}]"
            );
        }
        for idx in 0..conv.W.len() {
            let keep = probe.W.as_slice().unwrap()[idx];
            probe.W.as_slice_mut().unwrap()[idx] = keep + h;
            let up = loss(&probe, &x);
            probe.W.as_slice_mut().unwrap()[idx] = keep - h;
            let down = loss(&probe, &x);
            probe.W.as_slice_mut().unwrap()[idx] = keep;
            let grad = conv.dW.as_slice().unwrap()[idx];
            assert!((slope(up, down) - grad).abs() < 1e-8, "dW[{idx}]");
        }
        for f in 0..conv.b.len() {
            let keep = probe.b[f];
            probe.b[f] = keep + h;
            let up = loss(&probe, &x);
            probe.b[f] = keep - h;
            let down = loss(&probe, &x);
            probe.b[f] = keep;
            assert!((slope(up, down) - conv.db[f]).abs() < 1e-8, "db[{f}]");
        }
    }
}

#[test]
fn a_first_layer_skips_dx_and_keeps_dw() {
    let (mut conv, x) = setup::<f64>(3, (2, 1, 6, 6), (2, 3), 1, 1);
    let dout = conv.forward(x.view()).mapv(|v| v * 0.5);
    conv.backward(dout.view());
    let dW = conv.dW.clone();
    conv.needs_dx = false;
    conv.forward(x.view());
    assert_eq!(conv.backward(dout.view()).len(), 0);
    assert_eq!(conv.dW, dW);
}
