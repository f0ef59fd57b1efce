//! `teamsync export`: the live state as a valid desired-state file, members and pending
//! invitations sorted by email, so that `plan` on it is empty.
//!
//! Two things in a live org cannot be written as members, and are handled so the plan stays
//! empty or says exactly what it will do:
//! - members (or invitations) whose role teamsync does not know, say `org:billing`, or whose
//!   email teamsync would refuse in `members`: listed under `ignore` by their exact email, so
//!   they are never touched. An email containing `*` or `?` would be a wider glob, not that
//!   one address, and one holding a control character or a bidirectional override cannot be
//!   in the file at all: it is written as a comment only (escaped), and `plan` on the file
//!   removes it.
//! - redundant invitations (an invitation for someone who is already a member, or several
//!   pending invitations for one email): a file lists an email once, so `plan` on the file
//!   revokes the extra ones; a comment before `members:` says how many.
//!
//! Nothing from the API is written raw unless it is printable (docs/contract.md §6): emails are
//! double-quoted with every other character escaped, comments escape theirs
//! ([`crate::yaml::write`]), so the exported file always passes `validate`.

use crate::date::Date;
use crate::desired::{self, Desired, DesiredMember};
use crate::email::Email;
use crate::formats::schema::file_schema_url;
use crate::glob::Glob;
use crate::live::{LiveState, Managed};
use crate::plan::Change;
use crate::planner::{self, PlanOptions};
use crate::role::{LiveRole, Role};
use crate::words::{one_or_many, plural};
use crate::yaml::write::{comment, double_quoted};
use std::collections::BTreeMap;
use std::fmt::Write;

/// An exported file and what is in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Exported {
    /// The desired-state file.
    pub(crate) yaml: String,
    /// Entries written under `members` (members and pending invitations), comments not counted.
    pub(crate) entries: usize,
    /// Of `entries`, how many are pending invitations.
    pub(crate) invitations: usize,
    /// Emails written under `ignore` (roles teamsync does not manage, or emails it refuses).
    pub(crate) ignored: usize,
    /// Emails that could be neither managed nor ignored exactly (written as comments only):
    /// `plan` on the file removes or revokes them.
    pub(crate) unexpressible: usize,
    /// Redundant pending invitations that `plan` on the file revokes.
    pub(crate) redundant_invitations: usize,
}

/// What the file says about one email.
enum Entry {
    /// Under `members`, with this role; `pending` when only invited; `redundant` pending
    /// invitations that the plan revokes.
    Member {
        role: Role,
        pending: bool,
        redundant: usize,
    },
    /// Under `ignore`, with why.
    Ignored { why: String },
    /// A comment only: it can be neither managed nor ignored exactly.
    Comment { why: String },
}

/// Renders the org as a version-1 file, sorted by email. A member wins over an invitation for
/// the same email; of several pending invitations the first with a known role is kept. Entries
/// whose role teamsync does not know are listed under `ignore`. `org` is the managed view of
/// the whole org (no `ignore` yet: the export writes it).
/// What the file says about each email of the org, sorted by email.
fn roster(org: &Managed) -> Vec<(&Email, Entry)> {
    // Live entries by email, each list in the API's order.
    let mut by_email: BTreeMap<&Email, (Vec<&LiveRole>, Vec<&LiveRole>)> = BTreeMap::new();
    for m in &org.members {
        by_email.entry(&m.email).or_default().0.push(&m.role);
    }
    for i in &org.invitations {
        by_email.entry(&i.email).or_default().1.push(&i.role);
    }

    let mut roster: Vec<(&Email, Entry)> = Vec::with_capacity(by_email.len());
    for (email, (members, invitations)) in by_email {
        let unknown = |roles: &[&LiveRole]| {
            roles
                .iter()
                .find(|r| r.known().is_none())
                .map(|r| format!("role {:?} is not one teamsync manages", r.as_str()))
        };
        let (role, pending, why) = if members.is_empty() {
            // Only invited: the planner keeps the first invitation whose role is wanted.
            match invitations.iter().find_map(|r| r.known()) {
                Some(role) => (Some(role), true, None),
                None => (None, true, unknown(&invitations)),
            }
        } else {
            match unknown(&members) {
                Some(why) => (None, false, Some(why)),
                None => (members[0].known(), false, None),
            }
        };
        let why = why.or_else(|| {
            desired::refused_email(email.as_str())
                .map(|e| format!("teamsync refuses it in `members`: {e}"))
        });
        let entry = match (role, why) {
            (Some(role), None) => Entry::Member {
                role,
                pending,
                redundant: 0,
            },
            (_, why) => {
                let why = why.unwrap_or_default();
                // `ignore` takes it as written only if it is no wider glob and a string the
                // file may hold.
                if email.as_str().is_empty()
                    || email.as_str().contains(['*', '?'])
                    || desired::forbidden_in(email.as_str()).is_some()
                {
                    Entry::Comment { why }
                } else {
                    Entry::Ignored { why }
                }
            }
        };
        roster.push((email, entry));
    }

    roster
}

pub(crate) fn export(org: &Managed) -> Exported {
    let mut roster = roster(org);
    count_redundant(org, &mut roster);
    render(org, &roster)
}

/// `export --split-by domain` (docs/contract.md §10): one part per email domain, each a file
/// name (`example.com.yaml`) and its text, in name order. Each part holds its domain's members
/// and the `ignore` entries of its domain; together they load as the whole org, as [`export`]
/// does.
pub(crate) fn export_by_domain(org: &Managed) -> Vec<(String, Exported)> {
    let mut roster = roster(org);
    count_redundant(org, &mut roster);
    let mut parts: BTreeMap<String, Vec<(&Email, Entry)>> = BTreeMap::new();
    for (email, entry) in roster {
        parts
            .entry(part_file_name(email.domain()))
            .or_default()
            .push((email, entry));
    }
    parts
        .into_iter()
        .map(|(name, roster)| (name, render(org, &roster)))
        .collect()
}

/// A file name for a domain's part: the domain with anything but letters, digits, `.`, `-` and
/// `_` replaced by `_`, never hidden (a leading `.` would be skipped when loading), `.yaml`.
fn part_file_name(domain: &str) -> String {
    let mut name: String = domain
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    name.push_str(".yaml");
    name
}

/// Sets each member's count of redundant invitations, which `plan` on the file revokes.
fn count_redundant(org: &Managed, roster: &mut [(&Email, Entry)]) {
    // Which invitations `plan` on this file revokes is the planner's call: ask it, rather than
    // restate its rules here.
    let revoked = revocations(org, roster);
    for (email, entry) in roster.iter_mut() {
        if let Entry::Member { redundant: n, .. } = entry {
            *n = revoked.get(*email).copied().unwrap_or(0);
        }
    }
}

/// Writes `roster` as a version-1 file.
fn render(org: &Managed, roster: &[(&Email, Entry)]) -> Exported {
    let redundant: usize = roster
        .iter()
        .map(|(_, e)| match e {
            Entry::Member { redundant, .. } => *redundant,
            _ => 0,
        })
        .sum();
    let quote = double_quoted;
    let mut out = String::new();
    // The schema's published URL, its `$id` (docs/contract.md §11): the file is anywhere.
    out.push_str(&format!(
        "# yaml-language-server: $schema={}\n",
        file_schema_url()
    ));
    out.push_str("# Exported by `teamsync export` from the live org.\n");
    out.push_str("version: 1\n");

    let ignored: Vec<_> = roster
        .iter()
        .filter_map(|(e, x)| match x {
            Entry::Ignored { why } => Some((e, why)),
            _ => None,
        })
        .collect();
    if !ignored.is_empty() {
        out.push_str(
            "# Members teamsync cannot manage (a role it does not know, or an email it refuses):\n\
             # ignored by their exact email, so `plan` and `apply` never touch them.\n",
        );
        out.push_str("ignore:\n");
        for (email, why) in &ignored {
            let _ = writeln!(out, "  - {}  # {}", quote(email.as_str()), comment(why));
        }
    }

    let unexpressible = roster
        .iter()
        .filter(|(_, x)| matches!(x, Entry::Comment { .. }))
        .count();
    if unexpressible > 0 {
        let _ = writeln!(
            out,
            "# {unexpressible} entr{} below cannot be managed, and {} cannot be ignored exactly (`*` and `?`\n\
             # are glob characters in `ignore`, and no string of the file may hold a control character\n\
             # or a bidirectional override): `plan` on this file removes or revokes {}; add an `ignore`\n\
             # pattern by hand to keep {}.",
            one_or_many(unexpressible, "y", "ies"),
            one_or_many(unexpressible, "its email", "their emails"),
            one_or_many(unexpressible, "it", "them"),
            one_or_many(unexpressible, "it", "them"),
        );
    }
    if redundant > 0 {
        let _ = writeln!(
            out,
            "# `plan` on this file revokes {redundant} redundant invitation{}: for someone who is already a\n\
             # member, or a second pending invitation for one email (a file lists each email once).",
            plural(redundant)
        );
    }
    // A part with no entry, only comments (every address of its domain ignored), is an empty
    // list, not `members:` with nothing under it: that is null, which the schema refuses
    // (docs/contract.md §10).
    if roster
        .iter()
        .any(|(_, e)| matches!(e, Entry::Member { .. }))
    {
        out.push_str("members:\n");
    } else {
        out.push_str("members: []\n");
    }
    // When each email's first invitation with a known role (the one the file keeps) was sent.
    let mut sent: std::collections::HashMap<&Email, Option<Date>> =
        std::collections::HashMap::new();
    for i in org.invitations.iter().filter(|i| i.role.known().is_some()) {
        sent.entry(&i.email)
            .or_insert(i.created_at.as_ref().map(|at| at.date()));
    }
    let (mut entries, mut invitations) = (0usize, 0usize);
    for (email, entry) in roster {
        let quoted = quote(email.as_str());
        match entry {
            Entry::Member {
                role,
                pending,
                redundant,
            } => {
                let _ = write!(out, "  - email: {quoted}\n    role: {role}\n");
                entries += 1;
                if *pending {
                    // docs/lifecycle.md: the date, when the API gave one.
                    match sent.get(*email).copied().flatten() {
                        Some(d) => {
                            let _ = writeln!(out, "    # pending invitation, sent {d}");
                        }
                        None => out.push_str("    # pending invitation\n"),
                    }
                    invitations += 1;
                }
                if *redundant > 0 {
                    let _ = writeln!(
                        out,
                        "    # {redundant} redundant pending invitation{}: `plan` revokes {}",
                        plural(*redundant),
                        one_or_many(*redundant, "it", "them")
                    );
                }
            }
            Entry::Ignored { why } => {
                let _ = writeln!(out, "  # - email: {quoted}  ({}; ignored)", comment(why));
            }
            Entry::Comment { why } => {
                let _ = writeln!(
                    out,
                    "  # - email: {quoted}  ({}; cannot be ignored exactly: `plan` removes it)",
                    comment(why)
                );
            }
        }
    }
    Exported {
        yaml: out,
        entries,
        invitations,
        ignored: ignored.len(),
        unexpressible,
        redundant_invitations: redundant,
    }
}

/// Revocations the planner makes for each managed email when the exported file is planned
/// against the org it came from.
fn revocations<'a>(org: &Managed, roster: &[(&'a Email, Entry)]) -> BTreeMap<&'a Email, usize> {
    let mut desired = Desired::new(Vec::new());
    for (email, entry) in roster {
        match entry {
            Entry::Member { role, .. } => desired
                .members
                .push(DesiredMember::new(email.as_str(), *role)),
            Entry::Ignored { .. } => desired.ignore.push(Glob::new(email.as_str())),
            Entry::Comment { .. } => {}
        }
    }
    // Nothing in an export expires, so the date does not matter; the file's `ignore` entries
    // leave those emails out, as they would be in a run on the file.
    let managed = Managed::new(
        LiveState {
            members: org.members.clone(),
            invitations: org.invitations.clone(),
        },
        &desired.ignore,
    );
    let plan = planner::plan(&desired, &managed, &PlanOptions::new(Date::EPOCH));
    let mut out = BTreeMap::new();
    for (email, entry) in roster {
        if matches!(entry, Entry::Member { .. }) {
            let n = plan
                .changes
                .iter()
                .filter(|c| matches!(&c.change, Change::Revoke(r) if &r.email == *email))
                .count();
            out.insert(*email, n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{LiveInvitation, LiveMember};
    use crate::plan::Action;
    use crate::planner::{PlanOptions, plan_live as plan};

    fn export_live(live: &LiveState) -> Exported {
        export(&Managed::new(live.clone(), &[]))
    }

    fn today() -> Date {
        Date::parse("2027-03-31").unwrap()
    }

    fn member(id: &str, email: &str, role: &str) -> LiveMember {
        LiveMember::new(id, email, role)
    }

    fn invitation(id: &str, email: &str, role: &str) -> LiveInvitation {
        LiveInvitation::new(id, email, role)
    }

    fn org() -> LiveState {
        LiveState {
            members: vec![
                member("u_root", "Root@Example.com", "org:admin"),
                member("u_bob", "bob@example.com", "org:member"),
                member("u_bill", "Billing@Example.com", "org:billing"),
                member("u_dual", "dual@example.com", "org:member"),
            ],
            invitations: vec![
                invitation("i_carol", "carol@example.com", "org:admin"),
                invitation("i_dual", "Dual@example.com", "org:member"),
                invitation("i_twice1", "twice@example.com", "org:member"),
                invitation("i_twice2", "TWICE@example.com", "org:admin"),
            ],
        }
    }

    #[test]
    fn plan_on_the_export_only_revokes_the_redundant_invitations() {
        let live = org();
        let exported = export_live(&live);
        let text = &exported.yaml;
        let loaded = crate::desired::validate(text, today());
        let desired = loaded.desired.unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert!(
            desired.is_ignored(&Email::new("billing@example.com")),
            "{text}"
        );
        assert_eq!(desired.ignore.len(), 1, "{text}");
        let p = plan(&desired, &live, &PlanOptions::new(today()));
        let changes: Vec<_> = p
            .changes
            .iter()
            .map(|c| (c.change.action(), c.change.email().as_str(), c.change.id()))
            .collect();
        assert_eq!(
            changes,
            vec![
                (Action::Revoke, "dual@example.com", Some("i_dual")),
                (Action::Revoke, "twice@example.com", Some("i_twice2")),
            ],
            "{text}"
        );
        assert!(p.blocked.is_empty(), "{:?}", p.blocked);
        assert_eq!(p.summary.ignored, 1, "the org:billing member is left alone");
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(exported.redundant_invitations, 2);
        assert!(
            text.contains("# `plan` on this file revokes 2 redundant invitations"),
            "{text}"
        );
        let comment_at = text.find("redundant invitations").unwrap();
        assert!(comment_at < text.find("\nmembers:").unwrap(), "{text}");
    }

    #[test]
    fn export_counts_entries_not_comment_lines() {
        let exported = export_live(&org());
        // root, bob, dual (members); carol, twice (invitations); billing is ignored.
        assert_eq!(exported.entries, 5, "{}", exported.yaml);
        assert_eq!(exported.invitations, 2);
        assert_eq!(exported.ignored, 1);
        assert_eq!(exported.unexpressible, 0);
        assert_eq!(
            exported
                .yaml
                .lines()
                .filter(|l| l.starts_with("  - email: "))
                .count(),
            exported.entries
        );
    }

    #[test]
    fn a_plain_org_exports_without_extra_comments() {
        let live = LiveState {
            members: vec![member("u1", "root@example.com", "org:admin")],
            invitations: vec![invitation("i1", "new@example.com", "org:member")],
        };
        let e = export_live(&live);
        let modeline = format!("# yaml-language-server: $schema={}\n", file_schema_url());
        assert_eq!(
            e.yaml.strip_prefix(&modeline),
            Some(
                "# Exported by `teamsync export` from the live org.\n\
                 version: 1\n\
                 members:\n  \
                 - email: \"new@example.com\"\n    role: org:member\n    # pending invitation\n  \
                 - email: \"root@example.com\"\n    role: org:admin\n"
            )
        );
        assert_eq!((e.redundant_invitations, e.ignored), (0, 0));
    }

    mod hostile {
        //! Random hostile emails and roles from the API (control, bidirectional and invisible
        //! characters, quotes, glob characters, YAML indicators): the export writes nothing
        //! raw that is not printable, it passes `validate`, and `plan` on it changes only what
        //! its comments say it removes (and redundant invitations).
        use super::*;
        use crate::plan::{Change, Revoke, RevokeCause};
        use proptest::prelude::*;

        const PIECES: &[&str] = &[
            "a",
            "b",
            "Z",
            "é",
            ".",
            "+",
            "-",
            "*",
            "?",
            "\"",
            "\\",
            "'",
            "#",
            ":",
            " ",
            "{",
            "[",
            "&",
            "!",
            "|",
            ">",
            "%",
            "\n",
            "\r",
            "\t",
            "\u{1b}",
            "\u{7}",
            "\u{7f}",
            "\u{85}",
            "\u{9b}",
            "\u{a0}",
            "\u{ad}",
            "\u{200b}",
            "\u{200e}",
            "\u{202e}",
            "\u{2066}",
            "\u{2028}",
            "\u{3164}",
            "\u{feff}",
            "e\u{301}",
            "\u{e0041}",
            "\u{fffe}",
        ];

        fn hostile(min: usize) -> impl Strategy<Value = String> {
            prop::collection::vec(prop::sample::select(PIECES), min..6).prop_map(|p| p.concat())
        }

        fn email() -> impl Strategy<Value = String> {
            (
                hostile(1),
                prop::sample::select(&["example.com", "x.io", "ex\u{1b}ample.com", "X.IO"][..]),
            )
                .prop_map(|(local, domain)| format!("{local}@{domain}"))
        }

        fn role() -> impl Strategy<Value = String> {
            prop_oneof![
                3 => Just("org:member".to_string()),
                2 => Just("org:admin".to_string()),
                1 => Just("org:billing".to_string()),
                2 => hostile(0).prop_map(|r| format!("org:{r}")),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]
            #[test]
            fn the_export_of_hostile_strings_validates_and_plans_only_what_it_says(
                members in prop::collection::vec((email(), role()), 0..8),
                invited in prop::collection::vec((email(), role()), 0..5),
            ) {
                // One account per email (two are not the export's to settle), and an admin:
                // the API requires one.
                let mut seen = std::collections::HashSet::new();
                let mut live = LiveState {
                    members: vec![member("u_root", "root@example.com", "org:admin")],
                    invitations: Vec::new(),
                };
                seen.insert(Email::new("root@example.com"));
                for (n, (e, r)) in members.iter().enumerate() {
                    if seen.insert(Email::new(e)) {
                        live.members.push(member(&format!("u{n}"), e, r));
                    }
                }
                for (n, (e, r)) in invited.iter().enumerate() {
                    live.invitations.push(invitation(&format!("i{n}"), e, r));
                }
                let exported = export_live(&live);
                let text = &exported.yaml;
                for c in text.chars() {
                    prop_assert!(
                        c == '\n' || crate::yaml::write::printable(c),
                        "U+{:04X} written raw:\n{}", c as u32, text
                    );
                }
                let desired = match crate::desired::validate(text, today()).desired {
                    Ok(d) => d,
                    Err(e) => return Err(TestCaseError::fail(format!("{e:?}\n{text}"))),
                };
                let org = Managed::new(live.clone(), &[]);
                let unexpressible: Vec<&Email> = roster(&org)
                    .into_iter()
                    .filter(|(_, e)| matches!(e, Entry::Comment { .. }))
                    .map(|(email, _)| email)
                    .collect();
                prop_assert_eq!(unexpressible.len(), exported.unexpressible);
                let p = plan(&desired, &live, &PlanOptions::new(today()));
                for c in &p.changes {
                    let redundant = matches!(
                        &c.change,
                        Change::Revoke(Revoke {
                            cause: RevokeCause::Duplicate { .. } | RevokeCause::AlreadyMember,
                            ..
                        })
                    );
                    prop_assert!(
                        redundant || unexpressible.contains(&c.change.email()),
                        "{:?} planned on the export:\n{}", c, text
                    );
                }
                prop_assert!(p.blocked.is_empty(), "{:?}", p.blocked);
            }
        }
    }

    #[test]
    fn unknown_roles_with_glob_characters_are_comments_only() {
        let live = LiveState {
            members: vec![
                member("u1", "root@example.com", "org:admin"),
                member("u2", "star*@example.com", "org:billing"),
                member("u3", "ok@example.com", "org:billing"),
            ],
            invitations: vec![invitation("i1", "q?@example.com", "org:viewer")],
        };
        let e = export_live(&live);
        assert_eq!(
            (e.ignored, e.unexpressible, e.entries),
            (1, 2, 1),
            "{}",
            e.yaml
        );
        assert!(
            e.yaml.contains("# 2 entries below cannot be managed"),
            "{}",
            e.yaml
        );
        let d = crate::desired::validate(&e.yaml, today())
            .desired
            .unwrap_or_else(|err| panic!("{err:?}\n{}", e.yaml));
        assert_eq!(d.ignore.len(), 1);
        assert!(d.is_ignored(&Email::new("ok@example.com")));
        assert!(!d.is_ignored(&Email::new("star*@example.com")));
        // What the comment announces: those two are removed and revoked, nothing else.
        let p = plan(&d, &live, &PlanOptions::new(today()));
        let changes: Vec<_> = p
            .changes
            .iter()
            .map(|c| (c.change.action(), c.change.id()))
            .collect();
        assert_eq!(
            changes,
            vec![(Action::Remove, Some("u2")), (Action::Revoke, Some("i1"))]
        );
    }
}
