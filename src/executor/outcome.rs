//! What an execution did, as data: how each step ended and why ([`Outcome`], [`NotAttempted`],
//! [`Failure`]), why apply stopped early ([`Halt`]) and what the verification read found
//! ([`Finding`]). No words here: `render/apply.rs` says them, and the apply report
//! (`formats/report.rs`) takes its messages from there.

use super::Step;
use crate::api::ApiError;
pub(crate) use crate::api::Pauses;
use crate::email::Email;
use crate::interrupt::Signal;
use crate::plan::{Blocked, Change, Guard, Phase, Plan};
use crate::role::LiveRole;
use std::time::SystemTime;

/// How a step ended.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Done(Done),
    /// The API refused because the change concerns the key's own account.
    Blocked(OwnAccount),
    Failed(Failed),
    NotAttempted(NotAttempted),
}

impl Outcome {
    /// Failed for `failure`, nothing else known.
    pub(crate) fn failed(failure: Failure) -> Outcome {
        Outcome::Failed(Failed::new(failure))
    }
}

/// How a step was done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Done {
    /// Every request was answered with success.
    Answered,
    /// An answer was lost (5xx, timeout) or was a 404, and a fresh read of the org showed the
    /// change done.
    Confirmed,
    /// A re-send or replacement whose old invitation was accepted just before the revoke (its
    /// 404 confirmed by a fresh read): the person is a member, with this role, so no new
    /// invitation was sent.
    AcceptedMeanwhile(LiveRole),
}

/// A failed step: why, and what may have happened all the same.
#[derive(Clone, Debug)]
pub(crate) struct Failed {
    pub(crate) failure: Failure,
    /// The step failed while an invitation of it was on its way, its outcome unknown: it may
    /// have been sent (docs/contract.md §5, interruption).
    pub(crate) may_have_been_sent: bool,
    /// An answer to one of its requests was lost or was a 404, and a fresh read of the org
    /// showed that request done (the revoke of a replacement whose invitation then failed, a
    /// revocation that lost to an acceptance).
    pub(crate) confirmed_by_reread: bool,
}

impl Failed {
    /// Failed for `failure`, nothing else known.
    pub(crate) fn new(failure: Failure) -> Failed {
        Failed {
            failure,
            may_have_been_sent: false,
            confirmed_by_reread: false,
        }
    }
}

/// The API's refusals that mean "the key's own account": the step is blocked, not failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OwnAccount {
    /// `cannot_change_own_role`.
    Role,
    /// `cannot_remove_self`.
    Removal,
}

impl OwnAccount {
    /// The refusal an API error `code` means, if it is one.
    pub(crate) fn from_code(code: &str) -> Option<OwnAccount> {
        match code {
            "cannot_change_own_role" => Some(OwnAccount::Role),
            "cannot_remove_self" => Some(OwnAccount::Removal),
            _ => None,
        }
    }

    /// The API's code for it.
    pub(crate) fn code(self) -> &'static str {
        match self {
            OwnAccount::Role => "cannot_change_own_role",
            OwnAccount::Removal => "cannot_remove_self",
        }
    }
}

/// Why a step was not attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotAttempted {
    /// A signal came before the step started.
    Interrupted(Signal),
    /// A safety guard refused the plan before anything was sent.
    Refused,
    /// `--drift refuse`: the plan would revert drift.
    DriftRefused,
    /// The answer to the question was not `yes`.
    NotConfirmed,
    /// No terminal to ask on, and no `--auto-approve`.
    NoTerminal,
    /// The saved plan no longer matched the org or the file.
    PlanOutdated,
    /// The re-read before this phase showed that a guard would now refuse it.
    RefusedMidway(Phase),
    /// The org could not be read again before this phase.
    RereadFailed(Phase),
    /// A 401: the key stopped working.
    KeyRefused,
    /// This earlier phase had failures, and later phases demote or remove.
    EarlierFailures(Phase),
}

/// Why a step failed.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// The API's answer (after retries, where they apply).
    Api(ApiError),
    /// A 404 to a removal or revocation, yet a fresh read still lists the target (a gateway or
    /// proxy answering for the API?).
    StillListed(ApiError),
    /// The write's outcome was unknown and the read that would have told failed too.
    CheckFailed {
        write: ApiError,
        /// Boxed: two errors inline would make every outcome as large as both.
        read: Box<ApiError>,
    },
    /// The write's outcome was unknown and apply was interrupted before the org could be read
    /// again.
    InterruptedBeforeCheck(ApiError),
    /// The write's outcome was unknown, the org did not show it, and apply was stopped: it was
    /// not sent again.
    NotResent { error: ApiError, signal: Signal },
    /// The step's task ended abnormally (a panic), with what the runtime said.
    Abnormal(String),
    /// A second signal ended the run while the step's request was in flight.
    CutOff(Signal),
    /// A plain revocation answered 404 because its person accepted the invitation just
    /// before: they are a member now, with this role, though the file does not want them in
    /// (docs/contract.md §5). The 404's error is kept for its `requestId`.
    AcceptedBeforeRevoke { role: LiveRole, error: ApiError },
    /// A re-send or replacement revoked the old invitation, then its new invitation failed:
    /// the person has none until the next run (docs/contract.md §5, re-sends).
    InviteAfterRevoke(Box<Failure>),
}

impl Failure {
    /// The write's error, when the API answered.
    fn error(&self) -> Option<&ApiError> {
        match self {
            Failure::Api(e)
            | Failure::StillListed(e)
            | Failure::InterruptedBeforeCheck(e)
            | Failure::NotResent { error: e, .. }
            | Failure::CheckFailed { write: e, .. }
            | Failure::AcceptedBeforeRevoke { error: e, .. } => Some(e),
            Failure::InviteAfterRevoke(inner) => inner.error(),
            Failure::Abnormal(_) | Failure::CutOff(_) => None,
        }
    }

    /// The HTTP status of the write's answer.
    pub(crate) fn status(&self) -> Option<u16> {
        self.error().and_then(ApiError::status)
    }

    /// The API's `code`: the write's, or the check read's.
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            Failure::CheckFailed { write, read } => write.code().or(read.code()),
            Failure::InviteAfterRevoke(inner) => inner.code(),
            f => f.error().and_then(ApiError::code),
        }
    }

    /// The API's `requestId`: the write's, or the check read's.
    pub(crate) fn request_id(&self) -> Option<&str> {
        match self {
            Failure::CheckFailed { write, read } => write.request_id().or(read.request_id()),
            Failure::InviteAfterRevoke(inner) => inner.request_id(),
            f => f.error().and_then(ApiError::request_id),
        }
    }

    /// Whether the write may have happened after all (its answer was lost, or it was cut off).
    pub(crate) fn outcome_unknown(&self) -> bool {
        match self {
            Failure::CutOff(_) | Failure::NotResent { .. } => true,
            Failure::InterruptedBeforeCheck(e) | Failure::CheckFailed { write: e, .. } => {
                e.outcome_unknown()
            }
            Failure::Api(e) => e.outcome_unknown(),
            Failure::InviteAfterRevoke(inner) => inner.outcome_unknown(),
            Failure::StillListed(_)
            | Failure::Abnormal(_)
            | Failure::AcceptedBeforeRevoke { .. } => false,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct StepResult {
    pub(crate) step: Step,
    pub(crate) outcome: Outcome,
    /// Requests sent for this step (retries included, those cut off by a signal too).
    pub(crate) attempts: u32,
    /// The `requestId` of every error answer the step got, also of those a confirming read
    /// followed (docs/contract.md §8).
    pub(crate) error_request_ids: Vec<String>,
    /// At least one answer was lost (the outcome of a request was unknown for a while).
    pub(crate) answer_lost: bool,
    /// When the step started and ended; `None` when it was not attempted.
    pub(crate) started: Option<SystemTime>,
    pub(crate) finished: Option<SystemTime>,
}

impl StepResult {
    /// A step that was not attempted, for `why`.
    pub(crate) fn not_attempted(step: Step, why: NotAttempted) -> StepResult {
        StepResult::new(step, Outcome::NotAttempted(why))
    }

    /// A step that ended with `outcome`, nothing else known yet.
    pub(crate) fn new(step: Step, outcome: Outcome) -> StepResult {
        StepResult {
            step,
            outcome,
            attempts: 0,
            error_request_ids: Vec::new(),
            answer_lost: false,
            started: None,
            finished: None,
        }
    }

    /// An answer was lost or was a 404, and a fresh read of the org showed the change (or, for
    /// a failed step, one of its requests) done.
    pub(crate) fn confirmed_by_reread(&self) -> bool {
        match &self.outcome {
            Outcome::Done(done) => *done != Done::Answered,
            Outcome::Failed(f) => f.confirmed_by_reread,
            Outcome::Blocked(_) | Outcome::NotAttempted(_) => false,
        }
    }

    /// The step failed while an invitation of it was on its way: it may have been sent.
    pub(crate) fn may_have_been_sent(&self) -> bool {
        matches!(&self.outcome, Outcome::Failed(f) if f.may_have_been_sent)
    }

    /// Whether the step sends an invitation (an invite, a replacement or a re-send).
    pub(crate) fn invites(&self) -> bool {
        self.step
            .changes
            .iter()
            .any(|c| matches!(c, Change::Invite(_) | Change::Resend(_)))
    }
}

/// Why apply stopped before the end of the plan.
#[derive(Clone, Debug)]
pub(crate) enum Halt {
    /// A signal; `ended_by` the second one, when it ended the run at once.
    Interrupted {
        by: Signal,
        ended_by: Option<Signal>,
    },
    /// The re-read before `phase` showed that sending it would now cross these guards.
    Refused { phase: Phase, guards: Vec<Guard> },
    /// The org could not be read again before `phase`.
    RereadFailed { phase: Phase, error: ApiError },
}

/// What the verification read after the last phase found (docs/contract.md §5).
#[derive(Clone, Debug)]
pub(crate) enum Finding {
    /// More than one pending invitation for an email this apply invited or kept.
    DuplicateInvitation { email: Email, pending: usize },
    /// A step reported done whose effect the org does not show.
    DidNotStick { step: usize },
    /// Fewer admin members than `min_admins`, and fewer than before the apply: a guard crossed.
    TooFewAdmins { admins: usize, min: u64 },
    /// The verification read itself failed.
    ReadFailed(ApiError),
}

/// What an execution of a plan did, step by step (the apply report document is made from it:
/// [`crate::formats::report`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct Execution {
    /// In step order: `steps[i].step.index == i + 1`.
    pub(crate) steps: Vec<StepResult>,
    /// Changes the plan itself blocked (never sent).
    pub(crate) blocked_in_plan: Vec<Blocked>,
    /// Why apply stopped early, when it did.
    pub(crate) halt: Option<Halt>,
    /// What the verification read found; `None` when it was not made (nothing was sent, or
    /// apply was interrupted).
    pub(crate) findings: Option<Vec<Finding>>,
    /// The rate-limit pauses.
    pub(crate) pauses: Pauses,
}

impl Execution {
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.steps.iter().filter(|s| f(&s.outcome)).count()
    }
    pub(crate) fn done(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Done(_)))
    }
    pub(crate) fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }
    pub(crate) fn not_attempted(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotAttempted(_)))
    }
    /// A step failed because the API refused the key (401): the key stopped working midway.
    pub(crate) fn key_refused(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(&s.outcome, Outcome::Failed(f) if f.failure.status() == Some(401)))
    }
    /// Blocked by the plan or by the API's answer.
    pub(crate) fn blocked(&self) -> usize {
        crate::plan::blocked_entries(&self.blocked_in_plan).len()
            + self.count(|o| matches!(o, Outcome::Blocked(_)))
    }
    /// The verification read found fewer admins than `min_admins` (exit 1).
    pub(crate) fn guard_crossed(&self) -> bool {
        self.findings
            .iter()
            .flatten()
            .any(|f| matches!(f, Finding::TooFewAdmins { .. }))
    }
    /// The step with this index.
    pub(crate) fn step(&self, index: usize) -> Option<&StepResult> {
        index
            .checked_sub(1)
            .and_then(|i| self.steps.get(i))
            .filter(|s| s.step.index == index)
            .or_else(|| self.steps.iter().find(|s| s.step.index == index))
    }
    /// The steps whose invitation may have been sent although they failed.
    pub(crate) fn may_have_been_sent(&self) -> impl Iterator<Item = &StepResult> {
        self.steps.iter().filter(|s| s.may_have_been_sent())
    }
    /// An execution where no step of `plan` was attempted, for `why` (a guard refused before
    /// anything was sent, the question was not answered `yes`, a signal came first).
    pub(crate) fn nothing_sent(plan: &Plan, why: NotAttempted) -> Execution {
        Execution {
            steps: super::steps(plan)
                .into_iter()
                .map(|step| StepResult::not_attempted(step, why))
                .collect(),
            blocked_in_plan: plan.blocked.clone(),
            ..Execution::default()
        }
    }
}
