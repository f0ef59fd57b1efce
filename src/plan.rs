//! The plan: data, not behaviour. Every renderer and the apply executor read this one type.

use crate::model::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a change does to the organization.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Send an invitation (`POST team/members/invite`).
    Invite,
    /// Change a member's role (`PATCH team/members/{id}/role`).
    UpdateRole,
    /// Remove a member (`DELETE team/members/{id}`).
    Remove,
    /// Revoke a pending invitation (`DELETE team/members/invitations/{id}`).
    Revoke,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Invite => "invite",
            Action::UpdateRole => "update_role",
            Action::Remove => "remove",
            Action::Revoke => "revoke",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change. `email` is the key: trimmed and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    pub action: Action,
    /// The normalized email this change is about.
    pub email: String,
    /// The role after the change (`invite`, `update_role`), or the role that goes away
    /// (`remove`, `revoke`).
    pub role: Option<Role>,
    /// For `update_role`: the role the member has now (a string: the API may know roles
    /// teamsync does not).
    pub from_role: Option<String>,
    /// The member id (`update_role`, `remove`) or invitation id (`revoke`).
    pub id: Option<String>,
    /// The file's `reason` for this member, or why an expired member leaves.
    pub reason: Option<String>,
    /// Why the planner chose this change.
    pub cause: String,
    /// Set on the `revoke` and `invite` of an invitation replaced because its role is wrong:
    /// they run as one step, revoke then invite.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replaces_invitation: bool,
    /// Why the change will not be sent (self, protected). Only on entries of `Plan::blocked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
}

impl Change {
    /// True when this change takes admin rights away (a demotion).
    pub fn is_demotion(&self) -> bool {
        self.action == Action::UpdateRole && self.role != Some(Role::Admin)
    }

    /// The apply phase: 1 invitations and promotions, 2 demotions, 3 revocations and removals.
    pub fn phase(&self) -> u8 {
        match self.action {
            Action::Invite => 1,
            Action::Revoke if self.replaces_invitation => 1,
            Action::UpdateRole if !self.is_demotion() => 1,
            Action::UpdateRole => 2,
            Action::Revoke | Action::Remove => 3,
        }
    }
}

/// A safety guard (SPEC §5) and whether it trips.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Guard {
    /// `max_removals` or `min_admins`.
    pub kind: GuardKind,
    /// Whether applying the plan would cross the limit.
    pub tripped: bool,
    /// Whether `--allow-mass-removal` lifts it (never for `min_admins`).
    pub overridden: bool,
    /// The measured value: removals planned, or admin members left after the plan.
    pub value: u64,
    /// The limit: most removals allowed, or fewest admins required.
    pub limit: u64,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuardKind {
    MaxRemovals,
    MinAdmins,
}

/// Counts by action, for summaries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub invite: usize,
    pub update_role: usize,
    pub remove: usize,
    pub revoke: usize,
    pub blocked: usize,
    /// Live members and pending invitations left alone because they match `ignore`.
    pub ignored: usize,
    /// Desired members that already match the org.
    pub unchanged: usize,
}

/// The result of planning: changes to send, changes refused, guards and warnings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// Changes apply will send, sorted by action then email.
    pub changes: Vec<Change>,
    /// Drift that will not be sent (the key's own account, protected emails), with the reason.
    pub blocked: Vec<Change>,
    /// Safety guards, tripped or not.
    pub guards: Vec<Guard>,
    /// Human-readable warnings (tripped guards come first).
    pub warnings: Vec<String>,
    pub summary: Summary,
    /// Live members before the plan.
    pub live_members: usize,
    /// Admin members after the plan (pending invitations do not count).
    pub admins_after: usize,
}

impl Plan {
    /// True when there is nothing to send and nothing blocked: the org matches the file.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.blocked.is_empty()
    }

    /// Guards that trip and are not overridden: apply refuses (exit 3).
    pub fn refusing_guards(&self) -> impl Iterator<Item = &Guard> {
        self.guards.iter().filter(|g| g.tripped && !g.overridden)
    }

    /// How many changes to send have this action.
    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }
}

/// The live state as it will be once `changes` are applied: the model the diff view and the
/// property tests use. New invitations get the id `(planned)`.
pub fn simulate(live: &crate::model::LiveState, changes: &[Change]) -> crate::model::LiveState {
    let mut after = live.clone();
    // Revocations first, so a replacement's new invitation is not taken for the old one.
    for c in changes.iter().filter(|c| c.action == Action::Revoke) {
        let id = c.id.as_deref().unwrap_or_default();
        after.invitations.retain(|i| i.id != id);
    }
    for c in changes {
        let id = c.id.as_deref().unwrap_or_default();
        match c.action {
            Action::Invite => after.invitations.push(crate::model::LiveInvitation {
                id: "(planned)".into(),
                email: c.email.clone(),
                role: c.role.map(Role::as_str).unwrap_or_default().into(),
                status: "pending".into(),
            }),
            Action::UpdateRole => {
                for m in after.members.iter_mut().filter(|m| m.id == id) {
                    m.role = c.role.map(Role::as_str).unwrap_or_default().into();
                }
            }
            Action::Remove => after.members.retain(|m| m.id != id),
            Action::Revoke => {}
        }
    }
    after
}
