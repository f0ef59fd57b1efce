//! The JSON plan (`plan --format json`, `plan --out`; docs/contract.md §6), the stable
//! interface for scripts: the document and the wire view of each change, guard and pending
//! invitation. Each is one flat object whose fields mean what the contract says; it is how
//! `--format json` and saved plans show a plan, and what a saved plan is compared with when it
//! is applied. The plan's own types are [`crate::plan`].

use super::saved::Fingerprints;
use crate::plan::{Action, Blocked, Change, Guard, GuardKind, Pending, Plan, Warning};
use crate::role::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The version of the JSON plan's shape. Fields may be added within a version; none is removed
/// or changes meaning.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The JSON plan.
// The plan itself is flattened in, so that a field added to `Plan` reaches the JSON.
#[derive(Serialize, JsonSchema)]
pub(crate) struct PlanDocument<'a> {
    /// Always 1 for this shape.
    pub(crate) format_version: u32,
    /// The desired-state file the plan was made from, as given on the command line.
    pub(crate) desired_file: &'a str,
    #[serde(flatten)]
    pub(crate) plan: &'a Plan,
    pub(crate) fingerprints: &'a Fingerprints,
    /// Only in saved plans (`plan --out`): the live roster the plan was made against, one
    /// `kind email role id` line each, so a stale plan can say what changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) live_snapshot: Option<&'a [String]>,
}

impl<'a> PlanDocument<'a> {
    /// The JSON plan of `plan`, made from `desired_file`, without a live snapshot.
    pub(crate) fn new(
        desired_file: &'a str,
        plan: &'a Plan,
        fingerprints: &'a Fingerprints,
    ) -> PlanDocument<'a> {
        PlanDocument {
            format_version: FORMAT_VERSION,
            desired_file,
            plan,
            fingerprints,
            live_snapshot: None,
        }
    }

    /// Pretty JSON with a final newline, as printed and saved.
    pub(crate) fn to_json(&self) -> String {
        // Serializing plain data to a string cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// One change. `email` is the key: trimmed and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "Change")]
pub(crate) struct ChangeWire {
    pub(crate) action: Action,
    /// The normalized email this change is about.
    pub(crate) email: String,
    /// The role after the change (`invite`, `update_role`), or the role that goes away
    /// (`remove`, `revoke`).
    pub(crate) role: Option<Role>,
    /// For `update_role`: the role the member has now (a string: the API may know roles
    /// teamsync does not).
    pub(crate) from_role: Option<String>,
    /// The member id (`update_role`, `remove`) or invitation id (`revoke`).
    pub(crate) id: Option<String>,
    /// The file's `reason` for this member, or why an expired member leaves.
    pub(crate) reason: Option<String>,
    /// Why the planner chose this change.
    pub(crate) cause: String,
    /// Set on the `revoke` and `invite` of an invitation replaced because its role is wrong:
    /// they run as one step, revoke then invite.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) replaces_invitation: bool,
    /// On `revoke` and `resend`: when the pending invitation was sent (the API's `createdAt`,
    /// as written); absent when its age is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) invited_at: Option<String>,
    /// Why the change will not be sent (self, protected). Only on entries of `Plan::blocked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) blocked_reason: Option<String>,
}

impl From<&Change> for ChangeWire {
    fn from(c: &Change) -> ChangeWire {
        ChangeWire {
            action: c.action(),
            email: c.email().to_string(),
            role: c.role(),
            from_role: c.role_before().map(|r| r.as_str().to_string()),
            id: c.id().map(str::to_owned),
            reason: c.shown_reason(),
            cause: c.cause().to_string(),
            replaces_invitation: c.is_replacement(),
            invited_at: c.invited().map(|i| i.at.as_str().to_string()),
            blocked_reason: None,
        }
    }
}

impl From<&Blocked> for ChangeWire {
    fn from(b: &Blocked) -> ChangeWire {
        ChangeWire {
            blocked_reason: Some(b.why.to_string()),
            ..ChangeWire::from(&b.change)
        }
    }
}

impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ChangeWire::from(self).serialize(s)
    }
}

impl Serialize for Blocked {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ChangeWire::from(self).serialize(s)
    }
}

/// A safety guard (docs/contract.md §5) and whether it trips.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Guard")]
pub(crate) struct GuardWire {
    /// `max_removals` or `min_admins`.
    kind: GuardKind,
    /// Whether applying the plan would cross the limit.
    tripped: bool,
    /// Whether `--allow-mass-removal` lifts it (never for `min_admins`).
    overridden: bool,
    /// The measured value: removals planned, or admin members left after the plan.
    value: u64,
    /// The limit: most removals allowed, or fewest admins required.
    limit: u64,
    message: String,
}

impl Serialize for Guard {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        GuardWire {
            kind: self.kind(),
            tripped: self.tripped(),
            overridden: self.overridden(),
            value: self.value(),
            limit: self.limit(),
            message: self.to_string(),
        }
        .serialize(s)
    }
}

/// A kept pending invitation in the JSON plan.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "PendingInvitation")]
pub(crate) struct PendingWire {
    pub(crate) email: String,
    pub(crate) role: Role,
    /// The API's `createdAt`, as it wrote it; null when missing or unreadable.
    pub(crate) invited_at: Option<String>,
    /// Whole days since `invited_at` (UTC dates); null when the age is unknown.
    pub(crate) age_days: Option<u64>,
}

impl Serialize for Pending {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PendingWire {
            email: self.email.to_string(),
            role: self.role,
            invited_at: self.invited.as_ref().map(|i| i.at.as_str().to_string()),
            age_days: self.invited.as_ref().map(|i| i.age_days),
        }
        .serialize(s)
    }
}

impl Serialize for Warning {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
