//! The book's 2×3 example network (`simpleNet`), whose only use is to show a gradient with
//! respect to a weight matrix: one layer `x·W`, softmax, cross-entropy, no bias, no training.

use crate::functions::{cross_entropy_error, softmax};
use crate::{numerical, Float};
use ndarray::{Array1, Array2, ArrayBase, Axis, Data, Ix1};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// One weight matrix `W`: (in, out), the book's (2, 3). Named as in the book.
#[allow(non_snake_case)]
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleNet<F: Float = f64> {
    /// Weights, (in, out).
    pub W: Array2<F>,
}

impl<F: Float> SimpleNet<F> {
    /// A net with the given weights W: (in, out).
    #[allow(non_snake_case)]
    pub fn new(W: Array2<F>) -> Self {
        SimpleNet { W }
    }

    /// A 2×3 net with standard-normal weights (the book's `np.random.randn(2, 3)`), drawn
    /// row by row from ChaCha8 seeded with `seed`, so the same seed gives the same W everywhere.
    #[allow(non_snake_case)]
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let W = Array2::from_shape_simple_fn((2, 3), || F::of(StandardNormal.sample(&mut rng)));
        SimpleNet { W }
    }

    /// Scores `x·W`; x: (in,) → (out,).
    pub fn predict<S: Data<Elem = F>>(&self, x: &ArrayBase<S, Ix1>) -> Array1<F> {
        x.dot(&self.W)
    }

    /// Cross-entropy of softmax(x·W) against the one-hot target t; x: (in,), t: (out,).
    pub fn loss<S: Data<Elem = F>, T: Data<Elem = F>>(
        &self,
        x: &ArrayBase<S, Ix1>,
        t: &ArrayBase<T, Ix1>,
    ) -> F {
        loss_with(&self.W, x, t)
    }

    /// dW by [`numerical::numerical_gradient`] of the loss with respect to W: (in, out).
    ///
    /// Takes `&mut self` because W is perturbed in place, one element at a time, and restored
    /// exactly before this returns (the book's `lambda W: net.loss(x, t)`).
    #[allow(non_snake_case)]
    pub fn numerical_gradient<S: Data<Elem = F>, T: Data<Elem = F>>(
        &mut self,
        x: &ArrayBase<S, Ix1>,
        t: &ArrayBase<T, Ix1>,
    ) -> Array2<F> {
        numerical::numerical_gradient(|W| loss_with(W, x, t), &mut self.W)
    }

    /// The analytic dW = xᵀ·(softmax(x·W) − t): (in, out), the reference the numerical
    /// gradient is checked against.
    ///
    /// It is the exact gradient of `−ln y_k` (k the true class); the loss adds the book's 1e-7
    /// inside the log, which scales the exact gradient by `y_k / (y_k + 1e-7)`, so the two
    /// differ in about the 7th significant digit.
    pub fn gradient<S: Data<Elem = F>, T: Data<Elem = F>>(
        &self,
        x: &ArrayBase<S, Ix1>,
        t: &ArrayBase<T, Ix1>,
    ) -> Array2<F> {
        let dy = softmax(&self.predict(x)) - t;
        x.view()
            .insert_axis(Axis(1))
            .dot(&dy.view().insert_axis(Axis(0)))
    }
}

/// The loss as a function of the weights, so that the numerical gradient can perturb them.
#[allow(non_snake_case)]
fn loss_with<F: Float, S: Data<Elem = F>, T: Data<Elem = F>>(
    W: &Array2<F>,
    x: &ArrayBase<S, Ix1>,
    t: &ArrayBase<T, Ix1>,
) -> F {
    cross_entropy_error(&softmax(&x.dot(W)), t)
}

#[cfg(test)]
#[allow(non_snake_case)]
mod tests {
    use super::*;
    use crate::functions::CEE_DELTA;
    use ndarray::array;

    /// The book's weights as it prints them (8 decimals).
    fn book_net() -> SimpleNet {
        SimpleNet::new(array![
            [0.47355232, 0.9977393, 0.84668094],
            [0.85557411, 0.03563661, 0.69422093]
        ])
    }

    fn assert_close(a: &Array2<f64>, b: &Array2<f64>, tol: f64) {
        for (p, q) in a.iter().zip(b) {
            assert!((p - q).abs() < tol, "{a} vs {b}");
        }
    }

    #[test]
    fn the_books_example_predicts_and_scores_as_printed() {
        let net = book_net();
        let x = array![0.6, 0.9];
        let p = net.predict(&x);
        let book_p = [1.05414809, 0.63071653, 1.1328074];
        for (a, b) in p.iter().zip(book_p) {
            assert!((a - b).abs() < 1e-8);
        }
        // With the 1e-7 inside the log; the book printed 0.92806853663411326, i.e. −ln y₂
        // without it (−ln(y₂ + 1e-7) is smaller by about 1e-7 / y₂ = 2.5e-7).
        let loss = net.loss(&x, &array![0.0, 0.0, 1.0]);
        assert_eq!(loss, 0.928_068_285_786_407_5);
        let y2 = softmax(&p)[2];
        assert!((-y2.ln() - 0.928_068_536_634_113_3).abs() < 1e-8);
    }

    #[test]
    fn numerical_dw_is_the_books_up_to_the_log_offset() {
        let mut net = book_net();
        let x = array![0.6, 0.9];
        let t = array![0.0, 0.0, 1.0];
        let before = net.W.clone();
        let dW = net.numerical_gradient(&x, &t);
        assert_eq!(net.W, before, "W must come back unchanged");

        // Our loss (with 1e-7 in the log) to NumPy's printed 8 decimals.
        let ours = array![
            [0.21924757, 0.14356243, -0.36281],
            [0.32887136, 0.21534364, -0.544215]
        ];
        assert_close(&dW, &ours, 5e-9);

        // The analytic gradient is the book's printed dW, and agrees to 1e-6.
        let analytic = net.gradient(&x, &t);
        let book = array![
            [0.21924763, 0.14356247, -0.36281009],
            [0.32887144, 0.2153437, -0.54421514]
        ];
        assert_close(&analytic, &book, 5e-9);
        assert_close(&dW, &analytic, 1e-6);

        // The exact relation: the 1e-7 scales the gradient by y₂ / (y₂ + 1e-7).
        let y2 = softmax(&net.predict(&x))[2];
        assert_close(&dW, &(&analytic * (y2 / (y2 + CEE_DELTA))), 1e-9);
    }

    #[test]
    fn random_nets_match_the_analytic_gradient_and_rows_sum_to_zero() {
        let x = array![0.6, 0.9];
        for seed in 0..20 {
            let mut net = SimpleNet::<f64>::from_seed(seed);
            let y = softmax(&net.predict(&x));
            for k in 0..3 {
                let mut t = Array1::zeros(3);
                t[k] = 1.0;
                let dW = net.numerical_gradient(&x, &t);
                let analytic = net.gradient(&x, &t);
                // Exactly the analytic gradient of the loss with its 1e-7 …
                let scale = y[k] / (y[k] + CEE_DELTA);
                assert_close(&dW, &(&analytic * scale), 1e-9);
                // … which is xᵀ(softmax − t) to 1e-6 unless y_k is tiny (1e-7 / y_k is not).
                if y[k] >= 0.1 {
                    assert_close(&dW, &analytic, 1e-6);
                }
                // softmax − t sums to 0, and row i is that vector times x_i.
                for row in dW.rows() {
                    assert!(row.sum().abs() < 1e-8, "{dW}");
                }
                let ratio = &dW.row(1) / &dW.row(0);
                assert!(ratio.iter().all(|r| (r - 1.5).abs() < 1e-5), "{dW}");
            }
        }
    }

    #[test]
    fn from_seed_is_reproducible_and_standard_normal() {
        let a = SimpleNet::<f64>::from_seed(42);
        assert_eq!(a, SimpleNet::from_seed(42));
        assert_ne!(a, SimpleNet::from_seed(43));
        assert_eq!(a.W.dim(), (2, 3));
        let many: Vec<f64> = (0..200)
            .flat_map(|s| SimpleNet::<f64>::from_seed(s).W.into_iter())
            .collect();
        let mean = many.iter().sum::<f64>() / many.len() as f64;
        let var = many.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / many.len() as f64;
        assert!(mean.abs() < 0.1 && (var - 1.0).abs() < 0.15, "{mean} {var}");
        // The f32 net is the f64 net rounded.
        let b = SimpleNet::<f32>::from_seed(42);
        assert_eq!(b.W, a.W.mapv(|v| v as f32));
    }
}
