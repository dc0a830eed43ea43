//! `scratchnet demo chapter4` as a user runs it: the built binary, its stdout, its chart files.

use crate::common::{
    assert_on_axis, assert_plotted, assert_png_agrees, circles, png, polylines, svg, svg_elements,
};

use std::path::Path;
use std::process::{Command, Output};

fn scratchnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scratchnet"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}, stderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// The PNG signature, then an IHDR chunk first; returns its (width, height).
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert_eq!(&bytes[12..16], b"IHDR", "{}", path.display());
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// An SVG document of the given size with drawn lines in it.
fn check_svg(path: &Path, (width, height): (u32, u32)) {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.display();
    assert!(
        text.starts_with(&format!("<svg width=\"{width}\" height=\"{height}\"")),
        "{name}"
    );
    assert!(text.trim_end().ends_with("</svg>"), "{name}");
    assert!(
        text.contains("<polyline") || text.contains("<path") || text.contains("<line"),
        "{name} has no lines"
    );
    assert_eq!(
        text.matches("<text").count(),
        text.matches("</text>").count(),
        "{name}"
    );
}

#[test]
fn prints_every_figure_and_writes_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout(&scratchnet(&[
        "demo",
        "chapter4",
        "--out",
        dir.path().to_str().unwrap(),
    ]));
    for figure in [
        "sum_squared_error(y, t) = 0.09750000000000003",
        "sum_squared_error(y, t) = 0.5975\n",
        "cross_entropy_error(y, t) = 0.510825457099338",
        "cross_entropy_error(y, t) = 2.302584092994546",
        "h = 1e-50, x = 5: 0.0\n",
        "numerical_diff(function_1, 5) = 0.1999999999990898",
        "numerical_diff(function_1, 10) = 0.2999999999986347",
        "numerical_diff(function_1, -10) = -0.0999999999995449",
        "numerical_gradient(function_2, [3.0, 4.0]) = [6. 8.]",
        "numerical_gradient(function_2, [0.0, 2.0]) = [0. 4.]",
        "numerical_gradient(function_2, [3.0, 0.0]) = [6. 0.]",
        "numerical_gradient(function_2, [0.0, 100.0]) = [  0.         200.00000001]",
        "200.00000001346052",
        "lr=0.1, step_num=100) = [-6.11110793e-10  8.14814391e-10]",
        "lr=10.0, step_num=100) = [-2.58983747e+13 -1.29524862e+12]",
        "lr=1e-10, step_num=100) = [-2.99999994  3.99999992]",
        "[1.05414809 0.63071653 1.1328074 ], argmax 2",
        "[[ 0.21924757  0.14356243 -0.36281   ]\n [ 0.32887136  0.21534364 -0.544215  ]]",
        "[[ 0.21924763  0.14356247 -0.36281009]\n [ 0.32887144  0.2153437  -0.54421514]]",
    ] {
        assert!(out.contains(figure), "{figure:?} not in:\n{out}");
    }

    let charts = [
        ("function_1_tangents", (800, 500)),
        ("function_2_gradient_field", (700, 700)),
        ("gradient_descent_path", (640, 840)),
    ];
    for (stem, size) in charts {
        let svg = dir.path().join(format!("{stem}.svg"));
        let png = dir.path().join(format!("{stem}.png"));
        check_svg(&svg, size);
        assert_eq!(png_size(&png), size, "{}", png.display());
        // The run ends by listing what it wrote.
        assert!(out.contains(&svg.display().to_string()));
        assert!(out.contains(&png.display().to_string()));
    }
    // Nothing else in the folder: no temporaries left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 6);
    check_tangents(dir.path());
    check_gradient_field(dir.path());
    check_descent_path(dir.path());
}

/// The charts' colours: plotters' BLUE_600, ORANGE_800, RED_700 and GREY_700.
const BLUE: &str = "#1E88E5";
const ORANGE: &str = "#EF6C00";
const RED: &str = "#D32F2F";
const GREY: &str = "#616161";

/// function_1(x) = 0.01x² + 0.1x sampled every 0.1 on 0..20, drawn where the axes put it, and
/// the tangents' touching points (5, 0.75) and (10, 2) marked on it.
fn check_tangents(dir: &Path) {
    let text = svg(&dir.join("function_1_tangents.svg"), (800, 500));
    let curve = polylines(&text, BLUE)
        .into_iter()
        .max_by_key(Vec::len)
        .unwrap();
    let values: Vec<(f64, f64)> = (0..=200)
        .map(|i| {
            let x = i as f64 * 0.1;
            (x, 0.01 * x * x + 0.1 * x)
        })
        .collect();
    assert_plotted(&curve, &values);
    assert_on_axis(&text, 0, &curve, &values);
    assert_on_axis(&text, 1, &curve, &values);
    let touching = [circles(&text, ORANGE), circles(&text, RED)].concat();
    let at = [(5.0, 0.75), (10.0, 2.0)];
    assert_on_axis(&text, 0, &touching, &at);
    assert_on_axis(&text, 1, &touching, &at);
    let image = png(&dir.join("function_1_tangents.png"), (800, 500));
    // The 3-pixel curve, 750 pixels long, under the tangents' dashes where they cross it.
    assert_png_agrees(&image, &text, BLUE, &curve, 1500);
}

/// One arrow per point of the grid −2, −1.75, …, 2.25 on both axes (x1 outer, x0 inner) but
/// the origin, where −∇ is 0: each starts at its point and, where long enough to tell, points
/// at the origin.
fn check_gradient_field(dir: &Path) {
    let text = svg(&dir.join("function_2_gradient_field.svg"), (700, 700));
    let shafts = polylines(&text, GREY);
    let grid: Vec<f64> = (0..18).map(|i| -2.0 + 0.25 * i as f64).collect();
    let points: Vec<(f64, f64)> = grid
        .iter()
        .flat_map(|&x1| grid.iter().map(move |&x0| (x0, x1)))
        .filter(|&p| p != (0.0, 0.0))
        .collect();
    assert_eq!(shafts.len(), points.len());
    let tails: Vec<(f64, f64)> = shafts.iter().map(|s| s[0]).collect();
    assert_on_axis(&text, 0, &tails, &points);
    assert_on_axis(&text, 1, &tails, &points);
    let origin = circles(&text, RED)[0];
    for shaft in &shafts {
        let (tail, neck) = (shaft[0], shaft[shaft.len() - 1]);
        let along = (neck.0 - tail.0, neck.1 - tail.1);
        let home = (origin.0 - tail.0, origin.1 - tail.1);
        let cos =
            (along.0 * home.0 + along.1 * home.1) / along.0.hypot(along.1) / home.0.hypot(home.1);
        assert!(
            along.0.hypot(along.1) < 10.0 || cos > 0.98,
            "{shaft:?} towards {origin:?}"
        );
    }
    let heads = svg_elements(&text, "polygon").len();
    assert_eq!(heads, points.len());
    let image = png(&dir.join("function_2_gradient_field.png"), (700, 700));
    let grey = image.pixels().filter(|p| p.0 == [97, 97, 97]).count();
    assert!(grey > 20 * points.len(), "{grey} grey pixels");
}

/// gradient_descent from (−3, 4) with lr 0.1: each step multiplies x by 1 − 2·0.1 = 0.8, so
/// the 20 points are (−3, 4)·0.8^k, marked where the axes put them.
fn check_descent_path(dir: &Path) {
    let text = svg(&dir.join("gradient_descent_path.svg"), (640, 840));
    let marks = circles(&text, BLUE);
    // The 20 points, then the legend's sample mark.
    assert_eq!(marks.len(), 21);
    let path: Vec<(f64, f64)> = (0..20)
        .map(|k| (-3.0 * 0.8f64.powi(k), 4.0 * 0.8f64.powi(k)))
        .collect();
    assert_on_axis(&text, 0, &marks[..20], &path);
    assert_on_axis(&text, 1, &marks[..20], &path);
    let image = png(&dir.join("gradient_descent_path.png"), (640, 840));
    assert_png_agrees(&image, &text, BLUE, &marks, 20 * 40);
}

#[test]
fn sections_limit_what_is_printed_and_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout(&scratchnet(&[
        "demo",
        "chapter4",
        "--sections",
        "loss",
        "--out",
        dir.path().to_str().unwrap(),
    ]));
    assert!(out.starts_with("== Loss functions"), "{out}");
    assert!(out.contains("cross_entropy_error(y, t) = 2.302584092994546"));
    for other in [
        "numerical_diff",
        "numerical_gradient",
        "gradient_descent",
        "simpleNet",
        "Charts written",
    ] {
        assert!(!out.contains(other), "{other:?} printed:\n{out}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // Given out of order, sections still print in the notes' order.
    let out = stdout(&scratchnet(&[
        "demo",
        "chapter4",
        "--sections",
        "descent,gradient",
        "--out",
        dir.path().to_str().unwrap(),
    ]));
    let gradient = out.find("== Gradients").unwrap();
    let descent = out.find("== Gradient descent").unwrap();
    assert!(gradient < descent);
    assert!(!out.contains("function_1_tangents"));
}

#[test]
fn an_unknown_section_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = scratchnet(&[
        "demo",
        "chapter4",
        "--sections",
        "loss,gradients",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'gradients'"), "{stderr}");
    assert!(stderr.contains("simplenet"), "{stderr}");
    assert!(output.stdout.is_empty());
}
