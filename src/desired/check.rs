//! The validation rules of the file (docs/contract.md §3): the top-level fields of each part and
//! the policy fields merged across parts (docs/contract.md §10), each member, and the checks
//! across members (duplicates, contradictions, the admin). Every problem is collected; none
//! stops the others.

use super::blocks::{validate_invitations, validate_org, validate_policy, validate_safety};
use super::fields::{Fields, domain_allowed, domain_pattern, fields, string_list};
use super::policy;
use super::strings::{decomposed, invisible_loc, line_at};
use super::{Desired, DesiredMember, MEMBER_FIELDS, TOP_FIELDS, VERSION};
use crate::date::Date;
use crate::email::{self, Email};
use crate::glob::Glob;
use crate::role::Role;
use crate::words::one_or_many;
use crate::yaml::{Diagnostic, Loc, Node, Value};
use std::collections::HashMap;

/// Top-level fields that one part only may set (docs/contract.md §10).
const SINGLE_PART_FIELDS: &[&str] = &["safety", "invitations", "policy", "org"];

/// Validation in progress: every problem is collected, none stops it.
pub(super) struct Check<'a> {
    today: Date,
    pub(super) errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// Each part's name, for messages that point from one part into another.
    names: Vec<&'a str>,
    /// Each part's text, for positions inside a string (an invisible character in an email).
    texts: Vec<&'a str>,
    directory: bool,
}

/// Where the file writes its `ignore` patterns and `protected` emails, for later checks.
#[derive(Default)]
struct PolicyLocs {
    ignore: Vec<Loc>,
    protected: Vec<Loc>,
}

impl<'a> Check<'a> {
    pub(super) fn new(today: Date, parts: &[super::PartText<'a>], directory: bool) -> Check<'a> {
        Check {
            today,
            errors: Vec::new(),
            warnings: Vec::new(),
            names: parts.iter().map(|p| p.name).collect(),
            texts: parts.iter().map(|p| p.text).collect(),
            directory,
        }
    }

    /// The errors and warnings found.
    pub(super) fn into_diagnostics(self) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
        (self.errors, self.warnings)
    }
}

impl Check<'_> {
    /// `version` is the integer 1 written as `1`: `0x1`, `0o1` or `+1` read as 1 in YAML, but
    /// a file that says `version: 0x1` is not one this teamsync was written for.
    pub(super) fn version_as_written(&mut self, root: &Node<'_>, text: &str) {
        let Value::Map(entries) = &root.value else {
            return;
        };
        let version = entries
            .iter()
            .find(|(k, _)| k.as_str() == Some("version"))
            .map(|(_, v)| v);
        let Some(v) = version.filter(|v| v.value == Value::Int(VERSION as i128)) else {
            return;
        };
        // Columns on the first line do not count a byte-order mark (docs/contract.md §3: a BOM
        // changes no check).
        let written: String = line_at(text, v.loc.line)
            .chars()
            .skip((v.loc.column as usize).saturating_sub(1))
            .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '}' | ']' | '#'))
            .collect();
        // An alias (`version: *v`) is where its anchor is written; only check plain text.
        if !written.is_empty() && !written.starts_with('*') && written != "1" {
            self.errors.push(Diagnostic::at(
                v.loc,
                format!("unsupported version `{written}`; this teamsync reads `version: {VERSION}`, written as the integer 1"),
            ));
        }
    }

    /// Where `loc` is, seen from a message at `from`: `line N` in the same part, else
    /// `PART:LINE:COL`.
    fn place(&self, loc: Loc, from: Loc) -> String {
        if loc.part == from.part {
            format!("line {}", loc.line)
        } else {
            let name = self.names.get(loc.part as usize).copied().unwrap_or("");
            format!("{name}:{}:{}", loc.line, loc.column)
        }
    }

    /// Every part: each one's top-level fields and policy fields, then the members of all, then
    /// the checks across members. `all_parsed` is false when a part could not be parsed (then
    /// whether there is an admin, or a protected email is listed, cannot be told).
    pub(super) fn parts(&mut self, roots: &[Node<'_>], all_parsed: bool) -> Desired {
        let mut desired = Desired::new(Vec::new());
        let mut locs = PolicyLocs::default();
        let mut set_in: HashMap<&str, Loc> = HashMap::new();
        let mut lists = Vec::new();
        for root in roots {
            let Some(top) = self.top(root) else {
                continue;
            };
            for field in SINGLE_PART_FIELDS {
                let Some(node) = top.get(field) else {
                    continue;
                };
                match set_in.get(field) {
                    Some(first) => {
                        let first = self.place(*first, node.loc);
                        self.errors.push(Diagnostic::at(
                            node.loc,
                            format!("`{field}` is already set at {first}; it may appear in one part only"),
                        ));
                    }
                    None => {
                        set_in.insert(field, node.loc);
                    }
                }
            }
            let part_locs = self.policies(&top, &mut desired);
            locs.ignore.extend(part_locs.ignore);
            locs.protected.extend(part_locs.protected);
            match top.get("members") {
                Some(node) => lists.push(node),
                None if self.directory => {}
                None => self.errors.push(Diagnostic::at(
                    root.loc,
                    "missing required field `members` (a list of `email` and `role`)",
                )),
            }
        }
        if self.directory && all_parsed && lists.is_empty() {
            self.errors.push(Diagnostic::at(
                Loc::start(0),
                "no part has a `members` list; at least one must list the members (`email` and `role`)",
            ));
        }
        let mut entries = Vec::new();
        let mut all_lists = all_parsed;
        for node in &lists {
            if !self.members(node, &mut desired, &mut entries) {
                all_lists = false;
            }
        }
        self.duplicates(&entries, &desired.members);
        if all_parsed {
            self.contradictions(&desired, &entries, &locs);
        }
        if let (true, Some(first)) = (all_lists, lists.first()) {
            self.admin_present(&entries, first.loc);
        }
        // The file's own rules (docs/contract.md §3), on the entries that are valid.
        let violations =
            policy::violations(&desired, self.today, |loc, from| self.place(loc, from));
        self.errors.extend(violations);
        desired
    }

    /// One part's top-level fields, with `version` checked; `None` when the part is empty or
    /// not a mapping.
    fn top<'n, 'a>(&mut self, root: &'n Node<'a>) -> Option<Fields<'n, 'a>> {
        if matches!(root.value, Value::Null) {
            self.errors.push(Diagnostic::at(
                root.loc,
                if self.directory {
                    "the part is empty; each part needs `version: 1`"
                } else {
                    "the file is empty; it needs `version: 1` and a `members` list"
                },
            ));
            return None;
        }
        let top = fields(root, "the file", TOP_FIELDS, &mut self.errors);
        if !matches!(root.value, Value::Map(_)) {
            return None;
        }
        match top.get("version") {
            None => self.errors.push(Diagnostic::at(
                root.loc,
                "missing required field `version` (use `version: 1`)",
            )),
            Some(v) => match v.value {
                // Written other than `1` (`0x1`): see `version_as_written`.
                Value::Int(n) if n == VERSION as i128 => {}
                _ => self.errors.push(Diagnostic::at(
                    v.loc,
                    format!("unsupported version; this teamsync reads `version: {VERSION}`"),
                )),
            },
        }
        Some(top)
    }

    /// `allowed_domains`, `ignore`, `protected` and `safety`, into `desired`.
    fn policies(&mut self, top: &Fields<'_, '_>, desired: &mut Desired) -> PolicyLocs {
        let errors = &mut self.errors;
        let texts = &self.texts;
        let mut locs = PolicyLocs::default();
        if let Some(node) = top.get("allowed_domains") {
            for (d, loc) in string_list(node, "allowed_domains", errors) {
                match domain_pattern(d) {
                    Ok(d) => desired.allowed_domains.push(d),
                    Err(why) => errors.push(Diagnostic::at(loc, why)),
                }
            }
        }
        if let Some(node) = top.get("ignore") {
            for (g, loc) in string_list(node, "ignore", errors) {
                if g.trim().is_empty() {
                    errors.push(Diagnostic::at(loc, "an `ignore` pattern is empty"));
                    continue;
                }
                desired.ignore.push(Glob::new(g));
                locs.ignore.push(loc);
            }
        }
        if let Some(node) = top.get("protected") {
            for (p, loc) in string_list(node, "protected", errors) {
                // Exact emails only (docs/contract.md §3): a pattern here would be a guard
                // whose reach nobody reviews; `ignore` is where patterns go.
                if p.contains(['*', '?']) {
                    errors.push(Diagnostic::at(
                        loc,
                        format!(
                            "protected: `{}` contains `*` or `?`; `protected` takes exact emails, not patterns: list each protected email (a pattern that teamsync should never touch belongs in `ignore`)",
                            p.trim()
                        ),
                    ));
                    continue;
                }
                if let Some(why) = decomposed(p) {
                    errors.push(Diagnostic::at(loc, format!("protected: {why}")));
                    continue;
                }
                if let Err(why) = email::check(p) {
                    let loc = invisible_loc(texts, loc, p);
                    errors.push(Diagnostic::at(loc, format!("protected: {why}")));
                    continue;
                }
                desired.protected.push(Email::new(p));
                locs.protected.push(loc);
            }
        }
        if let Some(node) = top.get("safety") {
            if !matches!(node.value, Value::Null) {
                desired.safety = validate_safety(node, errors);
            }
        }
        if let Some(node) = top.get("invitations") {
            if !matches!(node.value, Value::Null) {
                desired.invitations = validate_invitations(node, errors);
            }
        }
        if let Some(node) = top.get("policy") {
            if !matches!(node.value, Value::Null) {
                desired.policy = validate_policy(node, errors);
            }
        }
        if let Some(node) = top.get("org") {
            match validate_org(node) {
                Ok(org) => desired.org = Some(org),
                Err(why) => errors.push(Diagnostic::at(node.loc, why)),
            }
        }
        locs
    }

    /// Every entry of `members` into `entries`, with whatever could be read of it even when it
    /// has errors; false when `members` is not a list. Entries without errors go into
    /// `desired`.
    fn members(
        &mut self,
        node: &Node<'_>,
        desired: &mut Desired,
        entries: &mut Vec<Entry>,
    ) -> bool {
        match &node.value {
            Value::Seq(items) => {
                entries.reserve(items.len());
                desired.members.reserve(items.len());
                for item in items {
                    let (mut entry, member) =
                        validate_member(item, desired, &self.texts, &mut self.errors);
                    if let Some(m) = member {
                        // Fewer than u32::MAX: the parser's node limit is far lower.
                        entry.member = u32::try_from(desired.members.len()).ok();
                        desired.members.push(m);
                    }
                    entries.push(entry);
                }
                true
            }
            Value::Null => true,
            _ => {
                self.errors.push(Diagnostic::at(
                    node.loc,
                    format!("`members` must be a list, found {}", node.kind()),
                ));
                false
            }
        }
    }

    /// Duplicates, case-insensitively, naming both lines: among every entry whose email is
    /// valid, even when the entry has other problems, so that all are reported at once.
    fn duplicates(&mut self, entries: &[Entry], members: &[DesiredMember]) {
        // foldhash: several times faster than SipHash on 100,000 emails, and seeded per process,
        // so a file cannot be written to collide (docs/performance.md).
        let mut first_seen: HashMap<&Email, Loc, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(
                entries.len(),
                foldhash::fast::RandomState::default(),
            );
        for (email, loc) in listed(entries, members) {
            if let Some(first) = first_seen.get(email) {
                let first = self.place(*first, loc);
                self.errors.push(Diagnostic::at(
                    loc,
                    format!(
                        "duplicate email `{email}`: already listed at {first} (emails are compared case-insensitively)"
                    ),
                ));
            } else {
                first_seen.insert(email, loc);
            }
        }
    }

    /// An `ignore` pattern that matches a listed member contradicts it; a `protected` email
    /// that is not listed is kept but not managed. Every entry with a valid email counts, also
    /// one with other problems: validation reports every problem of an entry at once
    /// (docs/contract.md §3), so a domain outside `allowed_domains` does not hide that an
    /// `ignore` pattern matches the same entry.
    fn contradictions(&mut self, desired: &Desired, entries: &[Entry], locs: &PolicyLocs) {
        // Walked once per pattern and per protected email rather than collected: a list of
        // 100,000 would be memory touched for nothing (docs/performance.md).
        for (g, loc) in desired.ignore.iter().zip(&locs.ignore) {
            for (email, at) in listed(entries, &desired.members).filter(|(e, _)| g.matches(e)) {
                self.errors.push(Diagnostic::at(
                    *loc,
                    format!(
                        "ignore pattern `{}` matches `{}` listed at {}: teamsync cannot both manage and ignore it",
                        g.as_str(),
                        email,
                        self.place(at, *loc)
                    ),
                ));
            }
        }
        for (p, loc) in desired.protected.iter().zip(&locs.protected) {
            if !listed(entries, &desired.members).any(|(e, _)| e == p) {
                self.warnings.push(Diagnostic::at(
                    *loc,
                    format!("protected email `{p}` is not listed in `members`: teamsync will not remove it, but it is not managed either"),
                ));
            }
        }
    }

    /// At least one admin that has not expired. Checked even when there are other problems,
    /// unless an entry's role is missing or invalid (or the entry is not a mapping): then
    /// whether there is an admin cannot be told.
    fn admin_present(&mut self, entries: &[Entry], members: Loc) {
        if entries.iter().any(|e| e.role.is_none()) {
            return;
        }
        let admins = entries.iter().filter(|e| e.role == Some(Role::Admin));
        let (mut listed, mut current) = (0usize, 0usize);
        for e in admins {
            listed += 1;
            if e.expires.is_none_or(|d| self.today <= d) {
                current += 1;
            }
        }
        if listed == 0 {
            self.errors.push(Diagnostic::at(
                members,
                "no member has role `org:admin`; the API requires at least one admin",
            ));
        } else if current == 0 {
            self.errors.push(Diagnostic::at(
                members,
                format!(
                    "no member has role `org:admin` that has not expired; the API requires at least one admin (the {} listed {} past {} `expires` date)",
                    if listed == 1 { "admin".to_string() } else { format!("{listed} admins") },
                    one_or_many(listed, "is", "are"),
                    one_or_many(listed, "its", "their")
                ),
            ));
        }
    }
}

/// A member's required field, or an error at the member naming it (`hint` follows its name).
fn required<'n, 'a>(
    fields: &Fields<'n, 'a>,
    member: &Node<'_>,
    name: &str,
    hint: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<&'n Node<'a>> {
    let found = fields.get(name);
    if found.is_none() {
        errors.push(Diagnostic::at(
            member.loc,
            format!("member is missing required field `{name}`{hint}"),
        ));
    }
    found
}

/// Every entry's email whose syntax is valid, with where it is written: its member's when the
/// entry has no error, else the one kept in the entry.
fn listed<'e>(
    entries: &'e [Entry],
    members: &'e [DesiredMember],
) -> impl Iterator<Item = (&'e Email, Loc)> + 'e {
    entries.iter().filter_map(|e| match (e.member, &e.email) {
        (Some(i), _) => members.get(i as usize).map(|m| (&m.email, m.loc)),
        (None, Some(kept)) => Some((&kept.0, kept.1)),
        (None, None) => None,
    })
}

/// What could be read of one entry of `members`, even when it has errors. Small (40 bytes):
/// there is one per member, 100,000 of them, and an entry with an error is rare, so its email
/// is boxed (docs/performance.md).
struct Entry {
    /// The normalized email and where it is written, when its syntax is valid and the entry
    /// has errors (else the email is its member's).
    email: Option<Box<(Email, Loc)>>,
    /// The index in `Desired::members` of the member the entry became, when it has no error.
    member: Option<u32>,
    /// The role, unless it is missing or invalid (or the entry is not a mapping).
    role: Option<Role>,
    /// The expiry date, when one is given and valid.
    expires: Option<Date>,
}

// One per member: kept small (see above).
const _: () = assert!(std::mem::size_of::<Entry>() <= 40);

fn validate_member(
    item: &Node<'_>,
    desired: &Desired,
    texts: &[&str],
    errors: &mut Vec<Diagnostic>,
) -> (Entry, Option<DesiredMember>) {
    let before = errors.len();
    let f = fields(item, "a member", MEMBER_FIELDS, errors);
    if !matches!(item.value, Value::Map(_)) {
        let entry = Entry {
            email: None,
            member: None,
            role: None,
            expires: None,
        };
        return (entry, None);
    }
    let email_value = required(&f, item, "email", "", errors).and_then(|n| match n.as_str() {
        None => {
            errors.push(Diagnostic::at(
                n.loc,
                format!("`email` must be a string, found {}", n.kind()),
            ));
            None
        }
        Some(s) => match decomposed(s).map_or_else(|| email::check(s), Err) {
            Err(why) => {
                errors.push(Diagnostic::at(invisible_loc(texts, n.loc, s), why));
                None
            }
            Ok(()) => Some((Email::new(s), n.loc)),
        },
    });
    if let Some((e, loc)) = &email_value {
        if !desired.allowed_domains.is_empty() && !domain_allowed(&desired.allowed_domains, e) {
            errors.push(Diagnostic::at(
                *loc,
                format!(
                    "domain `{}` of `{e}` is not in allowed_domains ({}); is it a typo?",
                    e.domain(),
                    desired.allowed_domains.join(", ")
                ),
            ));
        }
    }
    let role = required(&f, item, "role", " (org:admin or org:member)", errors).and_then(|n| {
        let role = n.as_str().and_then(Role::parse);
        if role.is_none() {
            let shown = n
                .as_str()
                .map(|s| format!("`{s}`"))
                .unwrap_or_else(|| n.kind().to_string());
            errors.push(Diagnostic::at(
                n.loc,
                format!("unknown role {shown}; use `org:admin` or `org:member`"),
            ));
        }
        role
    });
    let reason = match f.get("reason") {
        None => None,
        Some(n) => match &n.value {
            Value::Str(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Value::Null => None,
            _ => {
                errors.push(Diagnostic::at(
                    n.loc,
                    format!("`reason` must be text, found {}", n.kind()),
                ));
                None
            }
        },
    };
    let expires = match f.get("expires") {
        None => None,
        Some(n) => match n.as_str().and_then(Date::parse) {
            Some(d) => Some((d, n.loc)),
            None => {
                errors.push(Diagnostic::at(
                    n.loc,
                    "`expires` must be a date written YYYY-MM-DD (kept through that day, UTC)",
                ));
                None
            }
        },
    };
    let mut entry = Entry {
        email: None,
        member: None,
        role,
        expires: expires.map(|(d, _)| d),
    };
    let (Some(role), false) = (role, errors.len() > before) else {
        entry.email = email_value.map(Box::new);
        return (entry, None);
    };
    let Some((email, email_loc)) = email_value else {
        return (entry, None);
    };
    let member = DesiredMember {
        email,
        role,
        reason,
        expires: expires.map(|(d, _)| d),
        loc: email_loc,
        lines: entry_lines(item, &f),
    };
    (entry, Some(member))
}

/// Where an entry is written: its first and last line and its role's line (for the history of
/// its lines, docs/contract.md §6).
fn entry_lines(item: &Node<'_>, f: &Fields<'_, '_>) -> super::EntryLines {
    let Value::Map(entries) = &item.value else {
        return super::EntryLines::default();
    };
    let lines = entries.iter().flat_map(|(k, v)| [k.loc.line, v.loc.line]);
    super::EntryLines {
        first: lines.clone().min().unwrap_or(item.loc.line),
        last: lines.max().unwrap_or(item.loc.line),
        role: f.get("role").map_or(0, |n| n.loc.line),
    }
}
