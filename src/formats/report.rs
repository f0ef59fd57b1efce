//! The apply report (`apply --report FILE`, docs/contract.md §6): a JSON audit document that
//! says, for every step of the plan, what happened, with how many requests, and the API's
//! `code` and `requestId` when it failed. Its schema is `schema/report.schema.json`
//! (`teamsync schema --report`). It never holds the API key or the API URL.

use super::plan::ChangeWire;
use super::plan::Fingerprints;
use crate::date::rfc3339;
use crate::executor::{Execution, Finding, Outcome, StepResult};
use crate::origin::{DriftMode, Origin, OriginIndex};
use crate::plan::{Action, Change};
use crate::render::{blocked_text, failure_text, finding_text, halt_text, not_attempted_text};
use crate::role::Role;
use schemars::JsonSchema;
use serde::Serialize;
use std::time::SystemTime;

/// The version of the report's shape. Fields may be added within a version; none is removed or
/// changes meaning.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// How an apply ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Ending {
    /// Every step done (or blocked), and the verification read found no guard crossed.
    Succeeded,
    /// Nothing to send.
    NoChanges,
    /// A step failed, a step was left out after a failure, or the verification read found
    /// fewer admins than `min_admins`.
    Failed,
    /// A safety guard refused, before anything was sent or before a later phase.
    Refused,
    /// A signal stopped it.
    Interrupted,
    /// Nobody answered `yes` (or there was no terminal to ask on); nothing was sent.
    NotConfirmed,
    /// The saved plan no longer matched the org or the file; nothing was sent.
    #[serde(rename = "stale")]
    PlanOutdated,
}

/// How one step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StepOutcome {
    Done,
    /// The API refused because the change concerns the key's own account.
    Blocked,
    Failed,
    NotAttempted,
}

/// What `teamsync apply --report FILE` did, step by step (format_version 1).
#[derive(Serialize, JsonSchema)]
#[schemars(title = "teamsync apply report")]
pub(crate) struct ReportDocument {
    /// Always 1 for this shape.
    pub(crate) format_version: u32,
    /// The teamsync version that ran the apply.
    pub(crate) teamsync_version: String,
    /// The desired-state file, as given on the command line.
    pub(crate) desired_file: String,
    /// The org the desired file names (its `org:`); null when it names none.
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    pub(crate) org: Option<String>,
    /// With `--baseline` (or a saved plan made with one): what apply did with drift, `revert`,
    /// `keep` or `refuse` (docs/contract.md §5); null otherwise.
    pub(crate) drift: Option<DriftMode>,
    /// When a guard refused the apply: which (`max_removals`, `min_admins`, or `drift` for
    /// `--drift refuse`).
    pub(crate) guard: Option<String>,
    /// When apply started and ended (RFC 3339, UTC).
    pub(crate) started_at: String,
    pub(crate) finished_at: String,
    pub(crate) ending: Ending,
    /// The process's exit code.
    pub(crate) exit_code: u8,
    /// The signal that interrupted the apply (`SIGINT`, `SIGTERM`), when one did.
    pub(crate) signal: Option<String>,
    /// Why apply stopped early or did not start, in words.
    pub(crate) message: Option<String>,
    /// Fingerprints of the file and the live state the plan was computed from, as in the JSON
    /// plan.
    pub(crate) fingerprints: Fingerprints,
    /// One entry per step, in the order steps start.
    pub(crate) steps: Vec<StepEntry>,
    /// Changes the plan blocked (never sent).
    pub(crate) blocked_in_plan: Vec<ChangeWire>,
    /// With `--drift keep`: the changes that would have reverted drift, left in place (never
    /// sent); null otherwise.
    pub(crate) drift_left_in_place: Option<Vec<ChangeWire>>,
    /// What the verification read after the last phase found; null when it was not made
    /// (nothing was sent, or apply was interrupted).
    pub(crate) verification: Option<Verification>,
    pub(crate) counts: Counts,
    /// The rate-limit (429) pauses: every request waited through them (docs/contract.md §8).
    pub(crate) rate_limit_pauses: PausesEntry,
}

/// How many rate-limit pauses there were, and how long they lasted in all.
#[derive(Serialize, JsonSchema)]
pub(crate) struct PausesEntry {
    pub(crate) count: usize,
    /// Seconds, with milliseconds.
    pub(crate) seconds: f64,
}

/// One step: one change, or the revoke and invite that replace an invitation.
#[derive(Serialize, JsonSchema)]
pub(crate) struct StepEntry {
    /// 1-based, in the order steps start.
    pub(crate) index: usize,
    /// 1 invitations and promotions, 2 demotions, 3 revocations and removals.
    pub(crate) phase: u8,
    /// What the step does (for a replacement: `invite`, with `replaces_invitation`).
    pub(crate) action: Action,
    /// The normalized email.
    pub(crate) email: String,
    /// The role after the step, or the role that goes away (`remove`, `revoke`).
    pub(crate) role: Option<Role>,
    /// The role before the step (a member's, or the replaced or revoked invitation's).
    pub(crate) from_role: Option<String>,
    /// With a baseline: where the step comes from, `edit` or `drift` (docs/contract.md §8).
    pub(crate) origin: Option<Origin>,
    /// The member id or invitation id the step names.
    pub(crate) id: Option<String>,
    /// The step revokes a pending invitation, then invites again.
    pub(crate) replaces_invitation: bool,
    pub(crate) outcome: StepOutcome,
    /// Why the step was blocked or not attempted.
    pub(crate) why: Option<String>,
    /// Requests sent for the step: retries included, and those cut off by a second signal
    /// (they may have been committed).
    pub(crate) attempts: u32,
    /// The API's `requestId` of every error answer the step got, in order, also of those a
    /// confirming read followed (a lost answer, a 404): what Scaling support asks for.
    pub(crate) error_request_ids: Vec<String>,
    /// An answer was lost or was a 404, and a fresh read of the org showed the change done.
    pub(crate) confirmed_by_reread: bool,
    /// For a failed step: the HTTP status, the API's `code` and `requestId`, and the message.
    pub(crate) status: Option<u16>,
    pub(crate) code: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) message: Option<String>,
    /// The step failed while its invitation was on its way, its outcome unknown: the
    /// invitation may have been sent (the next apply reads the org first).
    pub(crate) may_have_been_sent: bool,
    /// When the step started and ended (RFC 3339, UTC); null when not attempted.
    pub(crate) started_at: Option<String>,
    pub(crate) finished_at: Option<String>,
}

/// The verification read after the last phase.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Verification {
    /// Empty when the org shows every change and no guard is crossed.
    pub(crate) findings: Vec<FindingEntry>,
}

/// Something the verification read found.
#[derive(Serialize, JsonSchema)]
pub(crate) struct FindingEntry {
    pub(crate) kind: FindingKind,
    /// The email concerned, when there is one.
    pub(crate) email: Option<String>,
    /// The step concerned, when there is one.
    pub(crate) step: Option<usize>,
    pub(crate) message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FindingKind {
    /// More than one pending invitation for an email this apply invited, re-sent or kept.
    DuplicateInvitation,
    /// A step reported done whose effect the org does not show.
    DidNotStick,
    /// Fewer admin members than `min_admins`, and fewer than before the apply.
    TooFewAdmins,
    /// The verification read failed.
    ReadFailed,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct Counts {
    pub(crate) steps: usize,
    pub(crate) done: usize,
    /// Blocked by the API's answer or by the plan.
    pub(crate) blocked: usize,
    pub(crate) failed: usize,
    pub(crate) not_attempted: usize,
}

/// The report's header: everything it says besides what the execution did.
pub(crate) struct Header<'a> {
    pub(crate) desired_file: &'a str,
    pub(crate) org: Option<&'a str>,
    /// With a baseline: the drift mode, each change's origin, and the drift left in place.
    pub(crate) drift: Option<DriftReport<'a>>,
    pub(crate) guard: Option<&'static str>,
    pub(crate) started: SystemTime,
    pub(crate) fingerprints: &'a Fingerprints,
    pub(crate) ending: Ending,
    pub(crate) exit_code: u8,
    pub(crate) signal: Option<&'a str>,
    pub(crate) message: Option<String>,
}

/// What a report says about drift (docs/contract.md §5).
pub(crate) struct DriftReport<'a> {
    pub(crate) mode: DriftMode,
    pub(crate) origins: &'a OriginIndex,
    /// `--drift keep`: the drift left in place.
    pub(crate) left: &'a [&'a Change],
}

impl ReportDocument {
    pub(crate) fn new(execution: &Execution, header: Header<'_>) -> ReportDocument {
        let origins = header.drift.as_ref().map(|d| d.origins);
        ReportDocument {
            format_version: FORMAT_VERSION,
            teamsync_version: env!("CARGO_PKG_VERSION").to_string(),
            desired_file: header.desired_file.to_string(),
            org: header.org.map(str::to_string),
            drift: header.drift.as_ref().map(|d| d.mode),
            guard: header.guard.map(str::to_string),
            started_at: rfc3339(header.started),
            finished_at: rfc3339(SystemTime::now()),
            ending: header.ending,
            exit_code: header.exit_code,
            signal: header.signal.map(str::to_owned),
            message: header
                .message
                .or_else(|| execution.halt.as_ref().map(halt_text)),
            fingerprints: header.fingerprints.clone(),
            steps: execution
                .steps
                .iter()
                .map(|r| step_entry(r, origins))
                .collect(),
            blocked_in_plan: execution
                .blocked_in_plan
                .iter()
                .map(ChangeWire::from)
                .collect(),
            drift_left_in_place: header
                .drift
                .as_ref()
                .filter(|d| d.mode == DriftMode::Keep)
                .map(|d| d.left.iter().map(|c| ChangeWire::from(*c)).collect()),
            verification: execution.findings.as_ref().map(|f| Verification {
                findings: f.iter().map(|f| finding_entry(execution, f)).collect(),
            }),
            counts: Counts {
                steps: execution.steps.len(),
                done: execution.done(),
                blocked: execution.blocked(),
                failed: execution.failed(),
                not_attempted: execution.not_attempted(),
            },
            rate_limit_pauses: PausesEntry {
                count: execution.pauses.count,
                seconds: (execution.pauses.waited.as_millis() as f64) / 1000.0,
            },
        }
    }

    /// Pretty JSON with a final newline.
    pub(crate) fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

fn finding_entry(execution: &Execution, f: &Finding) -> FindingEntry {
    let (kind, email, step) = match f {
        Finding::DuplicateInvitation { email, .. } => (
            FindingKind::DuplicateInvitation,
            Some(email.to_string()),
            None,
        ),
        Finding::DidNotStick { step } => (
            FindingKind::DidNotStick,
            execution
                .step(*step)
                .and_then(|s| s.step.changes.first())
                .map(|c| c.email().to_string()),
            Some(*step),
        ),
        Finding::TooFewAdmins { .. } => (FindingKind::TooFewAdmins, None, None),
        Finding::ReadFailed(_) => (FindingKind::ReadFailed, None, None),
    };
    FindingEntry {
        kind,
        email,
        step,
        message: finding_text(execution, f),
    }
}

fn step_entry(r: &StepResult, origins: Option<&OriginIndex>) -> StepEntry {
    let changes = &r.step.changes;
    let (first, last) = (changes.first(), changes.last());
    let (outcome, why) = match &r.outcome {
        Outcome::Done(_) => (StepOutcome::Done, None),
        Outcome::Blocked(own) => (
            StepOutcome::Blocked,
            Some(blocked_text(
                *own,
                first.map(|c| c.email().as_str()).unwrap_or_default(),
            )),
        ),
        Outcome::Failed(_) => (StepOutcome::Failed, None),
        Outcome::NotAttempted(why) => (StepOutcome::NotAttempted, Some(not_attempted_text(*why))),
    };
    let failure = match &r.outcome {
        Outcome::Failed(f) => Some(&f.failure),
        _ => None,
    };
    StepEntry {
        index: r.step.index,
        phase: r.step.phase as u8,
        action: last.map_or(Action::Invite, |c| c.action()),
        email: first.map(|c| c.email().to_string()).unwrap_or_default(),
        role: last.and_then(|c| c.role()),
        from_role: first
            .and_then(|c| c.role_before())
            .map(|r| r.as_str().to_string()),
        origin: origins.and_then(|o| last.and_then(|c| o.of(c))),
        id: changes.iter().find_map(|c| c.id()).map(str::to_owned),
        replaces_invitation: changes.iter().any(|c| c.is_replacement()),
        outcome,
        why,
        attempts: r.attempts,
        error_request_ids: r.error_request_ids.clone(),
        confirmed_by_reread: r.confirmed_by_reread(),
        status: failure.and_then(|f| f.status()),
        code: failure.and_then(|f| f.code()).map(str::to_owned),
        request_id: failure.and_then(|f| f.request_id()).map(str::to_owned),
        message: failure.map(|f| failure_text(r, f)),
        may_have_been_sent: r.may_have_been_sent(),
        started_at: r.started.map(rfc3339),
        finished_at: r.finished.map(rfc3339),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_are_rfc_3339_utc_with_milliseconds() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_837_762_123);
        assert_eq!(rfc3339(t), "2026-11-28T03:49:22.123Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
