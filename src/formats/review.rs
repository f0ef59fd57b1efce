//! The access review as JSON (`teamsync review --format json`; docs/contract.md §6), with its
//! schema (`schema/review.schema.json`, `teamsync schema --review`): a view over
//! [`crate::review::Review`], field for field.

use crate::review::{Commit, Entry, InOrg, Review};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// The `format` of every review.
pub(crate) const FORMAT: &str = "teamsync-review";
/// The version of the review's shape. Fields may be added within a version; none is removed or
/// changes meaning.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// A teamsync access review: every entry of the desired state with its role, reason, expiry,
/// when it was added and its role set (from git), its flags, and counts.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "teamsync access review")]
pub(crate) struct ReviewDocument {
    /// Always `teamsync-review`.
    #[schemars(extend("const" = "teamsync-review"))]
    pub(crate) format: &'static str,
    /// Always 1 for this shape.
    #[schemars(range(min = 1, max = 1))]
    pub(crate) format_version: u32,
    /// When the review was made (RFC 3339, UTC).
    pub(crate) generated_at: String,
    /// The desired-state file (or directory) reviewed.
    pub(crate) desired_file: String,
    /// An entry not changed for more than this many days is `not_recertified`
    /// (`policy.recertify_days`, default 365).
    pub(crate) recertify_days: u64,
    /// With `--live`: the snapshot the org's side was read from and when it was read.
    pub(crate) live_source: Option<LiveSourceWire>,
    /// Every entry, sorted by email.
    pub(crate) entries: Vec<EntryWire>,
    pub(crate) summary: SummaryWire,
    /// Why some dates are unknown (outside git, lines not committed yet).
    pub(crate) warnings: Vec<String>,
}

/// Where the org's side was read from.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct LiveSourceWire {
    /// The snapshot file.
    pub(crate) snapshot: String,
    /// When the snapshot read the org (RFC 3339).
    pub(crate) read_at: String,
}

/// One entry.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct EntryWire {
    pub(crate) email: String,
    /// `org:admin` or `org:member`.
    pub(crate) role: String,
    pub(crate) reason: Option<String>,
    /// `YYYY-MM-DD`, the last day of membership.
    pub(crate) expires: Option<String>,
    /// The part that lists it, when the desired state is a directory.
    pub(crate) part: Option<String>,
    /// The commit that added its email's line; null when unknown (outside git, not committed).
    pub(crate) added: Option<CommitWire>,
    /// The commit that set its role's line.
    pub(crate) role_set: Option<CommitWire>,
    /// The newest commit of any of its lines.
    pub(crate) last_changed: Option<CommitWire>,
    /// `admin_without_reason`, `external_without_expires`, `expires_soon`, `not_recertified`,
    /// and with `--live`: `not_in_org`, `role_differs`, `pending_invitation`.
    pub(crate) flags: Vec<String>,
    /// With `--live`: the org's side.
    pub(crate) org: Option<OrgWire>,
}

/// A commit of the branch's first-parent history.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CommitWire {
    /// The day (UTC) it was committed to the branch, `YYYY-MM-DD`.
    pub(crate) date: String,
    /// Its full hash.
    pub(crate) commit: String,
    /// `Name <email>` of its author.
    pub(crate) author: String,
    /// The pull request its message names (`(#N)`, `Merge pull request #N`), else null.
    pub(crate) pr: Option<u64>,
}

/// The org's side of an entry.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct OrgWire {
    /// `member`, `invited` or `absent`.
    pub(crate) status: &'static str,
    /// The role the org gives (or the invitation would), as the API lists it.
    pub(crate) role: Option<String>,
    /// A pending invitation's `createdAt`, when known.
    pub(crate) invited_at: Option<String>,
    /// Whole days the invitation has waited, when known.
    pub(crate) age_days: Option<u64>,
}

/// Counts.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SummaryWire {
    pub(crate) entries: usize,
    /// Entries per role.
    pub(crate) roles: BTreeMap<String, usize>,
    /// Entries with at least one flag.
    pub(crate) flagged: usize,
    /// Entries per flag (every flag, 0 included).
    pub(crate) flags: BTreeMap<String, usize>,
}

fn commit(c: &Commit) -> CommitWire {
    CommitWire {
        date: c.date.to_string(),
        commit: c.id.clone(),
        author: c.author.clone(),
        pr: c.pr,
    }
}

fn entry(e: &Entry) -> EntryWire {
    EntryWire {
        email: e.email.to_string(),
        role: e.role.as_str().to_string(),
        reason: e.reason.clone(),
        expires: e.expires.map(|d| d.to_string()),
        part: e.part.clone(),
        added: e.added.as_ref().map(commit),
        role_set: e.role_set.as_ref().map(commit),
        last_changed: e.changed.as_ref().map(commit),
        flags: e.flags.iter().map(|f| f.name().to_string()).collect(),
        org: e.org.as_ref().map(|o| match o {
            InOrg::Member { role } => OrgWire {
                status: "member",
                role: Some(role.as_str().to_string()),
                invited_at: None,
                age_days: None,
            },
            InOrg::Invited { role, invited } => OrgWire {
                status: "invited",
                role: Some(role.as_str().to_string()),
                invited_at: invited.as_ref().map(|i| i.at.as_str().to_string()),
                age_days: invited.as_ref().map(|i| i.age_days),
            },
            InOrg::Absent => OrgWire {
                status: "absent",
                role: None,
                invited_at: None,
                age_days: None,
            },
        }),
    }
}

impl ReviewDocument {
    pub(crate) fn new(
        review: &Review,
        desired_file: &str,
        generated_at: &str,
        live_source: Option<LiveSourceWire>,
    ) -> ReviewDocument {
        let s = &review.summary;
        ReviewDocument {
            format: FORMAT,
            format_version: FORMAT_VERSION,
            generated_at: generated_at.to_string(),
            desired_file: desired_file.to_string(),
            recertify_days: review.recertify_days,
            live_source,
            entries: review.entries.iter().map(entry).collect(),
            summary: SummaryWire {
                entries: s.entries,
                roles: [
                    ("org:admin".to_string(), s.admins),
                    ("org:member".to_string(), s.members),
                ]
                .into(),
                flagged: s.flagged,
                flags: s
                    .flags
                    .iter()
                    .map(|(f, n)| (f.name().to_string(), *n))
                    .collect(),
            },
            warnings: review.warnings.iter().map(ToString::to_string).collect(),
        }
    }

    /// Pretty JSON with a final newline.
    pub(crate) fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
