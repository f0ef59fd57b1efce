//! The comment's items (docs/contract.md §6): one line per change, blocked change, change no
//! longer done and rule changed, naming the email and role, data only in code spans.

use super::waited;
use super::{MAX_REASON_CHARS, RULE_MEMBERS, code, cut, esc, role, words};
use crate::plan::{BlockReason, Change, Departure, RevokeCause};
use crate::plan::{NoLonger, RuleChange, StopCause};
use std::fmt::Write;

/// One change in words, its data in code spans: `remove `bob@x.com` (`org:member`)`.
fn describe(c: &Change) -> String {
    match c {
        Change::Invite(i) => match &i.replaces {
            Some(from) => format!(
                "invite {} as {} (replacing the {} invitation)",
                code(i.email.as_str()),
                role(i.role.as_str()),
                role(from.as_str())
            ),
            None => format!(
                "invite {} as {}",
                code(i.email.as_str()),
                role(i.role.as_str())
            ),
        },
        Change::UpdateRole(u) => format!(
            "change {} from {} to {}",
            code(u.email.as_str()),
            role(u.from.as_str()),
            role(u.to.as_str())
        ),
        Change::Remove(r) => format!(
            "remove {} ({})",
            code(r.email.as_str()),
            role(r.role.as_str())
        ),
        Change::Revoke(r) => format!(
            "revoke the invitation of {} ({})",
            code(r.email.as_str()),
            role(r.role.as_str())
        ),
        Change::Resend(r) => format!(
            "re-send the invitation of {} ({})",
            code(r.email.as_str()),
            role(r.role.as_str())
        ),
    }
}

/// Why a change is made, after its description: an expiry's date, the file's reason (cut at
/// [`MAX_REASON_CHARS`], in a code span), or for a removal or revocation without one the
/// planner's cause; then how long an invitation has waited.
fn note(c: &Change) -> String {
    let mut parts = Vec::new();
    let departure = match c {
        Change::Remove(r) => Some(r.departure),
        Change::Revoke(r) => match r.cause {
            RevokeCause::Departed(d) => Some(d),
            _ => None,
        },
        _ => None,
    };
    if let Some(Departure::Expired { on }) = departure {
        parts.push(format!("expired on {on}"));
    }
    if let Change::Resend(r) = c {
        parts.push(format!(
            "pending for {} days, since {}",
            r.invited.age_days,
            r.invited.at.date()
        ));
    }
    match c.reason() {
        Some(r) => parts.push(format!("reason {}", code(&cut(r, MAX_REASON_CHARS)))),
        None if matches!(c, Change::Remove(_) | Change::Revoke(_))
            && !matches!(departure, Some(Departure::Expired { .. })) =>
        {
            parts.push(esc(c.cause()));
        }
        None => {}
    }
    if let Change::Revoke(r) = c {
        parts.push(esc(&waited(r.invited.as_ref())));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" — {}", parts.join("; "))
    }
}

pub(super) fn item(c: &Change) -> String {
    format!("- {}{}", describe(c), note(c))
}

pub(super) fn blocked_item(change: &Change, why: &BlockReason) -> String {
    // The reason is teamsync's own words (`protected` is code).
    format!("- {}: {}", describe(change), words(&why.to_string()))
}

pub(super) fn no_longer_item(n: &NoLonger) -> String {
    let cause = match &n.cause {
        StopCause::Ignored { pattern } => {
            format!("it matches the `ignore` pattern {}", code(pattern))
        }
        StopCause::Protected => words("it is listed under `protected`"),
        StopCause::Listed { role: r } => format!("the file lists it as {}", role(r.as_str())),
        StopCause::Renewed { expires: Some(d) } => words(&format!("its `expires` moved to {d}")),
        StopCause::Renewed { expires: None } => words("its `expires` was removed"),
        StopCause::Dropped => words("it is no longer listed in the file"),
        StopCause::ResendRule => words("`invitations.resend_after_days` changed"),
        StopCause::Replaced => words("the plan makes another change for this email"),
    };
    format!("- no longer {} — {cause}", describe(&n.change))
}

pub(super) fn rule_item(r: &RuleChange) -> String {
    let what = match (&r.before, &r.after) {
        (None, Some(a)) => format!("added {}", code(a)),
        (Some(b), None) => format!("removed {}", code(b)),
        (Some(b), Some(a)) => format!("{} → {}", code(b), code(a)),
        (None, None) => String::new(),
    };
    let mut line = format!("- {} {what}", code(r.rule));
    if r.members.is_empty() {
        if !r.rule.starts_with("safety.") {
            line.push_str(" — matches no one in the org");
        }
        return line;
    }
    let names: Vec<String> = r
        .members
        .iter()
        .take(RULE_MEMBERS)
        .map(|e| code(e.as_str()))
        .collect();
    let _ = write!(
        line,
        " — {} {}: {}",
        crate::render::rule_verb(r),
        r.members.len(),
        names.join(", ")
    );
    if r.members.len() > RULE_MEMBERS {
        let _ = write!(line, " and {} more", r.members.len() - RULE_MEMBERS);
    }
    line
}

/// `- `root@x.com` (`org:admin`): `expires` 2027-03-31 (before this change: none)`.
pub(super) fn expiry_item(e: &crate::plan::ExpiryChange) -> String {
    format!(
        "- {} ({}): {}",
        code(e.email.as_str()),
        role(e.role.as_str()),
        words(&crate::render::expiry_words(e))
    )
}
