//! The training charts of the book's figure 4-11: loss per iteration, accuracy per epoch.

use super::{Chart, DrawResult, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use scratchnet_core::train::EpochRecord;

/// The mini-batch loss of every iteration (the book's `train_loss_list`), with a moving
/// average drawn over it so the trend shows through the noise.
pub struct LossChart<'a> {
    /// One loss per iteration.
    pub losses: &'a [f64],
}

/// Train (solid) and test (dashed) accuracy per epoch, y from 0 to 1, as in the book, with
/// the final weights' accuracies marked where training ended (a fraction of an epoch, if so).
pub struct AccuracyChart<'a> {
    /// One record per epoch mark.
    pub epochs: &'a [EpochRecord],
    /// Updates per epoch: x is `iteration / iter_per_epoch`.
    pub iter_per_epoch: usize,
    /// Updates made in all.
    pub iterations: usize,
    /// The final weights' (train, test) accuracy.
    pub final_acc: (f64, f64),
}

/// The most points drawn per line of the loss chart.
const MAX_POINTS: usize = 5000;

/// Points of a moving average over `window` values (centred at the window's end).
fn moving_average(values: &[f64], window: usize) -> Vec<(f64, f64)> {
    let window = window.max(1);
    let mut sum = 0.0;
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        sum += v;
        if i >= window {
            sum -= values[i - window];
        }
        out.push((i as f64, sum / (i + 1).min(window) as f64));
    }
    out
}

impl Chart for LossChart<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let n = self.losses.len().max(2) as f64;
        let top = self
            .losses
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(area)
            .caption("Mini-batch loss per iteration", (FONT, 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..n, 0.0..(top * 1.05).max(1e-3))?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .light_line_style(RGBColor(235, 235, 235))
            .y_desc("loss")
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()?;
        let raw = RGBColor(120, 160, 220);
        // At most about 5000 points per line: more adds file size, not detail.
        let step = self.losses.len().div_ceil(MAX_POINTS).max(1);
        chart
            .draw_series(LineSeries::new(
                self.losses
                    .iter()
                    .enumerate()
                    .step_by(step)
                    .map(|(i, &v)| (i as f64, v)),
                raw.stroke_width(1),
            ))?
            .label("loss")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], raw));
        let window = (self.losses.len() / 100).max(1);
        chart
            .draw_series(LineSeries::new(
                moving_average(self.losses, window)
                    .into_iter()
                    .step_by(step),
                BLACK.stroke_width(2),
            ))?
            .label(format!("moving average over {window}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.stroke_width(2)));
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

impl AccuracyChart<'_> {
    /// Epochs at `iteration` (fractional between marks).
    fn epochs_at(&self, iteration: usize) -> f64 {
        iteration as f64 / self.iter_per_epoch.max(1) as f64
    }

    /// (epochs, train, test) at each mark, then at the end of training if that is later.
    fn points(&self) -> Vec<(f64, f64, f64)> {
        let mut points: Vec<(f64, f64, f64)> = self
            .epochs
            .iter()
            .map(|e| (self.epochs_at(e.iteration), e.train_acc, e.test_acc))
            .collect();
        let end = self.epochs_at(self.iterations);
        if points.last().is_none_or(|p| p.0 < end) {
            points.push((end, self.final_acc.0, self.final_acc.1));
        }
        points
    }
}

/// Where a final accuracy's value is written: right of its mark, above or below it.
fn value_offset(above: bool) -> ((i32, i32), VPos) {
    if above {
        ((6, -6), VPos::Bottom)
    } else {
        ((6, 6), VPos::Top)
    }
}

impl Chart for AccuracyChart<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let points = self.points();
        let last = points.last().map_or(1.0, |p| p.0).max(1e-3);
        let mut chart = ChartBuilder::on(area)
            .caption("Accuracy per epoch", (FONT, 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            // Room right of the end for the final values.
            .build_cartesian_2d(0.0..last * 1.1, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("epochs")
            .x_label_formatter(&|v| super::lines::tick((v * 1e4).round() / 1e4))
            .light_line_style(RGBColor(235, 235, 235))
            .y_desc("accuracy")
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()?;
        let train = BLUE.stroke_width(2);
        chart
            .draw_series(LineSeries::new(points.iter().map(|p| (p.0, p.1)), train))?
            .label("train acc")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], train));
        let test = RED.stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new(
                points.iter().map(|p| (p.0, p.2)),
                6,
                4,
                test,
            ))?
            .label("test acc")
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new([(0, 0), (8, 0)], test)
                    + PathElement::new([(14, 0), (22, 0)], test)
            });
        let end = self.epochs_at(self.iterations);
        let (train_acc, test_acc) = self.final_acc;
        // A final accuracy: a ringed dot, its value written beside it.
        let final_mark = |at: (f64, f64), color: RGBColor, above: bool| {
            let (offset, v) = value_offset(above);
            let style = (FONT, 14)
                .into_font()
                .color(&color)
                .pos(Pos::new(HPos::Left, v));
            EmptyElement::at(at)
                + Circle::new((0, 0), 6, color.filled())
                + Circle::new((0, 0), 6, BLACK.stroke_width(1))
                + Text::new(format!("{:.4}", at.1), offset, style)
        };
        chart
            .draw_series([
                final_mark((end, train_acc), BLUE, train_acc >= test_acc),
                final_mark((end, test_acc), RED, test_acc > train_acc),
            ])?
            .label(format!("final weights ({} iterations)", self.iterations))
            .legend(|(x, y)| {
                EmptyElement::at((x + 12, y))
                    + Circle::new((0, 0), 6, WHITE.filled())
                    + Circle::new((0, 0), 6, BLACK.stroke_width(1))
            });
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_average_averages_the_last_window() {
        let avg = moving_average(&[1.0, 3.0, 5.0, 7.0], 2);
        assert_eq!(avg, vec![(0.0, 1.0), (1.0, 2.0), (2.0, 4.0), (3.0, 6.0)]);
    }
}
