//! Views over one [`Plan`] (docs/contract.md §6): text for people, Markdown for pull requests,
//! a unified diff of rosters for reviewers who think in diffs (JSON is
//! [`crate::formats::plan::PlanDocument`]), and the apply report's lines. Data from the file or the API
//! is shown as it is; nothing here decides anything.

mod apply;
mod diff;
mod markdown;
mod text;

pub(crate) use apply::{
    apply_summary, blocked_text, failure_text, finding_text, finished, halt_text, seconds,
    skipped_text, step_line,
};
pub(crate) use diff::diff;
pub(crate) use markdown::markdown;
pub(crate) use text::{TextOptions, text};

use crate::escape::escape;
use crate::formats::saved::Stale;
use crate::plan::{Action, Change, Guard, Pending, Plan, waited};
use crate::words::plural;

/// Headline counts, e.g. `2 to invite (1 replacing an invitation), 1 role change, 0 to
/// remove, 0 to revoke, 1 blocked`. A replaced invitation is one change, counted with the
/// invitations, as apply counts it (docs/contract.md §6).
fn counts(plan: &Plan) -> String {
    let s = &plan.summary;
    let replaced = plan.replacements();
    format!(
        "{} to invite{}, {} role change{}, {} to remove, {} to revoke, {} blocked",
        s.invite,
        match replaced {
            0 => String::new(),
            n => format!(" ({n} replacing an invitation)"),
        },
        s.update_role,
        plural(s.update_role),
        s.remove,
        s.revoke.saturating_sub(replaced),
        s.blocked
    ) + &resends(s.resend)
}

/// The changes of `action` as a person reads them: a replaced invitation's revoke is shown
/// with its new invitation, not among the revocations.
fn shown(plan: &Plan, action: Action) -> impl Iterator<Item = &Change> {
    plan.changes
        .iter()
        .filter(move |c| c.action() == action && !(action == Action::Revoke && c.is_replacement()))
}

/// `, N to re-send` when stale invitations are re-sent (nothing otherwise, so plans without
/// any read as before).
fn resends(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} to re-send")
    }
}

/// A kept pending invitation, e.g. `jane@example.com (org:member): invited 2026-04-05, 12 days
/// ago` (docs/contract.md §9).
fn pending_line(p: &Pending) -> String {
    format!(
        "{} ({}): {}",
        escape(p.email.as_str()),
        p.role,
        waited(p.invited.as_ref())
    )
}

/// How long the invitation a revocation or re-send concerns has waited (docs/contract.md §9).
fn age(c: &Change) -> Option<String> {
    match c {
        Change::Revoke(r) => Some(waited(r.invited.as_ref())),
        Change::Resend(r) => Some(format!("since {}", r.invited.at.date())),
        _ => None,
    }
}

/// One line describing a change, without its symbol, e.g.
/// `change bob@example.com from org:member to org:admin`. Emails and roles from the API are
/// escaped: they may hold anything.
pub(crate) fn describe(c: &Change) -> String {
    match c {
        Change::Invite(c) => match &c.replaces {
            Some(from) => format!(
                "invite {} as {} (replacing the {} invitation)",
                escape(c.email.as_str()),
                c.role,
                escape(from.as_str())
            ),
            None => format!("invite {} as {}", escape(c.email.as_str()), c.role),
        },
        Change::UpdateRole(c) => format!(
            "change {} from {} to {}",
            escape(c.email.as_str()),
            escape(c.from.as_str()),
            c.to
        ),
        Change::Remove(c) => format!(
            "remove {} ({})",
            escape(c.email.as_str()),
            escape(c.role.as_str())
        ),
        Change::Revoke(c) => format!(
            "revoke the invitation of {} ({})",
            escape(c.email.as_str()),
            escape(c.role.as_str())
        ),
        Change::Resend(c) => format!(
            "re-send the invitation of {} ({})",
            escape(c.email.as_str()),
            c.role
        ),
    }
}

/// Section headings in plan order.
fn heading(action: Action) -> &'static str {
    match action {
        Action::Invite => "Invitations",
        Action::Resend => "Invitations re-sent (revoke, then invite again)",
        Action::UpdateRole => "Role changes",
        Action::Remove => "Removals",
        Action::Revoke => "Revocations",
    }
}

fn symbol(action: Action) -> char {
    match action {
        Action::Invite => '+',
        Action::UpdateRole | Action::Resend => '~',
        Action::Remove | Action::Revoke => '-',
    }
}

/// The note shown after a change: the file's reason (escaped), or for a removal or revocation
/// without one, why it is planned; then, for a revocation or re-send, how long the invitation
/// has waited.
fn note(c: &Change) -> Option<String> {
    let note = match c.shown_reason() {
        Some(r) => Some(escape(&r).into_owned()),
        None if matches!(c.action(), Action::Remove | Action::Revoke) => Some(c.cause().into()),
        None => None,
    };
    match (note, age(c)) {
        (Some(n), Some(a)) if matches!(c, Change::Resend(_)) => Some(format!("{n}, {a}")),
        (Some(n), Some(a)) => Some(format!("{n}; {a}")),
        (n, a) => n.or(a),
    }
}

/// Why apply refuses, for the guards that trip: each [`refusal`], joined by `; `.
pub(crate) fn refusals(guards: &[Guard]) -> String {
    guards.iter().map(refusal).collect::<Vec<_>>().join("; ")
}

/// What makes a saved plan stale, in words: the file changed, the org changed (each email that
/// did), or planning again gives other changes.
pub(crate) fn stale(stale: &Stale, file: &str) -> String {
    match stale {
        Stale::Changed {
            file_changed,
            org_drift,
        } => {
            let mut what = Vec::new();
            if *file_changed {
                what.push(format!("{file} changed since the plan was made"));
            }
            if !org_drift.is_empty() {
                what.push(format!(
                    "the org changed since the plan was made: {}",
                    org_drift.join("; ")
                ));
            }
            what.join("; and ")
        }
        Stale::Differs => "the plan file does not match what teamsync would plan now from the same file and org (the plan file was edited, a date it depends on passed, or --self changed)".into(),
    }
}

/// Why apply refuses, for a guard that trips, and how to proceed.
pub(crate) fn refusal(g: &Guard) -> String {
    match g {
        Guard::MaxRemovals {
            removals,
            members,
            limit,
            rule,
            ..
        } => format!(
            "the plan removes {removals} of {members} members and the limit is {limit} ({}); if the removals are intended, run apply again with --allow-mass-removal",
            match rule {
                Some(m) => format!("safety.max_removals: {m}"),
                None => "the default: max(3, 25% of current members)".into(),
            }
        ),
        Guard::MinAdmins { admins, min, .. } => format!(
            "the plan leaves {admins} admin member{} and safety.min_admins requires {min} (pending admin invitations do not count); keep more admins in the file, or lower min_admins",
            plural(*admins)
        ),
    }
}
