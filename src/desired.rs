//! The desired-state file (SPEC §3): parsing with serde-saphyr's event parser (granit-parser)
//! into a tree that keeps the line and column of every node, then validation that reports every
//! problem at once.

use crate::date::Date;
use crate::email;
use crate::glob::Glob;
use crate::model::Role;
use serde_saphyr::granit_parser::{
    self, ErrorKind, Event, Marker, Parser, ScalarStyle, ScanError, Tag,
};
use std::borrow::Cow;
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

#[derive(Clone, Debug, PartialEq)]
enum Value {
    Null,
    Bool,
    Int(i128),
    Float,
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
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

// ---------------------------------------------------------------------------------------------
// Building the tree from the parser's events.
//
// The tree is built directly from granit-parser events (the parser serde-saphyr uses), with an
// explicit stack: no recursion, so no input can overflow the stack. Positions are the events'
// start markers, which is what `serde_saphyr::Spanned` reports: a scalar where it starts, a block
// list at its first `-`, a block mapping at its first key, a flow collection at its bracket.

/// Most nodes one file may produce, copies made by aliases included (alias bombs).
const MAX_NODES: u64 = 4_000_000;
/// Most nodes kept for anchors (an anchored node is kept whole for later aliases).
const MAX_ANCHORED_NODES: u64 = 4_000_000;
/// Deepest nesting of lists and mappings.
const MAX_DEPTH: usize = 32;

fn loc_of(m: &Marker) -> Loc {
    Loc {
        line: m.line() as u64,
        column: m.col() as u64 + 1,
    }
}

fn invalid(loc: Loc, what: impl fmt::Display) -> Diagnostic {
    let (line, column) = (loc.line.max(1), loc.column.max(1));
    Diagnostic {
        line,
        column,
        message: format!("invalid YAML: {what} at line {line}, column {column}"),
    }
}

enum Open {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Node, Node)>,
        /// The key waiting for its value.
        key: Option<Node>,
        /// Indices in `entries` of merge keys (a plain `<<`).
        merges: Vec<usize>,
    },
}

/// A list or mapping being built.
struct Frame {
    open: Open,
    loc: Loc,
    anchor: usize,
    /// `TreeBuilder::produced` before this collection started.
    produced_before: u64,
    /// The greatest height of its children so far (a scalar's height is 0).
    child_height: usize,
}

/// A finished node, with what the limits need to know of it.
struct Built {
    node: Node,
    /// Nodes in it, itself included.
    size: u64,
    /// Levels of lists and mappings in it (0 for a scalar).
    height: usize,
}

#[derive(Default)]
struct TreeBuilder {
    stack: Vec<Frame>,
    /// By anchor id: the anchored node, its size and its height.
    anchors: Vec<Option<(Node, u64, usize)>>,
    /// Nodes produced so far, alias copies included.
    produced: u64,
    /// Nodes kept in `anchors`.
    anchored: u64,
    root: Option<Node>,
}

impl TreeBuilder {
    fn count(&mut self, nodes: u64, loc: Loc) -> Result<(), Diagnostic> {
        self.produced += nodes;
        if self.produced > MAX_NODES {
            return Err(invalid(
                loc,
                format_args!(
                    "the document has more than {MAX_NODES} values (counting each use of an alias)"
                ),
            ));
        }
        Ok(())
    }

    /// Whether a node of `height` fits at the current depth.
    fn fits(&self, height: usize, loc: Loc) -> Result<(), Diagnostic> {
        if self.stack.len() + height > MAX_DEPTH {
            return Err(invalid(
                loc,
                format_args!("lists and mappings are nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn open(&mut self, open: Open, anchor: usize, loc: Loc) -> Result<(), Diagnostic> {
        self.fits(1, loc)?;
        self.count(1, loc)?;
        self.stack.push(Frame {
            open,
            loc,
            anchor,
            produced_before: self.produced - 1,
            child_height: 0,
        });
        Ok(())
    }

    fn close(&mut self, loc: Loc) -> Result<(), Diagnostic> {
        let Some(frame) = self.stack.pop() else {
            return Err(invalid(loc, "a collection ends that never started"));
        };
        let value = match frame.open {
            Open::Seq(items) => Value::Seq(items),
            Open::Map { key: Some(key), .. } => {
                return Err(invalid(key.loc, "a mapping key has no value"));
            }
            Open::Map {
                entries, merges, ..
            } => Value::Map(if merges.is_empty() {
                entries
            } else {
                merge(entries, &merges)?
            }),
        };
        let built = Built {
            node: Node {
                value,
                loc: frame.loc,
            },
            size: self.produced - frame.produced_before,
            height: frame.child_height + 1,
        };
        self.complete(built, frame.anchor, false)
    }

    /// Places a finished node in its parent, or as the root.
    fn complete(&mut self, built: Built, anchor: usize, merge_key: bool) -> Result<(), Diagnostic> {
        let Built { node, size, height } = built;
        if anchor != 0 {
            self.anchored += size;
            if self.anchored > MAX_ANCHORED_NODES {
                return Err(invalid(
                    node.loc,
                    format_args!("anchors hold more than {MAX_ANCHORED_NODES} values"),
                ));
            }
            if self.anchors.len() <= anchor {
                self.anchors.resize_with(anchor + 1, || None);
            }
            self.anchors[anchor] = Some((node.clone(), size, height));
        }
        let Some(parent) = self.stack.last_mut() else {
            if self.root.is_some() {
                return Err(invalid(node.loc, "a second value after the document's end"));
            }
            self.root = Some(node);
            return Ok(());
        };
        parent.child_height = parent.child_height.max(height);
        match &mut parent.open {
            Open::Seq(items) => items.push(node),
            Open::Map {
                entries,
                key,
                merges,
            } => match key.take() {
                None => {
                    if merge_key {
                        merges.push(entries.len());
                    }
                    *key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        value: Value,
        merge_key: bool,
        anchor: usize,
        loc: Loc,
    ) -> Result<(), Diagnostic> {
        self.count(1, loc)?;
        let built = Built {
            node: Node { value, loc },
            size: 1,
            height: 0,
        };
        self.complete(built, anchor, merge_key)
    }

    /// A copy of the anchored node, every node of it placed at the alias (as serde-saphyr's
    /// `Spanned` reports it).
    fn alias(&mut self, id: usize, loc: Loc) -> Result<(), Diagnostic> {
        let Some((size, height)) = self
            .anchors
            .get(id)
            .and_then(|a| a.as_ref().map(|(_, size, height)| (*size, *height)))
        else {
            return Err(invalid(
                loc,
                "this alias refers to the node that contains it (recursive aliases are not supported)",
            ));
        };
        self.fits(height, loc)?;
        // Counted before copying: an alias bomb fails before it takes the memory.
        self.count(size, loc)?;
        let Some((node, _, _)) = &self.anchors[id] else {
            unreachable!("checked above");
        };
        let mut node = node.clone();
        relocate(&mut node, loc);
        self.complete(Built { node, size, height }, 0, false)
    }
}

/// Moves `node` and everything in it to `loc`. Recursive, but trees are at most `MAX_DEPTH`
/// deep.
fn relocate(node: &mut Node, loc: Loc) {
    node.loc = loc;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| relocate(n, loc)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            relocate(k, loc);
            relocate(v, loc);
        }),
        _ => {}
    }
}

fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

/// Applies a mapping's merge keys (`<<: *base`, `<<: [*a, *b]`) as serde-saphyr does: the
/// merged mappings' entries that the mapping does not set itself come after its own entries,
/// the first merged mapping winning, each placed where its mapping is referenced.
fn merge(entries: Vec<(Node, Node)>, merges: &[usize]) -> Result<Vec<(Node, Node)>, Diagnostic> {
    let not_a_mapping = |loc| {
        invalid(
            loc,
            "YAML merge value must be mapping or sequence of mappings",
        )
    };
    let mut own = Vec::with_capacity(entries.len());
    let mut sources = Vec::new();
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if !merges.contains(&i) {
            own.push((k, v));
            continue;
        }
        match v.value {
            Value::Null => {}
            Value::Map(_) => sources.push(v),
            Value::Seq(items) => {
                for item in items {
                    match item.value {
                        Value::Map(_) => sources.push(item),
                        _ => return Err(not_a_mapping(item.loc)),
                    }
                }
            }
            _ => return Err(not_a_mapping(v.loc)),
        }
    }
    for source in sources {
        let Value::Map(merged) = source.value else {
            continue;
        };
        for (mut k, mut v) in merged {
            if own.iter().any(|(o, _)| same_key(o, &k)) {
                continue;
            }
            relocate(&mut k, source.loc);
            relocate(&mut v, source.loc);
            own.push((k, v));
        }
    }
    Ok(own)
}

fn parse_tree(text: &str) -> Result<Node, Diagnostic> {
    let options = granit_parser::options! { emit_comments: false };
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut tree = TreeBuilder::default();
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| scan_error(&e))?;
        let loc = loc_of(&span.start);
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(invalid(
                        loc,
                        "multiple YAML documents detected; the file must hold one",
                    ));
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let merge_key = style == ScalarStyle::Plain && tag.is_none() && value == "<<";
                let value = resolve_scalar(value, style, tag.as_deref());
                tree.scalar(value, merge_key, anchor, loc)?;
            }
            Event::SequenceStart(_, anchor, _) => tree.open(Open::Seq(Vec::new()), anchor, loc)?,
            Event::MappingStart(_, anchor, _) => tree.open(
                Open::Map {
                    entries: Vec::new(),
                    key: None,
                    merges: Vec::new(),
                },
                anchor,
                loc,
            )?,
            Event::SequenceEnd | Event::MappingEnd => tree.close(loc)?,
            Event::Alias(id) => tree.alias(id, loc)?,
            _ => {}
        }
    }
    Ok(tree.root.unwrap_or(Node {
        value: Value::Null,
        loc: Loc { line: 1, column: 1 },
    }))
}

fn scan_error(e: &ScanError) -> Diagnostic {
    let info = match e.kind() {
        ErrorKind::UnknownAnchor => "alias references unknown anchor".to_string(),
        _ => e.info(),
    };
    let first = info.lines().next().unwrap_or("").trim();
    invalid(
        loc_of(e.marker()),
        if first.is_empty() {
            "syntax error"
        } else {
            first
        },
    )
}

/// The YAML spelling of a scalar's tag that changes how it resolves: `str` (also the
/// non-specific `!`), `null`, `bool`, `int`, `float`; as serde-saphyr reads tags.
fn tag_name(tag: &Tag) -> Option<String> {
    if let Some(core) = tag.core_suffix() {
        return Some(core.to_string());
    }
    if let Some(name) = tag.suffix_in_namespace("tag:yaml.org,2002:") {
        return Some(name.strip_prefix('!').unwrap_or(&name).to_string());
    }
    let name = tag.suffix_in_namespace("!")?;
    match name.as_ref() {
        "" | "!" => Some("str".to_string()),
        n => Some(n.strip_prefix('!').unwrap_or(n).to_string()),
    }
}

/// What a scalar is, as serde-saphyr's `deserialize_any` decides with its default options:
/// quoted and block scalars are strings; plain ones are null, a YAML 1.1 boolean, an integer
/// (decimal, `0x`, `0o`, `0b`), a float (`.inf` and `.nan` included) or else a string.
fn resolve_scalar(value: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    let plain = style == ScalarStyle::Plain;
    match tag.and_then(tag_name).as_deref() {
        Some("str") => return Value::Str(value.into_owned()),
        Some("null") => return Value::Null,
        Some("bool" | "int" | "float") => {}
        _ if !plain => return Value::Str(value.into_owned()),
        _ => {
            if matches!(value.as_ref(), "" | "~" | "null" | "Null" | "NULL") {
                return Value::Null;
            }
        }
    }
    let t = value.trim_matches([' ', '\t', '\r', '\n']);
    if is_yaml11_bool(t) {
        Value::Bool
    } else if let Some(n) = parse_int(t) {
        Value::Int(n)
    } else if is_float(t) {
        Value::Float
    } else {
        Value::Str(value.into_owned())
    }
}

fn is_yaml11_bool(t: &str) -> bool {
    ["true", "yes", "y", "on", "false", "no", "n", "off"]
        .iter()
        .any(|b| t.eq_ignore_ascii_case(b))
}

/// A YAML integer that fits an i64 (negative) or a u64, as serde-saphyr parses one.
fn parse_int(t: &str) -> Option<i128> {
    let (negative, rest) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, digits) = if let Some(d) = rest.strip_prefix("0x").or(rest.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = rest.strip_prefix("0o").or(rest.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = rest.strip_prefix("0b").or(rest.strip_prefix("0B")) {
        (2, d)
    } else {
        if rest.starts_with('0') && rest != "0" {
            return None;
        }
        (10, rest)
    };
    let bytes = digits.as_bytes();
    let mut magnitude: u128 = 0;
    let mut saw_digit = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            if i == 0 || bytes[i - 1] == b'_' || i + 1 == bytes.len() || bytes[i + 1] == b'_' {
                return None;
            }
            continue;
        }
        let d = (b as char).to_digit(radix)?;
        magnitude = magnitude
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
        saw_digit = true;
    }
    if !saw_digit {
        return None;
    }
    if negative {
        (magnitude <= 1u128 << 63).then(|| -(magnitude as i128))
    } else {
        (magnitude <= u128::from(u64::MAX)).then_some(magnitude as i128)
    }
}

/// A YAML 1.2 float: `.inf`, `.nan` (signed or not) or a numeral Rust parses (overflowing to
/// infinity only when written with digits).
fn is_float(t: &str) -> bool {
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if matches!(
        unsigned,
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF"
    ) {
        return true;
    }
    match t.parse::<f64>() {
        Ok(v) => v.is_finite() || unsigned.as_bytes().first().is_some_and(u8::is_ascii_digit),
        Err(_) => false,
    }
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

    // Every entry of `members`, with whatever could be read of it even when it has errors.
    let mut entries: Vec<Entry> = Vec::new();
    match top.get("members") {
        None => errors.push(Diagnostic::at(
            root.loc,
            "missing required field `members` (a list of `email` and `role`)",
        )),
        Some(node) => match &node.value {
            Value::Seq(items) => {
                for item in items {
                    let mut entry = validate_member(item, &desired, today, errors, warnings);
                    if let Some(m) = entry.member.take() {
                        desired.members.push(m);
                    }
                    entries.push(entry);
                }
            }
            Value::Null => {}
            _ => errors.push(Diagnostic::at(
                node.loc,
                format!("`members` must be a list, found {}", node.kind()),
            )),
        },
    }

    // Duplicates, case-insensitively, naming both lines: among every entry whose email is
    // valid, even when the entry has other problems, so that all are reported at once.
    let mut first_seen: HashMap<&str, u64> = HashMap::new();
    for (email, loc) in entries.iter().filter_map(|e| e.email.as_ref()) {
        if let Some(first_line) = first_seen.get(email.as_str()) {
            errors.push(Diagnostic::at(
                *loc,
                format!(
                    "duplicate email `{email}`: already listed at line {first_line} (emails are compared case-insensitively)"
                ),
            ));
        } else {
            first_seen.insert(email, loc.line);
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
    // At least one admin that has not expired. Checked even when there are other problems,
    // unless an entry's role is missing or invalid (or the entry is not a mapping): then
    // whether there is an admin cannot be told.
    if has_members_list && entries.iter().all(|e| e.role.is_some()) {
        let admins = entries.iter().filter(|e| e.role == Some(Role::Admin));
        let (mut listed, mut current) = (0usize, 0usize);
        for e in admins {
            listed += 1;
            if !matches!(e.expires, Some(d) if today > d) {
                current += 1;
            }
        }
        let loc = top.get("members").map(|n| n.loc).unwrap_or(root.loc);
        if listed == 0 {
            errors.push(Diagnostic::at(
                loc,
                "no member has role `org:admin`; the API requires at least one admin",
            ));
        } else if current == 0 {
            errors.push(Diagnostic::at(
                loc,
                format!(
                    "no member has role `org:admin` that has not expired; the API requires at least one admin (the {} listed {} past {} `expires` date)",
                    if listed == 1 { "admin".to_string() } else { format!("{listed} admins") },
                    if listed == 1 { "is" } else { "are" },
                    if listed == 1 { "its" } else { "their" }
                ),
            ));
        }
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

/// What could be read of one entry of `members`, even when it has errors.
struct Entry {
    /// The normalized email and where it is written, when its syntax is valid.
    email: Option<(String, Loc)>,
    /// The role, unless it is missing or invalid (or the entry is not a mapping).
    role: Option<Role>,
    /// The expiry date, when one is given and valid.
    expires: Option<Date>,
    /// The whole member, when the entry has no error (taken by the caller).
    member: Option<DesiredMember>,
}

fn validate_member(
    item: &Node,
    desired: &Desired,
    today: Date,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> Entry {
    let before = errors.len();
    let f = fields(item, "a member", MEMBER_FIELDS, errors);
    if !matches!(item.value, Value::Map(_)) {
        return Entry {
            email: None,
            role: None,
            expires: None,
            member: None,
        };
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
    let entry = Entry {
        email: email_value.clone(),
        role,
        expires: expires.map(|(d, _)| d),
        member: None,
    };
    if errors.len() > before {
        return entry;
    }
    let (Some((email, email_loc)), Some(role)) = (email_value, role) else {
        return entry;
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
    Entry {
        member: Some(DesiredMember {
            email,
            role,
            reason,
            expires: expires.map(|(d, _)| d),
            line: email_loc.line,
            column: email_loc.column,
        }),
        ..entry
    }
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
mod tree_tests {
    //! The tree builder: scalar resolution, positions, anchors, merges and limits.
    use super::*;

    fn tree(text: &str) -> Node {
        parse_tree(text).unwrap_or_else(|d| panic!("{text:?}: {d:?}"))
    }

    fn value_of<'a>(root: &'a Node, key: &str) -> &'a Node {
        let Value::Map(entries) = &root.value else {
            panic!("not a mapping: {root:?}")
        };
        &entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .unwrap()
            .1
    }

    fn at(n: &Node) -> (u64, u64) {
        (n.loc.line, n.loc.column)
    }

    #[test]
    fn scalars_resolve_as_serde_saphyr_does() {
        let cases = [
            ("1", "a number"),
            ("-12", "a number"),
            ("+3", "a number"),
            ("0x1F", "a number"),
            ("0o17", "a number"),
            ("1_000", "a number"),
            ("1.5", "a number"),
            (".inf", "a number"),
            ("-.Inf", "a number"),
            (".nan", "a number"),
            ("1e999", "a number"),
            ("~", "null"),
            ("null", "null"),
            ("NULL", "null"),
            ("", "null"),
            ("true", "a boolean"),
            ("False", "a boolean"),
            ("yes", "a boolean"),
            ("off", "a boolean"),
            ("007", "a number"),
            ("2027-03-31", "a string"),
            ("10%", "a string"),
            ("inf", "a string"),
            ("nulls", "a string"),
            ("'1'", "a string"),
            ("\"true\"", "a string"),
            ("'~'", "a string"),
            ("!!str 1", "a string"),
            ("! 1", "a string"),
            ("!!null x", "null"),
            ("!custom 1", "a number"),
            ("|\n  1", "a string"),
            (">\n  1", "a string"),
        ];
        for (text, kind) in cases {
            let root = tree(&format!("v: {text}\n"));
            assert_eq!(value_of(&root, "v").kind(), kind, "{text:?}");
        }
        assert!(matches!(
            value_of(&tree("v: 1\n"), "v").value,
            Value::Int(1)
        ));
        assert!(matches!(
            value_of(&tree("v: -0x10\n"), "v").value,
            Value::Int(-16)
        ));
    }

    #[test]
    fn positions_are_where_spanned_put_them() {
        let root = tree("a:\n  - k: 1\n    l: [2, {m: 3}]\n");
        assert_eq!(at(&root), (1, 1));
        let list = value_of(&root, "a");
        assert_eq!(at(list), (2, 3), "a block list starts at its first `-`");
        let Value::Seq(items) = &list.value else {
            panic!()
        };
        assert_eq!(
            at(&items[0]),
            (2, 5),
            "a block mapping starts at its first key"
        );
        let flow = value_of(&items[0], "l");
        assert_eq!(at(flow), (3, 8), "a flow list starts at its bracket");
        assert_eq!(at(&tree("\u{feff}v: 1\n")), (1, 1));
        assert_eq!(at(value_of(&tree("---\nv: 1\n"), "v")), (2, 4));
    }

    #[test]
    fn aliases_copy_the_anchored_node_at_the_alias() {
        let root = tree("a: &x {k: 1}\nb: *x\n");
        let b = value_of(&root, "b");
        assert_eq!(at(b), (2, 4));
        assert_eq!(at(value_of(b, "k")), (2, 4));
        assert!(matches!(value_of(b, "k").value, Value::Int(1)));
        let e = parse_tree("a: &x [*x]\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 8));
        let e = parse_tree("a: *nope\n").unwrap_err();
        assert!(e.message.contains("unknown anchor"), "{e:?}");
    }

    #[test]
    fn merge_keys_add_the_entries_not_already_set() {
        let root =
            tree("b: &b {role: org:admin, email: x}\nm:\n  email: a@example.com\n  <<: *b\n");
        let Value::Map(entries) = &value_of(&root, "m").value else {
            panic!()
        };
        let keys: Vec<_> = entries.iter().map(|(k, _)| k.as_str().unwrap()).collect();
        assert_eq!(keys, ["email", "role"]);
        assert_eq!(entries[0].1.as_str(), Some("a@example.com"));
        assert_eq!(at(&entries[1].1), (4, 7));
        let quoted = tree("m:\n  '<<': {a: 1}\n");
        assert!(value_of(&quoted, "m").as_str().is_none());
        assert_eq!(at(value_of(value_of(&quoted, "m"), "<<")), (2, 9));
        let e = parse_tree("m:\n  <<: 5\n").unwrap_err();
        assert!(e.message.contains("merge value"), "{e:?}");
    }

    #[test]
    fn duplicate_keys_are_kept_for_the_validator() {
        let Value::Map(entries) = tree("a: 1\na: 2\n").value else {
            panic!()
        };
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn documents_and_syntax_errors() {
        assert!(matches!(tree("").value, Value::Null));
        assert!(matches!(tree("# nothing\n").value, Value::Null));
        for two in ["a: 1\n---\nb: 2\n", "a: 1\n---\n"] {
            let e = parse_tree(two).unwrap_err();
            assert!(e.message.contains("multiple YAML documents"), "{e:?}");
            assert_eq!((e.line, e.column), (2, 1));
        }
        let e = parse_tree("a: [1, 2\n").unwrap_err();
        assert!(e.message.starts_with("invalid YAML: "), "{e:?}");
        assert!(e.line > 0 && e.column > 0);
    }

    #[test]
    fn nesting_and_size_limits() {
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_tree(&nest(MAX_DEPTH)).is_ok());
        let e = parse_tree(&nest(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!((e.line, e.column), (1, 33));
        // Aliases cannot nest deeper than the text could.
        let deep = format!("a: &a {}\nb: [[*a]]\n", nest(MAX_DEPTH - 2));
        assert!(parse_tree(&deep).unwrap_err().message.contains("nested"));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                vec![format!("*a{p}"); 10].join(", ")
            ));
        }
        assert!(parse_tree(&bomb).unwrap_err().message.contains("values"));
    }
}

#[cfg(test)]
#[path = "desired_tests.rs"]
mod tests;
