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
    assert!(snap.stdout.contains("\"\u{212a}im@example.com\""), "{}", snap.stdout);
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
