//! The cache's files are verified by content on every load; a bad one is set aside, never
//! deleted, and fetched again.

use super::*;

/// A cache filled from the fake folder source, and that source.
fn filled_cache() -> (tempfile::TempDir, tempfile::TempDir, Source) {
    let (src, source) = source_dir();
    let cache = tempfile::tempdir().unwrap();
    fetch_files(
        DatasetKind::Mnist,
        &specs(),
        cache.path(),
        std::slice::from_ref(&source),
        &Silent,
    )
    .unwrap();
    (src, cache, source)
}

/// The names in `dir` that are a rejected `name` set aside.
fn set_aside(dir: &Path, name: &str) -> Vec<String> {
    let prefix = format!("{name}.rejected-");
    names_in(dir)
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

/// Every warning a fetch gave.
#[derive(Default)]
struct Warnings(Mutex<Vec<String>>);

impl Progress for Warnings {
    fn warn(&self, text: &str) {
        self.0.lock().unwrap().push(text.to_string());
    }
}

#[test]
fn a_flipped_byte_of_the_right_size_is_caught_set_aside_and_fetched_again() {
    let (_src, cache, source) = filled_cache();
    let path = cache.path().join("a-images");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let warnings = Warnings::default();
    let (fetched, contents) = fetch_verified(
        DatasetKind::Mnist,
        &specs(),
        cache.path(),
        std::slice::from_ref(&source),
        &warnings,
    )
    .unwrap();
    assert!(!fetched.files[0].was_cached && fetched.files[1].was_cached);
    assert_eq!(contents[0], fake_files()[0].1);
    assert_eq!(std::fs::read(&path).unwrap(), fake_files()[0].1);
    let aside = set_aside(cache.path(), "a-images");
    assert_eq!(aside.len(), 1, "{:?}", names_in(cache.path()));
    assert_eq!(std::fs::read(cache.path().join(&aside[0])).unwrap(), bytes);
    let warnings = warnings.0.into_inner().unwrap();
    assert_eq!(warnings.len(), 1);
    let expected = &specs()[0].sha256[..16];
    for part in [
        "a-images does not match the checksum the catalog has for it",
        expected,
        &aside[0],
        "fetching it again",
    ] {
        assert!(warnings[0].contains(part), "{part} in {}", warnings[0]);
    }
}

#[test]
fn with_no_source_a_bad_file_is_refused_and_kept_aside() {
    let (_src, cache, _) = filled_cache();
    let path = cache.path().join("b-images");
    std::fs::write(&path, b"short").unwrap();
    let err = fetch_files(DatasetKind::Mnist, &specs(), cache.path(), &[], &Silent).unwrap_err();
    let (failures, msg) = all_failed(err);
    assert!(
        failures[0].reason.contains("5 bytes where the catalog has"),
        "{msg}"
    );
    let aside = set_aside(cache.path(), "b-images");
    assert!(msg.contains(&aside[0]), "{msg}");
    assert_eq!(
        std::fs::read(cache.path().join(&aside[0])).unwrap(),
        b"short"
    );
    // A second rejection in the same second never overwrites the first.
    std::fs::write(&path, b"other").unwrap();
    fetch_files(DatasetKind::Mnist, &specs(), cache.path(), &[], &Silent).unwrap_err();
    let aside = set_aside(cache.path(), "b-images");
    assert_eq!(aside.len(), 2, "{aside:?}");
}

#[test]
fn gzip_content_is_accepted_under_the_raw_name_or_a_gz_name_and_kept() {
    let (_src, cache, _) = filled_cache();
    let files = fake_files();
    let raw_name = cache.path().join("a-images");
    std::fs::write(&raw_name, gzip(&files[0].1)).unwrap();
    // Raw content under a `.gz` name, the raw name absent.
    std::fs::remove_file(cache.path().join("a-labels")).unwrap();
    let gz_name = cache.path().join("a-labels.gz");
    std::fs::write(&gz_name, &files[1].1).unwrap();
    let (fetched, contents) =
        fetch_verified(DatasetKind::Mnist, &specs(), cache.path(), &[], &Silent).unwrap();
    assert_eq!(contents[0], files[0].1);
    assert_eq!(contents[1], files[1].1);
    assert_eq!(fetched.files[1].path, gz_name);
    assert_eq!(std::fs::read(&raw_name).unwrap(), gzip(&files[0].1));
    assert!(set_aside(cache.path(), "a-images").is_empty());
}

#[test]
fn a_link_to_the_users_copy_is_read_and_if_bad_only_the_link_moves() {
    let (_src, cache, source) = filled_cache();
    let own = tempfile::tempdir().unwrap();
    let files = fake_files();
    let good = own.path().join("mine-good");
    let bad = own.path().join("mine-bad");
    std::fs::write(&good, &files[0].1).unwrap();
    std::fs::write(&bad, b"my own notes").unwrap();
    let link = |name: &str, target: &Path| {
        let path = cache.path().join(name);
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(target, &path).unwrap();
    };
    link("a-images", &good);
    link("a-labels", &bad);
    let (fetched, _) = fetch_verified(
        DatasetKind::Mnist,
        &specs(),
        cache.path(),
        std::slice::from_ref(&source),
        &Silent,
    )
    .unwrap();
    assert!(fetched.files[0].was_cached);
    assert!(cache
        .path()
        .join("a-images")
        .symlink_metadata()
        .unwrap()
        .is_symlink());
    assert_eq!(std::fs::read(&bad).unwrap(), b"my own notes");
    assert_eq!(std::fs::read(&good).unwrap(), files[0].1);
    let aside = set_aside(cache.path(), "a-labels");
    let moved = cache.path().join(&aside[0]);
    assert_eq!(std::fs::read_link(&moved).unwrap(), bad);
    assert_eq!(
        std::fs::read(cache.path().join("a-labels")).unwrap(),
        files[1].1
    );
}

#[test]
fn the_stamp_is_utc_and_free_of_colons() {
    let t = std::time::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
    assert_eq!(super::super::quarantine::utc_stamp(t), "20261130T005320Z");
}
