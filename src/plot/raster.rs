//! Pixels a chart shows as one picture: embedded in the SVG as a single PNG `<image>` (a data
//! URI) rather than as a rectangle per pixel, and copied into the PNG as they are.

use base64::Engine;

/// A block of RGBA pixels placed on a chart; fully transparent pixels leave the chart as drawn.
#[derive(Clone, Debug, Default)]
pub struct Raster {
    /// The top-left corner, in the chart's pixels.
    pub at: (u32, u32),
    /// Width and height in pixels.
    pub size: (u32, u32),
    /// Row-major RGBA bytes, `4 · width · height` of them.
    pub rgba: Vec<u8>,
}

impl Raster {
    /// A transparent raster of `size` pixels at `at`.
    pub fn transparent(at: (u32, u32), size: (u32, u32)) -> Raster {
        Raster {
            at,
            size,
            rgba: vec![0; 4 * size.0 as usize * size.1 as usize],
        }
    }

    /// Sets the pixel at (x, y) (relative to the raster) to the opaque colour `rgb`; a pixel
    /// outside the raster is ignored.
    pub fn set(&mut self, (x, y): (u32, u32), rgb: [u8; 3]) {
        if x < self.size.0 && y < self.size.1 {
            let i = 4 * (y as usize * self.size.0 as usize + x as usize);
            self.rgba[i..i + 4].copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
        }
    }

    /// The SVG `<image>` element showing the raster, its pixels a PNG in a data URI.
    pub fn svg_image(&self) -> Result<String, png::EncodingError> {
        let png = encode_png(&self.rgba, self.size, png::ColorType::Rgba)?;
        let data = base64::engine::general_purpose::STANDARD.encode(png);
        Ok(format!(
            "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" style=\"image-rendering:pixelated\" \
             href=\"data:image/png;base64,{data}\"/>\n",
            self.at.0, self.at.1, self.size.0, self.size.1
        ))
    }

    /// Copies the raster's opaque pixels into an RGB buffer `width` pixels wide.
    pub fn blit(&self, rgb: &mut [u8], width: u32) {
        let height = (rgb.len() / 3 / width.max(1) as usize) as u32;
        for (k, pixel) in self.rgba.chunks_exact(4).enumerate() {
            let (x, y) = (k as u32 % self.size.0, k as u32 / self.size.0);
            let (px, py) = (self.at.0 + x, self.at.1 + y);
            if pixel[3] == 0 || px >= width || py >= height {
                continue;
            }
            let i = 3 * (py as usize * width as usize + px as usize);
            rgb[i..i + 3].copy_from_slice(&pixel[..3]);
        }
    }
}

/// Encodes 8-bit pixels (`color`: `Rgb` or `Rgba`, rows top to bottom) as a PNG: fast deflate,
/// each row's filter chosen adaptively.
pub fn encode_png(
    pixels: &[u8],
    (width, height): (u32, u32),
    color: png::ColorType,
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::FilterType::Sub);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raster_copies_only_its_opaque_pixels_where_it_is_placed() {
        let mut raster = Raster::transparent((1, 1), (2, 2));
        raster.set((1, 0), [10, 20, 30]);
        raster.set((5, 5), [1, 1, 1]);
        let mut rgb = vec![255u8; 3 * 4 * 3];
        raster.blit(&mut rgb, 4);
        let at = |x: usize, y: usize| rgb[3 * (y * 4 + x)..3 * (y * 4 + x) + 3].to_vec();
        assert_eq!(at(2, 1), [10, 20, 30]);
        assert_eq!(at(1, 1), [255, 255, 255]);
        assert_eq!(rgb.iter().filter(|&&b| b != 255).count(), 3);
    }

    #[test]
    fn a_raster_is_one_svg_image_holding_a_png() {
        let mut raster = Raster::transparent((3, 4), (2, 1));
        raster.set((0, 0), [0, 0, 0]);
        let element = raster.svg_image().unwrap();
        assert!(element.starts_with("<image x=\"3\" y=\"4\" width=\"2\" height=\"1\""));
        let data = element
            .split("base64,")
            .nth(1)
            .unwrap()
            .trim_end_matches("\"/>\n");
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap();
        let mut reader = png::Decoder::new(png.as_slice()).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((frame.width, frame.height), (2, 1));
        assert_eq!(frame.color_type, png::ColorType::Rgba);
        assert_eq!(pixels[..8], [0, 0, 0, 255, 0, 0, 0, 0]);
    }
}
