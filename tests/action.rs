//! The GitHub Action's run script (`scripts/action/run.sh`, docs/install.md) with the real
//! binary against the emulator: the flags it passes, the outputs it sets, the comment it writes,
//! and that a pull request without the key only validates. Unix only (bash).
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    reason = "test code: a failed unwrap is a failed test, and the harness prints what it ran"
)]

use scaling_emulator::{Emulator, Options, OrgState};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const KEY: &str = "scl_live_TESTKEY_0123456789abcdef";

struct Runner {
    emu: Emulator,
    dir: tempfile::TempDir,
}

/// PATH with the real binary's folder first.
fn real_path() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_teamsync")).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

struct Step {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: String,
}

impl Step {
    /// The step succeeded and its outputs start with `exit-code=CODE` and `has-changes=…`.
    fn succeeded_with(&self, exit_code: u8, has_changes: bool) {
        assert_eq!(self.code, 0, "{}\n{}", self.stdout, self.stderr);
        let head = format!("exit-code={exit_code}\nhas-changes={has_changes}\n");
        assert!(self.outputs.starts_with(&head), "{}", self.outputs);
    }
}

impl Runner {
    /// An org of two admins and a member; the file keeps the admins and invites a newcomer.
    fn new() -> Runner {
        let org = OrgState::with_members(&[
            ("root@example.com", "org:admin"),
            ("ann@example.com", "org:admin"),
            ("bob@example.com", "org:member"),
        ]);
        let emu = Emulator::start(
            org,
            Options {
                api_key: KEY.into(),
                ..Options::default()
            },
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("teamsync.yaml"),
            "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n  \
             - email: ann@example.com\n    role: org:admin\n  \
             - email: bob@example.com\n    role: org:member\n  \
             - email: new@example.com\n    role: org:member\n",
        )
        .unwrap();
        Runner { emu, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// run.sh as the action's step runs it, with `teamsync` on PATH and these inputs.
    fn step(&self, inputs: &[(&str, &str)], key: Option<&str>) -> Step {
        self.step_with_path(&real_path(), inputs, key)
    }

    /// run.sh with this PATH, for a fake `teamsync` or none.
    fn step_with_path(&self, path: &str, inputs: &[(&str, &str)], key: Option<&str>) -> Step {
        self.step_env(path, inputs, key, &[])
    }

    /// run.sh with this PATH and these environment variables besides the usual ones (a pull
    /// request's event, say).
    fn step_env(
        &self,
        path: &str,
        inputs: &[(&str, &str)],
        key: Option<&str>,
        env: &[(&str, &str)],
    ) -> Step {
        let _ = std::fs::remove_file(self.path("out"));
        let mut c = Command::new("bash");
        c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action/run.sh"))
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", path)
            .env("RUNNER_TEMP", self.dir.path())
            .env("GITHUB_OUTPUT", self.path("out"))
            .env("GITHUB_STEP_SUMMARY", self.path("summary"))
            .env("SCALING_API_URL", self.emu.url())
            .env("NO_COLOR", "1")
            .env("TEAMSYNC_TODAY", "2027-03-31")
            .stdin(Stdio::null());
        if let Some(key) = key {
            c.env("SCALING_API_KEY", key);
        }
        for (k, v) in inputs {
            c.env(format!("INPUT_{}", k.to_uppercase().replace('-', "_")), v);
        }
        c.envs(env.iter().copied());
        let o = c.output().unwrap();
        Step {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            outputs: std::fs::read_to_string(self.path("out"))
                .unwrap_or_default()
                .replace(&self.dir.path().display().to_string(), "[TMP]"),
        }
    }

    fn writes(&self) -> usize {
        self.emu
            .requests()
            .iter()
            .filter(|q| q.method != "GET")
            .count()
    }
}

#[test]
fn plan_sets_the_outputs_and_writes_the_sticky_comment() {
    let r = Runner::new();
    let s = r.step(&[("command", "plan")], Some(KEY));
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    assert_eq!(
        s.outputs,
        "exit-code=2\nhas-changes=true\nplan-json=[TMP]/teamsync-plan.json\n\
         plan-markdown=[TMP]/teamsync-plan.md\ncomment-file=[TMP]/teamsync-comment.md\nreport=\n\
         snapshot=\n"
    );
    let comment = std::fs::read_to_string(r.path("teamsync-comment.md")).unwrap();
    assert!(comment.starts_with("<!-- teamsync:plan -->"), "{comment}");
    assert!(comment.contains("new@example.com"), "{comment}");
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.path("teamsync-plan.json")).unwrap()).unwrap();
    assert_eq!(plan["summary"]["invite"], 1, "{plan}");
    // teamsync appends the plan to the job summary once, followed by a blank line.
    let summary = std::fs::read_to_string(r.path("summary")).unwrap();
    assert_eq!(
        summary,
        std::fs::read_to_string(r.path("teamsync-plan.md")).unwrap() + "\n"
    );
    assert_eq!(r.writes(), 0, "plan sends nothing");
    assert!(!s.stdout.contains(KEY) && !s.stderr.contains(KEY));
}

#[test]
fn without_the_key_a_pull_request_is_only_validated() {
    let r = Runner::new();
    let s = r.step(&[("command", "plan")], None);
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    assert!(
        s.stdout
            .contains("::notice::No plan: the API key is not available to this run (secrets are not given to pull requests from forks), and no org snapshot was given. Only validation runs."),
        "{}",
        s.stdout
    );
    assert!(
        s.outputs
            .starts_with("exit-code=0\nhas-changes=false\nplan-json=\n")
    );
    let comment = std::fs::read_to_string(r.path("teamsync-comment.md")).unwrap();
    assert!(
        comment.starts_with("<!-- teamsync:plan -->\n### teamsync: only validation ran\n"),
        "{comment}"
    );
    assert!(r.emu.requests().is_empty(), "no request without a key");

    // An invalid file fails the step, and the comment says so.
    std::fs::write(r.path("teamsync.yaml"), "version: 2\nmembers: []\n").unwrap();
    let s = r.step(&[("command", "plan")], None);
    assert_eq!(s.code, 1);
    let comment = std::fs::read_to_string(r.path("teamsync-comment.md")).unwrap();
    assert!(comment.contains("is invalid"), "{comment}");
}

#[test]
fn drift_needs_the_key() {
    let r = Runner::new();
    let s = r.step(&[("command", "drift")], None);
    assert_eq!(s.code, 1);
    assert!(
        s.stdout
            .contains("::error::Neither SCALING_API_KEY nor SCALING_API_KEY_FILE is set"),
        "{}",
        s.stdout
    );
}

/// A key given as a file (SCALING_API_KEY_FILE, a mounted secret) is a key: the plan reads the
/// org, where without it only validation would run.
#[test]
fn a_key_file_is_a_key() {
    let r = Runner::new();
    std::fs::write(r.path("key"), format!("{KEY}\n")).unwrap();
    let key_file = r.path("key").display().to_string();
    let s = r.step_env(
        &real_path(),
        &[("command", "drift")],
        None,
        &[("SCALING_API_KEY_FILE", &key_file)],
    );
    assert_eq!(s.code, 0, "{}{}", s.stdout, s.stderr);
    assert!(s.outputs.contains("has-changes=true"), "{}", s.outputs);
    assert!(!r.emu.requests().is_empty(), "the org was read");
}

#[test]
fn apply_applies_the_plan_it_showed_with_the_flags_given() {
    let r = Runner::new();
    let s = r.step(
        &[
            ("command", "apply"),
            ("parallelism", "2"),
            ("self", "root@example.com"),
        ],
        Some(KEY),
    );
    s.succeeded_with(0, true);
    assert_eq!(r.writes(), 1, "one invitation");
    assert!(
        s.outputs
            .ends_with("report=[TMP]/teamsync-report.json\nsnapshot=\n"),
        "{}",
        s.outputs
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.path("teamsync-report.json")).unwrap()).unwrap();
    assert_eq!(report["format_version"], 1, "{report}");
    // Applied: nothing left to do.
    let s = r.step(&[("command", "apply")], Some(KEY));
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    assert!(s.stdout.contains("Nothing to apply."), "{}", s.stdout);
    assert!(s.outputs.starts_with("exit-code=0\nhas-changes=false\n"));
    assert_eq!(r.writes(), 1);
}

#[test]
fn a_guard_refusal_fails_the_step_with_exit_code_3() {
    let r = Runner::new();
    // Demoting ann leaves one admin member, under `min_admins: 2`: apply refuses, sends nothing.
    std::fs::write(
        r.path("teamsync.yaml"),
        "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n  \
         - email: ann@example.com\n    role: org:member\n  - email: bob@example.com\n    role: org:member\n\
         safety:\n  min_admins: 2\n",
    )
    .unwrap();
    let s = r.step(&[("command", "apply")], Some(KEY));
    assert_eq!(s.code, 1, "{}\n{}", s.stdout, s.stderr);
    assert!(s.outputs.starts_with("exit-code=3\n"), "{}", s.outputs);
    assert!(
        s.stdout.contains("refused by a safety guard (exit 3)"),
        "{}",
        s.stdout
    );
    assert_eq!(r.writes(), 0);
}

#[test]
fn an_unknown_command_is_an_error() {
    let r = Runner::new();
    let s = r.step(&[("command", "destroy")], Some(KEY));
    assert_eq!(s.code, 1);
    assert!(
        s.stdout.contains(
            "::error::unknown command 'destroy': use install, validate, plan, apply, drift or adopt."
        ),
        "{}",
        s.stdout
    );
}

#[test]
fn adopt_reports_whether_the_file_changed_and_check_writes_nothing() {
    let r = Runner::new();
    let before = std::fs::read_to_string(r.path("teamsync.yaml")).unwrap();
    // --check: exit 2 is "would change", a result: the step passes and the file stays.
    let s = r.step(&[("command", "adopt"), ("args", "--check")], Some(KEY));
    s.succeeded_with(2, true);
    assert_eq!(
        std::fs::read_to_string(r.path("teamsync.yaml")).unwrap(),
        before
    );
    // adopt: new@ is neither a member nor invited, so its entry goes; the diff is in the log.
    let s = r.step(&[("command", "adopt")], Some(KEY));
    s.succeeded_with(0, true);
    assert!(
        s.stdout.contains("-  - email: new@example.com"),
        "{}",
        s.stdout
    );
    assert!(
        !std::fs::read_to_string(r.path("teamsync.yaml"))
            .unwrap()
            .contains("new@")
    );
    // Nothing left to adopt.
    let s = r.step(&[("command", "adopt")], Some(KEY));
    s.succeeded_with(0, false);
    assert_eq!(r.writes(), 0, "adopt only reads the org");
}

/// A fake `teamsync` in its own folder: it records each call's arguments as one line and exits
/// with the next of `codes` (0 once they run out).
struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new(codes: &[u8]) -> Fake {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("teamsync");
        let codes = codes
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >>\"$0.calls\"\n\
                 n=$(wc -l <\"$0.calls\")\n\
                 code=$(echo '{codes}' | awk -v n=\"$n\" '{{ print $n }}')\n\
                 exit \"${{code:-0}}\"\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        Fake { dir }
    }

    /// PATH with the fake first.
    fn path(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// Every call so far, one line each, with the runner's folder as [TMP].
    fn calls(&self, r: &Runner) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("teamsync.calls"))
            .unwrap_or_default()
            .replace(&r.dir.path().display().to_string(), "[TMP]")
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

#[test]
fn args_reach_every_teamsync_command_the_action_runs() {
    let r = Runner::new();
    let plan_md = "plan --detailed-exitcode --format markdown --out [TMP]/teamsync-plan.json";
    // (command, key given, exit codes of the fake's calls, the calls expected)
    let cases: [(&str, bool, &[u8], &[&str]); 7] = [
        ("validate", true, &[0], &["validate"]),
        ("plan", true, &[2], &[plan_md]),
        // Without the key, plan only validates: the args go there.
        ("plan", false, &[0], &["validate"]),
        ("drift", true, &[0], &[plan_md]),
        (
            "apply",
            true,
            &[2, 0],
            &[
                "plan --detailed-exitcode --out [TMP]/teamsync-plan.json",
                "apply --auto-approve --report [TMP]/teamsync-report.json --parallelism 2 \
                 [TMP]/teamsync-plan.json",
            ],
        ),
        ("adopt", true, &[0], &["adopt"]),
        // install runs no teamsync command at all.
        ("install", true, &[], &[]),
    ];
    for (command, key, codes, expected) in cases {
        let fake = Fake::new(codes);
        let inputs = [
            ("command", command),
            ("file", "org.yaml"),
            ("parallelism", "2"),
            ("args", "-v  --timeout 7"),
        ];
        let s = r.step_with_path(&fake.path(), &inputs, key.then_some(KEY));
        assert_eq!(s.code, 0, "{command}: {}\n{}", s.stdout, s.stderr);
        let expected: Vec<String> = expected
            .iter()
            .map(|words| format!("--file org.yaml {words} -v --timeout 7"))
            .collect();
        assert_eq!(fake.calls(&r), expected, "{command}");
    }
}

#[test]
fn apply_gives_the_args_to_the_apply_step_too() {
    // The real binary: `-v` after the PLANFILE is taken, and apply's info log shows it reached
    // the apply (the plan step's share is asserted with the fake above).
    let r = Runner::new();
    let s = r.step(&[("command", "apply"), ("args", "-v")], Some(KEY));
    s.succeeded_with(0, true);
    assert!(
        s.stderr
            .contains("reading the org again to verify the apply"),
        "{}",
        s.stderr
    );
    assert_eq!(r.writes(), 1, "one invitation");
}

#[test]
fn install_only_checks_that_teamsync_is_on_path() {
    let r = Runner::new();
    let s = r.step(&[("command", "install")], Some(KEY));
    let bin = Path::new(env!("CARGO_BIN_EXE_teamsync"));
    assert_eq!(s.code, 0, "{}\n{}", s.stdout, s.stderr);
    assert_eq!(
        s.stdout,
        format!(
            "teamsync is installed ({}); later steps of this job can run it.\n\
             exit-code=0\nhas-changes=false\nplan-json=\nplan-markdown=\nreport=\nsnapshot=\n",
            bin.display()
        )
    );
    assert_eq!(
        s.outputs,
        "exit-code=0\nhas-changes=false\nplan-json=\nplan-markdown=\nreport=\nsnapshot=\n"
    );
    assert_eq!(s.stderr, "");
    assert!(r.emu.requests().is_empty(), "install sends nothing");
    assert!(!r.path("summary").exists(), "and writes no job summary");
}

#[test]
fn install_names_the_inputs_it_does_not_use_and_fails_without_teamsync() {
    let r = Runner::new();
    let s = r.step(
        &[
            ("command", "install"),
            ("self", "root@example.com"),
            ("args", "-v"),
            ("allow-mass-removal", "true"),
        ],
        Some(KEY),
    );
    s.succeeded_with(0, false);
    assert!(
        s.stdout.starts_with(
            "::warning::command: install runs no teamsync command, so these inputs are not \
             used: self args allow-mass-removal. Run teamsync in a later step with the flags \
             you need.\n"
        ),
        "{}",
        s.stdout
    );

    // The install step did not put teamsync on PATH: the step fails and says so.
    let s = r.step_with_path("/usr/bin:/bin", &[("command", "install")], Some(KEY));
    assert_eq!(s.code, 1, "{}\n{}", s.stdout, s.stderr);
    assert!(
        s.stdout
            .starts_with("::error::teamsync is not on PATH after the install step.\n"),
        "{}",
        s.stdout
    );
    assert!(s.outputs.starts_with("exit-code=1\n"), "{}", s.outputs);
}

/// Runs git in `dir` with a fixed identity; its trimmed stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args([
            "-c",
            "user.name=teamsync tests",
            "-c",
            "user.email=tests@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git is needed");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// The checkout of a pull request as actions/checkout leaves it (fetch-depth: 2): the files
/// `base` committed, then `head` (written over them) on a branch, and HEAD the merge commit of
/// that branch into the base. Returns the event file's environment.
fn pull_request(r: &Runner, base: &[(&str, &str)], head: &[(&str, &str)]) -> Vec<(String, String)> {
    let dir = r.dir.path();
    let put = |files: &[(&str, &str)]| {
        for (name, text) in files {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    };
    git(dir, &["init", "-q"]);
    put(base);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "base"]);
    let base_sha = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["switch", "-q", "-c", "pr"]);
    put(head);
    git(dir, &["commit", "-q", "-am", "the pull request"]);
    let head_sha = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["switch", "-q", "--detach", &base_sha]);
    git(dir, &["merge", "-q", "--no-ff", "--no-edit", "pr"]);
    let event = dir.join("event.json");
    std::fs::write(
        &event,
        format!(
            r#"{{"pull_request": {{"number": 7, "head": {{"sha": "{head_sha}"}}, "base": {{"sha": "{base_sha}"}}}}}}"#
        ),
    )
    .unwrap();
    vec![
        ("GITHUB_EVENT_NAME".into(), "pull_request".into()),
        ("GITHUB_EVENT_PATH".into(), event.display().to_string()),
    ]
}

const BASE_FILE: &str = "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n  \
     - email: ann@example.com\n    role: org:admin\n  - email: bob@example.com\n    role: org:member\n";

/// The issue's pull request, as the recipes run it: the drift job (with the key) saves the
/// snapshot; the pull request's plan job (without it) plans against the snapshot with the base
/// commit's file as the baseline, and sends nothing.
#[test]
fn the_plan_step_plans_a_pull_request_against_the_snapshot_and_the_base_without_a_key() {
    let r = Runner::new();
    let mut org = r.emu.state();
    org.add_member("hand@example.com", "org:member"); // added in the dashboard
    r.emu.set_state(org);
    let head = BASE_FILE.replace(
        "bob@example.com\n    role: org:member",
        "bob@example.com\n    role: org:admin",
    ) + "  - email: new@example.com\n    role: org:member\n";
    let event = pull_request(
        &r,
        &[("teamsync.yaml", BASE_FILE)],
        &[("teamsync.yaml", &head)],
    );
    let event: Vec<(&str, &str)> = event
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let snapshot = r.path("cache/snapshot.json").display().to_string();

    // The nightly drift job: the plan from the API, then the snapshot.
    let drift = r.step_env(
        &real_path(),
        &[
            ("command", "drift"),
            ("snapshot", &snapshot),
            ("baseline", "none"),
        ],
        Some(KEY),
        &[],
    );
    drift.succeeded_with(2, true);
    assert!(
        drift
            .outputs
            .ends_with("snapshot=[TMP]/cache/snapshot.json\n"),
        "{}",
        drift.outputs
    );
    let saved = std::fs::read_to_string(&snapshot).unwrap();
    assert!(
        saved.contains("\"format\": \"teamsync-snapshot\""),
        "{saved}"
    );
    assert!(!saved.contains(KEY));

    // The pull request's job: no key, the snapshot restored, the base commit's file.
    let before = r.emu.requests().len();
    let plan = r.step_env(
        &real_path(),
        &[("command", "plan"), ("snapshot", &snapshot)],
        None,
        &event,
    );
    plan.succeeded_with(2, true);
    assert_eq!(r.emu.requests().len(), before, "the plan job sends nothing");
    assert!(
        plan.stdout.contains("Baseline: teamsync.yaml as of "),
        "{}",
        plan.stdout
    );
    let comment = std::fs::read_to_string(r.path("teamsync-comment.md")).unwrap();
    for line in [
        "#### This change (2 changes)",
        "<details><summary>This change: 1 invitation, 1 promotion</summary>",
        "- change bob@example.com from org:member to org:admin",
        "#### Drift in the org that applying also reverts (1 change)",
        "Drift: applying also reverts what was done in the org, outside this change, for 1 email.",
        "- remove hand@example.com (org:member) — not in the desired file",
    ] {
        assert!(comment.contains(line), "{line:?} in:\n{comment}");
    }
    assert!(
        comment.contains("Planned against the org as read at "),
        "{comment}"
    );
    // The baseline is the base commit's copy, not the working tree's.
    assert_eq!(
        std::fs::read_to_string(r.path("teamsync-baseline/teamsync.yaml")).unwrap(),
        BASE_FILE
    );
    assert_eq!(r.writes(), 0);
}

#[test]
fn without_a_snapshot_or_a_key_the_plan_step_only_validates_and_says_why() {
    let r = Runner::new();
    let home = r.dir.path().display().to_string();
    let s = r.step_env(
        &real_path(),
        &[("command", "plan"), ("snapshot", "~/no-such/snapshot.json")],
        None,
        &[("HOME", &home)],
    );
    s.succeeded_with(0, false);
    let comment = std::fs::read_to_string(r.path("teamsync-comment.md")).unwrap();
    assert!(
        comment.contains("No plan was made: no org snapshot is available yet (the apply and drift workflows save one, at "),
        "{comment}"
    );
    assert!(r.emu.requests().is_empty());
}

#[test]
fn the_action_passes_the_snapshot_and_the_base_commits_folder_and_saves_snapshots() {
    let r = Runner::new();
    // A folder of parts; the pull request changes one part and adds another.
    let event = pull_request(
        &r,
        &[
            ("org/root.yaml", "version: 1 # base\n"),
            ("org/eng/team.yaml", "version: 1 # eng at base\n"),
        ],
        &[
            (
                "org/eng/team.yaml",
                "version: 1 # eng in the pull request\n",
            ),
            ("org/sales.yaml", "version: 1 # new\n"),
        ],
    );
    let event: Vec<(&str, &str)> = event
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    std::fs::write(r.path("snap.json"), "{}").unwrap();
    let fake = Fake::new(&[2]);
    let s = r.step_env(
        &fake.path(),
        &[
            ("command", "plan"),
            ("file", "org/"),
            ("snapshot", "~/snap.json"),
        ],
        None,
        &[
            event.as_slice(),
            &[("HOME", &r.dir.path().display().to_string())],
        ]
        .concat(),
    );
    s.succeeded_with(2, true);
    assert_eq!(
        fake.calls(&r),
        [
            "--file org/ plan --detailed-exitcode --format markdown --out [TMP]/teamsync-plan.json \
          --live [TMP]/snap.json --baseline [TMP]/teamsync-baseline/org"
        ]
    );
    let base = |rel: &str| std::fs::read_to_string(r.path("teamsync-baseline/org").join(rel)).ok();
    assert_eq!(base("root.yaml").as_deref(), Some("version: 1 # base\n"));
    assert_eq!(
        base("eng/team.yaml").as_deref(),
        Some("version: 1 # eng at base\n")
    );
    assert_eq!(base("sales.yaml"), None, "not in the base commit");

    // apply and drift save a snapshot after their plan; a failure to save one is a warning.
    for (command, codes, calls) in [
        (
            "apply",
            &[2u8, 0, 0][..],
            &[
                "plan --detailed-exitcode --out [TMP]/teamsync-plan.json",
                "apply --auto-approve --report [TMP]/teamsync-report.json [TMP]/teamsync-plan.json",
                "snapshot --output [TMP]/snap.json",
            ][..],
        ),
        (
            "drift",
            &[0, 1],
            &[
                "plan --detailed-exitcode --format markdown --out [TMP]/teamsync-plan.json",
                "snapshot --output [TMP]/snap.json",
            ],
        ),
    ] {
        let fake = Fake::new(codes);
        let snapshot = r.path("snap.json").display().to_string();
        let s = r.step_with_path(
            &fake.path(),
            &[("command", command), ("snapshot", &snapshot)],
            Some(KEY),
        );
        assert_eq!(s.code, 0, "{command}: {}\n{}", s.stdout, s.stderr);
        assert_eq!(fake.calls(&r), calls, "{command}");
        let saved = codes.last() == Some(&0);
        assert_eq!(
            s.outputs.ends_with("snapshot=[TMP]/snap.json\n"),
            saved,
            "{command}: {}",
            s.outputs
        );
        assert_eq!(
            s.stdout
                .contains("::warning::Could not save the org snapshot"),
            !saved,
            "{command}: {}",
            s.stdout
        );
    }
}
