//! Integration tests: the real `teamsync` binary against the in-process emulator, over HTTP on
//! 127.0.0.1, with a pinned environment (`NO_COLOR=1`, a fixed date, fast retries). Outputs are
//! asserted whole (exit code, stdout and stderr in one snapshot, ports and request ids redacted).

mod support;

mod adopt;
mod apply;
mod documents;
mod errors;
mod escaping;
mod export;
mod faults;
mod hostile_api;
mod hostile_files;
mod lifecycle;
mod network;
mod outputs;
mod parts;
mod plan;
mod pr;
mod report;
mod round4;
mod saved;
mod signals;
mod snapshot;
mod validate;
