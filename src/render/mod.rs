//! Views over one [`Plan`]: text for people, JSON for scripts, Markdown for pull requests, and a
//! unified diff of rosters for reviewers who think in diffs.

mod diff;
mod markdown;
mod text;

pub use diff::{diff, roster};
pub use markdown::{MARKER, MAX_COMMENT_CHARS, markdown};
pub use text::text;

use crate::plan::{Action, Change};

/// Headline counts, e.g. `2 to invite, 1 role change, 0 to remove, 0 to revoke, 1 blocked`.
pub fn counts(plan: &crate::plan::Plan) -> String {
    let s = &plan.summary;
    format!(
        "{} to invite, {} role change{}, {} to remove, {} to revoke, {} blocked",
        s.invite,
        s.update_role,
        if s.update_role == 1 { "" } else { "s" },
        s.remove,
        s.revoke,
        s.blocked
    )
}

/// One line describing a change, without its symbol, e.g.
/// `bob@example.com: org:member → org:admin`.
pub fn describe(c: &Change) -> String {
    let role = c.role.map(|r| r.as_str()).unwrap_or("?");
    let from = c.from_role.as_deref().unwrap_or("?");
    match c.action {
        Action::Invite if c.replaces_invitation => {
            format!(
                "invite {} as {role} (replacing the {from} invitation)",
                c.email
            )
        }
        Action::Invite => format!("invite {} as {role}", c.email),
        Action::UpdateRole => format!("change {} from {from} to {role}", c.email),
        Action::Remove => format!("remove {} ({from})", c.email),
        Action::Revoke => format!("revoke the invitation of {} ({from})", c.email),
    }
}

/// Section headings in plan order.
pub fn heading(action: Action) -> &'static str {
    match action {
        Action::Invite => "Invitations",
        Action::UpdateRole => "Role changes",
        Action::Remove => "Removals",
        Action::Revoke => "Revocations",
    }
}

pub fn symbol(action: Action) -> char {
    match action {
        Action::Invite => '+',
        Action::UpdateRole => '~',
        Action::Remove | Action::Revoke => '-',
    }
}

pub const ACTIONS: [Action; 4] = [
    Action::Invite,
    Action::UpdateRole,
    Action::Remove,
    Action::Revoke,
];
