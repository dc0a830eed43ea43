//! Chapter 6's comparison of update rules (the book's figure 6-8): each optimizer's path over
//! the contours of f(x, y) = x²/20 + y², one panel per optimizer.

use super::{Chart, DrawResult, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::full_palette::{BLUE_600, GREY_800, RED_700};

/// The contour lines' colour: a light blue-grey that the red path stands out from.
const CONTOUR: RGBColor = RGBColor(140, 160, 190);

/// One panel: a title and the points an optimizer visited, start first.
pub struct Panel {
    /// What ran (`SGD, lr = 0.95`).
    pub title: String,
    /// (x, y) before the first step, then after each step.
    pub path: Vec<(f64, f64)>,
}

/// Panels side by side over the same contours, with the minimum marked.
pub struct OptimizerPaths {
    /// One panel per optimizer, laid out in rows of `columns`.
    pub panels: Vec<Panel>,
    /// Panels per row.
    pub columns: usize,
    /// Contour lines as closed polylines (the demo computes them from f).
    pub contours: Vec<Vec<(f64, f64)>>,
    /// Where f is smallest, marked with a cross.
    pub minimum: (f64, f64),
    /// The view: (x range, y range).
    pub view: ((f64, f64), (f64, f64)),
}

impl OptimizerPaths {
    fn rows(&self) -> usize {
        self.panels.len().div_ceil(self.columns.max(1))
    }
}

/// Each panel's size in pixels: twice as wide as tall, as the view's 20 × 10 units.
const PANEL: (u32, u32) = (600, 330);

impl Chart for OptimizerPaths {
    fn size(&self) -> (u32, u32) {
        let columns = self.columns.max(1) as u32;
        (PANEL.0 * columns, PANEL.1 * self.rows() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let cells = area.split_evenly((self.rows(), self.columns.max(1)));
        for (panel, cell) in self.panels.iter().zip(&cells) {
            self.draw_panel(panel, cell)?;
        }
        Ok(())
    }
}

impl OptimizerPaths {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        panel: &Panel,
        area: &DrawingArea<DB, Shift>,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let ((x_lo, x_hi), (y_lo, y_hi)) = self.view;
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, (FONT, 20))
            .margin(8)
            .margin_right(16)
            .x_label_area_size(36)
            .y_label_area_size(40)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
        chart
            .configure_mesh()
            .x_desc("x")
            .y_desc("y")
            .disable_mesh()
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .draw()?;
        let inside =
            |&(x, y): &(f64, f64)| (x_lo..=x_hi).contains(&x) && (y_lo..=y_hi).contains(&y);
        for contour in &self.contours {
            // Only the arcs inside the view: plotters pins outside points to the border.
            for arc in contour.split(|p| !inside(p)).filter(|arc| arc.len() > 1) {
                chart.draw_series(LineSeries::new(
                    arc.iter().copied(),
                    CONTOUR.stroke_width(1),
                ))?;
            }
        }
        let (mx, my) = self.minimum;
        chart.draw_series([Cross::new((mx, my), 6, BLUE_600.stroke_width(2))])?;
        // Points outside the view are left out, with the segments that reach them.
        let visible: Vec<(f64, f64)> = panel.path.iter().copied().filter(inside).collect();
        chart.draw_series(LineSeries::new(
            visible.iter().copied(),
            RED_700.stroke_width(2),
        ))?;
        chart.draw_series(visible.iter().map(|&p| Circle::new(p, 3, RED_700.filled())))?;
        if let Some(&last) = panel.path.last() {
            let text = format!(
                "after {} steps: ({:.3}, {:.3})",
                panel.path.len() - 1,
                last.0,
                last.1
            );
            let style = TextStyle::from((FONT, 14).into_font()).color(&GREY_800);
            chart.draw_series([Text::new(
                text,
                (x_lo + 0.03 * (x_hi - x_lo), y_lo + 0.1 * (y_hi - y_lo)),
                style,
            )])?;
        }
        Ok(())
    }
}
