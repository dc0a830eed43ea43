//! Chapters 7 and 8's pictures of a convolutional network: the first layer's filters as grey
//! images (figure 7-24) and one image's feature maps, layer by layer.
//!
//! Both are grids of small grey pictures drawn as one raster. A filter is scaled as the book's
//! `imshow` scales it — alone, from its own smallest weight (black) to its largest (white), as
//! figure 7-24's caption says (the book's script passes `cmap=gray_r`, which reverses the
//! shades; the printed figure follows the caption). A layer's feature maps share one scale, the
//! layer's smallest to largest output, so that a channel that answers weakly looks dim beside
//! one that answers strongly, and a ReLU's zeros are black in every channel.

use super::raster::Raster;
use super::{Chart, DrawResult, FONT};
use ndarray::{Array3, ArrayView2, ArrayView4, Axis};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Filters per row, as the book's `visualize_filter.py` lays them out.
pub const FILTER_COLUMNS: usize = 8;
/// Feature maps per row at most.
pub const MAP_COLUMNS: usize = 16;
/// Where the first row of pictures starts, under the title.
const TOP: u32 = 45;
/// The left (and right) margin.
const LEFT: u32 = 10;
/// The height of a layer's label above its feature maps.
const LABEL: u32 = 22;
/// The frame drawn around each picture, so a white one shows on the white page.
const FRAME: RGBColor = RGBColor(150, 150, 150);

/// The first convolution layer's filters, W1 (FN, C, FH, FW): channel 0 of each filter as an
/// FH × FW grey picture, [`FILTER_COLUMNS`] to a row, each scaled to its own range (smallest
/// weight black, largest white).
pub struct FilterGrid<'a> {
    /// The caption, e.g. "W1 before training".
    pub title: String,
    /// The weights (FN, C, FH, FW).
    pub filters: ArrayView4<'a, f32>,
}

/// One image's outputs through a conv net's layers: each layer's channels (C, H, W) as C small
/// grey pictures, [`MAP_COLUMNS`] to a row under a label naming the layer, its shape and its
/// range; black is the layer's smallest output, white its largest.
pub struct FeatureMaps<'a> {
    /// The caption.
    pub title: String,
    /// (layer name, its output (C, H, W)), first layer first (the input image may lead).
    pub layers: &'a [(String, Array3<f32>)],
}

/// The grey level of `v` on a scale from `lo` (black, 0) to `hi` (white, 255); mid-grey when
/// the scale is a single value (a constant picture).
pub fn grey(v: f32, (lo, hi): (f32, f32)) -> u8 {
    if hi > lo {
        (255.0 * ((v - lo) / (hi - lo)).clamp(0.0, 1.0)).round() as u8
    } else {
        128
    }
}

/// The smallest and largest finite value of `values`; (0, 0) when none is finite.
pub fn range<'a>(values: impl IntoIterator<Item = &'a f32>) -> (f32, f32) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if lo <= hi {
        (lo, hi)
    } else {
        (0.0, 0.0)
    }
}

/// A number short enough for a label: 3 decimals, or 2 significant digits and an exponent
/// when it is tiny or huge.
fn short(x: f32) -> String {
    if x != 0.0 && !(0.01..1e4).contains(&x.abs()) {
        format!("{x:.1e}")
    } else {
        format!("{x:.3}")
    }
}

/// One grey picture placed on a chart: `pixels` (rows × columns) drawn `scale` chart pixels to
/// a pixel, its top-left corner at `at`, shaded on `range`.
struct Tile<'a> {
    at: (u32, u32),
    scale: u32,
    pixels: ArrayView2<'a, f32>,
    range: (f32, f32),
}

impl Tile<'_> {
    /// Width and height in chart pixels.
    fn size(&self) -> (u32, u32) {
        let (h, w) = self.pixels.dim();
        (w as u32 * self.scale, h as u32 * self.scale)
    }

    /// Paints the picture into `raster` (which covers the whole chart).
    fn paint(&self, raster: &mut Raster) {
        for ((r, c), &v) in self.pixels.indexed_iter() {
            let g = grey(v, self.range);
            let (x0, y0) = (
                self.at.0 + c as u32 * self.scale,
                self.at.1 + r as u32 * self.scale,
            );
            for dy in 0..self.scale {
                for dx in 0..self.scale {
                    raster.set((x0 + dx, y0 + dy), [g, g, g]);
                }
            }
        }
    }

    /// Draws the frame one pixel outside the picture.
    fn frame<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (w, h) = self.size();
        let (x, y) = (self.at.0 as i32 - 1, self.at.1 as i32 - 1);
        area.draw(&Rectangle::new(
            [(x, y), (x + w as i32 + 1, y + h as i32 + 1)],
            FRAME,
        ))?;
        Ok(())
    }
}

/// Chart pixels per picture pixel so that a picture `side` pixels wide is about `target`
/// pixels wide, between 1 and `max`.
fn scale_for(side: usize, target: u32, max: u32) -> u32 {
    (target / side.max(1) as u32).clamp(1, max)
}

/// The rows of a grid of `count` pictures, `columns` to a row (at least one row).
fn rows_of(count: usize, columns: usize) -> u32 {
    count.div_ceil(columns).max(1) as u32
}

/// A chart of tiles: a white page, the title, a frame around each tile, labels.
fn draw_tiles<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    tiles: &[Tile],
    labels: &[(String, (u32, u32))],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    area.draw(&Text::new(title.to_string(), (10, 10), (FONT, 20)))?;
    for tile in tiles {
        tile.frame(area)?;
    }
    for (text, (x, y)) in labels {
        area.draw(&Text::new(
            text.clone(),
            (*x as i32, *y as i32),
            (FONT, 14).into_font(),
        ))?;
    }
    Ok(())
}

/// The tiles painted into one raster the size of the chart.
fn raster_of(size: (u32, u32), tiles: &[Tile]) -> Vec<Raster> {
    let mut raster = Raster::transparent((0, 0), size);
    for tile in tiles {
        tile.paint(&mut raster);
    }
    vec![raster]
}

/// The gap between pictures of the filter grid.
const FILTER_GAP: u32 = 6;

impl FilterGrid<'_> {
    /// Each filter's channel 0 placed in the grid.
    fn tiles(&self) -> Vec<Tile<'_>> {
        let (_, _, fh, fw) = self.filters.dim();
        let scale = scale_for(fh.max(fw), 48, 16);
        let (tw, th) = (fw as u32 * scale, fh as u32 * scale);
        self.filters
            .outer_iter()
            .enumerate()
            .map(|(k, filter)| {
                let pixels = filter.index_axis_move(Axis(0), 0);
                let (col, row) = ((k % FILTER_COLUMNS) as u32, (k / FILTER_COLUMNS) as u32);
                Tile {
                    at: (
                        LEFT + col * (tw + FILTER_GAP),
                        TOP + row * (th + FILTER_GAP),
                    ),
                    scale,
                    range: range(pixels.iter()),
                    pixels,
                }
            })
            .collect()
    }
}

impl Chart for FilterGrid<'_> {
    fn size(&self) -> (u32, u32) {
        let (fn_, _, fh, fw) = self.filters.dim();
        let scale = scale_for(fh.max(fw), 48, 16);
        let columns = fn_.clamp(1, FILTER_COLUMNS) as u32;
        let width = 2 * LEFT + columns * (fw as u32 * scale + FILTER_GAP);
        let rows = rows_of(fn_, FILTER_COLUMNS);
        (
            width.max(420),
            TOP + rows * (fh as u32 * scale + FILTER_GAP) + 10,
        )
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        draw_tiles(area, &self.title, &self.tiles(), &[])
    }

    fn rasters(&self) -> Vec<Raster> {
        raster_of(self.size(), &self.tiles())
    }
}

/// The gap between feature maps.
const MAP_GAP: u32 = 4;
/// The space under a layer's maps, before the next layer's label.
const LAYER_GAP: u32 = 8;

/// Where one layer's block of the feature-map chart goes.
struct LayerBlock {
    /// The top of the block (its label).
    top: u32,
    /// Chart pixels per map pixel.
    scale: u32,
    /// The block's height, label included.
    height: u32,
    /// The block's width.
    width: u32,
}

impl FeatureMaps<'_> {
    /// Each layer's block, top to bottom.
    fn blocks(&self) -> Vec<LayerBlock> {
        let mut top = TOP;
        self.layers
            .iter()
            .map(|(_, maps)| {
                let (c, h, w) = maps.dim();
                let scale = scale_for(h.max(w), 56, 8);
                let (tw, th) = (w as u32 * scale, h as u32 * scale);
                let rows = rows_of(c, MAP_COLUMNS);
                let columns = c.clamp(1, MAP_COLUMNS) as u32;
                let block = LayerBlock {
                    top,
                    scale,
                    height: LABEL + rows * (th + MAP_GAP) + LAYER_GAP,
                    width: 2 * LEFT + columns * (tw + MAP_GAP),
                };
                top += block.height;
                block
            })
            .collect()
    }

    /// Every channel of every layer placed in its block, shaded on its layer's range.
    fn tiles(&self) -> Vec<Tile<'_>> {
        let mut tiles = Vec::new();
        for ((_, maps), block) in self.layers.iter().zip(self.blocks()) {
            let (_, h, w) = maps.dim();
            let (tw, th) = (w as u32 * block.scale, h as u32 * block.scale);
            let layer_range = range(maps.iter());
            for (k, channel) in maps.outer_iter().enumerate() {
                let (col, row) = ((k % MAP_COLUMNS) as u32, (k / MAP_COLUMNS) as u32);
                tiles.push(Tile {
                    at: (
                        LEFT + col * (tw + MAP_GAP),
                        block.top + LABEL + row * (th + MAP_GAP),
                    ),
                    scale: block.scale,
                    pixels: channel,
                    range: layer_range,
                });
            }
        }
        tiles
    }

    /// Each layer's label: its name, shape (C × H × W) and the values black and white stand for.
    fn labels(&self) -> Vec<(String, (u32, u32))> {
        self.layers
            .iter()
            .zip(self.blocks())
            .map(|((name, maps), block)| {
                let (c, h, w) = maps.dim();
                let (lo, hi) = range(maps.iter());
                let text = format!(
                    "{name}: {c} × {h} × {w}, black {} … white {}",
                    short(lo),
                    short(hi)
                );
                (text, (LEFT, block.top + 2))
            })
            .collect()
    }
}

impl Chart for FeatureMaps<'_> {
    fn size(&self) -> (u32, u32) {
        let blocks = self.blocks();
        let width = blocks.iter().map(|b| b.width).max().unwrap_or(0).max(600);
        let height = blocks.last().map_or(TOP, |b| b.top + b.height);
        (width, height + 10)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        draw_tiles(area, &self.title, &self.tiles(), &self.labels())
    }

    fn rasters(&self) -> Vec<Raster> {
        raster_of(self.size(), &self.tiles())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_runs_from_black_at_the_smallest_value_to_white_at_the_largest() {
        assert_eq!(grey(-1.0, (-1.0, 3.0)), 0);
        assert_eq!(grey(3.0, (-1.0, 3.0)), 255);
        assert_eq!(grey(1.0, (-1.0, 3.0)), 128);
        assert_eq!(grey(0.5, (0.5, 0.5)), 128, "a constant picture is mid-grey");
        assert_eq!(grey(9.0, (-1.0, 3.0)), 255, "outside the range: clamped");
    }

    #[test]
    fn the_range_skips_values_that_are_not_finite() {
        assert_eq!(range(&[2.0, f32::NAN, -0.5, f32::INFINITY]), (-0.5, 2.0));
        assert_eq!(range(&[f32::NAN]), (0.0, 0.0));
        assert_eq!(range(&[]), (0.0, 0.0));
    }

    #[test]
    fn labels_write_small_and_large_numbers_with_an_exponent() {
        assert_eq!(short(0.25), "0.250");
        assert_eq!(short(0.0), "0.000");
        assert_eq!(short(-0.0012), "-1.2e-3");
        assert_eq!(short(123456.0), "1.2e5");
    }

    #[test]
    fn filters_of_5x5_are_drawn_9_pixels_to_a_weight_8_to_a_row() {
        let w = ndarray::Array4::<f32>::zeros((30, 1, 5, 5));
        let grid = FilterGrid {
            title: "W1".into(),
            filters: w.view(),
        };
        let tiles = grid.tiles();
        assert_eq!(tiles.len(), 30);
        assert_eq!((tiles[0].at, tiles[0].size()), ((10, 45), (45, 45)));
        assert_eq!(tiles[7].at, (10 + 7 * 51, 45));
        assert_eq!(tiles[8].at, (10, 45 + 51));
        // 8 columns of 45 + 6, 4 rows.
        assert_eq!(grid.size(), (20 + 8 * 51, 45 + 4 * 51 + 10));
    }
}
