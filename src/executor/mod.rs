//! The executor: consumes a [`Plan`] and runs it in three phases (docs/contract.md §5):
//! invitations and promotions, then demotions, then revocations and removals, with bounded
//! concurrency inside a phase. It returns a per-step result, an [`Execution`]: partial failure
//! is data, never an error, and every reason is typed ([`outcome`]). The guards are the
//! caller's business ([`Checks`]): before the demotion and removal phases the org is read
//! again and the caller re-checks them against what is really there, and after the last phase
//! one verification read looks for changes that did not stick. A [`Stop`] (the first SIGINT
//! or SIGTERM) lets requests in flight finish and starts nothing new.
//!
//! Linear in members and steps (docs/contract.md §10): each read of the org is indexed once
//! ([`Lookup`]) and every question about it is a hash lookup.

mod org;
mod outcome;
#[cfg(test)]
mod tests;

pub(crate) use org::{Org, Request};
pub(crate) use outcome::{
    Done, Execution, Failed, Failure, Finding, Halt, NotAttempted, Outcome, OwnAccount, Pauses,
    StepResult,
};

use crate::api::{ApiError, SendLog};
use crate::email::Email;
use crate::interrupt::Signal;
use crate::live::{LiveState, Lookup, ReadIndex};
use crate::plan::{Change, Guard, Phase, Plan, RevokeCause};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How many times an invitation whose outcome is unknown is looked for before it is sent again.
const INVITE_LOOKS: u32 = 3;

/// One unit of work: one change, or the revoke then invite that replace an invitation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// 1-based, in the order steps are started.
    pub(crate) index: usize,
    pub(crate) phase: Phase,
    pub(crate) changes: Vec<Change>,
}

/// The caller's safety checks, asked by the executor against fresh reads of the org.
pub(crate) trait Checks {
    /// The guards that sending `remaining` to the org as `live` shows it would cross (empty:
    /// go ahead). The read is the caller's to keep: no copy of it is made.
    fn refusals(&self, live: LiveState, remaining: &[&Change]) -> Vec<Guard>;
    /// Admin members in `live` and the minimum, when they are below it and fewer than before
    /// the apply.
    fn admins_crossed(&self, live: &LiveState) -> Option<(usize, u64)>;
}

/// Set once, by the first SIGINT or SIGTERM: no new step starts, no request is retried, and the
/// steps in flight end when their current request does.
#[derive(Clone, Debug)]
pub(crate) struct Stop(watch::Receiver<Option<Signal>>);

impl Stop {
    /// A stop and the sender that triggers it with the signal.
    pub(crate) fn new() -> (watch::Sender<Option<Signal>>, Stop) {
        let (tx, rx) = watch::channel(None);
        (tx, Stop(rx))
    }

    /// The signal that stopped apply, once one did.
    pub(crate) fn signal(&self) -> Option<Signal> {
        *self.0.borrow()
    }

    /// Waits until the stop comes (forever if it never does).
    async fn wait(&mut self) {
        loop {
            if self.0.borrow_and_update().is_some() {
                return;
            }
            if self.0.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Sleeps for `d`, or less if the stop comes; true when it did.
    async fn sleep(&mut self, d: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(d) => self.signal().is_some(),
            () = self.wait() => true,
        }
    }
}

/// How to run a plan: the limits and the caller's hooks.
pub(crate) struct Run<'a> {
    /// Steps at once within a phase.
    pub(crate) parallelism: usize,
    /// Called once per finished step, with the number of steps finished so far and in all.
    pub(crate) progress: &'a dyn Fn(&StepResult, usize, usize),
    /// Called when a step starts, with its index.
    pub(crate) started: &'a dyn Fn(usize),
    pub(crate) checks: &'a dyn Checks,
    pub(crate) stop: Stop,
    /// What each step started has sent so far, by step index: read by the caller when a second
    /// signal cuts steps off (their results are never made).
    pub(crate) logs: StepLogs,
}

/// The index of the latest shared read of the org: the steps that wait on one read index it
/// once between them, not once each (docs/contract.md §5: with 50,000 members and 2,000 lost
/// answers, each step indexing its read cost 14 s of CPU). It keeps that read alive until the
/// next one.
#[derive(Clone, Debug, Default)]
struct Indexed(Arc<std::sync::Mutex<Option<IndexedRead>>>);

/// A shared read and its index.
type IndexedRead = (Arc<LiveState>, Arc<ReadIndex>);

impl Indexed {
    fn of(&self, live: &Arc<LiveState>) -> Arc<ReadIndex> {
        let mut cached = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((read, index)) = cached.as_ref() {
            if Arc::ptr_eq(read, live) {
                return index.clone();
            }
        }
        // Built under the lock: the other steps of this read wait for it rather than each
        // building their own.
        let index = Arc::new(ReadIndex::new(live));
        *cached = Some((live.clone(), index.clone()));
        index
    }
}

/// The [`SendLog`] of every step started, by step index.
#[derive(Clone, Debug, Default)]
pub(crate) struct StepLogs(Arc<std::sync::Mutex<HashMap<usize, SendLog>>>);

impl StepLogs {
    fn start(&self, index: usize) -> SendLog {
        let log = SendLog::default();
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(index, log.clone());
        log
    }

    /// The requests step `index` sent so far (0 when it never started).
    pub(crate) fn sent(&self, index: usize) -> crate::api::Sends {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&index)
            .map(SendLog::get)
            .unwrap_or_default()
    }
}

/// Splits a plan into steps, in the order they run: a replaced invitation's revoke and invite
/// become one step (revoke first), and steps are ordered by phase, then plan order. There are
/// as many steps as the plan counts changes ([`Plan::count`]).
pub(crate) fn steps(plan: &Plan) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::with_capacity(plan.changes.len());
    let mut replacements: HashMap<&Email, usize> = HashMap::new();
    for c in plan.changes.iter().map(|c| &c.change) {
        if c.is_replacement() {
            if let Some(at) = replacements.get(c.email()) {
                steps[*at].changes.push(c.clone());
                continue;
            }
            replacements.insert(c.email(), steps.len());
        }
        steps.push(Step {
            index: 0,
            phase: c.phase(),
            changes: vec![c.clone()],
        });
    }
    for s in &mut steps {
        s.changes.sort_by_key(|c| !matches!(c, Change::Revoke(_)));
        s.phase = s
            .changes
            .iter()
            .map(Change::phase)
            .min()
            .unwrap_or(Phase::Grant);
    }
    // Stable: plan order within a phase.
    steps.sort_by_key(|s| s.phase);
    for (i, s) in steps.iter_mut().enumerate() {
        s.index = i + 1;
    }
    steps
}

/// Executes `plan` through `org` (the API client, or a fake in the tests).
pub(crate) async fn execute<C: Org>(org: &C, plan: &Plan, run: Run<'_>) -> Execution {
    let all = steps(plan);
    let total = all.len();
    let mut execution = Execution {
        steps: Vec::with_capacity(total),
        blocked_in_plan: plan.blocked.clone(),
        ..Execution::default()
    };
    let mut finished = 0usize;
    // Why the steps left are not attempted, once apply has stopped.
    let mut stop: Option<NotAttempted> = None;
    let mut push = |r: StepResult, execution: &mut Execution| {
        finished += 1;
        (run.progress)(&r, finished, total);
        execution.steps.push(r);
    };
    let mut failed = 0usize;
    let indexed = Indexed::default();
    for phase in Phase::ALL {
        let phase_steps: Vec<Step> = all.iter().filter(|s| s.phase == phase).cloned().collect();
        if phase_steps.is_empty() {
            continue;
        }
        if stop.is_none() {
            if let Some(signal) = run.stop.signal() {
                execution.halt = Some(Halt::Interrupted {
                    by: signal,
                    ended_by: None,
                });
                stop = Some(NotAttempted::Interrupted(signal));
            }
        }
        if stop.is_none() && phase != Phase::Grant {
            stop = recheck(org, &all, phase, run.checks, &mut execution).await;
        }
        if let Some(why) = stop {
            for step in phase_steps {
                push(StepResult::not_attempted(step, why), &mut execution);
            }
            continue;
        }
        // Steps start in plan order, at most `parallelism` at a time: a new one starts when one
        // finishes, so `--parallelism 1` runs the plan exactly in order.
        let mut queue = phase_steps.into_iter();
        let mut tasks = JoinSet::new();
        let mut running: HashMap<tokio::task::Id, Step> = HashMap::new();
        let start = |tasks: &mut JoinSet<StepResult>,
                     running: &mut HashMap<tokio::task::Id, Step>,
                     step: Step| {
            let org = org.clone();
            let copy = step.clone();
            let stop = run.stop.clone();
            let log = run.logs.start(step.index);
            let indexed = indexed.clone();
            (run.started)(step.index);
            let handle =
                tasks.spawn(async move { run_step(&org, step, stop, log, &indexed).await });
            running.insert(handle.id(), copy);
        };
        for step in queue.by_ref().take(run.parallelism.max(1)) {
            start(&mut tasks, &mut running, step);
        }
        // Set when no further step of this phase may start.
        let mut halted: Option<NotAttempted> = None;
        while let Some(joined) = tasks.join_next_with_id().await {
            let r = match joined {
                Ok((id, r)) => {
                    running.remove(&id);
                    r
                }
                // A step whose task died is reported as failed, never dropped from the report.
                Err(e) => match running.remove(&e.id()) {
                    Some(step) => {
                        StepResult::new(step, Outcome::failed(Failure::Abnormal(e.to_string())))
                    }
                    None => continue,
                },
            };
            if let Outcome::Failed(Failed { failure: f, .. }) = &r.outcome {
                failed += 1;
                // A 401 means the key no longer works: every request after it would fail the
                // same way, so the phase stops here (docs/contract.md §5).
                if halted.is_none() && f.status() == Some(401) {
                    halted = Some(NotAttempted::KeyRefused);
                }
            }
            if halted.is_none() {
                if let Some(signal) = run.stop.signal() {
                    execution.halt = Some(Halt::Interrupted {
                        by: signal,
                        ended_by: None,
                    });
                    halted = Some(NotAttempted::Interrupted(signal));
                }
            }
            push(r, &mut execution);
            if halted.is_none() {
                if let Some(step) = queue.next() {
                    start(&mut tasks, &mut running, step);
                }
            }
        }
        if let Some(why) = halted {
            for step in queue {
                push(StepResult::not_attempted(step, why), &mut execution);
            }
            stop = Some(why);
        } else if failed > 0 {
            stop = Some(NotAttempted::EarlierFailures(phase));
        }
    }
    execution.steps.sort_by_key(|s| s.step.index);
    let interrupted = matches!(execution.halt, Some(Halt::Interrupted { .. }));
    let sent = execution.steps.iter().any(|s| s.attempts > 0);
    if sent && !interrupted {
        let kept: Vec<&Email> = plan.pending_invitations.iter().map(|p| &p.email).collect();
        execution.findings =
            Some(verify(org, &execution, &kept, run.checks, run.stop.clone()).await);
    }
    execution.pauses = org.pauses();
    execution
}

/// Reads the org again before `phase` and asks the caller's guards about the steps from
/// `phase` on (docs/contract.md §5): why the rest is not attempted, when it is not.
async fn recheck<C: Org>(
    org: &C,
    all: &[Step],
    phase: Phase,
    checks: &dyn Checks,
    execution: &mut Execution,
) -> Option<NotAttempted> {
    let remaining: Vec<&Change> = all
        .iter()
        .filter(|s| s.phase >= phase)
        .flat_map(|s| s.changes.iter())
        .collect();
    tracing::info!("reading the org again before phase {}", phase as u8);
    match org.list().await {
        Ok(live) => {
            let guards = checks.refusals(Arc::unwrap_or_clone(live), &remaining);
            if guards.is_empty() {
                return None;
            }
            execution.halt = Some(Halt::Refused { phase, guards });
            Some(NotAttempted::RefusedMidway(phase))
        }
        Err(error) => {
            execution.halt = Some(Halt::RereadFailed { phase, error });
            Some(NotAttempted::RereadFailed(phase))
        }
    }
}

/// The verification read after the last phase: every step reported done shows in the org, no
/// email this apply invited, re-sent or kept has two pending invitations, and the admins are
/// not below the minimum. When an answer was lost during the apply, it first waits as long as
/// the longest look, so that a late commit has a chance to show.
async fn verify<C: Org>(
    org: &C,
    execution: &Execution,
    kept: &[&Email],
    checks: &dyn Checks,
    mut stop: Stop,
) -> Vec<Finding> {
    if execution.steps.iter().any(|s| s.answer_lost) {
        let wait = settle_delay(org.retry_policy(), 1, INVITE_LOOKS - 1, None);
        tracing::info!("waiting {wait:?} for late commits before the verification read");
        if stop.sleep(wait).await {
            return Vec::new();
        }
    }
    tracing::info!("reading the org again to verify the apply");
    let live = match org.list().await {
        Ok(live) => live,
        Err(e) => return vec![Finding::ReadFailed(e)],
    };
    findings(execution, kept, &live, checks)
}

/// What the verification read `live` shows about `report` (see [`verify`]).
fn findings(
    execution: &Execution,
    kept: &[&Email],
    live: &LiveState,
    checks: &dyn Checks,
) -> Vec<Finding> {
    let lookup = Lookup::new(live);
    let mut findings = Vec::new();
    let mut invited: Vec<&Email> = kept.to_vec();
    for s in &execution.steps {
        let done = matches!(s.outcome, Outcome::Done(_));
        if done && !s.step.changes.iter().all(|c| is_done(c, &lookup)) {
            findings.push(Finding::DidNotStick { step: s.step.index });
        }
        // An invitation that may have gone out is looked for as well as one that did.
        if (done || s.may_have_been_sent()) && s.invites() {
            invited.extend(s.step.changes.first().map(Change::email));
        }
    }
    invited.sort();
    invited.dedup();
    for email in invited {
        let pending = lookup.invitations_of(email).len();
        if pending > 1 {
            findings.push(Finding::DuplicateInvitation {
                email: email.clone(),
                pending,
            });
        }
    }
    if let Some((admins, min)) = checks.admins_crossed(live) {
        findings.push(Finding::TooFewAdmins { admins, min });
    }
    findings
}

async fn run_step<C: Org>(
    org: &C,
    step: Step,
    mut stop: Stop,
    log: SendLog,
    indexed: &Indexed,
) -> StepResult {
    let started = SystemTime::now();
    let mut seen = Seen::default();
    let outcome = run_requests(org, &step, &mut seen, &mut stop, &log, indexed).await;
    let finished = SystemTime::now();
    let sent = log.get();
    StepResult {
        attempts: sent.requests,
        error_request_ids: sent.error_request_ids,
        answer_lost: seen.answer_lost,
        started: Some(started),
        finished: Some(finished),
        ..StepResult::new(step, outcome)
    }
}

/// What a step's requests met on their way, besides how they ended.
#[derive(Debug, Default)]
struct Seen {
    /// At least one answer was lost.
    answer_lost: bool,
    /// A lost answer or a 404 was confirmed by a fresh read of the org.
    confirmed: bool,
}

/// Sends a step's requests in order: a re-send or replacement is a revoke, then an invite, each
/// with the usual rules (docs/contract.md §5).
async fn run_requests<C: Org>(
    org: &C,
    step: &Step,
    seen: &mut Seen,
    stop: &mut Stop,
    log: &SendLog,
    indexed: &Indexed,
) -> Outcome {
    let requests: Vec<Request> = step.changes.iter().flat_map(Request::of).collect();
    let mut revoked = false;
    for request in &requests {
        // A revoke that answered 404 was confirmed by a read; when that read shows the person a
        // member, their invitation was accepted just before it: inviting them again would send
        // an invitation to a member (docs/contract.md §5, re-sends).
        let ended = match send_confirmed(org, request, seen, stop, log, indexed).await {
            Ok(Sent::Done) => {
                revoked |= matches!(request, Request::Revoke(_));
                continue;
            }
            Ok(Sent::Read(live, index, why_read)) => {
                let Request::Revoke(revoke) = request else {
                    continue;
                };
                revoked = true;
                let lookup = Lookup::with(&live, &index);
                let Some(member) = lookup.member_by_email(request.email()) else {
                    continue;
                };
                if requests.len() > 1 {
                    // A re-send or replacement: the person took the old invitation; the new
                    // one is not sent, and the step did what it was for.
                    return Outcome::Done(Done::AcceptedMeanwhile(member.role.clone()));
                }
                // A plain revocation that lost to an acceptance: someone the file does not
                // want in got in (docs/contract.md §5). A redundant or duplicate invitation
                // of someone who is wanted is gone as intended.
                if let RevokeCause::Departed(_) = revoke.cause {
                    return Outcome::Failed(Failed {
                        confirmed_by_reread: seen.confirmed,
                        ..Failed::new(Failure::AcceptedBeforeRevoke {
                            role: member.role.clone(),
                            error: why_read,
                        })
                    });
                }
                continue;
            }
            Err(ended) => ended,
        };
        return match ended {
            Ended::Blocked(own) => Outcome::Blocked(own),
            Ended::Failed(f) => {
                let inviting = matches!(request, Request::Invite(_));
                Outcome::Failed(Failed {
                    may_have_been_sent: inviting && f.outcome_unknown(),
                    confirmed_by_reread: seen.confirmed,
                    failure: if inviting && revoked {
                        Failure::InviteAfterRevoke(Box::new(f))
                    } else {
                        f
                    },
                })
            }
        };
    }
    Outcome::Done(if seen.confirmed {
        Done::Confirmed
    } else {
        Done::Answered
    })
}

/// How one request ended well: done, or done as a fresh read of the org shows (which is
/// handed back).
enum Sent {
    Done,
    /// Done as this read (and its index) shows, read because of this answer (a 404, or a lost
    /// answer).
    Read(Arc<LiveState>, Arc<ReadIndex>, ApiError),
}

/// How one request ended badly.
#[derive(Debug)]
enum Ended {
    /// The API refused: the request concerns the key's own account.
    Blocked(OwnAccount),
    Failed(Failure),
}

/// Sends one request until it is done or has failed for good: never blindly again when its
/// outcome is unknown (the org is read first), and a 404 to a removal or revocation believed
/// only when a fresh read agrees.
async fn send_confirmed<C: Org>(
    org: &C,
    request: &Request,
    seen: &mut Seen,
    stop: &mut Stop,
    log: &SendLog,
    indexed: &Indexed,
) -> Result<Sent, Ended> {
    let max_attempts = org.retry_policy().max_attempts.max(1);
    // Sends of this request, for the backoff; the report counts every request in `log`.
    let mut tries = 0;
    loop {
        tries += 1;
        let err = match request.send(org, log).await {
            Ok(()) => return Ok(Sent::Done),
            Err(e) => e,
        };
        if let Some(own) = err.code().and_then(OwnAccount::from_code) {
            return Err(Ended::Blocked(own));
        }
        let gone =
            err.status() == Some(404) && matches!(request, Request::Remove(_) | Request::Revoke(_));
        if gone {
            // "Not found" is what the step wants, but a gateway or proxy may answer 404
            // for the API: believe it only when a fresh read agrees (docs/contract.md §5).
            return match org.list().await {
                Ok(live) => {
                    let index = indexed.of(&live);
                    if request.is_done(&Lookup::with(&live, &index)) {
                        seen.confirmed = true;
                        Ok(Sent::Read(live, index, err))
                    } else {
                        Err(Ended::Failed(Failure::StillListed(err)))
                    }
                }
                Err(read) => Err(Ended::Failed(Failure::CheckFailed {
                    write: err,
                    read: Box::new(read),
                })),
            };
        }
        if !err.outcome_unknown() || tries >= max_attempts {
            return Err(Ended::Failed(Failure::Api(err)));
        }
        seen.answer_lost = true;
        // The change may have happened. Never send it blindly again: look first. An
        // invitation would land in someone's inbox twice, and a backend behind a gateway
        // that gave up (504) may still be working, so look again, longer, before re-sending.
        let looks = if matches!(request, Request::Invite(_)) {
            INVITE_LOOKS
        } else {
            1
        };
        for look in 0..looks {
            let wait = settle_delay(org.retry_policy(), tries, look, Some(&err));
            tracing::info!(email = %request.email(), "outcome unknown ({err}); reading the org again in {wait:?}");
            if stop.sleep(wait).await {
                return Err(Ended::Failed(Failure::InterruptedBeforeCheck(err)));
            }
            match org.list().await {
                Ok(live) => {
                    let index = indexed.of(&live);
                    if request.is_done(&Lookup::with(&live, &index)) {
                        seen.confirmed = true;
                        return Ok(Sent::Read(live, index, err));
                    }
                }
                Err(read) => {
                    return Err(Ended::Failed(Failure::CheckFailed {
                        write: err,
                        read: Box::new(read),
                    }));
                }
            }
        }
        if let Some(signal) = stop.signal() {
            return Err(Ended::Failed(Failure::NotResent { error: err, signal }));
        }
    }
}

/// The wait before look `look` (0-based) after an unknown outcome: the usual backoff first, then
/// 4× and 8× the retry base (2 s and 4 s by default), so an invitation is looked for during
/// about 6.5 s before it is ever sent again.
fn settle_delay(
    policy: &crate::api::RetryPolicy,
    attempt: u32,
    look: u32,
    err: Option<&ApiError>,
) -> Duration {
    match (look, err) {
        (0, Some(err)) => policy.backoff(attempt, err),
        (0, None) => policy.base,
        (n, _) => policy
            .base
            .saturating_mul(1 << (n + 1).min(16))
            .min(policy.cap),
    }
}

/// Whether the org, as `live` indexes it, already shows the effect of `c`.
fn is_done(c: &Change, live: &Lookup) -> bool {
    match c {
        // Accepted meanwhile (before the revoke or after the new invitation): a member.
        Change::Resend(c) => {
            !live.is_pending(&c.id)
                && (live.is_member(&c.email) || org::invited(live, &c.email, c.role))
        }
        c => Request::of(c).iter().all(|r| r.is_done(live)),
    }
}
