//! The pages, their script and style, embedded in the binary (`assets/serve/`): the server
//! needs no file beside it and nothing from the internet.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../../assets/serve/index.html");
const APP_CSS: &str = include_str!("../../assets/serve/app.css");

/// The scripts, by name: index.html loads them in this order (app.js last, it starts the page).
const SCRIPTS: [(&str, &str); 6] = [
    ("charts.js", include_str!("../../assets/serve/charts.js")),
    ("runs.js", include_str!("../../assets/serve/runs.js")),
    ("run.js", include_str!("../../assets/serve/run.js")),
    ("study.js", include_str!("../../assets/serve/study.js")),
    ("draw.js", include_str!("../../assets/serve/draw.js")),
    ("app.js", include_str!("../../assets/serve/app.js")),
];

/// `GET /`: the single page.
pub async fn index() -> Response {
    page(INDEX, "text/html; charset=utf-8")
}

/// `GET /assets/<name>`: the scripts and the style.
pub async fn asset(Path(name): Path<String>) -> Response {
    if name == "app.css" {
        return page(APP_CSS, "text/css; charset=utf-8");
    }
    match SCRIPTS.iter().find(|(script, _)| *script == name) {
        Some((_, body)) => page(body, "text/javascript; charset=utf-8"),
        None => super::error::ApiError::not_found("such asset").into_response(),
    }
}

fn page(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The content type of a runs-folder file, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match extension.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" | "jsonl" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "txt" | "log" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
