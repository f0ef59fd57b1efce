//! Odd answers and odd moments, round 4 (issue 28, docs/contract.md): each finding replayed
//! through the binary against the emulator, the API misbehaving through its fault knobs.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::{Faults, Meanwhile, OrgState};

const ROOT_ONLY: &str = "version: 1
members:
  - email: root@example.com
    role: org:admin
";

/// Item 1: an org member `\u{212a}im@example.com` (KELVIN SIGN, which Unicode lower-cases to
/// `k`) is not the file's `kim@example.com`: the real person is invited, the look-alike is
/// removed and shown escaped, and snapshot and export keep its address as written.
#[test]
fn a_look_alike_email_is_another_address() {
    let org = OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("\u{212a}im@example.com", "org:admin"),
    ]);
    let file = format!("{ROOT_ONLY}  - email: kim@example.com\n    role: org:admin\n");
    let w = World::new(org, &file);
    assert_run!("round4_lookalike_plan", w.run(&["plan"]));
    let json = w.run(&["plan", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let changes: Vec<(String, String)> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_string(),
                c["email"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("invite".to_string(), "kim@example.com".to_string()),
            ("remove".to_string(), "\u{212a}im@example.com".to_string()),
        ]
    );
    let snap = w.run(&["snapshot"]);
    assert_eq!(snap.code, 0, "{}", snap.all());
    assert!(
        snap.stdout.contains("\"\u{212a}im@example.com\""),
        "{}",
        snap.stdout
    );
    let export = w.run(&["export"]);
    assert_eq!(export.code, 0, "{}", export.all());
    assert!(
        export.stdout.contains("\u{212a}im@example.com") && !export.stdout.contains("kim@"),
        "{}",
        export.stdout
    );
    let apply = w.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.all());
    assert_eq!(
        w.emu.invites_committed().into_keys().collect::<Vec<_>>(),
        ["kim@example.com"]
    );
}

/// Item 1, the rules: `protected`, `ignore` and `allowed_domains` fold ASCII case only, so a
/// look-alike address is neither protected nor ignored by the ASCII pattern that reads like it.
#[test]
fn rules_fold_ascii_case_only() {
    let org = OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("\u{212a}eeper@example.com", "org:member"),
        ("Bot@Example.com", "org:member"),
    ]);
    let file = "version: 1
protected: [keeper@example.com]
ignore: [\"BOT@*\"]
members:
  - email: root@example.com
    role: org:admin
";
    let w = World::new(org, file);
    assert_run!("round4_lookalike_rules", w.run(&["plan"]));
}

/// Item 2: a plain revocation answered 404 because the person accepted just before: the step
/// fails (exit 1), says what happened and what comes next, and the report says so too.
#[test]
fn a_revocation_that_lost_to_an_acceptance_fails() {
    let mut org = OrgState::with_members(&[("root@example.com", "org:admin")]);
    org.add_invitation("gone@example.com", "org:member");
    let w = World::new(org, ROOT_ONLY);
    w.emu.set_faults(Faults {
        on_revoke: Some(Meanwhile::Accepted),
        ..Faults::default()
    });
    let r = w.run(APPLY_REPORTED);
    assert_run!("round4_revocation_lost_to_acceptance", r);
    let v = w.report();
    let step = &v["steps"][0];
    assert_eq!(step["outcome"], "failed", "{v:#}");
    assert_eq!(step["code"], "not_found", "{v:#}");
    assert!(step["request_id"].is_string(), "{v:#}");
    assert!(
        step["message"]
            .as_str()
            .unwrap()
            .starts_with("accepted before it could be revoked: now a member as org:member"),
        "{v:#}"
    );
    // The next apply removes them.
    w.emu.set_faults(Faults::default());
    let again = w.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(w.roster(), ["root@example.com org:admin"]);
}

/// Item 3: of two pending invitations for one email, the newest is kept and the old one
/// revoked: one write, and the link just sent still works.
#[test]
fn several_pending_invitations_keep_the_newest() {
    let mut org = OrgState::with_members(&[("root@example.com", "org:admin")]);
    let new = org.add_invitation("ann@example.com", "org:member");
    let old = org.add_invitation("ann@example.com", "org:member");
    let file = format!(
        "{ROOT_ONLY}  - email: ann@example.com\n    role: org:member\ninvitations:\n  resend_after_days: 30\n"
    );
    let w = World::new(org, &file);
    // Listed newest first: the list order says nothing about age.
    w.emu
        .shared()
        .set_created_at(&new, Some("2027-03-30T08:00:00.000Z"));
    w.emu
        .shared()
        .set_created_at(&old, Some("2026-12-01T08:00:00.000Z"));
    assert_run!("round4_newest_invitation_kept", w.run(&["plan"]));
    let r = w.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        w.writes(),
        [format!("DELETE /v1/team/members/invitations/{old}")]
    );
}

/// Item 4: a list whose `nextCursor` is an empty string cannot be known complete: an error,
/// nothing planned.
#[test]
fn an_empty_next_cursor_is_an_error() {
    let w = World::new(org(), FILE);
    w.emu.set_faults(Faults {
        empty_cursor: true,
        ..Faults::default()
    });
    assert_run!("round4_empty_cursor", w.run(&["plan"]));
    assert_eq!(w.run(&["apply", "--auto-approve"]).code, 1);
    assert!(w.writes().is_empty(), "nothing is sent");
}

/// Item 5: the report counts every request sent (a write answered 429 and sent again counts
/// twice), carries the rate-limit pauses, and keeps the `requestId` of an error answer that a
/// confirming read followed.
#[test]
fn the_report_tells_what_was_sent() {
    let mut org = OrgState::with_members(&[("root@example.com", "org:admin")]);
    org.add_member("gone@example.com", "org:member");
    let file = format!("{ROOT_ONLY}  - email: new@example.com\n    role: org:member\n");
    let w = World::new(org, &file);
    // The invitation commits but its answer is a 500; the removal meets a rate-limit window.
    w.emu.set_faults(Faults {
        commit_then_fail: 1.0,
        writes_only: true,
        late_commit_max: None,
        rate_limit_window: std::time::Duration::from_millis(300),
        rate_limit_window_at_write: 2,
        retry_after: "1".into(),
        ..Faults::default()
    });
    let r = w.run(APPLY_REPORTED);
    let v = w.report();
    let steps = v["steps"].as_array().unwrap();
    let invite = steps.iter().find(|s| s["action"] == "invite").unwrap();
    assert_eq!(invite["confirmed_by_reread"], true, "{v:#}");
    assert_eq!(invite["attempts"], 1, "{v:#}");
    assert_eq!(
        invite["error_request_ids"].as_array().map(Vec::len),
        Some(1),
        "the lost answer's requestId is kept: {v:#}"
    );
    let remove = steps.iter().find(|s| s["action"] == "remove").unwrap();
    assert!(
        remove["attempts"].as_u64().unwrap() >= 2,
        "the 429 and the request sent again: {v:#}"
    );
    assert!(
        v["rate_limit_pauses"]["count"].as_u64().unwrap() >= 1,
        "{v:#}"
    );
    assert!(v["rate_limit_pauses"]["seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// Item 6: a report that cannot be written (`/dev/full`) is found before any request that
/// changes the org: exit 1, nothing sent. A job summary that cannot be written is a warning,
/// found before the first write too.
#[cfg(target_os = "linux")]
#[test]
fn outputs_are_checked_before_the_first_write() {
    let w = World::new(org(), FILE);
    assert_run!(
        "round4_report_dev_full",
        w.run(&["apply", "--auto-approve", "--report", "/dev/full"])
    );
    assert!(w.writes().is_empty(), "nothing was sent");
    let mut c = w.cmd(&["apply", "--auto-approve", "--parallelism", "1"]);
    c.env("GITHUB_STEP_SUMMARY", "/dev/full");
    let r: Run = c.output().unwrap().into();
    assert_eq!(r.code, 0, "{}", r.all());
    let warned = r
        .stderr
        .find("the job summary /dev/full cannot be written")
        .expect("warned");
    let first_step = r.stderr.find("[1/").expect("a step");
    assert!(
        warned < first_step,
        "warned before the first write:\n{}",
        r.stderr
    );
}

/// Item 6: what plan (`--out`) and apply (`--report`) write never names a part of a
/// `--baseline` directory, nor a new YAML file that would become one (apply reads that
/// directory as plan does); refused before the org is read.
#[test]
fn out_and_report_are_never_a_part_of_the_baseline_directory() {
    for (command, flag) in [
        (&["plan"][..], "--out"),
        (&["apply", "--auto-approve"], "--report"),
    ] {
        let w = World::new(org(), FILE);
        std::fs::create_dir(w.path("base")).unwrap();
        w.write("base/team.yaml", FILE);
        for out in ["base/team.yaml", "base/new.yaml"] {
            let r = w.run(&[command, &["--baseline", "base", flag, out]].concat());
            assert_eq!(r.code, 1, "{command:?} {flag}: {}", r.all());
            has(&r.stderr, "--baseline directory base");
        }
        assert_eq!(
            std::fs::read_to_string(w.path("base/team.yaml")).unwrap(),
            FILE
        );
        assert!(!w.path("base/new.yaml").exists());
        assert!(
            w.emu.requests().is_empty(),
            "{command:?}: refused before the org is read"
        );
    }
    let w = World::new(org(), FILE);
    std::fs::create_dir(w.path("base")).unwrap();
    w.write("base/team.yaml", FILE);
    assert_eq!(
        w.run(&["plan", "--baseline", "base", "--out", "plan.json"])
            .code,
        0
    );
}

/// Item 8: `cannot_remove_self` without `--self` says to set `TEAMSYNC_SELF`; until then the
/// plan keeps proposing the removal.
#[test]
fn cannot_remove_self_says_to_set_teamsync_self() {
    let org = OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("ada@example.com", "org:admin"),
    ]);
    let file = "version: 1\nmembers:\n  - email: ada@example.com\n    role: org:admin\n";
    let w = World::new(org, file);
    assert_run!(
        "round4_cannot_remove_self",
        w.run(&["apply", "--auto-approve"])
    );
    assert_eq!(w.run(&["plan", "--detailed-exitcode"]).code, 2);
    let with_self = w.run_env(
        &["plan", "--detailed-exitcode"],
        &[("TEAMSYNC_SELF", "root@example.com")],
    );
    has(&with_self.stdout, "own account (TEAMSYNC_SELF)");
}

/// Item 9: every problem of an entry: a domain outside `allowed_domains` does not hide that an
/// `ignore` pattern matches the entry too; `min_admins: 0` is an error.
#[test]
fn validation_reports_every_problem_of_an_entry() {
    let file = "version: 1
allowed_domains: [example.com]
ignore: [\"*@vendor.io\"]
safety:
  min_admins: 0
members:
  - email: root@example.com
    role: org:admin
  - email: help@vendor.io
    role: org:member
";
    let w = World::new(org(), file);
    assert_run!("round4_validation_every_problem", w.run(&["validate"]));
}

/// Item 10: `--timeout 0` is an error, from the flag or the variable, named as given.
#[test]
fn a_zero_timeout_is_an_error() {
    let w = World::new(org(), FILE);
    assert_run!(
        "round4_timeout_zero_flag",
        w.run(&["plan", "--timeout", "0"])
    );
    let r = w.run_env(&["plan"], &[("TEAMSYNC_TIMEOUT", "0")]);
    assert_eq!(r.code, 1);
    has(&r.stderr, "TEAMSYNC_TIMEOUT is 0");
    assert!(w.emu.requests().is_empty());
}

/// Item 10: a protected invitation past `resend_after_days` is not planned for re-sending (no
/// blocked change, so `--detailed-exitcode` exits 0) and a warning says it is old and
/// protected; a blocked replacement counts as one; a `createdAt` in the future says so.
#[test]
fn protected_invitations_and_blocked_replacements() {
    let mut org = OrgState::with_members(&[("root@example.com", "org:admin")]);
    let old = org.add_invitation("glass@example.com", "org:admin");
    let wrong = org.add_invitation("vault@example.com", "org:member");
    let future = org.add_invitation("later@example.com", "org:member");
    let file = format!(
        "{ROOT_ONLY}  - email: glass@example.com\n    role: org:admin\n  - email: later@example.com\n    role: org:member\nprotected: [glass@example.com]\ninvitations:\n  resend_after_days: 30\n"
    );
    let w = World::new(org, &file);
    let shared = w.emu.shared();
    shared.set_created_at(&old, Some("2026-12-01T08:00:00.000Z"));
    shared.set_created_at(&wrong, Some("2027-03-01T08:00:00.000Z"));
    shared.set_created_at(&future, Some("2027-04-02T08:00:00.000Z"));
    assert_run!(
        "round4_protected_old_invitation",
        w.run(&["plan", "--detailed-exitcode"])
    );
    // vault@ is protected and the file wants it as admin: its replacement (revoke, invite) is
    // blocked, and counts as one.
    w.write(
        "teamsync.yaml",
        &format!(
            "{ROOT_ONLY}  - email: glass@example.com\n    role: org:admin\n  - email: later@example.com\n    role: org:member\n  - email: vault@example.com\n    role: org:admin\nprotected: [glass@example.com, vault@example.com]\ninvitations:\n  resend_after_days: 30\n"
        ),
    );
    assert_run!("round4_blocked_replacement", w.run(&["plan"]));
    let json = w.run(&["plan", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["summary"]["blocked"], 1, "{v:#}");
}

/// Item 10: `export --split-by domain` writes `members: []` for a part whose every address is
/// ignored (the schema refuses `members:` with nothing under it), and the parts plan empty.
#[test]
fn export_split_writes_an_empty_list_for_an_empty_part() {
    let mut org = OrgState::with_members(&[("root@example.com", "org:admin")]);
    org.add_member("bot@robots.io", "org:billing");
    let w = World::new(org, "");
    let r = w.run(&["export", "--split-by", "domain", "exported"]);
    assert_eq!(r.code, 0, "{}", r.all());
    crate::assert_text!(
        "round4_export_empty_part",
        std::fs::read_to_string(w.path("exported/robots.io.yaml")).unwrap()
    );
    let plan = w.run(&["plan", "-f", "exported", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
}
