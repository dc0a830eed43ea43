//! A heatmap of numbers over two categorical axes (a study's depth × width grid), each cell
//! coloured by its value and labelled with it; missing cells stay blank.

use super::{Chart, DrawResult, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Values over rows (top to bottom) and columns (left to right).
#[derive(Clone, Debug, Default)]
pub struct Heatmap {
    /// The caption.
    pub title: String,
    /// The columns' description.
    pub x_label: String,
    /// The rows' description.
    pub y_label: String,
    /// One label per column.
    pub columns: Vec<String>,
    /// One label per row, top first.
    pub rows: Vec<String>,
    /// `values[row][column]`; `None` leaves the cell blank.
    pub values: Vec<Vec<Option<f64>>>,
    /// Decimals printed in each cell.
    pub decimals: usize,
}

impl Chart for Heatmap {
    fn size(&self) -> (u32, u32) {
        (
            (170 + 110 * self.columns.len()).max(500) as u32,
            (150 + 70 * self.rows.len()) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let (nx, ny) = (self.columns.len() as f64, self.rows.len() as f64);
        let name = |labels: &[String], v: f64, flip: bool| {
            let i = v.round();
            if (v - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            let i = if flip {
                labels.len() as f64 - 1.0 - i
            } else {
                i
            };
            labels.get(i as usize).cloned().unwrap_or_default()
        };
        let x_name = |v: &f64| name(&self.columns, *v, false);
        let y_name = |v: &f64| name(&self.rows, *v, true);
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, (FONT, 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..nx - 0.5, -0.5..ny - 0.5)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_labels(self.columns.len() + 1)
            .y_labels(self.rows.len() + 1)
            .x_label_formatter(&x_name)
            .y_label_formatter(&y_name)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()?;
        let present = self.values.iter().flatten().flatten().copied();
        let (lo, hi) = present.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let level = |v: f64| {
            if hi > lo {
                (v - lo) / (hi - lo)
            } else {
                1.0
            }
        };
        // Light yellow (lowest) to dark blue (highest).
        let shade = |v: f64| {
            let l = level(v);
            let mix = |a: f64, b: f64| (a + (b - a) * l) as u8;
            RGBColor(mix(255.0, 33.0), mix(247.0, 78.0), mix(188.0, 160.0))
        };
        let cells: Vec<(f64, f64, f64)> = self
            .values
            .iter()
            .enumerate()
            .flat_map(|(r, row)| {
                row.iter()
                    .enumerate()
                    .filter_map(move |(c, v)| v.map(|v| (c as f64, ny - 1.0 - r as f64, v)))
            })
            .collect();
        chart.draw_series(cells.iter().map(|&(x, y, v)| {
            Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], shade(v).filled())
        }))?;
        let decimals = self.decimals;
        chart.draw_series(cells.iter().map(|&(x, y, v)| {
            let color = if level(v) > 0.55 { WHITE } else { BLACK };
            let style = (FONT, 15)
                .into_font()
                .color(&color)
                .pos(Pos::new(HPos::Center, VPos::Center));
            Text::new(format!("{v:.decimals$}"), (x, y), style)
        }))?;
        Ok(())
    }
}

/// One row of a [`HistogramGrid`]: one histogram per layer, over the same range.
#[derive(Clone, Debug, Default)]
pub struct HistogramRow {
    /// What the row shows (`sigmoid, std 0.01 — at initialisation`).
    pub label: String,
    /// The values' range the bins split evenly.
    pub range: (f64, f64),
    /// Per layer, the fraction of values in each bin.
    pub layers: Vec<Vec<f64>>,
}

/// Histograms in a grid, one row per setting and one column per layer, as the book's
/// figures 6-10, 6-11 and 6-13 show activation distributions.
#[derive(Clone, Debug, Default)]
pub struct HistogramGrid {
    /// The caption.
    pub title: String,
    /// The rows.
    pub rows: Vec<HistogramRow>,
}

const CELL: (u32, u32) = (200, 170);

impl HistogramGrid {
    fn columns(&self) -> usize {
        self.rows.iter().map(|r| r.layers.len()).max().unwrap_or(1)
    }
}

impl Chart for HistogramGrid {
    fn size(&self) -> (u32, u32) {
        (
            self.columns() as u32 * CELL.0 + 20,
            self.rows.len().max(1) as u32 * (CELL.1 + 26) + 50,
        )
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        area.draw(&Text::new(self.title.clone(), (10, 10), (FONT, 20)))?;
        let body = area.margin(45, 5, 10, 10);
        let bands = body.split_evenly((self.rows.len().max(1), 1));
        for (row, band) in self.rows.iter().zip(&bands) {
            band.draw(&Text::new(row.label.clone(), (4, 2), (FONT, 15)))?;
            let cells = band.margin(22, 0, 0, 0).split_evenly((1, self.columns()));
            for (k, (fractions, cell)) in row.layers.iter().zip(&cells).enumerate() {
                let (lo, hi) = row.range;
                let top = fractions.iter().copied().fold(0.0, f64::max).max(1e-9);
                let mut chart = ChartBuilder::on(cell)
                    .caption(format!("layer {}", k + 1), (FONT, 13))
                    .margin(4)
                    .x_label_area_size(20)
                    .y_label_area_size(30)
                    .build_cartesian_2d(lo..hi, 0.0..top * 1.05)?;
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .x_labels(3)
                    .y_labels(3)
                    .x_label_formatter(&|v| super::lines::tick(*v))
                    .y_label_formatter(&|v| super::lines::tick(*v))
                    .label_style((FONT, 10))
                    .draw()?;
                let width = (hi - lo) / fractions.len().max(1) as f64;
                chart.draw_series(fractions.iter().enumerate().map(|(b, &f)| {
                    let x = lo + b as f64 * width;
                    Rectangle::new([(x, 0.0), (x + width, f)], RGBColor(31, 119, 180).filled())
                }))?;
            }
        }
        Ok(())
    }
}
