//! The HTTP routes (see the README's `serve` section for the contract):
//!
//! ```text
//! GET  /  /assets/app.js  /assets/app.css     the pages, embedded
//! GET  /api/info  /api/runs  /api/models  /api/jobs
//! GET  /api/runs/<id>[/events | /live | /evaluation | /inside]
//! GET  /api/studies/<id>          GET /files/<id>/<file>
//! POST /api/predict?model=<id>    (the drawing as PNG)
//! POST /api/jobs  /api/runs/<id>/stop  /api/runs/<id>/resume      (token)
//! ```
//!
//! Every error is a status with `{"error": "…"}`. Work that reads files or computes runs on
//! the blocking pool, never on the threads that answer requests.

use super::error::ApiError;
use super::{detail, guard, jobs, App};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// The largest request body: a drawing's PNG, or a job's arguments.
pub const MAX_BODY: usize = 2 << 20;

/// How often an event stream looks for new lines.
const POLL: Duration = Duration::from_millis(100);

type Answer = Result<Response, ApiError>;

/// Every route of the server over `app`.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(super::assets::index))
        .route("/assets/{name}", get(super::assets::asset))
        .route("/api/info", get(info))
        .route("/api/runs", get(runs))
        .route("/api/runs/{*rest}", get(run_get).post(run_post))
        .route("/api/studies/{*id}", get(study))
        .route("/api/models", get(models))
        .route("/api/predict", post(predict))
        .route("/api/jobs", get(jobs_list).post(jobs_submit))
        .route("/files/{*path}", get(file))
        .fallback(|| async { ApiError::not_found("such page") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(refuse_large))
        .with_state(app)
}

/// Answers 413 at once to a request that declares a body over [`MAX_BODY`], before reading it
/// (a body without a declared length is cut at the limit as it is read).
async fn refuse_large(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_BODY as u64 => ApiError::too_large(format!(
            "the request's body is {length} bytes; at most {MAX_BODY}"
        ))
        .into_response(),
        _ => next.run(request).await,
    }
}

/// Runs `work` on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
}

async fn info(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "runs_dir": app.root,
        "max_jobs": app.jobs.max(),
    }))
}

/// `/api/runs`'s answer.
#[derive(serde::Serialize)]
struct Listing<'a> {
    runs: &'a [super::index::Row],
}

async fn runs(State(app): State<Arc<App>>) -> Answer {
    let rows = blocking(move || Ok(app.rows())).await?;
    Ok(Json(Listing { runs: &rows }).into_response())
}

/// `GET /api/runs/<id>[/events|/live|/evaluation|/inside]`.
async fn run_get(
    State(app): State<Arc<App>>,
    Path(rest): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let (id, action) = split_action(&rest, &["events", "live", "evaluation", "inside"]);
    let from = query.get("from").and_then(|f| f.parse().ok()).unwrap_or(0);
    let id = id.to_string();
    match action {
        "events" => events(app, id, from).await,
        "live" => {
            let path = app.run_path(&id)?;
            blocking(move || Ok(live_page(&path, from))).await
        }
        "evaluation" => {
            let _permit = app.heavy_permit().await?;
            blocking(move || Ok(Json(app.evaluation(&id)?.as_ref()).into_response())).await
        }
        "inside" => {
            let _permit = app.heavy_permit().await?;
            blocking(move || Ok(Json(app.inside(&id)?).into_response())).await
        }
        _ => blocking(move || Ok(Json(app.detail(&id)?).into_response())).await,
    }
}

/// `/live?from=`: `{"lines":[…],"next":N,"running":bool}`. The lines go out as the trainer
/// wrote them, each checked to be JSON (a line that is not is left out) but not parsed into
/// values and printed again: a poller catching up on a long run costs a copy, not a rebuild.
fn live_page(path: &std::path::Path, from: u64) -> Response {
    let (lines, next) = super::watch::lines_from(path, from);
    let valid = lines
        .iter()
        .filter(|l| serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok());
    let mut body = String::from("{\"lines\":[");
    for (k, line) in valid.enumerate() {
        if k > 0 {
            body.push(',');
        }
        body.push_str(line);
    }
    let running = super::watch::running(path);
    body.push_str(&format!("],\"next\":{next},\"running\":{running}}}"));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `rest` split into an id and its last part when that is one of `actions` (`""` otherwise).
fn split_action<'a>(rest: &'a str, actions: &[&'a str]) -> (&'a str, &'a str) {
    match rest.rsplit_once('/') {
        Some((id, last)) if actions.contains(&last) => (id, last),
        _ => (rest, ""),
    }
}

/// A run's live.jsonl from `from` on, as server-sent events, until its `end` line (or its
/// process is gone without one, and no job of the server's is about to start it: then
/// `{"end":"failed"}`, or the end its log last recorded).
async fn events(app: Arc<App>, id: String, from: u64) -> Answer {
    let path = app.run_path(&id)?;
    let state = (app, id, path, from, false);
    let stream = futures_util::stream::unfold(state, |(app, id, path, from, done)| async move {
        if done {
            return None;
        }
        let starting = || app.jobs.active(&id).is_some();
        let (events, next, ended) = next_events(path.clone(), from, starting).await?;
        Some((events, (app, id, path, next, ended)))
    })
    .flat_map(|events| futures_util::stream::iter(events.into_iter().map(Ok::<_, Infallible>)));
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The next lines of the run at `path` from `from` (waiting for some, also while `starting`
/// says a job is loading the run's trainer), one event each; the offset after them; whether the
/// stream ends with them.
async fn next_events(
    path: std::path::PathBuf,
    mut from: u64,
    starting: impl Fn() -> bool,
) -> Option<(Vec<Event>, u64, bool)> {
    for idle in 0u64.. {
        let p = path.clone();
        let (lines, next, summary) = tokio::task::spawn_blocking(move || {
            let (lines, next) = super::watch::lines_from(&p, from);
            // Whether the trainer still lives, asked every second of silence.
            let summary = (lines.is_empty() && idle % 10 == 9).then(|| super::watch::summary(&p));
            (lines, next, summary)
        })
        .await
        .ok()?;
        from = next;
        if !lines.is_empty() {
            let ended = lines.iter().any(|l| l.starts_with("{\"end\""));
            let events = lines
                .into_iter()
                .map(|l| Event::default().data(l))
                .collect();
            return Some((events, from, ended));
        }
        if let Some(summary) = summary.filter(|s| !s.running && !starting()) {
            let end = summary.end.unwrap_or_else(|| "failed".into());
            let event = Event::default().data(json!({ "end": end }).to_string());
            return Some((vec![event], from, true));
        }
        tokio::time::sleep(POLL).await;
    }
    None
}

/// `POST /api/runs/<id>/stop` and `/resume`.
async fn run_post(
    State(app): State<Arc<App>>,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> Answer {
    app.check_token(&headers)?;
    let (id, action) = split_action(&rest, &["stop", "resume"]);
    let id = id.to_string();
    match action {
        "stop" => blocking(move || app.stop(&id)).await,
        "resume" => blocking(move || app.resume(&id)).await,
        _ => Err(ApiError::not_found("such action (stop or resume)")),
    }
}

async fn study(State(app): State<Arc<App>>, Path(id): Path<String>) -> Answer {
    blocking(move || {
        let path = app.run_path(&id)?;
        let row = super::index::read_row(&app.root, &path);
        Ok(Json(detail::study(&app.root, &path, row)?).into_response())
    })
    .await
}

async fn models(State(app): State<Arc<App>>) -> Answer {
    let rows = blocking(move || Ok(app.rows())).await?;
    Ok(Json(json!({ "models": detail::models(&rows) })).into_response())
}

#[derive(Deserialize)]
struct PredictQuery {
    model: String,
    #[serde(default)]
    file: Option<String>,
}

async fn predict(
    State(app): State<Arc<App>>,
    Query(query): Query<PredictQuery>,
    body: Bytes,
) -> Answer {
    let _permit = app.heavy_permit().await?;
    blocking(move || {
        let best = query.file.as_deref() == Some("best");
        Ok(Json(app.predict(&query.model, best, &body)?).into_response())
    })
    .await
}

async fn jobs_list(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({ "jobs": app.jobs.list() }))
}

#[derive(Deserialize)]
struct JobRequest {
    args: Vec<String>,
}

async fn jobs_submit(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Answer {
    app.check_token(&headers)?;
    let request: JobRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the request is not {{\"args\": [...]}}: {e}")))?;
    jobs::check_args(&request.args).map_err(ApiError::bad)?;
    let job = blocking(move || app.start(request.args)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "job": job }))).into_response())
}

/// `GET /files/<id>/<file>`: a file of the runs folder, nothing outside it.
async fn file(State(app): State<Arc<App>>, Path(path): Path<String>) -> Answer {
    let found = guard::resolve(&app.root, &path)
        .filter(|p| p.is_file())
        .ok_or_else(|| ApiError::not_found("such file in the runs folder"))?;
    let bytes = tokio::fs::read(&found)
        .await
        .map_err(|e| ApiError::internal(format!("{path}: {e}")))?;
    let kind = super::assets::content_type(&path);
    Ok(([(header::CONTENT_TYPE, kind)], bytes).into_response())
}
