//! Access governance (docs/contract.md §3, §4, §7): the file's `policy` checked wherever the file
//! is loaded, and expiries announced ahead of time, once per date, through the real binary.

use crate::support::*;
use crate::{assert_run, assert_text};
use scaling_emulator::OrgState;

const POLICY_BROKEN: &str = "version: 1
policy:
  admins_need_reason: true
  internal_domains: [example.com]
  external_max_days: 90
  max_admins: 1
members:
  - email: root@example.com
    role: org:admin
  - email: bob@example.com
    role: org:admin
    reason: on call
  - email: pat@partner.io
    role: org:member
  - email: sam@partner.io
    role: org:member
    expires: 2027-12-31
";

/// Every violation at once, each at its position, in validate and before plan reads the org.
#[test]
fn a_file_that_breaks_its_policy_fails_with_every_violation() {
    let w = World::new(org(), POLICY_BROKEN);
    assert_run!("policy_validate", w.run(&["validate"]));
    let plan = w.run(&["plan"]);
    assert_eq!(plan.code, 1);
    assert_eq!(
        w.emu.requests().len(),
        0,
        "an invalid file sends no request"
    );
}

/// Fourteen interns in the org, twelve leaving after one date: one line for that date (ten
/// emails, then the count of the rest), one for the other date, and the warning that the day
/// after, the removals pass the removal limit, in text, JSON (every email) and Markdown.
#[test]
fn a_cohort_expiring_on_one_date_is_one_line_announced_ahead_of_the_guard() {
    let mut o = OrgState::with_members(&[("root@example.com", "org:admin")]);
    let mut file =
        String::from("version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n");
    for i in 0..14 {
        let email = format!("intern{i:02}@example.com");
        o.add_member(&email, "org:member");
        let date = if i < 12 { "2027-04-05" } else { "2027-04-02" };
        file.push_str(&format!(
            "  - email: {email}\n    role: org:member\n    expires: {date}\n"
        ));
    }
    let w = World::new(o, &file);
    assert_run!("expiry_validate", w.run(&["validate"]));
    assert_run!("expiry_plan_text", w.run(&["plan"]));
    let json = w.run(&["plan", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_text!(
        "expiry_plan_json_warnings",
        serde_json::to_string_pretty(&doc["warnings"]).unwrap()
    );
    let md = w.run(&["plan", "--format", "markdown"]);
    assert_eq!(md.code, 0);
    has(
        &md.stdout,
        "12 entries expire on 2027-04-05, in 5 days: intern00@example.com",
    );
    has(&md.stdout, "and 2 more");
    has(&md.stdout, "more than the removal limit 3");
    // On the day, the guard refuses with the limit that was announced.
    let day = w.run_env(
        &["apply", "--auto-approve"],
        &[("TEAMSYNC_TODAY", "2027-04-06")],
    );
    assert_eq!(day.code, 3, "{}", day.all());
}

/// adopt leaves alone what it would write into a violation, naming the entry and the rule.
#[test]
fn adopt_never_writes_an_entry_into_a_policy_violation() {
    let file = "version: 1
policy:
  internal_domains: [example.com]
  external_max_days: 90
members:
  - email: root@example.com
    role: org:admin
";
    let o = OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("new@example.com", "org:member"),
        ("ext@partner.io", "org:member"),
    ]);
    let w = World::new(o, file);
    assert_run!("policy_adopt", w.run(&["adopt"]));
}
