//! `teamsync adopt` (docs/contract.md §7), the pure part: a function of (the file's text, its
//! validated desired state, the org, options) → (the new text, what was adopted, what was left
//! alone and why). No I/O and no clock: today's date comes in through [`AdoptOptions`].
//!
//! What is adopted is decided here on the validated [`Desired`] against the whole live org;
//! [`edit`] then makes each decision a splice of the text, so that every byte outside the
//! entries added, changed or deleted stays as it was; [`replan`] then plans the edited text
//! against the same org, and nothing is written unless that plan shows exactly the adoption.

pub(crate) mod diff;
mod edit;
mod replan;

pub(crate) use replan::Replanned;

use crate::date::Date;
use crate::desired::{self, Desired, PartText, Rule};
use crate::email::Email;
use crate::live::LiveState;
use crate::role::{LiveRole, Role};
use crate::yaml::Diagnostic;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// The kinds of drift `--only` chooses from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    /// A live member or pending invitation the file does not list: an entry is added.
    Added,
    /// An entry whose role differs from the live one: it gets the live role.
    Roles,
    /// An entry for someone neither a member nor invited: it is deleted.
    Removed,
}

/// What to adopt, and the facts the decisions need.
#[derive(Clone, Debug)]
pub(crate) struct AdoptOptions {
    pub(crate) kinds: Vec<Kind>,
    /// Today (UTC): the date in a new entry's reason, and what has expired.
    pub(crate) today: Date,
    /// The API key's own account: never adopted.
    pub(crate) self_email: Option<Email>,
    /// With `adopt --baseline`: the emails whose changes are drift (docs/contract.md §7); no
    /// other entry is added, changed or deleted, so that the edit under review stays as it is.
    pub(crate) only: Option<HashSet<Email>>,
    /// Where it was named (`--self` or `TEAMSYNC_SELF`), for messages.
    pub(crate) self_from: crate::plan::SelfFrom,
}

/// One change made to the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Adoption {
    Add { email: Email, role: Role },
    Role { email: Email, from: Role, to: Role },
    Delete { email: Email, role: Role },
}

impl Adoption {
    pub(crate) fn email(&self) -> &Email {
        match self {
            Adoption::Add { email, .. }
            | Adoption::Role { email, .. }
            | Adoption::Delete { email, .. } => email,
        }
    }

    pub(crate) fn kind(&self) -> Kind {
        match self {
            Adoption::Add { .. } => Kind::Added,
            Adoption::Role { .. } => Kind::Roles,
            Adoption::Delete { .. } => Kind::Removed,
        }
    }
}

/// Why a change was not adopted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Why {
    /// Matched by an `ignore` pattern.
    Ignored(String),
    /// A demotion or removal of a `protected` email.
    Protected,
    /// The entry expired on this date: `plan` removes the person; adopt does not undo that.
    Expired(Date),
    /// The address is outside `allowed_domains`.
    OutsideDomains,
    /// The API key's own account.
    OwnAccount(crate::plan::SelfFrom),
    /// The file would be left with no `org:admin`.
    LastAdmin,
    /// The live role is not one the file can hold.
    UnknownRole(String),
    /// The live address would not pass validation.
    InvalidEmail(String),
    /// The entry (or the list) is not written so that it can be edited in place.
    NotEditable,
    /// The entry shares a node with another through an anchor, an alias or a merge key: editing
    /// it would change how the other reads.
    Shared,
    /// The file's `policy` (docs/contract.md §3) would be broken by the entry adopt writes.
    Policy(Rule),
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Ignored(p) => write!(f, "it matches the ignore pattern `{p}`"),
            Why::Protected => write!(f, "it is protected: adopt never demotes or removes it"),
            Why::Expired(d) => write!(
                f,
                "its entry expired on {d}; plan removes it, adopt does not bring it back"
            ),
            Why::OutsideDomains => write!(f, "the address is outside allowed_domains"),
            Why::OwnAccount(from) => write!(f, "it is the API key's own account ({})", from.name()),
            Why::LastAdmin => write!(f, "the file would be left with no org:admin"),
            Why::UnknownRole(r) => write!(f, "its live role `{r}` is not one the file can hold"),
            Why::InvalidEmail(e) => write!(f, "the file cannot hold the address: {e}"),
            Why::NotEditable => write!(
                f,
                "its entry is written with an alias, a merge key or a block scalar; edit it by hand"
            ),
            Why::Policy(rule) => write!(
                f,
                "the entry adopt would write breaks the file's policy ({rule}); edit the file by hand"
            ),
            Why::Shared => write!(
                f,
                "its entry shares a value with another entry through an anchor, alias or merge key (`&`, `*`, `<<`), so editing it would change how the other reads; edit it by hand"
            ),
        }
    }
}

/// A change left alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LeftAlone {
    pub(crate) email: Email,
    pub(crate) kind: Kind,
    pub(crate) why: Why,
}

/// What adopting one file produced.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct Adopted {
    /// The new text (the same as the old when nothing was adopted).
    pub(crate) text: String,
    pub(crate) adopted: Vec<Adoption>,
    pub(crate) skipped: Vec<LeftAlone>,
}

#[cfg(test)]
impl Adopted {
    pub(crate) fn changed(&self) -> bool {
        !self.adopted.is_empty()
    }
}

/// Why an edit is not written (a bug in adopt if it ever happens): nothing is written.
#[derive(Debug)]
pub(crate) enum AdoptError {
    /// The edited text does not validate, with the problems.
    Invalid(Vec<Diagnostic>),
    /// A plan of the edited text does not show exactly the adoption ([`replan`]).
    Replanned(Replanned),
}

impl fmt::Display for AdoptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdoptError::Invalid(errors) => {
                write!(f, "the edited file would not pass validate")?;
                if let Some(d) = errors.first() {
                    write!(f, " ({}:{}: {})", d.line, d.column, d.message)?;
                }
                Ok(())
            }
            AdoptError::Replanned(r) => r.fmt(f),
        }
    }
}

/// The live side of one email: its member's role, else its first pending invitation's; and
/// every pending invitation's role.
#[derive(Default)]
struct LiveOf<'a> {
    member: Option<&'a LiveRole>,
    invited: Vec<&'a LiveRole>,
}

impl LiveOf<'_> {
    fn role(&self) -> Option<&LiveRole> {
        self.member.or(self.invited.first().copied())
    }
}

/// Adopts the org's drift into `text`, whose validated state is `desired`: the one-file form
/// of [`adopt_parts`], which the golden files and property tests drive.
#[cfg(test)]
pub(crate) fn adopt(
    text: &str,
    desired: &Desired,
    live: &LiveState,
    options: &AdoptOptions,
) -> Result<Adopted, AdoptError> {
    let part = PartText { name: "", text };
    let mut parts = adopt_parts(&[part], false, 0, desired, live, options)?;
    Ok(Adopted {
        text: parts.texts.pop().unwrap_or_default(),
        adopted: parts.adopted,
        skipped: parts.skipped,
    })
}

/// What adopting into the parts of a directory produced: each part's new text, in the order
/// given.
#[derive(Debug)]
pub(crate) struct AdoptedParts {
    pub(crate) texts: Vec<String>,
    pub(crate) adopted: Vec<Adoption>,
    pub(crate) skipped: Vec<LeftAlone>,
}

/// Adopts the org's drift into the parts of one desired state (docs/contract.md §7, §10), named
/// and loaded as `desired` was (`directory`: from `-f DIR`): a role change or a deletion is made
/// in the part that holds the entry, a new entry goes to part `into`. The edited parts are
/// then loaded and planned against `live` as `plan` would ([`replan`]); an error says why they
/// must not be written. With one part, this is [`adopt`].
pub(crate) fn adopt_parts(
    parts: &[PartText],
    directory: bool,
    into: usize,
    desired: &Desired,
    live: &LiveState,
    options: &AdoptOptions,
) -> Result<AdoptedParts, AdoptError> {
    let texts: Vec<&str> = parts.iter().map(|p| p.text).collect();
    let texts = texts.as_slice();
    let (mut adopted, mut skipped) = decide(desired, live, options);
    if let Some(only) = &options.only {
        // Only the drift: what the edit asks for is not the org's to overrule. Leaving an
        // adoption out may leave one that takes the last admin away.
        adopted.retain(|a| only.contains(a.email()));
        skipped.retain(|s| only.contains(&s.email));
        keep_an_admin(desired, options.today, &mut adopted, &mut skipped);
        skipped.sort_by(|a, b| a.email.cmp(&b.email));
    }
    let reason = format!("adopted from the org on {}", options.today);
    let part_of = |email: &Email| {
        desired
            .members
            .iter()
            .find(|m| &m.email == email)
            .map_or(into, |m| m.loc.part as usize)
    };
    let mut edited = edit_parts(texts, into, &adopted, &reason, &part_of);
    let failed: Vec<(Email, edit::NotEditable)> = edited
        .iter()
        .flat_map(|e| e.failed.iter().cloned())
        .collect();
    if !failed.is_empty() {
        // Some edits could not be made: make the others alone, so that the files say exactly
        // what is reported.
        adopted.retain(|a| {
            let why = failed
                .iter()
                .find(|(e, _)| e == a.email())
                .map(|(_, n)| match n {
                    edit::NotEditable::Shared => Why::Shared,
                    edit::NotEditable::NoList | edit::NotEditable::Entry => Why::NotEditable,
                });
            let gone = why.is_some();
            if let Some(why) = why {
                skipped.push(LeftAlone {
                    email: a.email().clone(),
                    kind: a.kind(),
                    why,
                });
            }
            !gone
        });
        // What is left may take the last admin away (the promotion that kept one was not
        // editable).
        keep_an_admin(desired, options.today, &mut adopted, &mut skipped);
        skipped.sort_by(|a, b| a.email.cmp(&b.email));
        edited = edit_parts(texts, into, &adopted, &reason, &part_of);
    }
    let texts: Vec<String> = edited.into_iter().map(|e| e.text).collect();
    if !adopted.is_empty() {
        let edited: Vec<PartText> = parts
            .iter()
            .zip(&texts)
            .map(|(p, text)| PartText { name: p.name, text })
            .collect();
        let new = desired::validate_parts(&edited, directory, options.today, desired::cores())
            .desired
            .map_err(AdoptError::Invalid)?;
        replan::check(desired, &new, live, &adopted, options).map_err(AdoptError::Replanned)?;
    }
    Ok(AdoptedParts {
        texts,
        adopted,
        skipped,
    })
}

/// The emails whose drift `teamsync adopt` would keep in the file (every kind, `ignore`,
/// `protected`, expiry, the key's own account and the last admin respected): the plan's
/// pointer to adopt names these only (docs/contract.md §8).
pub(crate) fn keeps(
    desired: &Desired,
    live: &LiveState,
    today: Date,
    self_email: Option<Email>,
) -> HashSet<Email> {
    let options = AdoptOptions {
        kinds: vec![Kind::Added, Kind::Roles, Kind::Removed],
        today,
        self_email,
        self_from: crate::plan::SelfFrom::default(),
        only: None,
    };
    decide(desired, live, &options)
        .0
        .into_iter()
        .map(|a| a.email().clone())
        .collect()
}

/// Each part's text with its share of `adopted` made.
fn edit_parts(
    texts: &[&str],
    into: usize,
    adopted: &[Adoption],
    reason: &str,
    part_of: &dyn Fn(&Email) -> usize,
) -> Vec<edit::Edited> {
    let mut edits: Vec<edit::Edits> = texts
        .iter()
        .map(|_| edit::Edits {
            reason: reason.to_string(),
            ..edit::Edits::default()
        })
        .collect();
    for a in adopted {
        let part = match a {
            Adoption::Add { .. } => into,
            _ => part_of(a.email()),
        };
        let Some(e) = edits.get_mut(part) else {
            continue;
        };
        match a {
            Adoption::Add { email, role } => e.add.push((email.clone(), *role)),
            Adoption::Role { email, to, .. } => e.set_role.push((email.clone(), *to)),
            Adoption::Delete { email, .. } => e.delete.push(email.clone()),
        }
    }
    texts
        .iter()
        .zip(&edits)
        .map(|(text, e)| {
            if e.add.is_empty() && e.set_role.is_empty() && e.delete.is_empty() {
                edit::Edited {
                    text: (*text).to_string(),
                    failed: Vec::new(),
                }
            } else {
                edit::apply(text, e)
            }
        })
        .collect()
}

/// What to adopt and what to leave alone, sorted by email.
fn decide(
    desired: &Desired,
    live: &LiveState,
    options: &AdoptOptions,
) -> (Vec<Adoption>, Vec<LeftAlone>) {
    let wants = |k: Kind| options.kinds.contains(&k);
    let mut org: BTreeMap<&Email, LiveOf> = BTreeMap::new();
    for m in &live.members {
        let e = org.entry(&m.email).or_default();
        e.member = e.member.or(Some(&m.role));
    }
    for i in &live.invitations {
        org.entry(&i.email).or_default().invited.push(&i.role);
    }
    let ignored = |e: &Email| desired.ignore.iter().find(|g| g.matches(e));
    let own = |e: &Email| options.self_email.as_ref() == Some(e);

    let mut adopted = Vec::new();
    let mut skipped = Vec::new();
    let mut skip = |email: &Email, kind: Kind, why: Why| {
        skipped.push(LeftAlone {
            email: email.clone(),
            kind,
            why,
        })
    };

    // Live, not listed: added.
    if wants(Kind::Added) {
        let listed: HashSet<&Email> = desired.members.iter().map(|m| &m.email).collect();
        for (email, l) in &org {
            if listed.contains(email) {
                continue;
            }
            let Some(role) = l.role() else { continue };
            let why = if let Some(g) = ignored(email) {
                Some(Why::Ignored(g.as_str().to_string()))
            } else if own(email) {
                Some(Why::OwnAccount(options.self_from))
            } else if let Some(e) = desired::refused_email(email.as_str()) {
                Some(Why::InvalidEmail(e))
            } else if !desired.allowed_domains.is_empty()
                && !desired::domain_allowed(&desired.allowed_domains, email)
            {
                Some(Why::OutsideDomains)
            } else {
                None
            };
            match (why, role) {
                (Some(why), _) => skip(email, Kind::Added, why),
                (None, LiveRole::Other(r)) => skip(email, Kind::Added, Why::UnknownRole(r.clone())),
                (None, LiveRole::Known(role)) => adopted.push(Adoption::Add {
                    email: (*email).clone(),
                    role: *role,
                }),
            }
        }
    }

    // Listed: a role that differs, or nobody there.
    for m in &desired.members {
        let l = org.get(&m.email);
        if let Some(d) = m.expires.filter(|_| m.is_expired(options.today)) {
            // Not desired any more: plan removes a live one, and adopt does not bring the
            // entry back (a gone one is no drift at all).
            if l.is_some() && wants(Kind::Added) {
                skip(&m.email, Kind::Added, Why::Expired(d));
            }
            continue;
        }
        let kind = match l {
            None => Kind::Removed,
            Some(l) => {
                let matches = match l.member {
                    Some(r) => r.is(m.role),
                    None => l.invited.iter().any(|r| r.is(m.role)),
                };
                if matches {
                    continue;
                }
                Kind::Roles
            }
        };
        if !wants(kind) {
            continue;
        }
        if own(&m.email) {
            skip(&m.email, kind, Why::OwnAccount(options.self_from));
            continue;
        }
        match l.and_then(|l| l.role()) {
            None => {
                if desired.is_protected(&m.email) {
                    skip(&m.email, kind, Why::Protected);
                } else {
                    adopted.push(Adoption::Delete {
                        email: m.email.clone(),
                        role: m.role,
                    });
                }
            }
            Some(LiveRole::Other(r)) => skip(&m.email, kind, Why::UnknownRole(r.clone())),
            Some(LiveRole::Known(to)) => {
                if desired.is_protected(&m.email) && m.role == Role::Admin {
                    // The entry says admin and the org says otherwise: a demotion.
                    skip(&m.email, kind, Why::Protected);
                } else {
                    adopted.push(Adoption::Role {
                        email: m.email.clone(),
                        from: m.role,
                        to: *to,
                    });
                }
            }
        }
    }

    within_policy(desired, options.today, &mut adopted, &mut skipped);
    keep_an_admin(desired, options.today, &mut adopted, &mut skipped);
    adopted.sort_by(|a, b| a.email().cmp(b.email()));
    skipped.sort_by(|a, b| a.email.cmp(&b.email));
    (adopted, skipped)
}

/// No change may write an entry into a violation of the file's policy (docs/contract.md §3):
/// an external entry added without `expires`, an entry made `org:admin` without a reason, or
/// admin entries past `policy.max_admins` (then every adoption that adds an admin is left
/// alone: which admins to keep is a person's choice, not adopt's).
fn within_policy(
    desired: &Desired,
    today: Date,
    adopted: &mut Vec<Adoption>,
    skipped: &mut Vec<LeftAlone>,
) {
    let policy = &desired.policy;
    let entry = |email: &Email| desired.members.iter().find(|m| &m.email == email);
    let refuse = |a: &Adoption| -> Option<Rule> {
        match a {
            Adoption::Add { email, .. } => policy.refuses_add(email),
            Adoption::Role { email, to, .. } => {
                entry(email).and_then(|m| policy.refuses_role(m, *to))
            }
            Adoption::Delete { .. } => None,
        }
    };
    let mut keep = Vec::with_capacity(adopted.len());
    for a in adopted.drain(..) {
        match refuse(&a) {
            Some(rule) => skipped.push(LeftAlone {
                email: a.email().clone(),
                kind: a.kind(),
                why: Why::Policy(rule),
            }),
            None => keep.push(a),
        }
    }
    *adopted = keep;
    let Some(max) = policy.max_admins() else {
        return;
    };
    let grants = |a: &Adoption| {
        matches!(
            a,
            Adoption::Add {
                role: Role::Admin,
                ..
            } | Adoption::Role {
                to: Role::Admin,
                ..
            }
        )
    };
    let changed: HashMap<&Email, &Adoption> = adopted.iter().map(|a| (a.email(), a)).collect();
    let listed_admins = desired
        .members
        .iter()
        .filter(|m| !m.is_expired(today))
        .filter(|m| match changed.get(&m.email) {
            Some(Adoption::Role { to, .. }) => *to == Role::Admin,
            Some(Adoption::Delete { .. }) => false,
            _ => m.role == Role::Admin,
        })
        .count();
    let added_admins = adopted
        .iter()
        .filter(|a| {
            matches!(
                a,
                Adoption::Add {
                    role: Role::Admin,
                    ..
                }
            )
        })
        .count();
    if (listed_admins + added_admins) as u64 <= max {
        return;
    }
    adopted.retain(|a| {
        if grants(a) {
            skipped.push(LeftAlone {
                email: a.email().clone(),
                kind: a.kind(),
                why: Why::Policy(Rule::MaxAdmins(max)),
            });
        }
        !grants(a)
    });
}

/// No change may leave the file without a current admin: if `adopted` would, every change in
/// it that takes an admin away is left alone (moved to `skipped`).
fn keep_an_admin(
    desired: &Desired,
    today: Date,
    adopted: &mut Vec<Adoption>,
    skipped: &mut Vec<LeftAlone>,
) {
    let by_email: HashMap<&Email, &Adoption> = adopted.iter().map(|a| (a.email(), a)).collect();
    let admin_after = desired.members.iter().any(|m| {
        !m.is_expired(today)
            && match by_email.get(&m.email) {
                Some(Adoption::Role { to, .. }) => *to == Role::Admin,
                Some(Adoption::Delete { .. }) => false,
                _ => m.role == Role::Admin,
            }
    }) || adopted.iter().any(|a| {
        matches!(
            a,
            Adoption::Add {
                role: Role::Admin,
                ..
            }
        )
    });
    if !admin_after {
        adopted.retain(|a| {
            let takes_admin = matches!(
                a,
                Adoption::Role {
                    from: Role::Admin,
                    ..
                } | Adoption::Delete {
                    role: Role::Admin,
                    ..
                }
            );
            if takes_admin {
                skipped.push(LeftAlone {
                    email: a.email().clone(),
                    kind: a.kind(),
                    why: Why::LastAdmin,
                });
            }
            !takes_admin
        });
    }
}

#[cfg(test)]
mod tests;
