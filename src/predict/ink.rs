//! A drawing, as a PNG file's bytes, turned into ink levels: how much ink each pixel holds, in
//! 0..1, 1 the darkest stroke.
//!
//! Every PNG colour type and depth is read (greyscale, grey + alpha, RGB, RGBA, 8 or 16 bits;
//! palettes and 1-, 2- and 4-bit greys expanded by `png::Transformations::EXPAND`). Each
//! pixel is composited over white (a transparent background is paper), its luminance taken as
//! Rec. 601's `0.299 R + 0.587 G + 0.114 B` (as PIL's `convert("L")`), and
//! `ink = 1 − luminance`: dark strokes on white or transparent paper.
//!
//! **The inverted rule.** When the image is mostly dark — its mean luminance below ½, as for
//! MNIST's own white digits on black — the strokes are the light pixels, so `ink = luminance`.
//! A digit drawn either way gives the same ink.

use ndarray::Array2;

/// The largest width or height accepted, in pixels.
pub const MAX_SIDE: u32 = 4096;

/// The 8 bytes every PNG file starts with.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

/// Why an image cannot be turned into an MNIST input (the file's name is added by
/// [`ImageError::in_file`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImageError {
    /// The bytes do not start with PNG's signature (a JPEG, a text file, nothing).
    #[error("not a PNG image (it does not start with PNG's signature); save the drawing as PNG")]
    NotPng,
    /// The PNG is truncated or damaged: the decoder's reason.
    #[error("a damaged or truncated PNG ({0})")]
    Damaged(String),
    /// Wider or taller than the largest side accepted ([`MAX_SIDE`] unless the caller says).
    #[error("{width} × {height} pixels, larger than the {max} × {max} accepted")]
    TooLarge {
        /// Its width in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
        /// The largest side accepted.
        max: u32,
    },
    /// No pixel at all.
    #[error("an empty image ({width} × {height} pixels)")]
    Empty {
        /// Its width in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
    },
    /// A colour type the decoder left unexpanded.
    #[error("a PNG of an unsupported kind ({0})")]
    Unsupported(String),
    /// Nothing drawn: every pixel is paper.
    #[error("no ink: draw a digit")]
    NoInk,
}

impl ImageError {
    /// The error as a sentence naming the image: `no ink in image.png: draw a digit`,
    /// `image.png: not a PNG image (…)`.
    pub fn in_file(&self, name: &str) -> String {
        match self {
            ImageError::NoInk => format!("no ink in {name}: draw a digit"),
            other => format!("{name}: {other}"),
        }
    }
}

/// The ink of every pixel of a PNG image: (height, width), values in 0..1 (see the module's
/// rules: composited over white, `1 − luminance`, or luminance for a mostly dark image).
pub fn ink_from_png(bytes: &[u8]) -> Result<Array2<f32>, ImageError> {
    ink_from_png_within(bytes, MAX_SIDE)
}

/// [`ink_from_png`] for images of at most `max_side` pixels a side, refused from the header,
/// before any pixel is decoded (a small file can claim a huge picture).
pub fn ink_from_png_within(bytes: &[u8], max_side: u32) -> Result<Array2<f32>, ImageError> {
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(ImageError::NotPng);
    }
    let damaged = |e: png::DecodingError| ImageError::Damaged(e.to_string());
    let mut decoder = png::Decoder::new(bytes);
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(damaged)?;
    let (width, height) = (reader.info().width, reader.info().height);
    if width == 0 || height == 0 {
        return Err(ImageError::Empty { width, height });
    }
    if width > max_side || height > max_side {
        return Err(ImageError::TooLarge {
            width,
            height,
            max: max_side,
        });
    }
    let mut buffer = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buffer).map_err(damaged)?;
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(ImageError::Unsupported("a palette left unexpanded".into()))
        }
    };
    let sample: fn(&[u8], usize) -> f32 = match frame.bit_depth {
        png::BitDepth::Eight => |row, i| f32::from(row[i]) / 255.0,
        png::BitDepth::Sixteen => {
            |row, i| f32::from(u16::from_be_bytes([row[2 * i], row[2 * i + 1]])) / 65535.0
        }
        depth => {
            return Err(ImageError::Unsupported(format!(
                "{depth:?} bits per sample left unexpanded"
            )))
        }
    };
    let (w, h) = (width as usize, height as usize);
    let mut light = Array2::<f32>::zeros((h, w));
    for (y, mut out) in light.outer_iter_mut().enumerate() {
        let row = &buffer[y * frame.line_size..(y + 1) * frame.line_size];
        for (x, pixel) in out.iter_mut().enumerate() {
            let s = |c: usize| sample(row, x * channels + c);
            let (luminance, alpha) = match channels {
                1 => (s(0), 1.0),
                2 => (s(0), s(1)),
                3 => (luminance(s(0), s(1), s(2)), 1.0),
                _ => (luminance(s(0), s(1), s(2)), s(3)),
            };
            // Over white paper.
            *pixel = alpha * luminance + (1.0 - alpha);
        }
    }
    let mean = light.iter().map(|&v| f64::from(v)).sum::<f64>() / light.len() as f64;
    if mean < 0.5 {
        Ok(light)
    } else {
        Ok(light.mapv(|v| 1.0 - v))
    }
}

/// Rec. 601 luma of an RGB colour, each channel in 0..1.
fn luminance(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}
