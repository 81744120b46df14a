#!/usr/bin/env bash
# Checks the release in dist/ (`make dist-check`) as the people who carry it across an air
# gap would use it: the checksums hold and cover every file; the archive holds the binary,
# the documents, the licence, the changelog, the deployment files, the man page and the
# completions; the binary's --version is the version in the archive's name; and the source
# archive builds with no network at all (a new network namespace, an empty CARGO_HOME).
#
# Building needs `unshare -n` (as root) or `unshare -rn` (user namespaces). Without either the
# offline build is skipped with a notice, except in CI (CI=true), where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}

fail() {
  echo "dist-check: $*" >&2
  exit 1
}

version=$("$CARGO" metadata --no-deps --format-version 1 --locked |
  jq -r '.packages[] | select(.name == "baton-zitadel") | .version')
name=baton-zitadel-$version
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The checksums: each one right, and every file of dist/ has one.
(cd dist && sha256sum --check --quiet SHA256SUMS) || fail "SHA256SUMS does not match dist/"
for file in dist/*; do
  base=${file#dist/}
  [ "$base" = SHA256SUMS ] || grep -q "  $base\$" dist/SHA256SUMS || fail "SHA256SUMS lacks $base"
done
for file in "$name-x86_64-linux.tar.gz" "$name-src.tar.gz" "$name.cdx.json"; do
  grep -q "  $file\$" dist/SHA256SUMS || fail "SHA256SUMS lacks $file"
done

# The archive's files.
tar -xzf "dist/$name-x86_64-linux.tar.gz" -C "$work"
release=$work/$name-x86_64-linux
for file in baton-zitadel README.md LICENSE CHANGELOG.md docs/operations.md deploy/Dockerfile \
  share/man/man1/baton-zitadel.1 share/bash-completion/completions/baton-zitadel \
  share/zsh/site-functions/_baton-zitadel share/fish/vendor_completions.d/baton-zitadel.fish; do
  [ -e "$release/$file" ] || fail "$name-x86_64-linux.tar.gz lacks $file"
done
grep -q 'Apache License' "$release/LICENSE" || fail "LICENSE is not the Apache License"
grep -qx "## $version" "$release/CHANGELOG.md" || fail "CHANGELOG.md has no entry for $version"
ldd "$release/baton-zitadel" 2>&1 | grep -q 'statically linked' || fail "the binary is not static"
# The archive's name and the binary agree on the version.
first=$(env -i "$release/baton-zitadel" --version | head -n 1)
[ "$first" = "baton-zitadel $version" ] || fail "--version says \"$first\", the archive $version"
warnings=$(groff -ww -man -z "$release/share/man/man1/baton-zitadel.1" 2>&1)
[ -z "$warnings" ] || fail "the man page: $warnings"
jq -e --arg v "$version" '.specVersion == "1.5" and .metadata.component.version == $v' \
  "dist/$name.cdx.json" >/dev/null || fail "$name.cdx.json is not this version's CycloneDX 1.5"

# The README's Install commands, run as written on a copy of dist/, with sudo left out and a
# scratch directory standing for /.
host=$work/host
mkdir -p "$host/root/usr/local/bin"
cp dist/* "$host/"
commands=$(awk '/^## Install$/ { found = 1 } found && /^```sh$/ { inside = 1; next }
  inside && /^```$/ { exit } inside' README.md)
[ -n "$commands" ] || fail "README.md's ## Install shows no commands"
commands=$(printf '%s\n' "$commands" | sed "s#sudo ##; s# /usr/local/# $host/root/usr/local/#g")
(cd "$host" && bash -euo pipefail -c "$commands") >/dev/null || fail "README.md's Install failed"
for file in bin/baton-zitadel share/man/man1/baton-zitadel.1 \
  share/bash-completion/completions/baton-zitadel share/zsh/site-functions/_baton-zitadel \
  share/fish/vendor_completions.d/baton-zitadel.fish; do
  [ -e "$host/root/usr/local/$file" ] || fail "README.md's Install does not install $file"
done
installed=$("$host/root/usr/local/bin/baton-zitadel" --version | head -n 1)
[ "$installed" = "baton-zitadel $version" ] || fail "installed, --version says \"$installed\""
echo "dist-check: SHA256SUMS, the archive's files, --version ($version) and the README's Install agree"

# The source archive builds offline, as the README says: `cargo build --release --offline
# --locked` (about 90 s on two cores, 65 s in debug, which would prove less).
if unshare -n true 2>/dev/null; then
  offline=(unshare -n)
elif unshare -rn true 2>/dev/null; then
  offline=(unshare -rn)
elif [ "${CI:-}" = true ]; then
  fail "cannot cut the network (unshare -n needs root, unshare -rn user namespaces)"
else
  echo "dist-check: skipped the offline build of $name-src.tar.gz: unshare -n needs root"
  exit 0
fi
tar -xzf "dist/$name-src.tar.gz" -C "$work"
mkdir "$work/cargo-home"
start=$(date +%s)
(cd "$work/$name" && CARGO_HOME="$work/cargo-home" CARGO_BUILD_JOBS=2 \
  "${offline[@]}" "$CARGO" build --release --offline --locked --quiet) ||
  fail "$name-src.tar.gz does not build offline"
built=$("$work/$name/target/release/baton-zitadel" --version | head -n 1)
[ "$built" = "baton-zitadel $version" ] || fail "the offline build says \"$built\""
echo "dist-check: $name-src.tar.gz built with no network in $(($(date +%s) - start)) s"
