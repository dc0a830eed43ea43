//! Charts, drawn once and written twice: SVG (for reports) and PNG (for viewing), with `plotters`.
//!
//! Text is drawn with DejaVu Sans, shipped in `assets/` (Bitstream Vera licence), so charts look
//! the same on every machine and nothing depends on the system's font libraries.

pub mod chapter4;

use crate::files::write_atomic;
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

pub mod augment;
pub mod conv;
pub mod eval;
pub mod heatmap;
pub mod lines;
pub mod optimizers;
pub mod raster;
pub mod training;

use raster::Raster;

/// The result a chart's drawing code returns; plotters' errors are boxed.
pub type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// A chart that can draw itself on any plotters backend (so one drawing serves SVG and PNG).
pub trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32) {
        (800, 500)
    }
    /// Draws the whole chart on `area`.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
    /// Pixels laid over the drawing as pictures (one `<image>` each in the SVG).
    fn rasters(&self) -> Vec<Raster> {
        Vec::new()
    }
}

/// The font family every chart uses.
pub const FONT: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/DejaVuSans.ttf");
        for style in [
            FontStyle::Normal,
            FontStyle::Bold,
            FontStyle::Italic,
            FontStyle::Oblique,
        ] {
            // The shipped font is valid; a failure here would be a packaging bug.
            let _ = plotters::style::register_font(FONT, style, bytes);
        }
    });
}

/// Draws `chart` into `dir/stem.svg` and `dir/stem.png` (both written atomically);
/// returns the two paths.
pub fn save(chart: &impl Chart, dir: &Path, stem: &str) -> Result<[PathBuf; 2]> {
    register_font();
    let svg_path = dir.join(format!("{stem}.svg"));
    let png_path = dir.join(format!("{stem}.png"));
    let fail = |path: &Path, e: Box<dyn std::error::Error>| Error::Plot {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };

    let rasters = chart.rasters();
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, chart.size()).into_drawing_area();
        chart.draw(&area).map_err(|e| fail(&svg_path, e))?;
        area.present().map_err(|e| fail(&svg_path, e.into()))?;
    }
    if !rasters.is_empty() {
        let end = svg.rfind("</svg>").unwrap_or(svg.len());
        let mut images = String::new();
        for raster in &rasters {
            images += &raster.svg_image().map_err(|e| fail(&svg_path, e.into()))?;
        }
        svg.insert_str(end, &images);
    }
    write_atomic(&svg_path, svg.as_bytes())?;

    let (w, h) = chart.size();
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        chart.draw(&area).map_err(|e| fail(&png_path, e))?;
        area.present().map_err(|e| fail(&png_path, e.into()))?;
    }
    for raster in &rasters {
        raster.blit(&mut rgb, w);
    }
    write_png(&png_path, &rgb, w, h)?;
    Ok([svg_path, png_path])
}

/// Encodes an RGB buffer as PNG and writes it to `path` (atomically).
fn write_png(path: &Path, rgb: &[u8], w: u32, h: u32) -> Result<()> {
    let png = raster::encode_png(rgb, (w, h), png::ColorType::Rgb).map_err(|e| Error::Plot {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    write_atomic(path, &png)
}
