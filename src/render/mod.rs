//! Views over one [`Plan`] (docs/contract.md §6): text for people, Markdown for pull requests,
//! a unified diff of rosters for reviewers who think in diffs (JSON is
//! [`crate::formats::plan::PlanDocument`]), and the apply report's lines. Data from the file or the API
//! is shown as it is; nothing here decides anything.

mod apply;
mod diff;
mod markdown;
pub(crate) mod review;
mod text;
mod warnings;
mod words;

pub(crate) use apply::{
    blocked_text, failure_text, finding_text, finished, halt_text, not_attempted_text, seconds,
    step_line,
};
pub(crate) use diff::diff;
#[cfg(test)]
pub(crate) use markdown::code as markdown_code;
pub(crate) use markdown::{esc, markdown};
pub(crate) use text::{TextOptions, text, warnings};
pub(crate) use words::waited;

use crate::escape::escape;
use crate::live::{LiveSource, ReadFrom};
use crate::origin::Origin;
use crate::plan::{Action, Change, Departure, Guard, Pending, Plan, RevokeCause};
use crate::words::{one_or_many, plural};

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
        plan.revocations(),
        s.blocked
    ) + &resends(s.resend)
}

/// The removal limit the plan applies and where it comes from, for a plan that removes
/// (docs/contract.md §5); `None` when it removes no member.
fn removal_limit(plan: &Plan) -> Option<String> {
    if plan.summary.remove == 0 {
        return None;
    }
    plan.guards.iter().find_map(Guard::removal_limit)
}

/// How many changes a group of `changes` and `blocked` shows: a replaced invitation is one
/// (its revoke is shown with the new invitation).
pub(super) fn shown(changes: &[&Change], blocked: &[&crate::plan::Blocked]) -> usize {
    changes.iter().filter(|c| !c.is_replaced_revoke()).count() + blocked.len()
}

/// `2 from this change, 1 drift`: the summary's counts by origin, with a baseline
/// (docs/contract.md §8).
fn origin_counts(plan: &Plan) -> Option<String> {
    let (edit, drift) = (plan.summary.edit?, plan.summary.drift?);
    let scheduled = plan.summary.scheduled.unwrap_or(0);
    Some(format!(
        "{edit} from this change, {drift} drift, {scheduled} scheduled"
    ))
}

/// The heading of the edit's group and of the drift's (docs/contract.md §8); drift that
/// `apply --drift keep` leaves in place says so (docs/contract.md §5).
fn origin_heading(plan: &Plan, origin: Origin) -> &'static str {
    match origin {
        Origin::Edit => "This change",
        Origin::Drift if plan.compared.as_ref().is_some_and(|c| c.drift_kept) => {
            "Drift in the org, left in place by --drift keep"
        }
        Origin::Drift => "Drift in the org that applying also reverts",
        Origin::Scheduled => "Scheduled by the file itself: expiries passed, re-sends due",
    }
}

/// `Planned against the org as read at T (N hours ago) from SNAPSHOT`, for a plan made from a
/// snapshot (docs/contract.md §9); nothing for a plan made from a read of the API. Not escaped:
/// the caller escapes for its format.
fn source_line(source: Option<&LiveSource>) -> Option<String> {
    let source = source?;
    let ReadFrom::Snapshot { path } = &source.from else {
        return None;
    };
    Some(format!(
        "Planned against the org as read at {} ({}) from {path}.",
        source.read_at.as_str(),
        ago(source.age_seconds)
    ))
}

/// The words of [`source_line`] around its data (the time, the age, the snapshot's path or
/// the API's URL), for a view that shows data its own way: `(before, read_at, age, from
/// words, from data)`. A read of the API is named too.
fn source_parts(source: &LiveSource) -> (&str, String, &'static str, &str) {
    match &source.from {
        ReadFrom::Snapshot { path } => (
            source.read_at.as_str(),
            ago(source.age_seconds),
            "from the snapshot",
            path.as_str(),
        ),
        ReadFrom::Api { url } => (
            source.read_at.as_str(),
            ago(source.age_seconds),
            "from the API",
            url.as_str(),
        ),
    }
}

/// One rule change in words, e.g. `ignore: added *@evil.io; now matches 1: a@evil.io` (data
/// as it is: the caller escapes for its format).
fn rule_line(r: &crate::plan::RuleChange) -> String {
    let what = match (&r.before, &r.after) {
        (None, Some(a)) => format!("{}: added {a}", r.rule),
        (Some(b), None) => format!("{}: removed {b}", r.rule),
        (Some(b), Some(a)) => format!("{}: {b} -> {a}", r.rule),
        (None, None) => r.rule.to_string(),
    };
    format!("{what}{}", rule_members(r))
}

/// An expiry the edit sets, in words: `` `expires` 2027-03-31 (before this change: none) ``.
fn expiry_words(e: &crate::plan::ExpiryChange) -> String {
    let before = e.before.map_or("none".to_string(), |d| d.to_string());
    match e.after {
        Some(d) => format!("`expires` {d}: access ends after it (before this change: {before})"),
        None => format!("`expires` removed: access no longer ends (before this change: {before})"),
    }
}

/// `; now matches 2: a@x.com, b@x.com` (at most 10, then `and N more`), or nothing.
fn rule_members(r: &crate::plan::RuleChange) -> String {
    if r.members.is_empty() {
        return if r.rule.starts_with("safety.") {
            String::new()
        } else {
            "; matches no one in the org".into()
        };
    }
    let shown: Vec<&str> = r.members.iter().take(10).map(|e| e.as_str()).collect();
    let more = r.members.len().saturating_sub(10);
    format!(
        "; {} {}: {}{}",
        rule_verb(r),
        r.members.len(),
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

/// What a rule change does to the members it names.
fn rule_verb(r: &crate::plan::RuleChange) -> &'static str {
    match (r.rule, r.after.is_some()) {
        ("ignore", true) => "now leaves alone",
        ("ignore", false) => "now manages again",
        ("protected", true) => "now protects",
        ("protected", false) => "no longer protects",
        ("invitations.resend_after_days", _) => "changes whether it re-sends",
        _ => "matches",
    }
}

/// How long ago, in words: hours up to two days, then days.
fn ago(seconds: i64) -> String {
    let hours = seconds / 3600;
    match seconds {
        s if s < 0 => "in the future: check the clocks".to_string(),
        s if s < 3600 => "less than an hour ago".to_string(),
        _ if hours < 48 => format!("{hours} hour{} ago", plural(hours)),
        _ => format!("{} days ago", hours / 24),
    }
}

/// Whether a plan without a baseline removes or revokes someone the file does not list (not
/// an expiry), changes a role or replaces an invitation: what `teamsync adopt` could keep
/// instead (docs/contract.md §6).
fn reverts_something(plan: &Plan) -> bool {
    plan.changes.iter().any(|c| match &c.change {
        Change::UpdateRole(_) => true,
        Change::Invite(i) => i.replaces.is_some(),
        Change::Remove(r) => r.departure == Departure::NotDesired,
        Change::Revoke(r) => r.cause == RevokeCause::Departed(Departure::NotDesired),
        // A stale invitation sent again reverts nothing.
        Change::Resend(_) => false,
    })
}

/// The pointer to `teamsync adopt` (docs/contract.md §6, §8), with `file` escaped for the
/// format. With a baseline, only when there is drift to revert, naming how many emails it
/// concerns; without one, it claims nothing about who changed the org.
fn adopt_pointer(plan: &Plan, file: &str) -> Option<String> {
    if let Some(compared) = &plan.compared {
        if compared.drift_kept {
            // Apply's own note names the drift left in place and points to adopt.
            return None;
        }
        // Only drift that adopt would keep (docs/contract.md §8); on the pull request's branch,
        // `adopt --baseline` folds that drift alone, never the edit's entries.
        let n = compared.adoptable_drift;
        return (n > 0).then(|| {
            format!(
                "Drift: applying also reverts what was done in the org, outside this change, for {n} email{} that `teamsync adopt` can keep. To keep {} instead, run `teamsync adopt` on the default branch, or on this branch `teamsync adopt --baseline BASE`, BASE being the base branch's copy of {file}: it writes the org's version into {file} and leaves this change's entries as they are.",
                plural(n),
                one_or_many(n, "it", "them")
            )
        });
    }
    reverts_something(plan).then(|| {
        format!(
            "If any of these removals, revocations or role changes undoes something done in the org on purpose, run `teamsync adopt`: it keeps that in {file} instead."
        )
    })
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
/// ago` (docs/contract.md §6).
fn pending_line(p: &Pending) -> String {
    format!(
        "{} ({}): {}",
        escape(p.email.as_str()),
        p.role,
        waited(p.invited.as_ref())
    )
}

/// How long the invitation a revocation or re-send concerns has waited (docs/contract.md §6).
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

/// Why apply refuses, for a guard that trips, and how to proceed.
pub(crate) fn refusal(g: &Guard) -> String {
    match g {
        Guard::MaxRemovals {
            removals, members, ..
        } => format!(
            "the plan removes {removals} of {members} members, more than the {}; if the removals are intended, run apply again with --allow-mass-removal",
            g.removal_limit().unwrap_or_default()
        ),
        Guard::MinAdmins { admins, min, .. } => format!(
            "the plan leaves {admins} admin member{} and safety.min_admins requires {min} (pending admin invitations do not count); keep more admins in the file, or lower min_admins",
            plural(*admins)
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_are_hours_for_two_days_then_days() {
        let ago = |s: i64| super::ago(s);
        assert_eq!(ago(-1), "in the future: check the clocks");
        assert_eq!(ago(0), "less than an hour ago");
        assert_eq!(ago(3599), "less than an hour ago");
        assert_eq!(ago(3600), "1 hour ago");
        assert_eq!(ago(3 * 3600 + 59), "3 hours ago");
        assert_eq!(ago(47 * 3600), "47 hours ago");
        assert_eq!(ago(48 * 3600), "2 days ago");
        assert_eq!(ago(11 * 86_400 + 5), "11 days ago");
    }
}
