//! The server under load, on loopback: a runs folder of 1000 runs listed, 50 clients polling a
//! live run for 30 s, and a drawing predicted; latency percentiles and errors for each.
//!
//! ```sh
//! cargo build --release && cargo run --release --example serve_load -- [CLIENTS] [SECONDS] [RUNS]
//! ```
//!
//! It starts `target/release/scratchnet` (built beside this example) in a temporary folder:
//! trains one small run with the command line, copies its files into RUNS folders, serves them,
//! then starts a long run from the API and lets the clients poll it. Each client asks
//! `/api/runs/<id>/live?from=<offset>` every 100 ms (what a page without event streams would
//! do). The lag is how far the newest update a client has is behind the trainer's clock.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number =
        |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (clients, seconds, runs) = (number(0, 50), number(1, 30), number(2, 1000));
    let exe = scratchnet_binary();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path().join("runs");
    println!(
        "{clients} clients, {seconds} s, {runs} runs; {}",
        cpu_name()
    );

    let model = root.join("model");
    run(
        &exe,
        &[
            "--quiet",
            "train",
            "--iters",
            "2000",
            "--out",
            model.to_str().unwrap(),
        ],
    );
    copy_runs(&model, &root, runs);
    let (mut server, base, token) = serve(&exe, &root);

    println!("\n== the runs page with {} runs", runs + 1);
    let page = timed(&format!("{base}/"), 20);
    report("GET / (time to first byte)", &page.first_byte, 0);
    let list = timed(&format!("{base}/api/runs"), 20);
    report("GET /api/runs (first byte)", &list.first_byte, 0);
    report("GET /api/runs (whole body)", &list.whole, 0);
    println!(
        "  the first /api/runs (reads every folder): {:.1} ms",
        list.whole[0] * 1e3
    );

    println!("\n== a drawing predicted (TwoLayerNet, a test digit as PNG)");
    let png = digit_png();
    match post_many(&format!("{base}/api/predict?model=model"), &png, 100) {
        Ok(seconds) => report("POST /api/predict (round trip)", &seconds, 0),
        Err(e) => println!("  POST /api/predict failed: {e}"),
    }

    println!("\n== {clients} clients polling a live run for {seconds} s");
    let started = ureq::post(&format!("{base}/api/jobs"))
        .set("X-Token", &token)
        .send_string(r#"{"args":["--iters","100000000","--batch-size","10","--threads","1"]}"#)
        .expect("the run starts");
    let job: serde_json::Value = serde_json::from_str(&started.into_string().unwrap()).unwrap();
    let id = job["job"]["run"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_secs(2));
    let polls = poll(&base, &id, clients, Duration::from_secs(seconds as u64));
    let _ = ureq::post(&format!("{base}/api/runs/{id}/stop"))
        .set("X-Token", &token)
        .call();
    report("GET live?from= (each poll)", &polls.latency, polls.errors);
    report("lag behind the trainer", &polls.lag, 0);
    println!("  {} polls, {} errors", polls.latency.len(), polls.errors);
    std::thread::sleep(Duration::from_secs(1));
    let _ = server.kill();
}

/// `target/release/scratchnet`, beside this example's folder.
fn scratchnet_binary() -> PathBuf {
    let me = std::env::current_exe().unwrap();
    let exe = me.parent().unwrap().parent().unwrap().join("scratchnet");
    assert!(
        exe.is_file(),
        "build it first: cargo build --release ({} missing)",
        exe.display()
    );
    exe
}

fn cpu_name() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let name = info.lines().find(|l| l.starts_with("model name"));
    name.and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown CPU")
        .trim()
        .to_string()
}

fn run(exe: &Path, args: &[&str]) {
    let status = Command::new(exe)
        .args(args)
        .status()
        .expect("scratchnet runs");
    assert!(status.success(), "scratchnet {args:?} failed");
}

/// Copies the run's small files into `count` run folders named `run-0000` ….
fn copy_runs(run: &Path, root: &Path, count: usize) {
    for n in 0..count {
        let copy = root.join(format!("run-{n:04}"));
        std::fs::create_dir_all(&copy).unwrap();
        for file in [
            "config.json",
            "final.json",
            "live.jsonl",
            "iters.csv",
            "epochs.csv",
        ] {
            std::fs::copy(run.join(file), copy.join(file)).unwrap();
        }
    }
}

/// Starts the server on a free port: the process, its base address and its token.
fn serve(exe: &Path, root: &Path) -> (Child, String, String) {
    let mut child = Command::new(exe)
        .args(["serve", "--port", "0", "--runs", root.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    let (base, token) = url.split_once("/?token=").expect("an address with a token");
    (child, base.to_string(), token.to_string())
}

struct Timings {
    first_byte: Vec<f64>,
    whole: Vec<f64>,
}

/// `GET url` `n` times in a row: seconds to the answer's status and headers, and to its end.
fn timed(url: &str, n: usize) -> Timings {
    let mut t = Timings {
        first_byte: Vec::new(),
        whole: Vec::new(),
    };
    for _ in 0..n {
        let start = Instant::now();
        let response = ureq::get(url).call().expect("an answer");
        t.first_byte.push(start.elapsed().as_secs_f64());
        let mut body = Vec::new();
        response.into_reader().read_to_end(&mut body).unwrap();
        t.whole.push(start.elapsed().as_secs_f64());
    }
    t
}

/// `POST url` with `body` `n` times: seconds for each whole round trip.
fn post_many(url: &str, body: &[u8], n: usize) -> Result<Vec<f64>, String> {
    (0..n)
        .map(|_| {
            let start = Instant::now();
            let response = ureq::post(url)
                .set("Content-Type", "image/png")
                .send_bytes(body)
                .map_err(|e| e.to_string())?;
            response.into_string().map_err(|e| e.to_string())?;
            Ok(start.elapsed().as_secs_f64())
        })
        .collect()
}

/// A "1" as a PNG: a vertical bar, white on black as MNIST stores its digits.
fn digit_png() -> Vec<u8> {
    let bar = ndarray::Array1::from_shape_fn(28 * 28, |i| {
        let (y, x) = (i / 28, i % 28);
        if (4..24).contains(&y) && (13..16).contains(&x) {
            1.0
        } else {
            0.0
        }
    });
    scratchnet::predict::input_png(bar.view()).expect("a 28 × 28 image")
}

#[derive(Default)]
struct Polls {
    latency: Vec<f64>,
    lag: Vec<f64>,
    errors: usize,
}

/// `clients` threads polling run `id` for `length`.
fn poll(base: &str, id: &str, clients: usize, length: Duration) -> Polls {
    let all = Arc::new(Mutex::new(Polls::default()));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (base, id, all) = (base.to_string(), id.to_string(), all.clone());
            std::thread::spawn(move || {
                let mine = client(&base, &id, length);
                let mut all = all.lock().unwrap();
                all.latency.extend(mine.latency);
                all.lag.extend(mine.lag);
                all.errors += mine.errors;
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    Arc::try_unwrap(all).ok().unwrap().into_inner().unwrap()
}

/// One client: a poll every 100 ms.
fn client(base: &str, id: &str, length: Duration) -> Polls {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let mut polls = Polls::default();
    let (mut from, mut unix0, start) = (0u64, None, Instant::now());
    while start.elapsed() < length {
        let asked = Instant::now();
        let answer = agent
            .get(&format!("{base}/api/runs/{id}/live?from={from}"))
            .call()
            .map_err(|e| e.to_string())
            .and_then(|r| r.into_string().map_err(|e| e.to_string()))
            .and_then(|text| {
                serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string())
            });
        polls.latency.push(asked.elapsed().as_secs_f64());
        match answer {
            Ok(page) => {
                from = page["next"].as_u64().unwrap_or(from);
                for line in page["lines"].as_array().into_iter().flatten() {
                    if let Some(u) = line["begin"]["unix_s"].as_f64() {
                        unix0 = Some(u);
                    }
                }
                let newest = page["lines"]
                    .as_array()
                    .and_then(|l| l.iter().rev().find_map(|l| l["t"].as_f64()));
                if let (Some(u), Some(t)) = (unix0, newest) {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap()
                        .as_secs_f64();
                    polls.lag.push(now - (u + t));
                }
            }
            Err(_) => polls.errors += 1,
        }
        std::thread::sleep(Duration::from_millis(100).saturating_sub(asked.elapsed()));
    }
    polls
}

/// Prints the median, 90th, 99th percentile and worst of `seconds`.
fn report(what: &str, seconds: &[f64], errors: usize) {
    let mut sorted = seconds.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize] * 1e3;
    if sorted.is_empty() {
        return println!("  {what}: no measurement");
    }
    println!(
        "  {what}: median {:.1} ms, p90 {:.1}, p99 {:.1}, max {:.1} ({} samples{})",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        sorted.len(),
        if errors > 0 {
            format!(", {errors} errors")
        } else {
            String::new()
        }
    );
}
