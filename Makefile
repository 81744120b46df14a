# Thin aliases for the commands the README documents.
CARGO ?= cargo

.PHONY: demo test check fmt clippy

# Runs a real sync against the bundled fake ZITADEL (testdata/demo.json) on loopback.
demo:
	$(CARGO) build --release --quiet --bin baton-zitadel --example fake_zitadel
	target/release/examples/fake_zitadel testdata/demo.json -- target/release/baton-zitadel

test:
	$(CARGO) test

check: fmt clippy test

fmt:
	$(CARGO) fmt --check

clippy:
	$(CARGO) clippy --all-targets -- -D warnings
