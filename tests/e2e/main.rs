//! End-to-end tests: the built binary against the fake ZITADEL on loopback.
//!
//! Every run goes through `harness::sync` (or `harness::run`), which also checks what must
//! hold for any run: no token anywhere in the output, stdout made of whole JSON lines, and
//! for a successful run a stream that keeps its contract (`fake_zitadel::Contract`). Each
//! other file holds the tests of one behaviour. Golden files live in `testdata/golden/`;
//! `UPDATE_GOLDEN=1 cargo test` rewrites them.

mod harness;
mod relays;

mod access;
mod check;
mod cli;
mod docs;
mod exit_status;
mod filters;
mod first_run;
mod generate;
mod hardened;
mod hostile;
mod ids;
mod logs;
mod memory;
mod network;
mod output;
mod paging;
mod release;
mod retries;
mod secrets;
mod setting_files;
mod summary;
