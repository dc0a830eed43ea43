//! The pages of `scratchnet serve` driven in a real browser: headless Chromium through
//! chromedriver (WebDriver, with fantoccini). Runs compared on one chart, a run started from the
//! form, watched live, stopped and resumed with the page's buttons, a digit drawn with the mouse
//! and predicted as `scratchnet predict` predicts the same picture, a study's chart and report,
//! the first layer's weights, and a runs folder of 1000 runs listed.
//!
//! Needs `chromedriver` on PATH and Chromium at /usr/bin/chromium (Debian: `apt-get install -y
//! chromium chromium-driver`, which .ci/run does); without them these tests fail saying so.
//! Screenshots of every page go to target/browser-shots/. The tests take turns (one browser at a
//! time): the live and timing checks mean something only on a machine not running five Chromiums.

#[macro_use]
mod harness;

use crate::common::ok;
use crate::serve_cli::Server;
use base64::Engine as _;
use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;
use harness::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[test]
fn two_runs_ticked_on_the_runs_page_are_drawn_on_one_chart() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    train(&runs, "a", &["--iters", "150"]);
    train(&runs, "b", &["--optimizer", "adam", "--iters", "150"]);
    let server = Server::start(&runs, &[]);
    run(async {
        let b = Browser::open(&server).await;
        b.goto("/").await;
        wait_for!(b, "the rows of runs a and b", 30, {
            (b.count("#runs tr[data-id=\"a\"]").await == 1
                && b.count("#runs tr[data-id=\"b\"]").await == 1)
                .then_some(())
        });
        // The token moved from the address bar into the session.
        let search = b.js("return location.search").await;
        assert_eq!(search, "", "the token is still in the address bar");
        let row_b = b.text("#runs tr[data-id=\"b\"]").await.unwrap();
        assert!(row_b.contains("adam") && row_b.contains("150"), "{row_b}");
        let row_a = b.text("#runs tr[data-id=\"a\"]").await.unwrap();
        assert!(row_a.contains("sgd") && row_a.contains("150"), "{row_a}");

        b.click("#runs .pick[data-id=\"a\"]").await;
        b.click("#runs .pick[data-id=\"b\"]").await;
        for id in ["a", "b"] {
            let css = format!("#overlay-loss path.series[data-id=\"{id}\"]");
            // Every one of the 150 updates' losses is a point of the curve.
            let n = wait_for!(b, format!("{css} drawn"), 30, {
                let n = series_points(&b, &css).await;
                (n >= 150).then_some(n)
            });
            assert_eq!(n, 150, "{css}");
            let acc = format!("#overlay-acc path.series[data-id=\"{id}\"]");
            assert!(series_points(&b, &acc).await >= 1, "no {acc}");
        }
        // Two curves, not one drawn twice.
        let da = b
            .attr("#overlay-loss path.series[data-id=\"a\"]", "d")
            .await;
        let db = b
            .attr("#overlay-loss path.series[data-id=\"b\"]", "d")
            .await;
        assert_ne!(da, db);
        b.screenshot("runs").await;
        b.close().await;
    });
}

/// The `running`/`interrupted` state of run `id` as the API gives it, and its updates done.
fn api_state(server: &Server, id: &str) -> (String, u64) {
    let row = server.json(&format!("/api/runs/{id}"))["row"].clone();
    (
        row["state"].as_str().unwrap_or_default().to_string(),
        row["iterations"].as_u64().unwrap_or(0),
    )
}

#[test]
fn a_run_started_from_the_form_is_watched_live_stopped_and_resumed_with_the_buttons() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let server = Server::start(&runs, &[]);
    run(async {
        let b = Browser::open(&server).await;
        b.goto("/new").await;
        wait_for!(b, "the form #new-run", 30, {
            (b.count("#new-run #start").await == 1).then_some(())
        });
        // A network wide enough that its updates come at most a few hundred a second.
        b.fill("#n-hidden-size", "1000").await;
        b.fill("#n-batch", "100").await;
        b.fill("#n-length", "200000").await;
        b.fill("#n-seed", "3").await;
        b.fill("#n-eval", "1000").await;
        let command = b.text("#cmdline").await.unwrap();
        assert_eq!(
            command,
            "scratchnet train --dataset mnist --hidden-size 1000 --batch-size 100 --iters 200000 \
             --seed 3 --eval-samples 1000"
        );
        b.screenshot("new-run").await;
        b.click("#start").await;

        let id = wait_for!(b, "the run's page", 30, {
            let hash = b.js("return decodeURIComponent(location.hash)").await;
            hash.as_str()
                .and_then(|h| h.strip_prefix("#/run/"))
                .map(String::from)
        });
        let _stop = StopOnDrop {
            server: &server,
            id: id.clone(),
        };
        let jobs = server.json("/api/jobs");
        assert_eq!(jobs["jobs"][0]["run"], id.as_str(), "{jobs}");
        // The form's arguments, then the folder the server chose.
        let args = jobs["jobs"][0]["args"].as_array().unwrap();
        assert_eq!(
            json!(args[..12]),
            json!([
                "--dataset",
                "mnist",
                "--hidden-size",
                "1000",
                "--batch-size",
                "100",
                "--iters",
                "200000",
                "--seed",
                "3",
                "--eval-samples",
                "1000"
            ])
        );

        // Live: the loss curve grows while the page is left alone. (A page that shows the new
        // run as broken is a bug, asserted at the end; the page is opened again to go on.)
        let curve = "#run-loss path.series";
        let mut shown_broken = None;
        // (The updates shown, not the curve's points, are counted: a long curve is thinned to
        // the chart's width.)
        let (first, first_curve) = wait_for!(b, "the live loss curve and the Stop button", 120, {
            if b.text("h1 .badge").await.as_deref() == Some("broken") {
                shown_broken.get_or_insert(b.page_state().await);
                b.screenshot("run-broken").await;
                b.goto(&format!("/run/{id}")).await;
            }
            let drawn = series_points(&b, curve).await >= 2 && b.count("#stop").await == 1;
            let shown = updates_shown(&b).await.filter(|_| drawn);
            shown.zip(b.attr(curve, "d").await)
        });
        let first_read = Instant::now();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let later = wait_for!(b, "the curve to grow", 30, {
            let shown = updates_shown(&b).await.filter(|&u| u > first);
            let redrawn = b.attr(curve, "d").await.is_some_and(|d| d != first_curve);
            shown.filter(|_| redrawn)
        });
        assert!(first_read.elapsed() >= Duration::from_millis(500));
        println!("live: the page followed the run from update {first} to {later}");
        let progress = b.text("#progress-box").await.unwrap();
        assert!(progress.ends_with("/ 200,000 updates"), "{progress}");
        assert_eq!(b.text("h1 .badge").await.as_deref(), Some("running"));
        b.screenshot("run-live").await;

        // Stop: the run is interrupted, on the server and on the page.
        b.click("#stop").await;
        let stopped_at = wait_for!(b, "the API's interrupted state", 60, {
            let (state, done) = api_state(&server, &id);
            (state == "interrupted").then_some(done)
        });
        assert!(stopped_at > 0 && stopped_at < 200_000, "{stopped_at}");
        wait_for!(b, "the page's interrupted state and Resume button", 60, {
            (b.text("h1 .badge").await.as_deref() == Some("interrupted")
                && b.count("#resume").await == 1
                && b.count("#stop").await == 0)
                .then_some(())
        });
        b.screenshot("run-stopped").await;

        // Resume: running again, from where it stopped, then stopped again.
        b.click("#resume").await;
        b.screenshot("run-resuming").await;
        wait_for!(b, "the API's running state", 60, {
            let (state, done) = api_state(&server, &id);
            (state == "running" && done > stopped_at).then_some(())
        });
        wait_for!(b, "the page's running state and Stop button", 60, {
            (b.text("h1 .badge").await.as_deref() == Some("running") && b.count("#stop").await == 1)
                .then_some(())
        });
        let resumed = wait_for!(b, "the resumed curve past the stop", 60, {
            let drawn = series_points(&b, curve).await >= 2;
            updates_shown(&b).await.filter(|&u| drawn && u > stopped_at)
        });
        assert!(resumed > later);
        b.click("#stop").await;
        let second_stop = wait_for!(b, "the second stop", 60, {
            let (state, done) = api_state(&server, &id);
            (state == "interrupted").then_some(done)
        });
        assert!(second_stop > stopped_at, "{second_stop} ≤ {stopped_at}");
        wait_for!(b, "the page's interrupted state again", 60, {
            (b.text("h1 .badge").await.as_deref() == Some("interrupted")).then_some(())
        });
        let jobs = server.json("/api/jobs");
        let states: Vec<&str> = jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, ["stopped", "stopped"], "{jobs}");
        b.close().await;
        if let Some(page) = shown_broken {
            panic!(
                "just after Start the run's page showed the starting run as broken (GET \
                 /api/runs/<id> said state broken, \"not a run folder: no config.json\", while \
                 its folder held only the marker or a temporary file) and stayed so until opened \
                 again: {page}"
            );
        }
    });
}

/// Stops run `id` through the API when dropped (a failed test leaves no trainer running: the
/// server's children outlive it).
struct StopOnDrop<'a> {
    server: &'a Server,
    id: String,
}

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let path = format!("/api/runs/{}/stop", self.id);
        let _ = self
            .server
            .post(&path, Some(&self.server.token), &json!({}));
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            let jobs = self.server.json("/api/jobs");
            let busy = jobs["jobs"].as_array().unwrap().iter().any(|j| {
                j["run"] == self.id.as_str() && (j["state"] == "running" || j["state"] == "queued")
            });
            if !busy {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn a_seven_drawn_with_the_mouse_is_predicted_as_the_predict_command_predicts_it() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let model = train(&runs, "m", &["--iters", "2000"]);
    let server = Server::start(&runs, &[]);
    run(async {
        let b = Browser::open(&server).await;
        b.goto("/draw").await;
        wait_for!(b, "the model m in #model", 30, {
            (b.count("#model option[value=\"model=m\"]").await == 1).then_some(())
        });
        b.client
            .find(Locator::Css("#model"))
            .await
            .unwrap()
            .select_by_value("model=m")
            .await
            .unwrap();
        assert_eq!(
            b.js("return document.getElementById('model').value").await,
            "model=m"
        );
        let rect = b
            .js("const r = document.getElementById('pad').getBoundingClientRect(); return [r.width, r.height]")
            .await;
        assert_eq!(rect, json!([282, 282]), "#pad's size (280 and its border)");

        // A 7 in one stroke, as a hand draws it: the bar from left to right, then down to the
        // left. Offsets are from the pad's centre, in CSS pixels.
        let pad = b.client.find(Locator::Css("#pad")).await.unwrap();
        let to = |x: f64, y: f64, ms: u64| PointerAction::MoveToElement {
            element: pad.clone(),
            duration: Some(Duration::from_millis(ms)),
            x,
            y,
        };
        let seven = MouseActions::new("mouse".into())
            .then(to(-75.0, -85.0, 0))
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(to(-20.0, -88.0, 80))
            .then(to(40.0, -88.0, 80))
            .then(to(75.0, -85.0, 80))
            .then(to(45.0, -20.0, 100))
            .then(to(15.0, 45.0, 100))
            .then(to(-5.0, 100.0, 100))
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        b.client.perform_actions(seven).await.unwrap();

        // The page predicts once the stroke ends.
        let shown = wait_for!(b, "#predicted to show a class", 60, {
            if let Some(error) = b.error_message().await {
                b.screenshot("draw").await;
                panic!("the draw page says: {error}");
            }
            let text = b.text("#predicted").await.unwrap_or_default();
            let set = b.js("return window.lastPrediction !== undefined").await == true;
            (set && text.parse::<usize>().is_ok()).then_some(text)
        });
        let page: Value = serde_json::from_str(
            b.js("return JSON.stringify(window.lastPrediction)")
                .await
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let rtt = b.text("#rtt").await.unwrap();
        println!("draw: predicted {shown}, round trip {rtt}");
        assert!(rtt.ends_with(" ms"), "#rtt: {rtt}");
        assert_eq!(b.count("#bars [data-class]").await, 10);
        assert_eq!(
            b.attr("#bars .bar.top", "data-class").await.as_deref(),
            Some(shown.as_str())
        );

        // The same picture, as PNG, through the command.
        let url = b
            .js("return document.getElementById('pad').toDataURL('image/png')")
            .await;
        let url = url.as_str().unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(url.strip_prefix("data:image/png;base64,").unwrap())
            .unwrap();
        let drawn = dir.path().join("drawn7.png");
        std::fs::write(&drawn, png).unwrap();
        let out = ok(&[
            "predict",
            "--json",
            "--model",
            model.to_str().unwrap(),
            drawn.to_str().unwrap(),
        ]);
        let cli: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(cli["predicted"], page["predicted"]);
        assert_eq!(page["predicted"].to_string(), shown);
        let same = |key: &str, len: usize| {
            let ours = page[key].as_array().unwrap();
            let theirs = cli[key].as_array().unwrap();
            assert_eq!((ours.len(), theirs.len()), (len, len), "{key}");
            for (k, (p, c)) in ours.iter().zip(theirs).enumerate() {
                let (p, c) = (p.as_f64().unwrap(), c.as_f64().unwrap());
                assert!((p - c).abs() <= 1e-6, "{key}[{k}]: page {p}, command {c}");
            }
        };
        same("probs", 10);
        same("input", 784);
        b.screenshot("draw").await;
        assert_eq!(
            page["predicted"], 7,
            "the drawn 7 predicted as {}: probabilities {}",
            page["predicted"], page["probs"]
        );
        b.close().await;
    });
}

#[test]
fn a_study_s_chart_and_report_and_a_run_s_first_layer_and_activations() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let study = runs.join("bs");
    ok(&[
        "--quiet",
        "study",
        "batch-size",
        "--out",
        study.to_str().unwrap(),
        "--sizes",
        "10,100",
        "--seeds",
        "2",
        "--budget",
        "iters:50",
        "--train-eval-rows",
        "1000",
    ]);
    let server = Server::start(&runs, &[]);
    run(async {
        let b = Browser::open(&server).await;
        b.goto("/study/bs").await;
        // Grouped by dataset where study.csv has that column (the page's default), else not
        // grouped: one series of the four rows.
        wait_for!(b, "the study chart", 30, {
            (b.count("#study-chart path.series").await == 1).then_some(())
        });
        let csv = std::fs::read_to_string(study.join("study.csv")).unwrap();
        let header = csv.lines().next().unwrap();
        let group = if header.split(',').any(|c| c == "dataset") {
            "mnist"
        } else {
            "all rows"
        };
        let css = format!("#study-chart path.series[data-id=\"{group}\"]");
        assert_eq!(series_points(&b, &css).await, 4, "{css}");
        assert_eq!(b.count("#study-rows tr").await, 1 + 4);
        // Grouped by seed: one series per seed, two batch sizes each.
        b.client
            .find(Locator::Css("#s-group"))
            .await
            .unwrap()
            .select_by_value("seed")
            .await
            .unwrap();
        wait_for!(b, "one series per seed", 10, {
            (b.count("#study-chart path.series").await == 2).then_some(())
        });
        for seed in ["0", "1"] {
            let css = format!("#study-chart path.series[data-id=\"{seed}\"]");
            assert_eq!(series_points(&b, &css).await, 2, "{css}");
        }
        assert_eq!(b.count("#study-chart circle[r=\"3.2\"]").await, 4);
        let report_text = wait_for!(b, "the report in its iframe", 30, {
            let n = b
                .js("const f = document.querySelector('iframe.report');
                     const d = f && f.contentDocument;
                     return d && d.readyState === 'complete' ? d.body.innerText : ''")
                .await;
            n.as_str().filter(|t| t.len() > 100).map(String::from)
        });
        assert!(report_text.contains("batch"), "{report_text}");
        b.screenshot("study").await;

        // A study's run: an id with slashes.
        let net = "bs/runs/batch-10-seed-0";
        b.goto(&format!("/inside/{net}")).await;
        let (status, body) = server.get(&format!("/api/runs/{net}/inside"));
        if status != 200 {
            b.screenshot("inside").await;
            panic!("GET /api/runs/{net}/inside: {status} {body}");
        }
        let inside: Value = serde_json::from_str(&body).unwrap();
        let units = inside["first_layer"]["weights"].as_array().unwrap().len();
        assert_eq!(units, 50);
        wait_for!(b, "the first layer's weight images", 30, {
            (b.count("#weights figure canvas").await == units).then_some(())
        });
        // Each weight image is a picture, not a blank: more than one colour.
        let blank = b
            .js(
                "return [...document.querySelectorAll('#weights canvas')].filter((c) => {
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   for (let i = 4; i < d.length; i += 4)
                     if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return false;
                   return true;
                 }).length",
            )
            .await;
        assert_eq!(blank, 0, "blank weight images");
        let histograms = inside["histograms"].as_array().unwrap();
        assert!(!histograms.is_empty());
        assert_eq!(b.count("#hists svg").await, histograms.len());
        for (k, h) in histograms.iter().enumerate() {
            let bars = h["counts"].as_array().unwrap().len();
            assert_eq!(b.count(&format!("#hist-{k} rect")).await, bars, "#hist-{k}");
            let tall = b
                .js(&format!(
                    "return [...document.querySelectorAll('#hist-{k} rect')].filter((r) => +r.getAttribute('height') > 0).length"
                ))
                .await;
            assert!(tall.as_u64().unwrap() > 0, "#hist-{k} has no bar");
        }
        b.screenshot("inside").await;
        b.close().await;
    });
}

#[test]
fn a_runs_folder_of_a_thousand_runs_is_listed_whole() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let one = train(dir.path(), "one", &["--iters", "150"]);
    let runs = dir.path().join("runs");
    for k in 0..1000 {
        let copy = runs.join(format!("run-{k:04}"));
        std::fs::create_dir_all(&copy).unwrap();
        // Every file of the run (its weights too: a finished run), hard-linked: cheap.
        for entry in std::fs::read_dir(&one).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::hard_link(entry.path(), copy.join(entry.file_name())).unwrap();
            }
        }
    }
    let server = Server::start(&runs, &[]);
    run(async {
        let b = Browser::open(&server).await;
        b.goto("/").await;
        let drawn_ms = wait_for!(b, "1000 rows", 120, {
            let seen = b
                .js("return [document.querySelectorAll('#runs tbody tr[data-id]').length, performance.now()]")
                .await;
            (seen[0] == 1000).then(|| seen[1].as_f64().unwrap())
        });
        let first_byte_ms = b
            .js("return performance.getEntriesByType('navigation')[0].responseStart")
            .await
            .as_f64()
            .unwrap();
        let api_ms = b
            .js("const e = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/api/runs'));
                 return e ? e.responseEnd - e.startTime : null")
            .await;
        println!(
            "1000 runs: first byte of the page {first_byte_ms:.0} ms, GET /api/runs {} ms, \
             1000 rows in the table {drawn_ms:.0} ms (from navigation start)",
            api_ms.as_f64().map_or("?".into(), |v| format!("{v:.0}"))
        );
        assert_eq!(b.text("#runs-count").await.as_deref(), Some("1000 of 1000"));
        assert_eq!(b.count("#runs tr[data-id=\"run-0999\"]").await, 1);
        let finished = b
            .js("return [...document.querySelectorAll('#runs tbody .badge')].filter((e) => e.textContent === 'finished').length")
            .await;
        assert_eq!(finished, 1000, "rows not shown finished");
        b.screenshot("runs-1000").await;
        b.close().await;
    });
}
