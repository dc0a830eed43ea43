//! Hostile values and a hostile standard output, through the binary: a full or closed standard
//! output is said once and the work's files are still written; values too large to be meant
//! (counts, budgets, lists, sizes) are refused at once with a short message naming the limit.

use crate::common::*;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `command` with its standard output going to /dev/full (every write fails: ENOSPC).
fn to_full_disk(mut command: Command) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    command.stdout(full).output().unwrap()
}

/// Runs scratchnet with `args` through `sh`, with `redirect` applied to its standard output
/// (e.g. `>&-` to close it, `| head -1`); returns sh's output.
fn through_shell(args: &[&str], redirect: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("\"$0\" \"$@\" {redirect}"))
        .arg(env!("CARGO_BIN_EXE_scratchnet"))
        .args(args)
        .output()
        .unwrap()
}

/// Checks that a command whose standard output failed said so once, did not panic, and ended
/// with exit status 1.
fn said_output_failed(out: &Output, cause: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let said = stderr
        .matches("error: cannot write to standard output")
        .count();
    assert_eq!(said, 1, "{stderr}");
    assert!(stderr.contains(cause), "{cause:?} in {stderr}");
}

/// A few iterations of the users' run into `out`.
fn tiny_train(out: &Path) -> Vec<String> {
    ["train", "--iters", "20", "--out", out.to_str().unwrap()]
        .map(String::from)
        .to_vec()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

const NO_SPACE: &str = "No space left on device";

#[test]
fn train_to_a_full_stdout_writes_its_files_and_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out = to_full_disk(command(&strs(&tiny_train(&out))));
    said_output_failed(&out, NO_SPACE);
    let run = dir.path().join("run");
    for file in ["model.safetensors", "report.html", "config.json"] {
        assert!(run.join(file).is_file(), "{file}");
    }
}

#[test]
fn train_with_stdout_closed_writes_its_files_and_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = through_shell(&strs(&tiny_train(&run)), ">&-");
    said_output_failed(&out, "Bad file descriptor");
    assert!(run.join("model.safetensors").is_file());
    assert!(run.join("report.html").is_file());
}

#[test]
fn eval_to_a_full_stdout_writes_its_charts() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&strs(&tiny_train(&run)));
    let charts = dir.path().join("charts");
    let model = run.to_str().unwrap();
    let out = to_full_disk(command(&[
        "eval",
        "--model",
        model,
        "--out",
        charts.to_str().unwrap(),
    ]));
    said_output_failed(&out, NO_SPACE);
    assert!(std::fs::read_dir(&charts).unwrap().count() > 0);
}

#[test]
fn demo_to_a_full_stdout_draws_its_charts_and_to_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let charts = dir.path().join("full");
    let out = to_full_disk(command(&[
        "demo",
        "chapter4",
        "--out",
        charts.to_str().unwrap(),
    ]));
    said_output_failed(&out, NO_SPACE);
    assert!(
        charts.join("gradient_descent.svg").is_file() || charts.read_dir().unwrap().count() > 3
    );

    let piped = dir.path().join("piped");
    let args = ["demo", "chapter4", "--out", piped.to_str().unwrap()];
    let out = through_shell(&args, "| head -1");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn help_and_version_to_a_full_stdout_say_so_once() {
    said_output_failed(&to_full_disk(command(&["--help"])), NO_SPACE);
    said_output_failed(&to_full_disk(command(&["train", "--help"])), NO_SPACE);
    said_output_failed(&to_full_disk(command(&["--version"])), NO_SPACE);
    let help = ok(&["--help"]);
    assert!(
        help.contains("Usage: scratchnet") && help.ends_with('\n'),
        "{help}"
    );
}

#[test]
fn a_study_and_fetch_to_a_full_stdout_say_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    let args = [
        "study",
        "batch-size",
        "--sizes",
        "100",
        "--budget",
        "iters:5",
        "--out",
        study.to_str().unwrap(),
    ];
    said_output_failed(&to_full_disk(command(&args)), NO_SPACE);
    assert!(study.join("report.html").is_file());
    said_output_failed(&to_full_disk(command(&["fetch"])), NO_SPACE);
}

/// Every print to standard output goes through `scratchnet::console` (`say!`), where a failed
/// print is handled: a `println!` elsewhere would bring back the panic on a full disk.
#[test]
fn nothing_prints_to_stdout_outside_the_console_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut offending = Vec::new();
    for dir in ["src", "core/src"] {
        rust_files(&root.join(dir), &mut offending);
    }
    assert!(
        offending.is_empty(),
        "print to stdout through scratchnet::say! instead:\n{}",
        offending.join("\n")
    );
}

/// Adds to `found` each line under `dir` that prints to standard output other than through
/// src/console.rs.
fn rust_files(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
            continue;
        }
        if path.extension() != Some("rs".as_ref()) || path.ends_with("src/console.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let prints = ["println!", "print!", "io::stdout()"].iter().any(|p| {
                code.match_indices(p)
                    .any(|(at, _)| !code[..at].ends_with('e') || *p == "io::stdout()")
            });
            if prints {
                found.push(format!("{}:{}: {code}", path.display(), i + 1));
            }
        }
    }
}

/// Checks that `args` is refused at once (before any data is loaded or run started), without
/// panicking, with every word of `expected` in one short error line.
fn refused_briefly(args: &[&str], expected: &[&str]) {
    let start = std::time::Instant::now();
    let stderr = fails_naming(args, expected[0]);
    for word in expected {
        assert!(stderr.contains(word), "{args:?}: {word:?} in {stderr}");
    }
    assert!(stderr.len() < 400, "{args:?}: {} characters", stderr.len());
    let seconds = start.elapsed().as_secs_f64();
    assert!(seconds < 5.0, "{args:?} took {seconds} s to refuse");
}

#[test]
fn gradcheck_refuses_more_images_than_it_can_check_in_seconds() {
    refused_briefly(
        &["gradcheck", "--samples", "70000"],
        &["--samples 70000", "1000"],
    );
    refused_briefly(&["gradcheck", "--samples", "1001"], &["at most 1000"]);
    refused_briefly(&["gradcheck", "--samples", "0"], &["--samples 0"]);
}

#[test]
fn budgets_that_are_not_finite_or_absurd_are_refused() {
    for budget in [
        "epochs:1e300",
        "epochs:inf",
        "iters:1e15",
        "time:1e12",
        "epochs:NaN",
    ] {
        let args = [
            "study",
            "batch-size",
            "--budget",
            budget,
            "--out",
            "/nonexistent/x",
        ];
        refused_briefly(&args, &[budget, "10^6"]);
    }
}

#[test]
fn long_lists_are_refused_in_one_short_line() {
    let dw = |flag: &str, value: &str| {
        [
            "study",
            "depth-width",
            flag,
            value,
            "--out",
            "/nonexistent/x",
        ]
        .map(String::from)
        .to_vec()
    };
    refused_briefly(
        &strs(&dw("--depths", "100000")),
        &["depths [100000]", "1 to 1000"],
    );
    // 20,000 entries: an argument of about 110 KB, under Linux's 128 KB for one argument.
    let many: Vec<String> = (1..=20_000).map(|n| n.to_string()).collect();
    refused_briefly(&strs(&dw("--widths", &many.join(","))), &["runs", "10,000"]);
    let zero_at_end = format!("{},0", many[..50].join(","));
    refused_briefly(
        &strs(&dw("--widths", &zero_at_end)),
        &["0 (entry 51 of 51)"],
    );
    let sizes = [
        "study",
        "batch-size",
        "--sizes",
        &many.join(","),
        "--out",
        "/x",
    ];
    refused_briefly(&sizes, &["runs", "10,000"]);
    let seeds = [
        "study",
        "batch-size",
        "--seeds",
        "1000000000000",
        "--out",
        "/x",
    ];
    refused_briefly(&seeds, &["runs", "10,000"]);
}

#[test]
fn networks_and_runs_too_large_are_refused_before_anything_is_allocated() {
    // 60,000 layers: an argument of 120 KB, under Linux's 128 KB for one argument.
    let layers = vec!["1"; 60_000].join(",");
    refused_briefly(
        &["train", "--hidden", &layers],
        &["hidden layers 60000", "at most 1000"],
    );
    refused_briefly(
        &["train", "--hidden", "1000000000"],
        &["100,000,000 weights"],
    );
    refused_briefly(
        &["train", "--hidden-size", "1000000000"],
        &["100,000,000 weights"],
    );
    let iters = usize::MAX.to_string();
    refused_briefly(
        &["train", "--iters", &iters],
        &["updates × batch size", "10^12"],
    );
    refused_briefly(
        &["train", "--threads", "100000"],
        &["--threads 100000", "1024"],
    );
}
