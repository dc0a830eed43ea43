//! What the browser tests share: chromedriver started on a free port and stopped with the
//! test, a headless Chromium session on a `scratchnet serve`, screenshots, one browser at a time.

use crate::common::ok;
use crate::serve_cli::Server;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Where Debian's chromium package puts the browser.
pub(super) const CHROMIUM: &str = "/usr/bin/chromium";
pub(super) const INSTALL: &str = "install the Debian packages chromium and chromium-driver \
                       (apt-get install -y chromium chromium-driver)";

/// One browser at a time (see the module's comment).
pub(super) static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub(super) fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs a test's browser part on a tokio runtime of its own.
pub(super) fn run<F: std::future::Future<Output = ()>>(test: F) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(test)
}

/// Polls `$check` (an expression giving an `Option`, which may `.await`) every 100 ms until it
/// gives `Some(value)`, and returns that value; fails after `$secs` seconds, with what the page
/// shows.
macro_rules! wait_for {
    ($browser:expr, $what:expr, $secs:expr, $check:expr) => {{
        let start = Instant::now();
        loop {
            if let Some(value) = $check {
                break value;
            }
            if start.elapsed() > Duration::from_secs($secs) {
                panic!(
                    "waited {} s for {}; the page: {}",
                    $secs,
                    $what,
                    $browser.page_state().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }};
}

/// `chromedriver` on PATH.
fn chromedriver() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("chromedriver"))
            .find(|file| file.is_file())
    })
}

/// On a machine without them, installs Chromium and its WebDriver from Debian's archive where
/// that can be done here (apt-get, as root), saying so: `cargo test` does its own set-up, as it
/// fetches MNIST. Elsewhere the tests fail naming what to install.
fn install_once() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        if chromedriver().is_some() && Path::new(CHROMIUM).is_file() || !root {
            return;
        }
        let apt = |args: &[&str]| {
            eprintln!("browser tests: apt-get {}", args.join(" "));
            Command::new("apt-get")
                .args(args)
                .status()
                .is_ok_and(|s| s.success())
        };
        let packages = ["install", "-y", "chromium", "chromium-driver"];
        if !apt(&packages) {
            apt(&["update"]);
            apt(&packages);
        }
    });
}

/// `chromedriver --port=N` on a free port, in a process group of its own: dropping it ends
/// chromedriver and the Chromium it started, even when a test failed half-way.
pub(super) struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub(super) fn start() -> Driver {
        install_once();
        let Some(chromedriver) = chromedriver() else {
            panic!("chromedriver is not on PATH: the browser tests need it; {INSTALL}");
        };
        assert!(
            Path::new(CHROMIUM).is_file(),
            "{CHROMIUM} is missing: the browser tests need it; {INSTALL}"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", chromedriver.display()));
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("chromedriver --port={port} ended at once ({status})");
            }
            let ready = TcpStream::connect(("127.0.0.1", port)).is_ok()
                && ureq::get(&format!("{url}/status"))
                    .call()
                    .ok()
                    .and_then(|r| r.into_string().ok())
                    .and_then(|s| serde_json::from_str::<Value>(&s).ok())
                    .is_some_and(|s| s["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver not ready on port {port} after 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browser processes it started.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// A headless Chromium opened on a `scratchnet serve`.
pub(super) struct Browser {
    pub(super) client: Client,
    base: String,
    token: String,
    // Dropped after the client: ends chromedriver and Chromium.
    _driver: Driver,
}

impl Browser {
    pub(super) async fn open(server: &Server) -> Browser {
        let driver = Driver::start();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2000"],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("no Chromium session through chromedriver: {e}"));
        Browser {
            client,
            base: server.base.clone(),
            token: server.token.clone(),
            _driver: driver,
        }
    }

    /// Opens the page at `route` (`/`, `/run/<id>`…) as the address the server printed does,
    /// with `?token=` (the page keeps it and removes it from the address bar).
    pub(super) async fn goto(&self, route: &str) {
        let url = format!("{}/?token={}#{route}", self.base, self.token);
        self.client.goto(&url).await.unwrap();
    }

    /// The value of the JavaScript `body` (a function body: `return …`).
    pub(super) async fn js(&self, body: &str) -> Value {
        self.client
            .execute(body, vec![])
            .await
            .unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    /// How many elements match `css`.
    pub(super) async fn count(&self, css: &str) -> usize {
        self.js(&format!(
            "return document.querySelectorAll({}).length",
            json!(css)
        ))
        .await
        .as_u64()
        .unwrap() as usize
    }

    /// The text of the first element matching `css`, if there is one.
    pub(super) async fn text(&self, css: &str) -> Option<String> {
        self.js(&format!(
            "const e = document.querySelector({}); return e ? e.textContent : null",
            json!(css)
        ))
        .await
        .as_str()
        .map(|s| s.trim().to_string())
    }

    /// An attribute of the first element matching `css`, if there is one.
    pub(super) async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.js(&format!(
            "const e = document.querySelector({}); return e ? e.getAttribute({}) : null",
            json!(css),
            json!(name)
        ))
        .await
        .as_str()
        .map(String::from)
    }

    /// Clicks the element matching `css`, as a user does (WebDriver's element click).
    pub(super) async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} to click: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Types `text` into the input matching `css` (emptied first).
    pub(super) async fn fill(&self, css: &str, text: &str) {
        let input = self.client.find(Locator::Css(css)).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    /// The address's route, the message area and the start of the page's text: what a failed
    /// wait shows.
    pub(super) async fn page_state(&self) -> String {
        self.js(
            "const m = document.getElementById('message');
             return `route ${location.hash}; message ${m && !m.hidden ? JSON.stringify(m.textContent) : 'none'}; page: `
               + (document.getElementById('app') || document.body).innerText.slice(0, 600)",
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// The message area's text when it shows an error.
    pub(super) async fn error_message(&self) -> Option<String> {
        self.js("const m = document.getElementById('message');
             return m && !m.hidden && m.classList.contains('error') ? m.textContent : null")
            .await
            .as_str()
            .map(String::from)
    }

    /// Saves what the window shows as target/browser-shots/<name>.png.
    pub(super) async fn screenshot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-shots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub(super) async fn close(self) {
        self.client.close().await.unwrap();
    }
}

/// The points of an SVG path's `d` (`M…L…L…`).
pub(super) fn points(d: &str) -> usize {
    d.matches(['M', 'L']).count()
}

/// The points of the first `path.series` matching `css`, 0 if there is none.
pub(super) async fn series_points(b: &Browser, css: &str) -> usize {
    b.attr(css, "d").await.map_or(0, |d| points(&d))
}

/// The update a run's page says it is at ("12,345 / 200,000 updates"), if it says.
pub(super) async fn updates_shown(b: &Browser) -> Option<u64> {
    let text = b.text("#progress-box").await?;
    let (done, _) = text.split_once(" / ")?;
    done.trim().replace(',', "").parse().ok()
}

/// `scratchnet --quiet train --iters N … --out runs/<id>`.
pub(super) fn train(runs: &Path, id: &str, extra: &[&str]) -> PathBuf {
    let out = runs.join(id);
    let mut args = vec!["--quiet", "train", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    ok(&args);
    out
}
