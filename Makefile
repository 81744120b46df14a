# Thin aliases for the commands the README documents.
CARGO ?= cargo

.PHONY: demo demo-smoke test check fmt clippy bench static static-smoke dist dist-check

# Runs a real sync against the bundled fake ZITADEL (testdata/demo.json) on loopback. Its
# stdout is the NDJSON and nothing else (`make demo > acme.ndjson`), so no recipe line is
# echoed; the fake runs the sync with the demo's settings and no BATON_* variable of yours.
demo:
	@$(CARGO) build --release --quiet --workspace --bins
	@target/release/fake_zitadel testdata/demo.json -- target/release/baton-zitadel

# The golden files hold the summary's fields that differ from run to run (its times, and
# the URL, which differs from fake to fake) masked as `*`, as this masks a run's output.
MASK_RUN := sed -E '/^\{"kind":"summary"/ s/"(started_at|finished_at|instance_url)":"[^"]*"/"\1":"*"/g'

# `make demo`, run as a user would with BATON_* variables exported (a PAT file, an output
# file, filters), must print exactly the golden records on stdout (masked as above).
demo-smoke:
	@set -eu; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	  echo 'a-real-pat-that-must-stay-home' > "$$dir/pat"; \
	  env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS \
	    BATON_PAT_FILE="$$dir/pat" BATON_OUTPUT="$$dir/export.ndjson" BATON_SKIP_GRANTS=1 \
	    BATON_PAGE_SIZE=2 BATON_LOG_FORMAT=json BATON_INSTANCE_URL=https://zitadel.invalid \
	    $(MAKE) demo > "$$dir/stdout" 2> "$$dir/stderr" || { cat "$$dir/stderr" >&2; exit 1; }; \
	  $(MASK_RUN) "$$dir/stdout" > "$$dir/masked"; \
	  cmp -s "$$dir/masked" testdata/golden/demo.ndjson || { \
	    echo "make demo: stdout differs from testdata/golden/demo.ndjson (the run's times and URL masked):" >&2; \
	    diff "$$dir/masked" testdata/golden/demo.ndjson | head -n 5 >&2; exit 1; }; \
	  [ ! -e "$$dir/export.ndjson" ] || { echo "make demo wrote BATON_OUTPUT" >&2; exit 1; }; \
	  echo "demo-smoke: make demo printed the golden records, whatever BATON_* said"
	@# `make demo > acme.ndjson`, as the README's first steps run it, leaves the checkout as git
	@# saw it: the demo writes nothing there, and acme.ndjson is ignored.
	@set -eu; if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  out=$$(mktemp); trap 'rm -f "$$out"' EXIT; \
	  before=$$(git status --porcelain --untracked-files=all); \
	  $(MAKE) --no-print-directory demo > "$$out" 2>/dev/null; \
	  after=$$(git status --porcelain --untracked-files=all); \
	  [ "$$before" = "$$after" ] || { printf 'make demo changed what git shows:\n%s\n' "$$after" >&2; exit 1; }; \
	  git check-ignore -q acme.ndjson || { echo "acme.ndjson, where make demo's output goes, is not ignored" >&2; exit 1; }; \
	  echo "demo-smoke: make demo leaves git status as it was, and acme.ndjson is ignored"; \
	fi

# The whole suite: the static binary's smoke test, the demo's, then unit and end-to-end
# tests, the fake ZITADEL's own included, with the tools they need installed first.
test: static-smoke demo-smoke test-tools
	DUCKDB_PYTHON=$(DUCKDB_PYTHON) $(CARGO) test --workspace

# Installs what the tests run besides the binary when it is missing (.ci/test-tools says
# how): jq, sqlite3, script, and DuckDB's Python module in a Python environment under
# target/, which the recipe tests find through DUCKDB_PYTHON.
.PHONY: test-tools
DUCKDB_PYTHON := $(CURDIR)/target/test-tools/venv/bin/python
test-tools:
	@.ci/test-tools

check: fmt clippy test dist-check

fmt:
	$(CARGO) fmt --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Benchmarks the release binary on generated organizations (examples/bench/): a
# table of records, requests, bytes, wall and CPU time and peak RSS, then the requests per
# endpoint; every output and every endpoint's request count verified (exit 1 otherwise).
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
# --version, then a sync of testdata/demo.json from the fake, which must match the golden file
# (masked as above).
static-smoke: static
	$(CARGO) build --release --quiet -p fake-zitadel
	@set -eu; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	  cp $(STATIC_BIN) "$$dir/"; \
	  cd "$$dir"; \
	  env -i ./baton-zitadel --version | grep -q '^baton-zitadel '; \
	  env -i "$(CURDIR)/target/release/fake_zitadel" "$(CURDIR)/testdata/demo.json" \
	    -- "$$dir/baton-zitadel" > out.ndjson 2> err.txt || { cat err.txt >&2; exit 1; }; \
	  tail -n 1 out.ndjson | grep -q '^{"kind":"summary",' || { echo "no summary line" >&2; exit 1; }; \
	  $(MASK_RUN) out.ndjson > masked.ndjson; \
	  cmp -s masked.ndjson "$(CURDIR)/testdata/golden/demo.ndjson" || { echo "output differs from testdata/golden/demo.ndjson" >&2; exit 1; }; \
	  echo "static-smoke: $$dir/baton-zitadel synced $$(wc -l < out.ndjson) lines ending in a summary"

# The release, in dist/: the binary's archive (with the documents, deployment files, man page
# and completions), the offline source archive, the bill of materials and SHA256SUMS; see
# tools/dist.sh.
dist:
	tools/dist.sh

# Checks what `make dist` built as a user of it would: the checksums, the archive's files,
# --version against the archive's name, and the source archive built with no network.
dist-check: dist test-tools
	tools/dist-check.sh
