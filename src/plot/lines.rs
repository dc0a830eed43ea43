//! A general line chart — several named series, optional log x axis and error bars — for the
//! studies' charts.

use super::{Chart, DrawResult, FONT};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;

/// One named line of a [`LineChart`].
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// The legend's label.
    pub name: String,
    /// (x, y) points, drawn in order.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed instead of solid.
    pub dashed: bool,
    /// Optional (low, high) of y at each point: drawn as a vertical bar.
    pub spread: Option<Vec<(f64, f64)>>,
}

/// A line chart of several series.
#[derive(Clone, Debug, Default)]
pub struct LineChart {
    /// The caption.
    pub title: String,
    /// The x axis' description.
    pub x_label: String,
    /// The y axis' description.
    pub y_label: String,
    /// Whether x is drawn on a log10 scale (all x must then be positive).
    pub log_x: bool,
    /// The y range; `None` fits the data.
    pub y_range: Option<Range<f64>>,
    /// The lines.
    pub series: Vec<Series>,
    /// Where the legend goes if the data leaves room there (else the corner covering least).
    pub legend: Corner,
}

/// A corner of the plotting area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Corner {
    /// Bottom right (the default: rising curves leave it free).
    #[default]
    LowerRight,
    /// Top right (falling curves leave it free).
    UpperRight,
    /// Top left.
    UpperLeft,
    /// Bottom left.
    LowerLeft,
}

/// Colours for up to ten series, then repeating.
const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// `v` rounded to two significant digits: 15849 → 16000, 3.162 → 3.2.
fn two_digits(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powf(v.abs().log10().floor() - 1.0);
    (v / scale).round() * scale
}

/// A number as a tick label, to three significant digits: 1, 10, 1000, 1e6; 0.5; 0.00316.
pub fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() >= 1e7 {
        return format!("{v:.1e}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// An x axis with chosen ticks (bold) and grid lines (light).
struct TickedAxis {
    range: RangedCoordf64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ranged for TickedAxis {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> Range<f64> {
        self.range.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.range.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }
}

/// Tick positions (log10 of the value) of a log axis over `lo..hi` (log10): 1-2-5 steps, or
/// powers of ten (every one, second or fifth) when those are too many; every whole mantissa
/// when fewer than two fall in range. Empty if even those are fewer than two.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let within = |mantissas: &[f64], every: i32| -> Vec<f64> {
        (lo.floor() as i32..=hi.ceil() as i32)
            .filter(|p| p.rem_euclid(every) == 0)
            .flat_map(|p| mantissas.iter().map(move |m| (m * 10f64.powi(p)).log10()))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    let steps: [(&[f64], i32); 4] = [(&[1.0, 2.0, 5.0], 1), (&[1.0], 1), (&[1.0], 2), (&[1.0], 5)];
    let fitting = steps
        .iter()
        .map(|&(m, every)| within(m, every))
        .find(|t| t.len() <= 10)
        .unwrap_or_default();
    if fitting.len() >= 2 {
        return fitting;
    }
    let all = within(&MANTISSAS, 1);
    if all.len() >= 2 {
        all
    } else {
        Vec::new()
    }
}

/// A log axis' light grid lines over `lo..hi` (log10): every whole mantissa.
fn log_ticks_light(lo: f64, hi: f64) -> Vec<f64> {
    (lo.floor() as i32..=hi.ceil() as i32)
        .flat_map(|p| MANTISSAS.iter().map(move |m| (m * 10f64.powi(p)).log10()))
        .filter(|v| (lo..=hi).contains(v))
        .collect()
}

/// Every whole mantissa: a log axis' light grid lines.
const MANTISSAS: [f64; 9] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];

/// Whether two series are drawn on top of each other: the same x, and y equal to 1e-9.
fn coincide(a: &[(f64, f64)], b: &[(f64, f64)]) -> bool {
    !a.is_empty()
        && a.len() == b.len()
        && a.iter().zip(b).all(|(p, q)| {
            p.0 == q.0 && (p.1 - q.1).abs() <= 1e-9 * p.1.abs().max(q.1.abs()).max(1e-300)
        })
}

/// The legend's size in pixels for `labels` (13-pixel text), a little generous.
fn legend_size(labels: &[String]) -> (i32, i32) {
    let chars = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    (
        50 + (6.5 * chars as f64) as i32,
        16 * labels.len() as i32 + 16,
    )
}

/// The legend's box in `corner` of the plot `(x0, y0)..(x1, y1)`, 5 pixels in.
fn legend_box(
    corner: Corner,
    (x0, y0, x1, y1): (i32, i32, i32, i32),
    (w, h): (i32, i32),
) -> [i32; 4] {
    let left = matches!(corner, Corner::UpperLeft | Corner::LowerLeft);
    let top = matches!(corner, Corner::UpperLeft | Corner::UpperRight);
    let x = if left { x0 + 5 } else { x1 - 5 - w };
    let y = if top { y0 + 5 } else { y1 - 5 - h };
    [x, y, x + w, y + h]
}

impl LineChart {
    /// The legend's labels: a series hidden under a later one that coincides with it says so.
    fn labels(&self) -> Vec<String> {
        self.series
            .iter()
            .enumerate()
            .map(|(k, s)| {
                match self.series[k + 1..]
                    .iter()
                    .find(|o| coincide(&s.points, &o.points))
                {
                    Some(twin) => format!("{} (same as {})", s.name, twin.name),
                    None => s.name.clone(),
                }
            })
            .collect()
    }

    /// Points along every line and bar, as drawn by `at` (data to pixels).
    fn drawn_points(&self, at: impl Fn((f64, f64)) -> (i32, i32)) -> Vec<(i32, i32)> {
        let mut out = Vec::new();
        let mut along = |a: (f64, f64), b: (f64, f64)| {
            let (a, b) = (at(a), at(b));
            let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()) / 3).max(1);
            out.extend((0..=n).map(|i| (a.0 + (b.0 - a.0) * i / n, a.1 + (b.1 - a.1) * i / n)));
        };
        for s in &self.series {
            let points: Vec<(f64, f64)> = s.points.iter().map(|&(x, y)| (self.x(x), y)).collect();
            for (k, &p) in points.iter().enumerate() {
                along(p, *points.get(k + 1).unwrap_or(&p));
                if let Some(&(lo, hi)) = s.spread.as_ref().and_then(|sp| sp.get(k)) {
                    along((p.0, lo), (p.0, hi));
                }
            }
        }
        out
    }

    /// The corner whose legend box covers the fewest drawn points (the chart's choice first).
    fn legend_corner(
        &self,
        drawn: &[(i32, i32)],
        plot: (i32, i32, i32, i32),
        size: (i32, i32),
    ) -> Corner {
        let corners = [
            self.legend,
            Corner::UpperLeft,
            Corner::UpperRight,
            Corner::LowerRight,
            Corner::LowerLeft,
        ];
        let covered = |c: Corner| {
            let [x0, y0, x1, y1] = legend_box(c, plot, size);
            drawn
                .iter()
                .filter(|p| (x0 - 4..=x1 + 4).contains(&p.0) && (y0 - 4..=y1 + 4).contains(&p.1))
                .count()
        };
        corners
            .into_iter()
            .min_by_key(|&c| covered(c))
            .unwrap_or(self.legend)
    }

    /// x as drawn: log10(x) on a log axis.
    fn x(&self, x: f64) -> f64 {
        if self.log_x {
            x.log10()
        } else {
            x
        }
    }

    /// The data's x and y extent, as drawn.
    fn extent(&self) -> (Range<f64>, Range<f64>) {
        let mut xs = (f64::INFINITY, f64::NEG_INFINITY);
        let mut ys = (f64::INFINITY, f64::NEG_INFINITY);
        for s in &self.series {
            for (i, &(x, y)) in s.points.iter().enumerate() {
                let x = self.x(x);
                let (lo, hi) = s
                    .spread
                    .as_ref()
                    .and_then(|sp| sp.get(i))
                    .copied()
                    .unwrap_or((y, y));
                if x.is_finite() && y.is_finite() {
                    xs = (xs.0.min(x), xs.1.max(x));
                    ys = (ys.0.min(lo.min(y)), ys.1.max(hi.max(y)));
                }
            }
        }
        if !xs.0.is_finite() {
            return (0.0..1.0, 0.0..1.0);
        }
        (pad(xs), self.y_range.clone().unwrap_or_else(|| pad(ys)))
    }
}

/// `lo..hi` widened by 5% each side; a single value (or one too narrow to tell apart on the
/// ticks) gets 10% of itself (1 at 0) each side, so its ticks are distinct numbers.
fn pad((lo, hi): (f64, f64)) -> Range<f64> {
    let d = if hi - lo > 1e-6 * lo.abs().max(hi.abs()).max(1e-3) {
        (hi - lo) * 0.05
    } else if lo == 0.0 {
        1.0
    } else {
        lo.abs() * 0.1
    };
    (lo - d)..(hi + d)
}

impl Chart for LineChart {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let (xr, yr) = self.extent();
        let log = self.log_x;
        // Whole-number data (layers, counts) gets whole-number ticks only.
        let whole = !log
            && self
                .series
                .iter()
                .all(|s| s.points.iter().all(|p| p.0.fract() == 0.0));
        // On a log axis the ticks fall at uneven numbers (10^4.2 = 15849): shown to two digits.
        let x_fmt = move |v: &f64| {
            if log {
                tick(two_digits(10f64.powf(*v)))
            } else if whole && v.fract() != 0.0 {
                String::new()
            } else {
                tick(*v)
            }
        };
        let linear = RangedCoordf64::from(xr.clone());
        let keys = if log {
            log_ticks(xr.start, xr.end)
        } else {
            Vec::new()
        };
        let axis = if keys.is_empty() {
            TickedAxis {
                bold: linear.key_points(10),
                light: linear.key_points(60),
                range: linear,
            }
        } else {
            TickedAxis {
                bold: keys,
                light: log_ticks_light(xr.start, xr.end),
                range: linear,
            }
        };
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FONT, 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(axis, yr)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|v| tick((v * 1e4).round() / 1e4))
            .light_line_style(RGBColor(235, 235, 235))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()?;
        let labels = self.labels();
        for (k, (s, label)) in self.series.iter().zip(&labels).enumerate() {
            let color = COLORS[k % COLORS.len()];
            let style = color.stroke_width(2);
            let points: Vec<(f64, f64)> = s.points.iter().map(|&(x, y)| (self.x(x), y)).collect();
            if s.dashed {
                chart
                    .draw_series(DashedLineSeries::new(points.clone(), 6, 4, style))?
                    .label(label.as_str())
                    .legend(move |(x, y)| {
                        EmptyElement::at((x, y))
                            + PathElement::new([(0, 0), (7, 0)], style)
                            + PathElement::new([(13, 0), (20, 0)], style)
                    });
            } else {
                chart
                    .draw_series(LineSeries::new(points.clone(), style))?
                    .label(label.as_str())
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            }
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
            if let Some(spread) = &s.spread {
                chart.draw_series(points.iter().zip(spread).map(|(&(x, _), &(lo, hi))| {
                    PathElement::new([(x, lo), (x, hi)], color.stroke_width(1))
                }))?;
            }
        }
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let drawn = self.drawn_points(|p| chart.backend_coord(&p));
        let corner = self.legend_corner(
            &drawn,
            (xs.start, ys.start, xs.end, ys.end),
            legend_size(&labels),
        );
        chart
            .configure_series_labels()
            .position(match corner {
                Corner::LowerRight => SeriesLabelPosition::LowerRight,
                Corner::UpperRight => SeriesLabelPosition::UpperRight,
                Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
                Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
            })
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_shown_to_two_digits() {
        assert_eq!(tick(two_digits(15848.93)), "16000");
        assert_eq!(tick(two_digits(3.1623)), "3.2");
        assert_eq!(tick(two_digits(100.0)), "100");
    }

    #[test]
    fn ticks_read_as_plain_numbers() {
        assert_eq!(tick(1000.0), "1000");
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(1e6), "1000000");
        assert_eq!(tick(2.5e7), "2.5e7");
        assert_eq!(tick(0.000316227766), "0.000316");
        assert_eq!(tick(31.6227766), "31.6");
        assert_eq!(tick(0.25), "0.25");
    }
}
