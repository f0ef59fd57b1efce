//! The executor's pure parts: how a plan becomes steps, how a read of the org answers "is this
//! done", and what the verification read finds.

use super::*;
use crate::date::{Date, Timestamp};
use crate::desired::Desired;
use crate::planner::{PlanOptions, plan_live};
use crate::role::Role;

const A: &str = "org:admin";
const M: &str = "org:member";

fn today() -> Date {
    Date::parse("2027-03-31").unwrap()
}

/// An org with every kind of change: a promotion, a demotion, a removal, an invitation, a
/// replaced invitation (wrong role) and a revocation.
fn mixed() -> (Desired, LiveState) {
    let desired = Desired::of(&[
        ("root@x.io", Role::Admin),
        ("bob@x.io", Role::Admin),
        ("alice@x.io", Role::Member),
        ("carol@x.io", Role::Member),
        ("erin@x.io", Role::Member),
    ]);
    let org = LiveState::of(
        &[
            ("u1", "root@x.io", A),
            ("u2", "bob@x.io", M),
            ("u3", "alice@x.io", A),
            ("u4", "dave@x.io", M),
        ],
        &[("i1", "carol@x.io", A), ("i2", "old@x.io", M)],
    );
    (desired, org)
}

fn mixed_plan() -> Plan {
    let (desired, org) = mixed();
    plan_live(&desired, &org, &PlanOptions::new(today()))
}

/// `(index, phase, actions)` of each step.
fn shape(steps: &[Step]) -> Vec<(usize, Phase, Vec<&str>)> {
    steps
        .iter()
        .map(|s| {
            let actions = s
                .changes
                .iter()
                .map(|c| match c {
                    Change::Invite(_) => "invite",
                    Change::UpdateRole(_) => "update_role",
                    Change::Remove(_) => "remove",
                    Change::Revoke(_) => "revoke",
                    Change::Resend(_) => "resend",
                })
                .collect();
            (s.index, s.phase, actions)
        })
        .collect()
}

#[test]
fn a_replacement_is_one_step_revoke_first_and_steps_run_by_phase_then_plan_order() {
    let plan = mixed_plan();
    assert_eq!(plan.changes.len(), 7, "{:?}", plan.changes);
    let steps = steps(&plan);
    assert_eq!(
        shape(&steps),
        [
            (1, Phase::Grant, vec!["revoke", "invite"]),
            (2, Phase::Grant, vec!["invite"]),
            (3, Phase::Grant, vec!["update_role"]),
            (4, Phase::Demote, vec!["update_role"]),
            (5, Phase::Remove, vec!["remove"]),
            (6, Phase::Remove, vec!["revoke"]),
        ]
    );
    assert_eq!(steps[0].changes[0].email().as_str(), "carol@x.io");
    assert_eq!(steps[2].changes[0].email().as_str(), "bob@x.io");
    assert_eq!(steps[3].changes[0].email().as_str(), "alice@x.io");
    // The plan counts what apply runs.
    assert_eq!(plan.count(), steps.len());
    assert_eq!(plan.replacements(), 1);
}

#[test]
fn nothing_sent_reports_every_step_not_attempted_with_its_reason() {
    let plan = mixed_plan();
    let e = Execution::nothing_sent(&plan, NotAttempted::NoTerminal);
    assert_eq!(e.steps.len(), 6);
    assert_eq!(e.not_attempted(), 6);
    assert!(
        e.steps
            .iter()
            .all(|s| matches!(s.outcome, Outcome::NotAttempted(NotAttempted::NoTerminal)))
    );
    assert_eq!(e.step(4).map(|s| s.step.phase), Some(Phase::Demote));
    assert!(e.step(7).is_none() && e.step(0).is_none());
}

#[test]
fn is_done_answers_from_one_lookup_for_every_kind_of_change() {
    let plan = mixed_plan();
    let before = LiveState::of(
        &[
            ("u1", "root@x.io", A),
            ("u2", "bob@x.io", M),
            ("u3", "alice@x.io", A),
            ("u4", "dave@x.io", M),
        ],
        &[("i1", "carol@x.io", A), ("i2", "old@x.io", M)],
    );
    let after = LiveState::of(
        &[
            ("u1", "root@x.io", A),
            ("u2", "bob@x.io", A),
            ("u3", "alice@x.io", M),
        ],
        &[
            ("i9", "carol@x.io", M),
            ("i8", "erin@x.io", M),
            // Another email's invitation with the role erin wants does not count for erin.
            ("i7", "zed@x.io", M),
        ],
    );
    let (before, after) = (Lookup::new(&before), Lookup::new(&after));
    for c in &plan.changes {
        assert!(!is_done(&c.change, &before), "not done before: {c:?}");
        assert!(is_done(&c.change, &after), "done after: {c:?}");
    }
    // An invitation is done when the person is already a member, too.
    let erin_member = LiveState::of(&[("u9", "erin@x.io", M)], &[]);
    let invite = plan
        .changes
        .iter()
        .find(|c| matches!(&c.change, Change::Invite(i) if i.replaces.is_none()))
        .unwrap();
    assert!(is_done(&invite.change, &Lookup::new(&erin_member)));
    // An invitation with another role is not the one asked for.
    let wrong_role = LiveState::of(&[], &[("i8", "erin@x.io", A)]);
    assert!(!is_done(&invite.change, &Lookup::new(&wrong_role)));
}

#[test]
fn a_re_send_is_done_when_the_old_invitation_is_gone_and_a_new_one_is_pending() {
    let mut desired = Desired::of(&[("root@x.io", Role::Admin), ("jo@x.io", Role::Member)]);
    desired.invitations.resend_after_days = Some(7);
    let mut org = LiveState::of(&[("u1", "root@x.io", A)], &[("old", "jo@x.io", M)]);
    org.invitations[0].created_at = Timestamp::parse("2027-01-01T00:00:00Z");
    let plan = plan_live(&desired, &org, &PlanOptions::new(today()));
    let resend = &plan.changes[0].change;
    assert!(matches!(resend, Change::Resend(_)), "{resend:?}");
    let cases = [
        (vec![("old", "jo@x.io", M)], false),
        (vec![("old", "jo@x.io", M), ("new", "jo@x.io", M)], false),
        (vec![], false),
        (vec![("new", "jo@x.io", M)], true),
    ];
    for (invitations, done) in cases {
        let state = LiveState::of(&[("u1", "root@x.io", A)], &invitations);
        assert_eq!(
            is_done(resend, &Lookup::new(&state)),
            done,
            "{invitations:?}"
        );
    }
    // Accepted meanwhile: jo is a member, with no invitation left (issue 22 item 8 (b)).
    let accepted = LiveState::of(&[("u1", "root@x.io", A), ("u2", "jo@x.io", M)], &[]);
    assert!(is_done(resend, &Lookup::new(&accepted)));
}

/// Guards that never refuse, and report `crossed` after the apply.
struct Fixed(Option<(usize, u64)>);

impl Checks for Fixed {
    fn refusals(&self, _: LiveState, _: &[&Change]) -> Vec<Guard> {
        Vec::new()
    }
    fn admins_crossed(&self, _: &LiveState) -> Option<(usize, u64)> {
        self.0
    }
}

fn all_done(plan: &Plan) -> Execution {
    Execution {
        steps: steps(plan)
            .into_iter()
            .map(|s| StepResult::new(s, Outcome::Done(Done::Answered)))
            .collect(),
        ..Execution::default()
    }
}

#[test]
fn the_verification_finds_what_did_not_stick_and_duplicates_of_invited_and_kept_emails() {
    let plan = mixed_plan();
    let execution = all_done(&plan);
    let kept_email = crate::email::Email::new("kept@x.io");
    let after = LiveState::of(
        &[
            ("u1", "root@x.io", A),
            ("u2", "bob@x.io", A),
            // alice's demotion did not stick.
            ("u3", "alice@x.io", A),
        ],
        &[
            ("i9", "carol@x.io", M),
            ("i10", "carol@x.io", M),
            ("i8", "erin@x.io", M),
            ("k1", "kept@x.io", M),
            ("k2", "kept@x.io", M),
            // Two invitations of an email this apply neither invited nor kept: not its finding.
            ("s1", "stranger@x.io", M),
            ("s2", "stranger@x.io", M),
        ],
    );
    let found = findings(&execution, &[&kept_email], &after, &Fixed(Some((1, 2))));
    let shown: Vec<String> = found
        .iter()
        .map(|f| match f {
            Finding::DidNotStick { step } => format!("did not stick: {step}"),
            Finding::DuplicateInvitation { email, pending } => format!("{email}: {pending}"),
            Finding::TooFewAdmins { admins, min } => format!("admins {admins} < {min}"),
            Finding::ReadFailed(e) => format!("read failed: {e}"),
        })
        .collect();
    assert_eq!(
        shown,
        [
            "did not stick: 4",
            "carol@x.io: 2",
            "kept@x.io: 2",
            "admins 1 < 2"
        ]
    );
}

#[test]
fn an_invitation_that_may_have_been_sent_is_looked_for_too() {
    let plan = Desired::of(&[("root@x.io", Role::Admin), ("jo@x.io", Role::Member)]);
    let org = LiveState::of(&[("u1", "root@x.io", A)], &[]);
    let plan = plan_live(&plan, &org, &PlanOptions::new(today()));
    let mut execution =
        Execution::nothing_sent(&plan, NotAttempted::Interrupted(Signal::Interrupt));
    let after = LiveState::of(
        &[("u1", "root@x.io", A)],
        &[("a", "jo@x.io", M), ("b", "jo@x.io", M)],
    );
    assert!(findings(&execution, &[], &after, &Fixed(None)).is_empty());
    execution.steps[0].outcome = Outcome::Failed(Failed {
        may_have_been_sent: true,
        ..Failed::new(Failure::CutOff(Signal::Interrupt))
    });
    let found = findings(&execution, &[], &after, &Fixed(None));
    assert!(
        matches!(&found[..], [Finding::DuplicateInvitation { email, pending: 2 }] if email.as_str() == "jo@x.io"),
        "{found:?}"
    );
}

#[test]
fn a_failure_carries_the_write_s_ids_then_the_read_s() {
    let status = |status, code: Option<&str>, request_id: Option<&str>| ApiError::Status {
        status,
        kind: None,
        code: code.map(str::to_owned),
        message: None,
        request_id: request_id.map(str::to_owned),
        retry_after: None,
    };
    let f = Failure::CheckFailed {
        write: status(503, None, Some("w")),
        read: Box::new(status(500, Some("server_error"), Some("r"))),
    };
    assert_eq!(
        (f.status(), f.code(), f.request_id()),
        (Some(503), Some("server_error"), Some("w"))
    );
    assert!(
        f.outcome_unknown(),
        "a 503 to a write: it may have happened"
    );
    let lost = Failure::InviteAfterRevoke(Box::new(Failure::Api(status(400, Some("x"), None))));
    assert_eq!((lost.status(), lost.code()), (Some(400), Some("x")));
    assert!(
        !lost.outcome_unknown(),
        "a 400: the new invitation was not sent"
    );
    assert!(Failure::CutOff(Signal::Terminate).outcome_unknown());
    assert!(!Failure::StillListed(status(404, None, None)).outcome_unknown());
    assert_eq!(
        OwnAccount::from_code("cannot_remove_self"),
        Some(OwnAccount::Removal)
    );
    assert_eq!(OwnAccount::from_code("last_admin"), None);
}

#[test]
fn settling_waits_grow_and_stay_under_the_cap() {
    let policy = crate::api::RetryPolicy {
        base: Duration::from_millis(500),
        cap: Duration::from_secs(3),
        ..crate::api::RetryPolicy::default()
    };
    assert_eq!(
        settle_delay(&policy, 1, 0, None),
        Duration::from_millis(500)
    );
    assert_eq!(settle_delay(&policy, 1, 1, None), Duration::from_secs(2));
    assert_eq!(settle_delay(&policy, 1, 2, None), Duration::from_secs(3));
}

mod machine;
