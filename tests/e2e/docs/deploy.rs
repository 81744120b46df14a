//! `docs/operations.md` shows every file of `deploy/` exactly as it is, and those files are
//! checked as far as possible without docker, systemd or a cluster: the settings that must
//! agree with each other everywhere (`hardened` holds them to what a hardened host accepts).

use std::collections::BTreeMap;
use std::path::Path;

use super::{blocks_of_section, document};
use crate::harness::*;

/// Where the operations guide says to install the binary; every deployment file runs it from
/// there.
const INSTALL_PATH: &str = "/usr/local/bin/baton-zitadel";

fn deploy_file(name: &str) -> String {
    std::fs::read_to_string(root().join("deploy").join(name)).unwrap()
}

/// Every file under `deploy/`, by path relative to it.
fn deploy_files() -> BTreeMap<String, String> {
    fn walk(dir: &Path, base: &Path, files: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, files);
            } else {
                let name = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                files.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    let base = root().join("deploy");
    walk(&base, &base, &mut files);
    files
}

#[test]
fn the_operations_guide_shows_every_deployment_file_as_it_is() {
    let files = deploy_files();
    assert!(files.len() >= 5, "{:?}", files.keys());
    let blocks = blocks_of_section("docs/operations.md", "## Running it in production");
    for (name, contents) in &files {
        assert!(
            blocks.iter().any(|block| block.text == *contents),
            "docs/operations.md lacks deploy/{name} as it is (or shows it changed)"
        );
    }
    // And the section shows nothing that is not one of them, but the commands that create
    // the user and the directories they name.
    for block in &blocks {
        assert!(
            files.values().any(|contents| *contents == block.text)
                || block.text.starts_with("useradd --system"),
            "a snippet that is no file of deploy/:\n{}",
            block.text
        );
    }
    let guide = document("docs/operations.md");
    assert!(guide.contains(&format!("Install the binary as `{INSTALL_PATH}`")));
}

/// The `key=value` settings of a unit file, by section, in order.
fn unit_settings(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut settings = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line.split_once('=').expect("key=value");
        settings.push((section.clone(), key.to_string(), value.to_string()));
    }
    settings
}

fn setting<'s>(settings: &'s [(String, String, String)], section: &str, key: &str) -> Vec<&'s str> {
    settings
        .iter()
        .filter(|(s, k, _)| s == section && k == key)
        .map(|(_, _, value)| value.as_str())
        .collect()
}

#[test]
fn the_systemd_units_hold_together() {
    let service = unit_settings(&deploy_file("baton-zitadel.service"));
    let timer = unit_settings(&deploy_file("baton-zitadel.timer"));
    assert_eq!(setting(&service, "Unit", "Description").len(), 1);
    assert_eq!(setting(&service, "Service", "Type"), ["oneshot"]);
    assert_eq!(setting(&service, "Service", "ExecStart"), [INSTALL_PATH]);
    // The PAT file the binary reads is the credential systemd loads.
    let credential = setting(&service, "Service", "LoadCredential");
    let (name, source) = credential[0].split_once(':').unwrap();
    assert_eq!(source, "/etc/baton/zitadel-pat");
    let environment = setting(&service, "Service", "Environment");
    assert!(environment.contains(&format!("BATON_PAT_FILE=%d/{name}").as_str()), "{environment:?}");
    let output = environment.iter().find_map(|e| e.strip_prefix("BATON_OUTPUT=")).unwrap();
    let state = setting(&service, "Service", "StateDirectory");
    assert!(output.starts_with(&format!("/var/lib/{}/", state[0])), "the export is writable");
    // The timer starts the service of the same name, and is enabled by timers.target.
    assert_eq!(setting(&timer, "Unit", "Description").len(), 1);
    assert_eq!(setting(&timer, "Timer", "OnCalendar").len(), 1);
    assert_eq!(setting(&timer, "Timer", "Unit"), Vec::<&str>::new(), "the default unit");
    assert_eq!(setting(&timer, "Install", "WantedBy"), ["timers.target"]);
    // `systemd-analyze verify` and `security`: see `hardened`.
}

#[test]
fn the_cron_line_runs_the_installed_binary_daily() {
    let file = deploy_file("baton-zitadel.cron");
    let lines: Vec<&str> = file.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    assert_eq!(lines.len(), 1);
    let fields: Vec<&str> = lines[0].split_whitespace().collect();
    let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    for (field, (low, high)) in fields[..5].iter().zip(ranges) {
        let ok = *field == "*" || field.parse::<u32>().is_ok_and(|n| (low..=high).contains(&n));
        assert!(ok, "schedule field {field:?}");
    }
    assert_eq!(fields[5], "baton", "/etc/cron.d lines name the user");
    let binary = fields[6..].iter().find(|word| !word.contains('=')).unwrap();
    assert_eq!(*binary, INSTALL_PATH);
    assert!(fields.contains(&"--output"), "an export replaced only by a complete sync");
}

/// A Dockerfile's instructions, without comments and blank lines.
fn instructions(dockerfile: &str) -> Vec<&str> {
    dockerfile.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).collect()
}

/// The numeric user of a Dockerfile's `USER`: a scratch image has no passwd file to name one.
fn image_user(instructions: &[&str]) -> u32 {
    let user = instructions.iter().find_map(|l| l.strip_prefix("USER ")).unwrap();
    user.split(':').next().unwrap().parse().expect("a numeric user: no passwd file")
}

#[test]
fn the_container_image_is_the_release_binary_on_an_empty_base_built_offline() {
    let dockerfile = deploy_file("Dockerfile");
    // Nothing but the binary of the unpacked archive, which holds it at its top: nothing to
    // run, download or pull, so it builds with no network.
    assert_eq!(
        instructions(&dockerfile),
        [
            "FROM scratch",
            "COPY baton-zitadel /baton-zitadel",
            "USER 65532:65532",
            "ENTRYPOINT [\"/baton-zitadel\"]",
        ]
    );
    assert_ne!(image_user(&instructions(&dockerfile)), 0);
    // Its comment builds it from this version's archive, as tools/dist.sh names it.
    let archive = format!("baton-zitadel-{}-x86_64-linux", env!("CARGO_PKG_VERSION"));
    assert!(dockerfile.contains(&format!("#   tar -xzf {archive}.tar.gz\n#   cd {archive}\n")));
    assert!(dockerfile.contains("docker build -f deploy/Dockerfile "));
    let dist = std::fs::read_to_string(root().join("tools/dist.sh")).unwrap();
    assert!(dist.contains("install -m 0755 \"$binary\" \"$stage/baton-zitadel\""));
}

#[test]
fn the_source_dockerfile_builds_the_same_image_with_a_rust_the_crate_builds_with() {
    let dockerfile = deploy_file("Dockerfile.source");
    let instructions = instructions(&dockerfile);
    let stages: Vec<&&str> = instructions.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(*stages.last().unwrap(), &"FROM scratch", "the image is the binary alone");
    // The build stage's Rust is one the crate builds with.
    let image = stages[0].split_whitespace().nth(1).unwrap();
    let version = image.strip_prefix("rust:").unwrap().split('-').next().unwrap();
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let needed = manifest.split("rust-version = \"").nth(1).unwrap().split('"').next().unwrap();
    let as_number = |v: &str| v.split('.').map(|n| n.parse::<u32>().unwrap()).collect::<Vec<_>>();
    assert!(as_number(version) >= as_number(needed), "rust:{version} < rust-version {needed}");
    // What is copied is what `make static` builds, and is what runs.
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    let static_bin = makefile.lines().find_map(|l| l.strip_prefix("STATIC_BIN := ")).unwrap();
    let static_bin = static_bin.replace("$(STATIC_TARGET)", "x86_64-unknown-linux-gnu");
    assert!(instructions.contains(&"RUN make static"));
    let copy = instructions.iter().find(|l| l.starts_with("COPY --from=")).unwrap();
    let parts: Vec<&str> = copy.split_whitespace().collect();
    let workdir = instructions.iter().find_map(|l| l.strip_prefix("WORKDIR ")).unwrap();
    assert_eq!(parts[2], format!("{workdir}/{static_bin}"));
    assert_eq!(*instructions.last().unwrap(), format!("ENTRYPOINT [\"{}\"]", parts[3]));
    assert_ne!(image_user(&instructions), 0);
    // From the source archive, whose vendored crates need no download.
    let archive = format!("baton-zitadel-{}-src", env!("CARGO_PKG_VERSION"));
    assert!(dockerfile.contains(&format!("#   tar -xzf {archive}.tar.gz\n")));
    assert!(std::fs::read_to_string(root().join(".dockerignore")).unwrap().contains("target/"));
}

#[test]
fn the_cronjob_reads_the_pat_from_the_secrets_key() {
    let yaml = deploy_file("kubernetes/cronjob.yaml");
    let value = |key: &str| {
        let found = yaml.lines().find_map(|l| l.trim().strip_prefix(&format!("{key}: ")));
        found.unwrap_or_else(|| panic!("no {key}")).trim().to_string()
    };
    // The command in the comment creates the Secret and key that the volume reads.
    let create = yaml.lines().find(|l| l.contains("kubectl create secret generic")).unwrap();
    let words: Vec<&str> = create.split_whitespace().collect();
    let secret = words[words.iter().position(|w| *w == "generic").unwrap() + 1];
    let key = words.iter().find_map(|w| w.strip_prefix("--from-file=")).unwrap();
    let key = key.split('=').next().unwrap();
    assert_eq!(value("secretName"), secret);
    let items = value("items");
    assert_eq!(items, format!("[{{key: {key}, path: {key}}}]"));
    // The binary reads the file where the volume puts it.
    let mount = yaml.lines().find(|l| l.contains("{name: pat, mountPath: ")).unwrap();
    let mount_path = mount.split("mountPath: ").nth(1).unwrap().split(',').next().unwrap();
    assert!(yaml.contains(&format!("{{name: BATON_PAT_FILE, value: {mount_path}/{key}}}")));
    assert!(mount.contains("readOnly: true"));
    assert_eq!(value("runAsNonRoot"), "true");
    assert_eq!(value("concurrencyPolicy"), "Forbid", "never two syncs of one export at once");
    assert!(value("image").contains("deploy/Dockerfile"));
}
