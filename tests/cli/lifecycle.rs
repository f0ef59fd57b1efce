//! The invitation lifecycle (docs/contract.md §4, §6): ages in plans, stale-invitation warnings,
//! `invitations.resend_after_days` re-sending as one step, and an unknown age never re-sent.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::OrgState;

/// Root, and three pending invitations: 90 days old, 10 days old, and one whose `createdAt`
/// is unreadable.
fn aged_org() -> (OrgState, [String; 3]) {
    let mut o = OrgState::with_members(&[("root@example.com", "org:admin")]);
    let ids = [
        o.add_invitation("stale@example.com", "org:member"),
        o.add_invitation("fresh@example.com", "org:member"),
        o.add_invitation("unknown@example.com", "org:admin"),
    ];
    (o, ids)
}

const BASE: &str = "version: 1
members:
  - email: root@example.com
    role: org:admin
  - email: stale@example.com
    role: org:member
  - email: fresh@example.com
    role: org:member
  - email: unknown@example.com
    role: org:admin
";

fn world(file: &str) -> World {
    let (o, ids) = aged_org();
    let w = World::new(o, file);
    let shared = w.emu.shared();
    // TODAY is 2027-03-31.
    shared.set_created_at(&ids[0], Some("2026-12-31T08:00:00.000Z"));
    shared.set_created_at(&ids[1], Some("2027-03-21T08:00:00+02:00"));
    shared.set_created_at(&ids[2], Some("last tuesday"));
    w
}

#[test]
fn without_resend_after_days_old_invitations_are_warnings_and_ages_are_shown() {
    let w = world(BASE);
    assert_run!("lifecycle_warn_text", w.run(&["plan"]));
    let r = w.run(&["plan", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["pending_invitations"],
        serde_json::json!([
            {"email": "fresh@example.com", "role": "org:member", "invited_at": "2027-03-21T08:00:00+02:00", "age_days": 10},
            {"email": "stale@example.com", "role": "org:member", "invited_at": "2026-12-31T08:00:00.000Z", "age_days": 90},
            {"email": "unknown@example.com", "role": "org:admin", "invited_at": null, "age_days": null},
        ])
    );
    assert_run!(
        "lifecycle_warn_markdown",
        w.run(&["plan", "--format", "markdown"])
    );
    assert_eq!(w.emu.write_count(), 0);
}

#[test]
fn resend_after_days_replaces_only_invitations_older_than_it_as_one_step() {
    let w = world(&format!("{BASE}invitations:\n  resend_after_days: 30\n"));
    assert_run!("lifecycle_resend_plan", w.run(&["plan"]));
    let r = w.run(&["plan", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["resend"], 1);
    assert_eq!(v["changes"][0]["action"], "resend");
    assert_eq!(v["changes"][0]["reason"], "pending for 90 days");
    assert_eq!(v["changes"][0]["invited_at"], "2026-12-31T08:00:00.000Z");

    assert_run!(
        "lifecycle_resend_apply",
        w.run(&["apply", "--auto-approve"])
    );
    assert_eq!(
        w.writes(),
        [
            "DELETE /v1/team/members/invitations/orginv_0001",
            "POST /v1/team/members/invite"
        ],
        "revoke then invite, nothing for the fresh or the unknown-age invitation"
    );
    assert_eq!(w.emu.invites_committed().get("stale@example.com"), Some(&1));
    // The new invitation is a day old: nothing more to do.
    let again = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

/// The world of the re-send tests: stale@'s invitation (90 days) is re-sent, one step, with
/// someone else acting on the emulator's side as it is revoked.
fn resending(faults: scaling_emulator::Faults) -> World {
    let w = world(&format!("{BASE}invitations:\n  resend_after_days: 30\n"));
    w.emu.set_faults(faults);
    w
}

#[test]
fn a_resend_whose_new_invitation_is_refused_says_the_old_one_is_gone() {
    // Issue 22 item 8 (a): the revoke succeeds, the invite gets a 400.
    let w = resending(scaling_emulator::Faults {
        reject_invites: true,
        ..Default::default()
    });
    let r = w.run(&APPLY_REPORTED[..4]);
    assert_eq!(
        w.writes(),
        [
            "DELETE /v1/team/members/invitations/orginv_0001",
            "POST /v1/team/members/invite"
        ]
    );
    assert_run!("resend_invite_refused", r);
    assert!(
        !w.roster().iter().any(|l| l.starts_with("stale@")),
        "stale@ has no invitation now: {:?}",
        w.roster()
    );
}

/// A replacement (the file wants another role) whose old invitation was accepted just before
/// the revoke: done, nothing invited, and the line says the member has the old role, which the
/// next apply changes; it does.
#[test]
fn a_replacement_accepted_meanwhile_says_the_role_the_member_has() {
    let w = world(&BASE.replace(
        "stale@example.com\n    role: org:member",
        "stale@example.com\n    role: org:admin",
    ));
    w.emu.set_faults(scaling_emulator::Faults {
        on_revoke: Some(scaling_emulator::Meanwhile::Accepted),
        ..Default::default()
    });
    let r = w.run(&APPLY_REPORTED[..4]);
    assert_eq!(r.code, 0, "{}", r.all());
    has(
        &r.stderr,
        "done (the invitation was accepted meanwhile, as org:member: already a member, not invited again; the next apply changes the role to org:admin)",
    );
    assert!(w.emu.invites_committed().is_empty());
    w.emu.set_faults(scaling_emulator::Faults::default());
    let again = w.run(&APPLY_REPORTED[..4]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        w.roster()
            .contains(&"stale@example.com org:admin".to_string()),
        "{:?}",
        w.roster()
    );
}

#[test]
fn a_resend_whose_invitation_was_accepted_meanwhile_invites_no_member() {
    // Issue 22 item 8 (b): accepted just before the revoke, which answers 404; the read that
    // confirms the 404 shows a member, so no invitation goes to them.
    let w = resending(scaling_emulator::Faults {
        on_revoke: Some(scaling_emulator::Meanwhile::Accepted),
        ..Default::default()
    });
    let r = w.run(&APPLY_REPORTED[..4]);
    assert_eq!(
        w.writes(),
        ["DELETE /v1/team/members/invitations/orginv_0001"],
        "no invitation to someone who is a member"
    );
    assert_run!("resend_accepted_meanwhile", r);
    assert!(w.emu.invites_committed().is_empty());
    assert!(
        w.roster()
            .contains(&"stale@example.com org:member".to_string())
    );
}

#[test]
fn a_resend_beside_a_dashboard_invitation_is_a_verification_finding() {
    // Issue 22 item 8 (c): someone invites the person again in the dashboard between the
    // revoke and the invite: two pending invitations, which the verification read reports.
    let w = resending(scaling_emulator::Faults {
        on_revoke: Some(scaling_emulator::Meanwhile::InvitedAgain),
        ..Default::default()
    });
    let r = w.run(&APPLY_REPORTED[..4]);
    assert_eq!(
        w.roster()
            .iter()
            .filter(|l| l.starts_with("stale@"))
            .count(),
        2
    );
    assert_run!("resend_invited_again_meanwhile", r);
}

/// docs/contract.md §6: 25 stale invitations are one warning line on stderr, the count and the oldest;
/// `-v` lists them; the JSON keeps one warning per invitation.
#[test]
fn twenty_five_stale_invitations_are_one_warning_line_on_stderr() {
    let mut o = OrgState::with_members(&[("root@example.com", "org:admin")]);
    let mut file =
        String::from("version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n");
    let ids: Vec<String> = (1..=25)
        .map(|i| {
            let email = format!("p{i:02}@example.com");
            file.push_str(&format!("  - email: {email}\n    role: org:member\n"));
            o.add_invitation(&email, "org:member")
        })
        .collect();
    let w = World::new(o, &file);
    for (i, id) in ids.iter().enumerate() {
        // TODAY is 2027-03-31: 39 to 63 days old, p25 the oldest.
        let day = 20 - (i as i64 % 20);
        let month = if i < 20 { "02" } else { "01" };
        let month_day = if i < 20 { day } else { 31 - (i as i64 - 20) };
        shared_created(&w, id, &format!("2027-{month}-{month_day:02}T09:00:00Z"));
    }
    assert_run!("lifecycle_stale_grouped", w.run(&["plan"]));
    assert_run!("lifecycle_stale_listed", w.run(&["plan", "-v"]));
    let r = w.run(&["plan", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["warnings"].as_array().unwrap().len(), 25, "{}", r.stdout);
    assert_eq!(r.stderr, "", "JSON carries its warnings inside");
}

fn shared_created(w: &World, id: &str, at: &str) {
    w.emu.shared().set_created_at(id, Some(at));
}
