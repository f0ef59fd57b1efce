//! The apply executor: runs a [`Plan`] in three phases (invitations and promotions, then
//! demotions, then revocations and removals), with bounded concurrency inside a phase, and
//! returns a per-step report. Partial failure is data: a failed step is reported, not raised.

use crate::client::{ApiError, Client};
use crate::email::normalize;
use crate::model::{LiveState, Role};
use crate::plan::{Action, Change, Plan};
use std::sync::Arc;
use tokio::task::JoinSet;

/// API codes that mean "the key's own account": the step is blocked, not failed.
pub const SELF_CODES: &[&str] = &["cannot_change_own_role", "cannot_remove_self"];

/// One unit of work: one change, or the revoke + invite that replace an invitation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub index: usize,
    pub phase: u8,
    pub changes: Vec<Change>,
}

impl Step {
    pub fn email(&self) -> &str {
        &self.changes[0].email
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The API refused because the change concerns the key's own account.
    Blocked(String),
    Failed {
        message: String,
        status: Option<u16>,
        code: Option<String>,
        request_id: Option<String>,
    },
    /// Not attempted because an earlier phase failed or the key was refused.
    Skipped(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepReport {
    pub step: Step,
    pub outcome: Outcome,
    /// Requests sent for this step (retries included).
    pub attempts: u32,
    /// The answer was lost (5xx, timeout) and a fresh read of the org showed the change done.
    pub confirmed_by_reread: bool,
}

/// What apply did, step by step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub steps: Vec<StepReport>,
    /// Changes the plan itself blocked (never sent).
    pub blocked_in_plan: Vec<Change>,
}

impl Report {
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.steps.iter().filter(|s| f(&s.outcome)).count()
    }
    pub fn done(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Done))
    }
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped(_)))
    }
    /// Blocked by the plan or by the API's answer.
    pub fn blocked(&self) -> usize {
        self.blocked_in_plan.len() + self.count(|o| matches!(o, Outcome::Blocked(_)))
    }
    /// Apply succeeded when no step failed or was skipped (blocked steps are warnings).
    pub fn success(&self) -> bool {
        self.failed() == 0 && self.skipped() == 0
    }
}

/// Splits a plan into steps: a replaced invitation's revoke and invite become one step.
pub fn steps(plan: &Plan) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut replacements: std::collections::HashMap<&str, usize> = Default::default();
    for c in &plan.changes {
        if c.replaces_invitation {
            if let Some(at) = replacements.get(c.email.as_str()) {
                steps[*at].changes.push(c.clone());
                continue;
            }
            replacements.insert(&c.email, steps.len());
        }
        steps.push(Step {
            index: 0,
            phase: c.phase(),
            changes: vec![c.clone()],
        });
    }
    for s in &mut steps {
        // Revoke before invite inside a replacement.
        s.changes.sort_by_key(|c| c.action != Action::Revoke);
        s.phase = s.changes.iter().map(Change::phase).min().unwrap_or(1);
    }
    steps.sort_by_key(|s| s.phase);
    for (i, s) in steps.iter_mut().enumerate() {
        s.index = i + 1;
    }
    steps
}

/// Called once per finished step, with the number of steps finished so far and in all.
pub type Progress = Arc<dyn Fn(&StepReport, usize, usize) + Send + Sync>;

/// Executes `plan` against the API. Guards are the caller's business: this runs what it is given.
pub async fn execute(
    client: &Client,
    plan: &Plan,
    parallelism: usize,
    progress: Progress,
) -> Report {
    let all = steps(plan);
    let total = all.len();
    let mut report = Report {
        steps: Vec::with_capacity(total),
        blocked_in_plan: plan.blocked.clone(),
    };
    let mut finished = 0usize;
    let mut stop: Option<String> = None;
    for phase in 1..=3u8 {
        let phase_steps: Vec<Step> = all.iter().filter(|s| s.phase == phase).cloned().collect();
        if phase_steps.is_empty() {
            continue;
        }
        if let Some(why) = &stop {
            for step in phase_steps {
                finished += 1;
                let r = StepReport {
                    step,
                    outcome: Outcome::Skipped(why.clone()),
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
        let mut running = std::collections::HashMap::new();
        let start = |tasks: &mut JoinSet<StepReport>,
                     running: &mut std::collections::HashMap<tokio::task::Id, Step>,
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
                Err(e) => StepReport {
                    step: match running.remove(&e.id()) {
                        Some(step) => step,
                        None => continue,
                    },
                    outcome: Outcome::Failed {
                        message: format!("the step ended abnormally: {e}"),
                        status: None,
                        code: None,
                        request_id: None,
                    },
                    attempts: 0,
                    confirmed_by_reread: false,
                },
            };
            if let Outcome::Failed {
                status: Some(401), ..
            } = &r.outcome
            {
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
                "not attempted: phase {phase} had failures, and later phases demote or remove (run apply again once fixed)"
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
    for change in &step.changes {
        loop {
            attempts += 1;
            let result = send(client, change).await;
            let err = match result {
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
            if err.status() == Some(404) && matches!(change.action, Action::Remove | Action::Revoke)
            {
                // Already gone: what the step wanted.
                tracing::info!(email = %change.email, "{} target no longer exists", change.action);
                break;
            }
            if !err.outcome_unknown() || attempts >= max_attempts {
                return report(step, failed(&err), attempts, confirmed);
            }
            // The change may have happened. Never send it blindly again: look first. An
            // invitation would land in someone's inbox twice, and a backend behind a gateway
            // that gave up (504) may still be working, so look again, longer, before re-sending.
            let looks = if change.action == Action::Invite {
                INVITE_LOOKS
            } else {
                1
            };
            let mut seen = false;
            for look in 0..looks {
                let wait = settle_delay(client.retry_policy(), attempts, look, &err);
                tracing::info!(email = %change.email, "outcome unknown ({err}); reading the org again in {wait:?}");
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

/// How many times an invitation whose outcome is unknown is looked for before it is sent again.
pub const INVITE_LOOKS: u32 = 3;

/// The wait before look `look` (0-based) after an unknown outcome: the usual backoff first, then
/// 4× and 8× the retry base (2 s and 4 s by default), so an invitation is looked for during
/// about 6.5 s before it is ever sent again.
pub fn settle_delay(
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
    Outcome::Failed {
        message: e.to_string(),
        status: e.status(),
        code: e.code().map(str::to_owned),
        request_id: e.request_id().map(str::to_owned),
    }
}

fn failed_with(write: &ApiError, read: &ApiError) -> Outcome {
    Outcome::Failed {
        message: format!("{write}; reading the org again to check also failed: {read}"),
        status: write.status(),
        code: write.code().or(read.code()).map(str::to_owned),
        request_id: write.request_id().or(read.request_id()).map(str::to_owned),
    }
}

async fn send(client: &Client, c: &Change) -> Result<(), ApiError> {
    let id = c.id.as_deref().unwrap_or_default();
    let role = c.role.unwrap_or(Role::Member);
    match c.action {
        Action::Invite => client.invite(&c.email, role).await,
        Action::UpdateRole => client.update_role(id, role).await,
        Action::Remove => client.remove(id).await,
        Action::Revoke => client.revoke(id).await,
    }
}

/// Whether `live` already shows the effect of `c`.
pub fn is_done(c: &Change, live: &LiveState) -> bool {
    let id = c.id.as_deref().unwrap_or_default();
    match c.action {
        Action::Invite => {
            let role = c.role.map(Role::as_str).unwrap_or_default();
            live.members.iter().any(|m| normalize(&m.email) == c.email)
                || live
                    .pending_invitations()
                    .any(|i| normalize(&i.email) == c.email && i.role == role)
        }
        Action::UpdateRole => {
            let role = c.role.map(Role::as_str).unwrap_or_default();
            live.members.iter().any(|m| m.id == id && m.role == role)
        }
        Action::Remove => !live.members.iter().any(|m| m.id == id),
        Action::Revoke => !live.pending_invitations().any(|i| i.id == id),
    }
}
