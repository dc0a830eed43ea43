//! The Debian-archive source on a fake `.deb` served from the loopback.

use super::super::deb::extract_deb;
use super::*;
use scratchnet_core::data::catalog::DebPackage;

/// A `.deb` as Debian builds one: `debian-binary`, `control.tar.xz`, then `data.tar.xz`
/// holding the fake files under `usr/share/fake/`, the odd ones gzip-compressed.
fn fake_deb() -> Vec<u8> {
    let tar_xz = |entries: &[(String, Vec<u8>)]| {
        let xz = xz2::write::XzEncoder::new(Vec::new(), 1);
        let mut builder = tar::Builder::new(xz);
        for (path, bytes) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, &bytes[..]).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    };
    let data: Vec<(String, Vec<u8>)> = fake_files()
        .into_iter()
        .enumerate()
        .map(|(i, (spec, bytes))| match i % 2 {
            0 => (format!("./usr/share/fake/{}", spec.name), bytes),
            _ => (format!("./usr/share/fake/{}.gz", spec.name), gzip(&bytes)),
        })
        .collect();
    let control = tar_xz(&[("./control".into(), b"Package: fake\n".to_vec())]);
    let mut builder = ar::Builder::new(Vec::new());
    for (name, bytes) in [
        ("debian-binary", b"2.0\n".to_vec()),
        ("control.tar.xz", control),
        ("data.tar.xz", tar_xz(&data)),
    ] {
        let header = ar::Header::new(name.as_bytes().to_vec(), bytes.len() as u64);
        builder.append(&header, &bytes[..]).unwrap();
    }
    builder.into_inner().unwrap()
}

/// A catalog entry for `deb` served at `url`, pinned to its true size and SHA-256.
fn deb_package(deb: &[u8], url: String) -> DebPackage {
    DebPackage {
        package: "fake",
        version: "1.0-1",
        url: Box::leak(url.into_boxed_str()),
        sha256: Box::leak(format!("{:x}", Sha256::digest(deb)).into_boxed_str()),
        size: deb.len() as u64,
        dir: "usr/share/fake",
    }
}

#[test]
fn files_come_out_of_a_deb_downloaded_from_the_archive() {
    let deb = fake_deb();
    let (port, server) = serve_once(deb.clone());
    let package = deb_package(
        &deb,
        format!("http://127.0.0.1:{port}/pool/fake_1.0-1_all.deb"),
    );
    let cache = tempfile::tempdir().unwrap();
    let fetched = fetch_files(
        DatasetKind::FashionMnist,
        &specs(),
        cache.path(),
        &[Source::Deb(package)],
        &Silent,
    )
    .unwrap();
    let request = server.join().unwrap();
    assert!(
        request.starts_with("GET /pool/fake_1.0-1_all.deb "),
        "{request}"
    );
    for ((spec, bytes), file) in fake_files().iter().zip(&fetched.files) {
        assert_eq!(&std::fs::read(cache.path().join(spec.name)).unwrap(), bytes);
        assert_eq!(file.origin, "Debian package fake 1.0-1");
    }
    assert_eq!(names_in(cache.path()).len(), 8, "no .deb left in the cache");
}

#[test]
fn a_short_deb_is_the_sources_failure_named_with_its_size() {
    let deb = fake_deb();
    let (port, server) = serve_once(deb[..deb.len() / 2].to_vec());
    let package = deb_package(&deb, format!("http://127.0.0.1:{port}/fake.deb"));
    let cache = tempfile::tempdir().unwrap();
    let err = fetch_files(
        DatasetKind::FashionMnist,
        &specs(),
        cache.path(),
        &[Source::Deb(package)],
        &Silent,
    )
    .unwrap_err();
    server.join().unwrap();
    let (failures, msg) = all_failed(err);
    assert_eq!(failures.len(), 1, "{msg}");
    assert_eq!(failures[0].source, "Debian package fake 1.0-1");
    let expected = format!(
        "the .deb from http://127.0.0.1:{port}/fake.deb is {} bytes, expected {}",
        deb.len() / 2,
        deb.len()
    );
    assert_eq!(failures[0].reason, expected, "{msg}");
    assert!(names_in(cache.path()).is_empty());
}

#[test]
fn a_corrupt_deb_is_the_sources_failure_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let deb = dir.path().join("broken.deb");
    // Not an ar archive at all, then an ar archive whose data is cut short.
    let mut cut = fake_deb();
    cut.truncate(cut.len() - 200);
    for bytes in [b"this is not a .deb".to_vec(), cut] {
        std::fs::write(&deb, &bytes).unwrap();
        let mut tally = Tally::default();
        let result = extract_deb(
            &deb,
            "usr/share/fake",
            &specs(),
            cache.path(),
            "deb",
            &Silent,
            &mut tally,
        );
        assert!(
            matches!(result, Err(Failure::Source(ref why)) if why.contains("broken.deb")),
            "{result:?}"
        );
    }
}
