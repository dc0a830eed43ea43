//! `scratchnet serve` through its HTTP interface: the runs folder listed (a broken folder on its
//! row, the server still up), a run's curves and evaluation, a run started, watched live,
//! stopped and resumed to the same weights as the command line's, and what keeps it safe: the
//! token, the address rule, the body limit, and no file outside the runs folder.

use crate::common::{ok, Watched};
use scratchnet::interrupt::HOLD_AT_ITERATION_ENV;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// A running `scratchnet serve`, stopped when dropped.
pub struct Server {
    /// `None` once stopped.
    process: Option<Watched>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub token: String,
}

impl Server {
    /// `scratchnet serve --runs runs --port 0 extra…`, once it prints its address.
    pub fn start(runs: &Path, extra: &[&str]) -> Server {
        Server::start_with(runs, extra, &[])
    }

    /// [`Server::start`] with the environment variables `env` (its runs inherit them).
    pub fn start_with(runs: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let runs = runs.to_str().unwrap();
        let mut process = Watched::spawn(
            &[&["serve", "--runs", runs, "--port", "0"], extra].concat(),
            env,
        );
        let line = process.stdout_line("serving ");
        let url = line.rsplit(' ').next().unwrap().to_string();
        let (base, token) = url
            .split_once("/?token=")
            .unwrap_or((url.trim_end_matches('/'), ""));
        Server {
            process: Some(process),
            base: base.to_string(),
            token: token.to_string(),
        }
    }

    /// `GET path`: the status and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        answer(ureq::get(&format!("{}{path}", self.base)).call())
    }

    /// `GET path` answered 200 with JSON.
    pub fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// `POST path` with `body` (JSON) and the token header when given.
    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = ureq::post(&format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.set("X-Token", token);
        }
        let (status, text) = answer(request.send_string(&body.to_string()));
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The raw answer to `GET target` sent byte for byte (no client normalises the path).
    pub fn raw_get(&self, target: &str) -> String {
        let address = self.base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).unwrap();
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    }
}

impl Server {
    /// Stops the server with SIGTERM: its exit code and standard error.
    pub fn stop(mut self) -> (Option<i32>, String) {
        let process = self.process.take().expect("a server runs until stopped");
        process.signal(libc::SIGTERM);
        process.finish()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(process) = &self.process {
            process.signal(libc::SIGTERM);
        }
    }
}

/// A vertical bar of dark ink on white, 60 × 80 pixels, as a PNG file.
fn write_bar_png(path: &Path) {
    let (width, height) = (60u32, 80u32);
    let pixels: Vec<u8> = (0..height)
        .flat_map(|y| {
            (0..width).map(move |x| {
                if (25..35).contains(&x) && (8..72).contains(&y) {
                    0
                } else {
                    255
                }
            })
        })
        .collect();
    let mut encoder = png::Encoder::new(std::fs::File::create(path).unwrap(), width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&pixels)
        .unwrap();
}

fn answer(result: Result<ureq::Response, ureq::Error>) -> (u16, String) {
    match result {
        Ok(response) => (response.status(), response.into_string().unwrap()),
        Err(ureq::Error::Status(status, response)) => (status, response.into_string().unwrap()),
        Err(e) => panic!("no answer: {e}"),
    }
}

/// Waits until `done` says yes (at most a minute), polling.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(60), "no {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_runs_folder_its_runs_and_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let run = runs.join("small");
    ok(&[
        "--quiet",
        "train",
        "--iters",
        "120",
        "--out",
        run.to_str().unwrap(),
    ]);
    std::fs::create_dir_all(runs.join("broken")).unwrap();
    std::fs::write(runs.join("broken/config.json"), "{ not json").unwrap();
    let server = Server::start(&runs, &[]);

    let (status, page) = server.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("/assets/app.js"), "{page}");
    assert_eq!(server.get("/assets/app.js").0, 200);
    assert_eq!(server.get("/assets/nothing.js").0, 404);

    let listed = server.json("/api/runs");
    let rows = listed["runs"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{listed}");
    let small = rows.iter().find(|r| r["id"] == "small").unwrap();
    assert_eq!(small["state"], "finished");
    assert_eq!(small["dataset"], "mnist");
    assert_eq!(small["network"], "TwoLayerNet");
    assert_eq!(small["describe"], "784-50-10 sigmoid");
    assert_eq!(small["iterations"], 120);
    assert_eq!(small["has_model"], true);
    let broken = rows.iter().find(|r| r["id"] == "broken").unwrap();
    assert_eq!(broken["state"], "broken");
    assert!(
        broken["error"].as_str().unwrap().contains("config.json"),
        "{broken}"
    );

    // The curves: every update's loss, as iters.csv has them, and the measurements.
    let detail = server.json("/api/runs/small");
    let losses = detail["curves"]["loss"].as_array().unwrap();
    let csv = std::fs::read_to_string(run.join("iters.csv")).unwrap();
    let from_csv: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(losses.len(), 120);
    for (served, written) in losses.iter().zip(&from_csv) {
        assert_eq!(served.as_f64().unwrap(), *written);
    }
    let times = detail["curves"]["t"].as_array().unwrap();
    assert!(times.windows(2).all(|w| w[0].as_f64() <= w[1].as_f64()));
    assert_eq!(detail["curves"]["epochs"][0]["iteration"], 0);
    assert_eq!(detail["live"]["running"], false);
    // The polling form: every line of live.jsonl as JSON, and where the next poll starts.
    let live_file = std::fs::read_to_string(run.join("live.jsonl")).unwrap();
    let polled = server.json("/api/runs/small/live?from=0");
    let lines = polled["lines"].as_array().unwrap();
    assert_eq!(lines.len(), live_file.lines().count());
    assert_eq!(lines.iter().filter(|l| l["i"].is_u64()).count(), 120);
    assert_eq!(lines.last().unwrap()["end"], "finished");
    assert_eq!(polled["next"], live_file.len());
    assert_eq!(polled["running"], false);
    let after = server.json(&format!("/api/runs/small/live?from={}", live_file.len()));
    assert_eq!(after["lines"].as_array().unwrap().len(), 0);
    assert_eq!(detail["report"], "/files/small/report.html");
    assert_eq!(server.get("/files/small/report.html").0, 200);

    // The evaluation: the whole test set, as `eval` counts it.
    let evaluation = server.json("/api/runs/small/evaluation");
    let confusion = evaluation["confusion"].as_array().unwrap();
    let total: u64 = confusion
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(total, 10_000);
    let diagonal: u64 = (0..10).map(|k| confusion[k][k].as_u64().unwrap()).sum();
    let accuracy = evaluation["accuracy"].as_f64().unwrap();
    assert_eq!(diagonal as f64 / 10_000.0, accuracy);
    let final_json: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("final.json")).unwrap()).unwrap();
    assert_eq!(accuracy, final_json["final_test_acc"].as_f64().unwrap());
    let mistake = &evaluation["misclassified"][0];
    assert_ne!(mistake["label"], mistake["predicted"]);
    assert_eq!(mistake["pixels"].as_array().unwrap().len(), 784);

    // A drawing: the server's numbers are `scratchnet predict --json`'s for the same bytes.
    let png_path = dir.path().join("bar.png");
    write_bar_png(&png_path);
    let png = std::fs::read(&png_path).unwrap();
    let served = ureq::post(&format!("{}/api/predict?model=small", server.base))
        .set("Content-Type", "image/png")
        .send_bytes(&png)
        .unwrap()
        .into_string()
        .unwrap();
    let served: Value = serde_json::from_str(&served).unwrap();
    let typed = ok(&[
        "predict",
        "--json",
        "--model",
        run.to_str().unwrap(),
        png_path.to_str().unwrap(),
    ]);
    let typed: Value = serde_json::from_str(typed.lines().next().unwrap()).unwrap();
    assert_eq!(served, typed);
    assert_eq!(served["input"].as_array().unwrap().len(), 784);
    let (status, refused) = answer(
        ureq::post(&format!("{}/api/predict?model=small", server.base)).send_bytes(b"not a png"),
    );
    assert_eq!(status, 400);
    assert!(refused.contains("the drawing"), "{refused}");
    // A small file claiming a large picture is refused before it is decoded.
    let large = dir.path().join("large.png");
    let mut encoder = png::Encoder::new(std::fs::File::create(&large).unwrap(), 2000, 2000);
    encoder.set_color(png::ColorType::Grayscale);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&vec![255u8; 2000 * 2000])
        .unwrap();
    let (status, refused) = answer(
        ureq::post(&format!("{}/api/predict?model=small", server.base))
            .send_bytes(&std::fs::read(&large).unwrap()),
    );
    assert_eq!(status, 400);
    assert!(refused.contains("2000 × 2000 pixels"), "{refused}");

    // Inside: W1's 50 columns as 28 × 28 images, a histogram over 1000 test images' activations.
    let inside = server.json("/api/runs/small/inside");
    assert_eq!(inside["first_layer"]["kind"], "dense");
    assert_eq!(inside["first_layer"]["units"], 50);
    assert_eq!(
        inside["first_layer"]["weights"][0]
            .as_array()
            .unwrap()
            .len(),
        784
    );
    let counts: u64 = inside["histograms"][0]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(counts, 1000 * 50);

    // A broken folder's own pages say why; the server is still up.
    assert_eq!(server.get("/api/runs/broken/evaluation").0, 404);
    assert_eq!(server.get("/api/runs/nothing").0, 404);
    assert_eq!(
        server.json("/api/runs")["runs"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn a_run_started_from_the_page_is_watched_stopped_and_resumed_to_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    // Its runs wait after update 50000 until stopped (a test seam): the stop, sent once the
    // events have streamed that update, comes before the run's end however fast the machine;
    // the resumed run, past 50000, goes on to its end.
    const HELD_AT: u64 = 50_000;
    let server = Server::start_with(
        &runs,
        &["--jobs", "1"],
        &[(HOLD_AT_ITERATION_ENV, &HELD_AT.to_string())],
    );
    let args = ["--iters", "100000", "--batch-size", "10", "--seed", "3"];
    let body = json!({ "args": args });

    // No token, a wrong one: refused, nothing started.
    assert_eq!(server.post("/api/jobs", None, &body).0, 401);
    assert_eq!(server.post("/api/jobs", Some("0"), &body).0, 401);
    assert_eq!(
        server.json("/api/jobs")["jobs"].as_array().unwrap().len(),
        0
    );
    // Arguments the command would refuse, and flags the server keeps: refused with the reason.
    let (status, bad) = server.post(
        "/api/jobs",
        Some(&server.token),
        &json!({"args": ["--batch-size", "0"]}),
    );
    assert_eq!(status, 400);
    assert!(
        bad["error"].as_str().unwrap().contains("batch size 0"),
        "{bad}"
    );
    let (status, bad) = server.post(
        "/api/jobs",
        Some(&server.token),
        &json!({"args": ["--out", "/tmp/elsewhere"]}),
    );
    assert_eq!(status, 400, "{bad}");

    let (status, started) = server.post("/api/jobs", Some(&server.token), &body);
    assert_eq!(status, 201, "{started}");
    let id = started["job"]["run"].as_str().unwrap().to_string();

    // One run at a time (--jobs 1): a second waits in the queue; stopping it drops
    // it and the empty folder made for it.
    let (_, queued) = server.post("/api/jobs", Some(&server.token), &body);
    let second = queued["job"]["run"].as_str().unwrap().to_string();
    assert_ne!(second, id);
    wait_until("the first job running", || {
        server.json("/api/jobs")["jobs"][1]["state"] == "running"
    });
    assert_eq!(server.json("/api/jobs")["jobs"][0]["state"], "queued");
    wait_until("the queued row", || {
        let listed = server.json("/api/runs");
        let rows = listed["runs"].as_array().unwrap().clone();
        rows.iter()
            .any(|r| r["id"] == second.as_str() && r["state"] == "queued")
    });
    // Its event stream waits while its job does (a trainer not yet started is not a failed
    // one), and ends once the job is dropped.
    let stream = ureq::get(&format!("{}/api/runs/{second}/events?from=0", server.base))
        .call()
        .unwrap();
    let (sender, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        let _ = stream.into_reader().read_to_string(&mut seen);
        let _ = sender.send(seen);
    });
    let early = ended.recv_timeout(Duration::from_secs(3));
    assert!(early.is_err(), "the queued run's stream ended: {early:?}");
    let (status, _) = server.post(
        &format!("/api/runs/{second}/stop"),
        Some(&server.token),
        &json!({}),
    );
    assert_eq!(status, 200);
    assert_eq!(server.json("/api/jobs")["jobs"][0]["state"], "stopped");
    assert!(
        !runs.join(&second).exists(),
        "the queued run's empty folder is left"
    );
    let seen = ended.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(seen.contains("data: {\"end\""), "{seen}");

    // Live: the events stream the updates as they are made.
    wait_until("running row", || {
        let listed = server.json("/api/runs");
        let rows = listed["runs"].as_array().unwrap().clone();
        rows.iter()
            .any(|r| r["id"] == id.as_str() && r["state"] == "running")
    });
    let mut events = ureq::get(&format!("{}/api/runs/{id}/events?from=0", server.base))
        .call()
        .unwrap()
        .into_reader();
    let mut seen = String::new();
    let mut buffer = [0u8; 4096];
    while seen.matches("data: {\"i\":").count() < 20 {
        let n = events.read(&mut buffer).unwrap();
        assert!(n > 0, "the stream ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    assert!(seen.starts_with("data: {\"begin\""), "{seen}");
    let held = format!("data: {{\"i\":{HELD_AT},");
    while !seen.contains(&held) {
        let n = events.read(&mut buffer).unwrap();
        assert!(n > 0, "the stream ended before update {HELD_AT}");
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }

    // Stop: what Ctrl-C does, a checkpoint; the stream says so and ends.
    let (status, _) = server.post(
        &format!("/api/runs/{id}/stop"),
        Some(&server.token),
        &json!({}),
    );
    assert_eq!(status, 200);
    events.read_to_string(&mut seen).unwrap();
    assert!(
        seen.trim_end().ends_with("data: {\"end\":\"stopped\"}"),
        "{}",
        &seen[seen.len() - 200..]
    );
    wait_until("stopped job", || {
        server.json("/api/jobs")["jobs"][1]["state"] == "stopped"
    });
    let folder = runs.join(&id);
    assert!(folder.join("checkpoint.safetensors").is_file());
    let row = server.json(&format!("/api/runs/{id}"))["row"].clone();
    assert_eq!(row["state"], "interrupted");
    let stopped_at = row["iterations"].as_u64().unwrap();
    assert_eq!(stopped_at, HELD_AT, "{row}");

    // Resume it to its end: the same weights as the command line's uninterrupted run.
    let (status, resumed) = server.post(
        &format!("/api/runs/{id}/resume"),
        Some(&server.token),
        &json!({}),
    );
    assert_eq!(status, 201, "{resumed}");
    // Shorten nothing: the run goes on to its 100000 updates.
    wait_until("finished job", || {
        server.json("/api/jobs")["jobs"][0]["state"] == "finished"
    });
    let cli = dir.path().join("cli");
    let mut cli_args = vec!["--quiet", "train", "--out", cli.to_str().unwrap()];
    cli_args.extend(args);
    ok(&cli_args);
    let served = std::fs::read(folder.join("model.safetensors")).unwrap();
    let typed = std::fs::read(cli.join("model.safetensors")).unwrap();
    assert!(
        served == typed,
        "the resumed run's weights differ from the command line's"
    );
    // A finished run cannot be resumed, nor stopped.
    assert_eq!(
        server
            .post(
                &format!("/api/runs/{id}/resume"),
                Some(&server.token),
                &json!({})
            )
            .0,
        409
    );
    assert_eq!(
        server
            .post(
                &format!("/api/runs/{id}/stop"),
                Some(&server.token),
                &json!({})
            )
            .0,
        409
    );
}

#[test]
fn a_closed_output_or_a_client_gone_mid_answer_does_not_end_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    for n in 0..300 {
        std::fs::create_dir(runs.join(format!("r{n:03}"))).unwrap();
        std::fs::write(runs.join(format!("r{n:03}/config.json")), "{}").unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    // Its standard output is a pipe nobody reads any more (`scratchnet serve | head -1` once
    // head has its line): the server's lines fail to print; it goes on serving.
    let mut child =
        crate::common::command(&["serve", "--runs", runs.to_str().unwrap(), "--port", &port])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
    drop(child.stdout.take());
    let address = format!("127.0.0.1:{port}");
    let base = format!("http://{address}");
    wait_until("the server listening", || {
        TcpStream::connect(&address).is_ok()
    });
    // Clients that ask for the 300-row listing and hang up without reading it.
    for _ in 0..20 {
        let mut stream = TcpStream::connect(&address).unwrap();
        write!(stream, "GET /api/runs HTTP/1.1\r\nHost: {address}\r\n\r\n").unwrap();
        drop(stream);
    }
    std::thread::sleep(Duration::from_millis(300));
    let (status, body) = answer(ureq::get(&format!("{base}/api/runs")).call());
    assert_eq!(status, 200, "{body}");
    assert!(child.try_wait().unwrap().is_none(), "the server ended");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_stopped_server_stops_its_runs_with_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let server = Server::start(&runs, &[]);
    let body = json!({ "args": ["--iters", "1000000", "--batch-size", "10"] });
    let (status, started) = server.post("/api/jobs", Some(&server.token), &body);
    assert_eq!(status, 201, "{started}");
    let folder = runs.join(started["job"]["run"].as_str().unwrap());
    wait_until("updates in live.jsonl", || {
        std::fs::read_to_string(folder.join("live.jsonl")).is_ok_and(|t| t.contains("\"i\":50,"))
    });
    let (code, stderr) = server.stop();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("stopping 1 training run"), "{stderr}");
    // The run got one SIGINT (not the terminal's too): it saves its checkpoint and ends.
    wait_until("the run's checkpoint", || {
        folder.join("checkpoint.safetensors").is_file()
            && std::fs::read_to_string(folder.join("live.jsonl"))
                .is_ok_and(|t| t.ends_with("{\"end\":\"stopped\"}\n"))
    });
}

#[test]
fn a_run_that_fails_says_why_on_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let server = Server::start(&runs, &[]);
    // Accepted by the parser, refused by the run itself.
    let body = json!({ "args": ["--iters", "5", "--threads", "5000"] });
    let (status, started) = server.post("/api/jobs", Some(&server.token), &body);
    assert_eq!(status, 201, "{started}");
    let id = started["job"]["run"].as_str().unwrap().to_string();
    wait_until("the failed job", || {
        server.json("/api/jobs")["jobs"][0]["state"] == "failed"
    });
    let job = server.json("/api/jobs")["jobs"][0].clone();
    assert!(job["message"].as_str().unwrap().contains("5000"), "{job}");
    wait_until("the failed row", || {
        let listed = server.json("/api/runs");
        let rows = listed["runs"].as_array().unwrap().clone();
        rows.iter().any(|r| {
            r["id"] == id.as_str() && r["state"] == "failed" && r["error"] == job["message"]
        })
    });
}

#[test]
fn nothing_outside_the_runs_folder_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    std::fs::create_dir_all(runs.join("a")).unwrap();
    std::fs::write(runs.join("a/notes.txt"), "inside").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "SECRET").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), runs.join("a/link.txt")).unwrap();
    std::os::unix::fs::symlink(dir.path(), runs.join("up")).unwrap();
    let server = Server::start(&runs, &[]);

    assert!(server.raw_get("/files/a/notes.txt").contains("inside"));
    for target in [
        "/files/../secret.txt",
        "/files/a/../../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/a/%2E%2E/%2E%2E/secret.txt",
        "/files/a%2F..%2F..%2Fsecret.txt",
        "/files/..%5csecret.txt",
        "/files/a/link.txt",
        "/files/up/secret.txt",
        "/files//etc/passwd",
        "/files/%2Fetc%2Fpasswd",
        "/api/runs/..%2F..",
        "/api/runs/up/evaluation",
    ] {
        let answer = server.raw_get(target);
        let status = answer.split(' ').nth(1).unwrap_or_default();
        assert!(
            status == "404" || status == "400",
            "{target}: {}",
            answer.lines().next().unwrap_or_default()
        );
        assert!(
            !answer.contains("SECRET") && !answer.contains("root:"),
            "{target}: {answer}"
        );
    }

    // Bodies have a limit: a larger one is refused before it is read.
    let address = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /api/predict?model=a HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n",
        3 << 20
    )
    .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");
}

#[test]
fn another_address_needs_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let runs = runs.to_str().unwrap();
    crate::common::fails_naming(
        &[
            "serve",
            "--runs",
            runs,
            "--port",
            "0",
            "--host",
            "0.0.0.0",
            "--no-token",
        ],
        "refusing to serve on 0.0.0.0 without a token",
    );
    // On loopback without a token, a start needs none (these arguments are then checked).
    let server = Server::start(Path::new(runs), &["--no-token"]);
    assert_eq!(server.token, "");
    let (status, bad) = server.post("/api/jobs", None, &json!({"args": ["--iters", "x"]}));
    assert_eq!(status, 400, "{bad}");
}
