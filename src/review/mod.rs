//! `teamsync review` (docs/contract.md §6), the pure part: the desired state × the history of
//! its lines × (optionally) the org → an access review, typed data that the JSON document, the
//! Markdown and the CSV show. No I/O, no clock, no git: the history comes in as facts
//! ([`History`], read from `git blame` by the command, parsed by [`blame`]), today as a value.

pub(crate) mod blame;

use crate::date::{Date, Timestamp};
use crate::desired::{Desired, DesiredMember, EXPIRY_NOTICE_DAYS};
use crate::email::Email;
use crate::live::LiveState;
use crate::plan::Invited;
use crate::role::{LiveRole, Role};
use std::collections::HashMap;

/// The commit that brought a line to the branch: along first parents, the merge or squash
/// commit of its pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Commit {
    /// Its full hash.
    pub(crate) id: String,
    /// The day (UTC) it was committed to the branch (the committer's date).
    pub(crate) date: Date,
    /// `Name <email>` of its author.
    pub(crate) author: String,
    /// The pull request its message names, as `(#N)` or `Merge pull request #N`.
    pub(crate) pr: Option<u64>,
}

/// The pull-request number a commit's subject names: a squash merge's `Title (#34)` (the last
/// such), or a merge commit's `Merge pull request #12 from owner/branch`.
pub(crate) fn pull_request(subject: &str) -> Option<u64> {
    if let Some(rest) = subject.strip_prefix("Merge pull request #") {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        return digits.parse().ok();
    }
    let mut found = None;
    let mut rest = subject;
    while let Some(i) = rest.find("(#") {
        let after = &rest[i + 2..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && after[digits.len()..].starts_with(')') {
            found = digits.parse().ok();
        }
        rest = after;
    }
    found
}

/// What is known of one part's lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PartHistory {
    /// Line `n` (1-based) was last changed by `lines[n - 1]`, an index into
    /// [`History::commits`]; `None`: not committed yet.
    Blamed { lines: Vec<Option<usize>> },
    /// No history: why (outside a git repository, not tracked, git missing).
    Unknown(String),
}

/// The history of every part's lines, in the parts' order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct History {
    pub(crate) commits: Vec<Commit>,
    pub(crate) parts: Vec<PartHistory>,
}

/// A flag on an entry: something an auditor asks about (docs/contract.md §6). Reported
/// whatever the policy says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Flag {
    /// An `org:admin` entry without a reason.
    AdminWithoutReason,
    /// An entry outside `policy.internal_domains` without `expires`.
    ExternalWithoutExpires,
    /// Its `expires` is within the next 14 days.
    ExpiresSoon,
    /// Not changed for more than `policy.recertify_days` (default 365).
    NotRecertified,
    /// With `--live`: neither a member nor invited.
    NotInOrg,
    /// With `--live`: the org gives another role.
    RoleDiffers,
    /// With `--live`: invited, not yet a member.
    PendingInvitation,
}

impl Flag {
    pub(crate) const ALL: [Flag; 7] = [
        Flag::AdminWithoutReason,
        Flag::ExternalWithoutExpires,
        Flag::ExpiresSoon,
        Flag::NotRecertified,
        Flag::NotInOrg,
        Flag::RoleDiffers,
        Flag::PendingInvitation,
    ];

    /// Its name in every format.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Flag::AdminWithoutReason => "admin_without_reason",
            Flag::ExternalWithoutExpires => "external_without_expires",
            Flag::ExpiresSoon => "expires_soon",
            Flag::NotRecertified => "not_recertified",
            Flag::NotInOrg => "not_in_org",
            Flag::RoleDiffers => "role_differs",
            Flag::PendingInvitation => "pending_invitation",
        }
    }
}

/// The org's side of an entry (`--live`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum InOrg {
    Member {
        role: LiveRole,
    },
    Invited {
        role: LiveRole,
        /// `None`: the org did not say when (age unknown).
        invited: Option<Invited>,
    },
    Absent,
}

/// One entry of the desired state, reviewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) email: Email,
    pub(crate) role: Role,
    pub(crate) reason: Option<String>,
    pub(crate) expires: Option<Date>,
    /// The part that lists it, in a directory.
    pub(crate) part: Option<String>,
    /// The commit of its email's line: when it was added.
    pub(crate) added: Option<Commit>,
    /// The commit of its role's line: when its role was set.
    pub(crate) role_set: Option<Commit>,
    /// The newest commit of any of its lines: its last change.
    pub(crate) changed: Option<Commit>,
    pub(crate) flags: Vec<Flag>,
    /// With `--live`.
    pub(crate) org: Option<InOrg>,
}

/// Counts per role and per flag.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) entries: usize,
    pub(crate) admins: usize,
    pub(crate) members: usize,
    pub(crate) flagged: usize,
    /// Per flag, in [`Flag::ALL`] order.
    pub(crate) flags: Vec<(Flag, usize)>,
}

/// Why some dates are unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Warning {
    /// A part has no history (outside git, untracked, git missing).
    NoHistory { part: String, why: String },
    /// Entries with lines not committed yet.
    Uncommitted { entries: usize },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::NoHistory { part, why } => write!(
                f,
                "no history for {part} ({why}): when each entry was added, its role set, by whom and in which pull request are unknown"
            ),
            Warning::Uncommitted { entries } => write!(
                f,
                "{entries} entr{} {} lines not committed yet: {} dates are unknown; commit, then review",
                crate::words::one_or_many(*entries, "y", "ies"),
                crate::words::one_or_many(*entries, "has", "have"),
                crate::words::one_or_many(*entries, "its", "their"),
            ),
        }
    }
}

/// The access review: every entry (sorted by email), the counts, the warnings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Review {
    pub(crate) entries: Vec<Entry>,
    pub(crate) summary: Summary,
    pub(crate) warnings: Vec<Warning>,
    /// The days after which an unchanged entry is `not_recertified`.
    pub(crate) recertify_days: u64,
    /// Whether the org's side was read (`--live`).
    pub(crate) live: bool,
}

/// What the review needs besides the desired state and the history.
#[derive(Clone, Debug)]
pub(crate) struct ReviewOptions {
    pub(crate) today: Date,
    /// How messages name the desired state when it is one file (`-f` as given).
    pub(crate) file: String,
}

/// Reviews `desired` with the history of its parts' lines and, with `--live`, the org.
pub(crate) fn review(
    desired: &Desired,
    history: &History,
    live: Option<&LiveState>,
    options: &ReviewOptions,
) -> Review {
    let today = options.today;
    let recertify_days = desired
        .policy
        .recertify_days
        .unwrap_or(crate::desired::DEFAULT_RECERTIFY_DAYS);
    let org = live.map(OrgIndex::new);
    let commit = |part: u32, line: u32| -> Result<Option<&Commit>, ()> {
        match history.parts.get(part as usize) {
            Some(PartHistory::Blamed { lines }) => match lines.get((line as usize).wrapping_sub(1))
            {
                Some(Some(i)) => Ok(history.commits.get(*i)),
                // Not committed yet (or a line past the blamed text: changed since).
                _ => Err(()),
            },
            _ => Ok(None),
        }
    };
    let mut uncommitted = 0usize;
    let mut entries: Vec<Entry> = desired
        .members
        .iter()
        .map(|m| {
            let part = m.loc.part;
            let added = commit(part, m.loc.line);
            let role_set = commit(part, m.lines.role);
            let changed = newest(m, |line| commit(part, line));
            if added.is_err() || role_set.is_err() || changed.is_err() {
                uncommitted += 1;
            }
            let (added, role_set, changed) = (
                added.ok().flatten().cloned(),
                role_set.ok().flatten().cloned(),
                changed.ok().flatten(),
            );
            let in_org = org.as_ref().map(|o| o.of(&m.email, today));
            let flags = flags(
                m,
                desired,
                changed.as_ref(),
                in_org.as_ref(),
                today,
                recertify_days,
            );
            Entry {
                email: m.email.clone(),
                role: m.role,
                reason: m.reason.clone(),
                expires: m.expires,
                part: desired.parts.get(part as usize).cloned(),
                added,
                role_set,
                changed,
                flags,
                org: in_org,
            }
        })
        .collect();
    entries.sort_by(|a, b| a.email.cmp(&b.email));
    let mut warnings = Vec::new();
    for (i, p) in history.parts.iter().enumerate() {
        if let PartHistory::Unknown(why) = p {
            let part = desired
                .parts
                .get(i)
                .cloned()
                .unwrap_or_else(|| options.file.clone());
            warnings.push(Warning::NoHistory {
                part,
                why: why.clone(),
            });
        }
    }
    if uncommitted > 0 {
        warnings.push(Warning::Uncommitted {
            entries: uncommitted,
        });
    }
    let summary = summarize(&entries);
    Review {
        entries,
        summary,
        warnings,
        recertify_days,
        live: live.is_some(),
    }
}

/// The newest commit of the entry's lines; an error when one of them is not committed yet.
fn newest<'c>(
    m: &DesiredMember,
    commit: impl Fn(u32) -> Result<Option<&'c Commit>, ()>,
) -> Result<Option<Commit>, ()> {
    let (first, last) = (m.lines.first.max(1), m.lines.last.max(m.lines.first));
    let mut best: Option<&Commit> = None;
    for line in first..=last.max(first) {
        if let Some(c) = commit(line)? {
            if best.is_none_or(|b| c.date > b.date) {
                best = Some(c);
            }
        }
    }
    Ok(best.cloned())
}

fn flags(
    m: &DesiredMember,
    desired: &Desired,
    changed: Option<&Commit>,
    org: Option<&InOrg>,
    today: Date,
    recertify_days: u64,
) -> Vec<Flag> {
    let mut out = Vec::new();
    if m.role == Role::Admin && m.reason.is_none() {
        out.push(Flag::AdminWithoutReason);
    }
    if m.expires.is_none() && desired.policy.is_external(&m.email) {
        out.push(Flag::ExternalWithoutExpires);
    }
    if m.expires
        .is_some_and(|d| (0..EXPIRY_NOTICE_DAYS).contains(&today.days_until(d)))
    {
        out.push(Flag::ExpiresSoon);
    }
    if changed.is_some_and(|c| c.date.days_until(today) > recertify_days as i64) {
        out.push(Flag::NotRecertified);
    }
    match org {
        Some(InOrg::Absent) => out.push(Flag::NotInOrg),
        Some(InOrg::Member { role }) if !role.is(m.role) => out.push(Flag::RoleDiffers),
        Some(InOrg::Invited { role, .. }) => {
            if !role.is(m.role) {
                out.push(Flag::RoleDiffers);
            }
            out.push(Flag::PendingInvitation);
        }
        _ => {}
    }
    out
}

fn summarize(entries: &[Entry]) -> Summary {
    let count = |f: Flag| entries.iter().filter(|e| e.flags.contains(&f)).count();
    Summary {
        entries: entries.len(),
        admins: entries.iter().filter(|e| e.role == Role::Admin).count(),
        members: entries.iter().filter(|e| e.role == Role::Member).count(),
        flagged: entries.iter().filter(|e| !e.flags.is_empty()).count(),
        flags: Flag::ALL.iter().map(|f| (*f, count(*f))).collect(),
    }
}

/// The org by email: a member wins over its invitations; of several invitations, the newest.
struct OrgIndex<'a> {
    members: HashMap<&'a Email, &'a LiveRole>,
    invitations: HashMap<&'a Email, (&'a LiveRole, Option<&'a Timestamp>)>,
}

impl<'a> OrgIndex<'a> {
    fn new(live: &'a LiveState) -> OrgIndex<'a> {
        let members = live.members.iter().map(|m| (&m.email, &m.role)).collect();
        let mut invitations: HashMap<&Email, (&LiveRole, Option<&Timestamp>)> = HashMap::new();
        for i in &live.invitations {
            let newer = invitations
                .get(&i.email)
                .is_none_or(|(_, at)| match (at, &i.created_at) {
                    (Some(old), Some(new)) => old.seconds_until(new) > 0,
                    (None, Some(_)) => true,
                    _ => false,
                });
            if newer {
                invitations.insert(&i.email, (&i.role, i.created_at.as_ref()));
            }
        }
        OrgIndex {
            members,
            invitations,
        }
    }

    fn of(&self, email: &Email, today: Date) -> InOrg {
        if let Some(role) = self.members.get(email) {
            return InOrg::Member {
                role: (*role).clone(),
            };
        }
        match self.invitations.get(email) {
            Some((role, at)) => InOrg::Invited {
                role: (*role).clone(),
                invited: at.map(|at| Invited::new(at, today)),
            },
            None => InOrg::Absent,
        }
    }
}

#[cfg(test)]
mod tests;
