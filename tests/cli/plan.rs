//! `teamsync plan`: reads the org, prints the plan in every format, changes nothing.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::{Faults, Options};

#[test]
fn plan_text_shows_every_change_grouped_and_changes_nothing() {
    let w = World::new(org(), FILE);
    assert_run!("plan_text", w.run(&["plan"]));
    assert_eq!(w.emu.write_count(), 0);
    assert!(w.emu.requests().iter().all(|q| q.method == "GET"));
}

#[test]
fn plan_json_is_stable_for_scripts_byte_for_byte() {
    let w = World::new(org(), FILE);
    let r = w.run(&["plan", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["summary"]["invite"], 2);
    // The text itself, not a parsed value: field order and layout are part of the interface.
    assert_run!("plan_json", r);
}

#[test]
fn plan_diff_and_markdown_formats() {
    let w = World::new(org(), FILE);
    assert_run!("plan_diff", w.run(&["plan", "--format", "diff"]));
    assert_run!("plan_markdown", w.run(&["plan", "--format", "markdown"]));
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
    assert_run!(
        "plan_no_changes_detailed",
        w.run(&["plan", "--detailed-exitcode"])
    );
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
    // The same plan as without the revoked invitation.
    let r = w.run(&["plan"]);
    assert!(!r.stdout.contains("gone@example.com"), "{}", r.stdout);
    assert_run!("plan_text", r);
}

#[test]
fn a_long_plan_starts_with_its_counts_as_well_as_ending_with_them() {
    // 21 invitations and a removal: more than 20 changes, so the `Plan:` line comes first too
    // (docs/contract.md §6).
    let mut file =
        String::from("version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n");
    for n in 1..=21 {
        file.push_str(&format!(
            "  - email: new{n:02}@example.com\n    role: org:member\n"
        ));
    }
    let w = World::new(
        scaling_emulator::OrgState::with_members(&[
            ("root@example.com", "org:admin"),
            ("gone@example.com", "org:member"),
        ]),
        &file,
    );
    assert_run!("plan_long", w.run(&["plan"]));
}

#[test]
fn without_changes_pending_invitations_are_one_line_and_listed_with_v() {
    let w = World::new(org(), FILE);
    assert_eq!(w.run(&["apply", "--auto-approve"]).code, 0);
    // One more, older, invitation the file keeps: the one line names the oldest.
    let mut s = w.emu.state();
    let id = s.add_invitation("fred@example.com", "org:admin");
    w.emu.set_state(s);
    w.emu
        .shared()
        .set_created_at(&id, Some("2027-03-20T09:00:00.000Z"));
    w.write(
        "teamsync.yaml",
        &format!("{FILE}  - email: fred@example.com\n    role: org:admin\n"),
    );
    assert_run!("plan_pending_one_line", w.run(&["plan"]));
    // `-v` lists them (its logs are filtered out here: only the plan is compared).
    assert_run!(
        "plan_pending_listed",
        w.run_env(&["plan", "-v"], &[("TEAMSYNC_LOG", "warn")])
    );
}
