//! `scratchnet serve`: the lab in the browser. A local web server over a runs folder: every run
//! and study listed and compared, a running run's curves live, runs started and stopped from a
//! form, a digit drawn and predicted, the first layer and the activations looked inside.
//!
//! Everything the pages need is in this binary (`assets`); the server reads the runs folder's
//! files and never writes into it itself: a run started here is `scratchnet train` in a child
//! process ([`jobs`]). See [`api`] for the HTTP routes; `guard` for what keeps it safe.

mod api;
mod assets;
mod detail;
mod error;
mod guard;
mod index;
mod jobs;
mod models;
mod watch;

use crate::data::FetchOptions;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// How the server is started.
#[derive(Clone, Debug)]
pub struct Options {
    /// The runs folder (made if missing).
    pub runs: PathBuf,
    /// The address to listen on (127.0.0.1: this machine only).
    pub host: IpAddr,
    /// The port (0: any free one).
    pub port: u16,
    /// `false` only with `--no-token` (loopback only).
    pub token: bool,
    /// Runs trained at once; the others wait in a queue.
    pub max_jobs: usize,
    /// Where datasets are cached (for evaluations, histograms and started runs).
    pub data: FetchOptions,
}

/// Runs trained at once by default: one per two cores (a run's products use two), at least one.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// What every request shares.
pub struct App {
    /// The runs folder, canonical.
    root: PathBuf,
    /// The token state-changing requests carry (`None`: `--no-token`).
    token: Option<String>,
    index: Mutex<index::Index>,
    jobs: jobs::Jobs,
    models: models::Models,
    data: FetchOptions,
    /// Bounds the expensive work (evaluating a model, loading a dataset) done at once.
    heavy: Arc<tokio::sync::Semaphore>,
}

impl App {
    /// Waits for a turn at expensive work.
    async fn heavy_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, error::ApiError> {
        self.heavy
            .clone()
            .acquire_owned()
            .await
            .map_err(error::ApiError::internal)
    }
}

/// Serves until the process is stopped; `on_ready` gets the page's address (with the token)
/// once the port is open.
pub fn serve(options: Options, on_ready: impl FnOnce(&str)) -> crate::Result<()> {
    // A server outlives its readers: a client gone mid-answer, or a closed standard output,
    // must be an error on that write, not the end of the server (the command line restores
    // SIGPIPE's default, which ends the program, for `scratchnet … | head`).
    // SAFETY: setting a signal's disposition has no memory effects.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    crate::console::outlive_readers();
    guard::check_bind(options.host, options.token).map_err(crate::Error::Refused)?;
    std::fs::create_dir_all(&options.runs).map_err(|e| crate::Error::io(&options.runs, e))?;
    let root = options
        .runs
        .canonicalize()
        .map_err(|e| crate::Error::io(&options.runs, e))?;
    let exe = std::env::current_exe().map_err(|e| crate::Error::io("the scratchnet binary", e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| crate::Error::io("the server's threads", e))?;
    runtime.block_on(async move {
        let address = SocketAddr::new(options.host, options.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| crate::Error::io(address.to_string(), e))?;
        let bound = listener
            .local_addr()
            .map_err(|e| crate::Error::io(address.to_string(), e))?;
        let token = options.token.then(guard::new_token);
        let app = Arc::new(App {
            root,
            index: Mutex::new(index::Index::default()),
            jobs: jobs::Jobs::new(exe, options.max_jobs),
            models: models::Models::default(),
            data: options.data,
            heavy: Arc::new(tokio::sync::Semaphore::new(2)),
            token: token.clone(),
        });
        let host = match bound.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let url = match &token {
            Some(token) => format!("http://{host}:{}/?token={token}", bound.port()),
            None => format!("http://{host}:{}/", bound.port()),
        };
        // Read the runs folder now, so the first page does not wait for it.
        let warm = app.clone();
        tokio::task::spawn_blocking(move || warm.rows());
        on_ready(&url);
        axum::serve(listener, api::router(app))
            .await
            .map_err(|e| crate::Error::io(address.to_string(), e))
    })
}
