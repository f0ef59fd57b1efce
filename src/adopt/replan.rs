//! The net under every adoption (docs/contract.md §7): before anything is written, the edited
//! text, loaded as `validate` and `plan` load it, is planned against the same live read, and
//! compared with the plan of the text as it was. Nothing is written if that plan still changes
//! an email adopt adopted, or if any email adopt did not adopt is planned, or reads, otherwise
//! than before. Whatever shape of YAML makes one entry depend on another (an anchor, an alias,
//! a merge key, or one nobody has thought of), an adoption can then never promote, remove or
//! keep someone it did not mean to.

use super::{AdoptOptions, Adoption};
use crate::date::Date;
use crate::desired::Desired;
use crate::email::Email;
use crate::live::{LiveState, Managed};
use crate::plan::{Change, Revoke, RevokeCause};
use crate::planner::{self, PlanOptions};
use crate::role::Role;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

/// What the re-plan found: emails adopted whose change is still planned, emails not adopted
/// that are planned or read otherwise, and top-level fields that read otherwise.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Replanned {
    pub(crate) still: Vec<Email>,
    pub(crate) changed: Vec<Email>,
    pub(crate) fields: Vec<&'static str>,
}

impl fmt::Display for Replanned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |emails: &[Email]| {
            emails
                .iter()
                .map(Email::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut what = Vec::new();
        if !self.still.is_empty() {
            what.push(format!(
                "would still change {}, which it adopted",
                list(&self.still)
            ));
        }
        if !self.changed.is_empty() {
            what.push(format!(
                "would change how {} reads, which it did not adopt",
                list(&self.changed)
            ));
        }
        if !self.fields.is_empty() {
            what.push(format!("would read {} otherwise", self.fields.join(", ")));
        }
        write!(
            f,
            "a plan of the edited file against the org just read {} (a bug in adopt: please report it with the file's shape)",
            what.join(", and ")
        )
    }
}

/// The re-plan check: `old` is the desired state as read, `new` the edited text's, both
/// loaded as `plan` loads them; `adopted` what the edit meant to do.
pub(super) fn check(
    old: &Desired,
    new: &Desired,
    live: &LiveState,
    adopted: &[Adoption],
    options: &AdoptOptions,
) -> Result<(), Replanned> {
    let meant: HashSet<&Email> = adopted.iter().map(Adoption::email).collect();
    let opts = PlanOptions {
        self_email: options.self_email.clone(),
        self_from: options.self_from,
        ..PlanOptions::new(options.today)
    };
    // One managed view of the read for both plans: adopt never edits `ignore`, so the two
    // lists are the same (a second view only if they are not).
    let managed = Managed::new(live.clone(), &old.ignore);
    let other = (new.ignore != old.ignore).then(|| Managed::new(live.clone(), &new.ignore));
    let before = planner::plan(old, &managed, &opts);
    let after = planner::plan(new, other.as_ref().unwrap_or(&managed), &opts);
    let (before, after) = (by_email(&before), by_email(&after));
    let mut still = BTreeSet::new();
    let mut changed = BTreeSet::new();
    for email in before.keys().chain(after.keys()) {
        if meant.contains(email) {
            let left = after
                .get(email)
                .is_some_and(|cs| cs.iter().any(|c| !the_orgs_own(c)));
            if left {
                still.insert((*email).clone());
            }
        } else if before.get(email) != after.get(email) {
            changed.insert((*email).clone());
        }
    }
    // How every entry not adopted reads, whether or not the plan shows it today (a reason, an
    // expiry to come).
    let (was, is) = (entries(old), entries(new));
    for email in was.keys().chain(is.keys()) {
        if !meant.contains(email) && was.get(email) != is.get(email) {
            changed.insert((*email).clone());
        }
    }
    let fields = fields(old, new);
    if still.is_empty() && changed.is_empty() && fields.is_empty() {
        return Ok(());
    }
    Err(Replanned {
        still: still.into_iter().collect(),
        changed: changed.into_iter().collect(),
        fields,
    })
}

/// A plan's changes, blocked ones included, by email.
fn by_email(plan: &crate::plan::Plan) -> BTreeMap<&Email, Vec<&Change>> {
    let mut out: BTreeMap<&Email, Vec<&Change>> = BTreeMap::new();
    for c in plan
        .changes
        .iter()
        .map(|c| &c.change)
        .chain(plan.blocked.iter().map(|b| &b.change))
    {
        out.entry(c.email()).or_default().push(c);
    }
    out
}

/// A change that is the org's own business, not drift of the file: a re-send of an old
/// invitation, a redundant invitation revoked.
fn the_orgs_own(c: &Change) -> bool {
    matches!(
        c,
        Change::Resend(_)
            | Change::Revoke(Revoke {
                cause: RevokeCause::Duplicate { .. } | RevokeCause::AlreadyMember,
                ..
            })
    )
}

/// Each entry's reading: role, reason, expiry (its position aside).
type Reading<'a> = (Role, Option<&'a str>, Option<Date>);

fn entries(d: &Desired) -> BTreeMap<&Email, Vec<Reading<'_>>> {
    let mut out: BTreeMap<&Email, Vec<Reading<'_>>> = BTreeMap::new();
    for m in &d.members {
        out.entry(&m.email)
            .or_default()
            .push((m.role, m.reason.as_deref(), m.expires));
    }
    out
}

/// The top-level fields that read otherwise.
fn fields(old: &Desired, new: &Desired) -> Vec<&'static str> {
    let mut out = Vec::new();
    if old.allowed_domains != new.allowed_domains {
        out.push("allowed_domains");
    }
    if old.ignore != new.ignore {
        out.push("ignore");
    }
    if old.protected != new.protected {
        out.push("protected");
    }
    if old.safety != new.safety {
        out.push("safety");
    }
    if old.invitations != new.invitations {
        out.push("invitations");
    }
    out
}
