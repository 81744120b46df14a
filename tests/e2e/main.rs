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
<<<<<<< HEAD
mod generate;
=======
mod hardened;
>>>>>>> 3423791 (deploy: the CronJob admitted at the restricted Pod Security level (seccomp RuntimeDefault, read-only root, no token, resources from the bench, timeZone) and run again only after exit status 5 through a podFailurePolicy, with its PersistentVolumeClaim and the optional CA ConfigMap; the systemd service as user baton, the export 0640 for group baton-readers outside /var/lib/private, sandboxed (systemd-analyze security 8.4 -> 1.1) with an OnFailure hook; the cron job's log rotated; the operations guide says which user, group and directories to create; tests parse the YAML with PyYAML and run systemd-analyze verify and security, which make test-tools installs)
mod hostile;
mod ids;
mod logs;
mod network;
mod output;
mod paging;
mod release;
mod retries;
mod secrets;
