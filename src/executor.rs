//! The executor: consumes a [`Plan`] and runs it in three phases (docs/contract.md §5):
//! invitations and promotions, then demotions, then revocations and removals, with bounded
//! concurrency inside a phase. It returns a per-step report, an [`Execution`]: partial failure
//! is data, never an error. The guards are the caller's business ([`Checks`]): before the demotion and removal
//! phases the org is read again and the caller re-checks them against what is really there, and
//! after the last phase one verification read looks for changes that did not stick
//! (docs/contract.md §8). A [`Stop`] (the first SIGINT or SIGTERM) lets requests in flight
//! finish and starts nothing new.

use crate::api::{ApiError, Client};
use crate::email::Email;
use crate::live::LiveState;
use crate::plan::{Blocked, Change, Phase, Plan};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// API codes that mean "the key's own account": the step is blocked, not failed.
const SELF_CODES: &[&str] = &["cannot_change_own_role", "cannot_remove_self"];

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Done,
    /// The API refused because the change concerns the key's own account (its `code`).
    Blocked(String),
    Failed(Failure),
    /// Not attempted, and why.
    NotAttempted(String),
}

/// Why a step failed, with what the API said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) status: Option<u16>,
    pub(crate) code: Option<String>,
    pub(crate) request_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StepReport {
    pub(crate) step: Step,
    pub(crate) outcome: Outcome,
    /// Requests sent for this step (retries included).
    pub(crate) attempts: u32,
    /// The answer was lost (5xx, timeout) or was a 404, and a fresh read of the org showed the
    /// change done.
    pub(crate) confirmed_by_reread: bool,
    /// At least one answer was lost (the outcome of a request was unknown for a while).
    pub(crate) answer_lost: bool,
    /// When the step started and ended; `None` when it was not attempted.
    pub(crate) started: Option<SystemTime>,
    pub(crate) finished: Option<SystemTime>,
}

/// Why apply stopped before the end of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Halt {
    /// A signal: the reason, e.g. `interrupted by SIGINT`.
    Interrupted(String),
    /// The re-read before `phase` showed that sending it would now cross a safety guard.
    Refused { phase: Phase, reasons: Vec<String> },
    /// The org could not be read again before `phase`.
    RereadFailed { phase: Phase, failure: Failure },
}

/// What the verification read after the last phase found (docs/contract.md §8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Finding {
    /// More than one pending invitation for an email this apply invited.
    DuplicateInvitation { email: Email, pending: usize },
    /// A step reported done whose effect the org does not show.
    DidNotStick { step: usize },
    /// Fewer admin members than `min_admins`, and fewer than before the apply: a guard crossed.
    TooFewAdmins { admins: usize, min: u64 },
    /// The verification read itself failed.
    ReadFailed(Failure),
}

/// The caller's safety checks, asked by the executor against fresh reads of the org.
pub(crate) trait Checks {
    /// Why sending `remaining` to the org as `live` shows it would cross a safety guard (empty:
    /// go ahead).
    fn refusals(&self, live: &LiveState, remaining: &[Change]) -> Vec<String>;
    /// Admin members in `live` and the minimum, when they are below it and fewer than before
    /// the apply.
    fn admins_crossed(&self, live: &LiveState) -> Option<(usize, u64)>;
}

/// Set once, by the first SIGINT or SIGTERM: no new step starts, no request is retried, and the
/// steps in flight end when their current request does.
#[derive(Clone, Debug)]
pub(crate) struct Stop(watch::Receiver<Option<String>>);

impl Stop {
    /// A stop and the sender that triggers it with a reason.
    pub(crate) fn new() -> (watch::Sender<Option<String>>, Stop) {
        let (tx, rx) = watch::channel(None);
        (tx, Stop(rx))
    }

    /// Why apply was stopped, once it was.
    pub(crate) fn reason(&self) -> Option<String> {
        self.0.borrow().clone()
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
            () = tokio::time::sleep(d) => self.reason().is_some(),
            () = self.wait() => true,
        }
    }
}

/// How to run a plan: the limits and the caller's hooks.
pub(crate) struct Run<'a> {
    /// Steps at once within a phase.
    pub(crate) parallelism: usize,
    /// Called once per finished step, with the number of steps finished so far and in all.
    pub(crate) progress: &'a dyn Fn(&StepReport, usize, usize),
    /// Called when a step starts, with its index.
    pub(crate) started: &'a dyn Fn(usize),
    pub(crate) checks: &'a dyn Checks,
    pub(crate) stop: Stop,
}

/// What an execution of a plan did, step by step (the apply report document is made from it:
/// [`crate::formats::report`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Execution {
    pub(crate) steps: Vec<StepReport>,
    /// Changes the plan itself blocked (never sent).
    pub(crate) blocked_in_plan: Vec<Blocked>,
    /// Why apply stopped early, when it did.
    pub(crate) halt: Option<Halt>,
    /// What the verification read found; `None` when it was not made (nothing was sent, or
    /// apply was interrupted).
    pub(crate) findings: Option<Vec<Finding>>,
}

impl Execution {
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.steps.iter().filter(|s| f(&s.outcome)).count()
    }
    pub(crate) fn done(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Done))
    }
    pub(crate) fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }
    pub(crate) fn not_attempted(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotAttempted(_)))
    }
    /// Blocked by the plan or by the API's answer.
    pub(crate) fn blocked(&self) -> usize {
        self.blocked_in_plan.len() + self.count(|o| matches!(o, Outcome::Blocked(_)))
    }
    /// The verification read found fewer admins than `min_admins` (exit 1).
    pub(crate) fn guard_crossed(&self) -> bool {
        self.findings
            .iter()
            .flatten()
            .any(|f| matches!(f, Finding::TooFewAdmins { .. }))
    }
    /// An execution where no step of `plan` was attempted, for `why` (a guard refused before
    /// anything was sent, the question was not answered `yes`, a signal came first).
    pub(crate) fn nothing_sent(plan: &Plan, why: &str) -> Execution {
        Execution {
            steps: steps(plan)
                .into_iter()
                .map(|step| not_attempted(step, why))
                .collect(),
            blocked_in_plan: plan.blocked.clone(),
            halt: None,
            findings: None,
        }
    }
}

fn not_attempted(step: Step, why: &str) -> StepReport {
    StepReport {
        step,
        outcome: Outcome::NotAttempted(why.to_string()),
        attempts: 0,
        confirmed_by_reread: false,
        answer_lost: false,
        started: None,
        finished: None,
    }
}

/// Splits a plan into steps, in the order they run: a replaced invitation's revoke and invite
/// become one step (revoke first), and steps are ordered by phase, then plan order.
pub(crate) fn steps(plan: &Plan) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut replacements: HashMap<&str, usize> = HashMap::new();
    for c in &plan.changes {
        if c.is_replacement() {
            if let Some(at) = replacements.get(c.email().as_str()) {
                steps[*at].changes.push(c.clone());
                continue;
            }
            replacements.insert(c.email().as_str(), steps.len());
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
    steps.sort_by_key(|s| s.phase);
    for (i, s) in steps.iter_mut().enumerate() {
        s.index = i + 1;
    }
    steps
}

/// Executes `plan`.
pub(crate) async fn execute(client: &Client, plan: &Plan, run: Run<'_>) -> Execution {
    let all = steps(plan);
    let total = all.len();
    let mut report = Execution {
        steps: Vec::with_capacity(total),
        blocked_in_plan: plan.blocked.clone(),
        halt: None,
        findings: None,
    };
    let mut finished = 0usize;
    // Why the steps left are not attempted, once apply has stopped.
    let mut stop: Option<String> = None;
    let mut push = |r: StepReport, report: &mut Execution| {
        finished += 1;
        (run.progress)(&r, finished, total);
        report.steps.push(r);
    };
    for phase in Phase::ALL {
        let phase_steps: Vec<Step> = all.iter().filter(|s| s.phase == phase).cloned().collect();
        if phase_steps.is_empty() {
            continue;
        }
        if stop.is_none() {
            if let Some(why) = run.stop.reason() {
                report.halt = Some(Halt::Interrupted(why.clone()));
                stop = Some(format!("not attempted: {why}"));
            }
        }
        if stop.is_none() && phase != Phase::Grant {
            // Another apply, or someone in the dashboard, may have changed the org since it was
            // planned: check the guards against what is really there (docs/contract.md §8).
            let remaining: Vec<Change> = all
                .iter()
                .filter(|s| s.phase >= phase)
                .flat_map(|s| s.changes.iter().cloned())
                .collect();
            tracing::info!("reading the org again before phase {}", phase as u8);
            match client.list().await {
                Ok(live) => {
                    let reasons = run.checks.refusals(&live, &remaining);
                    if !reasons.is_empty() {
                        stop = Some(format!(
                            "not attempted: phase {} refused by a safety guard (the org changed during apply)",
                            phase as u8
                        ));
                        report.halt = Some(Halt::Refused { phase, reasons });
                    }
                }
                Err(e) => {
                    stop = Some(format!(
                        "not attempted: the org could not be read again before phase {}",
                        phase as u8
                    ));
                    report.halt = Some(Halt::RereadFailed {
                        phase,
                        failure: failure(&e),
                    });
                }
            }
        }
        if let Some(why) = &stop {
            for step in phase_steps {
                push(not_attempted(step, why), &mut report);
            }
            continue;
        }
        // Steps start in plan order, at most `parallelism` at a time: a new one starts when one
        // finishes, so `--parallelism 1` runs the plan exactly in order.
        let mut queue = phase_steps.into_iter();
        let mut tasks = JoinSet::new();
        let mut running: HashMap<tokio::task::Id, Step> = HashMap::new();
        let start = |tasks: &mut JoinSet<StepReport>,
                     running: &mut HashMap<tokio::task::Id, Step>,
                     step: Step| {
            let client = client.clone();
            let copy = step.clone();
            let stop = run.stop.clone();
            (run.started)(step.index);
            let handle = tasks.spawn(async move { run_step(&client, step, stop).await });
            running.insert(handle.id(), copy);
        };
        for step in queue.by_ref().take(run.parallelism.max(1)) {
            start(&mut tasks, &mut running, step);
        }
        // Set when no further step of this phase may start.
        let mut halted: Option<String> = None;
        while let Some(joined) = tasks.join_next_with_id().await {
            let r = match joined {
                Ok((id, r)) => {
                    running.remove(&id);
                    r
                }
                // A step whose task died is reported as failed, never dropped from the report.
                Err(e) => match running.remove(&e.id()) {
                    Some(step) => StepReport {
                        outcome: Outcome::Failed(Failure {
                            message: format!("the step ended abnormally: {e}"),
                            status: None,
                            code: None,
                            request_id: None,
                        }),
                        ..not_attempted(step, "")
                    },
                    None => continue,
                },
            };
            // A 401 means the key no longer works: every request after it would fail the same
            // way, so the phase stops here (docs/contract.md §8).
            if halted.is_none() && matches!(&r.outcome, Outcome::Failed(f) if f.status == Some(401))
            {
                halted = Some("not attempted: the API refused the key".into());
            }
            if halted.is_none() {
                if let Some(why) = run.stop.reason() {
                    report.halt = Some(Halt::Interrupted(why.clone()));
                    halted = Some(format!("not attempted: {why}"));
                }
            }
            push(r, &mut report);
            if halted.is_none() {
                if let Some(step) = queue.next() {
                    start(&mut tasks, &mut running, step);
                }
            }
        }
        for step in queue {
            let why = halted.clone().unwrap_or_default();
            push(not_attempted(step, &why), &mut report);
        }
        if let Some(why) = halted {
            stop = Some(why);
        } else if report.failed() > 0 {
            stop = Some(format!(
                "not attempted: phase {} had failures, and later phases demote or remove (run apply again once fixed)",
                phase as u8
            ));
        }
    }
    report.steps.sort_by_key(|s| s.step.index);
    let interrupted = matches!(report.halt, Some(Halt::Interrupted(_)));
    let sent = report.steps.iter().any(|s| s.attempts > 0);
    if sent && !interrupted {
        report.findings = Some(verify(client, &report, run.checks, run.stop.clone()).await);
    }
    report
}

/// The verification read after the last phase: every step reported done shows in the org, no
/// email this apply invited has two pending invitations, and the admins are not below the
/// minimum. When an answer was lost during the apply, it first waits as long as the longest
/// look, so that a late commit has a chance to show.
async fn verify(
    client: &Client,
    report: &Execution,
    checks: &dyn Checks,
    mut stop: Stop,
) -> Vec<Finding> {
    if report.steps.iter().any(|s| s.answer_lost) {
        let wait = settle_delay(client.retry_policy(), 1, INVITE_LOOKS - 1, None);
        tracing::info!("waiting {wait:?} for late commits before the verification read");
        if stop.sleep(wait).await {
            return Vec::new();
        }
    }
    tracing::info!("reading the org again to verify the apply");
    let live = match client.list().await {
        Ok(live) => live,
        Err(e) => return vec![Finding::ReadFailed(failure(&e))],
    };
    let mut findings = Vec::new();
    let mut invited: Vec<&Email> = Vec::new();
    for s in report.steps.iter().filter(|s| s.outcome == Outcome::Done) {
        if !s.step.changes.iter().all(|c| is_done(c, &live)) {
            findings.push(Finding::DidNotStick { step: s.step.index });
        }
        for c in &s.step.changes {
            if let Change::Invite(i) = c {
                invited.push(&i.email);
            }
        }
    }
    invited.sort();
    invited.dedup();
    for email in invited {
        let pending = live
            .invitations
            .iter()
            .filter(|i| &i.email == email)
            .count();
        if pending > 1 {
            findings.push(Finding::DuplicateInvitation {
                email: email.clone(),
                pending,
            });
        }
    }
    if let Some((admins, min)) = checks.admins_crossed(&live) {
        findings.push(Finding::TooFewAdmins { admins, min });
    }
    findings
}

async fn run_step(client: &Client, step: Step, mut stop: Stop) -> StepReport {
    let mut r = StepReport {
        started: Some(SystemTime::now()),
        ..not_attempted(step, "")
    };
    r.outcome = run_changes(client, &mut r, &mut stop).await;
    r.finished = Some(SystemTime::now());
    r
}

async fn run_changes(client: &Client, r: &mut StepReport, stop: &mut Stop) -> Outcome {
    let max_attempts = client.retry_policy().max_attempts.max(1);
    // A re-send is two requests, revoke then invite, each with the usual rules (docs/contract.md §9).
    let changes: Vec<Change> = r.step.changes.iter().flat_map(Change::requests).collect();
    for change in &changes {
        loop {
            r.attempts += 1;
            let err = match send(client, change).await {
                Ok(()) => break,
                Err(e) => e,
            };
            if let Some(code) = err.code().filter(|c| SELF_CODES.contains(c)) {
                return Outcome::Blocked(format!(
                    "the API refused: {code} (this is the key's own account)"
                ));
            }
            let gone = err.status() == Some(404)
                && matches!(change, Change::Remove(_) | Change::Revoke(_));
            if gone {
                // "Not found" is what the step wants, but a gateway or proxy may answer 404
                // for the API: believe it only when a fresh read agrees (docs/contract.md §8).
                match client.list().await {
                    Ok(live) if is_done(change, &live) => {
                        r.confirmed_by_reread = true;
                        break;
                    }
                    Ok(_) => {
                        return Outcome::Failed(Failure {
                            message: format!(
                                "{err}, but the org still lists it (is a proxy or gateway answering for the API?)"
                            ),
                            ..failure(&err)
                        });
                    }
                    Err(e) => return failed_with(&err, &e),
                }
            }
            if !err.outcome_unknown() || r.attempts >= max_attempts {
                return Outcome::Failed(failure(&err));
            }
            r.answer_lost = true;
            // The change may have happened. Never send it blindly again: look first. An
            // invitation would land in someone's inbox twice, and a backend behind a gateway
            // that gave up (504) may still be working, so look again, longer, before re-sending.
            let looks = if matches!(change, Change::Invite(_)) {
                INVITE_LOOKS
            } else {
                1
            };
            let mut seen = false;
            for look in 0..looks {
                let wait = settle_delay(client.retry_policy(), r.attempts, look, Some(&err));
                tracing::info!(email = %change.email(), "outcome unknown ({err}); reading the org again in {wait:?}");
                if stop.sleep(wait).await {
                    return Outcome::Failed(Failure {
                        message: format!(
                            "{err}; apply was interrupted before the org could be read again to check (run apply again: it reads the org first)"
                        ),
                        ..failure(&err)
                    });
                }
                match client.list().await {
                    Ok(live) if is_done(change, &live) => {
                        seen = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) => return failed_with(&err, &e),
                }
            }
            if seen {
                r.confirmed_by_reread = true;
                break;
            }
            if let Some(why) = stop.reason() {
                return Outcome::Failed(Failure {
                    message: format!("{err}; not sent again: {why}"),
                    ..failure(&err)
                });
            }
        }
    }
    Outcome::Done
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

fn failure(e: &ApiError) -> Failure {
    Failure {
        message: e.to_string(),
        status: e.status(),
        code: e.code().map(str::to_owned),
        request_id: e.request_id().map(str::to_owned),
    }
}

fn failed_with(write: &ApiError, read: &ApiError) -> Outcome {
    Outcome::Failed(Failure {
        message: format!("{write}; reading the org again to check also failed: {read}"),
        status: write.status(),
        code: write.code().or(read.code()).map(str::to_owned),
        request_id: write.request_id().or(read.request_id()).map(str::to_owned),
    })
}

async fn send(client: &Client, c: &Change) -> Result<(), ApiError> {
    match c {
        Change::Invite(c) => client.invite(&c.email, c.role).await,
        Change::UpdateRole(c) => client.update_role(&c.id, c.to).await,
        Change::Remove(c) => client.remove(&c.id).await,
        Change::Revoke(c) => client.revoke(&c.id).await,
        // run_step sends a re-send's two requests one by one; this is the same, without retries.
        Change::Resend(c) => {
            client.revoke(&c.id).await?;
            client.invite(&c.email, c.role).await
        }
    }
}

/// Whether `live` already shows the effect of `c`.
fn is_done(c: &Change, live: &LiveState) -> bool {
    match c {
        Change::Invite(c) => {
            live.members.iter().any(|m| m.email == c.email)
                || live
                    .invitations
                    .iter()
                    .any(|i| i.email == c.email && i.role.is(c.role))
        }
        Change::UpdateRole(c) => live.members.iter().any(|m| m.id == c.id && m.role.is(c.to)),
        Change::Remove(c) => !live.members.iter().any(|m| m.id == c.id),
        Change::Revoke(c) => !live.invitations.iter().any(|i| i.id == c.id),
        Change::Resend(c) => {
            !live.invitations.iter().any(|i| i.id == c.id)
                && live
                    .invitations
                    .iter()
                    .any(|i| i.email == c.email && i.role.is(c.role))
        }
    }
}
