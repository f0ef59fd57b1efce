//! The JSON plan document (`--format json`, `plan --out`): the stable interface for scripts,
//! with the fingerprints a saved plan needs to detect a stale org or file.

use crate::desired::Desired;
use crate::email::normalize;
use crate::model::LiveState;
use crate::plan::{Change, Guard, Plan, Summary};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The version of the JSON plan's shape. Fields may be added within a version; none is removed
/// or changes meaning.
pub const FORMAT_VERSION: u32 = 1;

/// Fingerprints of what the plan was computed from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Fingerprints {
    /// `sha256:` of the desired file's bytes.
    pub desired_file: String,
    /// `sha256:` of the live state's members, roles and pending invitations (ignored emails
    /// left out).
    pub live_state: String,
}

/// The JSON plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanDocument {
    /// Always 1 for this shape.
    pub format_version: u32,
    /// The desired-state file the plan was made from, as given on the command line.
    pub desired_file: String,
    pub changes: Vec<Change>,
    pub blocked: Vec<Change>,
    pub warnings: Vec<String>,
    pub guards: Vec<Guard>,
    pub summary: Summary,
    pub live_members: usize,
    pub admins_after: usize,
    pub fingerprints: Fingerprints,
    /// Only in saved plans (`plan --out`): the live roster the plan was made against, one
    /// `kind email role id` line each, so a stale plan can say what changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_snapshot: Option<Vec<String>>,
}

impl PlanDocument {
    pub fn new(plan: &Plan, desired_file: &str, fingerprints: Fingerprints) -> PlanDocument {
        PlanDocument {
            format_version: FORMAT_VERSION,
            desired_file: desired_file.to_string(),
            changes: plan.changes.clone(),
            blocked: plan.blocked.clone(),
            warnings: plan.warnings.clone(),
            guards: plan.guards.clone(),
            summary: plan.summary.clone(),
            live_members: plan.live_members,
            admins_after: plan.admins_after,
            fingerprints,
            live_snapshot: None,
        }
    }

    /// The plan back out of a saved document.
    pub fn plan(&self) -> Plan {
        Plan {
            changes: self.changes.clone(),
            blocked: self.blocked.clone(),
            guards: self.guards.clone(),
            warnings: self.warnings.clone(),
            summary: self.summary.clone(),
            live_members: self.live_members,
            admins_after: self.admins_after,
        }
    }
}

fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

pub fn file_fingerprint(bytes: &[u8]) -> String {
    sha256(bytes)
}

/// The live roster as sorted `member|invitation email role id` lines, ignored emails left out.
pub fn live_snapshot(live: &LiveState, desired: &Desired) -> Vec<String> {
    let mut lines: Vec<String> = live
        .members
        .iter()
        .filter(|m| !desired.is_ignored(&m.email))
        .map(|m| format!("member {} {} {}", normalize(&m.email), m.role, m.id))
        .chain(
            live.pending_invitations()
                .filter(|i| !desired.is_ignored(&i.email))
                .map(|i| format!("invitation {} {} {}", normalize(&i.email), i.role, i.id)),
        )
        .collect();
    lines.sort_unstable();
    lines
}

pub fn live_fingerprint(snapshot: &[String]) -> String {
    sha256(snapshot.join("\n").as_bytes())
}

/// What changed between two live snapshots, one sentence per email.
pub fn describe_drift(before: &[String], after: &[String]) -> Vec<String> {
    fn index(lines: &[String]) -> BTreeMap<String, Vec<(String, String)>> {
        let mut map: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for l in lines {
            let parts: Vec<&str> = l.split(' ').collect();
            if let [kind, email, role, ..] = parts[..] {
                map.entry(email.to_string())
                    .or_default()
                    .push((kind.to_string(), role.to_string()));
            }
        }
        map
    }
    fn show(entries: &[(String, String)]) -> String {
        entries
            .iter()
            .map(|(k, r)| format!("{k} {r}"))
            .collect::<Vec<_>>()
            .join(" + ")
    }
    let (old, new) = (index(before), index(after));
    let mut out = Vec::new();
    for (email, was) in &old {
        match new.get(email) {
            None => out.push(format!("{email} disappeared (was {})", show(was))),
            Some(now) if now != was => {
                out.push(format!("{email} changed: {} → {}", show(was), show(now)))
            }
            Some(_) => {}
        }
    }
    for (email, now) in &new {
        if !old.contains_key(email) {
            out.push(format!("{email} appeared ({})", show(now)));
        }
    }
    if out.is_empty() && before != after {
        out.push("member or invitation ids changed (someone removed and re-added an entry)".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LiveInvitation, LiveMember};

    fn live() -> LiveState {
        LiveState {
            members: vec![
                LiveMember {
                    id: "u1".into(),
                    email: "A@x.com".into(),
                    role: "org:admin".into(),
                },
                LiveMember {
                    id: "u2".into(),
                    email: "b@x.com".into(),
                    role: "org:member".into(),
                },
                LiveMember {
                    id: "u3".into(),
                    email: "bot@vendor.io".into(),
                    role: "org:member".into(),
                },
            ],
            invitations: vec![
                LiveInvitation {
                    id: "i1".into(),
                    email: "c@x.com".into(),
                    role: "org:member".into(),
                    status: "pending".into(),
                },
                LiveInvitation {
                    id: "i2".into(),
                    email: "d@x.com".into(),
                    role: "org:member".into(),
                    status: "revoked".into(),
                },
            ],
        }
    }

    #[test]
    fn snapshot_is_sorted_normalized_and_skips_ignored_and_non_pending() {
        let mut d = Desired::new(vec![]);
        d.ignore.push(crate::glob::Glob::new("*@vendor.io"));
        assert_eq!(
            live_snapshot(&live(), &d),
            vec![
                "invitation c@x.com org:member i1",
                "member a@x.com org:admin u1",
                "member b@x.com org:member u2"
            ]
        );
    }

    #[test]
    fn fingerprints_change_with_content() {
        let d = Desired::new(vec![]);
        let a = live_snapshot(&live(), &d);
        let mut changed = live();
        changed.members[1].role = "org:admin".into();
        let b = live_snapshot(&changed, &d);
        assert_ne!(live_fingerprint(&a), live_fingerprint(&b));
        assert_eq!(
            live_fingerprint(&a),
            live_fingerprint(&live_snapshot(&live(), &d))
        );
        assert!(file_fingerprint(b"x").starts_with("sha256:"));
        assert_eq!(file_fingerprint(b"x").len(), 7 + 64);
    }

    #[test]
    fn drift_names_each_email() {
        let d = Desired::new(vec![]);
        let before = live_snapshot(&live(), &d);
        let mut now = live();
        now.members[1].role = "org:admin".into();
        now.members.remove(0);
        now.invitations.push(LiveInvitation {
            id: "i9".into(),
            email: "new@x.com".into(),
            role: "org:admin".into(),
            status: "pending".into(),
        });
        let after = live_snapshot(&now, &d);
        let drift = describe_drift(&before, &after);
        assert_eq!(
            drift,
            vec![
                "a@x.com disappeared (was member org:admin)",
                "b@x.com changed: member org:member → member org:admin",
                "new@x.com appeared (invitation org:admin)",
            ]
        );
    }
}
