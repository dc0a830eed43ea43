//! Batch normalization (chapter 6, the book's `BatchNormalization`): each feature of a batch
//! is shifted to mean 0 and scaled to variance 1, then scaled by `gamma` and shifted by `beta`.
//!
//! ```text
//! training:   mu = mean(x, axis 0), var = mean((x − mu)², axis 0)      (per feature)
//!             running_mean ← momentum · running_mean + (1 − momentum) · mu   (same for var)
//! evaluation: mu = running_mean, var = running_var
//! xn = (x − mu) / √(var + 1e-6);  out = gamma ⊙ xn + beta
//! ```

use super::{copy_into, ensure_shape};
use crate::Float;
use ndarray::{Array1, Array2, ArrayView2, Zip};

/// The book's `10e-7`, added to the variance before the square root.
pub const EPS: f64 = 1e-6;

/// Batch normalization over D features, with learned `gamma`, `beta`: (D,) and running
/// statistics for evaluation; keeps `xc`, `xn` and `std` (the book's caches) for `backward`.
#[derive(Clone)]
pub struct BatchNorm<F: Float> {
    /// Scale, (D,), initially ones.
    pub gamma: Array1<F>,
    /// Shift, (D,), initially zeros.
    pub beta: Array1<F>,
    /// Gradient of the loss with respect to `gamma`, written by `backward`.
    pub dgamma: Array1<F>,
    /// Gradient of the loss with respect to `beta`, written by `backward`.
    pub dbeta: Array1<F>,
    /// Weight of the old running statistics in each update (the book's 0.9).
    pub momentum: f64,
    /// Mean per feature used at evaluation, (D,), initially zeros (as in the book).
    pub running_mean: Array1<F>,
    /// Variance per feature used at evaluation, (D,), initially zeros (as in the book).
    pub running_var: Array1<F>,
    xc: Array2<F>,
    xn: Array2<F>,
    std: Array1<F>,
    mu: Array1<F>,
    var: Array1<F>,
    dvar: Array1<F>,
    dmu: Array1<F>,
    out: Array2<F>,
    dx: Array2<F>,
}

impl<F: Float> BatchNorm<F> {
    /// A layer for `features` features: gamma = 1, beta = 0, momentum 0.9.
    pub fn new(features: usize) -> Self {
        Self::from_params(Array1::ones(features), Array1::zeros(features))
    }

    /// A layer from given `gamma` and `beta`, (D,) each; running statistics start at zero.
    pub fn from_params(gamma: Array1<F>, beta: Array1<F>) -> Self {
        assert_eq!(gamma.len(), beta.len(), "BatchNorm: gamma and beta differ");
        let d = gamma.len();
        BatchNorm {
            dgamma: Array1::zeros(d),
            dbeta: Array1::zeros(d),
            gamma,
            beta,
            momentum: 0.9,
            running_mean: Array1::zeros(d),
            running_var: Array1::zeros(d),
            xc: Array2::zeros((0, 0)),
            xn: Array2::zeros((0, 0)),
            std: Array1::zeros(d),
            mu: Array1::zeros(d),
            var: Array1::zeros(d),
            dvar: Array1::zeros(d),
            dmu: Array1::zeros(d),
            out: Array2::zeros((0, 0)),
            dx: Array2::zeros((0, 0)),
        }
    }

    /// x: (N, D) → out: (N, D), normalized by the batch's statistics (`train_flg`, which also
    /// updates the running ones) or by the running statistics.
    pub fn forward(&mut self, x: ArrayView2<F>, train_flg: bool) -> ArrayView2<'_, F> {
        if !train_flg {
            copy_into(&mut self.out, x);
            let mut out = std::mem::replace(&mut self.out, Array2::zeros((0, 0)));
            self.forward_eval_inplace(&mut out);
            self.out = out;
            return self.out.view();
        }
        let n = F::of(x.nrows() as f64);
        let (m, rest) = (F::of(self.momentum), F::of(1.0 - self.momentum));
        // mu, then xc = x − mu.
        self.mu.fill(F::zero());
        for row in x.rows() {
            self.mu += &row;
        }
        self.mu /= n;
        copy_into(&mut self.xc, x);
        for mut row in self.xc.rows_mut() {
            row -= &self.mu;
        }
        // var = mean(xc²), then std = √(var + eps).
        self.var.fill(F::zero());
        for row in self.xc.rows() {
            Zip::from(&mut self.var)
                .and(row)
                .for_each(|s, &v| *s += v * v);
        }
        self.var /= n;
        for (running, batch) in [
            (&mut self.running_mean, &self.mu),
            (&mut self.running_var, &self.var),
        ] {
            Zip::from(running)
                .and(batch)
                .for_each(|r, &b| *r = m * *r + rest * b);
        }
        let eps = F::of(EPS);
        Zip::from(&mut self.std)
            .and(&self.var)
            .for_each(|s, &var| *s = (var + eps).sqrt());
        // xn = xc / std; out = gamma ⊙ xn + beta.
        copy_into(&mut self.xn, self.xc.view());
        ensure_shape(&mut self.out, x.nrows(), x.ncols());
        for (mut xn, mut out) in self.xn.rows_mut().into_iter().zip(self.out.rows_mut()) {
            Zip::from(&mut xn)
                .and(&mut out)
                .and(&self.std)
                .and(&self.gamma)
                .and(&self.beta)
                .for_each(|xn, o, &s, &g, &b| {
                    *xn /= s;
                    *o = g * *xn + b;
                });
        }
        self.out.view()
    }

    /// From dout: (N, D), writes `dgamma = Σ xn ⊙ dout`, `dbeta = Σ dout` (over the batch) and
    /// returns dx: (N, D), through the mean and variance of the last training `forward`.
    pub fn backward(&mut self, dout: ArrayView2<F>) -> ArrayView2<'_, F> {
        let (rows, cols) = dout.dim();
        let n = F::of(rows as f64);
        ensure_shape(&mut self.dx, rows, cols);
        self.dbeta.fill(F::zero());
        self.dgamma.fill(F::zero());
        for (dout, xn) in dout.rows().into_iter().zip(self.xn.rows()) {
            Zip::from(&mut self.dbeta)
                .and(&mut self.dgamma)
                .and(dout)
                .and(xn)
                .for_each(|db, dg, &d, &xn| {
                    *db += d;
                    *dg += xn * d;
                });
        }
        // dxn = gamma ⊙ dout; dx ← dxc = dxn / std; dvar ← Σ dxn ⊙ xc for now.
        self.dvar.fill(F::zero());
        for ((mut dx, dout), xc) in self
            .dx
            .rows_mut()
            .into_iter()
            .zip(dout.rows())
            .zip(self.xc.rows())
        {
            Zip::from(&mut dx)
                .and(dout)
                .and(xc)
                .and(&self.gamma)
                .and(&self.std)
                .and(&mut self.dvar)
                .for_each(|dx, &d, &xc, &g, &s, acc| {
                    let dxn = g * d;
                    *acc += dxn * xc;
                    *dx = dxn / s;
                });
        }
        // dstd = −Σ dxn ⊙ xc / std², dvar = 0.5 · dstd / std.
        let half = F::of(0.5);
        Zip::from(&mut self.dvar)
            .and(&self.std)
            .for_each(|acc, &s| *acc = half * (-*acc / (s * s)) / s);
        // dxc += (2/N) · xc ⊙ dvar; dmu = Σ dxc; dx = dxc − dmu / N.
        let two_over_n = F::of(2.0) / n;
        self.dmu.fill(F::zero());
        for (mut dx, xc) in self.dx.rows_mut().into_iter().zip(self.xc.rows()) {
            Zip::from(&mut dx)
                .and(xc)
                .and(&self.dvar)
                .and(&mut self.dmu)
                .for_each(|dx, &xc, &dvar, dmu| {
                    *dx += two_over_n * xc * dvar;
                    *dmu += *dx;
                });
        }
        self.dmu /= n;
        for mut dx in self.dx.rows_mut() {
            dx -= &self.dmu;
        }
        self.dx.view()
    }

    /// The evaluation forward in place, keeping nothing:
    /// `x ← gamma ⊙ (x − running_mean) / √(running_var + 1e-6) + beta`; x: (N, D).
    pub fn forward_eval_inplace(&self, x: &mut Array2<F>) {
        let eps = F::of(EPS);
        for mut row in x.rows_mut() {
            Zip::from(&mut row)
                .and(&self.running_mean)
                .and(&self.running_var)
                .and(&self.gamma)
                .and(&self.beta)
                .for_each(|v, &mu, &var, &g, &b| *v = g * (*v - mu) / (var + eps).sqrt() + b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{max_diff, numerical_dx};
    use ndarray::array;

    fn setup() -> (BatchNorm<f64>, Array2<f64>, Array2<f64>) {
        let layer = BatchNorm::from_params(array![1.5, 0.5, -1.0], array![0.1, -0.2, 0.3]);
        let x = array![
            [1.0, -2.0, 0.3],
            [0.5, 4.0, -0.7],
            [-1.2, 0.1, 2.2],
            [0.3, 0.9, 0.0]
        ];
        let dout = array![
            [0.5, 1.0, -2.0],
            [1.5, -0.1, 0.2],
            [0.3, 0.7, -0.4],
            [-1.1, 0.2, 0.9]
        ];
        (layer, x, dout)
    }

    #[test]
    fn training_forward_normalizes_each_feature_and_tracks_running_statistics() {
        let mut layer = BatchNorm::<f64>::new(3);
        let (_, x, _) = setup();
        let out = layer.forward(x.view(), true).to_owned();
        for col in out.columns() {
            let mean = col.mean().unwrap();
            let var = col.mapv(|v| (v - mean).powi(2)).mean().unwrap();
            assert!(
                mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-5,
                "{mean} {var}"
            );
        }
        let mu = x.mean_axis(ndarray::Axis(0)).unwrap();
        assert!((&layer.running_mean - &(&mu * 0.1))
            .iter()
            .all(|v| v.abs() < 1e-15));
    }

    #[test]
    fn running_statistics_follow_the_books_momentum_and_drive_evaluation() {
        let mut layer = BatchNorm::<f64>::from_params(array![2.0, -1.0], array![0.5, 1.0]);
        // Batch 1: means (2, 5), variances (1, 4); batch 2: means (2, 1), variances (4, 0).
        layer.forward(array![[1.0, 3.0], [3.0, 7.0]].view(), true);
        layer.forward(array![[0.0, 1.0], [4.0, 1.0]].view(), true);
        // running ← 0.9·running + 0.1·batch, from 0: mean 0.1·(2, 5) = (0.2, 0.5), then
        // 0.9·(0.2, 0.5) + 0.1·(2, 1) = (0.38, 0.55); variance (0.1, 0.4), then
        // 0.9·(0.1, 0.4) + 0.1·(4, 0) = (0.49, 0.36).
        let close = |a: &Array1<f64>, b: [f64; 2]| {
            (a[0] - b[0]).abs() < 1e-15 && (a[1] - b[1]).abs() < 1e-15
        };
        assert!(
            close(&layer.running_mean, [0.38, 0.55]),
            "{}",
            layer.running_mean
        );
        assert!(
            close(&layer.running_var, [0.49, 0.36]),
            "{}",
            layer.running_var
        );
        // Evaluation: gamma·(x − 0.38)/√(0.49 + 1e-6) + beta per feature, 1e-6 aside
        // (1.78 − 0.38)/0.7 = 2 → 4.5 and (1.15 − 0.55)/0.6 = 1 → 0.
        let x = array![[1.78, 1.15], [0.38, 0.55]];
        let by_hand = |x: f64, mean: f64, var: f64, gamma: f64, beta: f64| {
            gamma * (x - mean) / (var + 1e-6f64).sqrt() + beta
        };
        let expected = array![
            [
                by_hand(1.78, 0.38, 0.49, 2.0, 0.5),
                by_hand(1.15, 0.55, 0.36, -1.0, 1.0)
            ],
            [0.5, 1.0]
        ];
        assert!((expected[[0, 0]] - 4.5).abs() < 1e-5 && expected[[0, 1]].abs() < 1e-5);
        let mut in_place = x.clone();
        layer.forward_eval_inplace(&mut in_place);
        let out = layer.forward(x.view(), false).to_owned();
        for got in [out, in_place] {
            assert!(
                max_diff(&expected, got.view()) < 1e-14,
                "{got} vs {expected}"
            );
        }
        // Evaluation leaves the running statistics alone.
        assert!(close(&layer.running_var, [0.49, 0.36]));
    }

    #[test]
    fn backward_matches_numerical_gradients() {
        let (mut layer, x, dout) = setup();
        layer.forward(x.view(), true);
        let dx = layer.backward(dout.view()).to_owned();
        let forward =
            |layer: &BatchNorm<f64>, x: ArrayView2<f64>| layer.clone().forward(x, true).to_owned();
        let num_dx = numerical_dx(&x, &dout, |x| forward(&layer, x));
        assert!(max_diff(&num_dx, dx.view()) < 1e-8, "{num_dx} vs {dx}");
        let gamma = layer.gamma.clone().insert_axis(ndarray::Axis(0));
        let num_dgamma = numerical_dx(&gamma, &Array2::ones((1, 1)), |g| {
            let mut l = layer.clone();
            l.gamma = g.row(0).to_owned();
            array![[(&l.forward(x.view(), true) * &dout).sum()]]
        });
        let dgamma = layer.dgamma.clone().insert_axis(ndarray::Axis(0));
        assert!(max_diff(&num_dgamma, dgamma.view()) < 1e-8);
        let dbeta = dout.sum_axis(ndarray::Axis(0));
        assert!((&layer.dbeta - &dbeta).iter().all(|v| v.abs() < 1e-15));
    }
}
