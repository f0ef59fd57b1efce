//! The desired-state file (SPEC §3): parsing with serde-saphyr into a tree that keeps the line
//! and column of every node, then validation that reports every problem at once.

use crate::date::Date;
use crate::email;
use crate::glob::Glob;
use crate::model::Role;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::collections::HashMap;
use std::fmt;

/// The only file version this teamsync reads.
pub const VERSION: i64 = 1;
/// How many days ahead `validate` warns about entries that expire.
pub const EXPIRY_NOTICE_DAYS: i64 = 14;

pub const TOP_FIELDS: &[&str] = &[
    "version",
    "members",
    "allowed_domains",
    "ignore",
    "protected",
    "safety",
];
pub const MEMBER_FIELDS: &[&str] = &["email", "role", "reason", "expires"];
pub const SAFETY_FIELDS: &[&str] = &["max_removals", "min_admins"];

/// A validated desired state.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    pub members: Vec<DesiredMember>,
    pub allowed_domains: Vec<String>,
    pub ignore: Vec<Glob>,
    pub protected: Vec<String>,
    pub safety: Safety,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DesiredMember {
    /// Normalized (trimmed, lower-case): the plan's key.
    pub email: String,
    pub role: Role,
    pub reason: Option<String>,
    pub expires: Option<Date>,
    /// Line and column of the entry's email in the file (0 when built in code).
    pub line: u64,
    pub column: u64,
}

impl DesiredMember {
    pub fn new(email: &str, role: Role) -> DesiredMember {
        DesiredMember {
            email: email::normalize(email),
            role,
            reason: None,
            expires: None,
            line: 0,
            column: 0,
        }
    }
}

/// The `safety` block: limits apply refuses to cross.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Safety {
    /// Replaces the default removal limit, max(3, 25 % of current members).
    pub max_removals: Option<MaxRemovals>,
    pub min_admins: u64,
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
pub enum MaxRemovals {
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
    pub fn new(members: Vec<DesiredMember>) -> Desired {
        Desired {
            members,
            allowed_domains: Vec::new(),
            ignore: Vec::new(),
            protected: Vec::new(),
            safety: Safety::default(),
        }
    }

    pub fn is_ignored(&self, email: &str) -> bool {
        self.ignore.iter().any(|g| g.matches(email))
    }

    pub fn is_protected(&self, email: &str) -> bool {
        if self.protected.is_empty() {
            return false;
        }
        let e = email.trim();
        if e.is_ascii() {
            // Compared as `normalize` would, without allocating.
            return self.protected.iter().any(|p| {
                p.len() == e.len()
                    && p.bytes()
                        .zip(e.bytes())
                        .all(|(a, b)| a == b.to_ascii_lowercase())
            });
        }
        let e = email::normalize(email);
        self.protected.contains(&e)
    }
}

/// One problem found in the file, at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl Diagnostic {
    fn at(loc: Loc, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            line: loc.line,
            column: loc.column,
            message: message.into(),
        }
    }

    /// `FILE:LINE:COL: message`.
    pub fn render(&self, file: &str) -> String {
        format!("{file}:{}:{}: {}", self.line, self.column, self.message)
    }
}

/// What loading a file produced: the desired state when there were no errors, and warnings
/// either way.
#[derive(Debug)]
pub struct Loaded {
    pub desired: Result<Desired, Vec<Diagnostic>>,
    pub warnings: Vec<Diagnostic>,
}

// ---------------------------------------------------------------------------------------------
// The YAML tree.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct Loc {
    line: u64,
    column: u64,
}

#[derive(Debug)]
enum Value {
    Null,
    Bool,
    Int(i128),
    Float,
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug)]
struct Node {
    value: Value,
    loc: Loc,
}

impl Node {
    fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool => "a boolean",
            Value::Int(_) => "a number",
            Value::Float => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        let spanned = Spanned::<Value>::deserialize(d)?;
        Ok(Node {
            value: spanned.value,
            loc: Loc {
                line: spanned.referenced.line(),
                column: spanned.referenced.column(),
            },
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                {
                    let _ = v;
                    Ok(Value::Bool)
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Int(v as i128))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value::Int(v as i128))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
                Ok(Value::Int(v))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
                Ok(Value::Int(i128::try_from(v).unwrap_or(i128::MAX)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                {
                    let _ = v;
                    Ok(Value::Float)
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
                Ok(Value::Str(v))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
                Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(Value::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(k) = map.next_key::<Node>()? {
                    let v = map.next_value::<Node>()?;
                    entries.push((k, v));
                }
                Ok(Value::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_tree(text: &str) -> Result<Node, Diagnostic> {
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_nodes = 4_000_000;
    budget.max_events = 10_000_000;
    budget.max_depth = 32;
    let options = serde_saphyr::options! { budget: Some(budget) };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        let rendered = e.render_with_options(serde_saphyr::render_options! {
            snippets: serde_saphyr::SnippetMode::Off,
        });
        let first = rendered
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .trim()
            .to_string();
        Diagnostic {
            line: line.max(1),
            column: column.max(1),
            message: format!("invalid YAML: {first}"),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Validation.

/// Loads and validates a desired-state file's text. `today` decides expiry warnings.
pub fn load(text: &str, today: Date) -> Loaded {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let root = match parse_tree(text) {
        Ok(node) => node,
        Err(d) => {
            return Loaded {
                desired: Err(vec![d]),
                warnings,
            };
        }
    };
    let desired = validate_root(&root, today, &mut errors, &mut warnings);
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

fn fields<'a>(
    node: &'a Node,
    what: &str,
    known: &[&str],
    errors: &mut Vec<Diagnostic>,
) -> HashMap<&'a str, &'a Node> {
    let mut out = HashMap::new();
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
        if !known.contains(&key) {
            errors.push(Diagnostic::at(
                k.loc,
                format!(
                    "unknown field `{key}` in {what}; expected one of: {}",
                    known.join(", ")
                ),
            ));
        } else if out.insert(key, v).is_some() {
            errors.push(Diagnostic::at(
                k.loc,
                format!("field `{key}` appears twice in {what}"),
            ));
        }
    }
    out
}

fn string_list<'a>(
    node: &'a Node,
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

fn validate_root(
    root: &Node,
    today: Date,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> Desired {
    let mut desired = Desired::new(Vec::new());
    if matches!(root.value, Value::Null) {
        errors.push(Diagnostic::at(
            Loc { line: 1, column: 1 },
            "the file is empty; it needs `version: 1` and a `members` list",
        ));
        return desired;
    }
    let top = fields(root, "the file", TOP_FIELDS, errors);
    if !matches!(root.value, Value::Map(_)) {
        return desired;
    }

    match top.get("version") {
        None => errors.push(Diagnostic::at(
            root.loc,
            "missing required field `version` (use `version: 1`)",
        )),
        Some(v) => match v.value {
            Value::Int(n) if n == VERSION as i128 => {}
            _ => errors.push(Diagnostic::at(
                v.loc,
                format!("unsupported version; this teamsync reads `version: {VERSION}`"),
            )),
        },
    }

    if let Some(node) = top.get("allowed_domains") {
        for (d, loc) in string_list(node, "allowed_domains", errors) {
            let d = d.trim().to_lowercase();
            let bare = d.strip_prefix("*.").unwrap_or(&d);
            if bare.is_empty() || bare.contains('@') || bare.contains('*') || !bare.contains('.') {
                errors.push(Diagnostic::at(
                    loc,
                    format!("`{d}` is not a domain; write `example.com`, or `*.example.com` for its subdomains"),
                ));
            } else {
                desired.allowed_domains.push(d);
            }
        }
    }
    let mut ignore_locs = Vec::new();
    if let Some(node) = top.get("ignore") {
        for (g, loc) in string_list(node, "ignore", errors) {
            if g.trim().is_empty() {
                errors.push(Diagnostic::at(loc, "an `ignore` pattern is empty"));
                continue;
            }
            desired.ignore.push(Glob::new(g));
            ignore_locs.push(loc);
        }
    }
    let mut protected_locs = Vec::new();
    if let Some(node) = top.get("protected") {
        for (p, loc) in string_list(node, "protected", errors) {
            if let Err(why) = email::check(p) {
                errors.push(Diagnostic::at(loc, format!("protected: {why}")));
                continue;
            }
            desired.protected.push(email::normalize(p));
            protected_locs.push(loc);
        }
    }
    if let Some(node) = top.get("safety") {
        if !matches!(node.value, Value::Null) {
            desired.safety = validate_safety(node, errors);
        }
    }

    match top.get("members") {
        None => errors.push(Diagnostic::at(
            root.loc,
            "missing required field `members` (a list of `email` and `role`)",
        )),
        Some(node) => match &node.value {
            Value::Seq(items) => {
                for item in items {
                    if let Some(m) = validate_member(item, &desired, today, errors, warnings) {
                        desired.members.push(m);
                    }
                }
            }
            Value::Null => {}
            _ => errors.push(Diagnostic::at(
                node.loc,
                format!("`members` must be a list, found {}", node.kind()),
            )),
        },
    }

    // Duplicates, case-insensitively, naming both lines.
    let mut first_seen: HashMap<&str, &DesiredMember> = HashMap::new();
    for m in &desired.members {
        if let Some(first) = first_seen.get(m.email.as_str()) {
            errors.push(Diagnostic {
                line: m.line,
                column: m.column,
                message: format!(
                    "duplicate email `{}`: already listed at line {} (emails are compared case-insensitively)",
                    m.email, first.line
                ),
            });
        } else {
            first_seen.insert(&m.email, m);
        }
    }

    // An ignore pattern that matches a listed member contradicts it.
    for (g, loc) in desired.ignore.iter().zip(&ignore_locs) {
        for m in desired.members.iter().filter(|m| g.matches(&m.email)) {
            errors.push(Diagnostic::at(
                *loc,
                format!(
                    "ignore pattern `{}` matches `{}` listed at line {}: teamsync cannot both manage and ignore it",
                    g.as_str(),
                    m.email,
                    m.line
                ),
            ));
        }
    }

    let has_members_list = matches!(
        top.get("members").map(|n| &n.value),
        Some(Value::Seq(_)) | Some(Value::Null)
    );
    if has_members_list
        && !desired.members.iter().any(|m| m.role == Role::Admin)
        && errors.is_empty()
    {
        let loc = top.get("members").map(|n| n.loc).unwrap_or(root.loc);
        errors.push(Diagnostic::at(
            loc,
            "no member has role `org:admin`; the API requires at least one admin",
        ));
    }

    for (p, loc) in desired.protected.iter().zip(&protected_locs) {
        if !desired.members.iter().any(|m| &m.email == p) {
            warnings.push(Diagnostic::at(
                *loc,
                format!("protected email `{p}` is not listed in `members`: teamsync will not remove it, but it is not managed either"),
            ));
        }
    }
    desired
}

fn validate_safety(node: &Node, errors: &mut Vec<Diagnostic>) -> Safety {
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

fn validate_member(
    item: &Node,
    desired: &Desired,
    today: Date,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<DesiredMember> {
    let before = errors.len();
    let f = fields(item, "a member", MEMBER_FIELDS, errors);
    if !matches!(item.value, Value::Map(_)) {
        return None;
    }
    let email_value = match f.get("email") {
        None => {
            errors.push(Diagnostic::at(
                item.loc,
                "member is missing required field `email`",
            ));
            None
        }
        Some(n) => match n.as_str() {
            None => {
                errors.push(Diagnostic::at(
                    n.loc,
                    format!("`email` must be a string, found {}", n.kind()),
                ));
                None
            }
            Some(s) => match email::check(s) {
                Err(why) => {
                    errors.push(Diagnostic::at(n.loc, why));
                    None
                }
                Ok(()) => Some((email::normalize(s), n.loc)),
            },
        },
    };
    if let Some((e, loc)) = &email_value {
        if !desired.allowed_domains.is_empty() && !domain_allowed(&desired.allowed_domains, e) {
            errors.push(Diagnostic::at(
                *loc,
                format!(
                    "domain `{}` of `{e}` is not in allowed_domains ({}); is it a typo?",
                    email::domain(e),
                    desired.allowed_domains.join(", ")
                ),
            ));
        }
    }
    let role = match f.get("role") {
        None => {
            errors.push(Diagnostic::at(
                item.loc,
                "member is missing required field `role` (org:admin or org:member)",
            ));
            None
        }
        Some(n) => match n.as_str().and_then(Role::parse) {
            Some(r) => Some(r),
            None => {
                let shown = n
                    .as_str()
                    .map(|s| format!("`{s}`"))
                    .unwrap_or_else(|| n.kind().to_string());
                errors.push(Diagnostic::at(
                    n.loc,
                    format!("unknown role {shown}; use `org:admin` or `org:member`"),
                ));
                None
            }
        },
    };
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
    if errors.len() > before {
        return None;
    }
    let (email, email_loc) = email_value?;
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
    Some(DesiredMember {
        email,
        role: role?,
        reason,
        expires: expires.map(|(d, _)| d),
        line: email_loc.line,
        column: email_loc.column,
    })
}

/// Whether `email`'s domain is one of `allowed` (exact, or `*.d` for subdomains of `d`).
pub fn domain_allowed(allowed: &[String], email: &str) -> bool {
    let domain = email::domain(email);
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
#[path = "desired_tests.rs"]
mod tests;
