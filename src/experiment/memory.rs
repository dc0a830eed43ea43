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

    /// Set in the copy of the test binary that [`alone`] starts.
    const ALONE: &str = "SCRATCHNET_MEMORY_TEST_ALONE";

    /// Runs the test `name` (of this module) again in a process of its own, with [`ALONE`] set
    /// and one test thread, and checks that it ran and passed there: the peak is the whole
    /// process's, so other tests allocating, freeing or resetting it at the same time in this
    /// process would disturb what the test measures.
    fn alone(name: &str) {
        let module = module_path!().split_once("::").expect("crate::module").1;
        let test = format!("{module}::{name}");
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &test, "--test-threads=1", "--nocapture"])
            .env(ALONE, "1")
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success() && stdout.contains("test result: ok. 1 passed"),
            "{test} alone:\n{stdout}\n{stderr}"
        );
    }

    #[test]
    fn a_large_allocation_raises_the_peak_and_reset_brings_it_back() {
        match std::env::var_os(ALONE) {
            None => alone("a_large_allocation_raises_the_peak_and_reset_brings_it_back"),
            Some(_) => allocate_measure_and_reset(),
        }
    }

    /// The measurement itself, in a process where nothing else runs.
    fn allocate_measure_and_reset() {
        const BLOCK: u64 = 64 << 20;
        let before = current_bytes().expect("/proc/self/status has VmRSS on Linux");
        let block = std::hint::black_box(vec![1u8; BLOCK as usize]);
        let peak = peak_bytes().unwrap();
        assert!(
            peak >= before + BLOCK - (4 << 20),
            "peak {peak} before {before}"
        );
        drop(block);
        assert!(reset_peak());
        let after = peak_bytes().unwrap();
        assert!(
            after < before + BLOCK / 4,
            "after the reset the peak is {after}, before the block {before}"
        );
    }
}
