//! Saved plans: `plan --out PLANFILE`, then `apply PLANFILE`, refused when stale.

use crate::assert_run;
use crate::support::*;

#[test]
fn a_fresh_saved_plan_applies_exactly() {
    let w = World::new(org(), FILE);
    assert_run!("saved_plan_written", w.run(&["plan", "--out", "plan.json"]));
    assert_run!(
        "saved_plan_applied",
        w.run(&["apply", "--auto-approve", "--parallelism", "1", "plan.json"])
    );
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
    assert_run!(
        "saved_plan_stale_org",
        w.run(&["apply", "--auto-approve", "plan.json"])
    );
    assert_eq!(w.emu.write_count(), 0);
}

#[test]
fn a_saved_plan_is_refused_when_the_file_changed() {
    let w = World::new(org(), FILE);
    assert_eq!(w.run(&["plan", "--out", "plan.json"]).code, 0);
    w.write("teamsync.yaml", &FILE.replace("erin@", "erin2@"));
    assert_run!(
        "saved_plan_stale_file",
        w.run(&["apply", "--auto-approve", "plan.json"])
    );
    assert_eq!(w.emu.write_count(), 0);
    assert_run!(
        "saved_plan_missing",
        w.run(&["apply", "--auto-approve", "no-such-plan.json"])
    );
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
    assert_run!(
        "saved_plan_other_file",
        w.run(&[
            "apply",
            "-f",
            "teamsync.yaml",
            "--auto-approve",
            "plan.json",
        ])
    );
    assert_eq!(w.emu.write_count(), 0);
    // The same file, named explicitly, is fine.
    let r = w.run(&["apply", "--auto-approve", "-f", "other.yaml", "plan.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
}
