//! `scratchnet demo optimizers`: the book's figure 6-8. Each update rule walks 30 steps on
//! f(x, y) = x²/20 + y² from (-7, 2) — a bowl 20 times flatter along x than along y, where the
//! gradient points mostly across the valley rather than at the minimum (0, 0). Prints where
//! each one ends and draws the paths over f's contours, one panel each.

use crate::plot::optimizers::{OptimizerPaths, Panel};
use crate::{Error, Result};
use ndarray::{array, Array1};
use scratchnet_core::optim::OptimizerKind;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The book's `f(x, y) = x²/20 + y²`.
pub fn f(x: f64, y: f64) -> f64 {
    x * x / 20.0 + y * y
}

/// The book's `df(x, y) = (x/10, 2y)`: the gradient of [`f`].
pub fn df(x: f64, y: f64) -> (f64, f64) {
    (x / 10.0, 2.0 * y)
}

/// The book's `init_pos`.
pub const INIT_POS: (f64, f64) = (-7.0, 2.0);

/// Updates per optimizer, as in the book.
pub const STEPS: usize = 30;

/// Each optimizer with its learning rate: the book's figure 6-8 (SGD 0.95, Momentum 0.1,
/// AdaGrad 1.5, Adam 0.3), plus Nesterov at Momentum's rate and RMSprop at 0.1.
pub const RUNS: [(OptimizerKind, f64); 6] = [
    (OptimizerKind::Sgd, 0.95),
    (OptimizerKind::Momentum, 0.1),
    (OptimizerKind::Nesterov, 0.1),
    (OptimizerKind::AdaGrad, 1.5),
    (OptimizerKind::RmsProp, 0.1),
    (OptimizerKind::Adam, 0.3),
];

/// The chart files' name (without extension).
pub const CHART: &str = "optimizer_paths";

/// The points `kind` (learning rate `lr`) visits in `steps` updates from [`INIT_POS`]:
/// `steps + 1` points, the start first. x and y are one parameter `xy` of two elements —
/// every rule acts element by element, so this is the book's two scalars `x` and `y`.
pub fn path(kind: OptimizerKind, lr: f64, steps: usize) -> Result<Vec<(f64, f64)>> {
    let mut optimizer = kind.build::<f64>(lr)?;
    let mut xy: Array1<f64> = array![INIT_POS.0, INIT_POS.1];
    let mut points = vec![INIT_POS];
    for _ in 0..steps {
        let (dx, dy) = df(xy[0], xy[1]);
        let grad = array![dx, dy].into_dyn();
        optimizer.update("xy", xy.view_mut().into_dyn(), grad.view());
        points.push((xy[0], xy[1]));
    }
    Ok(points)
}

/// The contour f(x, y) = c: the ellipse x = √(20c)·cos a, y = √c·sin a, as a closed polyline.
fn contour(c: f64) -> Vec<(f64, f64)> {
    (0..=160)
        .map(|k| {
            let a = k as f64 * std::f64::consts::TAU / 160.0;
            ((20.0 * c).sqrt() * a.cos(), c.sqrt() * a.sin())
        })
        .collect()
}

/// Prints each optimizer's final point to `out` and draws every path into `out_dir`; returns
/// the chart files written.
pub fn run(out_dir: &Path, out: &mut dyn Write) -> Result<Vec<PathBuf>> {
    // An output folder that cannot be made fails now, not after the text is printed.
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let mut say = |line: String| writeln!(out, "{line}").map_err(|e| Error::io("<output>", e));
    say(format!(
        "== Update rules on f(x, y) = x²/20 + y² from ({}, {}), {STEPS} steps (figure 6-8) ==",
        INIT_POS.0, INIT_POS.1
    ))?;
    let mut panels = Vec::new();
    for (kind, lr) in RUNS {
        let points = path(kind, lr, STEPS)?;
        let (x, y) = *points.last().expect("the start is always there");
        say(format!(
            "{:<9} lr {lr:<5} → ({x:+.6}, {y:+.6}), f = {:.6}",
            kind.book_name(),
            f(x, y)
        ))?;
        panels.push(Panel {
            title: format!("{}, lr = {lr}", kind.book_name()),
            path: points,
        });
    }
    say("    the minimum is (0, 0). SGD overshoots across the steep y direction every step (y ← −0.9·y) while creeping along the flat x (x ← 0.905·x): the zigzag. Momentum and Nesterov roll like a ball, AdaGrad and RMSprop shrink the steep direction's steps first, Adam does both.".into())?;
    let chart = OptimizerPaths {
        panels,
        columns: 2,
        contours: [0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
            .into_iter()
            .map(contour)
            .collect(),
        minimum: (0.0, 0.0),
        view: ((-10.0, 10.0), (-5.0, 5.0)),
    };
    let files = crate::plot::save(&chart, out_dir, CHART)?.to_vec();
    say("Charts written:".into())?;
    for file in &files {
        say(format!("  {}", file.display()))?;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_follows_its_closed_form() {
        // x ← x − 0.95·x/10 = 0.905·x; y ← y − 0.95·2y = −0.9·y.
        let points = path(OptimizerKind::Sgd, 0.95, STEPS).unwrap();
        assert_eq!(points.len(), STEPS + 1);
        let (x, y) = points[STEPS];
        assert!((x + 7.0 * 0.905f64.powi(30)).abs() < 1e-12, "{x}");
        assert!((y - 2.0 * 0.9f64.powi(30)).abs() < 1e-12, "{y}");
    }

    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/optimizers/book_runs.rs"
    ));

    #[test]
    fn every_rule_ends_where_the_books_classes_end() {
        assert_eq!(RUNS.len(), BOOK_RUNS.len());
        for ((kind, lr), (name, book_lr, (x, y))) in RUNS.into_iter().zip(BOOK_RUNS) {
            assert_eq!((kind.book_name(), lr), (name, book_lr));
            let end = *path(kind, lr, STEPS).unwrap().last().unwrap();
            assert!(
                (end.0 - x).abs() < 1e-12 && (end.1 - y).abs() < 1e-12,
                "{name}: {end:?}, the book's classes end at ({x}, {y})"
            );
        }
    }

    #[test]
    fn the_chart_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let files = run(dir.path(), &mut Vec::new()).unwrap();
        assert_eq!(files.len(), 2);
        assert!(files.iter().all(|p| p.is_file()));
    }
}
