//! The design's rules, checked on the source: no import cycle between modules, no source file
//! a reader cannot hold, and a core that builds without the lab's dependencies.
//!
//! Modules are files (`src/run/dir.rs` is `run::dir`). A module uses another when its code
//! names it — in a `use` or inline (`crate::files::write_atomic(…)`, `super::Start`) —,
//! re-exports (`pub use`) and unit tests (`#[cfg(test)]` to the file's end) aside.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The two crates: the core (the book) and the lab around it.
const CRATES: [&str; 2] = ["core/src", "src"];

/// Lines of code a source file may hold (its unit tests aside).
const MAX_LINES: usize = 600;

/// Crates that belong to the lab: the core must not depend on any of them.
const LAB_ONLY: [&str; 12] = [
    "clap",
    "ureq",
    "tar",
    "plotters",
    "png",
    "indicatif",
    "ctrlc",
    "csv",
    "humantime",
    "dirs",
    "safetensors",
    "anyhow",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `run/dir.rs` → ["run", "dir"]; `lib.rs`, `main.rs` → []; `run/mod.rs` → ["run"].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The source without unit tests (from `#[cfg(test)]` on), comments and string contents.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("//")
            || line.starts_with("pub use")
            || line.starts_with("pub(crate) use")
        {
            continue;
        }
        let mut in_string = false;
        for c in line.chars() {
            if c == '"' {
                in_string = !in_string;
            } else if !in_string {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// Every path a piece of code names from `crate`, `super` or `self`, with `use` trees
/// expanded: `use crate::{a::X, b::{Y, Z}}` gives `crate::a::X`, `crate::b::Y`, `crate::b::Z`.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .find(|p| code_at(&chars, i).starts_with(*p))
            .filter(|_| i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'));
        if starts.is_some() {
            let (found, end) = tree(&chars, i, Vec::new());
            paths.extend(found);
            i = end;
        } else {
            i += 1;
        }
    }
    paths
}

fn code_at(chars: &[char], i: usize) -> String {
    chars[i..chars.len().min(i + 8)].iter().collect()
}

/// Reads a path or a `use` tree starting at `i` with `prefix` before it.
fn tree(chars: &[char], mut i: usize, prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let mut path = prefix;
    loop {
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        if i > start {
            path.push(chars[start..i].iter().collect());
        }
        if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
            i += 2;
            if chars.get(i) == Some(&'{') {
                i += 1;
                let mut all = Vec::new();
                loop {
                    while chars.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                        i += 1;
                    }
                    match chars.get(i) {
                        Some('}') | None => return (all, i + 1),
                        _ => {
                            let (found, end) = tree(chars, i, path.clone());
                            all.extend(found);
                            i = end;
                            // skip an `as name`
                            while chars.get(i).is_some_and(|c| *c != ',' && *c != '}') {
                                i += 1;
                            }
                        }
                    }
                }
            }
            continue;
        }
        return (vec![path], i);
    }
}

/// The module a path names: the longest prefix that is a module of the crate.
fn target(from: &[String], path: &[String], modules: &BTreeSet<Vec<String>>) -> Vec<String> {
    let mut resolved: Vec<String> = Vec::new();
    let mut rest = path;
    match path[0].as_str() {
        "crate" => rest = &path[1..],
        "self" | "super" => {
            resolved = from.to_vec();
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "self" => {}
                    "super" => {
                        resolved.pop();
                    }
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        _ => unreachable!(),
    }
    let mut best = resolved.clone();
    for part in rest {
        resolved.push(part.clone());
        if modules.contains(&resolved) {
            best = resolved.clone();
        }
    }
    best
}

/// module → the modules its code uses (itself, its ancestors' re-exports and none aside).
fn import_graph(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let from = module_of(src, file);
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        let uses: BTreeSet<Vec<String>> = paths_in(&code)
            .iter()
            .map(|p| target(&from, p, &modules))
            .filter(|to| *to != from)
            .collect();
        graph.insert(from, uses);
    }
    graph
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<String>> {
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<String>> {
        state.insert(node.clone(), 1);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next) {
                Some(1) => {
                    let at = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle: Vec<String> = stack[at..].iter().map(|m| m.join("::")).collect();
                    cycle.push(next.join("::"));
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, graph, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node) {
            if let Some(c) = visit(node, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    for krate in CRATES {
        let graph = import_graph(&root().join(krate));
        assert!(
            graph.len() > 5,
            "{krate}: only {} modules found",
            graph.len()
        );
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{krate}: import cycle {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_cycle_finder_sees_cycles_through_uses_inline_paths_and_super() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(
        src.join("a/mod.rs"),
        "pub mod x;\nuse crate::b::{Thing, other::{Y}};\n",
    )
    .unwrap();
    std::fs::write(src.join("a/x.rs"), "fn f() { super::super::b::g(); }\n").unwrap();
    std::fs::write(src.join("b.rs"), "fn g() { crate::a::x::h(); }\n").unwrap();
    let graph = import_graph(src);
    let cycle = find_cycle(&graph).expect("b -> a::x -> b");
    assert!(
        cycle.contains(&"b".to_string()) && cycle.contains(&"a::x".to_string()),
        "{cycle:?}"
    );
    // Without b's inline path there is none; a re-export and a test module do not count.
    std::fs::write(
        src.join("b.rs"),
        "pub use crate::a::x::h;\n#[cfg(test)]\nmod tests { use crate::a::x; }\n",
    )
    .unwrap();
    assert_eq!(find_cycle(&import_graph(src)), None);
}

#[test]
fn every_source_file_is_short_enough_to_hold() {
    let mut long = Vec::new();
    for krate in CRATES {
        let mut files = Vec::new();
        rust_files(&root().join(krate), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = match text.find("#[cfg(test)]") {
                Some(at) => &text[..at],
                None => &text,
            };
            let lines = code.lines().count();
            if lines > MAX_LINES {
                long.push(format!("{} ({lines} lines)", file.display()));
            }
        }
    }
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}

#[test]
fn the_core_depends_on_no_crate_of_the_lab() {
    let manifest = std::fs::read_to_string(root().join("core/Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .expect("core/Cargo.toml has dependencies");
    let deps = deps.split("\n[").next().unwrap();
    let names: Vec<&str> = deps
        .lines()
        .filter_map(|l| l.split('=').next())
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .collect();
    assert!(names.contains(&"ndarray"), "{names:?}");
    for lab in LAB_ONLY {
        assert!(!names.contains(&lab), "the core depends on {lab}");
    }
    let lab_manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(
        lab_manifest.contains("scratchnet-core"),
        "the lab uses the core crate"
    );
}
