//! `teamsync export`: the live state as a valid desired-state file, members and pending
//! invitations sorted by email, so that `plan` on it is empty.

use crate::email::normalize;
use crate::model::{LiveState, Role};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Renders the live state as a version-1 file. A member wins over an invitation for the same
/// email; of several pending invitations the first is kept. Entries whose role teamsync does
/// not know are written as comments, since the file cannot express them.
pub fn export_yaml(live: &LiveState) -> String {
    let mut roster: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for i in live.pending_invitations() {
        roster
            .entry(normalize(&i.email))
            .or_insert((i.role.clone(), true));
    }
    for m in &live.members {
        roster.insert(normalize(&m.email), (m.role.clone(), false));
    }
    let mut out = String::new();
    out.push_str("# yaml-language-server: $schema=./schema/teamsync.schema.json\n");
    out.push_str("# Exported by `teamsync export` from the live org.\n");
    out.push_str("version: 1\nmembers:\n");
    for (email, (role, pending)) in &roster {
        let quoted = serde_json::to_string(email).unwrap_or_default();
        match Role::parse(role) {
            Some(r) => {
                let _ = write!(out, "  - email: {quoted}\n    role: {r}\n");
                if *pending {
                    out.push_str("    # pending invitation\n");
                }
            }
            None => {
                let _ = writeln!(
                    out,
                    "  # - email: {quoted}  (role {role:?} is not one teamsync manages)"
                );
            }
        }
    }
    out
}
