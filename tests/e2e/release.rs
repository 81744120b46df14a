//! The release (`make dist`, tools/): the bill of materials names exactly the crates compiled
//! into the binary, and the changelog has an entry for the version being released. The
//! archives themselves are checked by `make dist-check` (tools/dist-check.sh), which builds.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::harness::*;

/// Runs `program` in the checkout and returns its stdout, failing on a failure.
fn output_of(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).current_dir(root()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{program} {args:?}: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// The crates `cargo tree` shows under the binary for its target, as `name version`.
fn tree(edges: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let args = ["tree", "--locked", "-p", "baton-zitadel", "--target", TARGET, "-e", edges];
    let text = output_of(&cargo, &[&args[..], &["--prefix", "none", "-f", "{p}"]].concat());
    // `name vX.Y.Z`, then perhaps a path and `(*)` for a crate shown before.
    let crates = text.lines().filter_map(|line| {
        let mut words = line.split_whitespace();
        Some(format!("{} {}", words.next()?, words.next()?.strip_prefix('v')?))
    });
    crates.filter(|name| !name.starts_with("baton-zitadel ")).collect()
}

const TARGET: &str = "x86_64-unknown-linux-gnu";

#[test]
fn the_bill_of_materials_lists_exactly_the_crates_compiled_into_the_binary() {
    let bom: Value =
        serde_json::from_str(&output_of("python3", &["tools/sbom.py", TARGET])).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.5");
    let main = &bom["metadata"]["component"];
    assert_eq!(main["name"], "baton-zitadel");
    assert_eq!(main["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(main["licenses"][0]["expression"], "Apache-2.0");

    let components = bom["components"].as_array().unwrap();
    let named = |scope: Option<&str>| -> BTreeSet<String> {
        let in_scope = |c: &&Value| scope.is_none_or(|scope| c["scope"] == scope);
        let name = |c: &Value| format!("{} {}", c["name"].as_str().unwrap(), c["version"]);
        components.iter().filter(in_scope).map(name).map(|n| n.replace('"', "")).collect()
    };
    // Everything compiled for the binary, procedural macros included; no dev-dependency (the
    // fake ZITADEL), no build dependency (cc), no other platform's crate (windows-sys).
    assert_eq!(named(None), tree("normal"), "the components and cargo tree -e normal");
    // What is linked: the procedural macros, run by the compiler, are marked excluded.
    assert_eq!(named(Some("required")), tree("normal,no-proc-macro"), "the required components");
    assert!(named(Some("excluded")).iter().any(|name| name.starts_with("serde_derive ")));
    for absent in ["fake-zitadel ", "cc ", "windows-sys ", "rustls "] {
        let found = named(None).into_iter().find(|name| name.starts_with(absent));
        assert_eq!(found.is_some(), absent == "rustls ", "{absent}: ureq links rustls, no more");
    }

    // Each crate's purl, licence and the SHA-256 Cargo.lock records for it.
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
    for component in components {
        let (name, version) = (component["name"].as_str().unwrap(), &component["version"]);
        let version = version.as_str().unwrap();
        assert_eq!(component["purl"], format!("pkg:cargo/{name}@{version}"));
        assert_eq!(component["bom-ref"], component["purl"]);
        let licence = component["licenses"][0]["expression"].as_str().unwrap_or_default();
        assert!(!licence.is_empty() && !licence.contains('/'), "{name}: {licence:?}");
        let entry = format!("name = \"{name}\"\nversion = \"{version}\"\n");
        let after = &lock[lock.find(&entry).unwrap()..];
        let checksum = after.split("checksum = \"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(
            component["hashes"][0],
            serde_json::json!({"alg": "SHA-256", "content": checksum})
        );
    }
}

#[test]
fn the_changelog_has_an_entry_for_this_version() {
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    let entries: Vec<&str> = changelog.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    assert_eq!(entries.first(), Some(&env!("CARGO_PKG_VERSION")), "newest first: {entries:?}");
    let licence = std::fs::read_to_string(root().join("LICENSE")).unwrap();
    assert!(licence.contains("Apache License\n                        Version 2.0, January 2004"));
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\nlicense = \"Apache-2.0\"\n"));
}
