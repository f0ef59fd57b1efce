//! The write state machine against a scripted org: each call answers from its own queue (a
//! write with no answer left succeeds), and every request made is recorded, so each test
//! asserts the requests sent, in order, and the step results that came of them.

use super::*;
use crate::api::{Pauses, RetryPolicy};
use crate::plan::{Invite, Remove, Revoke, UpdateRole};
use std::collections::VecDeque;
use std::sync::Mutex;

type Answer = Result<(), ApiError>;

#[derive(Default)]
struct Script {
    lists: VecDeque<Result<LiveState, ApiError>>,
    invites: VecDeque<Answer>,
    updates: VecDeque<Answer>,
    removes: VecDeque<Answer>,
    revokes: VecDeque<Answer>,
    /// Every request, in the order it was made.
    made: Vec<String>,
    /// Sent (the first signal) once this many requests were made.
    stop_after: Option<(usize, watch::Sender<Option<Signal>>)>,
}

/// A scripted org (see the module's comment). Clones share the script.
#[derive(Clone, Default)]
struct Fake(Arc<Mutex<Script>>);

impl Fake {
    fn script(&self, f: impl FnOnce(&mut Script)) -> &Fake {
        f(&mut self.0.lock().unwrap());
        self
    }
    fn lists(&self, reads: Vec<Result<LiveState, ApiError>>) -> &Fake {
        self.script(|s| s.lists.extend(reads))
    }
    fn made(&self) -> Vec<String> {
        self.0.lock().unwrap().made.clone()
    }
    fn record(&self, request: String) {
        let mut s = self.0.lock().unwrap();
        s.made.push(request);
        if let Some((after, tx)) = &s.stop_after {
            if s.made.len() >= *after {
                let _ = tx.send(Some(Signal::Interrupt));
            }
        }
    }
    fn write(
        &self,
        request: String,
        queue: impl FnOnce(&mut Script) -> &mut VecDeque<Answer>,
        log: &SendLog,
    ) -> Answer {
        let answer = queue(&mut self.0.lock().unwrap())
            .pop_front()
            .unwrap_or(Ok(()));
        self.record(request);
        log.sent();
        if let Err(e) = &answer {
            log.failed(e);
        }
        answer
    }
}

static POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    base: Duration::ZERO,
    cap: Duration::ZERO,
    max_retry_after: Duration::ZERO,
};

impl Org for Fake {
    async fn list(&self) -> Result<Arc<LiveState>, ApiError> {
        let read = self.0.lock().unwrap().lists.pop_front();
        self.record("list".to_string());
        read.expect("a list read the script does not answer")
            .map(Arc::new)
    }
    async fn invite(&self, r: &Invite, log: &SendLog) -> Answer {
        let what = format!("invite {} {}", r.email, r.role.as_str());
        self.write(what, |s| &mut s.invites, log)
    }
    async fn update_role(&self, r: &UpdateRole, log: &SendLog) -> Answer {
        let what = format!("update {} {}", r.id.as_str(), r.to.as_str());
        self.write(what, |s| &mut s.updates, log)
    }
    async fn remove(&self, r: &Remove, log: &SendLog) -> Answer {
        self.write(format!("remove {}", r.id.as_str()), |s| &mut s.removes, log)
    }
    async fn revoke(&self, r: &Revoke, log: &SendLog) -> Answer {
        self.write(format!("revoke {}", r.id.as_str()), |s| &mut s.revokes, log)
    }
    fn retry_policy(&self) -> &RetryPolicy {
        &POLICY
    }
    fn pauses(&self) -> Pauses {
        Pauses::default()
    }
}

fn status(status: u16, code: Option<&str>, request_id: &str) -> ApiError {
    ApiError::Status {
        status,
        kind: None,
        code: code.map(str::to_owned),
        message: None,
        request_id: Some(request_id.to_owned()),
        retry_after: None,
    }
}

/// A 503: the write's answer is lost, it may have happened.
fn lost(request_id: &str) -> Answer {
    Err(status(503, None, request_id))
}

fn org(
    members: &[(&str, &str, &str)],
    invitations: &[(&str, &str, &str)],
) -> Result<LiveState, ApiError> {
    Ok(LiveState::of(members, invitations))
}

const ROOT: (&str, &str, &str) = ("u1", "root@x.io", A);

/// The plan that takes `before` to `wanted` (root@x.io, an admin, always wanted).
fn plan_for(
    wanted: &[(&str, Role)],
    members: &[(&str, &str, &str)],
    invitations: &[(&str, &str, &str)],
) -> Plan {
    let mut all = vec![("root@x.io", Role::Admin)];
    all.extend_from_slice(wanted);
    let mut everyone = vec![ROOT];
    everyone.extend_from_slice(members);
    plan_live(
        &Desired::of(&all),
        &LiveState::of(&everyone, invitations),
        &PlanOptions::new(today()),
    )
}

/// Runs `plan` against `fake`, one step at a time; `stop` is the stop the run obeys.
fn run_with(fake: &Fake, plan: &Plan, stop: Stop) -> Execution {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let run = Run {
        parallelism: 1,
        progress: &|_, _, _| {},
        started: &|_| {},
        checks: &Fixed(None),
        stop,
        logs: StepLogs::default(),
    };
    runtime.block_on(execute(fake, plan, run))
}

fn run(fake: &Fake, plan: &Plan) -> Execution {
    run_with(fake, plan, Stop::new().1)
}

/// Each step as `index: outcome, attempts, error request ids`, with its flags.
fn results(e: &Execution) -> Vec<String> {
    e.steps
        .iter()
        .map(|s| {
            let outcome = match &s.outcome {
                Outcome::Done(Done::Answered) => "done".to_string(),
                Outcome::Done(Done::Confirmed) => "done, confirmed".to_string(),
                Outcome::Done(Done::AcceptedMeanwhile(role)) => {
                    format!("done, accepted meanwhile as {}", role.as_str())
                }
                Outcome::Blocked(own) => format!("blocked: {}", own.code()),
                Outcome::NotAttempted(why) => format!("not attempted: {why:?}"),
                Outcome::Failed(f) => format!(
                    "failed: {}{}{}",
                    failure(&f.failure),
                    if f.may_have_been_sent {
                        ", may have been sent"
                    } else {
                        ""
                    },
                    if f.confirmed_by_reread {
                        ", confirmed"
                    } else {
                        ""
                    },
                ),
            };
            format!(
                "{}: {outcome}; {} sent, ids {:?}{}",
                s.step.index,
                s.attempts,
                s.error_request_ids,
                if s.answer_lost { ", answer lost" } else { "" }
            )
        })
        .collect()
}

fn failure(f: &Failure) -> String {
    let status = |e: &ApiError| e.status().map_or("-".to_string(), |s| s.to_string());
    match f {
        Failure::Api(e) => format!("api {}", status(e)),
        Failure::StillListed(e) => format!("still listed after {}", status(e)),
        Failure::CheckFailed { write, read } => {
            format!("check failed ({} then {})", status(write), status(read))
        }
        Failure::InterruptedBeforeCheck(e) => format!("interrupted before check ({})", status(e)),
        Failure::NotResent { error, signal } => {
            format!("not re-sent ({}, {})", status(error), signal.name())
        }
        Failure::Abnormal(e) => format!("abnormal: {e}"),
        Failure::CutOff(s) => format!("cut off by {}", s.name()),
        Failure::AcceptedBeforeRevoke { role, error } => {
            format!(
                "accepted before revoke as {} ({})",
                role.as_str(),
                status(error)
            )
        }
        Failure::InviteAfterRevoke(inner) => format!("invite after revoke: {}", failure(inner)),
    }
}

fn jo_plan() -> Plan {
    plan_for(&[("jo@x.io", Role::Member)], &[], &[])
}

#[test]
fn an_answered_invitation_is_done_and_the_org_is_read_once_to_verify() {
    let fake = Fake::default();
    fake.lists(vec![org(&[ROOT], &[("i1", "jo@x.io", M)])]);
    let e = run(&fake, &jo_plan());
    assert_eq!(fake.made(), ["invite jo@x.io org:member", "list"]);
    assert_eq!(results(&e), ["1: done; 1 sent, ids []"]);
    assert!(
        matches!(e.findings.as_deref(), Some([])),
        "{:?}",
        e.findings
    );
}

#[test]
fn a_lost_invitation_is_looked_for_and_confirmed_by_the_read_that_shows_it_never_sent_twice() {
    let fake = Fake::default();
    fake.script(|s| s.invites.push_back(lost("w1")));
    fake.lists(vec![
        org(&[ROOT], &[]),
        org(&[ROOT], &[("i1", "jo@x.io", M)]),
        // The verification read.
        org(&[ROOT], &[("i1", "jo@x.io", M)]),
    ]);
    let e = run(&fake, &jo_plan());
    assert_eq!(
        fake.made(),
        ["invite jo@x.io org:member", "list", "list", "list"]
    );
    assert_eq!(
        results(&e),
        [r#"1: done, confirmed; 1 sent, ids ["w1"], answer lost"#]
    );
}

#[test]
fn a_lost_invitation_not_seen_in_three_looks_is_sent_again() {
    let fake = Fake::default();
    fake.script(|s| s.invites.push_back(lost("w1")));
    let nothing = || org(&[ROOT], &[]);
    fake.lists(vec![
        nothing(),
        nothing(),
        nothing(),
        org(&[ROOT], &[("i1", "jo@x.io", M)]),
    ]);
    let e = run(&fake, &jo_plan());
    assert_eq!(
        fake.made(),
        [
            "invite jo@x.io org:member",
            "list",
            "list",
            "list",
            "invite jo@x.io org:member",
            "list"
        ]
    );
    assert_eq!(results(&e), [r#"1: done; 2 sent, ids ["w1"], answer lost"#]);
}

#[test]
fn a_write_lost_on_every_attempt_fails_and_its_invitation_may_have_been_sent() {
    let fake = Fake::default();
    fake.script(|s| s.invites.extend([lost("w1"), lost("w2"), lost("w3")]));
    let nothing = || org(&[ROOT], &[]);
    // Three looks after each of the first two sends, then the verification read.
    fake.lists((0..7).map(|_| nothing()).collect());
    let e = run(&fake, &jo_plan());
    let invite = "invite jo@x.io org:member";
    assert_eq!(
        fake.made(),
        [
            invite, "list", "list", "list", invite, "list", "list", "list", invite, "list"
        ]
    );
    assert_eq!(
        results(&e),
        [r#"1: failed: api 503, may have been sent; 3 sent, ids ["w1", "w2", "w3"], answer lost"#]
    );
    assert_eq!(e.may_have_been_sent().count(), 1);
}

#[test]
fn when_the_read_that_would_tell_fails_too_the_step_fails_with_both_errors() {
    let fake = Fake::default();
    fake.script(|s| s.updates.push_back(lost("w1")));
    fake.lists(vec![Err(status(500, None, "r1")), org(&[ROOT], &[])]);
    let plan = plan_for(&[("bob@x.io", Role::Admin)], &[("u2", "bob@x.io", M)], &[]);
    let e = run(&fake, &plan);
    assert_eq!(fake.made(), ["update u2 org:admin", "list", "list"]);
    assert_eq!(
        results(&e),
        [r#"1: failed: check failed (503 then 500); 1 sent, ids ["w1"], answer lost"#]
    );
}

#[test]
fn a_404_to_a_removal_is_believed_only_when_a_fresh_read_agrees() {
    let plan = plan_for(&[], &[("u4", "dave@x.io", M)], &[]);
    let with_dave = || org(&[ROOT, ("u4", "dave@x.io", M)], &[]);
    // The re-read before phase 3, the confirming read, the verification read.
    let gone = Fake::default();
    gone.script(|s| s.removes.push_back(Err(status(404, None, "w1"))));
    gone.lists(vec![with_dave(), org(&[ROOT], &[]), org(&[ROOT], &[])]);
    let e = run(&gone, &plan);
    assert_eq!(gone.made(), ["list", "remove u4", "list", "list"]);
    assert_eq!(results(&e), [r#"1: done, confirmed; 1 sent, ids ["w1"]"#]);

    let listed = Fake::default();
    listed.script(|s| s.removes.push_back(Err(status(404, None, "w1"))));
    listed.lists(vec![with_dave(), with_dave(), with_dave()]);
    let e = run(&listed, &plan);
    assert_eq!(listed.made(), ["list", "remove u4", "list", "list"]);
    assert_eq!(
        results(&e),
        [r#"1: failed: still listed after 404; 1 sent, ids ["w1"]"#]
    );
}

#[test]
fn the_key_s_own_account_is_blocked_not_failed() {
    let fake = Fake::default();
    fake.script(|s| {
        s.removes
            .push_back(Err(status(403, Some("cannot_remove_self"), "w1")))
    });
    let plan = plan_for(&[], &[("u4", "dave@x.io", M)], &[]);
    fake.lists(vec![
        org(&[ROOT, ("u4", "dave@x.io", M)], &[]),
        org(&[ROOT], &[]),
    ]);
    let e = run(&fake, &plan);
    assert_eq!(fake.made(), ["list", "remove u4", "list"]);
    assert_eq!(
        results(&e),
        [r#"1: blocked: cannot_remove_self; 1 sent, ids ["w1"]"#]
    );
}

/// carol@x.io is wanted as a member; her pending invitation is an admin's: a replacement.
fn replacement() -> Plan {
    plan_for(
        &[("carol@x.io", Role::Member)],
        &[],
        &[("i1", "carol@x.io", A)],
    )
}

#[test]
fn a_replacement_is_sent_as_two_requests_revoke_first() {
    let fake = Fake::default();
    fake.lists(vec![org(&[ROOT], &[("i2", "carol@x.io", M)])]);
    let e = run(&fake, &replacement());
    assert_eq!(
        fake.made(),
        ["revoke i1", "invite carol@x.io org:member", "list"]
    );
    assert_eq!(results(&e), ["1: done; 2 sent, ids []"]);
}

#[test]
fn a_replacement_whose_invitation_was_accepted_meanwhile_invites_no_member() {
    let fake = Fake::default();
    fake.script(|s| s.revokes.push_back(Err(status(404, None, "w1"))));
    let member = || org(&[ROOT, ("u5", "carol@x.io", A)], &[]);
    fake.lists(vec![member(), member()]);
    let e = run(&fake, &replacement());
    assert_eq!(fake.made(), ["revoke i1", "list", "list"]);
    assert_eq!(
        results(&e),
        [r#"1: done, accepted meanwhile as org:admin; 1 sent, ids ["w1"]"#]
    );
}

#[test]
fn a_replacement_whose_new_invitation_fails_says_the_old_one_was_revoked() {
    let fake = Fake::default();
    fake.script(|s| {
        s.revokes.push_back(Err(status(404, None, "w1")));
        s.invites.push_back(Err(status(400, Some("invalid"), "w2")));
    });
    fake.lists(vec![org(&[ROOT], &[]), org(&[ROOT], &[])]);
    let e = run(&fake, &replacement());
    assert_eq!(
        fake.made(),
        ["revoke i1", "list", "invite carol@x.io org:member", "list"]
    );
    assert_eq!(
        results(&e),
        [r#"1: failed: invite after revoke: api 400, confirmed; 2 sent, ids ["w1", "w2"]"#]
    );
}

#[test]
fn a_plain_revocation_that_lost_to_an_acceptance_fails() {
    // gone@x.io is no longer wanted; their invitation is revoked in phase 3.
    let plan = plan_for(&[], &[], &[("i3", "gone@x.io", M)]);
    let fake = Fake::default();
    fake.script(|s| s.revokes.push_back(Err(status(404, None, "w1"))));
    let member = || org(&[ROOT, ("u6", "gone@x.io", M)], &[]);
    fake.lists(vec![
        org(&[ROOT], &[("i3", "gone@x.io", M)]),
        member(),
        member(),
    ]);
    let e = run(&fake, &plan);
    assert_eq!(fake.made(), ["list", "revoke i3", "list", "list"]);
    assert_eq!(
        results(&e),
        [r#"1: failed: accepted before revoke as org:member (404), confirmed; 1 sent, ids ["w1"]"#]
    );
}

#[test]
fn a_signal_while_an_answer_is_lost_ends_the_step_before_its_check() {
    let fake = Fake::default();
    let (tx, stop) = Stop::new();
    fake.script(|s| {
        s.invites.push_back(lost("w1"));
        s.stop_after = Some((1, tx));
    });
    let e = run_with(&fake, &jo_plan(), stop);
    assert_eq!(fake.made(), ["invite jo@x.io org:member"]);
    assert_eq!(
        results(&e),
        [
            r#"1: failed: interrupted before check (503), may have been sent; 1 sent, ids ["w1"], answer lost"#
        ]
    );
    // Interrupted: no verification read.
    assert!(e.findings.is_none());
    assert!(matches!(
        e.halt,
        Some(Halt::Interrupted {
            by: Signal::Interrupt,
            ended_by: None
        })
    ));
}

#[test]
fn a_signal_during_the_looks_means_the_write_is_not_sent_again() {
    let fake = Fake::default();
    let (tx, stop) = Stop::new();
    fake.script(|s| {
        s.invites.push_back(lost("w1"));
        // After the last look.
        s.stop_after = Some((4, tx));
    });
    let nothing = || org(&[ROOT], &[]);
    fake.lists(vec![nothing(), nothing(), nothing()]);
    let e = run_with(&fake, &jo_plan(), stop);
    assert_eq!(
        fake.made(),
        ["invite jo@x.io org:member", "list", "list", "list"]
    );
    assert_eq!(
        results(&e),
        [
            r#"1: failed: not re-sent (503, SIGINT), may have been sent; 1 sent, ids ["w1"], answer lost"#
        ]
    );
}

#[test]
fn a_signal_before_the_start_sends_nothing() {
    let fake = Fake::default();
    let (tx, stop) = Stop::new();
    tx.send(Some(Signal::Terminate)).unwrap();
    let e = run_with(&fake, &mixed_plan(), stop);
    assert_eq!(fake.made(), Vec::<String>::new());
    assert_eq!(e.not_attempted(), 6);
    assert!(e.steps.iter().all(|s| matches!(
        s.outcome,
        Outcome::NotAttempted(NotAttempted::Interrupted(Signal::Terminate))
    )));
}

#[test]
fn a_401_stops_the_phase_and_the_phases_after_it() {
    let fake = Fake::default();
    fake.script(|s| s.revokes.push_back(Err(status(401, None, "w1"))));
    // The verification read (a request was sent) is refused too.
    fake.lists(vec![Err(status(401, None, "r1"))]);
    let e = run(&fake, &mixed_plan());
    // Step 1 (the replacement: revoke, then invite) is refused at its revoke.
    assert_eq!(fake.made(), ["revoke i1", "list"]);
    assert_eq!(
        results(&e),
        [
            r#"1: failed: api 401; 1 sent, ids ["w1"]"#,
            "2: not attempted: KeyRefused; 0 sent, ids []",
            "3: not attempted: KeyRefused; 0 sent, ids []",
            "4: not attempted: KeyRefused; 0 sent, ids []",
            "5: not attempted: KeyRefused; 0 sent, ids []",
            "6: not attempted: KeyRefused; 0 sent, ids []",
        ]
    );
    assert!(matches!(
        e.findings.as_deref(),
        Some([Finding::ReadFailed(_)])
    ));
}

#[test]
fn a_failure_in_a_phase_leaves_the_demotions_and_removals_out() {
    let fake = Fake::default();
    // Step 1's invitation is answered, step 2's refused.
    fake.script(|s| {
        s.invites
            .extend([Ok(()), Err(status(400, Some("invalid"), "w1"))])
    });
    fake.lists(vec![Ok(mixed().1)]);
    let e = run(&fake, &mixed_plan());
    assert_eq!(
        fake.made(),
        [
            "revoke i1",
            "invite carol@x.io org:member",
            "invite erin@x.io org:member",
            "update u2 org:admin",
            "list"
        ]
    );
    assert_eq!(
        results(&e),
        [
            "1: done; 2 sent, ids []",
            r#"2: failed: api 400; 1 sent, ids ["w1"]"#,
            "3: done; 1 sent, ids []",
            "4: not attempted: EarlierFailures(Grant); 0 sent, ids []",
            "5: not attempted: EarlierFailures(Grant); 0 sent, ids []",
            "6: not attempted: EarlierFailures(Grant); 0 sent, ids []",
        ]
    );
}

#[test]
fn when_the_re_read_before_a_phase_fails_the_rest_is_not_attempted() {
    let fake = Fake::default();
    fake.lists(vec![Err(status(500, None, "r1"))]);
    let plan = plan_for(&[], &[("u4", "dave@x.io", M)], &[]);
    let e = run(&fake, &plan);
    assert_eq!(fake.made(), ["list"]);
    assert_eq!(
        results(&e),
        ["1: not attempted: RereadFailed(Remove); 0 sent, ids []"]
    );
    assert!(matches!(
        e.halt,
        Some(Halt::RereadFailed {
            phase: Phase::Remove,
            ..
        })
    ));
    // Nothing was sent: nothing to verify.
    assert!(e.findings.is_none());
}

#[test]
fn steps_waiting_on_one_read_share_its_index() {
    let indexed = Indexed::default();
    let a = Arc::new(LiveState::of(&[ROOT], &[]));
    let b = Arc::new(LiveState::of(&[ROOT], &[]));
    let first = indexed.of(&a);
    assert!(
        Arc::ptr_eq(&first, &indexed.of(&a)),
        "the same read: one index"
    );
    assert!(
        !Arc::ptr_eq(&first, &indexed.of(&b)),
        "another read: its own"
    );
}

#[test]
fn a_re_send_is_sent_as_its_revoke_then_its_invite() {
    let mut desired = Desired::of(&[("root@x.io", Role::Admin), ("jo@x.io", Role::Member)]);
    desired.invitations.resend_after_days = Some(7);
    let mut before = LiveState::of(&[ROOT], &[("old", "jo@x.io", M)]);
    before.invitations[0].created_at = Timestamp::parse("2027-01-01T00:00:00Z");
    let plan = plan_live(&desired, &before, &PlanOptions::new(today()));
    assert!(
        matches!(&plan.changes[..], [p] if matches!(p.change, Change::Resend(_))),
        "{plan:?}"
    );
    let fake = Fake::default();
    fake.lists(vec![org(&[ROOT], &[("new", "jo@x.io", M)])]);
    let e = run(&fake, &plan);
    assert_eq!(
        fake.made(),
        ["revoke old", "invite jo@x.io org:member", "list"]
    );
    assert_eq!(results(&e), ["1: done; 2 sent, ids []"]);
    assert!(
        matches!(e.findings.as_deref(), Some([])),
        "{:?}",
        e.findings
    );
}
