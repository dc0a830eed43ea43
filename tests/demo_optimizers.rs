//! `scratchnet demo optimizers`: every rule's final point printed, the chart written.

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
    for ext in ["svg", "png"] {
        assert!(dir.path().join(format!("optimizer_paths.{ext}")).is_file());
    }
}
