//! `teamsync apply`: phases, guards, self, confirmation.

use crate::assert_run;
use crate::support::*;
use scaling_emulator::OrgState;

#[test]
fn apply_converges_and_a_second_apply_sends_nothing() {
    let w = World::new(org(), FILE);
    // One request at a time, so the progress lines come in a fixed order.
    assert_run!(
        "apply_converges",
        w.run(&["apply", "--auto-approve", "--parallelism", "1"])
    );
    assert_eq!(w.roster(), WANT);
    let writes = w.emu.write_count();
    assert_run!(
        "apply_again_sends_nothing",
        w.run(&["apply", "--auto-approve"])
    );
    assert_eq!(w.emu.write_count(), writes, "a second apply sends nothing");
}

#[test]
fn apply_at_full_parallelism_reports_every_step() {
    let w = World::new(org(), FILE);
    let r = w.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(w.roster(), WANT);
    // Steps within a phase finish in any order: compare the progress lines as a set.
    let mut progress: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| l.split_once("] ").map_or(l, |(_, rest)| rest))
        .collect();
    progress.sort_unstable();
    assert_eq!(
        progress,
        [
            "+ invite erin@example.com as org:member: done",
            "+ revoke the invitation of carol@example.com (org:admin), then invite carol@example.com as org:member (replacing the org:admin invitation): done",
            "- remove dave@example.com (org:member): done",
            "- revoke the invitation of old@example.com (org:member): done",
            "~ change alice@example.com from org:admin to org:member: done",
            "~ change bob@example.com from org:member to org:admin: done",
        ]
    );
}

#[test]
fn apply_runs_promotions_before_demotions_before_removals() {
    let w = World::new(org(), FILE);
    assert_eq!(
        w.run(&["apply", "--auto-approve", "--parallelism", "1"])
            .code,
        0
    );
    let writes = w.writes();
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
    assert_run!("apply_no_terminal", w.run(&["apply"]));
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
    // plan warns first and still prints the whole plan.
    assert_run!("mass_removal_plan", w.run(&["plan"]));
    assert_run!("mass_removal_refused", w.run(&["apply", "--auto-approve"]));
    assert_eq!(w.emu.write_count(), 0);
    assert_run!(
        "mass_removal_allowed",
        w.run(&[
            "apply",
            "--auto-approve",
            "--allow-mass-removal",
            "--parallelism",
            "1"
        ])
    );
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
    assert_run!(
        "min_admins_refused",
        w.run(&["apply", "--auto-approve", "--allow-mass-removal"])
    );
    assert_eq!(w.emu.write_count(), 0);
}

#[test]
fn self_changes_are_blocked_with_self_and_by_the_api_without() {
    let file = "version: 1\nmembers:\n  - email: root@example.com\n    role: org:member\n  - email: alice@example.com\n    role: org:admin\n  - email: new@example.com\n    role: org:member\n";
    let org = || {
        OrgState::with_members(&[
            ("root@example.com", "org:admin"),
            ("alice@example.com", "org:admin"),
        ])
    };
    let w = World::new(org(), file);
    // With --self the plan shows the change as blocked; it is still drift.
    assert_run!(
        "self_blocked_plan",
        w.run(&["plan", "--self", "ROOT@example.com", "--detailed-exitcode"])
    );
    assert_run!(
        "self_blocked_apply",
        w.run_env(
            &["apply", "--auto-approve"],
            &[("TEAMSYNC_SELF", "root@example.com")],
        )
    );
    assert!(w.writes().iter().all(|l| !l.contains("/role")));
    // Without --self the API refuses; that step is blocked and the rest goes on.
    w.emu.set_state(org());
    assert_run!(
        "self_refused_by_the_api",
        w.run(&["apply", "--auto-approve", "--parallelism", "1"])
    );
    assert!(
        w.roster()
            .contains(&"new@example.com org:member (invited)".to_string())
    );
}

/// Runs teamsync on a pseudo-terminal (util-linux `script`), typing `answer` at the prompt.
fn on_a_terminal(w: &World, args: &str, answer: &str) -> Run {
    let bin = env!("CARGO_BIN_EXE_teamsync");
    let mut r = w.sh(&format!(
        "(sleep 1; echo {answer}) | script -qec '{bin} {args}' /dev/null"
    ));
    // A terminal ends lines with CR LF.
    r.stdout = r.stdout.replace("\r\n", "\n");
    r
}

#[test]
fn on_a_terminal_apply_asks_and_only_yes_proceeds() {
    let w = World::new(org(), FILE);
    assert_run!("terminal_no", on_a_terminal(&w, "apply", "no"));
    assert_eq!(w.emu.write_count(), 0);
    assert_run!(
        "terminal_yes",
        on_a_terminal(&w, "apply --parallelism 1", "yes")
    );
    assert_eq!(w.roster(), WANT);
}
