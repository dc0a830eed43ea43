//! What the whole-command tests share: running the binary and reading what it wrote.
#![allow(dead_code)] // each test file uses its own part of these helpers

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod watched;
pub use watched::Watched;

/// The scratchnet binary with `args`, not yet run (to set its folder or environment).
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scratchnet"));
    command.args(args);
    command
}

/// Runs the scratchnet binary with `args`.
pub fn scratchnet(args: &[&str]) -> Output {
    command(args).output().expect("the scratchnet binary runs")
}

/// Checks that `out` is a success, and returns its standard output.
pub fn succeeded(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "scratchnet {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs scratchnet, checks that it succeeded, and returns its standard output.
pub fn ok(args: &[&str]) -> String {
    succeeded(args, scratchnet(args))
}

/// Runs scratchnet and checks that it fails, without panicking, with `expected` in its error
/// output; returns that error output.
pub fn fails_naming(args: &[&str], expected: &str) -> String {
    let out = scratchnet(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "{args:?} succeeded:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains(expected),
        "{args:?}: expected {expected:?} in\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    stderr
}

/// The cache folder holding `dataset`'s four files, as `scratchnet fetch` reports it after
/// fetching them (or finding them cached).
pub fn fetched_dir(dataset: &str) -> PathBuf {
    let stdout = ok(&["--quiet", "fetch", "--dataset", dataset]);
    let first = stdout.lines().next().unwrap_or_default();
    let dir = first
        .split(" files in ")
        .nth(1)
        .unwrap_or_else(|| panic!("no folder in fetch's first line: {stdout}"));
    PathBuf::from(dir.trim())
}

/// Starts `scratchnet train --out out` with `extra` flags, waits until it has printed its first
/// epoch's accuracies (training has begun), interrupts it with SIGINT and checks that it stopped
/// as interrupted (exit status 130), leaving a checkpoint in `out`. `extra` must make a run long
/// enough not to end first (e.g. `--iters 1000000`).
pub fn interrupted_run(out: &Path, extra: &[&str]) {
    let mut run = Watched::train(out, extra);
    run.stdout_line("epoch 0 |");
    run.signal(libc::SIGINT);
    let (code, stderr) = run.finish();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(out.join("checkpoint.safetensors").is_file(), "{stderr}");
}

/// The files directly in `dir` that are not as `before` held them (changed, added or gone).
pub fn changed_files(dir: &Path, before: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let after = snapshot(dir);
    let mut names: Vec<String> = before.keys().chain(after.keys()).cloned().collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| before.get(name) != after.get(name))
        .collect()
}

/// Every file directly in `dir`, name → bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// A study's study.csv as one map of column → value per row.
pub fn rows(dir: &Path) -> Vec<BTreeMap<String, String>> {
    let csv = std::fs::read_to_string(dir.join("study.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(String::from))
                .collect()
        })
        .collect()
}

/// A numeric cell of a study.csv row.
pub fn num(row: &BTreeMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} = {:?}", row[key]))
}

/// A PNG chart decoded to RGB, after checking that it is `(width, height)` pixels.
pub fn png(path: &Path, size: (u32, u32)) -> image::RgbImage {
    let image = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    assert_eq!(image.dimensions(), size, "{}", path.display());
    image
}

/// How many pixels of `image` are exactly the colour `rgb`.
pub fn pixels_of(image: &image::RgbImage, rgb: [u8; 3]) -> usize {
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
pub fn svg_image(svg: &str) -> ((f64, f64), image::RgbaImage) {
    use base64::Engine;
    let images = svg_elements(svg, "image");
    assert_eq!(images.len(), 1, "one <image>");
    let data = images[0]["href"]
        .strip_prefix("data:image/png;base64,")
        .expect("a PNG data URI");
    let png = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    let pixels = image::load_from_memory(&png).unwrap().to_rgba8();
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

/// Checks that the drawn `points` (pixels) are `values` put on a chart's axes: x and y each an
/// affine function of the value, fixed by the two values furthest apart, to within the 2 pixels
/// that rounding every point to whole pixels allows.
pub fn assert_plotted(points: &[(f64, f64)], values: &[(f64, f64)]) {
    assert_eq!(points.len(), values.len(), "one point per value");
    for axis in 0..2 {
        let get = |p: &(f64, f64)| if axis == 0 { p.0 } else { p.1 };
        let by_value = |a: &usize, b: &usize| get(&values[*a]).total_cmp(&get(&values[*b]));
        let lo = (0..values.len()).min_by(by_value).unwrap();
        let hi = (0..values.len()).max_by(by_value).unwrap();
        let span = get(&values[hi]) - get(&values[lo]);
        assert!(span > 0.0, "axis {axis}: the values do not spread");
        let scale = (get(&points[hi]) - get(&points[lo])) / span;
        for (k, (p, v)) in points.iter().zip(values).enumerate() {
            let expected = get(&points[lo]) + scale * (get(v) - get(&values[lo]));
            assert!(
                (get(p) - expected).abs() <= 2.0,
                "axis {axis}, point {k}: drawn at {}, value {} belongs at {expected}",
                get(p),
                get(v)
            );
        }
    }
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

/// Checks a confusion chart (SVG and PNG, 640×600) against the counts it shows,
/// `counts[true][predicted]`: one cell per pair, placed as the table reads (true class top to
/// bottom, prediction left to right), white for 0 and darker for more, the same in both files.
pub fn confusion_chart(svg_path: &Path, png_path: &Path, counts: &[Vec<u64>]) {
    let n = counts.len();
    let text = svg(svg_path, (640, 600));
    let mut cells: Vec<_> = svg_elements(&text, "rect")
        .into_iter()
        .filter(|r| attr(r, "width") < 600.0)
        .collect();
    assert_eq!(cells.len(), n * n, "one cell per (true, predicted) pair");
    cells.sort_by(|a, b| {
        (attr(a, "y"), attr(a, "x"))
            .partial_cmp(&(attr(b, "y"), attr(b, "x")))
            .unwrap()
    });
    let image = png(png_path, (640, 600));
    let mut shaded = Vec::new();
    for (k, cell) in cells.iter().enumerate() {
        let count = counts[k / n][k % n];
        let fill = rgb(&cell["fill"]);
        // The PNG holds the same drawing: a point just inside the cell's corner has its colour.
        let (x, y) = (attr(cell, "x") as u32 + 3, attr(cell, "y") as u32 + 3);
        assert_eq!(image.get_pixel(x, y).0, fill, "cell {k} at ({x}, {y})");
        assert_eq!(
            fill == [255, 255, 255],
            count == 0,
            "cell {k}: {count} rows, {fill:?}"
        );
        shaded.push((count, fill[0]));
    }
    // More rows, darker blue: the red channel never rises with the count.
    shaded.sort();
    assert!(
        shaded
            .windows(2)
            .all(|w| w[0].0 == w[1].0 || w[0].1 >= w[1].1),
        "{shaded:?}"
    );
    assert!(
        shaded.last().unwrap().1 < 20,
        "the largest count is dark: {shaded:?}"
    );
    // Each cell says its count.
    let labels: Vec<String> = svg_texts(&text)
        .into_iter()
        .filter(|t| t.parse::<u64>().is_ok())
        .collect();
    let expected: Vec<String> = counts.iter().flatten().map(u64::to_string).collect();
    assert!(
        labels.ends_with(&expected),
        "cell labels {labels:?}, counts {expected:?}"
    );
}

// Comparing studies that should have ended the same (interrupt_cli, study_cli).

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

/// A study's study.csv without its [`TIMING_COLUMNS`]: what it measured of the runs' learning.
pub fn measured_results(dir: &Path) -> Vec<BTreeMap<String, String>> {
    rows(dir)
        .into_iter()
        .map(|mut row| {
            row.retain(|column, _| !TIMING_COLUMNS.contains(&column.as_str()));
            row
        })
        .collect()
}

/// Checks that the study folders `a` and `b` hold the same runs, and that each of `files` is
/// byte for byte the same in both copies of every run.
pub fn assert_same_run_files(a: &Path, b: &Path, files: &[&str]) {
    let ids = |dir: &Path| -> Vec<std::ffi::OsString> {
        let mut ids: Vec<_> = std::fs::read_dir(dir.join("runs"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(a), ids(b), "{} and {}", a.display(), b.display());
    for id in ids(a) {
        for file in files {
            let read = |dir: &Path| {
                let path = dir.join("runs").join(&id).join(file);
                std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            };
            assert!(
                read(a) == read(b),
                "{id:?}/{file} differs between {} and {}",
                a.display(),
                b.display()
            );
        }
    }
}

/// The file `file` of the run `run` in the study folder `study`, as JSON.
pub fn run_json(study: &Path, run: &str, file: &str) -> serde_json::Value {
    let path = study.join("runs").join(run).join(file);
    serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (mean, min, max) of `values`, computed here rather than by the study.
pub fn mean_and_range(values: &[f64]) -> (f64, f64, f64) {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, lo, hi)
}

/// Checks that `said`, a (mean, min, max) triple of study.json, is that of `values`.
pub fn assert_mean_and_range(said: &serde_json::Value, values: &[f64], what: &str) {
    let said: Vec<f64> = said
        .as_array()
        .unwrap_or_else(|| panic!("{what}: {said} is no triple"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let (mean, lo, hi) = mean_and_range(values);
    assert!(
        said.len() == 3 && close(said[0], mean) && close(said[1], lo) && close(said[2], hi),
        "{what}: the study says {said:?}, its runs {values:?}"
    );
}

/// A study folder's study.json.
pub fn study_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("study.json")).unwrap()).unwrap()
}

/// Whether two numbers agree but for rounding.
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(1.0)
}

// Reading a chart's points, legend and axes back (study_cli, depth_width_cli, demo_optimizers,
// demo_chapter4).

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
fn polyline_points(points: &str) -> Vec<(f64, f64)> {
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

/// Checks that the `axis` coordinate (0 for x, 1 for y) of each drawn point (pixels) is where
/// the chart's own tick labels put its value (see [`assert_on_ticks`]).
pub fn assert_on_axis(svg: &str, axis: usize, points: &[(f64, f64)], values: &[(f64, f64)]) {
    assert_on_ticks(&ticks(svg, axis), axis, points, values);
}

/// Checks that the `axis` coordinate (0 for x, 1 for y) of each drawn point (pixels) is where
/// the tick labels `ticks` ((value, pixel), as [`ticks`] reads them) put its value, to within
/// 2 pixels: the ticks fix the axis' scale (all of them on one line, to within the pixel their
/// rounding allows).
pub fn assert_on_ticks(
    ticks: &[(f64, f64)],
    axis: usize,
    points: &[(f64, f64)],
    values: &[(f64, f64)],
) {
    assert!(ticks.len() >= 2, "axis {axis}: ticks {ticks:?}");
    let (first, last) = (ticks[0], ticks[ticks.len() - 1]);
    let scale = (last.1 - first.1) / (last.0 - first.0);
    let place = |v: f64| first.1 + scale * (v - first.0);
    for &(v, pixel) in ticks {
        assert!(
            (place(v) - pixel).abs() <= 1.0,
            "axis {axis}: ticks {ticks:?}"
        );
    }
    assert_eq!(points.len(), values.len(), "one point per value");
    let get = |p: &(f64, f64)| if axis == 0 { p.0 } else { p.1 };
    for (k, (p, v)) in points.iter().zip(values).enumerate() {
        assert!(
            (get(p) - place(get(v))).abs() <= 2.0,
            "axis {axis}, point {k}: drawn at {}, the ticks put {} at {}",
            get(p),
            get(v),
            place(get(v))
        );
    }
}

/// Checks that the PNG `image` draws what the SVG `svg` draws in `colour` (`#RRGGBB`): more
/// than `min` pixels of that colour, none more than 4 pixels outside the box around the SVG's
/// lines, marks and cells of that colour, and something (not white) under each of `points`.
pub fn assert_png_agrees(
    image: &image::RgbImage,
    svg: &str,
    colour: &str,
    points: &[(f64, f64)],
    min: usize,
) {
    let mut drawn: Vec<(f64, f64)> = svg_elements(svg, "polyline")
        .iter()
        .filter(|e| e["stroke"] == colour)
        .flat_map(|e| polyline_points(&e["points"]))
        .collect();
    for c in svg_elements(svg, "circle")
        .iter()
        .filter(|c| c["fill"] == colour)
    {
        let (x, y, r) = (attr(c, "cx"), attr(c, "cy"), attr(c, "r"));
        drawn.extend([(x - r, y - r), (x + r, y + r)]);
    }
    for r in svg_elements(svg, "rect")
        .iter()
        .filter(|r| r["fill"] == colour)
    {
        let (x, y) = (attr(r, "x"), attr(r, "y"));
        drawn.extend([(x, y), (x + attr(r, "width"), y + attr(r, "height"))]);
    }
    assert!(!drawn.is_empty(), "the SVG draws nothing in {colour}");
    let lo = drawn.iter().fold((f64::INFINITY, f64::INFINITY), |a, p| {
        (a.0.min(p.0), a.1.min(p.1))
    });
    let hi = drawn
        .iter()
        .fold((f64::NEG_INFINITY, f64::NEG_INFINITY), |a, p| {
            (a.0.max(p.0), a.1.max(p.1))
        });
    let want = rgb(colour);
    let mut count = 0;
    for (x, y, pixel) in image.enumerate_pixels().filter(|(_, _, p)| p.0 == want) {
        let (x, y) = (f64::from(x), f64::from(y));
        assert!(
            x >= lo.0 - 4.0 && x <= hi.0 + 4.0 && y >= lo.1 - 4.0 && y <= hi.1 + 4.0,
            "a {colour} pixel at ({x}, {y}), outside the SVG's {lo:?}..{hi:?}: {pixel:?}"
        );
        count += 1;
    }
    assert!(
        count > min,
        "{count} pixels of {colour}, expected more than {min}"
    );
    for &(x, y) in points {
        let pixel = image.get_pixel(x.round() as u32, y.round() as u32).0;
        assert_ne!(pixel, [255, 255, 255], "nothing drawn at ({x}, {y})");
    }
}

/// One series of a [`LineChart`](scratchnet::plot::lines::LineChart) as a test expects it: the
/// legend's name for it, whether it is dashed, and its (x, y) values (x as given, not yet on a
/// log scale).
pub struct ExpectedSeries {
    /// The legend's text for it.
    pub name: String,
    /// Drawn dashed rather than solid.
    pub dashed: bool,
    /// Its (x, y) values, in order.
    pub values: Vec<(f64, f64)>,
}

/// Checks a line chart (800×500, SVG and PNG) against the series it should show: each named in
/// the legend, its colour's marks at its values, in order, on axes shared by all the series
/// (log10 of x when `log_x`; y as the y axis' ticks read), joined by one solid line through
/// them or by dashes, and drawn in that colour in the PNG too. Returns the SVG's text.
pub fn assert_line_chart(
    svg_path: &Path,
    png_path: &Path,
    log_x: bool,
    series: &[ExpectedSeries],
) -> String {
    let text = svg(svg_path, (800, 500));
    let image = png(png_path, (800, 500));
    let entries = legend_entries(&text);
    let names: Vec<(&str, bool)> = entries.iter().map(|e| (e.0.as_str(), e.2)).collect();
    let expected: Vec<(&str, bool)> = series.iter().map(|s| (s.name.as_str(), s.dashed)).collect();
    assert_eq!(
        names,
        expected,
        "{}: the legend (dashed samples)",
        svg_path.display()
    );
    // The legend covers no data mark.
    let [x0, y0, x1, y1] = legend_box(&text);
    for c in svg_elements(&text, "circle") {
        let (x, y) = (attr(&c, "cx"), attr(&c, "cy"));
        assert!(
            !((x0 - 3.0..=x1 + 3.0).contains(&x) && (y0 - 3.0..=y1 + 3.0).contains(&y)),
            "{}: the legend covers the point ({x}, {y})",
            svg_path.display()
        );
    }
    let (mut all_points, mut all_values) = (Vec::new(), Vec::new());
    for (s, (_, colour, _)) in series.iter().zip(&entries) {
        let marks = circles(&text, colour);
        let lines = polylines(&text, colour);
        // A solid line passes through the marks; dashes are many short pieces.
        let through = lines.iter().filter(|l| **l == marks).count();
        assert_eq!(
            (through, lines.len() > 3 * marks.len()),
            (usize::from(!s.dashed), s.dashed),
            "{}: {} (dashed: {}), lines {lines:?}",
            svg_path.display(),
            s.name,
            s.dashed
        );
        let placed: Vec<(f64, f64)> = s
            .values
            .iter()
            .map(|&(x, y)| (if log_x { x.log10() } else { x }, y))
            .collect();
        assert_eq!(
            marks.len(),
            placed.len(),
            "{}: {}",
            svg_path.display(),
            s.name
        );
        // More than the legend's 20×2-pixel sample: a pixel per mark at least (a series drawn
        // under a later one that coincides with it shows little more).
        assert_png_agrees(&image, &text, colour, &marks, 40 + marks.len());
        all_points.extend(marks);
        all_values.extend(placed);
    }
    assert_plotted(&all_points, &all_values);
    assert_on_axis(&text, 1, &all_points, &all_values);
    text
}

/// Checks a heatmap (SVG and PNG, `size` pixels) against `values[row][column]`, rows top to
/// bottom: each present value is one cell centred under its column's label and beside its
/// row's label, shaded from light yellow (#FFF7BC, the lowest value) to dark blue (#214EA0,
/// the highest) in proportion to the value, labelled with it to `decimals` decimals at its
/// centre, and the same colour in the PNG; a missing value leaves its place blank.
pub fn assert_heatmap(
    svg_path: &Path,
    png_path: &Path,
    size: (u32, u32),
    columns: &[&str],
    rows: &[&str],
    values: &[Vec<Option<f64>>],
    decimals: usize,
) {
    let text = svg(svg_path, size);
    let image = png(png_path, size);
    let texts = svg_text_elements(&text);
    // A label's centre: x for a column's (under the plot), y for a row's (right-aligned).
    let label_at = |name: &str, column: bool| -> f64 {
        let found: Vec<f64> = texts
            .iter()
            .filter(|(a, t)| {
                t == name
                    && if column {
                        a["text-anchor"] == "middle" && a["dy"] == "0.76em"
                    } else {
                        a["text-anchor"] == "end"
                    }
            })
            .map(|(a, _)| attr(a, if column { "x" } else { "y" }))
            .collect();
        assert_eq!(found.len(), 1, "{}: label {name:?}", svg_path.display());
        found[0]
    };
    let cells: Vec<_> = svg_elements(&text, "rect")
        .into_iter()
        .filter(|r| attr(r, "width") < f64::from(size.0))
        .collect();
    let present: Vec<f64> = values.iter().flatten().flatten().copied().collect();
    assert_eq!(
        cells.len(),
        present.len(),
        "{}: one cell per value",
        svg_path.display()
    );
    let lo = present.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (light, dark) = ([255.0, 247.0, 188.0], [33.0, 78.0, 160.0]);
    for (r, row) in rows.iter().enumerate() {
        let y = label_at(row, false);
        for (c, column) in columns.iter().enumerate() {
            let x = label_at(column, true);
            let holding: Vec<_> = cells
                .iter()
                .filter(|e| {
                    let (x0, y0) = (attr(e, "x"), attr(e, "y"));
                    (x0..x0 + attr(e, "width")).contains(&x)
                        && (y0..y0 + attr(e, "height")).contains(&y)
                })
                .collect();
            let Some(v) = values[r][c] else {
                assert!(
                    holding.is_empty(),
                    "({row}, {column}) is blank: {holding:?}"
                );
                assert_eq!(image.get_pixel(x as u32, y as u32).0, [255, 255, 255]);
                continue;
            };
            let at = format!("{}: cell ({row}, {column}) = {v}", svg_path.display());
            assert_eq!(holding.len(), 1, "{at}");
            let cell = holding[0];
            let centre = (
                attr(cell, "x") + attr(cell, "width") / 2.0,
                attr(cell, "y") + attr(cell, "height") / 2.0,
            );
            assert!(
                (centre.0 - x).abs() <= 1.0 && (centre.1 - y).abs() <= 1.0,
                "{at}"
            );
            let level = if hi > lo { (v - lo) / (hi - lo) } else { 1.0 };
            let fill = rgb(&cell["fill"]);
            for k in 0..3 {
                let want = light[k] + (dark[k] - light[k]) * level;
                assert!(
                    (f64::from(fill[k]) - want).abs() <= 1.0,
                    "{at}: {fill:?}, level {level}"
                );
            }
            let corner = (attr(cell, "x") as u32 + 3, attr(cell, "y") as u32 + 3);
            assert_eq!(image.get_pixel(corner.0, corner.1).0, fill, "{at}: the PNG");
            let label = format!("{v:.decimals$}");
            let labelled = texts.iter().any(|(a, t)| {
                *t == label && (attr(a, "x") - x).abs() <= 1.0 && (attr(a, "y") - y).abs() <= 1.0
            });
            assert!(labelled, "{at}: no {label} at its centre");
        }
    }
    // The colour scale right of the grid: dark (highest) at the top to light (lowest) at the
    // bottom, its ends labelled with the values.
    let ((bar_x, _), bar) = svg_image(&text);
    assert!(bar_x > f64::from(size.0) - 100.0, "the scale at x {bar_x}");
    let (top, bottom) = (bar.get_pixel(9, 0).0, bar.get_pixel(9, bar.height() - 1).0);
    assert_eq!(
        top,
        [33, 78, 160, 255],
        "{}: the scale's top",
        svg_path.display()
    );
    if hi > lo {
        assert_eq!(
            bottom,
            [255, 247, 188, 255],
            "{}: the scale's bottom",
            svg_path.display()
        );
    }
    for v in [lo, hi] {
        let label = format!("{v:.decimals$}");
        assert!(
            texts
                .iter()
                .any(|(a, t)| *t == label && a["text-anchor"] == "start"),
            "{}: the scale names {label}",
            svg_path.display()
        );
    }
}
