//! The apply's words: one progress line per finished step, the closing summary, and the sentence for every typed reason the executor
//! reports (why a step was blocked, failed or not attempted, why apply stopped, what the
//! verification read found), which the apply report takes too.

use super::{describe, refusals, symbol};
use crate::escape::escape;
use crate::executor::{
    Done, Execution, Failed, Failure, Finding, Halt, NotAttempted, Outcome, OwnAccount, Pauses,
    StepResult,
};
use crate::plan::{Action, Change};
use crate::role::LiveRole;
use crate::words::plural;
use std::fmt::Write;
use std::time::Duration;

/// What a step does, e.g. `revoke the invitation of … (org:admin), then invite … as org:member`.
fn what(r: &StepResult) -> String {
    r.step
        .changes
        .iter()
        .map(describe)
        .collect::<Vec<_>>()
        .join(", then ")
}

/// A re-send or replacement whose old invitation was accepted just before its revoke: done,
/// nothing invited; when the invitation had the role the replacement was to change, the
/// member has it now, and the next apply changes it (docs/contract.md §5, re-sends).
fn accepted_meanwhile(r: &StepResult, has: &LiveRole, sym: char, what: &str) -> String {
    let wanted = r.step.changes.iter().find_map(|c| match c {
        Change::Invite(i) => Some(i.role),
        Change::Resend(s) => Some(s.role),
        _ => None,
    });
    match wanted {
        Some(wanted) if !has.is(wanted) => format!(
            "{sym} {what}: done (the invitation was accepted meanwhile, as {}: already a member, not invited again; the next apply changes the role to {})",
            escape(has.as_str()),
            wanted.as_str()
        ),
        _ => format!(
            "{sym} {what}: done (the invitation was accepted meanwhile: already a member, not invited again)"
        ),
    }
}

/// The email a step concerns, escaped for a terminal.
fn step_email(r: &StepResult) -> String {
    r.step
        .changes
        .first()
        .map(|c| escape(c.email().as_str()).into_owned())
        .unwrap_or_default()
}

/// One step and how it ended, e.g. `+ invite erin@example.com as org:member: done`.
pub(crate) fn step_line(r: &StepResult) -> String {
    let what = what(r);
    let sym = r.step.changes.last().map_or('+', |c| symbol(c.action()));
    match &r.outcome {
        Outcome::Done(Done::AcceptedMeanwhile(has)) => accepted_meanwhile(r, has, sym, &what),
        Outcome::Done(Done::Confirmed) => {
            format!("{sym} {what}: done (confirmed by reading the org again)")
        }
        Outcome::Done(Done::Answered) => format!("{sym} {what}: done"),
        Outcome::Blocked(own) => {
            format!("! {what}: blocked: {}", blocked_text(*own, &step_email(r)))
        }
        Outcome::NotAttempted(why) => format!("  {what}: {}", not_attempted_text(*why)),
        Outcome::Failed(Failed { failure: f, .. }) => {
            let mut ids = Vec::new();
            if let Some(c) = f.code() {
                ids.push(format!("code {}", escape(c)));
            }
            if let Some(r) = f.request_id() {
                ids.push(format!("requestId {}", escape(r)));
            }
            let ids = if ids.is_empty() {
                String::new()
            } else {
                format!(" ({})", ids.join(", "))
            };
            format!("{sym} {what}: FAILED: {}{ids}", escape(&failure_text(r, f)))
        }
    }
}

/// Why the API blocked a step (plain text), and how to stop planning it: name the key's own
/// account in `TEAMSYNC_SELF` (docs/contract.md §4), else every plan proposes it again and
/// `plan --detailed-exitcode` keeps exiting 2.
pub(crate) fn blocked_text(own: OwnAccount, email: &str) -> String {
    format!(
        "the API refused: {} (this is the key's own account); set TEAMSYNC_SELF={email} (or --self {email}) so that plans show this change as blocked instead of proposing it on every run",
        own.code()
    )
}

/// Why a step was not attempted (plain text).
pub(crate) fn not_attempted_text(why: NotAttempted) -> String {
    let why = match why {
        NotAttempted::Interrupted(s) => format!("interrupted by {}", s.name()),
        NotAttempted::Refused => "refused by a safety guard".to_string(),
        NotAttempted::DriftRefused => "--drift refuse: the plan would revert drift".to_string(),
        NotAttempted::NotConfirmed => "the answer was not `yes`".to_string(),
        NotAttempted::NoTerminal => "no terminal to confirm on, and no --auto-approve".to_string(),
        NotAttempted::PlanOutdated => "the saved plan is stale".to_string(),
        NotAttempted::RefusedMidway(p) => format!(
            "phase {} refused by a safety guard (the org changed during apply)",
            p as u8
        ),
        NotAttempted::RereadFailed(p) => {
            format!("the org could not be read again before phase {}", p as u8)
        }
        NotAttempted::KeyRefused => "the API refused the key".to_string(),
        NotAttempted::EarlierFailures(p) => format!(
            "phase {} had failures, and later phases demote or remove (run apply again once fixed)",
            p as u8
        ),
    };
    format!("not attempted: {why}")
}

/// Why a step failed (plain text: the renderers escape it).
pub(crate) fn failure_text(r: &StepResult, f: &Failure) -> String {
    match f {
        Failure::Api(e) => e.to_string(),
        Failure::StillListed(e) => format!(
            "{e}, but the org still lists it (is a proxy or gateway answering for the API?)"
        ),
        Failure::CheckFailed { write, read } => {
            format!("{write}; reading the org again to check also failed: {read}")
        }
        Failure::InterruptedBeforeCheck(e) => format!(
            "{e}; apply was interrupted before the org could be read again to check (run apply again: it reads the org first)"
        ),
        Failure::NotResent { error, signal } => {
            format!("{error}; not sent again: interrupted by {}", signal.name())
        }
        Failure::AcceptedBeforeRevoke { role, .. } => format!(
            "accepted before it could be revoked: now a member as {}; the next apply removes them (run it, or add them to the file to keep them)",
            role.as_str()
        ),
        Failure::Abnormal(e) => format!("the step ended abnormally: {e}"),
        // The second signal need not be the first one's kind (SIGTERM, then SIGINT), so it is
        // "a second signal", named (docs/contract.md §5).
        Failure::CutOff(signal) => format!(
            "its request was cut off by a second signal ({}): the outcome is unknown (run apply again: it reads the org first)",
            signal.name()
        ),
        Failure::InviteAfterRevoke(inner) => {
            let email = r
                .step
                .changes
                .first()
                .map(|c| c.email().to_string())
                .unwrap_or_default();
            if inner.outcome_unknown() {
                format!(
                    "{}; the old invitation was revoked, and whether the new one was sent is unknown (the next apply reads the org and sends it if it is missing)",
                    failure_text(r, inner)
                )
            } else {
                format!(
                    "{}; the old invitation was revoked, so {email} has no invitation until the next apply sends one",
                    failure_text(r, inner)
                )
            }
        }
    }
}

/// Why apply stopped early, in words (plain text: the renderers escape it).
pub(crate) fn halt_text(h: &Halt) -> String {
    match h {
        Halt::Interrupted { by, ended_by: None } => format!("interrupted by {}", by.name()),
        Halt::Interrupted {
            by,
            ended_by: Some(second),
        } => format!(
            "interrupted by {}, then ended at once by {}",
            by.name(),
            second.name()
        ),
        Halt::Refused { phase, guards } => format!(
            "the org changed during apply: phase {} was refused by a safety guard: {}",
            *phase as u8,
            refusals(guards)
        ),
        Halt::RereadFailed { phase, error } => format!(
            "the org could not be read again before phase {}: {error}",
            *phase as u8
        ),
    }
}

/// A finding in words (plain text: the renderers escape it).
pub(crate) fn finding_text(execution: &Execution, f: &Finding) -> String {
    match f {
        Finding::DuplicateInvitation { email, pending } => format!(
            "{email} has {pending} pending invitations (another apply at the same time, an invitation made in the dashboard, or an answer lost for longer than teamsync looks); the next plan revokes the extra ones"
        ),
        Finding::DidNotStick { step } => {
            let what = execution
                .step(*step)
                .and_then(|s| s.step.changes.last())
                .map(|c| {
                    let action = match c.action() {
                        Action::Invite => "invite",
                        Action::UpdateRole => "role change of",
                        Action::Remove => "removal of",
                        Action::Revoke => "revocation of the invitation of",
                        Action::Resend => "re-sent invitation of",
                    };
                    format!("{action} {}", c.email())
                })
                .unwrap_or_default();
            format!(
                "step {step} ({what}) was reported done but the org does not show it (another apply or a dashboard change at the same time?)"
            )
        }
        Finding::TooFewAdmins { admins, min } => format!(
            "the org now has {admins} admin member{} and safety.min_admins is {min}: a guard was crossed (another apply at the same time?)",
            plural(*admins)
        ),
        Finding::ReadFailed(e) => {
            format!("the verification read failed: {e}; run `teamsync plan` to check the org")
        }
    }
}

/// A duration for people: `0.4 s`, `3 s`, `2 min 5 s`.
pub(crate) fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        let tenths = (s * 10.0).round() / 10.0;
        if tenths.fract() == 0.0 {
            format!("{tenths:.0} s")
        } else {
            format!("{tenths:.1} s")
        }
    } else if s < 120.0 {
        format!("{:.0} s", s.round())
    } else {
        let whole = s.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    }
}

/// `1 rate-limit pause, 3 s in all` (docs/contract.md §5).
fn pauses_text(p: Pauses) -> String {
    format!(
        "{} rate-limit pause{}, {} of waiting in all",
        p.count,
        plural(p.count),
        seconds(p.waited)
    )
}

/// The closing summary: counts, the rate-limit pauses, why apply stopped early, each blocked,
/// failed and not attempted step, the invitations that may have been sent, and what the
/// verification read found.
pub(crate) fn finished(execution: &Execution) -> String {
    let mut out = format!(
        "\nApply finished: {} done, {} blocked, {} failed{}.\n",
        execution.done(),
        execution.blocked(),
        execution.failed(),
        match execution.not_attempted() {
            0 => String::new(),
            n => format!(", {n} not attempted"),
        }
    );
    if execution.pauses.count > 0 {
        let _ = writeln!(out, "  {}.", pauses_text(execution.pauses));
    }
    for (change, why) in crate::plan::blocked_entries(&execution.blocked_in_plan) {
        let _ = writeln!(out, "  warning: blocked: {}: {}", describe(change), why);
    }
    for s in &execution.steps {
        match &s.outcome {
            Outcome::Blocked(own) => {
                let _ = writeln!(
                    out,
                    "  warning: blocked: {}: {}",
                    what(s),
                    blocked_text(*own, &step_email(s))
                );
            }
            Outcome::Failed(_) => {
                let _ = writeln!(out, "  failed: {}", step_line(s));
            }
            _ => {}
        }
    }
    let unsure: Vec<&StepResult> = execution.may_have_been_sent().collect();
    if !unsure.is_empty() {
        let _ = writeln!(
            out,
            "  may have been sent (the outcome is unknown; the next apply reads the org first, and its verification read reports duplicates):"
        );
        for s in unsure {
            let email = s.step.changes.first().map(|c| c.email().as_str());
            let _ = writeln!(
                out,
                "    the invitation of {}",
                escape(email.unwrap_or_default())
            );
        }
    }
    let left: Vec<&StepResult> = execution
        .steps
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::NotAttempted(_)))
        .collect();
    if let Some(h) = &execution.halt {
        let _ = writeln!(out, "  stopped: {}", escape(&halt_text(h)));
    }
    if !left.is_empty() {
        let _ = writeln!(out, "  not attempted:");
        for s in left {
            let _ = writeln!(out, "    {}", what(s));
        }
    }
    for f in execution.findings.iter().flatten() {
        let _ = writeln!(
            out,
            "  warning: verification: {}",
            escape(&finding_text(execution, f))
        );
    }
    out
}
