//! A heatmap of numbers over two categorical axes (a study's depth × width grid), each cell
//! coloured by its value and labelled with it; missing cells stay blank.

use super::raster::Raster;
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

/// Pixels right of the grid for the colour scale.
const SCALE_WIDTH: u32 = 100;

/// The colour of `level` (0 = lowest value, 1 = highest): light yellow to dark blue.
fn shade(level: f64) -> RGBColor {
    let mix = |a: f64, b: f64| (a + (b - a) * level) as u8;
    RGBColor(mix(255.0, 33.0), mix(247.0, 78.0), mix(188.0, 160.0))
}

impl Heatmap {
    /// The lowest and highest value present.
    fn extent(&self) -> (f64, f64) {
        let present = self.values.iter().flatten().flatten().copied();
        present.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
    }

    /// The colour scale's frame and its lowest, middle and highest values (the bar itself is
    /// a raster).
    fn draw_scale<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (lo, hi) = self.extent();
        if !lo.is_finite() {
            return Ok(());
        }
        let ((x, y), (w, h)) = self.scale_bar();
        let (x, y, w, h) = (x as i32, y as i32, w as i32, h as i32);
        area.draw(&PathElement::new(
            [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)],
            BLACK,
        ))?;
        let decimals = self.decimals;
        let style = (FONT, 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let marks: &[(f64, i32)] = if hi > lo {
            &[(1.0, 0), (0.5, h / 2), (0.0, h)]
        } else {
            &[(1.0, 0)]
        };
        for &(level, dy) in marks {
            let v = lo + (hi - lo) * level;
            area.draw(&PathElement::new(
                [(x + w, y + dy), (x + w + 4, y + dy)],
                BLACK,
            ))?;
            area.draw(&Text::new(
                format!("{v:.decimals$}"),
                (x + w + 7, y + dy),
                style.clone(),
            ))?;
        }
        Ok(())
    }

    /// The colour scale's bar: top-left corner and size, in pixels.
    fn scale_bar(&self) -> ((u32, u32), (u32, u32)) {
        let (w, h) = self.size();
        (
            (w - SCALE_WIDTH + 15, 60),
            (18, h.saturating_sub(130).max(20)),
        )
    }
}

impl Chart for Heatmap {
    fn size(&self) -> (u32, u32) {
        (
            (170 + 110 * self.columns.len()).max(500) as u32 + SCALE_WIDTH,
            (150 + 70 * self.rows.len()) as u32,
        )
    }

    /// The colour scale: highest value at the top.
    fn rasters(&self) -> Vec<Raster> {
        let (at, size) = self.scale_bar();
        let mut bar = Raster::transparent(at, size);
        for y in 0..size.1 {
            let RGBColor(r, g, b) = shade(1.0 - f64::from(y) / f64::from(size.1 - 1).max(1.0));
            for x in 0..size.0 {
                bar.set((x, y), [r, g, b]);
            }
        }
        vec![bar]
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
        self.draw_scale(area)?;
        let (grid, _) = area.split_horizontally(area.dim_in_pixel().0 - SCALE_WIDTH);
        let mut chart = ChartBuilder::on(&grid)
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
        let (lo, hi) = self.extent();
        let level = |v: f64| {
            if hi > lo {
                (v - lo) / (hi - lo)
            } else {
                1.0
            }
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
            Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                shade(level(v)).filled(),
            )
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

const CELL: (u32, u32) = (240, 210);

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
                    .x_label_area_size(38)
                    .y_label_area_size(52)
                    .build_cartesian_2d(lo..hi, 0.0..top * 1.05)?;
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .x_labels(3)
                    .y_labels(3)
                    .x_desc("activation")
                    .y_desc("fraction")
                    .x_label_formatter(&|v| super::lines::tick(*v))
                    .y_label_formatter(&|v| super::lines::tick(*v))
                    .label_style((FONT, 13))
                    .axis_desc_style((FONT, 13))
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
