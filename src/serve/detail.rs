//! What the pages show of one run or study, read from its files; and the server's actions on
//! runs (start, stop, resume), which go through [`super::jobs`].

use super::error::ApiError;
use super::index::{read_json, Row};
use super::{guard, jobs, watch, App};
use crate::run::RunDir;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use scratchnet_core::train::{EpochRecord, History};
use serde::Serialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A run's page: its row, files and curves.
#[derive(Serialize)]
pub struct RunDetail {
    row: Row,
    config: Option<Value>,
    #[serde(rename = "final")]
    final_result: Option<Value>,
    curves: Curves,
    figures: Vec<String>,
    report: Option<String>,
    live: Live,
}

/// A run's losses and accuracies (the live file's while it exists, else iters.csv/epochs.csv).
#[derive(Default, Serialize)]
pub struct Curves {
    iter_per_epoch: Option<u64>,
    batch_size: Option<u64>,
    /// Update numbers, from 1.
    iteration: Vec<u64>,
    /// Each update's mini-batch loss (`null` where it was not finite).
    loss: Vec<Option<f64>>,
    /// Seconds since the run began, at each update.
    t: Vec<f64>,
    epochs: Vec<EpochRecord>,
}

#[derive(Serialize)]
struct Live {
    running: bool,
    /// Where `/events` goes on from.
    offset: u64,
}

impl App {
    /// Every row of the runs folder, marked by the page's jobs (queued, failed): read again at most
    /// every [`super::index::FRESH_FOR`], however many pages ask.
    pub fn rows(&self) -> Arc<Vec<Row>> {
        let mut index = self.index.lock().unwrap_or_else(|e| e.into_inner());
        index.listing(&self.root, |row| self.jobs.mark(row))
    }

    /// The folder of run or study `id`, refused unless it is a folder inside the runs folder.
    pub fn run_path(&self, id: &str) -> Result<PathBuf, ApiError> {
        guard::resolve(&self.root, id)
            .filter(|p| p.is_dir())
            .ok_or_else(|| ApiError::not_found(&format!("run or study {id:?} in the runs folder")))
    }

    /// Refuses a state-changing request without the token.
    pub fn check_token(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let given = headers.get("x-token").and_then(|v| v.to_str().ok());
        if guard::token_matches(token, given) {
            return Ok(());
        }
        Err(ApiError::unauthorized(
            "this needs the token printed when the server started (header X-Token)",
        ))
    }

    /// Run `id`'s page.
    pub fn detail(&self, id: &str) -> Result<RunDetail, ApiError> {
        let path = self.run_path(id)?;
        let dir = RunDir::open(&path);
        let row = super::index::read_row(&self.root, &path);
        let config = read_json(&dir.config_file()).ok();
        let (curves, offset) = curves(&dir, config.as_ref());
        let url = |file: &Path| {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            format!("/files/{id}/{}", name.unwrap_or_default())
        };
        let report = dir.report();
        Ok(RunDetail {
            live: Live {
                running: row.state == "running",
                offset,
            },
            report: report.is_file().then(|| url(&report)),
            final_result: read_json(&dir.final_file()).ok(),
            figures: dir.figures().iter().map(|f| url(f)).collect(),
            row,
            config,
            curves,
        })
    }

    /// Starts a run with `train args…` in a new folder of the runs folder.
    pub fn start(&self, args: Vec<String>) -> Result<jobs::Job, ApiError> {
        let folder = RunDir::new_folder_in(&self.root).map_err(ApiError::internal)?;
        let id = guard::id_of(&self.root, &folder).ok_or_else(|| ApiError::internal("run id"))?;
        let args = jobs::train_args(&folder, &args, &self.data);
        Ok(self.jobs.submit(id, args))
    }

    /// What Ctrl-C does to run `id`: its job's process, or a run started from the command line
    /// (its live.jsonl names the process), gets SIGINT, saves a checkpoint and stops.
    pub fn stop(&self, id: &str) -> Result<Response, ApiError> {
        let path = self.run_path(id)?;
        if self.jobs.stop(id) {
            return Ok(Json(json!({ "stopping": true })).into_response());
        }
        let live = watch::summary(&path);
        match live.pid.filter(|_| live.running) {
            Some(pid) if watch::signal(pid, libc::SIGINT) => {
                Ok(Json(json!({ "stopping": true })).into_response())
            }
            _ => Err(ApiError::conflict(format!("run {id} is not training"))),
        }
    }

    /// Continues the interrupted run `id` (`train --resume`).
    pub fn resume(&self, id: &str) -> Result<Response, ApiError> {
        let path = self.run_path(id)?;
        if self.jobs.active(id).is_some() || watch::summary(&path).running {
            return Err(ApiError::conflict(format!("run {id} is already training")));
        }
        if !RunDir::open(&path).has_checkpoint() {
            return Err(ApiError::conflict(format!(
                "run {id} has no checkpoint to resume from"
            )));
        }
        let args = jobs::resume_args(&path, &self.data);
        let job = self.jobs.submit(id.to_string(), args);
        Ok((axum::http::StatusCode::CREATED, Json(json!({ "job": job }))).into_response())
    }
}

/// The curves of the run in `dir`, and the live file's length they were read at.
fn curves(dir: &RunDir, config: Option<&Value>) -> (Curves, u64) {
    let mut curves = Curves {
        iter_per_epoch: config.and_then(|c| c["iter_per_epoch"].as_u64()),
        batch_size: config.and_then(|c| c["batch_size"].as_u64()),
        ..Curves::default()
    };
    let (lines, offset) = watch::all_lines(dir.path());
    if !lines.is_empty() {
        for line in lines
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        {
            if let Some(i) = line["i"].as_u64() {
                curves.iteration.push(i);
                curves.loss.push(line["loss"].as_f64());
                curves.t.push(line["t"].as_f64().unwrap_or(0.0));
            } else if let Ok(e) = serde_json::from_value(line["epoch"].clone()) {
                curves.epochs.push(e);
            }
        }
        return (curves, offset);
    }
    // A run from before live.jsonl: its CSV files, the times spread between measurements.
    let [iters, epochs] = dir.curve_files();
    let history = History {
        train_loss_list: read_csv::<(u64, f64)>(&iters)
            .into_iter()
            .map(|(_, loss)| loss)
            .collect(),
        epochs: read_csv(&epochs),
        ..History::default()
    };
    curves.t = crate::run::live::update_times(&history);
    curves.iteration = (1..=history.train_loss_list.len() as u64).collect();
    curves.loss = history
        .train_loss_list
        .iter()
        .map(|&l| l.is_finite().then_some(l))
        .collect();
    curves.epochs = history.epochs;
    (curves, 0)
}

/// The rows of a CSV file with a header (none where it is missing or unreadable).
fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> Vec<T> {
    let Ok(mut reader) = csv::Reader::from_path(path) else {
        return Vec::new();
    };
    reader.deserialize().filter_map(|r| r.ok()).collect()
}

/// A study's page: its plan, its table (study.csv), its runs and report.
pub fn study(root: &Path, path: &Path, row: Row) -> Result<Value, ApiError> {
    if row.kind != "study" {
        return Err(ApiError::not_found("study there (no plan.json)"));
    }
    let id = row.id.clone();
    let (columns, rows) = match csv::Reader::from_path(path.join("study.csv")) {
        Ok(mut reader) => {
            let columns: Vec<String> = reader
                .headers()
                .map(|h| h.iter().map(str::to_string).collect())
                .unwrap_or_default();
            let rows: Vec<Vec<Value>> = reader
                .records()
                .filter_map(|r| r.ok())
                .map(|r| r.iter().map(cell).collect())
                .collect();
            (columns, rows)
        }
        Err(_) => (Vec::new(), Vec::new()),
    };
    let mut runs: Vec<String> = super::index::folders(&path.join("runs"))
        .iter()
        .filter_map(|p| guard::id_of(root, p))
        .collect();
    runs.sort();
    Ok(json!({
        "row": row,
        "plan": read_json(&path.join("plan.json")).ok(),
        "columns": columns,
        "rows": rows,
        "runs": runs,
        "report": path.join("report.html").is_file().then(|| format!("/files/{id}/report.html")),
    }))
}

/// A CSV cell as a JSON number when it is one, else as text (empty: null).
fn cell(text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => json!(x),
        _ => json!(text),
    }
}

/// The models a drawing can be predicted with: every run's final weights (and best ones).
pub fn models(rows: &[Row]) -> Vec<Value> {
    rows.iter()
        .filter(|r| r.has_model)
        .map(|r| {
            json!({
                "id": r.id, "file": "model", "dataset": r.dataset, "network": r.network,
                "describe": r.describe, "final_test_acc": r.final_test_acc,
            })
        })
        .collect()
}
