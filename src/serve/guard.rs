//! What keeps the server safe to leave running: the token that every state-changing request
//! must carry, the rule on which addresses may be bound without one, and the resolution of a
//! request's path to a file that is inside the runs folder — never outside it.

use rand::RngCore;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A fresh random token: 16 bytes from the operating system's generator, as 32 hex digits.
pub fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `given` is the token; compares every byte whatever the first difference, so the
/// time taken says nothing about how much of a guess was right.
pub fn token_matches(token: &str, given: Option<&str>) -> bool {
    let Some(given) = given else { return false };
    let (a, b) = (token.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Refuses to serve `host` without a token unless it is a loopback address: anyone who can
/// reach the port could otherwise start runs and stop them.
pub fn check_bind(host: IpAddr, with_token: bool) -> Result<(), String> {
    if with_token || host.is_loopback() {
        return Ok(());
    }
    Err(format!(
        "refusing to serve on {host} without a token: anyone who can reach it could start and \
         stop runs. Bind 127.0.0.1 (the default) or drop --no-token"
    ))
}

/// The path under `root` (already canonical) that `relative` names, when it is a plain relative
/// path whose every part is a name (no `..`, `.`, empty part, hidden name, backslash or NUL) and
/// that, symlinks followed, exists inside `root`. Anything else is `None`: the caller answers
/// 404 and says nothing of what lies outside.
pub fn resolve(root: &Path, relative: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = relative.split('/').collect();
    let plain =
        |p: &&str| !p.is_empty() && !p.starts_with('.') && !p.contains('\\') && !p.contains('\0');
    if relative.is_empty() || !parts.iter().all(plain) {
        return None;
    }
    let joined = parts
        .iter()
        .fold(root.to_path_buf(), |path, p| path.join(p));
    let real = joined.canonicalize().ok()?;
    real.starts_with(root).then_some(real)
}

/// The id of `path` (a folder under `root`): its path relative to `root`, `/`-separated.
pub fn id_of(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative.iter().map(|p| p.to_str()).collect();
    Some(parts?.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_passes() {
        let token = new_token();
        assert_eq!(token.len(), 32);
        assert_ne!(token, new_token());
        assert!(token_matches(&token, Some(&token)));
        assert!(!token_matches(&token, None));
        assert!(!token_matches(&token, Some("")));
        assert!(!token_matches(&token, Some(&token[..31])));
        assert!(!token_matches(&token, Some(&format!("{token}0"))));
    }

    #[test]
    fn other_addresses_need_a_token() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        assert!(check_bind(loopback, false).is_ok());
        assert!(check_bind("::1".parse().unwrap(), false).is_ok());
        assert!(check_bind(any, true).is_ok());
        let refused = check_bind(any, false).unwrap_err();
        assert!(refused.contains("0.0.0.0"), "{refused}");
    }

    #[test]
    fn paths_stay_inside_the_runs_folder() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("runs");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/report.html"), "r").unwrap();
        std::fs::write(root.join("a/.scratchnet"), "run").unwrap();
        std::fs::write(outer.path().join("secret.txt"), "s").unwrap();
        std::os::unix::fs::symlink(outer.path().join("secret.txt"), root.join("a/link")).unwrap();
        std::os::unix::fs::symlink(outer.path(), root.join("up")).unwrap();
        std::os::unix::fs::symlink(root.join("a/b"), root.join("inside")).unwrap();
        let root = root.canonicalize().unwrap();
        let found = resolve(&root, "a/b/report.html").unwrap();
        assert_eq!(std::fs::read_to_string(found).unwrap(), "r");
        assert!(resolve(&root, "inside/report.html").is_some());
        for bad in [
            "",
            "../secret.txt",
            "a/../../secret.txt",
            "a/./b/report.html",
            "a//b/report.html",
            "/etc/passwd",
            "a\\..\\..\\secret.txt",
            "a/.scratchnet",
            "a/link",
            "up/secret.txt",
            "a/b/missing.html",
            "a/b/report.html\0",
        ] {
            assert_eq!(resolve(&root, bad), None, "{bad:?} must be refused");
        }
        assert_eq!(id_of(&root, &root.join("a/b")).as_deref(), Some("a/b"));
    }
}
