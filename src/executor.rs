//! The executor: consumes a [`Plan`] and runs it in three phases (docs/contract.md §5):
//! invitations and promotions, then demotions, then revocations and removals, with bounded
//! concurrency inside a phase. It returns a per-step [`Report`]: partial failure is data, never
//! an error. Guards are the caller's business: this runs what it is given.

use crate::client::{ApiError, Client};
use crate::live::LiveState;
use crate::plan::{Blocked, Change, Phase, Plan};
use std::collections::HashMap;
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
    /// The answer was lost (5xx, timeout) and a fresh read of the org showed the change done.
    pub(crate) confirmed_by_reread: bool,
}

/// What apply did, step by step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Report {
    pub(crate) steps: Vec<StepReport>,
    /// Changes the plan itself blocked (never sent).
    pub(crate) blocked_in_plan: Vec<Blocked>,
}

impl Report {
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
    /// Apply succeeded when no step failed or was left out (blocked steps are warnings).
    pub(crate) fn success(&self) -> bool {
        self.failed() == 0 && self.not_attempted() == 0
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

/// Executes `plan`. `progress` is called once per finished step, with the number of steps
/// finished so far and in all.
pub(crate) async fn execute(
    client: &Client,
    plan: &Plan,
    parallelism: usize,
    progress: &dyn Fn(&StepReport, usize, usize),
) -> Report {
    let all = steps(plan);
    let total = all.len();
    let mut report = Report {
        steps: Vec::with_capacity(total),
        blocked_in_plan: plan.blocked.clone(),
    };
    let mut finished = 0usize;
    let mut stop: Option<String> = None;
    for phase in Phase::ALL {
        let phase_steps: Vec<Step> = all.iter().filter(|s| s.phase == phase).cloned().collect();
        if phase_steps.is_empty() {
            continue;
        }
        if let Some(why) = &stop {
            for step in phase_steps {
                finished += 1;
                let r = StepReport {
                    step,
                    outcome: Outcome::NotAttempted(why.clone()),
                    attempts: 0,
                    confirmed_by_reread: false,
                };
                progress(&r, finished, total);
                report.steps.push(r);
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
            let handle = tasks.spawn(async move { run_step(&client, step).await });
            running.insert(handle.id(), copy);
        };
        for step in queue.by_ref().take(parallelism.max(1)) {
            start(&mut tasks, &mut running, step);
        }
        let mut unauthorized = false;
        while let Some(joined) = tasks.join_next_with_id().await {
            let r = match joined {
                Ok((id, r)) => {
                    running.remove(&id);
                    r
                }
                // A step whose task died is reported as failed, never dropped from the report.
                Err(e) => match running.remove(&e.id()) {
                    Some(step) => StepReport {
                        step,
                        outcome: Outcome::Failed(Failure {
                            message: format!("the step ended abnormally: {e}"),
                            status: None,
                            code: None,
                            request_id: None,
                        }),
                        attempts: 0,
                        confirmed_by_reread: false,
                    },
                    None => continue,
                },
            };
            if matches!(&r.outcome, Outcome::Failed(f) if f.status == Some(401)) {
                unauthorized = true;
            }
            finished += 1;
            progress(&r, finished, total);
            report.steps.push(r);
            if let Some(step) = queue.next() {
                start(&mut tasks, &mut running, step);
            }
        }
        if unauthorized {
            stop = Some("not attempted: the API refused the key".into());
        } else if report.failed() > 0 {
            stop = Some(format!(
                "not attempted: phase {} had failures, and later phases demote or remove (run apply again once fixed)",
                phase as u8
            ));
        }
    }
    report.steps.sort_by_key(|s| s.step.index);
    report
}

async fn run_step(client: &Client, step: Step) -> StepReport {
    let mut attempts = 0u32;
    let mut confirmed = false;
    let max_attempts = client.retry_policy().max_attempts.max(1);
    // A re-send is two requests, revoke then invite, each with the usual rules (docs/contract.md §9).
    for change in step
        .changes
        .iter()
        .flat_map(Change::requests)
        .collect::<Vec<_>>()
        .iter()
    {
        loop {
            attempts += 1;
            let err = match send(client, change).await {
                Ok(()) => break,
                Err(e) => e,
            };
            if let Some(code) = err.code().filter(|c| SELF_CODES.contains(c)) {
                return report(
                    step,
                    Outcome::Blocked(format!(
                        "the API refused: {code} (this is the key's own account)"
                    )),
                    attempts,
                    confirmed,
                );
            }
            if err.status() == Some(404) && matches!(change, Change::Remove(_) | Change::Revoke(_))
            {
                // Already gone: what the step wanted.
                tracing::info!(email = %change.email(), "{:?} target no longer exists", change.action());
                break;
            }
            if !err.outcome_unknown() || attempts >= max_attempts {
                return report(step, failed(&err), attempts, confirmed);
            }
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
                let wait = settle_delay(client.retry_policy(), attempts, look, &err);
                tracing::info!(email = %change.email(), "outcome unknown ({err}); reading the org again in {wait:?}");
                tokio::time::sleep(wait).await;
                match client.list().await {
                    Ok(live) if is_done(change, &live) => {
                        seen = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) => return report(step, failed_with(&err, &e), attempts, confirmed),
                }
            }
            if seen {
                confirmed = true;
                break;
            }
        }
    }
    report(step, Outcome::Done, attempts, confirmed)
}

/// The wait before look `look` (0-based) after an unknown outcome: the usual backoff first, then
/// 4× and 8× the retry base (2 s and 4 s by default), so an invitation is looked for during
/// about 6.5 s before it is ever sent again.
fn settle_delay(
    policy: &crate::config::RetryPolicy,
    attempt: u32,
    look: u32,
    err: &ApiError,
) -> std::time::Duration {
    match look {
        0 => policy.backoff(attempt, err),
        n => policy
            .base
            .saturating_mul(1 << (n + 1).min(16))
            .min(policy.cap),
    }
}

fn report(step: Step, outcome: Outcome, attempts: u32, confirmed_by_reread: bool) -> StepReport {
    StepReport {
        step,
        outcome,
        attempts,
        confirmed_by_reread,
    }
}

fn failed(e: &ApiError) -> Outcome {
    Outcome::Failed(Failure {
        message: e.to_string(),
        status: e.status(),
        code: e.code().map(str::to_owned),
        request_id: e.request_id().map(str::to_owned),
    })
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
