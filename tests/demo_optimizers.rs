//! `scratchnet demo optimizers`: every rule's final point printed, the chart written.

use std::process::Command;

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
    for name in ["Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(name) && l.contains("→ (")),
            "{name}: {stdout}"
        );
    }
    for ext in ["svg", "png"] {
        assert!(dir.path().join(format!("optimizer_paths.{ext}")).is_file());
    }
}
