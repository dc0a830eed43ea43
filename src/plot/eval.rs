//! Evaluation charts: the confusion matrix as a heatmap, and a grid of misclassified images.

use super::raster::Raster;
use super::{Chart, DrawResult, FONT};
use ndarray::{Array2, ArrayView2};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The confusion matrix: rows are true classes, columns predictions, darker = more rows.
pub struct ConfusionChart<'a> {
    /// `confusion[[true, predicted]]` counts.
    pub confusion: &'a Array2<usize>,
}

/// Misclassified images (28×28, values in [0, 1]) with "true → predicted" under each.
pub struct MisclassifiedGrid<'a> {
    /// The images, one flattened 784-pixel row each.
    pub images: ArrayView2<'a, f32>,
    /// (true label, predicted label) for each image.
    pub labels: &'a [(usize, usize)],
    /// Class names to print (digits for MNIST).
    pub class_names: &'a [&'a str],
    /// How the images are laid out.
    pub layout: GridLayout,
}

/// Images per row and chart pixels per image pixel of a [`MisclassifiedGrid`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridLayout {
    /// Images per row.
    pub columns: usize,
    /// Chart pixels per image pixel.
    pub scale: i32,
}

impl GridLayout {
    /// `eval`'s grid: 10 images to a row, each 56×56.
    pub const EVAL: GridLayout = GridLayout {
        columns: 10,
        scale: 2,
    };
    /// Chapter 8's figure of the deep net's mistakes: 20 images as 4 rows of 5, each 84×84.
    pub const CHAPTER8: GridLayout = GridLayout {
        columns: 5,
        scale: 3,
    };

    /// One cell: the image plus its caption.
    fn cell(self) -> (i32, i32) {
        (28 * self.scale + 24, 28 * self.scale + 26)
    }

    /// The top-left corner of the `k`-th image.
    fn origin(self, k: usize) -> (i32, i32) {
        let (w, h) = self.cell();
        (
            10 + (k % self.columns) as i32 * w,
            45 + (k / self.columns) as i32 * h,
        )
    }
}

impl Chart for ConfusionChart<'_> {
    fn size(&self) -> (u32, u32) {
        (640, 600)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let n = self.confusion.nrows() as f64;
        // Whole numbers only: the cells are centred on the class indices.
        let whole = |v: &f64| {
            if (v - v.round()).abs() < 1e-6 && *v >= 0.0 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        };
        // Row `i` (true class) is drawn from the top, as matrices are read: y = n - 1 - i.
        let flip = move |v: &f64| whole(&(n - 1.0 - v));
        let mut chart = ChartBuilder::on(area)
            .caption("Confusion matrix (test set)", (FONT, 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(50)
            .build_cartesian_2d(-0.5..n - 0.5, -0.5..n - 0.5)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted class")
            .y_desc("true class")
            .x_labels(n as usize + 1)
            .y_labels(n as usize + 1)
            .x_label_formatter(&whole)
            .y_label_formatter(&flip)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()?;
        // Log scale for the colour so the few errors show beside the large diagonal.
        let max = self.confusion.iter().copied().max().unwrap_or(1).max(1) as f64;
        let shade = |count: usize| {
            let level = (1.0 + count as f64).ln() / (1.0 + max).ln();
            let c = (255.0 * (1.0 - level)) as u8;
            RGBColor(c, c, 255)
        };
        let centre = |i: usize, j: usize| (j as f64, n - 1.0 - i as f64);
        let cells = self.confusion.indexed_iter().map(|((i, j), &count)| {
            let (x, y) = centre(i, j);
            Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                shade(count).filled(),
            )
        });
        chart.draw_series(cells)?;
        let labels = self.confusion.indexed_iter().map(|((i, j), &count)| {
            let color = if (count as f64) > max / 3.0 {
                WHITE
            } else {
                BLACK
            };
            let style = (FONT, 13)
                .into_font()
                .color(&color)
                .pos(Pos::new(HPos::Center, VPos::Center));
            Text::new(count.to_string(), centre(i, j), style)
        });
        chart.draw_series(labels)?;
        Ok(())
    }
}

impl Chart for MisclassifiedGrid<'_> {
    fn size(&self) -> (u32, u32) {
        let GridLayout { columns, .. } = self.layout;
        let rows = self.labels.len().div_ceil(columns).max(1) as u32;
        let (w, h) = self.layout.cell();
        // Wide enough for the title however few the columns.
        (
            (columns as u32 * w as u32 + 20).max(560),
            rows * h as u32 + 60,
        )
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let title = format!(
            "Misclassified test images (true → predicted), first {}",
            self.labels.len()
        );
        area.draw(&Text::new(title, (10, 10), (FONT, 20)))?;
        for (k, &(truth, guess)) in self.labels.iter().enumerate() {
            let (x0, y0) = self.layout.origin(k);
            let name = |i: usize| self.class_names.get(i).copied().unwrap_or("?");
            let caption = format!("{} → {}", name(truth), name(guess));
            area.draw(&Text::new(
                caption,
                (x0, y0 + 28 * self.layout.scale + 4),
                (FONT, 13).into_font().color(&RED),
            ))?;
        }
        Ok(())
    }

    /// All the images as one picture (a rectangle per pixel would make the SVG megabytes).
    fn rasters(&self) -> Vec<Raster> {
        let (w, h) = self.size();
        let mut raster = Raster::transparent((0, 0), (w, h));
        for (k, image) in self.images.outer_iter().take(self.labels.len()).enumerate() {
            let (x0, y0) = self.layout.origin(k);
            let scale = self.layout.scale;
            for (p, &v) in image.iter().enumerate() {
                let (r, c) = ((p / 28) as i32, (p % 28) as i32);
                let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
                for (dx, dy) in (0..scale).flat_map(|dx| (0..scale).map(move |dy| (dx, dy))) {
                    let (x, y) = (x0 + c * scale + dx, y0 + r * scale + dy);
                    raster.set((x as u32, y as u32), [g, g, g]);
                }
            }
        }
        vec![raster]
    }
}
