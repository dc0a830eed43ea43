//! Reading charts back: SVG elements, polylines, ticks, legends, PNG pixels, and the checks
//! that a chart plots its numbers where its own axes put them.

use super::ExpectedSeries;
use std::collections::BTreeMap;
use std::path::Path;

/// A decoded picture: 8-bit pixels of `N` channels (3: RGB, 4: RGBA), row by row.
pub struct Pixels<const N: usize> {
    width: u32,
    height: u32,
    bytes: Vec<u8>,
}

/// One pixel's channels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pixel<const N: usize>(pub [u8; N]);

pub type RgbImage = Pixels<3>;
pub type RgbaImage = Pixels<4>;

impl<const N: usize> Pixels<N> {
    /// Decodes an 8-bit RGB or RGBA PNG, adding or dropping the alpha channel to give `N`.
    pub fn decode(png: &[u8]) -> Result<Pixels<N>, png::DecodingError> {
        let mut reader = png::Decoder::new(png).read_info()?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut buf)?;
        assert_eq!(frame.bit_depth, png::BitDepth::Eight, "8-bit channels");
        let channels = match frame.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("a PNG in {other:?}"),
        };
        let mut bytes = Vec::with_capacity(N * (frame.width * frame.height) as usize);
        for row in buf
            .chunks_exact(frame.line_size)
            .take(frame.height as usize)
        {
            for pixel in row[..channels * frame.width as usize].chunks_exact(channels) {
                let mut out = [255; N];
                let n = N.min(channels);
                out[..n].copy_from_slice(&pixel[..n]);
                bytes.extend_from_slice(&out);
            }
        }
        Ok(Pixels {
            width: frame.width,
            height: frame.height,
            bytes,
        })
    }

    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixel at column `x`, row `y`.
    pub fn get_pixel(&self, x: u32, y: u32) -> Pixel<N> {
        assert!(
            x < self.width && y < self.height,
            "({x}, {y}) outside the picture"
        );
        let i = N * (y as usize * self.width as usize + x as usize);
        Pixel(self.bytes[i..i + N].try_into().unwrap())
    }

    /// Every pixel, row by row.
    pub fn pixels(&self) -> impl Iterator<Item = Pixel<N>> + '_ {
        self.bytes
            .chunks_exact(N)
            .map(|p| Pixel(p.try_into().unwrap()))
    }

    /// Every pixel with its column and row.
    pub fn enumerate_pixels(&self) -> impl Iterator<Item = (u32, u32, Pixel<N>)> + '_ {
        let width = self.width;
        self.pixels()
            .enumerate()
            .map(move |(k, p)| (k as u32 % width, k as u32 / width, p))
    }
}

/// A PNG chart decoded to RGB, after checking that it is `(width, height)` pixels.
pub fn png(path: &Path, size: (u32, u32)) -> RgbImage {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let image = RgbImage::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(image.dimensions(), size, "{}", path.display());
    image
}

/// How many pixels of `image` are exactly the colour `rgb`.
pub fn pixels_of(image: &RgbImage, rgb: [u8; 3]) -> usize {
    image.pixels().filter(|p| p.0 == rgb).count()
}

/// An SVG chart's text, after checking that it is one `(width, height)` document.
pub fn svg(path: &Path, (width, height): (u32, u32)) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text.starts_with(&format!("<svg width=\"{width}\" height=\"{height}\"")),
        "{}: {}",
        path.display(),
        &text[..text.len().min(100)]
    );
    assert!(text.trim_end().ends_with("</svg>"), "{}", path.display());
    text
}

/// The attributes of every `<tag …>` element of an SVG document, in order.
pub fn svg_elements(svg: &str, tag: &str) -> Vec<BTreeMap<String, String>> {
    let open = format!("<{tag} ");
    svg.split(open.as_str())
        .skip(1)
        .map(|rest| {
            let attributes = &rest[..rest.find('>').expect("the element closes")];
            // ` x="1" y="2"` splits on quotes into names and values, in turn.
            let parts: Vec<&str> = attributes.split('"').collect();
            parts
                .chunks(2)
                .filter(|pair| pair.len() == 2)
                .map(|pair| {
                    let name = pair[0].trim().trim_end_matches('=');
                    (name.to_string(), pair[1].to_string())
                })
                .collect()
        })
        .collect()
}

/// The one `<image>` of an SVG document: where it is (x, y) and its pixels, decoded from the
/// PNG its data URI holds.
pub fn svg_image(svg: &str) -> ((f64, f64), RgbaImage) {
    use base64::Engine;
    let images = svg_elements(svg, "image");
    assert_eq!(images.len(), 1, "one <image>");
    let data = images[0]["href"]
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URI");
    let png = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    let pixels = RgbaImage::decode(&png).unwrap();
    let size = (attr(&images[0], "width"), attr(&images[0], "height"));
    assert_eq!(
        size,
        (f64::from(pixels.width()), f64::from(pixels.height()))
    );
    ((attr(&images[0], "x"), attr(&images[0], "y")), pixels)
}

/// A numeric attribute of an SVG element.
pub fn attr(element: &BTreeMap<String, String>, name: &str) -> f64 {
    element[name]
        .parse()
        .unwrap_or_else(|_| panic!("{name} = {:?}", element[name]))
}

/// The points of every `<polyline>` stroked in `stroke` (`#RRGGBB`, as plotters writes it).
pub fn polylines(svg: &str, stroke: &str) -> Vec<Vec<(f64, f64)>> {
    svg_elements(svg, "polyline")
        .iter()
        .filter(|e| e["stroke"] == stroke)
        .map(|e| {
            e["points"]
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').expect("x,y");
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

/// The text of every `<text>` element of an SVG document, in order.
pub fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text ")
        .skip(1)
        .map(|rest| {
            let start = rest.find('>').unwrap() + 1;
            let end = rest.find("</text>").expect("the text closes");
            rest[start..end].trim().to_string()
        })
        .collect()
}

/// `#RRGGBB` as bytes.
pub fn rgb(hex: &str) -> [u8; 3] {
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
    assert!(hex.starts_with('#') && hex.len() == 7, "{hex}");
    [byte(1), byte(3), byte(5)]
}

/// The columns of a study.csv that measure time or memory: they differ between two runs of
/// the same study, whatever else is equal.
pub const TIMING_COLUMNS: [&str; 10] = [
    "train_s",
    "eval_s",
    "wall_s",
    "median_update_ms",
    "max_update_ms",
    "samples_per_s",
    "updates_per_s",
    "time_to_target_s",
    "peak_rss_mb",
    "run_extra_mb",
];

/// The centres of every `<circle>` filled `fill` (`#RRGGBB`), in drawing order: the marks a
/// chart puts on its points.
pub fn circles(svg: &str, fill: &str) -> Vec<(f64, f64)> {
    svg_elements(svg, "circle")
        .iter()
        .filter(|c| c["fill"] == fill)
        .map(|c| (attr(c, "cx"), attr(c, "cy")))
        .collect()
}

/// Every `<text>` element of an SVG document: (its attributes, its text), in order.
pub fn svg_text_elements(svg: &str) -> Vec<(BTreeMap<String, String>, String)> {
    svg_elements(svg, "text")
        .into_iter()
        .zip(svg_texts(svg))
        .collect()
}

/// A chart's legend, top to bottom: (entry's text, colour of its sample line).
pub fn legend(svg: &str) -> Vec<(String, String)> {
    legend_entries(svg)
        .into_iter()
        .map(|(text, colour, _)| (text, colour))
        .collect()
}

/// The legend's box: the see-through white rectangle plotters draws (`opacity` below 1), as
/// `[x0, y0, x1, y1]`.
pub fn legend_box(svg: &str) -> [f64; 4] {
    let boxes: Vec<_> = svg_elements(svg, "rect")
        .into_iter()
        .filter(|r| r["fill"] == "#FFFFFF" && attr(r, "opacity") < 1.0)
        .collect();
    assert_eq!(boxes.len(), 1, "one legend box");
    let b = &boxes[0];
    let (x0, y0) = (attr(b, "x"), attr(b, "y"));
    [x0, y0, x0 + attr(b, "width"), y0 + attr(b, "height")]
}

/// A chart's legend, top to bottom: (entry's text, colour of its sample, whether the sample is
/// dashed). Its samples are the horizontal lines (one, or dashes) along the box's left edge,
/// each beside its text.
pub fn legend_entries(svg: &str) -> Vec<(String, String, bool)> {
    let [x0, y0, x1, y1] = legend_box(svg);
    let inside = |(x, y): (f64, f64)| (x0..=x1).contains(&x) && (y0..=y1).contains(&y);
    let mut texts: Vec<(f64, f64, String)> = svg_text_elements(svg)
        .into_iter()
        .filter(|(a, _)| inside((attr(a, "x"), attr(a, "y"))))
        .map(|(a, text)| (attr(&a, "y"), attr(&a, "x"), text))
        .collect();
    // Horizontal pieces near the box's left edge, grouped by level and colour: a sample spans
    // 15 pixels or more (data drawn under the box, such as dashes, does not).
    let mut pieces: BTreeMap<(i64, String), Vec<(f64, f64)>> = BTreeMap::new();
    for e in svg_elements(svg, "polyline") {
        let points = polyline_points(&e["points"]);
        let level = points.len() == 2 && points[0].1 == points[1].1;
        if level && inside(points[0]) && inside(points[1]) && points[0].0 - x0 <= 30.0 {
            pieces
                .entry((points[0].1 as i64, e["stroke"].clone()))
                .or_default()
                .push((points[0].0, points[1].0));
        }
    }
    let mut samples: Vec<(f64, f64, String, bool)> = pieces
        .into_iter()
        .filter_map(|((y, colour), dashes)| {
            let start = dashes.iter().map(|d| d.0).fold(f64::INFINITY, f64::min);
            let end = dashes.iter().map(|d| d.1).fold(f64::NEG_INFINITY, f64::max);
            (end - start >= 15.0 && start - x0 <= 15.0).then_some((
                y as f64,
                end,
                colour,
                dashes.len() > 1,
            ))
        })
        .collect();
    texts.sort_by(|a, b| a.0.total_cmp(&b.0));
    samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(texts.len(), samples.len(), "{texts:?} {samples:?}");
    texts
        .into_iter()
        .zip(samples)
        .map(
            |((text_y, text_x, text), (line_y, line_end, colour, dashed))| {
                // The sample sits on the text's level (the text's y is its top), just left of it.
                assert!(
                    (0.0..=14.0).contains(&(line_y - text_y)) && line_end < text_x,
                    "{text} at ({text_x}, {text_y}), its sample ending at ({line_end}, {line_y})"
                );
                (text, colour, dashed)
            },
        )
        .collect()
}

/// Names each series hidden under a later one with the same values as the legend does:
/// "name (same as later name)".
pub fn name_coinciding(series: &mut [ExpectedSeries]) {
    for k in 0..series.len() {
        let twin = series[k + 1..]
            .iter()
            .find(|o| o.values == series[k].values)
            .map(|o| o.name.clone());
        if let Some(twin) = twin {
            series[k].name = format!("{} (same as {twin})", series[k].name);
        }
    }
}

/// The (x, y) points of a `points="x,y x,y …"` attribute.
pub(super) fn polyline_points(points: &str) -> Vec<(f64, f64)> {
    points
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').expect("x,y");
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

/// A chart's numeric tick labels on one axis (0 for x, 1 for y), as (value, pixel): x labels
/// are centred under the plot (`dy="0.76em"`), y labels right-aligned to its left.
pub fn ticks(svg: &str, axis: usize) -> Vec<(f64, f64)> {
    let everywhere = f64::INFINITY;
    ticks_in(
        svg,
        axis,
        [-everywhere, -everywhere, everywhere, everywhere],
    )
}

/// [`ticks`] of the one panel of a chart whose labels are anchored inside `[x0, y0, x1, y1]`.
pub fn ticks_in(svg: &str, axis: usize, [x0, y0, x1, y1]: [f64; 4]) -> Vec<(f64, f64)> {
    svg_text_elements(svg)
        .into_iter()
        .filter(|(a, _)| {
            let (x, y) = (attr(a, "x"), attr(a, "y"));
            let inside = (x0..x1).contains(&x) && (y0..y1).contains(&y);
            let kind = if axis == 0 {
                a["text-anchor"] == "middle" && a["dy"] == "0.76em" && !a.contains_key("transform")
            } else {
                a["text-anchor"] == "end"
            };
            inside && kind
        })
        .filter_map(|(a, text)| {
            let pixel = attr(&a, if axis == 0 { "x" } else { "y" });
            text.replace('−', "-").parse().ok().map(|v: f64| (v, pixel))
        })
        .collect()
}
