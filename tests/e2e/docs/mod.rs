//! The documents hold to the program: the README and every file of `docs/` (see each
//! submodule), every link between them leads to a file and a heading, every document the
//! code cites has the heading cited, and the README fits on a screen or five.

mod code;
mod deploy;
mod recipes;

use std::path::{Path, PathBuf};

use crate::harness::*;

/// The longest the README may grow: what it holds beyond that belongs in `docs/`.
const README_MAX_LINES: usize = 250;

/// A fenced block of a document: its language and its text.
struct Block {
    language: String,
    text: String,
}

/// A document of the repository, by its path from the root.
fn document(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fenced blocks of a whole document.
fn blocks_of(path: &str) -> Vec<Block> {
    fenced_blocks(&document(path))
}

/// The fenced blocks of the section of `path` that starts with `heading` and ends at the next
/// heading of the same level.
fn blocks_of_section(path: &str, heading: &str) -> Vec<Block> {
    let text = document(path);
    let start = text.find(&format!("\n{heading}\n")).expect("the section exists");
    let section = &text[start + 1..];
    let level = &heading[..heading.find(' ').unwrap() + 1];
    let next = format!("\n{level}");
    fenced_blocks(&section[..section[1..].find(&next).map_or(section.len(), |end| end + 1)])
}

fn fenced_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(language) = line.strip_prefix("```") else { continue };
        let body: Vec<&str> = lines.by_ref().take_while(|line| *line != "```").collect();
        blocks.push(Block { language: language.to_string(), text: body.join("\n") + "\n" });
    }
    blocks
}
#[test]
fn the_readme_fits_in_its_lines() {
    let lines = document("README.md").lines().count();
    assert!(lines <= README_MAX_LINES, "README.md has {lines} lines; move some to docs/");
}

/// A heading's anchor as GitHub makes it: lower case, spaces as `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a document's headings, outside fenced blocks.
fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut anchors = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            anchors.push(anchor(line.trim_start_matches('#')));
        }
    }
    anchors
}

/// The targets of a document's relative markdown links, `[text](target)`.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    for (at, _) in text.match_indices("](") {
        let rest = &text[at + 2..];
        let Some(end) = rest.find(')') else { continue };
        let target = &rest[..end];
        if !target.contains("://") && !target.contains(' ') {
            links.push(target.to_string());
        }
    }
    links
}

#[test]
fn every_link_between_the_documents_leads_somewhere() {
    let mut documents = vec!["README.md".to_string()];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            documents.push(format!("docs/{name}"));
        }
    }
    for document_path in &documents {
        let text = document(document_path);
        let base = Path::new(document_path).parent().unwrap();
        for link in relative_links(&text) {
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target =
                if file.is_empty() { PathBuf::from(document_path) } else { base.join(file) };
            let on_disk = root().join(&target);
            assert!(on_disk.exists(), "{document_path}: {link} leads nowhere");
            if !fragment.is_empty() {
                let target_text = std::fs::read_to_string(&on_disk).unwrap();
                assert!(
                    anchors(&target_text).iter().any(|a| a == fragment),
                    "{document_path}: {link}: no such heading in {}",
                    target.display()
                );
            }
        }
    }
}
