//! `scratchnet demo optimizers`: every rule's final point printed, the chart written.

use crate::common::*;

use scratchnet::demo::optimizers::{path, RUNS};
use std::path::Path;
use std::process::Command;

include!("fixtures/optimizers/book_runs.rs");

/// The numbers in a line such as `Adam      lr 0.3   → (+0.136007, +0.318245), f = 0.102205`.
fn printed_numbers(line: &str) -> Vec<f64> {
    line.split(|c: char| c.is_whitespace() || "(),=".contains(c))
        .filter_map(|word| word.parse().ok())
        .collect()
}

#[test]
fn prints_every_final_point_and_writes_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scratchnet"))
        .args(["demo", "optimizers", "--out", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    // SGD's end is the closed form (-7·0.905³⁰, 2·0.9³⁰).
    assert!(
        stdout.contains("SGD       lr 0.95  → (-0.350393, +0.084782)"),
        "{stdout}"
    );
    // Each rule's printed end against the book's classes run by NumPy, to the 6 decimals shown.
    for (name, lr, (x, y)) in BOOK_RUNS {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{stdout}"));
        let numbers = printed_numbers(line);
        let expected = [lr, x, y, x * x / 20.0 + y * y];
        assert_eq!(numbers.len(), 4, "{line}");
        for (got, want) in numbers.iter().zip(expected) {
            assert!((got - want).abs() < 5.01e-7, "{line}: {got} vs {want}");
        }
    }
    check_chart(dir.path());
}

/// optimizer_paths.svg/png: one 600×330 panel per rule, two to a row, each drawing the rule's
/// 31 points (start, then after each step) in red where the panel's own ticks put them.
fn check_chart(dir: &Path) {
    let text = svg(&dir.join("optimizer_paths.svg"), (1200, 990));
    let image = png(&dir.join("optimizer_paths.png"), (1200, 990));
    let red = "#D32F2F";
    let marks = circles(&text, red);
    let lines = polylines(&text, red);
    assert_eq!((marks.len(), lines.len()), (6 * 31, 6), "{lines:?}");
    let texts = svg_text_elements(&text);
    for (k, (name, lr, end)) in BOOK_RUNS.into_iter().enumerate() {
        let (kind, run_lr) = RUNS[k];
        assert_eq!((kind.book_name(), run_lr), (name, lr));
        let points = if name == "SGD" {
            // Closed form: x ← 0.905·x, y ← −0.9·y.
            (0..=30)
                .map(|i| (-7.0 * 0.905f64.powi(i), 2.0 * (-0.9f64).powi(i)))
                .collect()
        } else {
            path(kind, lr, 30).unwrap()
        };
        assert_eq!(points[0], (-7.0, 2.0), "{name}");
        let last = points[30];
        assert!(
            (last.0 - end.0).abs() < 1e-9 && (last.1 - end.1).abs() < 1e-9,
            "{name}: {last:?}, NumPy's {end:?}"
        );
        let (x0, y0) = ((k % 2) as f64 * 600.0, (k / 2) as f64 * 330.0);
        let area = [x0, y0, x0 + 600.0, y0 + 330.0];
        let drawn = &marks[31 * k..31 * (k + 1)];
        assert_eq!(lines[k], drawn, "{name}: the line joins the marks");
        assert_on_ticks(&ticks_in(&text, 0, area), 0, drawn, &points);
        assert_on_ticks(&ticks_in(&text, 1, area), 1, drawn, &points);
        for &(x, y) in drawn {
            assert_eq!(
                image.get_pixel(x as u32, y as u32).0,
                rgb(red),
                "{name}: ({x}, {y})"
            );
        }
        let in_panel = |want: &str| {
            texts.iter().any(|(a, t)| {
                t == want
                    && (x0..x0 + 600.0).contains(&attr(a, "x"))
                    && (y0..y0 + 330.0).contains(&attr(a, "y"))
            })
        };
        let title = format!("{name}, lr = {lr}");
        let label = format!("after 30 steps: ({:.3}, {:.3})", end.0, end.1);
        assert!(in_panel(&title) && in_panel(&label), "{title}, {label}");
    }
    assert_png_agrees(&image, &text, red, &marks, 6 * 31 * 20);
}
