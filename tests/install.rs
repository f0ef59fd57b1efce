//! The GitHub Action's install script (`scripts/action/install.sh`, docs/install.md) end to end:
//! a loopback HTTP server serves a release (an archive built from the binary under test, laid
//! out as `scripts/package.sh` lays it out, and a `SHA256SUMS`), and the script downloads,
//! verifies and installs it as the action does on a runner. Unix only: the action runs its
//! scripts with bash, and Windows' bash is not on the test machines.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    reason = "test code: a failed unwrap is a failed test, and the harness prints what it ran"
)]

use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// This machine as GitHub names it (RUNNER_OS, RUNNER_ARCH), and the release target for it.
fn runner() -> (&'static str, &'static str, &'static str) {
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        other => panic!("no runner name for {other}"),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "X64",
        "aarch64" => "ARM64",
        other => panic!("no runner name for {other}"),
    };
    let target = match (os, arch) {
        ("Linux", "X64") => "x86_64-unknown-linux-musl",
        ("Linux", "ARM64") => "aarch64-unknown-linux-musl",
        ("macOS", "X64") => "x86_64-apple-darwin",
        _ => "aarch64-apple-darwin",
    };
    (os, arch, target)
}

fn archive_name() -> String {
    format!("teamsync-v{VERSION}-{}.tar.gz", runner().2)
}

/// A release folder served over HTTP on 127.0.0.1 at `/download/vVERSION/…`, plus scratch
/// folders for the cache and the install.
struct Release {
    dir: tempfile::TempDir,
    base: String,
}

impl Release {
    /// The archive of the binary under test, and a SHA256SUMS made by `sums` from its hash.
    fn new(sums: impl FnOnce(&str, &str) -> String) -> Release {
        let (archive, hash) = archive();
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let tag_dir = dir.path().join("www/download").join(format!("v{VERSION}"));
        std::fs::create_dir_all(&tag_dir).unwrap();
        let served = tag_dir.join(archive_name());
        if std::fs::hard_link(archive, &served).is_err() {
            std::fs::copy(archive, &served).unwrap();
        }
        std::fs::write(tag_dir.join("SHA256SUMS"), sums(hash, &archive_name())).unwrap();
        let base = serve(dir.path().join("www"));
        Release { dir, base }
    }

    fn good() -> Release {
        Release::new(|hash, name| format!("{}  other.tar.gz\n{hash}  {name}\n", "0".repeat(64)))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn installed(&self) -> PathBuf {
        self.path("install/teamsync")
    }

    fn cached(&self) -> PathBuf {
        self.path("cache").join(archive_name())
    }

    /// install.sh with a runner's environment pointed at this release; `env` adds or overrides.
    fn install(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let (os, arch, _) = runner();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action/install.sh");
        let mut c = Command::new("bash");
        c.arg(script)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env("RUNNER_TEMP", self.dir.path())
            .env("TEAMSYNC_DOWNLOAD_BASE", format!("{}/download", self.base))
            .env("TEAMSYNC_CACHE_DIR", self.path("cache"))
            .env("TEAMSYNC_INSTALL_DIR", self.path("install"))
            .env("GITHUB_OUTPUT", self.path("github_output"))
            .env("GITHUB_PATH", self.path("github_path"))
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        let run = Run::from(c.output().expect("bash runs"));
        run.redact(self)
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }
}

/// The release archive, laid out as scripts/package.sh lays it out, made once per test run
/// (the debug binary is large) under the tests' target folder, with its SHA-256.
fn archive() -> &'static (PathBuf, String) {
    static ARCHIVE: std::sync::OnceLock<(PathBuf, String)> = std::sync::OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let stage = tempfile::tempdir_in(root).unwrap();
        let stem = format!("teamsync-v{VERSION}-{}", runner().2);
        std::fs::create_dir_all(stage.path().join(&stem)).unwrap();
        std::fs::copy(
            env!("CARGO_BIN_EXE_teamsync"),
            stage.path().join(&stem).join("teamsync"),
        )
        .unwrap();
        std::fs::write(stage.path().join(&stem).join("README.md"), "teamsync\n").unwrap();
        let archive = stage.path().join(archive_name());
        let ok = Command::new("sh")
            .arg("-c")
            .arg(r#"tar -cf - -C "$1" "$2" | gzip -1 > "$3""#)
            .arg("sh")
            .arg(stage.path())
            .arg(&stem)
            .arg(&archive)
            .status()
            .expect("sh, tar and gzip run");
        assert!(ok.success());
        let hash = hex(&std::fs::read(&archive).unwrap());
        let kept = root.join(format!("install-test-{}", archive_name()));
        std::fs::rename(&archive, &kept).unwrap();
        (kept, hash)
    })
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A tiny static file server on 127.0.0.1: GET of a file under `root` is 200, else 404.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line == "\r\n" || line == "\n" => break,
                    Ok(_) => {}
                }
            }
            let path = request.split(' ').nth(1).unwrap_or("/");
            let file = root.join(path.trim_start_matches('/'));
            let body = if path.contains("..") {
                None
            } else {
                std::fs::read(&file).ok()
            };
            let _ = match body {
                Some(body) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| stream.write_all(&body)),
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    base
}

#[path = "common/run.rs"]
mod run;
use run::Run;

impl Run {
    /// The volatile parts out: the scratch folder, the port, hashes, this machine's target,
    /// the binary's `--version` details, and curl's wording of a 404.
    fn redact(self, release: &Release) -> Run {
        let target = runner().2;
        let scratch = release.dir.path().display().to_string();
        let f = |s: String| {
            s.replace(&scratch, "[SCRATCH]")
                .replace(&release.base, "http://127.0.0.1:[PORT]")
                .replace(target, "[TARGET]")
                .lines()
                .map(|line| {
                    let mut out = String::new();
                    let mut run = 0;
                    for c in line.chars() {
                        out.push(c);
                        run = if c.is_ascii_hexdigit() { run + 1 } else { 0 };
                        if run == 64 {
                            out.truncate(out.len() - 64);
                            out.push_str("[SHA256]");
                        }
                    }
                    if out.starts_with(&format!("teamsync {VERSION} (")) {
                        out = format!("teamsync {VERSION} ([COMMIT] [TARGET])");
                    }
                    if out.starts_with("curl: (22)") {
                        out = "curl: (22) [HTTP 404]".to_owned();
                    }
                    out + "\n"
                })
                .collect::<String>()
        };
        Run {
            code: self.code,
            stdout: f(self.stdout),
            stderr: f(self.stderr),
        }
    }
}

#[test]
fn the_right_checksum_installs_a_binary_that_runs() {
    let r = Release::good();
    let run = r.install(&[], &[]);
    insta::assert_snapshot!(run.whole(), @r"
    exit code: 0
    ----- stdout -----
    Downloading http://127.0.0.1:[PORT]/download/v0.2.0/teamsync-v0.2.0-[TARGET].tar.gz
    SHA-256 of teamsync-v0.2.0-[TARGET].tar.gz matches SHA256SUMS ([SHA256])
    Installed teamsync 0.2.0 ([TARGET]) in [SCRATCH]/install
    teamsync 0.2.0 ([COMMIT] [TARGET])
    path=[SCRATCH]/install/teamsync
    version=0.2.0
    ----- stderr -----
    ");
    // The installed binary is the one under test, and it runs.
    let out = Command::new(r.installed())
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(version.starts_with("teamsync 0.2.0 ("), "{version}");
    assert_eq!(
        std::fs::read(r.installed()).unwrap(),
        std::fs::read(env!("CARGO_BIN_EXE_teamsync")).unwrap()
    );
    // The outputs and PATH for later steps, and the verified archive kept for the cache.
    let outputs = r.file("github_output");
    assert!(outputs.contains("version=0.2.0\n"), "{outputs}");
    assert!(outputs.contains("path="), "{outputs}");
    assert_eq!(
        r.file("github_path").trim(),
        r.path("install").display().to_string()
    );
    assert!(r.cached().is_file());

    // A second run takes the cached archive, and checks it again.
    let again = r.install(&[], &[]);
    assert_eq!(again.code, 0, "{}", again.whole());
    assert!(
        again
            .stdout
            .starts_with("Using the cached teamsync-v0.2.0-[TARGET].tar.gz\nSHA-256 of"),
        "{}",
        again.whole()
    );
}

#[test]
fn the_default_version_is_the_one_in_the_checkout() {
    // No TEAMSYNC_VERSION: the action's ref is a release, and its Cargo.toml names it.
    let r = Release::good();
    let run = r.install(&["resolve"], &[]);
    insta::assert_snapshot!(run.whole(), @r"
    exit code: 0
    ----- stdout -----
    version=0.2.0
    target=[TARGET]
    archive=teamsync-v0.2.0-[TARGET].tar.gz
    cache-dir=[SCRATCH]/cache
    ----- stderr -----
    ");
    let run = r.install(&["resolve"], &[("TEAMSYNC_VERSION", "v1.2.3")]);
    assert!(run.stdout.starts_with("version=1.2.3\n"), "{}", run.whole());
}

#[test]
fn a_wrong_checksum_is_refused_and_nothing_is_installed() {
    let r = Release::new(|_, name| format!("{}  {name}\n", "ab".repeat(32)));
    let run = r.install(&[], &[]);
    insta::assert_snapshot!(run.whole(), @r"
    exit code: 1
    ----- stdout -----
    Downloading http://127.0.0.1:[PORT]/download/v0.2.0/teamsync-v0.2.0-[TARGET].tar.gz
    ----- stderr -----
    error: checksum mismatch for teamsync-v0.2.0-[TARGET].tar.gz: SHA256SUMS says [SHA256] but the download is [SHA256]; refusing to install it (nothing was installed).
    ");
    assert!(!r.installed().exists());
    assert!(!r.path("install").exists());
    assert!(!r.cached().exists(), "a refused archive is not cached");
    assert_eq!(r.file("github_path"), "");
}

#[test]
fn a_tampered_cached_archive_is_refused_and_dropped() {
    let r = Release::good();
    std::fs::create_dir_all(r.path("cache")).unwrap();
    std::fs::write(r.cached(), b"not the release").unwrap();
    let run = r.install(&[], &[("GITHUB_ACTIONS", "true")]);
    insta::assert_snapshot!(run.whole(), @r"
    exit code: 1
    ----- stdout -----
    Using the cached teamsync-v0.2.0-[TARGET].tar.gz
    ----- stderr -----
    ::error title=teamsync install::checksum mismatch for teamsync-v0.2.0-[TARGET].tar.gz: SHA256SUMS says [SHA256] but the download is [SHA256]; refusing to install it (nothing was installed).
    ");
    assert!(!r.installed().exists());
    assert!(!r.cached().exists());
}

#[test]
fn an_archive_missing_from_sha256sums_is_refused() {
    let r = Release::new(|hash, _| format!("{hash}  teamsync-v0.2.0-some-other-target.tar.gz\n"));
    let run = r.install(&[], &[]);
    insta::assert_snapshot!(run.whole(), @r"
    exit code: 1
    ----- stdout -----
    ----- stderr -----
    error: SHA256SUMS of v0.2.0 has no checksum for teamsync-v0.2.0-[TARGET].tar.gz; refusing to install.
    ");
    assert!(!r.installed().exists());
}

#[test]
fn a_version_without_a_release_says_so() {
    let r = Release::good();
    let run = r.install(&[], &[("TEAMSYNC_VERSION", "9.9.9")]);
    insta::assert_snapshot!(run.whole(), @r"
    exit code: 1
    ----- stdout -----
    ----- stderr -----
    curl: (22) [HTTP 404]
    error: cannot download http://127.0.0.1:[PORT]/download/v9.9.9/SHA256SUMS: is there a teamsync release v9.9.9? (Set the version input to a published release.)
    ");
    let run = r.install(&[], &[("TEAMSYNC_VERSION", "main")]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "error: 'main' is not a teamsync release version (expected for example 0.2.0 or v0.2.0).\n"
    );
}

#[test]
fn an_unsupported_os_or_arch_gets_a_clear_error() {
    let r = Release::good();
    let run = r.install(&[], &[("RUNNER_OS", "FreeBSD"), ("RUNNER_ARCH", "X64")]);
    insta::assert_snapshot!(run.whole(), @r"
    exit code: 1
    ----- stdout -----
    ----- stderr -----
    error: teamsync has no release build for FreeBSD/x86_64 (FreeBSD X64); releases exist for Linux x86_64 and aarch64, macOS x86_64 and aarch64, and Windows x86_64. Use a supported runner, or set build-from-source: true to build it with cargo.
    ");
    let run = r.install(&[], &[("RUNNER_OS", "Linux"), ("RUNNER_ARCH", "ARM")]);
    insta::assert_snapshot!(run.whole(), @r"
    exit code: 1
    ----- stdout -----
    ----- stderr -----
    error: teamsync has no release build for linux/ARM (Linux ARM); releases exist for Linux x86_64 and aarch64, macOS x86_64 and aarch64, and Windows x86_64. Use a supported runner, or set build-from-source: true to build it with cargo.
    ");
    let run = r.install(&[], &[("RUNNER_OS", "Windows"), ("RUNNER_ARCH", "ARM64")]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("error: teamsync has no release build for windows/aarch64 "),
        "{}",
        run.whole()
    );
    assert!(!r.path("install").exists());
}

#[test]
fn plain_http_is_refused_unless_the_host_is_loopback() {
    let r = Release::good();
    let run = r.install(
        &[],
        &[("TEAMSYNC_DOWNLOAD_BASE", "http://releases.example.com/dl")],
    );
    insta::assert_snapshot!(run.whole(), @r"
    exit code: 1
    ----- stdout -----
    ----- stderr -----
    error: refusing to download from http://releases.example.com/dl/v0.2.0: only https:// URLs (or http:// to a loopback address) are allowed.
    ");
}

#[test]
fn command_install_leaves_the_verified_binary_on_path_for_later_steps() {
    // action.yml with `command: install`: install.sh, then run.sh in the next step, whose PATH
    // starts with the folders install.sh wrote to GITHUB_PATH (as a runner does it).
    let r = Release::good();
    let install = r.install(&[], &[]);
    assert_eq!(install.code, 0, "{}", install.whole());
    let path = format!("{}:/usr/bin:/bin", r.file("github_path").trim());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action/run.sh");
    let out = Command::new("bash")
        .arg(script)
        .env_clear()
        .env("PATH", path)
        .env("INPUT_COMMAND", "install")
        .env("RUNNER_TEMP", r.dir.path())
        .env("GITHUB_OUTPUT", r.path("run_output"))
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    let run = Run::from(out).redact(&r);
    insta::assert_snapshot!(run.whole(), @r"
    exit code: 0
    ----- stdout -----
    teamsync is installed ([SCRATCH]/install/teamsync); later steps of this job can run it.
    exit-code=0
    has-changes=false
    plan-json=
    plan-markdown=
    report=
    snapshot=
    ----- stderr -----
    ");
}
