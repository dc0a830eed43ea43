//! Ctrl-C and SIGTERM outside the training loop, through the binary: a command that is loading
//! data, checking gradients or evaluating ends at once on the first signal (exit status 130,
//! "interrupted"), leaving no temporary file; training's own stop-and-checkpoint is tested in
//! interrupt_cli.rs.

use crate::common;

use crate::common::Watched;
use scratchnet::files::SLOW_WRITE_ENV;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// How soon a signalled command must have ended.
const PROMPTLY: Duration = Duration::from_secs(1);

/// The four MNIST files' names.
const NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// A folder whose four MNIST "files" are FIFOs: a reader blocks in them as on a stalled disk
/// or network. Each gets a writer that sends a few bytes, then holds it open, silent.
fn stalled_source(root: &Path) -> std::path::PathBuf {
    let dir = root.join("stalled");
    std::fs::create_dir(&dir).unwrap();
    for name in NAMES {
        let fifo = dir.join(name);
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid, NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
        std::thread::spawn(move || {
            let mut writer = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            let _ = writer.write_all(&[0; 4096]);
            std::thread::sleep(Duration::from_secs(60));
        });
    }
    dir
}

/// Sends `sig` to `run` and checks that it ends within [`PROMPTLY`], saying "interrupted"
/// (and not promising an iteration that will never come).
fn ends_at_once(run: Watched, sig: i32) {
    let sent = Instant::now();
    run.signal(sig);
    let (code, stderr) = run.finish_within(PROMPTLY * 5);
    assert!(sent.elapsed() < PROMPTLY, "took {:?}", sent.elapsed());
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!stderr.contains("after this iteration"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The temporary files of atomic writes left in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".scratchnet-"))
        .collect()
}

/// Waits until `dir` holds a temporary file (a copy has begun); fails after 20 s.
fn wait_for_temporary(dir: &Path) {
    let start = Instant::now();
    while temporaries(dir).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "no copy began");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_fetch_blocked_in_a_read_ends_on_the_first_sigterm_and_leaves_no_temporary() {
    let root = tempfile::tempdir().unwrap();
    let from = stalled_source(root.path());
    let cache = root.path().join("cache");
    let args = ["fetch", "--data-dir", cache.to_str().unwrap()];
    let run = Watched::spawn(
        &[&args[..], &["--from", from.to_str().unwrap()]].concat(),
        &[],
    );
    wait_for_temporary(&cache.join("mnist"));
    ends_at_once(run, libc::SIGTERM);
    assert_eq!(temporaries(&cache.join("mnist")), Vec::<String>::new());
}

#[test]
fn eval_and_a_study_loading_their_data_end_on_the_first_ctrl_c() {
    let root = tempfile::tempdir().unwrap();
    let from = stalled_source(root.path());
    let cache = root.path().join("cache");
    let data = [
        "--data-dir",
        cache.to_str().unwrap(),
        "--from",
        from.to_str().unwrap(),
    ];
    let model = root.path().join("run");
    let train = [
        "--quiet",
        "train",
        "--iters",
        "1",
        "--out",
        model.to_str().unwrap(),
    ];
    common::ok(&train);
    let eval = [&["eval", "--model", model.to_str().unwrap()], &data[..]].concat();
    let run = Watched::spawn(&eval, &[]);
    wait_for_temporary(&cache.join("mnist"));
    ends_at_once(run, libc::SIGINT);

    let out = root.path().join("study");
    let study = [
        &[
            "study",
            "batch-size",
            "--sizes",
            "100",
            "--budget",
            "iters:5",
        ][..],
        &["--out", out.to_str().unwrap()],
        &data[..],
    ]
    .concat();
    let run = Watched::spawn(&study, &[]);
    std::thread::sleep(Duration::from_millis(500));
    ends_at_once(run, libc::SIGINT);
    assert_eq!(temporaries(&cache.join("mnist")), Vec::<String>::new());
}

#[test]
fn a_gradient_check_stops_at_once_on_the_first_ctrl_c() {
    let run = Watched::spawn(&["gradcheck", "--samples", "1000"], &[]);
    // The whole command takes 1.4 s on a quiet Xeon (loading about 0.2 s, then the check), and
    // longer on a busy machine: 0.4 s in, it is checking (or, when busy, still loading — which
    // must end at once too), and far from done.
    std::thread::sleep(Duration::from_millis(400));
    ends_at_once(run, libc::SIGINT);
}

#[test]
fn a_run_writing_its_report_ends_on_the_first_sigterm_and_leaves_no_temporary() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("run");
    let args = ["train", "--iters", "5", "--out", out.to_str().unwrap()];
    let run = Watched::spawn(&args, &[(SLOW_WRITE_ENV, "report.html")]);
    // The charts come just before the report: once they are there, the report is being written.
    let start = Instant::now();
    let writing_report = || out.join("accuracy.png").is_file() && !temporaries(&out).is_empty();
    while !writing_report() {
        assert!(start.elapsed() < Duration::from_secs(60), "no report begun");
        std::thread::sleep(Duration::from_millis(5));
    }
    ends_at_once(run, libc::SIGTERM);
    assert_eq!(temporaries(&out), Vec::<String>::new());
    assert!(!out.join("report.html").exists());
}
