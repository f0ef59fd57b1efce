//! What every integration test needs: a scratch directory with a desired file, an emulator on
//! 127.0.0.1, the real `teamsync` binary with a pinned environment, and whole-output snapshots.

use scaling_emulator::{Emulator, Options, OrgState};
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const KEY: &str = "scl_live_TESTKEY_0123456789abcdef";
pub const TODAY: &str = "2027-03-31";
/// The clock of every run (`TEAMSYNC_NOW`, for tests): noon of [`TODAY`].
pub const NOW: &str = "2027-03-31T12:00:00Z";

/// `apply` one step at a time, writing `report.json`.
pub const APPLY_REPORTED: &[&str] = &[
    "apply",
    "--auto-approve",
    "--parallelism",
    "1",
    "--report",
    "report.json",
];

#[path = "../common/run.rs"]
mod run;
pub use run::Run;

/// The volatile parts of an output: loopback ports and request ids.
pub fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[REQUEST_ID]",
        ),
    ]
}

/// Asserts a run's whole output (exit code, stdout, stderr) against a named snapshot, with the
/// volatile parts redacted.
#[macro_export]
macro_rules! assert_run {
    ($name:expr, $run:expr) => {
        insta::with_settings!({
            filters => $crate::support::filters(),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, $run.whole());
        })
    };
}

/// Asserts a text (a written file, say) against a named snapshot.
#[macro_export]
macro_rules! assert_text {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

/// Fails with the whole text when `needle` is not in it.
#[track_caller]
pub fn has(text: &str, needle: &str) {
    assert!(text.contains(needle), "expected {needle:?} in:\n{text}");
}

/// A scratch directory with a desired file, and an emulator.
pub struct World {
    pub emu: Emulator,
    pub dir: tempfile::TempDir,
}

impl World {
    pub fn new(org: OrgState, file: &str) -> World {
        World::with_options(
            org,
            file,
            Options {
                api_key: KEY.into(),
                ..Options::default()
            },
        )
    }

    pub fn with_options(org: OrgState, file: &str, options: Options) -> World {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("teamsync.yaml"), file).unwrap();
        let emu = Emulator::start(org, options);
        // Invitations sent during a test get a fixed date, the day before TODAY, so outputs
        // that show their age stay the same whatever day the tests run.
        emu.shared()
            .set_invitation_clock(Some("2027-03-30T09:00:00.000Z"));
        World { emu, dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_teamsync"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("SCALING_API_KEY", KEY)
            .env("SCALING_API_URL", self.emu.url())
            .env("NO_COLOR", "1")
            .env("TEAMSYNC_TODAY", TODAY)
            .env("TEAMSYNC_NOW", NOW)
            .env("TEAMSYNC_RETRY_BASE_MS", "5")
            .env("TEAMSYNC_TIMEOUT", "5")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).output().unwrap().into()
    }

    /// Starts the binary without waiting for it, its output captured.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Holds every request for `ms` milliseconds (0: none), so that a test can act while a
    /// run is in flight.
    pub fn latency(&self, ms: u64) {
        self.emu.set_faults(scaling_emulator::Faults {
            latency: std::time::Duration::from_millis(ms),
            ..scaling_emulator::Faults::default()
        });
    }

    /// Waits (30 s at most) until the emulator has received a request that `pred` accepts.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&scaling_emulator::RequestRecord) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !self.emu.requests().iter().any(&pred) {
            assert!(std::time::Instant::now() < deadline, "no {what} came");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// The apply report `report.json` as JSON (see [`APPLY_REPORTED`]).
    pub fn report(&self) -> serde_json::Value {
        let text =
            std::fs::read_to_string(self.path("report.json")).expect("the report was written");
        assert!(!text.contains(KEY), "the key is never in the report");
        serde_json::from_str(&text).expect("the report is JSON")
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap().into()
    }

    /// Runs a shell command line in the scratch directory with this world's environment (and
    /// the caller's PATH), for pipes and terminals.
    pub fn sh(&self, line: &str) -> Run {
        let env = self.cmd(&[]);
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(line)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in env.get_envs() {
            if let Some(v) = v {
                sh.env(k, v);
            }
        }
        sh.output().expect("sh is needed").into()
    }

    /// `teamsync snapshot -o FILE` as if run at `now` (RFC 3339).
    pub fn snapshot_at(&self, file: &str, now: &str) {
        let r = self.run_env(&["snapshot", "-o", file], &[("TEAMSYNC_NOW", now)]);
        assert_eq!(r.code, 0, "{}", r.all());
    }

    /// The binary without `SCALING_API_KEY` in its environment: a pull request's job.
    pub fn keyless(&self, args: &[&str]) -> Run {
        let mut c = self.cmd(args);
        c.env_remove("SCALING_API_KEY");
        c.output().unwrap().into()
    }

    /// Writes that reached the emulator, as `METHOD path` lines in arrival order.
    pub fn writes(&self) -> Vec<String> {
        self.emu
            .requests()
            .into_iter()
            .filter(|q| q.method != "GET")
            .map(|q| format!("{} {}", q.method, q.path))
            .collect()
    }

    /// The org as `email role` / `email role (invited)` lines, sorted.
    pub fn roster(&self) -> Vec<String> {
        let s = self.emu.state();
        let mut lines: Vec<String> = s
            .members
            .iter()
            .map(|m| format!("{} {}", m.email.to_lowercase(), m.role))
            .chain(
                s.invitations
                    .iter()
                    .filter(|i| i.status == "pending")
                    .map(|i| format!("{} {} (invited)", i.email_address.to_lowercase(), i.role)),
            )
            .collect();
        lines.sort();
        lines
    }
}

/// The sample org of the tests: an admin (the key's own account), a few members, two
/// invitations.
pub fn org() -> OrgState {
    let mut o = OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("bob@example.com", "org:member"),
        ("alice@example.com", "org:admin"),
        ("dave@example.com", "org:member"),
        ("support@vendor.io", "org:member"),
    ]);
    o.add_invitation("carol@example.com", "org:admin");
    o.add_invitation("old@example.com", "org:member");
    o
}

pub const FILE: &str = "version: 1
ignore: [\"*@vendor.io\"]
members:
  - email: root@example.com
    role: org:admin
  - email: bob@example.com
    role: org:admin
    reason: on-call lead
  - email: alice@example.com
    role: org:member
  - email: carol@example.com
    role: org:member
  - email: erin@example.com
    role: org:member
    reason: new hire
";

pub const WANT: &[&str] = &[
    "alice@example.com org:member",
    "bob@example.com org:admin",
    "carol@example.com org:member (invited)",
    "erin@example.com org:member (invited)",
    "root@example.com org:admin",
    "support@vendor.io org:member",
];

/// Root plus `n` members `pNNN@example.com` (every tenth an admin); a file that keeps the first
/// `keep` of them, flips the role of the first `flip`, and invites `invite` newcomers. Changes:
/// `flip` role changes, `n - keep` removals, `invite` invitations.
pub fn scenario(n: usize, keep: usize, flip: usize, invite: usize) -> World {
    let admin = |i: usize| i % 10 == 0;
    let role = |a: bool| if a { "org:admin" } else { "org:member" };
    let mut org = OrgState::with_members(&[("root@example.com", "org:admin")]);
    let mut file = format!(
        "version: 1\nsafety:\n  max_removals: {}\nmembers:\n  - email: root@example.com\n    role: org:admin\n",
        n - keep
    );
    for i in 1..=n {
        org.add_member(&format!("p{i:03}@example.com"), role(admin(i)));
        if i <= keep {
            let want = role(admin(i) != (i <= flip));
            file.push_str(&format!(
                "  - email: p{i:03}@example.com\n    role: {want}\n"
            ));
        }
    }
    for i in 0..invite {
        file.push_str(&format!(
            "  - email: new{i:03}@example.com\n    role: org:member\n"
        ));
    }
    World::new(org, &file)
}

/// A one-answer HTTP server on loopback: it records the request heads it gets and answers each
/// with `response`.
pub fn canned_server(
    response: &'static str,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = stream.write_all(response.as_bytes());
            // Close our side only, then drain what the client still sends (a TLS ClientHello
            // after a CONNECT) until it closes: closing with unread bytes sends a reset, which
            // can overtake the answer on a busy machine, so the client would see a reset.
            let _ = stream.shutdown(std::net::Shutdown::Write);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    (url, seen)
}
