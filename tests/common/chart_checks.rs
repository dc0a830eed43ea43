//! The checks that a chart plots its numbers where its own axes put them: points on ticks,
//! line charts and heatmaps against their values, the PNG against the SVG.

use super::*;
use std::path::Path;

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
    image: &RgbImage,
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
