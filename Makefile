# Thin aliases for the commands the README documents.
CARGO ?= cargo

.PHONY: demo test check fmt clippy bench static static-smoke

# Runs a real sync against the bundled fake ZITADEL (testdata/demo.json) on loopback.
demo:
	$(CARGO) build --release --quiet --bin baton-zitadel --example fake_zitadel
	target/release/examples/fake_zitadel testdata/demo.json -- target/release/baton-zitadel

# The whole suite: the static binary's smoke test, then unit and end-to-end tests.
test: static-smoke
	$(CARGO) test

check: fmt clippy test

fmt:
	$(CARGO) fmt --check

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

# Benchmarks the release binary on generated organizations (examples/bench/main.rs): one
# table of records, requests, bytes, wall and CPU time and peak RSS, every output verified.
bench:
	$(CARGO) build --release --quiet --bin baton-zitadel --example bench
	target/release/examples/bench

# A statically linked x86-64 Linux binary; the host's glibc toolchain is enough.
STATIC_TARGET := x86_64-unknown-linux-gnu
STATIC_BIN := target/$(STATIC_TARGET)/release/baton-zitadel
STATIC_MAX_BYTES := 6291456

static:
	RUSTFLAGS='-C target-feature=+crt-static' $(CARGO) build --release --quiet --target $(STATIC_TARGET) --bin baton-zitadel
	@ldd $(STATIC_BIN) 2>&1 | grep -q 'statically linked' || { ldd $(STATIC_BIN); echo "$(STATIC_BIN) is not statically linked" >&2; exit 1; }
	@size=$$(wc -c < $(STATIC_BIN)); echo "$(STATIC_BIN): statically linked, $$size bytes"; \
	  [ "$$size" -le $(STATIC_MAX_BYTES) ] || { echo "larger than 6 MiB" >&2; exit 1; }

# Runs the static binary from a directory outside the checkout, with an empty environment:
# --version, then a sync of testdata/demo.json from the fake, which must match the golden file.
static-smoke: static
	$(CARGO) build --release --quiet --example fake_zitadel
	@set -eu; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	  cp $(STATIC_BIN) "$$dir/"; \
	  cd "$$dir"; \
	  env -i ./baton-zitadel --version | grep -q '^baton-zitadel '; \
	  env -i "$(CURDIR)/target/release/examples/fake_zitadel" "$(CURDIR)/testdata/demo.json" \
	    -- "$$dir/baton-zitadel" > out.ndjson 2> err.txt || { cat err.txt >&2; exit 1; }; \
	  tail -n 1 out.ndjson | grep -q '^{"kind":"summary",' || { echo "no summary line" >&2; exit 1; }; \
	  cmp -s out.ndjson "$(CURDIR)/testdata/golden/demo.ndjson" || { echo "output differs from testdata/golden/demo.ndjson" >&2; exit 1; }; \
	  echo "static-smoke: $$dir/baton-zitadel synced $$(wc -l < out.ndjson) lines ending in a summary"
