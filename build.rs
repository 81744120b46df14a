//! Records what `--version` reports besides the version: the target triple, the version of
//! the bundled root certificates (the `webpki-roots` crate, from `Cargo.lock`) and, when
//! built from a git checkout, the commit, marked when the binary's sources had uncommitted
//! changes.

use std::path::Path;
use std::process::Command;

/// What the binary is built from. Cargo runs this script again when one of them changes (or
/// the commit does), and only then: an edit to the documents or the tests changes nothing
/// the binary reports. `-dirty` says that one of them differs from the commit.
const SOURCES: [&str; 4] = ["src", "build.rs", "Cargo.toml", "Cargo.lock"];

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=BATON_BUILD_TARGET={target}");

    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let roots = locked_version(&lock, "webpki-roots").unwrap_or("unknown");
    println!("cargo:rustc-env=BATON_BUILD_ROOTS=webpki-roots {roots}");
    for source in SOURCES {
        println!("cargo:rerun-if-changed={source}");
    }

    println!("cargo:rustc-env=BATON_BUILD_COMMIT={}", commit().unwrap_or_default());
}

/// The version of `package` in a `Cargo.lock`.
fn locked_version<'l>(lock: &'l str, package: &str) -> Option<&'l str> {
    let name = format!("name = \"{package}\"");
    let mut lines = lock.lines().skip_while(|line| *line != name);
    lines.next()?;
    lines.next()?.strip_prefix("version = \"")?.strip_suffix('"')
}

/// `<commit>` or `<commit>-dirty` (the sources differ from it), or `None` outside a git
/// checkout or without git.
fn commit() -> Option<String> {
    // A package unpacked inside some other repository is not a checkout of its own.
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let here = std::env::current_dir().ok()?;
    if Path::new(&top).canonicalize().ok()? != here.canonicalize().ok()? {
        return None;
    }
    let head = git(&["rev-parse", "HEAD"])?;
    // The commit moves with HEAD (another branch), the branch's ref or the packed refs.
    for path in ["HEAD", "packed-refs"] {
        watch(git(&["rev-parse", "--git-path", path]));
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(git(&["rev-parse", "--git-path", &branch]));
    }
    // Read-only: `git status` must not rewrite the index.
    let status = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no", "--"])
        .args(SOURCES)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let dirty = if status.stdout.is_empty() { "" } else { "-dirty" };
    Some(format!("{head}{dirty}"))
}

fn watch(path: Option<String>) {
    if let Some(path) = path.filter(|path| Path::new(path).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
}

/// The trimmed stdout of a successful `git` command.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}
