//! Peak memory of a run: Linux's high-water mark of resident memory (`VmHWM`), which can be
//! reset between runs (`/proc/self/clear_refs`), so each run of a study gets its own peak.

/// Resets the process's peak resident memory to its current size (Linux); false elsewhere.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's peak resident memory in bytes since start or the last [`reset_peak`]
/// (Linux; `None` where `/proc/self/status` has no `VmHWM`).
pub fn peak_bytes() -> Option<u64> {
    status_kib("VmHWM:").map(|kib| kib * 1024)
}

/// The process's current resident memory in bytes (Linux).
pub fn current_bytes() -> Option<u64> {
    status_kib("VmRSS:").map(|kib| kib * 1024)
}

fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_allocation_raises_the_peak_and_reset_brings_it_back() {
        let before = current_bytes().expect("/proc/self/status has VmRSS on Linux");
        let block = std::hint::black_box(vec![1u8; 64 << 20]);
        let peak = peak_bytes().unwrap();
        assert!(peak >= before + (60 << 20), "peak {peak} before {before}");
        drop(block);
        assert!(reset_peak());
        assert!(peak_bytes().unwrap() < peak);
    }
}
