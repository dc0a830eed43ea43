//! What the whole-command tests share: running the binary and reading what it wrote.
#![allow(dead_code)] // each test file uses its own part of these helpers

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// Starts `scratchnet --quiet train --out out` with `extra` flags, waits until training has
/// begun (its config.json is written), interrupts it with SIGINT and checks that it stopped as
/// interrupted (exit status 130), leaving a checkpoint in `out`.
pub fn interrupted_run(out: &Path, extra: &[&str]) {
    let child: Child = command(&["--quiet", "train", "--out", out.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the scratchnet binary starts");
    let start = Instant::now();
    while !out.join("config.json").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "training never started in {}",
            out.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    // SAFETY: sending a signal to a child process this test started and has not yet waited for.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(130), "{stderr}");
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
