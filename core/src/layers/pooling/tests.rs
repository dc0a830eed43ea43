use super::*;
use ndarray::{array, s};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(rng: &mut ChaCha8Rng, shape: (usize, usize, usize, usize)) -> Array4<f64> {
    Array4::from_shape_simple_fn(shape, || rng.random_range(-1.0..1.0))
}

fn bits(a: impl IntoIterator<Item = f64>) -> Vec<u64> {
    a.into_iter().map(f64::to_bits).collect()
}

#[test]
fn forward_keeps_each_windows_maximum_and_backward_routes_to_it() {
    let x = array![[[
        [1.0, 2.0, 0.0, -1.0],
        [4.0, 3.0, -2.0, -3.0],
        [0.0, 0.0, 5.0, 5.0],
        [0.0, 0.0, 5.0, 1.0]
    ]]];
    let mut pool = Pooling::new(2, 2, 2, 0);
    assert_eq!(pool.forward(x.view()), array![[[[4.0, 0.0], [0.0, 5.0]]]]);
    let dx = pool
        .backward(array![[[[10.0, 20.0], [30.0, 40.0]]]].view())
        .to_owned();
    // Ties go to the first maximum in (ph, pw) order, as np.argmax does: the zeros of the
    // bottom-left window to its top-left, the three 5s of the last to its top-left.
    assert_eq!(
        dx.slice(s![0, 0, .., ..]),
        array![
            [0.0, 0.0, 20.0, 0.0],
            [10.0, 0.0, 0.0, 0.0],
            [30.0, 0.0, 40.0, 0.0],
            [0.0, 0.0, 0.0, 0.0]
        ]
    );
}

/// Each case: input shape, (pool, stride, pad); overlapping windows, padding and a last row
/// and column no window covers included.
/// (N, C, H, W).
type Dims = (usize, usize, usize, usize);

const CASES: [(Dims, (usize, usize, usize)); 6] = [
    ((2, 3, 8, 8), (2, 2, 0)),
    ((2, 2, 7, 5), (2, 2, 0)),
    ((2, 2, 7, 7), (3, 1, 0)),
    ((1, 2, 6, 5), (3, 2, 1)),
    ((3, 1, 5, 5), (2, 1, 1)),
    ((2, 2, 9, 9), (3, 3, 0)),
];

#[test]
fn the_fast_route_gives_the_books_route_bit_for_bit() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (shape, (size, stride, pad)) in CASES {
        let mut pool = Pooling::new(size, size, stride, pad);
        // Rounded values: many ties, so that the first maximum matters.
        let x = random(&mut rng, shape).mapv(|v| (v * 3.0).round());
        let out = pool.forward(x.view()).to_owned();
        let (want, _) = reference::forward(&pool, x.view());
        assert_eq!(
            bits(out.iter().copied()),
            bits(want),
            "{shape:?} {size} {stride} {pad}"
        );
        assert_eq!(out, pool.forward_eval(x.view()));
        let dout = random(&mut rng, out.dim());
        let dx = pool.backward(dout.view()).to_owned();
        let want = reference::backward(&pool, x.view(), dout.view());
        assert_eq!(bits(dx), bits(want), "{shape:?} {size} {stride} {pad}");
    }
}

#[test]
fn backward_matches_numerical_gradients() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for (shape, (size, stride, pad)) in CASES {
        let mut pool = Pooling::new(size, size, stride, pad);
        // Distinct values at least 1e-3 apart (and from the padding's 0): no tie moves under h.
        let x = random(&mut rng, shape).mapv(|v| if v.abs() < 0.01 { 0.5 } else { v });
        let dout = random(&mut rng, pool.forward(x.view()).dim());
        let dx = pool.backward(dout.view()).to_owned();
        let h = 1e-6;
        for idx in 0..x.len() {
            let (mut up, mut down) = (x.clone(), x.clone());
            up.as_slice_mut().unwrap()[idx] += h;
            down.as_slice_mut().unwrap()[idx] -= h;
            let loss = |x: &Array4<f64>| (&pool.forward_eval(x.view()) * &dout).sum();
            let num = (loss(&up) - loss(&down)) / (2.0 * h);
            assert!(
                (num - dx.as_slice().unwrap()[idx]).abs() < 1e-8,
                "{shape:?} dx[{idx}]"
            );
        }
    }
}
