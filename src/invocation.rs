//! How the user runs this program, for hints that name a command: `cargo run --release --`
//! when it runs from a Cargo build folder, and the program's own name when it is installed.

use std::path::Path;

/// The words that start a command the way the user invoked this program: `cargo run
/// --release --` (or `cargo run --` for a debug build) when the executable sits in a Cargo
/// project's `target/release` or `target/debug`, its file name otherwise (`scratchnet` once
/// installed with `cargo install --path .`).
pub fn invocation() -> String {
    match std::env::current_exe() {
        Ok(exe) => invocation_for(&exe),
        Err(_) => env!("CARGO_PKG_NAME").to_string(),
    }
}

/// [`invocation`] for the executable at `exe`.
pub fn invocation_for(exe: &Path) -> String {
    if let Some(profile) = cargo_profile(exe) {
        return match profile {
            "release" => "cargo run --release --".to_string(),
            _ => "cargo run --".to_string(),
        };
    }
    exe.file_stem()
        .and_then(|name| name.to_str())
        .unwrap_or(env!("CARGO_PKG_NAME"))
        .to_string()
}

/// "release" or "debug" when `exe` lies inside `<project>/target/<profile>` (its `deps`
/// included) and `<project>` holds a Cargo.toml; None otherwise.
fn cargo_profile(exe: &Path) -> Option<&str> {
    exe.ancestors().skip(1).find_map(|dir| {
        let profile = dir.file_name()?.to_str()?;
        let target = dir.parent()?;
        let is_build = matches!(profile, "release" | "debug")
            && target.file_name()? == "target"
            && target.parent()?.join("Cargo.toml").is_file();
        is_build.then_some(profile)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_in_a_cargo_target_folder_is_run_through_cargo() {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(project.path().join("Cargo.toml"), "[package]\n").unwrap();
        let release = project.path().join("target/release/scratchnet");
        assert_eq!(invocation_for(&release), "cargo run --release --");
        let debug = project.path().join("target/debug/deps/scratchnet-0123");
        assert_eq!(invocation_for(&debug), "cargo run --");
    }

    #[test]
    fn an_installed_binary_is_run_by_its_name() {
        assert_eq!(
            invocation_for(Path::new("/home/me/.cargo/bin/scratchnet")),
            "scratchnet"
        );
        // A target/release folder outside a Cargo project is not a build folder.
        let dir = tempfile::tempdir().unwrap();
        let copied = dir.path().join("target/release/scratchnet");
        assert_eq!(invocation_for(&copied), "scratchnet");
    }
}
