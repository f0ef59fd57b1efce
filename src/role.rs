//! The two roles Scaling knows, and a role as the API may list it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the two roles Scaling knows.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub(crate) enum Role {
    #[serde(rename = "org:admin")]
    Admin,
    #[serde(rename = "org:member")]
    Member,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "org:admin",
            Role::Member => "org:member",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Role> {
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

/// A role as the API lists it: one teamsync knows, or another (say `org:billing`) that must not
/// break a plan. Such a member is reconciled to the desired role, or removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum LiveRole {
    Known(Role),
    Other(String),
}

impl LiveRole {
    pub(crate) fn parse(s: &str) -> LiveRole {
        match Role::parse(s) {
            Some(r) => LiveRole::Known(r),
            None => LiveRole::Other(s.to_string()),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            LiveRole::Known(r) => r.as_str(),
            LiveRole::Other(s) => s,
        }
    }

    /// The role, when teamsync knows it.
    pub(crate) fn known(&self) -> Option<Role> {
        match self {
            LiveRole::Known(r) => Some(*r),
            LiveRole::Other(_) => None,
        }
    }

    pub(crate) fn is(&self, role: Role) -> bool {
        *self == LiveRole::Known(role)
    }
}

impl From<Role> for LiveRole {
    fn from(r: Role) -> LiveRole {
        LiveRole::Known(r)
    }
}

impl fmt::Display for LiveRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
