//! Numbers printed the way NumPy prints them (`print(x)` with default options), so that a
//! demo's output can be read line by line against the book's and the users' notes.
//!
//! A float64 scalar prints as Python's `repr`: the shortest digits that round-trip (Rust's `{}`
//! gives the same digits), in exponent form below 1e-4 and from 1e16 (`1e-05`, `1e+16`).
//! An array prints with at most 8 decimals and aligned columns (`[6. 8.]`,
//! `[-6.11110793e-10  8.14814391e-10]`). Long rows are not wrapped at 75 characters as NumPy
//! wraps them: the demos print short vectors only.

use ndarray::{ArrayBase, ArrayViewD, Data, Dimension};
use scratchnet_core::Float;

/// NumPy's default `precision`: at most 8 digits after the point in arrays.
const PRECISION: usize = 8;

/// A float64 scalar as NumPy and Python print it: `0.510825457099338`, `6.0`, `1e-05`.
pub fn float<F: Float>(v: F) -> String {
    let v = v.to_f64();
    if v.is_nan() {
        return "nan".into();
    }
    // `{:?}` switches to exponent form at the same thresholds as Python's repr.
    let s = format!("{v:?}");
    match s.split_once('e') {
        Some((mantissa, exp)) => format!("{mantissa}e{}", signed_exponent(exp, 2)),
        None => s,
    }
}

/// An array of any shape as NumPy's `str` prints it: `[[ 0.2192  0.1435 -0.3628]\n [...]]`.
pub fn array<F: Float, S: Data<Elem = F>, D: Dimension>(a: &ArrayBase<S, D>) -> String {
    let a = a.mapv(|v| v.to_f64()).into_dyn();
    let layout = Layout::fit(a.iter().copied());
    let mut out = String::new();
    write_nested(&mut out, a.view(), &layout, 0);
    out
}

/// Rust's exponent (`-5`, `16`) as Python writes it: signed, at least `digits` digits.
fn signed_exponent(exp: &str, digits: usize) -> String {
    let (sign, magnitude) = match exp.strip_prefix('-') {
        Some(m) => ('-', m),
        None => ('+', exp),
    };
    format!("{sign}{magnitude:0>digits$}")
}

/// How every element of one array is written, chosen from all of them as NumPy chooses it.
enum Layout {
    /// `ddd.fff`: integer parts right-aligned in `pad_left`, fractions left-aligned in
    /// `pad_right`, each with its own shortest digits up to 8.
    Positional { pad_left: usize, pad_right: usize },
    /// `d.fffe±xx`: every mantissa with the same `precision` digits.
    Scientific {
        pad_left: usize,
        precision: usize,
        exp_digits: usize,
    },
}

impl Layout {
    /// NumPy's rule: exponent form if the largest magnitude is ≥ 1e8, or the smallest non-zero
    /// one is < 1e-4, or they are more than 1000 apart.
    fn fit(values: impl Iterator<Item = f64>) -> Layout {
        let all: Vec<f64> = values.collect();
        let finite: Vec<f64> = all.iter().copied().filter(|v| v.is_finite()).collect();
        let magnitudes = finite.iter().map(|v| v.abs()).filter(|&m| m != 0.0);
        let (min, max) = magnitudes.fold((f64::INFINITY, 0.0_f64), |(lo, hi), m| {
            (lo.min(m), hi.max(m))
        });
        let scientific = max > 0.0 && (max >= 1e8 || min < 1e-4 || max / min > 1e3);
        let mut layout = if scientific {
            let parts: Vec<_> = finite.iter().map(|&v| scientific_shortest(v)).collect();
            Layout::Scientific {
                pad_left: parts.iter().map(|p| p.0.len()).max().unwrap_or(0),
                precision: parts.iter().map(|p| p.1.len()).max().unwrap_or(0),
                exp_digits: parts
                    .iter()
                    .map(|p| p.2.trim_start_matches('-').len())
                    .max()
                    .unwrap_or(0),
            }
        } else {
            let parts: Vec<_> = finite.iter().map(|&v| positional_shortest(v)).collect();
            Layout::Positional {
                pad_left: parts.iter().map(|p| p.0.len()).max().unwrap_or(0),
                pad_right: parts.iter().map(|p| p.1.len()).max().unwrap_or(0),
            }
        };
        // Room for "nan", "inf" and "-inf" in the integer-part column.
        if finite.len() < all.len() {
            let neg_inf = all.contains(&f64::NEG_INFINITY) as usize;
            let right = layout.width() - layout.pad_left();
            let needed = (3 + neg_inf).saturating_sub(right);
            match &mut layout {
                Layout::Positional { pad_left, .. } | Layout::Scientific { pad_left, .. } => {
                    *pad_left = (*pad_left).max(needed)
                }
            }
        }
        layout
    }

    fn pad_left(&self) -> usize {
        match *self {
            Layout::Positional { pad_left, .. } | Layout::Scientific { pad_left, .. } => pad_left,
        }
    }

    /// The width of every element.
    fn width(&self) -> usize {
        match *self {
            Layout::Positional {
                pad_left,
                pad_right,
            } => pad_left + 1 + pad_right,
            Layout::Scientific {
                pad_left,
                precision,
                exp_digits,
            } => pad_left + 1 + precision + 2 + exp_digits.max(2),
        }
    }

    fn render(&self, v: f64) -> String {
        if !v.is_finite() {
            let word = if v.is_nan() {
                "nan"
            } else if v > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            return format!("{word:>width$}", width = self.width());
        }
        match *self {
            Layout::Positional {
                pad_left,
                pad_right,
            } => {
                let (int, frac) = positional_shortest(v);
                format!("{int:>pad_left$}.{frac:<pad_right$}")
            }
            Layout::Scientific {
                pad_left,
                precision,
                exp_digits,
            } => {
                let s = format!("{v:.precision$e}");
                let (mantissa, exp) = s.split_once('e').expect("{:e} has an exponent");
                let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
                let exp = signed_exponent(exp, exp_digits.max(2));
                format!("{int:>pad_left$}.{frac}e{exp}")
            }
        }
    }
}

/// `v` without exponent, as (integer part, fraction): its shortest round-trip digits, or
/// rounded to 8 decimals and trailing zeros dropped if it needs more.
fn positional_shortest(v: f64) -> (String, String) {
    let s = format!("{v}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    if frac.len() <= PRECISION {
        return (int.to_string(), frac.to_string());
    }
    let s = format!("{v:.PRECISION$}");
    let (int, frac) = s.split_once('.').expect("{:.8} has a point");
    (int.to_string(), frac.trim_end_matches('0').to_string())
}

/// `v` in exponent form as (mantissa's integer part, mantissa's fraction, exponent), the
/// fraction as in [`positional_shortest`].
fn scientific_shortest(v: f64) -> (String, String, String) {
    let s = format!("{v:e}");
    let s = match s.split_once('e') {
        Some((mantissa, _))
            if mantissa
                .split_once('.')
                .is_some_and(|(_, f)| f.len() > PRECISION) =>
        {
            format!("{v:.PRECISION$e}")
        }
        _ => s,
    };
    let (mantissa, exp) = s.split_once('e').expect("{:e} has an exponent");
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    (
        int.to_string(),
        frac.trim_end_matches('0').to_string(),
        exp.to_string(),
    )
}

/// Writes `a` with brackets, a space between elements and newlines between rows (one blank
/// line more per extra dimension), nested rows indented under their bracket.
fn write_nested(out: &mut String, a: ArrayViewD<f64>, layout: &Layout, depth: usize) {
    if a.ndim() == 0 {
        out.push_str(&layout.render(a[[]]));
        return;
    }
    out.push('[');
    for (i, sub) in a.outer_iter().enumerate() {
        if i > 0 {
            if sub.ndim() == 0 {
                out.push(' ');
            } else {
                out.push_str(&"\n".repeat(sub.ndim()));
                out.push_str(&" ".repeat(depth + 1));
            }
        }
        write_nested(out, sub, layout, depth + 1);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr1, array, Array};

    #[test]
    fn scalars_print_as_python_repr() {
        let cases = [
            (0.097_500_000_000_000_03, "0.09750000000000003"),
            (0.510_825_457_099_338, "0.510825457099338"),
            (6.0, "6.0"),
            (1e-5, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1e-50, "1e-50"),
            (6.111_107_928_998_789e-10, "6.111107928998789e-10"),
            (-25_898_374_737_328.363, "-25898374737328.363"),
            (f64::NAN, "nan"),
        ];
        for (v, want) in cases {
            assert_eq!(float(v), want);
        }
    }

    #[test]
    fn vectors_print_as_numpy() {
        // Each `want` is what NumPy 2.4 printed for the same values.
        let cases: [(&[f64], &str); 19] = [
            (&[6.000_000_000_003_78, 7.999_999_999_999_119], "[6. 8.]"),
            (
                &[0.0, 200.000_000_013_460_52],
                "[  0.         200.00000001]",
            ),
            (
                &[-6.111_107_928_998_789e-10, 8.148_143_905_314_271e-10],
                "[-6.11110793e-10  8.14814391e-10]",
            ),
            (
                &[-25_898_374_737_328.363, -1_295_248_616_896.539_8],
                "[-2.58983747e+13 -1.29524862e+12]",
            ),
            (
                &[-2.999_999_939_999_995, 3.999_999_919_999_993_4],
                "[-2.99999994  3.99999992]",
            ),
            (
                &[1.054_148_09, 0.630_716_53, 1.132_807_4],
                "[1.05414809 0.63071653 1.1328074 ]",
            ),
            (
                &[0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0],
                "[0.1  0.05 0.6  0.   0.05 0.1  0.   0.1  0.   0.  ]",
            ),
            (&[1.5, 2.25], "[1.5  2.25]"),
            (&[1e-5, 3.0], "[1.e-05 3.e+00]"),
            (&[1e10, 1.0], "[1.e+10 1.e+00]"),
            (&[1e8, 1.0], "[1.e+08 1.e+00]"),
            (&[123_456_789.0], "[1.23456789e+08]"),
            (
                &[0.123_456_789, 12_345.5],
                "[1.23456789e-01 1.23455000e+04]",
            ),
            (&[0.1, 1e-4], "[0.1    0.0001]"),
            (&[0.999_999_999, 2.0], "[1. 2.]"),
            (&[1.0 / 3.0, -2.0 / 3.0], "[ 0.33333333 -0.66666667]"),
            (&[-0.0, 1.0], "[-0.  1.]"),
            (&[0.0, 0.0], "[0. 0.]"),
            (&[f64::NAN, 1.5, f64::NEG_INFINITY], "[ nan  1.5 -inf]"),
        ];
        for (values, want) in cases {
            assert_eq!(array(&arr1(values)), want, "{values:?}");
        }
        assert_eq!(array(&arr1(&[-1e-20, 5e-21])), "[-1.e-20  5.e-21]");
    }

    #[test]
    fn matrices_and_higher_print_as_numpy() {
        let dw = array![
            [0.219_247_63, 0.143_562_47, -0.362_810_09],
            [0.328_871_44, 0.215_343_7, -0.544_215_14]
        ];
        assert_eq!(
            array(&dw),
            "[[ 0.21924763  0.14356247 -0.36281009]\n [ 0.32887144  0.2153437  -0.54421514]]"
        );
        let cube = Array::from_shape_fn((2, 2, 3), |(i, j, k)| (i * 6 + j * 3 + k) as f64 / 3.0);
        assert_eq!(
            array(&cube),
            "[[[0.         0.33333333 0.66666667]\n  [1.         1.33333333 1.66666667]]\n\n \
             [[2.         2.33333333 2.66666667]\n  [3.         3.33333333 3.66666667]]]"
        );
    }
}
