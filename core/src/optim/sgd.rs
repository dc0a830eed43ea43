//! Stochastic gradient descent: `W ← W − lr · dW`, the book's update.

use super::Optimizer;
use crate::kernels::team;
use crate::{Error, Float, Result};
use ndarray::{ArrayViewD, ArrayViewMutD};

/// Plain SGD with a fixed learning rate `lr`.
#[derive(Clone, Debug)]
pub struct Sgd<F> {
    /// The learning rate (the book's `learning_rate`, 0.1 for the chapter-4 run).
    pub lr: F,
}

impl<F: Float> Sgd<F> {
    /// SGD with learning rate `lr`, which must be positive and finite.
    pub fn new(lr: f64) -> Result<Self> {
        check_learning_rate(lr)?;
        Ok(Sgd { lr: F::of(lr) })
    }
}

/// A learning rate must be a positive, finite number.
pub fn check_learning_rate(lr: f64) -> Result<()> {
    if !(lr.is_finite() && lr > 0.0) {
        return Err(Error::invalid(
            "learning rate",
            lr,
            "a positive number such as 0.1",
        ));
    }
    Ok(())
}

impl<F: Float> Optimizer<F> for Sgd<F> {
    fn learning_rate(&self) -> f64 {
        self.lr.to_f64()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = F::of(lr);
    }

    fn update(&mut self, _key: &str, mut param: ArrayViewMutD<F>, grad: ArrayViewD<F>) {
        match (param.as_slice_mut(), grad.as_slice()) {
            (Some(param), Some(grad)) => descend(param, grad, -self.lr),
            _ => param.scaled_add(-self.lr, &grad),
        }
    }

    /// Only the listed rows move: elsewhere the gradient is 0 and `w + (−lr)·0 = w` exactly
    /// (adding −0 changes no float), so the result is the dense update's, bit for bit.
    fn update_rows(
        &mut self,
        key: &str,
        mut param: ArrayViewMutD<F>,
        grad: ArrayViewD<F>,
        rows: &[u32],
    ) {
        let (width, height) = match param.shape() {
            &[height, width] => (width, height),
            _ => return self.update(key, param, grad),
        };
        let minus_lr = -self.lr;
        let (Some(param), Some(grad)) = (param.as_slice_mut(), grad.as_slice()) else {
            return self.update(key, param, grad);
        };
        if width == 0 || !rows.windows(2).all(|w| w[0] < w[1]) {
            return descend_rows(param, grad, width, rows, 0, minus_lr);
        }
        // Rising rows: blocks of the list, each with the block of W its rows lie in, at once
        // on the kernels' team (each row moves by itself: same numbers).
        let parts = team::parts_for(rows.len() * width, team::MIN_PART_WORK, rows.len());
        let list = team::even_bounds(rows.len(), parts);
        let blocks = team::bounds(parts, |p| match p {
            0 => 0,
            p if p == parts => height,
            p => rows.get(list[p]).map_or(height, |&i| i as usize),
        });
        let mut lists: [&[u32]; team::MAX_PARTS] = [&[]; team::MAX_PARTS];
        for (own, ends) in lists.iter_mut().zip(list.windows(2)) {
            *own = &rows[ends[0]..ends[1]];
        }
        team::for_row_blocks(param, width, &blocks, &mut lists, |block, w, rows| {
            let grad = &grad[block.start * width..block.end * width];
            descend_rows(w, grad, width, rows, block.start, minus_lr)
        });
    }
}

crate::kernels::kernel! {
    /// `param[i, :] += minus_lr · grad[i, :]` for the listed rows i; param, grad: the rows of
    /// (rows, width) from row `first` on.
    fn descend_rows<F>(
        param: &mut [F],
        grad: &[F],
        width: usize,
        rows: &[u32],
        first: usize,
        minus_lr: F,
    ) {
        for &i in rows {
            let i = i as usize - first;
            let range = i * width..(i + 1) * width;
            crate::kernels::axpy(minus_lr, &grad[range.clone()], &mut param[range]);
        }
    }
}

crate::kernels::kernel! {
    /// `param += minus_lr · grad`, element by element (contiguous arrays, same length).
    fn descend<F>(param: &mut [F], grad: &[F], minus_lr: F) {
        crate::kernels::axpy(minus_lr, grad, param);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn sgd_steps_against_the_gradient() {
        let mut w = array![1.0, -2.0].into_dyn();
        let g = array![0.5, -1.0].into_dyn();
        let mut sgd = Sgd::new(0.1).unwrap();
        sgd.update("W1", w.view_mut(), g.view());
        assert_eq!(w, array![0.95, -1.9].into_dyn());
        assert!(Sgd::<f64>::new(-0.1).is_err());
        assert!(Sgd::<f64>::new(f64::NAN).is_err());
    }

    #[test]
    fn update_rows_moves_the_listed_rows_by_minus_lr_times_grad_and_no_other() {
        use crate::optim::tests::{row_sparse_gradients, start_weights};
        crate::kernels::tests::at_every_level(|level| {
            // Rows in rising order are split into 1 to 3 parts, by width.
            for (width, parts) in [1, 3, 16, 40, 70].into_iter().zip((1..=3).cycle()) {
                let _parts = crate::kernels::tests::ForceParts::new(parts);
                let start = start_weights(width);
                let mut sgd = Sgd::new(0.1).unwrap();
                let (mut by_rows, mut dense, mut expected) =
                    (start.clone(), start.clone(), start.clone());
                for (g, rows) in row_sparse_gradients(width) {
                    sgd.update_rows("W1", by_rows.view_mut(), g.view(), &rows);
                    sgd.update("W1", dense.view_mut(), g.view());
                    // By hand: w − lr·g on the listed rows only.
                    for &i in &rows {
                        for j in 0..width {
                            let at = [i as usize, j];
                            expected[&at[..]] -= 0.1 * g[&at[..]];
                        }
                    }
                    let at = format!("{level:?}, width {width}, {parts} parts, rows {rows:?}");
                    assert_eq!(by_rows, expected, "update_rows, {at}");
                    assert_eq!(dense, expected, "update, {at}");
                }
            }
        });
    }
}
