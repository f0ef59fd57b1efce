//! `apply --baseline PATH --drift revert|keep|refuse` (docs/contract.md §5): apply tells the
//! edit from drift too, through the real binary.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::OrgState;

/// root and bob as the base wants them, plus hand@, added by hand in the dashboard (drift).
fn drifted_org() -> OrgState {
    OrgState::with_members(&[
        ("root@example.com", "org:admin"),
        ("bob@example.com", "org:member"),
        ("hand@example.com", "org:member"),
    ])
}

/// The desired state the last apply applied.
const BASE: &str = "version: 1
members:
  - email: root@example.com
    role: org:admin
  - email: bob@example.com
    role: org:member
";

/// The merged edit: bob promoted, erin invited.
const EDIT: &str = "version: 1
members:
  - email: root@example.com
    role: org:admin
  - email: bob@example.com
    role: org:admin
  - email: erin@example.com
    role: org:member
";

fn world() -> World {
    let w = World::new(drifted_org(), EDIT);
    w.write("base.yaml", BASE);
    w
}

fn with_baseline(drift: &str) -> Vec<&str> {
    let mut args = APPLY_REPORTED.to_vec();
    args.extend(["--baseline", "base.yaml", "--drift", drift]);
    args
}

/// Each step of the report as `action email origin outcome`.
fn steps(w: &World) -> Vec<String> {
    w.report()["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s["action"].as_str().unwrap(),
                s["email"].as_str().unwrap(),
                s["origin"].as_str().unwrap_or("-"),
                s["outcome"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn keep_applies_the_edit_and_leaves_the_drift_listed() {
    let w = world();
    let summary = w.path("summary.md");
    let r = w.run_env(
        &with_baseline("keep"),
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_run!("drift_keep", r);
    assert_eq!(
        w.writes(),
        [
            "POST /v1/team/members/invite",
            "PATCH /v1/team/members/user_0002/role"
        ]
    );
    assert!(
        w.roster()
            .contains(&"hand@example.com org:member".to_string()),
        "drift left in place"
    );
    let report = w.report();
    assert_eq!(report["drift"], "keep");
    assert_eq!(report["ending"], "succeeded");
    assert_eq!(
        report["drift_left_in_place"][0]["email"],
        "hand@example.com"
    );
    assert_eq!(
        steps(&w),
        [
            "invite erin@example.com edit done",
            "update_role bob@example.com edit done"
        ]
    );
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("drift_keep_summary", std::fs::read_to_string(&summary).unwrap()
            .split("## teamsync apply").nth(1).unwrap());
    });
    // The next apply, still keeping drift, sends nothing.
    let again = w.run(&with_baseline("keep"));
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(w.writes().len(), 2);
}

#[test]
fn refuse_sends_nothing_when_the_plan_reverts_drift() {
    let w = world();
    let r = w.run(&with_baseline("refuse"));
    assert_run!("drift_refuse", r);
    assert!(w.writes().is_empty(), "nothing sent");
    let report = w.report();
    assert_eq!(report["ending"], "refused");
    assert_eq!(report["guard"], "drift");
    assert_eq!(report["exit_code"], 3);
    assert_eq!(
        steps(&w),
        [
            "invite erin@example.com edit not_attempted",
            "update_role bob@example.com edit not_attempted",
            "remove hand@example.com drift not_attempted"
        ]
    );
    // Without drift, refuse applies the edit.
    let clean = World::new(
        OrgState::with_members(&[
            ("root@example.com", "org:admin"),
            ("bob@example.com", "org:member"),
        ]),
        EDIT,
    );
    clean.write("base.yaml", BASE);
    let r = clean.run(&with_baseline("refuse"));
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(clean.writes().len(), 2);
}

#[test]
fn revert_is_the_default_and_the_report_gives_each_steps_origin() {
    let w = world();
    let mut args = APPLY_REPORTED.to_vec();
    args.extend(["--baseline", "base.yaml"]);
    let r = w.run(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(w.report()["drift"], "revert");
    assert_eq!(
        steps(&w),
        [
            "invite erin@example.com edit done",
            "update_role bob@example.com edit done",
            "remove hand@example.com drift done"
        ]
    );
}

#[test]
fn a_plan_saved_with_a_baseline_keeps_its_origins_for_apply() {
    let w = world();
    let r = w.run(&["plan", "--baseline", "base.yaml", "--out", "plan.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let mut args = APPLY_REPORTED.to_vec();
    args.extend(["--drift", "keep", "plan.json"]);
    let r = w.run(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        steps(&w),
        [
            "invite erin@example.com edit done",
            "update_role bob@example.com edit done"
        ]
    );
    assert_eq!(
        w.report()["drift_left_in_place"][0]["email"],
        "hand@example.com"
    );
}

#[test]
fn keep_or_refuse_without_origins_is_an_error_before_anything_is_read() {
    let w = world();
    let r = w.run(&["plan", "--out", "plain.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let before = w.emu.requests().len();
    let runs: Vec<String> = [
        vec!["apply", "--auto-approve", "--drift", "keep", "plain.json"],
        vec!["apply", "--auto-approve", "--drift", "refuse"],
        vec![
            "apply",
            "--auto-approve",
            "--baseline",
            "base.yaml",
            "plain.json",
        ],
    ]
    .iter()
    .map(|a| w.run(a).whole())
    .collect();
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("drift_without_origins", runs.join("\n---\n"));
    });
    assert_eq!(w.emu.requests().len(), before, "nothing read or sent");
}
