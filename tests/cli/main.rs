//! Integration tests: the real `teamsync` binary against the in-process emulator, over HTTP on
//! 127.0.0.1, with a pinned environment (`NO_COLOR=1`, a fixed date, fast retries). Outputs are
//! asserted whole (exit code, stdout and stderr in one snapshot, ports and request ids redacted).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    reason = "test code: a failed unwrap is a failed test, and the harness prints what it ran"
)]

mod support;

mod adopt;
mod apply;
mod documents;
mod drift;
mod errors;
mod escaping;
mod export;
mod faults;
mod governance;
mod hostile_api;
mod hostile_files;
mod lifecycle;
mod links;
mod network;
mod odds;
mod org;
mod outputs;
mod parts;
mod plan;
mod pr;
mod report;
mod review;
mod round4;
mod saved;
mod signals;
mod snapshot;
mod validate;

/// Every file under tests/cli is a module of this binary (jj's `test_no_forgotten_test_files`):
/// a file that is not declared above would never compile nor run, and nobody would notice.
#[test]
fn no_forgotten_test_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    let declared: std::collections::BTreeSet<&str> = main
        .lines()
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let mut forgotten = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs") {
            if module != "main" && !declared.contains(module) {
                forgotten.push(name);
            }
        }
    }
    assert!(
        forgotten.is_empty(),
        "tests/cli files not declared as `mod` in tests/cli/main.rs: {forgotten:?}"
    );
}
