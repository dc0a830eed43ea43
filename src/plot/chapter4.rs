//! Chapter 4's charts: function_1 with its tangents (the book's figure 4-7), the negative
//! gradient of function_2 as arrows (figure 4-9), and a gradient-descent path over function_2's
//! contours (figure 4-10). Each struct holds only the numbers to draw; the demo computes them.

use super::{Chart, DrawResult, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::full_palette::{BLUE_600, GREY_400, GREY_700, ORANGE_800, RED_700};

/// A curve and its tangent lines (figure 4-7).
pub struct TangentChart {
    /// What the curve is, for the legend (`function_1(x) = 0.01x² + 0.1x`).
    pub name: String,
    /// The curve as (x, y) points, x increasing.
    pub curve: Vec<(f64, f64)>,
    /// The tangents to draw across the whole x range.
    pub tangents: Vec<Tangent>,
}

/// The tangent to a curve at `x`: `y = slope·t + intercept`, touching the curve at `(x, y)`.
pub struct Tangent {
    /// Where the line touches the curve.
    pub x: f64,
    /// The curve's value there.
    pub y: f64,
    /// The derivative at x.
    pub slope: f64,
    /// `y − slope·x`.
    pub intercept: f64,
}

/// Arrows of the negative gradient at grid points (figure 4-9): each points downhill, with
/// length proportional to the gradient's size.
pub struct GradientField {
    /// (point, −∇f at the point) pairs.
    pub arrows: Vec<((f64, f64), (f64, f64))>,
    /// Grid spacing, so that the longest arrow can be drawn about one spacing long.
    pub spacing: f64,
    /// The square view `lo..hi` on both axes.
    pub view: (f64, f64),
}

/// The points gradient descent visited, over circles of equal x0² + x1² (figure 4-10).
pub struct DescentPath {
    /// What was run, for the title (`lr = 0.1, step_num = 20`).
    pub title: String,
    /// The point before each step, from init_x on.
    pub path: Vec<(f64, f64)>,
    /// Radii of the contour circles to draw (function_2 = r²).
    pub contour_radii: Vec<f64>,
    /// The view: (x0 range, x1 range).
    pub view: ((f64, f64), (f64, f64)),
}

const CAPTION: (&str, u32) = (FONT, 22);
const LABELS: (&str, u32) = (FONT, 15);
const AXIS_NAMES: (&str, u32) = (FONT, 18);

impl Chart for TangentChart {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let (x_lo, x_hi) = (self.curve[0].0, self.curve[self.curve.len() - 1].0);
        let line_at = |t: &Tangent, x: f64| t.slope * x + t.intercept;
        let ys = self.curve.iter().map(|p| p.1).chain(
            self.tangents
                .iter()
                .flat_map(|t| [line_at(t, x_lo), line_at(t, x_hi)]),
        );
        let (y_lo, y_hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
        let pad = 0.05 * (y_hi - y_lo);

        let mut chart = ChartBuilder::on(area)
            .caption("function_1 and its tangents by numerical_diff", CAPTION)
            .margin(12)
            .margin_right(28)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d(x_lo..x_hi, (y_lo - pad)..(y_hi + pad))?;
        chart
            .configure_mesh()
            .x_desc("x")
            .y_desc("f(x)")
            .x_labels(11)
            .x_label_formatter(&|v| format!("{v}"))
            .y_label_formatter(&|v| format!("{v}"))
            .label_style(LABELS)
            .axis_desc_style(AXIS_NAMES)
            .light_line_style(WHITE.mix(0.0))
            .draw()?;

        let curve_style = BLUE_600.stroke_width(3);
        chart
            .draw_series(LineSeries::new(self.curve.iter().copied(), curve_style))?
            .label(self.name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], curve_style));
        for (t, color) in self
            .tangents
            .iter()
            .zip([ORANGE_800, RED_700].iter().cycle())
        {
            let style = color.stroke_width(2);
            let ends = [(x_lo, line_at(t, x_lo)), (x_hi, line_at(t, x_hi))];
            let sign = if t.intercept < 0.0 { '−' } else { '+' };
            chart
                .draw_series(DashedLineSeries::new(ends, 10, 6, style))?
                .label(format!(
                    "tangent at x = {}: y = {:.2}x {sign} {:.2}",
                    t.x,
                    t.slope,
                    t.intercept.abs()
                ))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], style));
            chart.draw_series([Circle::new((t.x, t.y), 5, color.filled())])?;
        }
        chart
            .configure_series_labels()
            .label_font(LABELS)
            .background_style(WHITE.mix(0.9))
            .border_style(GREY_400)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        Ok(())
    }
}

impl Chart for GradientField {
    fn size(&self) -> (u32, u32) {
        (700, 700)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let (lo, hi) = self.view;
        let mut chart = ChartBuilder::on(area)
            .caption("−∇function_2: the arrows point downhill", CAPTION)
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(50)
            .build_cartesian_2d(lo..hi, lo..hi)?;
        chart
            .configure_mesh()
            .x_desc("x0")
            .y_desc("x1")
            .label_style(LABELS)
            .axis_desc_style(AXIS_NAMES)
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        chart.draw_series([Circle::new((0.0, 0.0), 5, RED_700.filled())])?;

        // Scale so the longest arrow spans about one grid spacing, as matplotlib's quiver
        // autoscales; the others keep their proportions.
        let longest = self
            .arrows
            .iter()
            .map(|(_, (u, v))| u.hypot(*v))
            .fold(0.0, f64::max);
        let scale = if longest > 0.0 {
            0.9 * self.spacing / longest
        } else {
            0.0
        };
        let base = area.get_base_pixel();
        let to_area = |p: (f64, f64)| {
            let (x, y) = chart.backend_coord(&p);
            ((x - base.0) as f64, (y - base.1) as f64)
        };
        let style = GREY_700.filled();
        for &((x, y), (u, v)) in &self.arrows {
            let tail = to_area((x, y));
            let tip = to_area((x + scale * u, y + scale * v));
            draw_arrow(area, tail, tip, style)?;
        }
        Ok(())
    }
}

/// An arrow from `tail` to `tip` (pixels): a shaft and a filled head whose size follows the
/// arrow's length, so short arrows stay arrows instead of blobs.
fn draw_arrow<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    tail: (f64, f64),
    tip: (f64, f64),
    style: ShapeStyle,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (dx, dy) = (tip.0 - tail.0, tip.1 - tail.1);
    let len = dx.hypot(dy);
    if len < 1.0 {
        return Ok(());
    }
    let (ux, uy) = (dx / len, dy / len);
    let head = (0.35 * len).clamp(3.0, 10.0);
    let half_width = 0.5 * head;
    let neck = (tip.0 - head * ux, tip.1 - head * uy);
    let px = |p: (f64, f64)| (p.0.round() as i32, p.1.round() as i32);
    area.draw(&PathElement::new(
        [px(tail), px(neck)],
        style.stroke_width(2),
    ))?;
    area.draw(&Polygon::new(
        [
            px(tip),
            px((neck.0 - half_width * uy, neck.1 + half_width * ux)),
            px((neck.0 + half_width * uy, neck.1 - half_width * ux)),
        ],
        style,
    ))?;
    Ok(())
}

impl Chart for DescentPath {
    fn size(&self) -> (u32, u32) {
        // Tall enough that one unit of x0 and of x1 span about the same pixels over the
        // book's 7 × 9 view, so the contours look round.
        (640, 840)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let ((x_lo, x_hi), (y_lo, y_hi)) = self.view;
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, CAPTION)
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(50)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
        chart
            .configure_mesh()
            .x_desc("x0")
            .y_desc("x1")
            .label_style(LABELS)
            .axis_desc_style(AXIS_NAMES)
            .light_line_style(WHITE.mix(0.0))
            .draw()?;

        let contour = GREY_400.stroke_width(1);
        let inside =
            |&(x, y): &(f64, f64)| (x_lo..=x_hi).contains(&x) && (y_lo..=y_hi).contains(&y);
        let mut labelled = false;
        for &r in &self.contour_radii {
            let circle: Vec<(f64, f64)> = (0..=720)
                .map(|k| {
                    let a = k as f64 * std::f64::consts::TAU / 720.0;
                    (r * a.cos(), r * a.sin())
                })
                .collect();
            // Only the arcs inside the view: plotters pins points outside it to the border,
            // which would draw false chords along the edges.
            for arc in circle.split(|p| !inside(p)).filter(|arc| arc.len() > 1) {
                let series = chart.draw_series(LineSeries::new(arc.iter().copied(), contour))?;
                if !labelled {
                    series
                        .label("contours: function_2 = x0² + x1² = r²")
                        .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], contour));
                    labelled = true;
                }
            }
        }

        let axis = BLUE_600.stroke_width(1);
        chart.draw_series(DashedLineSeries::new(
            [(x_lo, 0.0), (x_hi, 0.0)],
            8,
            6,
            axis,
        ))?;
        chart.draw_series(DashedLineSeries::new(
            [(0.0, y_lo), (0.0, y_hi)],
            8,
            6,
            axis,
        ))?;

        let point = BLUE_600.filled();
        chart.draw_series(LineSeries::new(
            self.path.iter().copied(),
            BLUE_600.mix(0.4),
        ))?;
        chart
            .draw_series(self.path.iter().map(|&p| Circle::new(p, 4, point)))?
            .label("x before each step")
            .legend(move |(x, y)| Circle::new((x + 12, y), 4, point));
        if let Some(&start) = self.path.first() {
            let label = format!("init_x = ({}, {})", start.0, start.1);
            chart.draw_series([
                EmptyElement::at(start) + Text::new(label, (10, -8), LABELS.into_font())
            ])?;
        }
        chart
            .configure_series_labels()
            .label_font(LABELS)
            .background_style(WHITE.mix(0.9))
            .border_style(GREY_400)
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
        Ok(())
    }
}
