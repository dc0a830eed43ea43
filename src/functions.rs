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
    half * y
        .iter()
        .zip(t.iter())
        .map(|(&a, &b)| (a - b) * (a - b))
        .sum::<F>()
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
    let total: F = y
        .iter()
        .zip(t.iter())
        .map(|(&p, &q)| q * (p + delta).ln())
        .sum();
    -total / F::of(n as f64)
}

/// Cross-entropy with label targets (class indices), averaged over the batch:
/// `-Σ ln(y[i, t_i] + 1e-7) / N`; y: (N, C), t: N labels.
pub fn cross_entropy_error_labels<F: Float, S: Data<Elem = F>>(
    y: &ArrayBase<S, Ix2>,
    t: &[usize],
) -> F {
    let delta = F::of(CEE_DELTA);
    let total: F = y
        .outer_iter()
        .zip(t)
        .map(|(row, &label)| (row[label] + delta).ln())
        .sum();
    -total / F::of(t.len() as f64)
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
