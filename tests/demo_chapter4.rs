//! `scratchnet demo chapter4` as a user runs it: the built binary, its stdout, its chart files.

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
