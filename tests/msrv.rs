//! The declared minimum Rust version (`rust-version` in Cargo.toml) is true for what teamsync
//! builds with: no dependency of the package (normal or build, as locked in Cargo.lock) asks
//! for a newer compiler. Its own code is held to it by clippy's `incompatible_msrv` lint, and
//! the project's CI builds it with that toolchain. (Dev-dependencies may need more: proptest
//! asks for 1.88, so tests run on stable only.)
//!
//! The walk covers every target the release ships (Windows and macOS included), so it needs
//! every platform's crates, not just the ones this machine builds with. `cargo metadata` runs
//! without `--offline`: on a machine that never downloaded, say, `windows-sys`, cargo fetches
//! it from the registry (`--locked`: exactly the versions in Cargo.lock). `.ci/run` runs
//! `cargo fetch --locked` first, so that in CI this test reads only the local cache.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    reason = "test code: a failed unwrap is a failed test, and the harness prints what it ran"
)]

use std::process::Command;

/// `1.85` and `1.85.0` alike, as (major, minor, patch).
fn version(v: &str) -> (u64, u64, u64) {
    let mut parts = v.split('.').map(|p| p.parse().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

#[test]
fn no_dependency_needs_a_newer_compiler_than_rust_version() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata --locked failed (it downloads the crates of every target the release \
         ships when they are not in the cargo cache; is the registry reachable?):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let by_id = |id: &str| packages.iter().find(|p| p["id"] == id).unwrap();
    let root = packages.iter().find(|p| p["name"] == "teamsync").unwrap();
    let declared = version(
        root["rust_version"]
            .as_str()
            .expect("rust-version is declared"),
    );
    let nodes = meta["resolve"]["nodes"].as_array().unwrap();
    let node = |id: &str| nodes.iter().find(|n| n["id"] == id).unwrap();
    // Walk the normal and build dependencies from teamsync.
    let mut seen = std::collections::BTreeSet::new();
    let mut stack = vec![root["id"].as_str().unwrap().to_string()];
    let mut too_new = Vec::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let p = by_id(&id);
        if let Some(v) = p["rust_version"].as_str() {
            if version(v) > declared {
                too_new.push(format!("{} {} needs {v}", p["name"], p["version"]));
            }
        }
        for dep in node(&id)["deps"].as_array().unwrap() {
            let normal = dep["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null() || k["kind"] == "build");
            if normal {
                stack.push(dep["pkg"].as_str().unwrap().to_string());
            }
        }
    }
    assert!(seen.len() > 50, "the walk found the dependency tree");
    // Every target's dependencies were walked, not only this machine's: Windows-only crates
    // are in the tree on Linux too.
    let names: std::collections::BTreeSet<&str> = seen
        .iter()
        .map(|id| by_id(id)["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains("windows-sys") && names.contains("anstyle-wincon"),
        "the walk covers the Windows target's dependencies too"
    );
    assert!(
        too_new.is_empty(),
        "raise rust-version or pin older versions: {too_new:?}"
    );
}
