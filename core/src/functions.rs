//! The book's functions on arrays: activations (step, sigmoid, relu, softmax) and losses
//! (`sum_squared_error`, `cross_entropy_error`).
//!
//! Each works on one sample (a vector) or a batch (one sample per row); softmax and the losses
//! treat the last axis as the classes.

use crate::Float;
use ndarray::{Array, ArrayBase, ArrayView1, Axis, Data, DataMut, Dimension, Ix2};

/// The book's `1e-7` added inside `ln` so that `ln(0)` never happens.
pub const CEE_DELTA: f64 = 1e-7;

/// Step function: 1 where `x > 0`, else 0 (the perceptron's activation).
pub fn step<F: Float, S: Data<Elem = F>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<F, D> {
    x.mapv(|v| if v > F::zero() { F::one() } else { F::zero() })
}

/// Sigmoid `1 / (1 + e^-x)`, element by element.
pub fn sigmoid<F: Float, S: Data<Elem = F>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<F, D> {
    x.mapv(sigmoid_scalar)
}

/// Sigmoid of one number.
#[inline]
pub fn sigmoid_scalar<F: Float>(v: F) -> F {
    F::one() / (F::one() + (-v).exp())
}

/// ReLU `max(0, x)`, element by element.
pub fn relu<F: Float, S: Data<Elem = F>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<F, D> {
    x.mapv(|v| v.max(F::zero()))
}

/// Softmax over the last axis: `exp(x - max) / Σ exp(x - max)`; x: (C,) or (N, C).
///
/// Subtracting each row's maximum changes nothing mathematically (it cancels in the ratio) but
/// keeps `exp` from overflowing for inputs like (1010, 1000, 990).
pub fn softmax<F: Float, S: Data<Elem = F>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<F, D> {
    let mut y = x.to_owned();
    softmax_inplace(&mut y);
    y
}

/// Softmax over the last axis, overwriting `x` (the allocation-free form the layers use).
pub fn softmax_inplace<F: Float, S: DataMut<Elem = F>, D: Dimension>(x: &mut ArrayBase<S, D>) {
    let last = Axis(x.ndim().saturating_sub(1));
    for mut row in x.lanes_mut(last) {
        let max = row.fold(F::neg_infinity(), |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
}

/// Sum of squared errors `0.5 Σ (y - t)²` (the book's "mean squared error"); y, t: same shape.
pub fn sum_squared_error<F: Float, S: Data<Elem = F>, T: Data<Elem = F>, D: Dimension>(
    y: &ArrayBase<S, D>,
    t: &ArrayBase<T, D>,
) -> F {
    let half = F::of(0.5);
    half * pairwise_sum(y.iter().zip(t.iter()).map(|(&a, &b)| (a - b) * (a - b)))
}

/// The number of samples in `y`: 1 for a vector, the row count for a batch.
fn batch_size(shape: &[usize]) -> usize {
    if shape.len() <= 1 {
        1
    } else {
        shape[0]
    }
}

/// Cross-entropy with one-hot targets, averaged over the batch: `-Σ t·ln(y + 1e-7) / N`;
/// y, t: (C,) or (N, C).
pub fn cross_entropy_error<F: Float, S: Data<Elem = F>, T: Data<Elem = F>, D: Dimension>(
    y: &ArrayBase<S, D>,
    t: &ArrayBase<T, D>,
) -> F {
    let delta = F::of(CEE_DELTA);
    let n = batch_size(y.shape());
    let total = pairwise_sum(y.iter().zip(t.iter()).map(|(&p, &q)| q * (p + delta).ln()));
    -total / F::of(n as f64)
}

/// Cross-entropy with label targets (class indices), averaged over the batch:
/// `-Σ ln(y[i, t_i] + 1e-7) / N`; y: (N, C), t: N labels.
pub fn cross_entropy_error_labels<F: Float, S: Data<Elem = F>>(
    y: &ArrayBase<S, Ix2>,
    t: &[usize],
) -> F {
    let delta = F::of(CEE_DELTA);
    let total = pairwise_sum(
        y.outer_iter()
            .zip(t)
            .map(|(row, &label)| (row[label] + delta).ln()),
    );
    -total / F::of(t.len() as f64)
}

/// Σ values in NumPy's order: pairwise, with eight running sums in blocks of up to 128.
///
/// It gives the same bits as `np.sum` on a contiguous array (so the losses print the book's
/// digits: 0.5975, not 0.5974999999999999), and its rounding error grows like log n, not n.
pub fn pairwise_sum<F: Float>(mut values: impl ExactSizeIterator<Item = F>) -> F {
    let n = values.len();
    pairwise_sum_of(&mut values, n)
}

/// The next `n` values of `values`, summed as NumPy's `pairwise_sum` does.
fn pairwise_sum_of<F: Float>(values: &mut impl Iterator<Item = F>, n: usize) -> F {
    if n < 8 {
        return values.take(n).fold(F::zero(), |sum, v| sum + v);
    }
    if n > 128 {
        // Halve, keeping the first half a multiple of 8.
        let half = n / 2 - (n / 2) % 8;
        return pairwise_sum_of(values, half) + pairwise_sum_of(values, n - half);
    }
    let mut r = [F::zero(); 8];
    for (i, v) in values.take(n - n % 8).enumerate() {
        if i < 8 {
            r[i] = v;
        } else {
            r[i % 8] += v;
        }
    }
    let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for v in values.take(n % 8) {
        sum += v;
    }
    sum
}

/// Index of the largest element (the predicted class); ties go to the first.
pub fn argmax<F: Float>(row: ArrayView1<F>) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn softmax_rows_sum_to_one_and_stay_finite_for_large_inputs() {
        for x in [array![1010.0, 1000.0, 990.0], array![-1000.0, 0.0, 1000.0]] {
            let y = softmax(&x);
            assert!(y.iter().all(|v: &f64| v.is_finite()));
            assert!((y.sum() - 1.0).abs() < 1e-12);
        }
        let batch: Array2<f32> = array![[1010.0, 1000.0, 990.0], [0.3, 2.9, 4.0]];
        let y = softmax(&batch);
        for row in y.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-6);
        }
        // The book's example: softmax([0.3, 2.9, 4.0]) = [0.01821127, 0.24519181, 0.73659691].
        assert!((y[[1, 0]] - 0.018_211_27).abs() < 1e-6);
        assert!((y[[1, 2]] - 0.736_596_9).abs() < 1e-6);
    }

    #[test]
    fn cross_entropy_with_labels_equals_one_hot() {
        let y: Array2<f64> = array![[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]];
        let t = array![[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let a = cross_entropy_error(&y, &t);
        let b = cross_entropy_error_labels(&y, &[1, 2]);
        assert!((a - b).abs() < 1e-15);
        assert!((a - (-(0.7f64 + 1e-7).ln() - (0.25f64 + 1e-7).ln()) / 2.0).abs() < 1e-15);
    }

    #[test]
    fn losses_give_the_notes_figures_to_the_last_digit() {
        let t = array![0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let good = array![0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0];
        let bad = array![0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0];
        // NumPy's float64 results, bit for bit (the notes round the first to 0.0975).
        assert_eq!(sum_squared_error(&good, &t), 0.097_500_000_000_000_03);
        assert_eq!(sum_squared_error(&bad, &t), 0.5975);
        assert_eq!(cross_entropy_error(&good, &t), 0.510_825_457_099_338);
        assert_eq!(cross_entropy_error(&bad, &t), 2.302_584_092_994_546);
        let y = ndarray::stack(Axis(0), &[good.view(), bad.view()]).unwrap();
        assert_eq!(
            cross_entropy_error_labels(&y, &[2, 2]),
            (0.510_825_457_099_338 + 2.302_584_092_994_546) / 2.0
        );
    }

    #[test]
    fn pairwise_sum_matches_numpy_bit_for_bit() {
        // (n, np.sum(np.full(n, 0.1)), np.sum(np.arange(n) / 7.0)) from NumPy 2.4.
        let cases = [
            (7, 0.7, 3.0),
            (10, 1.0, 6.428_571_428_571_428),
            (100, 9.999_999_999_999_998, 707.142_857_142_857_1),
            (129, 12.899_999_999_999_999, 1_179.428_571_428_571_6),
            (1000, 100.000_000_000_000_01, 71_357.142_857_142_86),
            (10000, 999.999_999_999_999_9, 7_142_142.857_142_857),
        ];
        for (n, tenths, sevenths) in cases {
            assert_eq!(pairwise_sum(std::iter::repeat_n(0.1, n)), tenths, "n = {n}");
            assert_eq!(
                pairwise_sum((0..n).map(|i| i as f64 / 7.0)),
                sevenths,
                "n = {n}"
            );
        }
        // A plain left-to-right sum drifts: 1000 × 0.1 gives 99.9999999999986.
        assert_eq!((0..1000).map(|_| 0.1).sum::<f64>(), 99.999_999_999_998_6);
        assert_eq!(pairwise_sum(std::iter::empty::<f32>()), 0.0);
    }

    #[test]
    fn activations_match_their_definitions() {
        let x = array![-1.0, 0.0, 2.0];
        assert_eq!(step(&x), array![0.0, 0.0, 1.0]);
        assert_eq!(relu(&x), array![0.0, 0.0, 2.0]);
        let s = sigmoid(&x);
        assert!((s[1] - 0.5f64).abs() < 1e-15);
        assert!((s[2] - 0.880_797_077_977_882_3).abs() < 1e-15);
        assert_eq!(argmax(array![0.1, 0.9, 0.9].view()), 1);
    }
}
