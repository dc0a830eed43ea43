//! Reading a run's `live.jsonl` (written by [`crate::run::live`]): whether the run is still
//! training, how far it got, and the lines added since an offset — what the live curves and the
//! event stream are made of.

use crate::run::RunDir;
use serde_json::Value;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The most bytes one read of new lines returns (a watcher far behind catches up in steps).
pub const MAX_CHUNK: u64 = 1 << 20;

/// How far a run got, from the end of its live.jsonl.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveSummary {
    /// A `begin` line, no `end` line, and its process alive.
    pub running: bool,
    pub pid: Option<u32>,
    pub iterations: Option<u64>,
    pub last_test_acc: Option<f64>,
    /// The `end` line's word.
    pub end: Option<String>,
}

/// The summary of `run/live.jsonl` (the default when there is none).
pub fn summary(run: &Path) -> LiveSummary {
    let path = RunDir::open(run).live();
    let Ok(mut file) = std::fs::File::open(&path) else {
        return LiveSummary::default();
    };
    let mut head = [0u8; 512];
    let n = file.read(&mut head).unwrap_or(0);
    let pid = begin_pid(&head[..n]);
    // The last updates and measurement are in the last few kilobytes.
    let len = file.metadata().map_or(0, |m| m.len());
    let mut tail = Vec::new();
    let from = len.saturating_sub(16 << 10);
    if file.seek(SeekFrom::Start(from)).is_ok() {
        let _ = file.read_to_end(&mut tail);
    }
    let mut summary = LiveSummary {
        pid,
        ..LiveSummary::default()
    };
    let text = String::from_utf8_lossy(&tail);
    // The first line of the tail may be cut: only whole lines parse.
    for line in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        if let Some(i) = line["i"].as_u64() {
            summary.iterations = Some(i);
        } else if let Some(acc) = line["epoch"]["test_acc"].as_f64() {
            summary.last_test_acc = Some(acc);
        } else if let Some(end) = line["end"].as_str() {
            summary.end = Some(end.to_string());
        }
    }
    summary.running = summary.end.is_none() && pid.is_some_and(alive);
    summary
}

/// Whether the run at `run` is training: [`summary`]'s `running`, from the file's first and
/// last line only (cheap enough for every poll).
pub fn running(run: &Path) -> bool {
    let path = RunDir::open(run).live();
    let Ok(mut file) = std::fs::File::open(&path) else {
        return false;
    };
    let mut head = [0u8; 512];
    let n = file.read(&mut head).unwrap_or(0);
    let len = file.metadata().map_or(0, |m| m.len());
    let mut tail = Vec::new();
    if file.seek(SeekFrom::Start(len.saturating_sub(64))).is_ok() {
        let _ = file.read_to_end(&mut tail);
    }
    let ended = String::from_utf8_lossy(&tail).contains("{\"end\":");
    !ended && begin_pid(&head[..n]).is_some_and(alive)
}

/// The `pid` of a live file's first line, from the file's first bytes.
fn begin_pid(head: &[u8]) -> Option<u32> {
    String::from_utf8_lossy(head)
        .lines()
        .next()
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .and_then(|v| v["begin"]["pid"].as_u64())
        .and_then(|p| u32::try_from(p).ok())
}

/// Whether process `pid` is alive and is scratchnet (a pid reused by another program is not
/// our run).
pub fn alive(pid: u32) -> bool {
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => cmdline
            .split(|&b| b == 0)
            .next()
            .is_some_and(|exe| String::from_utf8_lossy(exe).contains("scratchnet")),
        // Without /proc, ask the kernel whether the process exists.
        Err(_) => !Path::new("/proc/self").exists() && signal(pid, 0),
    }
}

/// Sends `signal` to `pid`; whether it was delivered.
pub fn signal(pid: u32, signal: i32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill has no memory effects; a positive pid names one process.
    pid > 0 && unsafe { libc::kill(pid, signal) } == 0
}

/// The most bytes of a live file a run's page reads for its curves (a hundred million updates'
/// worth is not a file a run writes).
pub const MAX_WHOLE: u64 = 256 << 20;

/// The whole lines of `run/live.jsonl` from byte `from` on (at most [`MAX_CHUNK`] bytes), and
/// the offset just after the last of them.
pub fn lines_from(run: &Path, from: u64) -> (Vec<String>, u64) {
    lines_within(run, from, MAX_CHUNK)
}

/// Every whole line of `run/live.jsonl` (at most [`MAX_WHOLE`] bytes), and the offset after
/// them.
pub fn all_lines(run: &Path) -> (Vec<String>, u64) {
    lines_within(run, 0, MAX_WHOLE)
}

fn lines_within(run: &Path, from: u64, limit: u64) -> (Vec<String>, u64) {
    let path = RunDir::open(run).live();
    let Ok(mut file) = std::fs::File::open(path) else {
        return (Vec::new(), from);
    };
    let len = file.metadata().map_or(0, |m| m.len());
    // A file rewritten shorter (a resumed attempt) starts over.
    let from = if from > len { 0 } else { from };
    if from == len || file.seek(SeekFrom::Start(from)).is_err() {
        return (Vec::new(), from);
    }
    let mut bytes = Vec::new();
    let _ = file.take(limit).read_to_end(&mut bytes);
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let lines = String::from_utf8_lossy(&bytes[..whole])
        .lines()
        .map(str::to_string)
        .collect();
    (lines, from + whole as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_reads_the_last_lines_and_whether_the_process_lives() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(summary(dir.path()), LiveSummary::default());
        let me = std::process::id();
        let live = RunDir::open(dir.path()).live();
        let mut text = format!("{{\"begin\":{{\"pid\":{me}}}}}\n");
        for i in 1..=2000 {
            text.push_str(&format!("{{\"i\":{i},\"loss\":0.5,\"t\":1.0}}\n"));
        }
        text.push_str("{\"epoch\":{\"test_acc\":0.75}}\n{\"i\":2001,\"loss\":0.4,\"t\":2.0}\n");
        std::fs::write(&live, &text).unwrap();
        let s = summary(dir.path());
        assert_eq!(s.pid, Some(me));
        assert_eq!(s.iterations, Some(2001));
        assert_eq!(s.last_test_acc, Some(0.75));
        // The test binary's name holds "scratchnet": alive, no end line, running.
        assert!(s.running, "{s:?}");
        assert!(running(dir.path()));
        text.push_str("{\"end\":\"stopped\"}\n");
        std::fs::write(&live, &text).unwrap();
        let s = summary(dir.path());
        assert!(!s.running);
        assert!(!running(dir.path()));
        assert_eq!(s.end.as_deref(), Some("stopped"));
        // A pid that is not a scratchnet process is not running.
        assert!(!alive(u32::MAX));
        assert!(!alive(1));
    }

    #[test]
    fn lines_come_whole_from_an_offset() {
        let dir = tempfile::tempdir().unwrap();
        let live = RunDir::open(dir.path()).live();
        std::fs::write(&live, "{\"i\":1}\n{\"i\":2}\n{\"i\":").unwrap();
        let (lines, next) = lines_from(dir.path(), 0);
        assert_eq!(lines, ["{\"i\":1}", "{\"i\":2}"]);
        assert_eq!(next, 16);
        assert_eq!(lines_from(dir.path(), next), (vec![], 16));
        std::fs::write(&live, "{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n").unwrap();
        assert_eq!(lines_from(dir.path(), next), (vec!["{\"i\":3}".into()], 24));
        // Rewritten shorter: read again from the start.
        std::fs::write(&live, "{\"b\":1}\n").unwrap();
        assert_eq!(lines_from(dir.path(), 24), (vec!["{\"b\":1}".into()], 8));
    }
}
