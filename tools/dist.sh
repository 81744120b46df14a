#!/usr/bin/env bash
# Builds the release into dist/ (`make dist`), from the files git tracks:
#   baton-zitadel-VERSION-x86_64-linux.tar.gz  the static binary, README.md, LICENSE,
#       CHANGELOG.md, docs/, deploy/, and under share/ the man page and bash, zsh and fish
#       completions, as `baton-zitadel --generate` prints them
#   baton-zitadel-VERSION-src.tar.gz  the sources with every crate vendored and a
#       .cargo/config.toml that uses them: `cargo build --release --locked` needs no network
#   baton-zitadel-VERSION.cdx.json  the CycloneDX bill of materials (tools/sbom.py)
#   SHA256SUMS  the checksums of the three
# The archives are reproducible: sorted names, owner root, times of the last commit
# (SOURCE_DATE_EPOCH when set), gzip without a name or time.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
export CARGO

version=$("$CARGO" metadata --no-deps --format-version 1 --locked |
  jq -r '.packages[] | select(.name == "baton-zitadel") | .version')
name=baton-zitadel-$version
grep -qx "## $version" CHANGELOG.md || {
  echo "dist: CHANGELOG.md has no entry \"## $version\"" >&2
  exit 1
}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 1)}

# The files of the release: those git tracks, or all of them outside a checkout.
tracked() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -- "$@"
  else
    find "$@" -type f
  fi
}

# Copies the tracked files under the given paths into directory $1, keeping their paths.
copy_tracked() {
  local to=$1
  shift
  tracked "$@" | while IFS= read -r file; do
    [ -e "$file" ] || continue # deleted but not yet committed
    mkdir -p "$to/$(dirname "$file")"
    cp -p "$file" "$to/$file"
  done
}

# tar.gz of directory $2 inside $1, written to $3, the same bytes for the same files.
tarball() {
  tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --mode='u+rwX,go+rX,go-w' -C "$1" -cf - "$2" | gzip -9n >"$3"
}

rm -rf dist
mkdir dist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

make --no-print-directory static
binary=target/x86_64-unknown-linux-gnu/release/baton-zitadel

echo "dist: $name-x86_64-linux.tar.gz" >&2
stage=$work/$name-x86_64-linux
mkdir -p "$stage"/share/{man/man1,bash-completion/completions,zsh/site-functions}
mkdir -p "$stage"/share/fish/vendor_completions.d
install -m 0755 "$binary" "$stage/baton-zitadel"
copy_tracked "$stage" README.md LICENSE CHANGELOG.md docs deploy
"$binary" --generate man >"$stage/share/man/man1/baton-zitadel.1"
"$binary" --generate complete-bash >"$stage/share/bash-completion/completions/baton-zitadel"
"$binary" --generate complete-zsh >"$stage/share/zsh/site-functions/_baton-zitadel"
"$binary" --generate complete-fish >"$stage/share/fish/vendor_completions.d/baton-zitadel.fish"
tarball "$work" "$name-x86_64-linux" "dist/$name-x86_64-linux.tar.gz"

echo "dist: $name-src.tar.gz" >&2
source=$work/$name
copy_tracked "$source" .
"$CARGO" vendor --quiet --locked --versioned-dirs "$source/vendor" >/dev/null
mkdir -p "$source/.cargo"
cat >"$source/.cargo/config.toml" <<'EOF'
# Every crate comes from vendor/, and cargo never asks the network for anything.
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "vendor"

[net]
offline = true
EOF
tarball "$work" "$name" "dist/$name-src.tar.gz"

echo "dist: $name.cdx.json" >&2
python3 tools/sbom.py >"dist/$name.cdx.json"

(cd dist && sha256sum -- *.tar.gz *.cdx.json >SHA256SUMS)
ls -l dist >&2
