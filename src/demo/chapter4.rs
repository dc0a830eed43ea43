//! `scratchnet demo chapter4`: every figure of the book's chapter 4 (as the users' notes list
//! them), computed in f64 and printed as NumPy prints them, each with a line saying what it
//! shows; and the chapter's three charts, as SVG and PNG.
//!
//! Sections, always in this order: `loss` (sum_squared_error, cross_entropy_error), `diff`
//! (forward and central differences, tangents of function_1), `gradient` (numerical_gradient
//! of function_2 and its field), `descent` (gradient_descent with a good, a too-large and a
//! too-small lr), `simplenet` (dW of the 2×3 net).

use super::numpy_fmt::{array, float};
use crate::plot::chapter4::{DescentPath, GradientField, Tangent, TangentChart};
use crate::plot::{self, Chart};
use crate::{Error, Result};
use ndarray::{arr1, array, stack, Array1, Axis};
use scratchnet_core::functions::{
    argmax, cross_entropy_error, cross_entropy_error_labels, softmax, sum_squared_error, CEE_DELTA,
};
use scratchnet_core::net::SimpleNet;
use scratchnet_core::numerical::{
    function_1, function_2, gradient_descent, numerical_diff, numerical_diff_forward,
    numerical_gradient, tangent_line,
};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One part of the demo, named on the command line (`--sections loss,diff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// sum_squared_error and cross_entropy_error on the notes' two predictions.
    Loss,
    /// Forward and central differences, and function_1's tangents (chart).
    Diff,
    /// numerical_gradient of function_2 at four points, and its field (chart).
    Gradient,
    /// gradient_descent with lr 0.1, 10 and 1e-10, and the path (chart).
    Descent,
    /// SimpleNet's loss and dW, numerical beside analytic.
    SimpleNet,
}

impl Section {
    /// Every section, in the order the notes (and the demo) go through them.
    pub const ALL: [Section; 5] = [
        Section::Loss,
        Section::Diff,
        Section::Gradient,
        Section::Descent,
        Section::SimpleNet,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Section::Loss => "loss",
            Section::Diff => "diff",
            Section::Gradient => "gradient",
            Section::Descent => "descent",
            Section::SimpleNet => "simplenet",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Section {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Section::ALL
            .into_iter()
            .find(|section| section.name() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "section",
                    format!("'{s}'"),
                    "expected one of loss, diff, gradient, descent, simplenet",
                )
            })
    }
}

/// The chart files' names (without extension), one per chart.
pub const CHARTS: [&str; 3] = [
    "function_1_tangents",
    "function_2_gradient_field",
    "gradient_descent_path",
];

/// Prints the chosen sections to `out` (in the notes' order, whatever order they are given
/// in) and writes their charts into `out_dir`; returns the chart files written.
pub fn run(sections: &[Section], out_dir: &Path, out: &mut dyn Write) -> Result<Vec<PathBuf>> {
    // An output folder that cannot be made fails now, not after the text is printed.
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let mut demo = Demo {
        out,
        out_dir,
        charts: Vec::new(),
    };
    for section in Section::ALL.into_iter().filter(|s| sections.contains(s)) {
        match section {
            Section::Loss => loss(&mut demo)?,
            Section::Diff => diff(&mut demo)?,
            Section::Gradient => gradient(&mut demo)?,
            Section::Descent => descent(&mut demo)?,
            Section::SimpleNet => simple_net(&mut demo)?,
        }
        demo.line(format_args!(""))?;
    }
    if !demo.charts.is_empty() {
        demo.line(format_args!("Charts written:"))?;
        for path in demo.charts.clone() {
            demo.line(format_args!("  {}", path.display()))?;
        }
    }
    Ok(demo.charts)
}

/// Where the demo writes its text and charts.
struct Demo<'a> {
    out: &'a mut dyn Write,
    out_dir: &'a Path,
    charts: Vec<PathBuf>,
}

impl Demo<'_> {
    fn line(&mut self, args: fmt::Arguments) -> Result<()> {
        writeln!(self.out, "{args}").map_err(|e| Error::io("<output>", e))
    }

    fn chart(&mut self, chart: &impl Chart, stem: &str) -> Result<()> {
        let paths = plot::save(chart, self.out_dir, stem)?;
        self.charts.extend(paths);
        Ok(())
    }
}

/// `say!(demo, "fmt", args…)`: one line of output; `?` on failure.
macro_rules! say {
    ($demo:expr, $($arg:tt)*) => {
        $demo.line(format_args!($($arg)*))?
    };
}

/// `why!(demo, "fmt", args…)`: the indented line explaining the figure above it.
macro_rules! why {
    ($demo:expr, $($arg:tt)*) => {
        $demo.line(format_args!("    {}", format_args!($($arg)*)))?
    };
}

fn loss(d: &mut Demo) -> Result<()> {
    say!(
        d,
        "== Loss functions: sum_squared_error, cross_entropy_error =="
    );
    let t = arr1(&[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    let good = arr1(&[0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]);
    let bad = arr1(&[0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]);
    say!(d, "t = {}", array(&t));
    why!(d, "the answer is class 2, one-hot");
    say!(d, "y = {}", array(&good));
    why!(d, "a good prediction: 0.6 on class 2");
    say!(
        d,
        "sum_squared_error(y, t) = {}",
        float(sum_squared_error(&good, &t))
    );
    why!(
        d,
        "0.5·Σ(y − t)²; the notes round it to 0.0975, NumPy prints these f64 digits too"
    );
    say!(
        d,
        "cross_entropy_error(y, t) = {}",
        float(cross_entropy_error(&good, &t))
    );
    why!(
        d,
        "−ln(0.6 + 1e-7): only the probability given to the true class counts"
    );
    say!(d, "y = {}", array(&bad));
    why!(
        d,
        "a bad prediction: 0.6 on class 7, 0.1 on the true class 2"
    );
    say!(
        d,
        "sum_squared_error(y, t) = {}",
        float(sum_squared_error(&bad, &t))
    );
    why!(
        d,
        "larger than 0.0975: the worse prediction has the larger loss"
    );
    say!(
        d,
        "cross_entropy_error(y, t) = {}",
        float(cross_entropy_error(&bad, &t))
    );
    why!(
        d,
        "−ln(0.1 + 1e-7): far larger, the true class got little probability"
    );
    let y_batch = stack(Axis(0), &[good.view(), bad.view()]).expect("equal shapes");
    let t_batch = stack(Axis(0), &[t.view(), t.view()]).expect("equal shapes");
    say!(
        d,
        "cross_entropy_error(batch of both, one-hot) = {}; with labels [2, 2] = {}",
        float(cross_entropy_error(&y_batch, &t_batch)),
        float(cross_entropy_error_labels(&y_batch, &[2, 2]))
    );
    why!(
        d,
        "the batch form is the mean over the batch, and labels give the same as one-hot"
    );
    Ok(())
}

fn diff(d: &mut Demo) -> Result<()> {
    say!(
        d,
        "== Numerical differentiation: numerical_diff on function_1(x) = 0.01x² + 0.1x =="
    );
    let tiny = numerical_diff_forward(function_1, 5.0, 1e-50);
    say!(
        d,
        "forward difference (f(x+h) − f(x))/h, h = 1e-50, x = 5: {}",
        float(tiny)
    );
    why!(
        d,
        "wrong (true 0.2): 5 + 1e-50 rounds to 5 in f64, and np.float32(1e-50) is {} itself",
        float(1e-50_f64 as f32)
    );
    let forward = numerical_diff_forward(function_1, 5.0, 1e-4);
    say!(d, "forward difference, h = 1e-4, x = 5: {}", float(forward));
    why!(
        d,
        "error {:.1e}: of order h, because the forward difference is lopsided",
        forward - 0.2
    );
    for x in [5.0, 10.0, -10.0] {
        let slope = numerical_diff(function_1, x);
        say!(d, "numerical_diff(function_1, {x}) = {}", float(slope));
        let truth = 0.02 * x + 0.1;
        why!(
            d,
            "central difference (f(x+h) − f(x−h))/2h, h = 1e-4: true {truth:.1}, error {:.1e} (order h²)",
            slope - truth
        );
    }
    let tangents: Vec<Tangent> = [5.0, 10.0]
        .into_iter()
        .map(|x| {
            let (slope, intercept) = tangent_line(function_1, x);
            Tangent {
                x,
                y: function_1(x),
                slope,
                intercept,
            }
        })
        .collect();
    for t in &tangents {
        say!(
            d,
            "tangent_line(function_1, {}): y = {}·x + {}",
            t.x,
            float(t.slope),
            float(t.intercept)
        );
        why!(
            d,
            "the line through (x, function_1(x)) with slope numerical_diff: y ≈ {:.2}x − {:.2}",
            t.slope,
            -t.intercept
        );
    }
    let curve = (0..=200).map(|i| {
        let x = i as f64 * 0.1;
        (x, function_1(x))
    });
    let chart = TangentChart {
        name: "function_1(x) = 0.01x² + 0.1x".into(),
        curve: curve.collect(),
        tangents,
    };
    d.chart(&chart, CHARTS[0])?;
    say!(
        d,
        "chart {}: function_1 on 0..20 with its tangents at x = 5 and x = 10",
        CHARTS[0]
    );
    Ok(())
}

fn gradient(d: &mut Demo) -> Result<()> {
    say!(
        d,
        "== Gradients: numerical_gradient on function_2(x) = x0² + x1² =="
    );
    for (x0, x1) in [(3.0, 4.0), (0.0, 2.0), (3.0, 0.0), (0.0, 100.0)] {
        let g = numerical_gradient(function_2, &mut array![x0, x1]);
        say!(
            d,
            "numerical_gradient(function_2, [{x0:?}, {x1:?}]) = {}",
            array(&g)
        );
        why!(
            d,
            "true (2·x0, 2·x1) = ({}, {}); in full: [{}, {}] (NumPy prints 8 decimals)",
            2.0 * x0,
            2.0 * x1,
            float(g[0]),
            float(g[1])
        );
    }
    // The book's grid: np.arange(-2, 2.5, 0.25) on both axes.
    let spacing = 0.25;
    let ticks: Vec<f64> = (0..18).map(|i| -2.0 + spacing * i as f64).collect();
    let mut arrows = Vec::new();
    for &x1 in &ticks {
        for &x0 in &ticks {
            let g = numerical_gradient(function_2, &mut array![x0, x1]);
            arrows.push(((x0, x1), (-g[0], -g[1])));
        }
    }
    let chart = GradientField {
        arrows,
        spacing,
        view: (-2.5, 2.5),
    };
    d.chart(&chart, CHARTS[1])?;
    say!(
        d,
        "chart {}: −numerical_gradient(function_2) at x0, x1 in np.arange(-2, 2.5, 0.25)",
        CHARTS[1]
    );
    why!(
        d,
        "every arrow points at the minimum (0, 0), and is shorter the closer it is"
    );
    Ok(())
}

fn descent(d: &mut Demo) -> Result<()> {
    say!(
        d,
        "== Gradient descent: x ← x − lr·numerical_gradient(f, x) =="
    );
    let init_x = || array![-3.0, 4.0];
    let step_num = 100;
    let runs: [(f64, &str); 3] = [
        (
            0.1,
            "each step multiplies x by 1 − 2·lr = 0.8, and 0.8^100 ≈ 2e-10: the minimum (0, 0)",
        ),
        (
            10.0,
            "lr too large: x is multiplied by −19 a step until, at x² ≈ 7e26 (step 10), \
             f(x+h) − f(x−h) rounds to 0 and x freezes",
        ),
        (
            1e-10,
            "lr too small: 100 steps move x by 2e-8 of the way to the minimum",
        ),
    ];
    for (lr, meaning) in runs {
        let x = gradient_descent(function_2, init_x(), lr, step_num, None);
        say!(
            d,
            "gradient_descent(function_2, init_x=[-3.0, 4.0], lr={}, step_num={step_num}) = {}",
            float(lr),
            array(&x)
        );
        why!(d, "{meaning}");
    }
    // The book's figure 4-10 shows 20 steps.
    let (lr, step_num) = (0.1, 20);
    let mut x_history: Vec<Array1<f64>> = Vec::new();
    gradient_descent(function_2, init_x(), lr, step_num, Some(&mut x_history));
    let chart = DescentPath {
        title: format!("gradient_descent on function_2, lr = {lr}, step_num = {step_num}"),
        path: x_history.iter().map(|x| (x[0], x[1])).collect(),
        contour_radii: vec![0.5, 1.0, 2.0, 3.0, 4.0, 5.0],
        view: ((-3.5, 3.5), (-4.5, 4.5)),
    };
    d.chart(&chart, CHARTS[2])?;
    say!(
        d,
        "chart {}: the {step_num} points x visits from init_x = (-3, 4) with lr = {lr}",
        CHARTS[2]
    );
    why!(
        d,
        "straight down the slope, across the contours, with steps shrinking as the gradient does"
    );
    Ok(())
}

#[allow(non_snake_case)]
fn simple_net(d: &mut Demo) -> Result<()> {
    say!(
        d,
        "== simpleNet: predict = x·W, loss = cross_entropy_error(softmax(x·W), t) =="
    );
    let mut net: SimpleNet<f64> = SimpleNet::new(array![
        [0.47355232, 0.9977393, 0.84668094],
        [0.85557411, 0.03563661, 0.69422093]
    ]);
    let x = array![0.6, 0.9];
    let t = array![0.0, 0.0, 1.0];
    say!(d, "W =\n{}", array(&net.W));
    why!(d, "the book's weights as it prints them");
    let p = net.predict(&x);
    say!(
        d,
        "predict({}) = {}, argmax {}",
        array(&x),
        array(&p),
        argmax(p.view())
    );
    why!(d, "the scores x·W; class 2 scores highest");
    say!(
        d,
        "loss(x, t = {}) = {}",
        array(&t),
        float(net.loss(&x, &t))
    );
    why!(
        d,
        "−ln(y₂ + 1e-7), y = softmax(x·W); the book's 0.92806853663411326 is −ln y₂, without the 1e-7"
    );
    let dW = net.numerical_gradient(&x, &t);
    say!(
        d,
        "dW = numerical_gradient(lambda W: loss(x, t), W) =\n{}",
        array(&dW)
    );
    why!(
        d,
        "how fast the loss grows per unit of each weight: raising W[1,2] lowers the loss most"
    );
    let analytic = net.gradient(&x, &t);
    say!(d, "xᵀ·(softmax(x·W) − t) =\n{}", array(&analytic));
    let y = softmax(&p);
    why!(
        d,
        "the book's printed dW, the exact gradient of −ln y₂; dW above is it times \
         y₂/(y₂ + 1e-7) = 1 − {:.1e}",
        1.0 - y[2] / (y[2] + CEE_DELTA)
    );
    let max_diff = (&dW - &analytic)
        .iter()
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    say!(
        d,
        "max |dW − xᵀ·(softmax(x·W) − t)| = {max_diff:.1e}; row sums of dW = {}",
        array(&dW.sum_axis(Axis(1)))
    );
    why!(
        d,
        "row i is x_i·(softmax − t): one vector scaled by 0.6 and by 0.9, and it sums to 0"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_to_string(sections: &[Section]) -> (String, Vec<PathBuf>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let charts = run(sections, dir.path(), &mut out).unwrap();
        (String::from_utf8(out).unwrap(), charts, dir)
    }

    #[test]
    fn sections_parse_by_name_and_reject_others_by_name() {
        for s in Section::ALL {
            assert_eq!(s.name().parse::<Section>().unwrap(), s);
        }
        let err = "gradients".parse::<Section>().unwrap_err().to_string();
        assert!(
            err.contains("'gradients'") && err.contains("simplenet"),
            "{err}"
        );
    }

    #[test]
    fn every_figure_of_the_notes_is_printed_in_order() {
        let (text, charts, _dir) = run_to_string(&Section::ALL);
        let figures = [
            "sum_squared_error(y, t) = 0.09750000000000003",
            "cross_entropy_error(y, t) = 0.510825457099338",
            "sum_squared_error(y, t) = 0.5975",
            "cross_entropy_error(y, t) = 2.302584092994546",
            "h = 1e-50, x = 5: 0.0",
            "numerical_diff(function_1, 5) = 0.1999999999990898",
            "numerical_diff(function_1, 10) = 0.2999999999986347",
            "numerical_diff(function_1, -10) = -0.0999999999995449",
            "numerical_gradient(function_2, [3.0, 4.0]) = [6. 8.]",
            "numerical_gradient(function_2, [0.0, 2.0]) = [0. 4.]",
            "numerical_gradient(function_2, [3.0, 0.0]) = [6. 0.]",
            "numerical_gradient(function_2, [0.0, 100.0]) = [  0.         200.00000001]",
            "lr=0.1, step_num=100) = [-6.11110793e-10  8.14814391e-10]",
            "lr=10.0, step_num=100) = [-2.58983747e+13 -1.29524862e+12]",
            "lr=1e-10, step_num=100) = [-2.99999994  3.99999992]",
            "[[ 0.21924757  0.14356243 -0.36281   ]\n [ 0.32887136  0.21534364 -0.544215  ]]",
            "[[ 0.21924763  0.14356247 -0.36281009]\n [ 0.32887144  0.2153437  -0.54421514]]",
        ];
        let mut from = 0;
        for figure in figures {
            let at = text[from..]
                .find(figure)
                .unwrap_or_else(|| panic!("{figure:?} missing or out of order in\n{text}"));
            from += at + figure.len();
        }
        assert_eq!(charts.len(), 6);
        for stem in CHARTS {
            for ext in ["svg", "png"] {
                assert!(charts.iter().any(|p| p.ends_with(format!("{stem}.{ext}"))));
            }
        }
    }

    #[test]
    fn only_the_chosen_sections_are_printed() {
        let (text, charts, _dir) = run_to_string(&[Section::SimpleNet, Section::Loss]);
        assert!(text.starts_with("== Loss functions"));
        assert!(text.contains("== simpleNet"));
        assert!(!text.contains("numerical_diff") && !text.contains("Charts written"));
        assert!(charts.is_empty());
    }
}
