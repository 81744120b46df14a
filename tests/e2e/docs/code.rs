//! What `docs/ARCHITECTURE.md` says of the code and the code keeps: only the edges do I/O,
//! the runtime dependencies are the five, and every document the code cites exists.

use std::path::{Path, PathBuf};

use super::{anchors, document};
use crate::harness::*;

/// The files of `src/` that may do I/O (a path, or a directory's prefix), as
/// `docs/ARCHITECTURE.md` says: everything else is data to data.
const IO_MODULES: [&str; 7] = [
    "src/main.rs",
    "src/log.rs",
    "src/output.rs",
    "src/file.rs",
    "src/config/files.rs",
    "src/zitadel/client.rs",
    "src/zitadel/net.rs",
];

/// What doing I/O looks like in Rust: files, sockets, name lookups, the process's streams,
/// its environment, other processes, and the C library.
const IO_MARKERS: [&str; 12] = [
    "std::fs",
    "File::",
    "TcpStream",
    "UdpSocket",
    "to_socket_addrs",
    "stdin()",
    "stdout()",
    "stderr()",
    "std::env",
    "std::process",
    "extern \"C\"",
    "ureq::Agent",
];

/// Every `.rs` file under `dir`, by path from the root.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn only_the_edges_do_io() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for path in files {
        let name = path.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        if IO_MODULES.iter().any(|module| name.starts_with(module)) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Tests may do what they like: the code is what comes before its test module.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for line in code.lines().filter(|line| !line.trim_start().starts_with("//")) {
            for marker in IO_MARKERS {
                assert!(!line.contains(marker), "{name} does I/O ({marker}): {line}");
            }
        }
    }
}

#[test]
fn the_runtime_dependencies_are_the_five() {
    let manifest = document("Cargo.toml");
    let section = manifest.split("\n[dependencies]\n").nth(1).expect("[dependencies]");
    let section = section.split("\n[").next().unwrap();
    let names: Vec<&str> = section
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| line.split([' ', '=']).next().unwrap())
        .collect();
    assert_eq!(names, ["anyhow", "lexopt", "serde", "serde_json", "ureq"]);
}

/// The documents under `docs/` that `text` cites, each with the heading it names after `#`.
fn cited_documents(text: &str) -> Vec<(String, Option<String>)> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut cited = Vec::new();
    for (at, _) in text.match_indices("docs/") {
        let rest = &text[at + "docs/".len()..];
        let name_end = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
        let Some(after) = rest[name_end..].strip_prefix(".md") else { continue };
        let file = format!("docs/{}.md", &rest[..name_end]);
        let anchor = after
            .strip_prefix('#')
            .map(|a| a[..a.find(|c| !word(c)).unwrap_or(a.len())].to_string());
        cited.push((file, anchor));
    }
    cited
}

#[test]
fn every_document_the_code_cites_has_the_section_cited() {
    let mut files = Vec::new();
    for dir in ["src", "fake-zitadel", "examples", "tests", "build.rs"] {
        let path = root().join(dir);
        if path.is_dir() { rust_files(&path, &mut files) } else { files.push(path) }
    }
    let mut citations = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for (file, anchor) in cited_documents(&text) {
            let name = path.strip_prefix(root()).unwrap().display().to_string();
            let target = root().join(&file);
            assert!(target.exists(), "{name} cites {file}, which does not exist");
            if let Some(anchor) = anchor {
                let headings = anchors(&std::fs::read_to_string(&target).unwrap());
                assert!(
                    headings.contains(&anchor),
                    "{name} cites {file}#{anchor}: no such heading"
                );
            }
            citations += 1;
        }
    }
    assert!(citations >= 5, "the fake cites docs/zitadel-api.md: {citations} citations found");
}
