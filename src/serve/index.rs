//! The runs folder as rows: every run and study in it, newest first, each described from its
//! own files (config.json, final.json, live.jsonl, plan.json). A folder that cannot be read
//! becomes a `broken` row saying why; it never fails the listing. Rows are kept between
//! requests and rebuilt only when their folder or live.jsonl changed (or a run was running).

use super::guard::id_of;
use super::watch::{self, LiveSummary};
use crate::run::{RunDir, RunState};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One run or study, as the runs page lists it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Row {
    /// The folder's path under the runs folder, `/`-separated.
    pub id: String,
    /// `run` or `study`.
    pub kind: &'static str,
    /// `finished`, `running`, `interrupted`, `started`, `diverged`, `queued`, `failed` (a run
    /// the page started whose process failed) or `broken`.
    pub state: &'static str,
    /// Why a `broken` row could not be read.
    pub error: Option<String>,
    /// When the folder was made (Unix seconds).
    pub modified: f64,
    pub dataset: Option<String>,
    pub network: Option<String>,
    /// The network's shape in one line (`TwoLayerNet 784-50-10`).
    pub describe: Option<String>,
    pub optimizer: Option<String>,
    pub learning_rate: Option<f64>,
    pub batch_size: Option<u64>,
    pub iters_num: Option<u64>,
    /// Updates made (final, or so far while running).
    pub iterations: Option<u64>,
    pub final_train_acc: Option<f64>,
    pub final_test_acc: Option<f64>,
    /// The last test accuracy measured (a running run's).
    pub last_test_acc: Option<f64>,
    pub train_s: Option<f64>,
    /// Whether model.safetensors is there.
    pub has_model: bool,
    /// A study's kind and number of runs.
    pub study: Option<StudyInfo>,
    /// A running run's process (for a stop request); not sent to pages.
    #[serde(skip)]
    pub pid: Option<u32>,
}

/// What a study row adds.
#[derive(Clone, Debug, Serialize)]
pub struct StudyInfo {
    pub kind: String,
    pub runs: usize,
}

/// How long a listing is served as it is before the folder is looked at again.
pub const FRESH_FOR: Duration = Duration::from_millis(500);

/// The rows of a runs folder, rebuilt only where something changed.
#[derive(Default)]
pub struct Index {
    rows: HashMap<PathBuf, (Stamp, Row)>,
    /// The last listing and when it was made.
    listed: Option<(Instant, Arc<Vec<Row>>)>,
}

/// What must change for a row to be read again.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    folder: Option<SystemTime>,
    live: Option<(u64, SystemTime)>,
}

impl Index {
    /// [`Index::rows`], each row passed through `mark`, or the listing made less than
    /// [`FRESH_FOR`] ago.
    pub fn listing(&mut self, root: &Path, mark: impl Fn(&mut Row)) -> Arc<Vec<Row>> {
        if let Some((made, rows)) = &self.listed {
            if made.elapsed() < FRESH_FOR {
                return rows.clone();
            }
        }
        let mut rows = self.rows(root);
        rows.iter_mut().for_each(mark);
        let rows = Arc::new(rows);
        self.listed = Some((Instant::now(), rows.clone()));
        rows
    }

    /// Every run and study directly in `root` (canonical), newest first.
    pub fn rows(&mut self, root: &Path) -> Vec<Row> {
        let mut seen = HashMap::with_capacity(self.rows.len());
        for path in folders(root) {
            let stamp = stamp(&path);
            let row = match self.rows.remove(&path) {
                Some((old, row)) if old == stamp && row.state != "running" => row,
                _ => read_row(root, &path),
            };
            seen.insert(path, (stamp, row));
        }
        self.rows = seen;
        let mut rows: Vec<Row> = self.rows.values().map(|(_, r)| r.clone()).collect();
        rows.sort_by(|a, b| b.modified.total_cmp(&a.modified).then(a.id.cmp(&b.id)));
        rows
    }
}

/// The folders directly in `root`, hidden ones left out.
pub fn folders(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect()
}

fn stamp(path: &Path) -> Stamp {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let live = std::fs::metadata(RunDir::open(path).live())
        .ok()
        .and_then(|m| Some((m.len(), m.modified().ok()?)));
    Stamp {
        folder: modified(path),
        live,
    }
}

/// The row of the folder at `path`: a study, a run, or broken.
pub fn read_row(root: &Path, path: &Path) -> Row {
    let mut row = Row {
        id: id_of(root, path).unwrap_or_default(),
        modified: created(path),
        ..Row::default()
    };
    if path.join("plan.json").exists() {
        study_row(path, &mut row);
    } else {
        run_row(path, &mut row);
    }
    row
}

/// When `path` was made (its birth time where the file system keeps one, else its last change).
fn created(path: &Path) -> f64 {
    std::fs::metadata(path)
        .and_then(|m| m.created().or_else(|_| m.modified()))
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64())
}

fn broken(row: &mut Row, why: String) {
    row.state = "broken";
    row.error = Some(why);
}

fn study_row(path: &Path, row: &mut Row) {
    row.kind = "study";
    let plan = match read_json(&path.join("plan.json")) {
        Ok(plan) => plan,
        Err(why) => return broken(row, why),
    };
    let kind = plan["study"].as_str().unwrap_or("unknown").to_string();
    let runs = folders(&path.join("runs"));
    let finished = runs
        .iter()
        .filter(|r| r.join("outcome.json").exists())
        .count();
    row.state = if path.join("study.csv").exists() && finished == runs.len() {
        "finished"
    } else {
        "started"
    };
    row.study = Some(StudyInfo {
        kind,
        runs: runs.len(),
    });
}

/// A JSON file, or why it cannot be read (naming it).
pub fn read_json(path: &Path) -> Result<Value, String> {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into());
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))
}

fn run_row(path: &Path, row: &mut Row) {
    row.kind = "run";
    let dir = RunDir::open(path);
    let state = dir.state();
    if state == RunState::Empty {
        // Claimed and loading its data (its marker and temporary files are hidden), or not a
        // run at all.
        let visible = std::fs::read_dir(path).map_or(0, |d| {
            d.filter_map(|e| e.ok())
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .count()
        });
        if visible == 0 {
            row.state = "started";
        } else {
            broken(row, "not a run folder: no config.json".into());
        }
        return;
    }
    let config = match read_json(&dir.config_file()) {
        Ok(config) => config,
        Err(why) => return broken(row, why),
    };
    match dir.settings() {
        Ok(settings) => {
            row.describe = Some(describe(&settings, &config));
        }
        Err(e) => return broken(row, e.to_string()),
    }
    let text = |key: &str| config[key].as_str().map(str::to_string);
    row.dataset = text("dataset");
    row.network = text("network");
    row.optimizer = text("optimizer");
    row.learning_rate = config["learning_rate"].as_f64();
    row.batch_size = config["batch_size"].as_u64();
    row.iters_num = config["iters_num"].as_u64();
    row.has_model = dir.model().is_file();
    row.state = match state {
        RunState::Finished => "finished",
        RunState::Interrupted => "interrupted",
        _ => "started",
    };
    if let Ok(result) = read_json(&dir.final_file()) {
        row.iterations = result["iterations"].as_u64();
        row.final_train_acc = result["final_train_acc"].as_f64();
        row.final_test_acc = result["final_test_acc"].as_f64();
        row.train_s = result["train_s"].as_f64();
    }
    apply_live(row, &watch::summary(path));
}

/// The network in a few words beside its name (`784-50-10 sigmoid`; a conv net's preset name,
/// input and layers: `SimpleConvNet 1x28x28 conv:30x5,pool:2,fc:100 → 10`).
fn describe(settings: &crate::run::TrainSettings, config: &Value) -> String {
    let size = |key: &str| config[key].as_u64().unwrap_or(0) as usize;
    let shape = settings
        .network
        .shape(size("input_size"), size("output_size"));
    let name = settings.network.name();
    let short = shape
        .strip_prefix(name)
        .map_or(shape.as_str(), str::trim_start);
    match config["activation"].as_str() {
        Some(activation) => format!("{short} {activation}"),
        None => short.to_string(),
    }
}

/// What live.jsonl adds: a run still training, how far it got, or that it diverged.
fn apply_live(row: &mut Row, live: &LiveSummary) {
    if live.running {
        row.state = "running";
        row.pid = live.pid;
    } else if live.end.as_deref() == Some("diverged") {
        row.state = "diverged";
    }
    if row.iterations.is_none() || live.running {
        row.iterations = live.iterations.or(row.iterations);
    }
    row.last_test_acc = live.last_test_acc;
}
