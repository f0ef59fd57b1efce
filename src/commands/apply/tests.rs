//! The pure parts of `apply`: the report after a second signal, and the guard re-check adapter
//! the executor calls with its fresh reads.

use super::*;
use crate::date::Date;
use crate::executor::{Checks, Done, Failed, Failure, Outcome, StepResult};
use crate::planner::plan_live;
use crate::role::Role;

const A: &str = "org:admin";
const M: &str = "org:member";

fn options() -> PlanOptions {
    PlanOptions::new(Date::parse("2027-03-31").unwrap())
}

/// Steps: 1 invite erin, 2 invite fred, 3 promote bob, 4 demote alice, 5 remove dave.
fn plan() -> Plan {
    let desired = Desired::of(&[
        ("root@x.io", Role::Admin),
        ("bob@x.io", Role::Admin),
        ("alice@x.io", Role::Member),
        ("erin@x.io", Role::Member),
        ("fred@x.io", Role::Member),
    ]);
    let org = LiveState::of(
        &[
            ("u1", "root@x.io", A),
            ("u2", "bob@x.io", M),
            ("u3", "alice@x.io", A),
            ("u4", "dave@x.io", M),
        ],
        &[],
    );
    plan_live(&desired, &org, &options())
}

#[test]
fn cut_off_keeps_what_finished_fails_what_was_in_flight_and_skips_the_rest() {
    let plan = plan();
    let steps = executor::steps(&plan);
    assert_eq!(steps.len(), 5);
    // Step 1 finished; steps 2 (an invitation) and 3 (a promotion) were in flight.
    let finished = vec![StepResult::new(
        steps[0].clone(),
        Outcome::Done(Done::Answered),
    )];
    let in_flight: HashSet<usize> = [2, 3].into();
    let execution = cut_off(
        &plan,
        finished,
        &in_flight,
        &executor::StepLogs::default(),
        Signal::Interrupt,
        Signal::Terminate,
    );
    let shape: Vec<(usize, String, bool)> = execution
        .steps
        .iter()
        .map(|s| {
            let outcome = match &s.outcome {
                Outcome::Done(_) => "done".to_string(),
                Outcome::Failed(Failed {
                    failure: Failure::CutOff(sig),
                    ..
                }) => format!("cut off by {}", sig.name()),
                Outcome::NotAttempted(NotAttempted::Interrupted(sig)) => {
                    format!("not attempted: {}", sig.name())
                }
                other => format!("{other:?}"),
            };
            (s.step.index, outcome, s.may_have_been_sent())
        })
        .collect();
    assert_eq!(
        shape,
        [
            (1, "done".to_string(), false),
            (2, "cut off by SIGTERM".to_string(), true),
            (3, "cut off by SIGTERM".to_string(), false),
            (4, "not attempted: SIGINT".to_string(), false),
            (5, "not attempted: SIGINT".to_string(), false),
        ],
        "only an invitation in flight may have been sent"
    );
    assert!(matches!(
        execution.halt,
        Some(executor::Halt::Interrupted {
            by: Signal::Interrupt,
            ended_by: Some(Signal::Terminate)
        })
    ));
    assert_eq!(execution.may_have_been_sent().count(), 1);
    assert_eq!(
        (
            execution.done(),
            execution.failed(),
            execution.not_attempted()
        ),
        (1, 2, 2)
    );
}

#[test]
fn the_guard_re_check_judges_the_remaining_changes_against_the_fresh_read() {
    let mut desired = Desired::of(&[("root@x.io", Role::Admin), ("alice@x.io", Role::Member)]);
    desired.safety.min_admins = 2;
    let options = options();
    let checks = Guards {
        desired: &desired,
        options: &options,
        admins_before: 3,
    };
    let demote_alice = plan_live(
        &desired,
        &LiveState::of(
            &[
                ("u1", "root@x.io", A),
                ("u3", "alice@x.io", A),
                ("u5", "zoe@x.io", A),
            ],
            &[],
        ),
        &options,
    );
    let remaining: Vec<&Change> = demote_alice
        .changes
        .iter()
        .map(|c| &c.change)
        .filter(|c| c.is_demotion())
        .collect();
    assert_eq!(remaining.len(), 1, "{:?}", demote_alice.changes);
    // Three admins when the plan was made; zoe was demoted in the dashboard meanwhile, so
    // demoting alice now leaves one admin, below min_admins 2.
    let now = LiveState::of(
        &[
            ("u1", "root@x.io", A),
            ("u3", "alice@x.io", A),
            ("u5", "zoe@x.io", M),
        ],
        &[],
    );
    let refused = checks.refusals(now, &remaining);
    assert!(
        matches!(
            refused[..],
            [Guard::MinAdmins {
                admins: 1,
                min: 2,
                tripped: true
            }]
        ),
        "{refused:?}"
    );
    // With zoe still an admin the demotion leaves two: nothing refuses.
    let still = LiveState::of(
        &[
            ("u1", "root@x.io", A),
            ("u3", "alice@x.io", A),
            ("u5", "zoe@x.io", A),
        ],
        &[],
    );
    assert!(checks.refusals(still, &remaining).is_empty());
}

#[test]
fn admins_are_crossed_only_below_the_minimum_and_below_where_apply_started() {
    let mut desired = Desired::of(&[("root@x.io", Role::Admin)]);
    desired.safety.min_admins = 2;
    let options = options();
    let one_admin = LiveState::of(&[("u1", "root@x.io", A), ("u2", "bob@x.io", M)], &[]);
    let two_admins = LiveState::of(&[("u1", "root@x.io", A), ("u2", "bob@x.io", A)], &[]);
    let guards = |admins_before| Guards {
        desired: &desired,
        options: &options,
        admins_before,
    };
    // Two admins before, one after: crossed.
    assert_eq!(guards(2).admins_crossed(&one_admin), Some((1, 2)));
    // Already one before: below the minimum, but apply did not lower it.
    assert_eq!(guards(1).admins_crossed(&one_admin), None);
    // At the minimum: not crossed.
    assert_eq!(guards(3).admins_crossed(&two_admins), None);
}
