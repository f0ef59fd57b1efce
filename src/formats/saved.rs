//! Saved plans (`plan --out`, `apply PLANFILE`; docs/contract.md §6): the fingerprints of the
//! file and the org a plan was computed from, the live roster, and the checks that refuse to
//! apply a saved plan that no longer describes the org or the file.

use super::plan::{self, ChangeWire, Fingerprints, LiveSourceWire};
use crate::live::Managed;
use crate::origin::{Compared, Origin};
use crate::plan::Plan;

use serde::Deserialize;
use std::collections::BTreeMap;

/// A saved plan as `apply PLANFILE` reads it back: what it needs to check that the plan still
/// holds. The changes stay in their JSON form: apply re-plans and compares.
#[derive(Debug, Deserialize)]
pub(crate) struct SavedPlan {
    pub(crate) format_version: u32,
    pub(crate) desired_file: String,
    /// The org the desired file named (absent when it named none).
    #[serde(default)]
    pub(crate) org: Option<String>,
    pub(crate) changes: Vec<SavedEntry>,
    pub(crate) blocked: Vec<SavedEntry>,
    /// Read for its `edit` count only: present when the plan was made with `--baseline`.
    #[serde(default)]
    summary: SavedSummary,
    pub(crate) fingerprints: Fingerprints,
    /// The roster of the org the plan was made against (the managed members and invitations,
    /// one line each), to say what changed since.
    #[serde(default, rename = "live_snapshot")]
    pub(crate) live_roster: Option<Vec<String>>,
    /// What the plan was made against (absent in plans saved before it was recorded).
    #[serde(default)]
    pub(crate) live_source: Option<LiveSourceWire>,
}

/// A saved change or blocked change, with its origin when the plan was made with `--baseline`.
#[derive(Debug, Deserialize)]
pub(crate) struct SavedEntry {
    #[serde(flatten)]
    pub(crate) change: ChangeWire,
    #[serde(default)]
    pub(crate) origin: Option<Origin>,
}

#[derive(Debug, Default, Deserialize)]
struct SavedSummary {
    #[serde(default)]
    edit: Option<usize>,
}

/// Why a saved plan cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum BadPlanFile {
    #[error("not a teamsync plan ({0})")]
    NotAPlan(String),
    #[error("format_version {found} is not {}", plan::FORMAT_VERSION)]
    Version { found: u32 },
    #[error("it has no live snapshot; save plans with `teamsync plan --out PLANFILE`")]
    NoRoster,
}

/// Why a saved plan no longer holds. Nothing is sent.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outdated {
    /// The file, the org, or both changed since the plan was made.
    Changed {
        file_changed: bool,
        /// What changed in the org, one sentence per email (empty when the org did not change).
        org_drift: Vec<String>,
    },
    /// The file and the org are as they were, yet planning again gives other changes.
    Differs,
}

impl SavedPlan {
    pub(crate) fn parse(bytes: &[u8]) -> Result<SavedPlan, BadPlanFile> {
        let doc: SavedPlan =
            serde_json::from_slice(bytes).map_err(|e| BadPlanFile::NotAPlan(e.to_string()))?;
        if doc.format_version != plan::FORMAT_VERSION {
            return Err(BadPlanFile::Version {
                found: doc.format_version,
            });
        }
        if doc.live_roster.is_none() {
            return Err(BadPlanFile::NoRoster);
        }
        Ok(doc)
    }

    /// Whether the plan still holds: the same file and the same org, and planning them again
    /// gives exactly the saved changes.
    pub(crate) fn check_fresh(
        &self,
        now: &Fingerprints,
        roster: &[String],
        replanned: &Plan,
    ) -> Result<(), Outdated> {
        let file_changed = self.fingerprints.desired_file != now.desired_file;
        let org_drift = if self.fingerprints.live_state != now.live_state {
            describe_drift(self.live_roster.as_deref().unwrap_or_default(), roster)
        } else {
            Vec::new()
        };
        if file_changed || !org_drift.is_empty() {
            return Err(Outdated::Changed {
                file_changed,
                org_drift,
            });
        }
        // A plan saved with `--baseline` has an origin on each change (docs/contract.md §8):
        // The changes alone are compared.
        let same = |wire: &[SavedEntry], now: Vec<ChangeWire>| {
            wire.len() == now.len() && wire.iter().zip(&now).all(|(a, b)| a.change == *b)
        };
        if !same(
            &self.changes,
            replanned.changes.iter().map(Into::into).collect(),
        ) || !same(
            &self.blocked,
            replanned.blocked.iter().map(Into::into).collect(),
        ) {
            return Err(Outdated::Differs);
        }
        Ok(())
    }
}

impl SavedPlan {
    /// The origins the plan was saved with (docs/contract.md §5): `None` when it was made
    /// without `--baseline` (or an entry lacks one).
    pub(crate) fn origins(&self) -> Option<SavedOrigins<'_>> {
        self.summary.edit?;
        let all = |entries: &[SavedEntry]| entries.iter().all(|e| e.origin.is_some());
        (all(&self.changes) && all(&self.blocked)).then_some(SavedOrigins(self))
    }
}

/// The origins of a saved plan's entries, each on its entry.
pub(crate) struct SavedOrigins<'a>(&'a SavedPlan);

impl SavedOrigins<'_> {
    /// Gives each entry of `plan` (made again from the same file and org) the origin of the
    /// saved entry in its place, and counts them; `plan` is left as it is when it has another
    /// number of entries (a plan whose changes differ is stale, whatever its origins).
    pub(crate) fn give_to(&self, plan: &mut Plan) {
        let saved = self.0;
        if saved.changes.len() != plan.changes.len() || saved.blocked.len() != plan.blocked.len() {
            return;
        }
        for (c, e) in plan.changes.iter_mut().zip(&saved.changes) {
            c.origin = e.origin;
        }
        for (b, e) in plan.blocked.iter_mut().zip(&saved.blocked) {
            b.origin = e.origin;
        }
        plan.compared = Some(Compared::default());
        plan.count_origins();
    }
}

/// The managed roster as sorted `member|invitation email role id` lines.
pub(crate) fn live_roster(org: &Managed) -> Vec<String> {
    let mut lines: Vec<String> = org
        .members
        .iter()
        .map(|m| format!("member {} {} {}", m.email, m.role, m.id))
        .chain(
            org.invitations
                .iter()
                .map(|i| format!("invitation {} {} {}", i.email, i.role, i.id)),
        )
        .collect();
    lines.sort_unstable();
    lines
}

pub(crate) fn live_fingerprint(roster: &[String]) -> String {
    crate::parts::fingerprint(roster.join("\n").as_bytes())
}

/// What changed between two live rosters, one sentence per email.
fn describe_drift(before: &[String], after: &[String]) -> Vec<String> {
    fn index(lines: &[String]) -> BTreeMap<&str, Vec<(&str, &str)>> {
        let mut map: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for l in lines {
            let parts: Vec<&str> = l.split(' ').collect();
            if let [kind, email, role, ..] = parts[..] {
                map.entry(email).or_default().push((kind, role));
            }
        }
        map
    }
    fn show(entries: &[(&str, &str)]) -> String {
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
    use crate::glob::Glob;
    use crate::live::{LiveInvitation, LiveMember, LiveState};

    fn live() -> LiveState {
        LiveState {
            members: vec![
                LiveMember::new("u1", "A@x.com", "org:admin"),
                LiveMember::new("u2", "b@x.com", "org:member"),
                LiveMember::new("u3", "bot@vendor.io", "org:member"),
            ],
            invitations: vec![LiveInvitation::new("i1", "c@x.com", "org:member")],
        }
    }

    fn roster(live: LiveState) -> Vec<String> {
        live_roster(&Managed::new(live, &[Glob::new("*@vendor.io")]))
    }

    #[test]
    fn roster_is_sorted_normalized_and_skips_ignored() {
        assert_eq!(
            roster(live()),
            vec![
                "invitation c@x.com org:member i1",
                "member a@x.com org:admin u1",
                "member b@x.com org:member u2"
            ]
        );
    }

    #[test]
    fn fingerprints_change_with_content() {
        let a = roster(live());
        let mut changed = live();
        changed.members[1] = LiveMember::new("u2", "b@x.com", "org:admin");
        let b = roster(changed);
        assert_ne!(live_fingerprint(&a), live_fingerprint(&b));
        assert_eq!(live_fingerprint(&a), live_fingerprint(&roster(live())));
        assert!(crate::parts::fingerprint(b"x").starts_with("sha256:"));
        assert_eq!(crate::parts::fingerprint(b"x").len(), 7 + 64);
    }

    #[test]
    fn drift_names_each_email() {
        let before = roster(live());
        let mut now = live();
        now.members[1] = LiveMember::new("u2", "b@x.com", "org:admin");
        now.members.remove(0);
        now.invitations
            .push(LiveInvitation::new("i9", "new@x.com", "org:admin"));
        assert_eq!(
            describe_drift(&before, &roster(now)),
            vec![
                "a@x.com disappeared (was member org:admin)",
                "b@x.com changed: member org:member → member org:admin",
                "new@x.com appeared (invitation org:admin)",
            ]
        );
    }

    #[test]
    fn a_saved_plan_must_be_a_plan_of_this_version_with_a_roster() {
        assert!(matches!(
            SavedPlan::parse(b"{}"),
            Err(BadPlanFile::NotAPlan(_))
        ));
        let doc = |version: u32, roster: &str| {
            format!(
                r#"{{"format_version":{version},"desired_file":"f","changes":[],"blocked":[],
                "fingerprints":{{"desired_file":"a","live_state":"b"}}{roster}}}"#
            )
        };
        assert_eq!(
            SavedPlan::parse(doc(2, ",\"live_snapshot\":[]").as_bytes()).unwrap_err(),
            BadPlanFile::Version { found: 2 }
        );
        assert_eq!(
            SavedPlan::parse(doc(1, "").as_bytes()).unwrap_err(),
            BadPlanFile::NoRoster
        );
        assert!(SavedPlan::parse(doc(1, ",\"live_snapshot\":[]").as_bytes()).is_ok());
    }
}
