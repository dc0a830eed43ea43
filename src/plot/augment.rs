//! What augmentation does to digits: a row of training images, then rows of distorted draws
//! of each, one PNG-embedded picture.

use super::raster::Raster;
use super::{Chart, DrawResult, FONT};
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Training images (the first row of `rows`) and distorted draws of them (the rows after).
pub struct AugmentedDigits {
    /// The augmentation as `--augment` writes it.
    pub spec: String,
    /// Rows of images, each (images, 784) with values in [0, 1]; all rows the same size.
    pub rows: Vec<Array2<f32>>,
}

/// Pixels per image pixel.
const SCALE: u32 = 2;
/// One cell: the 56×56 image and a gap.
const CELL: u32 = 28 * SCALE + 8;
/// Space for the title and the row captions.
const TOP: u32 = 40;
const LEFT: u32 = 90;

impl Chart for AugmentedDigits {
    fn size(&self) -> (u32, u32) {
        let columns = self.rows.first().map_or(1, |r| r.nrows()) as u32;
        (
            LEFT + columns * CELL + 10,
            TOP + self.rows.len() as u32 * CELL + 10,
        )
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE)?;
        let title = format!("Augmentation {}: training images and draws", self.spec);
        area.draw(&Text::new(title, (10, 10), (FONT, 18)))?;
        for k in 0..self.rows.len() {
            let caption = if k == 0 {
                "original".to_string()
            } else {
                format!("draw {k}")
            };
            let y = (TOP + k as u32 * CELL + CELL / 2 - 8) as i32;
            area.draw(&Text::new(caption, (10, y), (FONT, 14)))?;
        }
        Ok(())
    }

    fn rasters(&self) -> Vec<Raster> {
        let (w, h) = self.size();
        let mut raster = Raster::transparent((0, 0), (w, h));
        for (k, row) in self.rows.iter().enumerate() {
            for (j, image) in row.outer_iter().enumerate() {
                let (x0, y0) = (LEFT + j as u32 * CELL, TOP + k as u32 * CELL);
                for (p, &v) in image.iter().enumerate() {
                    let (r, c) = (p as u32 / 28, p as u32 % 28);
                    let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
                    for (dx, dy) in (0..SCALE).flat_map(|dx| (0..SCALE).map(move |dy| (dx, dy))) {
                        raster.set((x0 + c * SCALE + dx, y0 + r * SCALE + dy), [g, g, g]);
                    }
                }
            }
        }
        vec![raster]
    }
}
