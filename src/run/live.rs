//! `live.jsonl`: a run's progress as it trains, one JSON object per line, for whoever watches
//! the folder (`scratchnet serve`). The run writes it; nothing reads it back to train.
//!
//! ```text
//! {"begin":{"pid":4242,"iteration":0,"iters_num":10000,"iter_per_epoch":600,"batch_size":100,
//!           "unix_s":1796615016.1}}
//! {"i":1,"loss":2.2978,"t":0.0012}       update 1 done, t seconds after the run began
//! {"epoch":{"epoch":1,"iteration":600,…}}  an accuracy measurement (an EpochRecord)
//! {"end":"finished"}                       or "stopped" (resumable), "diverged"
//! ```
//!
//! A fresh or resumed attempt rewrites the file whole (atomically): its `begin` line, then the
//! history restored so far, so the file always describes this attempt's run from update 1.
//! Lines are buffered and flushed at most every [`FLUSH_EVERY`] (and at every measurement and
//! at the end): a watcher is never more than that behind, and a step costs no system call.

use crate::files::write_atomic;
use crate::Error;
use scratchnet_core::train::{EpochRecord, History};
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a written line may wait in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// The first line: who trains and how far it goes.
#[derive(Clone, Debug, Serialize)]
pub struct Begin {
    /// The training process (a stop request is a SIGINT to it).
    pub pid: u32,
    /// Updates already made when this attempt began (a resumed run's checkpoint).
    pub iteration: usize,
    /// Updates the run makes in all.
    pub iters_num: usize,
    /// Updates per epoch.
    pub iter_per_epoch: usize,
    /// Images per update.
    pub batch_size: usize,
    /// The Unix time at which `t` is 0 (set by [`LiveLog::start`]): a watcher's lag behind
    /// the trainer is its clock minus `unix_s + t` of the last line it has.
    pub unix_s: f64,
}

/// How a run's attempt ended, the last line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Every update made; the results are written.
    Finished,
    /// Stopped with a checkpoint, resumable.
    Stopped,
    /// The loss diverged.
    Diverged,
}

impl End {
    fn as_str(self) -> &'static str {
        match self {
            End::Finished => "finished",
            End::Stopped => "stopped",
            End::Diverged => "diverged",
        }
    }
}

/// The writer of a run's `live.jsonl`. Failing to write it never fails the run: the first
/// error is kept ([`LiveLog::failed`]) and the log stops.
pub struct LiveLog {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    began: Instant,
    /// Seconds of the run before this attempt (a resumed run's clock goes on).
    t0: f64,
    flushed: Instant,
    failed: Option<Error>,
}

impl LiveLog {
    /// Starts the file at `path` (a run's [`super::RunDir::live`]) afresh: `begin`, then every
    /// update and measurement of `history` (a resumed run's; their times spread between its
    /// measurements).
    pub fn start(path: &Path, mut begin: Begin, history: &History) -> LiveLog {
        let path = path.to_path_buf();
        let mut log = LiveLog {
            file: None,
            began: Instant::now(),
            t0: history.last().map_or(0.0, |e| e.elapsed_s),
            flushed: Instant::now(),
            failed: None,
            path,
        };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        begin.unix_s = now.map_or(0.0, |d| d.as_secs_f64()) - log.t0;
        let text = history_lines(&begin, history);
        let opened = write_atomic(&log.path, text.as_bytes()).and_then(|()| {
            OpenOptions::new()
                .append(true)
                .open(&log.path)
                .map_err(|e| Error::io(&log.path, e))
        });
        match opened {
            Ok(file) => log.file = Some(BufWriter::with_capacity(1 << 16, file)),
            Err(e) => log.failed = Some(e),
        }
        log
    }

    /// Update `iteration` (from 1) is done with mini-batch loss `loss`.
    pub fn step(&mut self, iteration: usize, loss: f64) {
        let t = self.t0 + self.began.elapsed().as_secs_f64();
        self.write(format_args!(
            "{{\"i\":{iteration},\"loss\":{},\"t\":{t:.4}}}\n",
            json_number(loss)
        ));
        if self.flushed.elapsed() >= FLUSH_EVERY {
            self.flush();
        }
    }

    /// An accuracy measurement.
    pub fn measured(&mut self, record: &EpochRecord) {
        let line = serde_json::to_string(record).expect("an EpochRecord serialises");
        self.write(format_args!("{{\"epoch\":{line}}}\n"));
        self.flush();
    }

    /// The attempt ended so.
    pub fn end(&mut self, end: End) {
        self.write(format_args!("{{\"end\":\"{}\"}}\n", end.as_str()));
        self.flush();
        self.file = None;
    }

    /// The first error met writing the log, if any (the log stopped there).
    pub fn failed(&mut self) -> Option<Error> {
        self.failed.take()
    }

    fn write(&mut self, line: std::fmt::Arguments) {
        let Some(file) = &mut self.file else { return };
        if let Err(e) = file.write_fmt(line) {
            self.stop(e);
        }
    }

    /// Writes what is buffered to the file, for watchers.
    pub fn flush(&mut self) {
        self.flushed = Instant::now();
        let Some(file) = &mut self.file else { return };
        if let Err(e) = file.flush() {
            self.stop(e);
        }
    }

    fn stop(&mut self, e: std::io::Error) {
        self.file = None;
        self.failed.get_or_insert(Error::io(&self.path, e));
    }
}

/// A loss as JSON: JSON has no NaN or infinity, so those become `null`.
fn json_number(x: f64) -> JsonNumber {
    JsonNumber(x)
}

struct JsonNumber(f64);

impl std::fmt::Display for JsonNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_finite() {
            write!(f, "{}", self.0)
        } else {
            f.write_str("null")
        }
    }
}

/// The begin line and `history`'s updates and measurements in order, each update's time spread
/// linearly between the measurements around it.
fn history_lines(begin: &Begin, history: &History) -> String {
    let mut text = format!(
        "{{\"begin\":{}}}\n",
        serde_json::to_string(begin).expect("Begin serialises")
    );
    let times = update_times(history);
    let mut epochs = history.epochs.iter().peekable();
    for (i, (&loss, t)) in history.train_loss_list.iter().zip(times).enumerate() {
        while let Some(e) = epochs.next_if(|e| e.iteration < i) {
            push_epoch(&mut text, e);
        }
        text.push_str(&format!(
            "{{\"i\":{},\"loss\":{},\"t\":{t:.4}}}\n",
            i + 1,
            json_number(loss)
        ));
    }
    for e in epochs {
        push_epoch(&mut text, e);
    }
    text
}

fn push_epoch(text: &mut String, e: &EpochRecord) {
    let line = serde_json::to_string(e).expect("an EpochRecord serialises");
    text.push_str(&format!("{{\"epoch\":{line}}}\n"));
}

/// The wall-clock time (seconds since the run began) at the end of each update of `history`:
/// its measurements' `elapsed_s`, linearly between them (a run's files keep no time per update).
pub fn update_times(history: &History) -> Vec<f64> {
    let marks: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain(
            history
                .epochs
                .iter()
                .map(|e| ((e.iteration + 1) as f64, e.elapsed_s)),
        )
        .collect();
    let n = history.train_loss_list.len();
    let last = *marks.last().expect("one mark at least");
    // After the last measurement, go on at the pace of the updates timed so far.
    let pace = if last.0 > 0.0 { last.1 / last.0 } else { 0.0 };
    (1..=n)
        .map(|i| {
            let x = i as f64;
            match marks.windows(2).find(|w| x <= w[1].0) {
                Some(w) if w[1].0 > w[0].0 => {
                    w[0].1 + (w[1].1 - w[0].1) * (x - w[0].0) / (w[1].0 - w[0].0)
                }
                Some(w) => w[1].1,
                None => last.1 + pace * (x - last.0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize, iteration: usize, elapsed_s: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            iteration,
            samples_seen: (iteration + 1) * 10,
            train_acc: 0.5,
            test_acc: 0.5,
            elapsed_s,
            train_s: elapsed_s / 2.0,
            val_acc: None,
        }
    }

    #[test]
    fn update_times_run_between_the_measurements() {
        let history = History {
            train_loss_list: vec![1.0; 6],
            epochs: vec![record(0, 0, 1.0), record(1, 3, 4.0)],
            ..History::default()
        };
        let t = update_times(&history);
        // Marks: update 1 at 1 s, update 4 at 4 s; past the last, 1 s per update.
        assert_eq!(t, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn a_restarted_log_holds_the_history_then_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let history = History {
            train_loss_list: vec![2.5, f64::NAN],
            epochs: vec![record(0, 0, 0.5)],
            ..History::default()
        };
        let begin = Begin {
            pid: 7,
            iteration: 2,
            iters_num: 4,
            iter_per_epoch: 2,
            batch_size: 10,
            unix_s: 0.0,
        };
        let live = dir.path().join("live.jsonl");
        let mut log = LiveLog::start(&live, begin, &history);
        log.step(3, 1.25);
        log.end(End::Stopped);
        assert!(log.failed().is_none());
        let text = std::fs::read_to_string(&live).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 6, "{text}");
        assert_eq!(lines[0]["begin"]["pid"], 7);
        assert_eq!(lines[0]["begin"]["iteration"], 2);
        assert_eq!(lines[1]["i"], 1);
        assert_eq!(lines[1]["loss"], 2.5);
        // Measured after update 1 (iteration 0 counts from 0).
        assert_eq!(lines[2]["epoch"]["iteration"], 0);
        assert_eq!(lines[3]["loss"], serde_json::Value::Null);
        assert_eq!(lines[4]["i"], 3);
        assert!(lines[4]["t"].as_f64().unwrap() >= 0.5);
        assert_eq!(lines[5]["end"], "stopped");
    }
}
