//! SoftmaxWithLoss: softmax followed by cross-entropy, whose backward is `(y - t) / N`.

use super::{copy_into, ensure_shape};
use crate::functions::{
    cross_entropy_error, cross_entropy_error_labels, softmax_inplace, CEE_DELTA,
};
use crate::Float;
use ndarray::{Array2, ArrayView2, Zip};

/// The targets of a batch: class labels (N of them) or one-hot rows (N, C).
#[derive(Clone, Copy)]
pub enum Targets<'a, F> {
    /// One class index per sample.
    Labels(&'a [usize]),
    /// One one-hot row per sample, (N, C).
    OneHot(ArrayView2<'a, F>),
}

/// Softmax and cross-entropy error as one layer; keeps `y` (the softmax output) for `backward`.
#[derive(Clone)]
pub struct SoftmaxWithLoss<F: Float> {
    y: Array2<F>,
    dx: Array2<F>,
}

impl<F: Float> Default for SoftmaxWithLoss<F> {
    fn default() -> Self {
        SoftmaxWithLoss {
            y: Array2::zeros((0, 0)),
            dx: Array2::zeros((0, 0)),
        }
    }
}

impl<F: Float> SoftmaxWithLoss<F> {
    /// Loss averaged over the batch; x: (N, C) scores, t: N labels or (N, C) one-hot.
    pub fn forward(&mut self, x: ArrayView2<F>, t: Targets<F>) -> F {
        copy_into(&mut self.y, x);
        softmax_inplace(&mut self.y);
        match t {
            Targets::Labels(labels) => cross_entropy_error_labels(&self.y, labels),
            Targets::OneHot(onehot) => cross_entropy_error(&self.y, &onehot),
        }
    }

    /// The softmax output of the last `forward`, (N, C).
    pub fn y(&self) -> ArrayView2<'_, F> {
        self.y.view()
    }

    /// `dx = (y - t) / N`, scaled per row by `y_t / (y_t + 1e-7)`; returns (N, C).
    ///
    /// The softmax's and the cross-entropy's derivatives cancel to the clean `(y - t) / N` —
    /// the reason the book pairs them in one layer. That is the derivative of `-ln(y_t)`; the
    /// loss `forward` reports is `-ln(y_t + 1e-7)`, whose derivative carries the extra factor
    /// `y_t / (y_t + 1e-7)` (within 1e-6 of 1 unless y_t is tiny). Applying it makes backward
    /// the exact derivative of the reported loss, so the gradient check agrees to ~1e-10
    /// instead of ~1e-7. For one-hot rows the general form is
    /// `dx_k = (y_k · Σ_j w_j − w_k) / N` with `w_j = t_j · y_j / (y_j + 1e-7)`.
    pub fn backward(&mut self, t: Targets<F>) -> ArrayView2<'_, F> {
        let (n, c) = self.y.dim();
        ensure_shape(&mut self.dx, n, c);
        let inv_n = F::one() / F::of(n as f64);
        let delta = F::of(CEE_DELTA);
        let rows = self.dx.rows_mut().into_iter().zip(self.y.rows());
        match t {
            Targets::Labels(labels) => {
                for ((mut dx, y), &label) in rows.zip(labels) {
                    let s = y[label] / (y[label] + delta) * inv_n;
                    Zip::from(&mut dx).and(&y).for_each(|d, &y| *d = y * s);
                    dx[label] -= s;
                }
            }
            Targets::OneHot(onehot) => {
                for ((mut dx, y), t) in rows.zip(onehot.rows()) {
                    let w_sum: F = y.iter().zip(t).map(|(&y, &t)| t * y / (y + delta)).sum();
                    Zip::from(&mut dx)
                        .and(&y)
                        .and(&t)
                        .for_each(|d, &y, &t| *d = (y * w_sum - t * y / (y + delta)) * inv_n);
                }
            }
        }
        self.dx.view()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::softmax;
    use ndarray::{array, Array2};

    #[test]
    fn labels_and_one_hot_agree_and_backward_matches_numerical_gradient() {
        let x: Array2<f64> = array![[0.3, 2.9, 4.0], [1.0, -1.0, 0.5]];
        let labels = [2usize, 0];
        let onehot = array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]];
        let mut layer = SoftmaxWithLoss::default();
        let a = layer.forward(x.view(), Targets::Labels(&labels));
        let da = layer.backward(Targets::Labels(&labels)).to_owned();
        let b = layer.forward(x.view(), Targets::OneHot(onehot.view()));
        let db = layer.backward(Targets::OneHot(onehot.view())).to_owned();
        assert!((a - b).abs() < 1e-15);
        assert!((&da - &db).iter().all(|v| v.abs() < 1e-15));

        let h = 1e-5;
        for i in 0..2 {
            for j in 0..3 {
                let (mut up, mut down) = (x.clone(), x.clone());
                up[[i, j]] += h;
                down[[i, j]] -= h;
                let loss = |x: &Array2<f64>| cross_entropy_error(&softmax(x), &onehot);
                let numerical = (loss(&up) - loss(&down)) / (2.0 * h);
                assert!((numerical - da[[i, j]]).abs() < 1e-9, "{i},{j}");
            }
        }
    }
}
