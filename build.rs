//! Build information for `teamsync --version` (docs/contract.md §11):
//! `teamsync 0.2.0 (3f2c1ab 2026-11-22 x86_64-unknown-linux-musl)`.
//!
//! Sets `TEAMSYNC_BUILD_INFO` to "HASH DATE TARGET": the short commit hash and the commit's date
//! (UTC) from git, and the target triple cargo builds for. Outside a git checkout (a crate
//! downloaded from a registry, a container build without `.git`), the hash comes from
//! `.cargo_vcs_info.json` when cargo packaged one, else it is `unknown`, and the date is
//! `unknown`: always three fields. `TEAMSYNC_COMMIT_HASH` and `TEAMSYNC_COMMIT_DATE` override both (for builds from a
//! tarball that know their commit). Git is asked through `std::process::Command`; a missing git
//! or a refusing one ("dubious ownership") means `unknown`, never a failed build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TEAMSYNC_COMMIT_HASH");
    println!("cargo:rerun-if-env-changed=TEAMSYNC_COMMIT_DATE");

    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown-target".to_owned());
    let from_git = git_commit();
    let hash = non_empty_env("TEAMSYNC_COMMIT_HASH")
        .or_else(|| from_git.as_ref().map(|(h, _)| h.clone()))
        .or_else(vcs_info_hash)
        .unwrap_or_else(|| "unknown".to_owned());
    let date = non_empty_env("TEAMSYNC_COMMIT_DATE")
        .or_else(|| from_git.map(|(_, d)| d))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=TEAMSYNC_BUILD_INFO={hash} {date} {target}");
    println!("cargo:rustc-env=TEAMSYNC_BUILD_TARGET={target}");
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The short hash and UTC date of HEAD, and rerun-if-changed on the files that move with it.
fn git_commit() -> Option<(String, String)> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from)?;
    // Only the repository this crate is the root of: not a parent one it happens to sit in.
    let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
    if !same_dir(Path::new(&top), &dir) {
        return None;
    }
    watch_refs(&dir);
    let out = git(&dir, &["log", "-1", "--format=%h %ct", "--abbrev=7"])?;
    let (hash, seconds) = out.split_once(' ')?;
    let seconds: i64 = seconds.trim().parse().ok()?;
    Some((hash.to_owned(), utc_date(seconds)))
}

/// HEAD (per worktree), the branch it names and packed-refs (both in the common directory):
/// a commit or a checkout changes one of them. Only existing files are named, since cargo
/// reruns a build script every time for a path that does not exist.
fn watch_refs(dir: &Path) {
    let mut paths = Vec::new();
    if let Some(git_dir) = git(dir, &["rev-parse", "--absolute-git-dir"]) {
        paths.push(PathBuf::from(&git_dir).join("HEAD"));
        let common = git(dir, &["rev-parse", "--git-common-dir"])
            .map(|c| absolute(dir, &c))
            .unwrap_or_else(|| PathBuf::from(&git_dir));
        if let Some(head_ref) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            paths.push(common.join(head_ref));
        }
        paths.push(common.join("packed-refs"));
    }
    for path in paths.into_iter().filter(|p| p.is_file()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn absolute(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

/// `.cargo_vcs_info.json`, written by `cargo package`: `{"git": {"sha1": "…"}, …}`. Read with
/// a string search, so the build script needs no dependency.
fn vcs_info_hash() -> Option<String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from)?;
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let rest = &text[text.find("\"sha1\"")? + "\"sha1\"".len()..];
    let rest = &rest[rest.find('"')? + 1..];
    let sha = &rest[..rest.find('"')?];
    (sha.len() >= 7 && sha.chars().all(|c| c.is_ascii_hexdigit())).then(|| sha[..7].to_owned())
}

/// YYYY-MM-DD (UTC) of a Unix time, by the days-from-civil algorithm (Howard Hinnant).
fn utc_date(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
