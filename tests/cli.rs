//! Integration tests: the real `teamsync` binary against the in-process emulator, over HTTP on
//! 127.0.0.1, with a pinned environment (`NO_COLOR=1`, a fixed date, fast retries).

use scaling_emulator::{Emulator, Faults, Options, OrgState};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const KEY: &str = "scl_live_TESTKEY_0123456789abcdef";
const TODAY: &str = "2027-03-31";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Fails with the whole text when `needle` is not in it.
#[track_caller]
fn has(text: &str, needle: &str) {
    assert!(text.contains(needle), "expected {needle:?} in:\n{text}");
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// A scratch directory with a desired file, and an emulator.
struct World {
    emu: Emulator,
    dir: tempfile::TempDir,
}

impl World {
    fn new(org: OrgState, file: &str) -> World {
        World::with_options(
            org,
            file,
            Options {
                api_key: KEY.into(),
                ..Options::default()
            },
        )
    }

    fn with_options(org: OrgState, file: &str, options: Options) -> World {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("teamsync.yaml"), file).unwrap();
        World {
            emu: Emulator::start(org, options),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_teamsync"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("SCALING_API_KEY", KEY)
            .env("SCALING_API_URL", self.emu.url())
            .env("NO_COLOR", "1")
            .env("TEAMSYNC_TODAY", TODAY)
            .env("TEAMSYNC_RETRY_BASE_MS", "5")
            .env("TEAMSYNC_TIMEOUT", "5")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).output().unwrap().into()
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap().into()
    }

    /// The org as `email role` / `email role (invited)` lines, sorted.
    fn roster(&self) -> Vec<String> {
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
fn org() -> OrgState {
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

const FILE: &str = "version: 1
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

const WANT: &[&str] = &[
    "alice@example.com org:member",
    "bob@example.com org:admin",
    "carol@example.com org:member (invited)",
    "erin@example.com org:member (invited)",
    "root@example.com org:admin",
    "support@vendor.io org:member",
];

// ---------------------------------------------------------------------------------------------
// validate

#[test]
fn validate_reports_every_problem_with_line_and_column() {
    let w = World::new(
        OrgState::default(),
        "version: 2\ncolour: blue\nallowed_domains: [example.com]\nmembers:\n  - email: jane@example.com\n    role: org:admin\n  - email: JANE@example.com \n    role: org:member\n  - email: bob@gmial.com\n    role: org:member\n  - email: not-an-email\n    role: admin\n    rol: x\n  - email: x@example.com\n    role: org:member\n    expires: 2027-02-30\n",
    );
    let r = w.run(&["validate"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    insta::assert_snapshot!("validate_errors", r.stderr);
}

#[test]
fn validate_accepts_a_good_file_offline_and_warns_about_expiry() {
    let w = World::new(
        OrgState::default(),
        "version: 1\nmembers:\n  - email: jane@example.com\n    role: org:admin\n  - email: temp@example.com\n    role: org:member\n    expires: 2027-04-05\n",
    );
    // No API at all: validate must not need one.
    let r = w.run_env(
        &["validate"],
        &[
            ("SCALING_API_URL", "http://127.0.0.1:9/v1"),
            ("SCALING_API_KEY", ""),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "teamsync.yaml:7:14: warning: `temp@example.com` expires on 2027-04-05, in 5 days\nteamsync.yaml is valid: 2 members (1 admin).\n"
    );
    assert_eq!(w.emu.requests().len(), 0);
}

#[test]
fn validate_requires_an_admin_and_a_members_list() {
    let w = World::new(
        OrgState::default(),
        "version: 1\nmembers:\n  - email: a@example.com\n    role: org:member\n",
    );
    let r = w.run(&["validate"]);
    assert_eq!(r.code, 1);
    has(
        &r.stderr,
        "teamsync.yaml:3:3: no member has role `org:admin`",
    );
    w.write("teamsync.yaml", "version: 1\n");
    let r = w.run(&["validate"]);
    has(&r.stderr, "missing required field `members`");
}

#[test]
fn github_actions_gets_annotations() {
    let w = World::new(
        OrgState::default(),
        "version: 1\nmembers:\n  - email: jane@example.com\n    role: org:owner\n",
    );
    let r = w.run_env(&["validate"], &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(r.code, 1);
    // On stderr, so the plan on stdout stays clean (the Markdown marker must be line 1).
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    has(
        &r.stderr,
        "\n::error file=teamsync.yaml,line=4,col=11::unknown role `org:owner`; use `org:admin` or `org:member`\n",
    );
    let r = w.run(&["validate"]);
    assert!(
        !r.stderr.contains("::error"),
        "no annotations outside GitHub Actions"
    );
    // A warning annotation does not disturb a Markdown plan.
    w.write(
        "teamsync.yaml",
        &format!("{FILE}protected: [glass@example.com]\n"),
    );
    let r = w.run_env(
        &["plan", "--format", "markdown"],
        &[("GITHUB_ACTIONS", "true")],
    );
    assert!(
        r.stdout.starts_with("<!-- teamsync:plan -->\n"),
        "{}",
        r.stdout
    );
    has(&r.stderr, "::warning file=teamsync.yaml,line=");
}

// ---------------------------------------------------------------------------------------------
// plan

#[test]
fn plan_text_shows_every_change_grouped_and_changes_nothing() {
    let w = World::new(org(), FILE);
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("plan_text", r.stdout);
    assert_eq!(w.emu.write_count(), 0);
    assert!(w.emu.requests().iter().all(|q| q.method == "GET"));
}

#[test]
fn plan_json_is_stable_for_scripts() {
    let w = World::new(org(), FILE);
    let r = w.run(&["plan", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["summary"]["invite"], 2);
    insta::assert_json_snapshot!("plan_json", v);
}

#[test]
fn plan_diff_and_markdown_formats() {
    let w = World::new(org(), FILE);
    let r = w.run(&["plan", "--format", "diff"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("plan_diff", r.stdout);
    let r = w.run(&["plan", "--format", "markdown"]);
    assert!(r.stdout.starts_with("<!-- teamsync:plan -->\n"));
    insta::assert_snapshot!("plan_markdown", r.stdout);
}

#[test]
fn detailed_exitcode_is_2_with_changes_0_without_and_1_on_error() {
    let w = World::new(org(), FILE);
    assert_eq!(w.run(&["plan", "--detailed-exitcode"]).code, 2);
    assert_eq!(
        w.run(&["plan"]).code,
        0,
        "without the flag, pending changes still exit 0"
    );
    assert_eq!(w.run(&["apply", "--auto-approve"]).code, 0);
    let r = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("No changes."), "{}", r.stdout);
    let r = w.run_env(
        &["plan", "--detailed-exitcode"],
        &[("SCALING_API_KEY", "scl_live_wrong")],
    );
    assert_eq!(r.code, 1);
}

#[test]
fn plan_follows_pagination() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        page_size: Some(2),
        ..Faults::default()
    });
    let paged = w.run(&["plan", "--format", "json"]);
    assert_eq!(paged.code, 0, "{}", paged.stderr);
    assert!(
        w.emu
            .requests()
            .iter()
            .filter(|q| q.method == "GET")
            .count()
            >= 4,
        "7 entries in pages of 2"
    );
    w.emu.set_faults(Faults::default());
    let whole = w.run(&["plan", "--format", "json"]);
    assert_eq!(paged.stdout, whole.stdout);
}

#[test]
fn non_pending_invitations_are_ignored() {
    let mut o = org();
    o.invitations.push(scaling_emulator::Invitation {
        id: "orginv_gone".into(),
        email_address: "gone@example.com".into(),
        role: "org:member".into(),
        status: "revoked".into(),
    });
    let w = World::with_options(
        o,
        FILE,
        Options {
            api_key: KEY.into(),
            list_non_pending: true,
            ..Options::default()
        },
    );
    let r = w.run(&["plan"]);
    assert!(!r.stdout.contains("gone@example.com"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------------
// apply

#[test]
fn apply_converges_and_a_second_apply_sends_nothing() {
    let w = World::new(org(), FILE);
    let r = w.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(w.roster(), WANT);
    has(&r.stderr, "Apply finished: 6 done, 0 blocked, 0 failed.");
    assert_eq!(
        r.stderr.matches("] ").count(),
        6,
        "a progress line per step: {}",
        r.stderr
    );
    let writes = w.emu.write_count();
    let again = w.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0);
    assert!(again.stdout.starts_with("No changes."), "{}", again.stdout);
    assert_eq!(w.emu.write_count(), writes, "a second apply sends nothing");
}

#[test]
fn apply_runs_promotions_before_demotions_before_removals() {
    let w = World::new(org(), FILE);
    assert_eq!(
        w.run(&["apply", "--auto-approve", "--parallelism", "1"])
            .code,
        0
    );
    let writes: Vec<String> = w
        .emu
        .requests()
        .into_iter()
        .filter(|q| q.method != "GET")
        .map(|q| format!("{} {}", q.method, q.path))
        .collect();
    let pos = |needle: &str| {
        writes
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {writes:?}"))
    };
    let promote = pos("user_0002/role");
    let demote = pos("user_0003/role");
    let remove = pos("DELETE /v1/team/members/user_0004");
    let invite = pos("POST");
    assert!(
        promote < demote && invite < demote && demote < remove,
        "{writes:?}"
    );
}

#[test]
fn apply_without_a_terminal_or_auto_approve_refuses_and_sends_nothing() {
    let w = World::new(org(), FILE);
    let r = w.run(&["apply"]);
    assert_eq!(r.code, 1);
    has(&r.stderr, "stdin is not a terminal");
    assert_eq!(w.emu.write_count(), 0);
}

#[test]
fn mass_removal_guard_refuses_with_exit_3_unless_allowed() {
    let w = World::new(
        OrgState::with_members(&[
            ("root@example.com", "org:admin"),
            ("a@example.com", "org:member"),
            ("b@example.com", "org:member"),
            ("c@example.com", "org:member"),
            ("d@example.com", "org:member"),
        ]),
        "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n",
    );
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .starts_with("! warning: mass removal: the plan removes 4 of 5 members"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("remove d@example.com"),
        "plan still prints the whole plan"
    );
    let r = w.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 3, "{}", r.all());
    has(
        &r.stderr,
        "apply refused by a safety guard, nothing was sent",
    );
    assert_eq!(w.emu.write_count(), 0);
    let r = w.run(&["apply", "--auto-approve", "--allow-mass-removal"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(w.roster(), vec!["root@example.com org:admin"]);
}

#[test]
fn min_admins_guard_is_not_lifted_by_allow_mass_removal() {
    let w = World::new(
        OrgState::with_members(&[
            ("root@example.com", "org:admin"),
            ("a@example.com", "org:admin"),
        ]),
        "version: 1\nsafety:\n  min_admins: 2\nmembers:\n  - email: root@example.com\n    role: org:admin\n  - email: a@example.com\n    role: org:member\n  - email: new@example.com\n    role: org:admin\n",
    );
    let r = w.run(&["apply", "--auto-approve", "--allow-mass-removal"]);
    assert_eq!(r.code, 3, "{}", r.all());
    has(&r.stderr, "too few admins");
    assert_eq!(w.emu.write_count(), 0);
}

#[test]
fn self_changes_are_blocked_with_self_and_by_the_api_without() {
    let file = "version: 1\nmembers:\n  - email: root@example.com\n    role: org:member\n  - email: alice@example.com\n    role: org:admin\n  - email: new@example.com\n    role: org:member\n";
    let w = World::new(
        OrgState::with_members(&[
            ("root@example.com", "org:admin"),
            ("alice@example.com", "org:admin"),
        ]),
        file,
    );
    // With --self the plan shows the change as blocked; it is still drift.
    let r = w.run(&["plan", "--self", "ROOT@example.com", "--detailed-exitcode"]);
    assert_eq!(r.code, 2);
    has(
        &r.stdout,
        "! change root@example.com from org:admin to org:member: this is the API key's own account",
    );
    let r = w.run_env(
        &["apply", "--auto-approve"],
        &[("TEAMSYNC_SELF", "root@example.com")],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    has(&r.stderr, "warning: blocked");
    assert_eq!(
        w.emu
            .requests()
            .iter()
            .filter(|q| q.path.contains("/role"))
            .count(),
        0
    );
    // Without --self the API refuses; that step is blocked and the rest goes on.
    w.emu.set_state(OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("alice@example.com", "org:admin"),
    ]));
    let r = w.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    has(
        &r.stderr,
        "blocked: the API refused: cannot_change_own_role",
    );
    assert!(
        w.roster()
            .contains(&"new@example.com org:member (invited)".to_string())
    );
}

/// Root plus `n` members `pNNN@example.com` (every tenth an admin); a file that keeps the first
/// `keep` of them, flips the role of the first `flip`, and invites `invite` newcomers. Changes:
/// `flip` role changes, `n - keep` removals, `invite` invitations.
fn scenario(n: usize, keep: usize, flip: usize, invite: usize) -> World {
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

#[test]
fn apply_survives_5xx_429_and_lost_answers_without_sending_an_invitation_twice() {
    let w = scenario(30, 20, 7, 20);
    w.emu.set_faults(Faults {
        error_5xx: 0.15,
        rate_limit_429: 0.10,
        retry_after: "0".into(),
        commit_then_fail: 0.10,
        seed: 42,
        ..Faults::default()
    });
    let mut codes = Vec::new();
    for _ in 0..3 {
        let r = w.run(&["apply", "--auto-approve"]);
        codes.push(r.code);
        if r.code == 0 {
            break;
        }
        assert_eq!(r.code, 1, "{}", r.all());
        assert!(
            r.stderr.contains("FAILED") && r.stderr.contains("code "),
            "a failed step names its code: {}",
            r.stderr
        );
    }
    assert_eq!(codes.last(), Some(&0), "converged: {codes:?}");
    let invites = w.emu.invites_committed();
    assert_eq!(invites.len(), 20);
    assert!(
        invites.values().all(|n| *n == 1),
        "no invitation sent twice: {invites:?}"
    );
    w.emu.set_faults(Faults::default());
    assert_eq!(
        w.run(&["plan", "--detailed-exitcode"]).code,
        0,
        "nothing left to do"
    );
}

// ---------------------------------------------------------------------------------------------
// saved plans

#[test]
fn a_fresh_saved_plan_applies_exactly() {
    let w = World::new(org(), FILE);
    let r = w.run(&["plan", "--out", "plan.json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("Saved the plan to plan.json"));
    let r = w.run(&["apply", "--auto-approve", "plan.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(w.roster(), WANT);
}

#[test]
fn a_saved_plan_is_refused_when_the_org_changed() {
    let w = World::new(org(), FILE);
    assert_eq!(w.run(&["plan", "--out", "plan.json"]).code, 0);
    let mut changed = org();
    changed.members[1].role = "org:admin".into(); // bob promoted by hand
    changed.members.retain(|m| m.email != "dave@example.com"); // dave removed by hand
    changed.add_invitation("zoe@example.com", "org:member"); // zoe invited by hand
    w.emu.set_state(changed);
    let r = w.run(&["apply", "--auto-approve", "plan.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    has(&r.stderr, "the saved plan plan.json is stale");
    has(
        &r.stderr,
        "bob@example.com changed: member org:member → member org:admin",
    );
    has(
        &r.stderr,
        "dave@example.com disappeared (was member org:member)",
    );
    has(
        &r.stderr,
        "zoe@example.com appeared (invitation org:member)",
    );
    assert_eq!(w.emu.write_count(), 0);
}

#[test]
fn a_saved_plan_is_refused_when_the_file_changed() {
    let w = World::new(org(), FILE);
    assert_eq!(w.run(&["plan", "--out", "plan.json"]).code, 0);
    w.write("teamsync.yaml", &FILE.replace("erin@", "erin2@"));
    let r = w.run(&["apply", "--auto-approve", "plan.json"]);
    assert_eq!(r.code, 1);
    has(&r.stderr, "teamsync.yaml changed since the plan was made");
    assert_eq!(w.emu.write_count(), 0);
    let r = w.run(&["apply", "--auto-approve", "no-such-plan.json"]);
    assert_eq!(r.code, 1);
    has(&r.stderr, "cannot read the saved plan");
}

// ---------------------------------------------------------------------------------------------
// export, schema, completions

#[test]
fn export_writes_a_file_whose_plan_is_empty() {
    let w = World::new(org(), FILE);
    let r = w.run(&["export", "-o", "exported.yaml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(w.path("exported.yaml")).unwrap();
    insta::assert_snapshot!("export", text);
    assert_eq!(w.run(&["validate", "-f", "exported.yaml"]).code, 0);
    let r = w.run(&["plan", "-f", "exported.yaml", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = w.run(&["export"]);
    assert_eq!(r.stdout, text, "stdout without -o");
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let w = World::new(OrgState::default(), FILE);
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/teamsync.schema.json"),
    )
    .unwrap();
    assert_eq!(w.run(&["schema"]).stdout, committed);
    let r = w.run(&["completions", "bash"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("teamsync") && r.stdout.contains("--detailed-exitcode"));
}

// ---------------------------------------------------------------------------------------------
// errors and secrets

#[test]
fn unauthorized_keys_are_explained_and_never_retried() {
    let w = World::new(org(), FILE);
    let r = w.run_env(&["plan"], &[("SCALING_API_KEY", "scl_live_wrong")]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("invalid_api_key") && r.stderr.contains("requestId"),
        "{}",
        r.stderr
    );
    assert_eq!(w.emu.requests().len(), 1, "401 is never retried");
    let w = World::with_options(
        org(),
        FILE,
        Options {
            api_key: KEY.into(),
            key_is_admin: false,
            ..Options::default()
        },
    );
    let r = w.run(&["plan"]);
    has(&r.stderr, "lacks the org:admin role");
    let r = w.run_env(&["plan"], &[("SCALING_API_KEY", "")]);
    assert_eq!(r.code, 1);
    has(&r.stderr, "SCALING_API_KEY is not set");
}

#[test]
fn the_key_never_appears_in_any_output_at_any_verbosity() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        error_5xx: 0.3,
        commit_then_fail: 0.2,
        retry_after: "0".into(),
        seed: 3,
        ..Faults::default()
    });
    let mut seen = String::new();
    for args in [
        &["plan", "-vvv"][..],
        &["apply", "--auto-approve", "-vvv"],
        &["plan", "--format", "json", "-vv"],
        &["export", "-vvv"],
    ] {
        seen.push_str(&w.run_env(args, &[("TEAMSYNC_LOG", "trace")]).all());
    }
    seen.push_str(
        &w.run_env(
            &["plan", "-vvv"],
            &[("SCALING_API_URL", "http://127.0.0.1:1/v1")],
        )
        .all(),
    );
    assert!(
        seen.contains("GET") || seen.contains("request"),
        "verbose output was produced"
    );
    assert!(!seen.contains(KEY), "the key leaked");
    assert!(!seen.contains("TESTKEY"), "part of the key leaked");
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let w = World::new(org(), FILE);
    let r = w.run_env(
        &["plan"],
        &[("SCALING_API_URL", "http://api.scaling.cloud/v1")],
    );
    assert_eq!(r.code, 1);
    has(&r.stderr, "refusing plain http");
    let r = w.run(&["plan", "--api-url", "http://10.1.2.3/v1"]);
    assert_eq!(r.code, 1);
    has(&r.stderr, "refusing plain http");
}

#[test]
fn an_unreachable_api_fails_with_one_clear_sentence() {
    let w = World::new(org(), FILE);
    let r = w.run_env(&["plan"], &[("SCALING_API_URL", "http://127.0.0.1:1/v1")]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: could not connect to the API"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"));
}

#[test]
fn bad_flags_exit_1() {
    let w = World::new(org(), FILE);
    assert_eq!(w.run(&["plan", "--format", "yaml"]).code, 1);
    assert_eq!(
        w.run(&["apply", "--parallelism", "0", "--auto-approve"])
            .code,
        1
    );
    assert_eq!(w.run(&["--help"]).code, 0);
}

#[test]
fn timeouts_are_unknown_outcomes_that_are_checked_not_repeated() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        slow: 0.5,
        slow_delay: Duration::from_millis(1500),
        writes_only: true,
        seed: 9,
        ..Faults::default()
    });
    let mut last = 1;
    for _ in 0..3 {
        last = w
            .run_env(&["apply", "--auto-approve"], &[("TEAMSYNC_TIMEOUT", "1")])
            .code;
        if last == 0 {
            break;
        }
    }
    assert_eq!(last, 0);
    assert_eq!(w.roster(), WANT);
    assert!(w.emu.invites_committed().values().all(|n| *n == 1));
}

#[test]
fn an_org_of_300_with_200_changes_converges_within_two_runs_under_mixed_faults() {
    // 300 members: keep 260 (60 with a new role), remove 40, invite 100: 200 changes.
    let w = scenario(299, 259, 60, 100);
    let plan = w.run(&["plan", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(v["changes"].as_array().unwrap().len(), 200);
    w.emu.set_faults(Faults {
        error_5xx: 0.10,
        rate_limit_429: 0.05,
        retry_after: "0".into(),
        commit_then_fail: 0.10,
        slow: 0.01,
        slow_delay: Duration::from_millis(1500),
        drop_connection: 0.03,
        seed: 2026,
        ..Faults::default()
    });
    let mut runs = Vec::new();
    for _ in 0..2 {
        let r = w.run_env(&["apply", "--auto-approve"], &[("TEAMSYNC_TIMEOUT", "1")]);
        let failed_lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains("FAILED")).collect();
        if r.code == 0 {
            assert!(failed_lines.is_empty(), "{}", r.stderr);
            has(&r.stderr, " 0 failed.");
        } else {
            assert_eq!(r.code, 1, "{}", r.all());
            has(&r.stderr, "failed or not attempted");
            for l in &failed_lines {
                assert!(
                    l.contains("(code ") || l.contains("timed out") || l.contains("connection"),
                    "a failure says why: {l}"
                );
            }
        }
        runs.push(r.code);
        if r.code == 0 {
            break;
        }
    }
    assert_eq!(runs.last(), Some(&0), "converged within two runs: {runs:?}");
    // The faults really happened.
    let statuses: Vec<u16> = w.emu.requests().iter().map(|q| q.status).collect();
    for status in [500, 429] {
        assert!(statuses.contains(&status), "no {status} was injected");
    }
    eprintln!(
        "runs {runs:?}; {} requests; statuses: {:?}",
        statuses.len(),
        {
            let mut counts = std::collections::BTreeMap::new();
            for s in &statuses {
                *counts.entry(*s).or_insert(0) += 1;
            }
            counts
        }
    );
    let invites = w.emu.invites_committed();
    assert_eq!(invites.len(), 100);
    assert!(
        invites.values().all(|n| *n == 1),
        "no invitation sent twice: {invites:?}"
    );
    w.emu.set_faults(Faults::default());
    let r = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

/// Runs teamsync on a pseudo-terminal (util-linux `script`), typing `answer` at the prompt.
fn on_a_terminal(w: &World, args: &str, answer: &str) -> Run {
    let bin = env!("CARGO_BIN_EXE_teamsync");
    let line = format!("(sleep 1; echo {answer}) | script -qec '{bin} {args}' /dev/null");
    let mut c = w.cmd(&[]);
    c.env("PATH", std::env::var("PATH").unwrap_or_default());
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(line).current_dir(w.dir.path());
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    sh.output()
        .expect("sh and util-linux `script` are needed for the terminal tests")
        .into()
}

#[test]
fn on_a_terminal_apply_asks_and_only_yes_proceeds() {
    let w = World::new(org(), FILE);
    let r = on_a_terminal(&w, "apply", "no");
    has(&r.stdout, "Only 'yes' will be accepted:");
    has(&r.stdout, "apply cancelled");
    assert_eq!(w.emu.write_count(), 0);
    let r = on_a_terminal(&w, "apply", "yes");
    has(&r.stdout, "Apply finished: 6 done");
    assert_eq!(w.roster(), WANT);
}

#[test]
fn an_empty_api_url_means_the_default_as_ci_systems_pass_unset_variables() {
    let w = World::new(org(), FILE);
    // With no key the command stops before any request; the URL must not be the complaint.
    let r = w.run_env(
        &["plan"],
        &[("SCALING_API_URL", ""), ("SCALING_API_KEY", "")],
    );
    assert_eq!(r.code, 1);
    has(&r.stderr, "SCALING_API_KEY is not set");
}

#[test]
fn api_failures_say_what_to_do_next() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        error_5xx: 1.0,
        ..Faults::default()
    });
    let r = w.run(&["plan"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: the API answered 50"),
        "{}",
        r.stderr
    );
    has(&r.stderr, "(code server_error, requestId ");
    has(&r.stderr, "try again in a few minutes");
    assert_eq!(r.stderr.lines().count(), 1, "one sentence: {}", r.stderr);
    assert_eq!(w.emu.requests().len(), 6, "a read is tried 6 times");
}

/// A one-answer HTTP server on loopback: it records the request heads it gets and answers each
/// with `response`.
fn canned_server(
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
        }
    });
    (url, seen)
}

#[test]
fn redirects_are_not_followed_so_the_key_goes_nowhere_else() {
    let (url, seen) = canned_server(
        "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let w = World::new(org(), FILE);
    let r = w.run_env(&["plan"], &[("SCALING_API_URL", &url)]);
    assert_eq!(r.code, 1);
    has(&r.stderr, "redirects are not followed");
    let heads = seen.lock().unwrap();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("GET /v1/team/members HTTP/1.1"),
        "{}",
        heads[0]
    );
}

#[test]
fn an_answer_that_is_not_the_api_is_explained() {
    let (url, _) = canned_server(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 15\r\nConnection: close\r\n\r\n<html>hi</html>",
    );
    let w = World::new(org(), FILE);
    let r = w.run_env(&["plan"], &[("SCALING_API_URL", &url)]);
    assert_eq!(r.code, 1);
    has(&r.stderr, "the API's answer could not be read");
    has(&r.stderr, "points at the Scaling API");
}

#[test]
fn an_invitation_whose_gateway_gave_up_is_found_not_sent_again() {
    // Every invitation answers 504 at once and is created 300 ms later.
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        late_commit: 1.0,
        late_commit_delay: Duration::from_millis(300),
        writes_only: true,
        seed: 5,
        ..Faults::default()
    });
    let r = w.run_env(
        &["apply", "--auto-approve"],
        &[("TEAMSYNC_RETRY_BASE_MS", "100")],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    has(&r.stderr, "done (confirmed by reading the org again)");
    std::thread::sleep(Duration::from_millis(500));
    let invites = w.emu.invites_committed();
    assert_eq!(invites.len(), 2, "{invites:?}");
    assert!(
        invites.values().all(|n| *n == 1),
        "no invitation sent twice: {invites:?}"
    );
    w.emu.set_faults(Faults::default());
    assert_eq!(w.run(&["plan", "--detailed-exitcode"]).code, 0);
}

#[test]
fn a_saved_plan_is_not_applied_to_another_file() {
    let w = World::new(org(), FILE);
    w.write("other.yaml", &FILE.replace("erin@", "erin2@"));
    assert_eq!(
        w.run(&["plan", "-f", "other.yaml", "--out", "plan.json"])
            .code,
        0
    );
    let r = w.run(&[
        "apply",
        "-f",
        "teamsync.yaml",
        "--auto-approve",
        "plan.json",
    ]);
    assert_eq!(r.code, 1);
    has(&r.stderr, "it was made from other.yaml, not teamsync.yaml");
    assert_eq!(w.emu.write_count(), 0);
    // The same file, named explicitly, is fine.
    let r = w.run(&["apply", "--auto-approve", "-f", "other.yaml", "plan.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn a_reader_that_goes_away_is_no_panic_and_colour_never_reaches_a_pipe() {
    // 3,000 invitations: far more JSON than a pipe holds.
    let w = scenario(5, 5, 0, 3000);
    let bin = env!("CARGO_BIN_EXE_teamsync");
    let mut sh = w.cmd(&[]);
    sh.env("PATH", std::env::var("PATH").unwrap_or_default());
    let mut c = Command::new("sh");
    c.arg("-c").arg(format!(
        "'{bin}' plan --format json | head -c 1 >/dev/null; sleep 0.5"
    ));
    c.current_dir(w.dir.path());
    for (k, v) in sh.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    let r: Run = c.output().unwrap().into();
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let r = w.run_env(&["plan"], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")]);
    assert!(!r.stdout.contains('\x1b'), "{:?}", r.stdout);
}
