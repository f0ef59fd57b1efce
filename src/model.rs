//! Shared vocabulary: roles and the live state of an organization, independent of HTTP.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the two roles Scaling knows.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Role {
    #[serde(rename = "org:admin")]
    Admin,
    #[serde(rename = "org:member")]
    Member,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Admin, Role::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "org:admin",
            Role::Member => "org:member",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "org:admin" => Some(Role::Admin),
            "org:member" => Some(Role::Member),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A member of the organization as the API lists it. `role` stays a string: the API may one
/// day answer a role teamsync does not know, and that must not break a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMember {
    pub id: String,
    pub email: String,
    pub role: String,
}

/// An invitation as the API lists it. Only `pending` ones count; other statuses are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveInvitation {
    pub id: String,
    pub email: String,
    pub role: String,
    pub status: String,
}

impl LiveInvitation {
    pub fn is_pending(&self) -> bool {
        self.status.eq_ignore_ascii_case("pending")
    }
}

/// Everything `GET team/members` returned, all pages joined.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveState {
    pub members: Vec<LiveMember>,
    pub invitations: Vec<LiveInvitation>,
}

impl LiveState {
    pub fn pending_invitations(&self) -> impl Iterator<Item = &LiveInvitation> {
        self.invitations.iter().filter(|i| i.is_pending())
    }
}
