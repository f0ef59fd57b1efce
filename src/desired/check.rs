//! The validation rules of the file (docs/contract.md §3): the top-level fields of each part and
//! the policy fields merged across parts (docs/contract.md §10), each member, and the checks
//! across members (duplicates, contradictions, the admin). Every problem is collected; none
//! stops the others.

use super::policy;
use super::strings::{decomposed, invisible_loc, line_at};
use super::{
    Desired, DesiredMember, INVITATION_FIELDS, InvitationPolicy, MEMBER_FIELDS, MaxRemovals,
    POLICY_FIELDS, Policy, SAFETY_FIELDS, Safety, TOP_FIELDS, VERSION,
};
use crate::date::Date;
use crate::email::{self, Email};
use crate::glob::Glob;
use crate::role::Role;
use crate::words::one_or_many;
use crate::yaml::{Diagnostic, Loc, Node, Value};
use std::collections::HashMap;

/// Top-level fields that one part only may set (docs/contract.md §10).
const SINGLE_PART_FIELDS: &[&str] = &["safety", "invitations", "policy"];

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

/// A mapping's fields among `known` (at most [`Fields::MAX`]), by name. A slot per known field
/// rather than a hash map: there are a handful, and one such lookup is made for each of
/// 100,000 members (docs/performance.md).
pub(super) struct Fields<'n, 'a> {
    known: &'static [&'static str],
    slots: [Option<&'n Node<'a>>; Fields::MAX],
}

impl<'n, 'a> Fields<'n, 'a> {
    const MAX: usize = 8;

    pub(super) fn get(&self, name: &str) -> Option<&'n Node<'a>> {
        let i = self.known.iter().position(|k| *k == name)?;
        self.slots[i]
    }
}

pub(super) fn fields<'n, 'a>(
    node: &'n Node<'a>,
    what: &str,
    known: &'static [&'static str],
    errors: &mut Vec<Diagnostic>,
) -> Fields<'n, 'a> {
    debug_assert!(known.len() <= Fields::MAX);
    let mut out = Fields {
        known,
        slots: [None; Fields::MAX],
    };
    let Value::Map(entries) = &node.value else {
        errors.push(Diagnostic::at(
            node.loc,
            format!("{what} must be a mapping, found {}", node.kind()),
        ));
        return out;
    };
    for (k, v) in entries {
        let Some(key) = k.as_str() else {
            errors.push(Diagnostic::at(
                k.loc,
                format!("{what} has a key that is {}, not a field name", k.kind()),
            ));
            continue;
        };
        match known.iter().position(|f| *f == key) {
            None => errors.push(Diagnostic::at(
                k.loc,
                format!(
                    "unknown field `{key}` in {what}; expected one of: {}",
                    known.join(", ")
                ),
            )),
            Some(i) if out.slots[i].is_some() => errors.push(Diagnostic::at(
                k.loc,
                format!("field `{key}` appears twice in {what}"),
            )),
            Some(i) => out.slots[i] = Some(v),
        }
    }
    out
}

pub(super) fn string_list<'a>(
    node: &'a Node<'_>,
    what: &str,
    errors: &mut Vec<Diagnostic>,
) -> Vec<(&'a str, Loc)> {
    match &node.value {
        Value::Null => Vec::new(),
        Value::Seq(items) => items
            .iter()
            .filter_map(|item| match item.as_str() {
                Some(s) => Some((s, item.loc)),
                None => {
                    errors.push(Diagnostic::at(
                        item.loc,
                        format!(
                            "each entry of `{what}` must be a string, found {}",
                            item.kind()
                        ),
                    ));
                    None
                }
            })
            .collect(),
        _ => {
            errors.push(Diagnostic::at(
                node.loc,
                format!("`{what}` must be a list of strings, found {}", node.kind()),
            ));
            Vec::new()
        }
    }
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
            self.contradictions(&desired, &locs);
        }
        if let (true, Some(first)) = (all_lists, lists.first()) {
            self.admin_present(&entries, first.loc);
        }
        // The file's own rules (docs/contract.md §18), on the entries that are valid.
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
                        entry.member = Some(desired.members.len());
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
        let emails = entries.iter().filter_map(|e| match (e.member, &e.email) {
            (Some(i), _) => members.get(i).map(|m| (&m.email, &m.loc)),
            (None, Some((email, loc))) => Some((email, loc)),
            (None, None) => None,
        });
        for (email, loc) in emails {
            if let Some(first) = first_seen.get(email) {
                let first = self.place(*first, *loc);
                self.errors.push(Diagnostic::at(
                    *loc,
                    format!(
                        "duplicate email `{email}`: already listed at {first} (emails are compared case-insensitively)"
                    ),
                ));
            } else {
                first_seen.insert(email, *loc);
            }
        }
    }

    /// An `ignore` pattern that matches a listed member contradicts it; a `protected` email
    /// that is not listed is kept but not managed.
    fn contradictions(&mut self, desired: &Desired, locs: &PolicyLocs) {
        for (g, loc) in desired.ignore.iter().zip(&locs.ignore) {
            for m in desired.members.iter().filter(|m| g.matches(&m.email)) {
                self.errors.push(Diagnostic::at(
                    *loc,
                    format!(
                        "ignore pattern `{}` matches `{}` listed at {}: teamsync cannot both manage and ignore it",
                        g.as_str(),
                        m.email,
                        self.place(m.loc, *loc)
                    ),
                ));
            }
        }
        for (p, loc) in desired.protected.iter().zip(&locs.protected) {
            if !desired.members.iter().any(|m| &m.email == p) {
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

fn validate_safety(node: &Node<'_>, errors: &mut Vec<Diagnostic>) -> Safety {
    let f = fields(node, "`safety`", SAFETY_FIELDS, errors);
    let mut safety = Safety::default();
    if let Some(v) = f.get("max_removals") {
        let parsed = match &v.value {
            Value::Int(n) if *n >= 0 && *n <= u32::MAX as i128 => {
                Some(MaxRemovals::Count(*n as u64))
            }
            Value::Str(s) => s
                .trim()
                .strip_suffix('%')
                .and_then(|p| p.trim().parse::<u64>().ok())
                .filter(|p| *p <= 100)
                .map(MaxRemovals::Percent),
            _ => None,
        };
        match parsed {
            Some(m) => safety.max_removals = Some(m),
            None => errors.push(Diagnostic::at(
                v.loc,
                "`max_removals` must be a whole number (e.g. 5) or a percentage from 0% to 100% (e.g. \"10%\")",
            )),
        }
    }
    if let Some(v) = f.get("min_admins") {
        match v.value {
            Value::Int(n) if (0..=u32::MAX as i128).contains(&n) => safety.min_admins = n as u64,
            _ => errors.push(Diagnostic::at(
                v.loc,
                "`min_admins` must be a whole number, 0 or more",
            )),
        }
    }
    safety
}

/// The `invitations` block (docs/contract.md §3, §4): `resend_after_days`, a whole number of days,
/// 1 or more (0 would re-send every invitation on every apply).
fn validate_invitations(node: &Node<'_>, errors: &mut Vec<Diagnostic>) -> InvitationPolicy {
    let f = fields(node, "`invitations`", INVITATION_FIELDS, errors);
    let mut policy = InvitationPolicy::default();
    if let Some(v) = f.get("resend_after_days") {
        match v.value {
            Value::Int(n) if (1..=36_500).contains(&n) => {
                policy.resend_after_days = Some(n as u64);
            }
            _ => errors.push(Diagnostic::at(
                v.loc,
                "`resend_after_days` must be a whole number of days, from 1 to 36500",
            )),
        }
    }
    policy
}

/// A whole number of days (or a count) from `min` to [`policy::MAX_DAYS`].
fn whole_days(v: &Node<'_>, name: &str, min: i128, errors: &mut Vec<Diagnostic>) -> Option<u64> {
    match v.value {
        Value::Int(n) if (min..=policy::MAX_DAYS).contains(&n) => Some(n as u64),
        _ => {
            errors.push(Diagnostic::at(
                v.loc,
                format!(
                    "`policy.{name}` must be a whole number from {min} to {}",
                    policy::MAX_DAYS
                ),
            ));
            None
        }
    }
}

/// The `policy` block (docs/contract.md §3); unknown keys are errors, as in every other
/// mapping. Its rules are checked by [`policy::violations`] once every entry is read.
fn validate_policy(node: &Node<'_>, errors: &mut Vec<Diagnostic>) -> Policy {
    let f = fields(node, "`policy`", POLICY_FIELDS, errors);
    let mut policy = Policy::default();
    if let Some(v) = f.get("admins_need_reason") {
        match v.value {
            Value::Bool(b) => policy.admins_need_reason = b,
            _ => errors.push(Diagnostic::at(
                v.loc,
                "`policy.admins_need_reason` must be true or false",
            )),
        }
    }
    if let Some(v) = f.get("internal_domains") {
        for (d, loc) in string_list(v, "policy.internal_domains", errors) {
            match domain_pattern(d) {
                Ok(d) => policy.internal_domains.push(d),
                Err(why) => errors.push(Diagnostic::at(
                    loc,
                    format!("policy.internal_domains: {why}"),
                )),
            }
        }
    }
    if let Some(v) = f.get("external_max_days") {
        policy.external_max_days = whole_days(v, "external_max_days", 1, errors);
        if f.get("internal_domains").is_none() {
            errors.push(Diagnostic::at(
                v.loc,
                "`policy.external_max_days` applies to entries outside `policy.internal_domains`; set `internal_domains` too",
            ));
        }
    }
    if let Some(v) = f.get("max_admins") {
        policy.max_admins = whole_days(v, "max_admins", 1, errors).map(|n| (n, v.loc));
    }
    if let Some(v) = f.get("recertify_days") {
        policy.recertify_days = whole_days(v, "recertify_days", 1, errors);
    }
    policy
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

/// What could be read of one entry of `members`, even when it has errors.
struct Entry {
    /// The normalized email and where it is written, when its syntax is valid and the entry
    /// has errors (else the email is its member's).
    email: Option<(Email, Loc)>,
    /// The index in `Desired::members` of the member the entry became, when it has no error.
    member: Option<usize>,
    /// The role, unless it is missing or invalid (or the entry is not a mapping).
    role: Option<Role>,
    /// The expiry date, when one is given and valid.
    expires: Option<Date>,
}

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
        entry.email = email_value;
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
/// its lines, docs/contract.md §18).
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

/// A domain pattern as `allowed_domains` and `policy.internal_domains` take it: `example.com`,
/// or `*.example.com` for its subdomains; trimmed and lower-cased. The error says why not.
pub(super) fn domain_pattern(d: &str) -> Result<String, String> {
    let d = d.trim().to_lowercase();
    let bare = d.strip_prefix("*.").unwrap_or(&d);
    if bare.is_empty() || bare.contains('@') || bare.contains('*') || !bare.contains('.') {
        Err(format!(
            "`{d}` is not a domain; write `example.com`, or `*.example.com` for its subdomains"
        ))
    } else {
        Ok(d)
    }
}

/// Whether `email`'s domain is one of `allowed` (exact, or `*.d` for subdomains of `d`).
pub(crate) fn domain_allowed(allowed: &[String], email: &Email) -> bool {
    let domain = email.domain();
    allowed.iter().any(|a| match a.strip_prefix("*.") {
        Some(parent) => {
            domain.len() > parent.len() + 1
                && domain.ends_with(parent)
                && domain[..domain.len() - parent.len()].ends_with('.')
        }
        None => domain == a,
    })
}
