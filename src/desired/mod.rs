//! The desired-state file (docs/contract.md §3): the validated [`Desired`] state, and
//! [`load`], which validates the YAML tree of [`crate::yaml`] and reports every problem at once,
//! each at its line and column.

use crate::date::Date;
use crate::email::{self, Email};
use crate::glob::Glob;
use crate::role::Role;
use crate::yaml::{Diagnostic, Loc, Node, Value, parse_part};
use std::collections::HashMap;
use std::fmt;

/// The only file version this teamsync reads.
pub(crate) const VERSION: i64 = 1;
/// How many days ahead `validate` warns about entries that expire.
pub(crate) const EXPIRY_NOTICE_DAYS: i64 = 14;

pub(crate) const TOP_FIELDS: &[&str] = &[
    "version",
    "members",
    "allowed_domains",
    "ignore",
    "protected",
    "safety",
    "invitations",
];
pub(crate) const MEMBER_FIELDS: &[&str] = &["email", "role", "reason", "expires"];
pub(crate) const SAFETY_FIELDS: &[&str] = &["max_removals", "min_admins"];
pub(crate) const INVITATION_FIELDS: &[&str] = &["resend_after_days"];

/// A validated desired state.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Desired {
    pub(crate) members: Vec<DesiredMember>,
    pub(crate) allowed_domains: Vec<String>,
    pub(crate) ignore: Vec<Glob>,
    pub(crate) protected: Vec<Email>,
    pub(crate) safety: Safety,
    pub(crate) invitations: InvitationPolicy,
    /// The parts' names, in `Loc::part` order, when the desired state is a directory
    /// (docs/contract.md §10); empty for one file.
    pub(crate) parts: Vec<String>,
}

/// The `invitations` block (docs/contract.md §9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct InvitationPolicy {
    /// Re-send (revoke, then invite again) a pending invitation older than this many days.
    pub(crate) resend_after_days: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DesiredMember {
    pub(crate) email: Email,
    pub(crate) role: Role,
    pub(crate) reason: Option<String>,
    pub(crate) expires: Option<Date>,
    /// Where the entry's email is written in the file (0:0 when built in code).
    pub(crate) loc: Loc,
}

impl DesiredMember {
    pub(crate) fn new(email: &str, role: Role) -> DesiredMember {
        DesiredMember {
            email: Email::new(email),
            role,
            reason: None,
            expires: None,
            loc: Loc::default(),
        }
    }

    /// Whether the entry's `expires` date has passed: from the day after it, the member is not
    /// desired.
    pub(crate) fn is_expired(&self, today: Date) -> bool {
        matches!(self.expires, Some(d) if today > d)
    }
}

/// The `safety` block: limits apply refuses to cross.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Safety {
    /// Replaces the default removal limit, max(3, 25 % of current members).
    pub(crate) max_removals: Option<MaxRemovals>,
    pub(crate) min_admins: u64,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            max_removals: None,
            min_admins: 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MaxRemovals {
    Count(u64),
    Percent(u64),
}

impl fmt::Display for MaxRemovals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxRemovals::Count(n) => write!(f, "{n}"),
            MaxRemovals::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl Desired {
    pub(crate) fn new(members: Vec<DesiredMember>) -> Desired {
        Desired {
            members,
            allowed_domains: Vec::new(),
            ignore: Vec::new(),
            protected: Vec::new(),
            safety: Safety::default(),
            invitations: InvitationPolicy::default(),
            parts: Vec::new(),
        }
    }

    /// A member's reason as a plan shows it: from a directory, with the part that lists the
    /// member (docs/contract.md §10), so that a reviewer knows whose file a change comes from.
    /// Made for the changes planned only, not for every member loaded.
    pub(crate) fn reason_of(&self, m: &DesiredMember) -> Option<String> {
        let Some(part) = self.parts.get(m.loc.part as usize) else {
            return m.reason.clone();
        };
        Some(match &m.reason {
            Some(r) => format!("{r} (in {part})"),
            None => format!("in {part}"),
        })
    }

    #[cfg(test)]
    pub(crate) fn is_ignored(&self, email: &Email) -> bool {
        self.ignore.iter().any(|g| g.matches(email))
    }

    pub(crate) fn is_protected(&self, email: &Email) -> bool {
        self.protected.contains(email)
    }
}

/// What loading a file produced: the desired state when there were no errors, and warnings
/// either way.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) desired: Result<Desired, Vec<Diagnostic>>,
    pub(crate) warnings: Vec<Diagnostic>,
}

/// The error for a part whose bytes are not UTF-8, at the first bad byte (docs/contract.md §3:
/// bytes that are not UTF-8 are an error at their position, never replaced silently).
pub(crate) fn not_utf8(bytes: &[u8], part: u32) -> Option<Diagnostic> {
    let e = std::str::from_utf8(bytes).err()?;
    let good = &bytes[..e.valid_up_to()];
    let line = good.iter().filter(|b| **b == b'\n').count() + 1;
    let start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    // Columns count characters, as everywhere else.
    let column = String::from_utf8_lossy(&good[start..]).chars().count() + 1;
    Some(Diagnostic::at(
        Loc {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            part,
        },
        format!(
            "the file is not valid UTF-8 (byte 0x{:02x} at byte offset {}); save it as UTF-8",
            bytes[e.valid_up_to()],
            e.valid_up_to()
        ),
    ))
}

/// One part of the desired state to load: its text and how messages name it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PartText<'a> {
    pub(crate) name: &'a str,
    pub(crate) text: &'a str,
}

/// Loads and validates a desired-state file's text. `today` decides expiry warnings.
pub(crate) fn load(text: &str, today: Date) -> Loaded {
    load_parts(&[PartText { name: "", text }], false, today)
}

/// Loads and validates the parts of one desired state (docs/contract.md §10), in path order:
/// each is parsed and its top-level fields checked; the policy fields of every part are merged
/// before any member is checked (a domain allowed in one part allows it in all); then the
/// members of every part, and the checks across members (duplicates, contradictions, the
/// admin), as for one file. Every diagnostic names its part (`Diagnostic::part`). `directory`
/// says whether the parts come from `-f DIR`: then a part need not list `members`, and the
/// desired state keeps the parts' names, so that plan reasons name them
/// ([`Desired::reason_of`]). Parts are parsed on every core ([`load_parts_on`]).
pub(crate) fn load_parts(parts: &[PartText], directory: bool, today: Date) -> Loaded {
    load_parts_on(parts, directory, today, cores())
}

/// The cores this process may use.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// [`load_parts`] with the parts parsed on at most `threads` threads (at least one): a load
/// that runs beside the org's list read leaves that read a core.
pub(crate) fn load_parts_on(
    parts: &[PartText],
    directory: bool,
    today: Date,
    threads: usize,
) -> Loaded {
    let mut check = Check {
        today,
        errors: Vec::new(),
        warnings: Vec::new(),
        names: parts.iter().map(|p| p.name).collect(),
        directory,
    };
    let mut roots = Vec::with_capacity(parts.len());
    let mut texts = Vec::with_capacity(parts.len());
    for (parsed, part) in parse_all(parts, threads).into_iter().zip(parts) {
        match parsed {
            Ok(root) => {
                roots.push(root);
                texts.push(part.text);
            }
            Err(d) => check.errors.push(d),
        }
    }
    let all_parsed = roots.len() == parts.len();
    let mut desired = check.parts(&roots, all_parsed);
    for (root, text) in roots.iter().zip(&texts) {
        check.control_characters(root);
        check.version_as_written(root, text);
    }
    drop(roots);
    if directory {
        desired.parts = parts.iter().map(|p| p.name.to_string()).collect();
    }
    let Check {
        mut errors,
        mut warnings,
        ..
    } = check;
    errors.sort();
    warnings.sort();
    Loaded {
        desired: if errors.is_empty() {
            Ok(desired)
        } else {
            Err(errors)
        },
        warnings,
    }
}

/// Parses every part, in order; parts are independent, so several are parsed at once, on up to
/// `threads` threads (a directory of 100 parts loads no slower than the same org in one file).
fn parse_all<'t>(parts: &[PartText<'t>], threads: usize) -> Vec<Result<Node<'t>, Diagnostic>> {
    let parse = |offset: usize, chunk: &[PartText<'t>]| -> Vec<Result<Node<'t>, Diagnostic>> {
        chunk
            .iter()
            .enumerate()
            .map(|(i, p)| parse_part(p.text, u32::try_from(offset + i).unwrap_or(u32::MAX)))
            .collect()
    };
    let workers = threads.min(parts.len()).min(8);
    if workers <= 1 {
        return parse(0, parts);
    }
    let size = parts.len().div_ceil(workers);
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .chunks(size)
            .enumerate()
            .map(|(n, chunk)| s.spawn(move || parse(n * size, chunk)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Top-level fields that one part only may set (docs/contract.md §10).
const SINGLE_PART_FIELDS: &[&str] = &["safety", "invitations"];

/// Validation in progress: every problem is collected, none stops it.
struct Check<'a> {
    today: Date,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// Each part's name, for messages that point from one part into another.
    names: Vec<&'a str>,
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
/// 100,000 members (README, Performance).
struct Fields<'n, 'a> {
    known: &'static [&'static str],
    slots: [Option<&'n Node<'a>>; Fields::MAX],
}

impl<'n, 'a> Fields<'n, 'a> {
    const MAX: usize = 8;

    fn get(&self, name: &str) -> Option<&'n Node<'a>> {
        let i = self.known.iter().position(|k| *k == name)?;
        self.slots[i]
    }
}

fn fields<'n, 'a>(
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

fn string_list<'a>(
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

/// Why an email written in decomposed Unicode (NFD: a letter then a combining accent) is
/// refused, naming the character: it looks like the composed (NFC) email it would be, but is
/// another string, so it would never match the address the API holds. teamsync does not
/// normalize Unicode (docs/contract.md §3): the file must say what the API will be sent.
fn decomposed(email: &str) -> Option<String> {
    if email.is_ascii() {
        return None;
    }
    let c = email.chars().find(|c| {
        matches!(*c, '\u{0300}'..='\u{036f}' | '\u{1ab0}'..='\u{1aff}' | '\u{1dc0}'..='\u{1dff}' | '\u{20d0}'..='\u{20ff}' | '\u{fe20}'..='\u{fe2f}')
    })?;
    Some(format!(
        "`{}` holds the combining character U+{:04X}: it is written in decomposed Unicode (NFD); write it in composed form (NFC), e.g. `é` as one character, as the API stores it",
        email.trim(),
        c as u32
    ))
}

/// A character no string of the file may hold (docs/contract.md §3, validation rules): C0 and
/// C1 controls and DEL (an ESC can rewrite a terminal line, a newline can start a CI workflow
/// command), and the bidirectional overrides and isolates that make text read other than it
/// is stored.
fn forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

impl Check<'_> {
    /// Every string of the file, keys included, is free of [`forbidden`] characters, leading
    /// and trailing whitespace aside (every field is trimmed, and a block scalar ends with a
    /// line break).
    fn control_characters(&mut self, root: &Node<'_>) {
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            match &node.value {
                Value::Str(s) => {
                    // ASCII text (nearly all of it) is checked byte by byte.
                    let clean = s.is_ascii() && !s.trim().bytes().any(|b| b < 0x20 || b == 0x7f);
                    if clean {
                        continue;
                    }
                    if let Some(c) = s.trim().chars().find(|c| forbidden(*c)) {
                        self.errors.push(Diagnostic::at(
                            node.loc,
                            format!(
                                "a string holds the control character U+{:04X}; control characters (and bidirectional overrides) are not allowed in the file's strings",
                                c as u32
                            ),
                        ));
                    }
                }
                Value::Seq(items) => stack.extend(items.iter()),
                Value::Map(entries) => {
                    for (k, v) in entries {
                        stack.push(k);
                        stack.push(v);
                    }
                }
                _ => {}
            }
        }
    }

    /// `version` is the integer 1 written as `1`: `0x1`, `0o1` or `+1` read as 1 in YAML, but
    /// a file that says `version: 0x1` is not one this teamsync was written for.
    fn version_as_written(&mut self, root: &Node<'_>, text: &str) {
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
        let written: String = text
            .lines()
            .nth((v.loc.line as usize).saturating_sub(1))
            .unwrap_or_default()
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
    fn parts(&mut self, roots: &[Node<'_>], all_parsed: bool) -> Desired {
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
        let mut locs = PolicyLocs::default();
        if let Some(node) = top.get("allowed_domains") {
            for (d, loc) in string_list(node, "allowed_domains", errors) {
                let d = d.trim().to_lowercase();
                let bare = d.strip_prefix("*.").unwrap_or(&d);
                if bare.is_empty()
                    || bare.contains('@')
                    || bare.contains('*')
                    || !bare.contains('.')
                {
                    errors.push(Diagnostic::at(
                        loc,
                        format!("`{d}` is not a domain; write `example.com`, or `*.example.com` for its subdomains"),
                    ));
                } else {
                    desired.allowed_domains.push(d);
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
                    let (mut entry, member) = validate_member(
                        item,
                        desired,
                        self.today,
                        &mut self.errors,
                        &mut self.warnings,
                    );
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
        // so a file cannot be written to collide (README, Performance).
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
                    if listed == 1 { "is" } else { "are" },
                    if listed == 1 { "its" } else { "their" }
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

/// The `invitations` block (docs/contract.md §9): `resend_after_days`, a whole number of days,
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
    today: Date,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
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
                errors.push(Diagnostic::at(n.loc, why));
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
    if let Some((d, loc)) = expires {
        let left = today.days_until(d);
        if (0..EXPIRY_NOTICE_DAYS).contains(&left) {
            let when = match left {
                0 => "today (it is removed from tomorrow)".to_string(),
                1 => "tomorrow".to_string(),
                n => format!("in {n} days"),
            };
            warnings.push(Diagnostic::at(
                loc,
                format!("`{email}` expires on {d}, {when}"),
            ));
        }
    }
    let member = DesiredMember {
        email,
        role,
        reason,
        expires: expires.map(|(d, _)| d),
        loc: email_loc,
    };
    (entry, Some(member))
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

#[cfg(test)]
mod tests {
    //! Loader and validator tests: every field of the file, the policy fields and their
    //! contradictions, the expiry notice boundary, and where each problem is reported.

    use super::*;

    fn today() -> Date {
        Date::parse("2027-03-31").unwrap()
    }

    fn ok(text: &str) -> Desired {
        let l = load(text, today());
        l.desired.unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn errors(text: &str) -> Vec<String> {
        load(text, today())
            .desired
            .expect_err("expected validation errors")
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect()
    }

    const HEAD: &str = "version: 1\nmembers:\n  - email: root@example.com\n    role: org:admin\n";

    #[test]
    fn invitations_resend_after_days_is_a_whole_number_of_days() {
        let with = |v: &str| format!("{HEAD}invitations:\n  resend_after_days: {v}\n");
        assert_eq!(ok(&with("30")).invitations.resend_after_days, Some(30));
        assert_eq!(ok(HEAD).invitations.resend_after_days, None);
        for bad in ["0", "-1", "'30'", "1.5", "36501"] {
            assert_eq!(
                errors(&with(bad)),
                ["6:22: `resend_after_days` must be a whole number of days, from 1 to 36500"],
                "{bad}"
            );
        }
        assert!(
            errors(&format!("{HEAD}invitations: {{resend: 3}}\n"))[0]
                .contains("unknown field `resend` in `invitations`")
        );
    }

    #[test]
    fn control_characters_in_strings_are_errors_at_their_string() {
        let e = errors(&format!(
            "{HEAD}  - email: a@example.com\n    role: org:member\n    reason: \"new\\e[2Khire\"\n"
        ));
        assert_eq!(
            e,
            [
                "7:13: a string holds the control character U+001B; control characters (and bidirectional overrides) are not allowed in the file's strings"
            ]
        );
        let e = errors(&format!(
            "{HEAD}  - email: a@example.com\n    role: org:member\n    reason: \"x\\n::warning y\"\n"
        ));
        assert!(e[0].contains("U+000A"), "{e:?}");
        assert!(errors(&format!("{HEAD}ignore: [\"a\\u202e@x.io\"]\n"))[0].contains("U+202E"));
        // A block scalar's final line break, and surrounding blanks, are fine.
        let d = ok(&format!(
            "{HEAD}  - email: a@example.com\n    role: org:member\n    reason: |\n      new hire\n"
        ));
        assert_eq!(d.members[1].reason.as_deref(), Some("new hire"));
    }

    #[test]
    fn version_must_be_written_as_1() {
        for v in ["0x1", "0o1", "+1"] {
            let e = errors(&format!(
                "version: {v}\nmembers:\n  - email: r@example.com\n    role: org:admin\n"
            ));
            assert_eq!(
                e,
                [format!(
                    "1:10: unsupported version `{v}`; this teamsync reads `version: 1`, written as the integer 1"
                )],
                "{v}"
            );
        }
        ok("{version: 1, members: [{email: r@example.com, role: org:admin}]}");
        ok("version: 1 # the only one\nmembers:\n  - email: r@example.com\n    role: org:admin\n");
    }

    #[test]
    fn invalid_utf8_is_an_error_at_its_position() {
        let mut bytes = HEAD.as_bytes().to_vec();
        bytes.extend_from_slice(b"  - email: caf\xe9@example.com\n    role: org:member\n");
        let e = not_utf8(&bytes, 0).unwrap();
        assert_eq!((e.line, e.column), (5, 15));
        assert!(
            e.message
                .starts_with("the file is not valid UTF-8 (byte 0xe9"),
            "{e:?}"
        );
        assert!(not_utf8(HEAD.as_bytes(), 0).is_none());
    }

    #[test]
    fn decomposed_emails_are_refused_saying_so_and_composed_ones_load() {
        let nfd = format!("{HEAD}  - email: jose\u{301}@example.com\n    role: org:member\n");
        let e = errors(&nfd);
        assert!(
            e[0].starts_with("5:12: `jose\u{301}@example.com` holds the combining character U+0301: it is written in decomposed Unicode (NFD)"),
            "{e:?}"
        );
        let nfc = format!("{HEAD}  - email: jos\u{e9}@example.com\n    role: org:member\n");
        assert_eq!(ok(&nfc).members[1].email.as_str(), "jos\u{e9}@example.com");
        assert!(
            errors(&format!("{HEAD}protected: [\"jose\u{301}@example.com\"]\n"))[0].contains("NFD")
        );
    }

    #[test]
    fn protected_takes_exact_emails_not_patterns() {
        let e = errors(&format!(
            "{HEAD}protected: ['*@example.com', root@example.co?]\n"
        ));
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].starts_with("5:13: protected: `*@example.com` contains `*` or `?`; `protected` takes exact emails, not patterns"), "{e:?}");
    }

    #[test]
    fn a_full_file_loads_every_field() {
        let d = ok("version: 1
allowed_domains: [Example.com, '*.example.org']
ignore: ['*@Vendor.io', 'bot?@example.com']
protected: [Root@Example.com]
safety:
  max_removals: 10%
  min_admins: 2
members:
  - email: ' Root@Example.com '
    role: org:admin
    reason: owner
  - email: b@eu.example.org
    role: org:member
    expires: 2027-06-30
");
        assert_eq!(d.allowed_domains, vec!["example.com", "*.example.org"]);
        assert!(
            d.is_ignored(&Email::new("support@VENDOR.IO"))
                && d.is_ignored(&Email::new("bot1@example.com"))
                && !d.is_ignored(&Email::new("bot12@example.com"))
        );
        assert!(d.is_protected(&Email::new("ROOT@example.com")));
        assert_eq!(
            d.safety,
            Safety {
                max_removals: Some(MaxRemovals::Percent(10)),
                min_admins: 2
            }
        );
        assert_eq!(d.members[0].email.as_str(), "root@example.com");
        assert_eq!(d.members[0].reason.as_deref(), Some("owner"));
        assert_eq!((d.members[0].loc.line, d.members[0].loc.column), (9, 12));
        assert_eq!(d.members[1].expires, Date::parse("2027-06-30"));
    }

    #[test]
    fn max_removals_takes_a_number_or_a_percentage() {
        let with = |v: &str| format!("{HEAD}safety:\n  max_removals: {v}\n");
        assert_eq!(
            ok(&with("5")).safety.max_removals,
            Some(MaxRemovals::Count(5))
        );
        assert_eq!(
            ok(&with("\"25 %\"")).safety.max_removals,
            Some(MaxRemovals::Percent(25))
        );
        for bad in ["-1", "150%", "lots", "1.5"] {
            assert!(
                errors(&with(bad))[0].contains("`max_removals` must be"),
                "{bad}"
            );
        }
        assert!(errors(&format!("{HEAD}safety:\n  min_admins: -2\n"))[0].contains("`min_admins`"));
        assert!(
            errors(&format!("{HEAD}safety:\n  max_admins: 2\n"))[0]
                .contains("unknown field `max_admins` in `safety`")
        );
    }

    #[test]
    fn an_ignore_pattern_matching_a_member_is_a_contradiction() {
        let e = errors(&format!("{HEAD}ignore: ['ROOT@*']\n"));
        assert_eq!(
            e,
            vec![
                "5:10: ignore pattern `root@*` matches `root@example.com` listed at line 3: teamsync cannot both manage and ignore it"
            ]
        );
        assert!(errors(&format!("{HEAD}ignore: ['']\n"))[0].contains("empty"));
    }

    #[test]
    fn allowed_domains_exact_and_subdomains() {
        let file = |email: &str| {
            format!(
                "version: 1\nallowed_domains: [example.com, '*.corp.example.org']\nmembers:\n  - email: {email}\n    role: org:admin\n"
            )
        };
        ok(&file("a@example.com"));
        ok(&file("a@EU.corp.example.org"));
        for bad in [
            "a@gmial.com",
            "a@sub.example.com",
            "a@corp.example.org",
            "a@evilcorp.example.org",
        ] {
            let e = errors(&file(bad));
            assert!(e[0].starts_with("4:12: domain"), "{bad}: {e:?}");
            assert!(e[0].contains("is not in allowed_domains"), "{e:?}");
        }
        assert!(
            errors("version: 1\nallowed_domains: ['@x.com']\nmembers: []\n")[0]
                .contains("is not a domain")
        );
    }

    #[test]
    fn protected_must_be_emails_and_missing_ones_warn() {
        assert!(errors(&format!("{HEAD}protected: [not-an-email]\n"))[0].contains("protected:"));
        let l = load(&format!("{HEAD}protected: [glass@example.com]\n"), today());
        assert!(l.desired.is_ok());
        assert_eq!(l.warnings.len(), 1);
        assert!(
            l.warnings[0]
                .message
                .contains("glass@example.com` is not listed"),
            "{:?}",
            l.warnings
        );
    }

    #[test]
    fn expiry_notice_covers_the_next_14_days_only() {
        let with = |date: &str| {
            load(
                &format!(
                    "{HEAD}  - email: temp@example.com\n    role: org:member\n    expires: {date}\n"
                ),
                today(),
            )
        };
        let notice = |date: &str| {
            with(date)
                .warnings
                .iter()
                .map(|w| w.message.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            notice("2027-03-31"),
            vec!["`temp@example.com` expires on 2027-03-31, today (it is removed from tomorrow)"]
        );
        assert_eq!(
            notice("2027-04-01"),
            vec!["`temp@example.com` expires on 2027-04-01, tomorrow"]
        );
        assert_eq!(
            notice("2027-04-13"),
            vec!["`temp@example.com` expires on 2027-04-13, in 13 days"]
        );
        assert!(
            notice("2027-04-14").is_empty(),
            "14 days ahead is outside the notice window"
        );
        assert!(
            notice("2027-03-30").is_empty(),
            "already expired: the plan removes it, validate says nothing more"
        );
        assert!(with("2027-03-30").desired.is_ok());
        let w = &with("2027-04-01").warnings[0];
        assert_eq!((w.line, w.column), (7, 14));
    }

    #[test]
    fn every_problem_is_reported_at_once_in_line_order() {
        let e = errors(
            "version: 3
members:
  - email: a@example.com
    role: org:admin
  - email: A@EXAMPLE.COM
    role: org:member
  - role: org:member
  - email: x@example.com
  - email: 42
    role: org:member
  - just a string
",
        );
        assert_eq!(
            e,
            vec![
                "1:10: unsupported version; this teamsync reads `version: 1`",
                "5:12: duplicate email `a@example.com`: already listed at line 3 (emails are compared case-insensitively)",
                "7:5: member is missing required field `email`",
                "8:5: member is missing required field `role` (org:admin or org:member)",
                "9:12: `email` must be a string, found a number",
                "11:5: a member must be a mapping, found a string",
            ]
        );
    }

    #[test]
    fn yaml_syntax_errors_have_a_position() {
        let e = errors("version: 1\nmembers:\n  - email: a@example.com\n   role: [\n");
        assert_eq!(e.len(), 1);
        assert!(e[0].contains("invalid YAML"), "{e:?}");
        assert!(!e[0].starts_with("0:"), "{e:?}");
    }

    #[test]
    fn aliases_work_for_shared_values() {
        let d = ok(
            "version: 1\nmembers:\n  - email: a@example.com\n    role: &admin org:admin\n  - email: b@example.com\n    role: *admin\n",
        );
        assert_eq!(d.members[1].role, Role::Admin);
    }

    #[test]
    fn domain_allowed_rules() {
        let allowed = vec!["example.com".to_string(), "*.example.org".to_string()];
        assert!(domain_allowed(&allowed, &Email::new("a@example.com")));
        assert!(!domain_allowed(&allowed, &Email::new("a@xexample.com")));
        assert!(domain_allowed(&allowed, &Email::new("a@x.example.org")));
        assert!(!domain_allowed(&allowed, &Email::new("a@example.org")));
        assert!(!domain_allowed(&allowed, &Email::new("a@xexample.org")));
    }

    #[test]
    fn duplicates_are_found_even_in_entries_with_other_problems() {
        let e = errors(
            "version: 1
allowed_domains: [example.com]
members:
  - email: a@example.com
    role: org:admin
  - email: A@Example.com
    role: admin
  - email: b@example.org
    role: org:member
  - email: B@example.org
    role: org:member
    expires: someday
  - email: a@EXAMPLE.com
    role: org:member
    colour: blue
",
        );
        assert_eq!(
            e,
            vec![
                "6:12: duplicate email `a@example.com`: already listed at line 4 (emails are compared case-insensitively)",
                "7:11: unknown role `admin`; use `org:admin` or `org:member`",
                "8:12: domain `example.org` of `b@example.org` is not in allowed_domains (example.com); is it a typo?",
                "10:12: domain `example.org` of `b@example.org` is not in allowed_domains (example.com); is it a typo?",
                "10:12: duplicate email `b@example.org`: already listed at line 8 (emails are compared case-insensitively)",
                "12:14: `expires` must be a date written YYYY-MM-DD (kept through that day, UTC)",
                "13:12: duplicate email `a@example.com`: already listed at line 4 (emails are compared case-insensitively)",
                "15:5: unknown field `colour` in a member; expected one of: email, role, reason, expires",
            ]
        );
    }

    #[test]
    fn a_missing_admin_is_reported_with_other_problems_unless_a_role_is_unreadable() {
        let e = errors(
            "version: 2
members:
  - email: a@example.com
    role: org:member
  - email: not-an-email
    role: org:member
",
        );
        assert_eq!(
            e,
            vec![
                "1:10: unsupported version; this teamsync reads `version: 1`",
                "3:3: no member has role `org:admin`; the API requires at least one admin",
                "5:12: `not-an-email` is not a valid email address (Missing separator character '@'.)",
            ]
        );
        // An admin entry with another problem still counts as the admin.
        let e = errors("version: 1\nmembers:\n  - email: a@localhost\n    role: org:admin\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("3:12: `a@localhost` is not a valid"),
            "{e:?}"
        );
        // A role that is missing, invalid or unreadable may be the admin: not reported.
        for entry in [
            "  - email: b@example.com\n",
            "  - email: b@example.com\n    role: org:owner\n",
            "  - just a string\n",
        ] {
            let e = errors(&format!(
                "version: 1\nmembers:\n  - email: a@example.com\n    role: org:member\n{entry}"
            ));
            assert!(!e.iter().any(|m| m.contains("no member has role")), "{e:?}");
            assert_eq!(e.len(), 1, "{e:?}");
        }
    }

    #[test]
    fn an_admin_whose_expiry_has_passed_does_not_count() {
        let file = |expires: &str| {
            format!(
                "version: 1\nmembers:\n  - email: a@example.com\n    role: org:admin\n    expires: {expires}\n  - email: b@example.com\n    role: org:member\n"
            )
        };
        assert_eq!(
            errors(&file("2027-03-30")),
            vec![
                "3:3: no member has role `org:admin` that has not expired; the API requires at least one admin (the admin listed is past its `expires` date)"
            ]
        );
        // Kept through its last day (UTC).
        assert_eq!(ok(&file("2027-03-31")).members.len(), 2);
        // Another admin that has not expired is enough.
        ok(&format!(
            "{}  - email: c@example.com\n    role: org:admin\n    expires: 2027-04-30\n",
            file("2027-01-01")
        ));
        let e = errors(&format!(
            "{}  - email: c@example.com\n    role: org:admin\n    expires: 2026-12-31\n",
            file("2027-01-01")
        ));
        assert_eq!(
            e,
            vec![
                "3:3: no member has role `org:admin` that has not expired; the API requires at least one admin (the 2 admins listed are past their `expires` date)"
            ]
        );
    }
}
