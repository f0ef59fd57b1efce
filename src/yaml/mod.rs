//! The YAML tree of a desired-state file: built from the event parser serde-saphyr uses
//! (granit-parser), with the line and column of every node, so that every diagnostic can name
//! its position (docs/contract.md §3). Validation lives in [`crate::desired`]; this module knows
//! YAML, not teamsync.

mod fast;
pub(crate) mod write;

use granit_parser::{ErrorKind, Event, Marker, Parser, ScalarStyle, ScanError, Tag};
use std::borrow::Cow;
use std::fmt;

/// One problem found in the file, at a 1-based line and column of one part (docs/contract.md
/// §10; 0 when the desired state is one file). Sorted by part, then position.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Diagnostic {
    pub(crate) part: usize,
    pub(crate) line: u64,
    pub(crate) column: u64,
    pub(crate) message: String,
}

impl Diagnostic {
    pub(crate) fn at(loc: Loc, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            part: loc.part as usize,
            line: loc.line.into(),
            column: loc.column.into(),
            message: message.into(),
        }
    }
}

/// A 1-based line and column, in the part numbered `part` (in path order, from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Loc {
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) part: u32,
}

impl Loc {
    pub(crate) fn start(part: u32) -> Loc {
        Loc {
            line: 1,
            column: 1,
            part,
        }
    }
}

/// What a node holds. Only strings and integers keep their value: validation needs no other.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    /// A YAML 1.1 boolean (`true`, `yes`, `on`, … in any case) and which.
    Bool(bool),
    Int(i128),
    Float,
    /// Borrowed from the file's text when written without escapes or folding.
    Str(Cow<'a, str>),
    Seq(Vec<Node<'a>>),
    Map(Entries<'a>),
}

/// A mapping's entries, key then value, in the order written.
pub(crate) type Entries<'a> = Vec<(Node<'a>, Node<'a>)>;

/// A value and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node<'a> {
    pub(crate) value: Value<'a>,
    pub(crate) loc: Loc,
}

impl Node<'_> {
    /// What the node is, for messages: `a string`, `a list`, …
    pub(crate) fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a number",
            Value::Float => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
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

fn loc_of(m: &Marker, part: u32) -> Loc {
    let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Loc {
        line: narrow(m.line()),
        column: narrow(m.col()).saturating_add(1),
        part,
    }
}

fn invalid(loc: Loc, what: impl fmt::Display) -> Diagnostic {
    let (line, column) = (u64::from(loc.line.max(1)), u64::from(loc.column.max(1)));
    Diagnostic {
        part: loc.part as usize,
        line,
        column,
        message: format!("invalid YAML: {what} at line {line}, column {column}"),
    }
}

enum Open<'a> {
    Seq(Vec<Node<'a>>),
    Map {
        entries: Entries<'a>,
        /// The key waiting for its value.
        key: Option<Node<'a>>,
        /// Indices in `entries` of merge keys (a plain `<<`).
        merges: Vec<usize>,
    },
}

/// A list or mapping being built.
struct Frame<'a> {
    open: Open<'a>,
    loc: Loc,
    anchor: usize,
    /// `TreeBuilder::produced` before this collection started.
    produced_before: u64,
    /// The greatest height of its children so far (a scalar's height is 0).
    child_height: usize,
}

/// A finished node, with what the limits need to know of it.
struct Built<'a> {
    node: Node<'a>,
    /// Nodes in it, itself included.
    size: u64,
    /// Levels of lists and mappings in it (0 for a scalar).
    height: usize,
}

#[derive(Default)]
struct TreeBuilder<'a> {
    stack: Vec<Frame<'a>>,
    /// By anchor id: the anchored node, its size and its height.
    anchors: Vec<Option<(Node<'a>, u64, usize)>>,
    /// Nodes produced so far, alias copies included.
    produced: u64,
    /// Nodes kept in `anchors`.
    anchored: u64,
    root: Option<Node<'a>>,
}

impl<'a> TreeBuilder<'a> {
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

    fn open(&mut self, open: Open<'a>, anchor: usize, loc: Loc) -> Result<(), Diagnostic> {
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
    fn complete(
        &mut self,
        built: Built<'a>,
        anchor: usize,
        merge_key: bool,
    ) -> Result<(), Diagnostic> {
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
        value: Value<'a>,
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
fn relocate(node: &mut Node<'_>, loc: Loc) {
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

fn same_key(a: &Node<'_>, b: &Node<'_>) -> bool {
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
fn merge<'a>(entries: Entries<'a>, merges: &[usize]) -> Result<Entries<'a>, Diagnostic> {
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

/// Parses one YAML document into a tree, or the first syntax error (or exceeded limit) with its
/// position. An empty document is a null at 1:1.
#[cfg(test)]
pub(crate) fn parse_tree(text: &str) -> Result<Node<'_>, Diagnostic> {
    parse_part(text, 0)
}

/// Whether the fast path reads `text` (else granit-parser does): for tests that hold both
/// readers to one rule.
#[cfg(test)]
pub(crate) fn read_by_fast_path(text: &str) -> bool {
    fast::parse(text, 0).is_some()
}

/// [`parse_tree`] for the part numbered `part`: every position names it. The common shape of
/// a desired-state file is read by the fast path ([`fast`]), anything else by granit-parser;
/// both build the same tree.
#[cfg(test)]
pub(crate) fn parse_part(text: &str, part: u32) -> Result<Node<'_>, Diagnostic> {
    parse_part_noting_reader(text, part).0
}

/// [`parse_tree`] for the part numbered `part`, as [`parse_part`], and whether the fast path
/// read the text: then every string of the tree (keys included) is characters of one line of
/// `text` as written, with no escape and no line break, and `text` holds no control character
/// but line feeds, so a check of the strings' characters can be made on `text` alone
/// (docs/performance.md).
pub(crate) fn parse_part_noting_reader(
    text: &str,
    part: u32,
) -> (Result<Node<'_>, Diagnostic>, bool) {
    match fast::parse(text, part) {
        Some(root) => (Ok(root), true),
        None => (parse_granit(text, part), false),
    }
}

/// [`parse_part`] by granit-parser alone.
fn parse_granit(text: &str, part: u32) -> Result<Node<'_>, Diagnostic> {
    let options = granit_parser::options! { emit_comments: false };
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut tree = TreeBuilder::default();
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| scan_error(&e, part))?;
        let loc = loc_of(&span.start, part);
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
        loc: Loc::start(part),
    }))
}

fn scan_error(e: &ScanError, part: u32) -> Diagnostic {
    let info = match e.kind() {
        ErrorKind::UnknownAnchor => "alias references unknown anchor".to_string(),
        _ => e.info(),
    };
    let first = info.lines().next().unwrap_or("").trim();
    invalid(
        loc_of(e.marker(), part),
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
fn resolve_scalar<'a>(value: Cow<'a, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value<'a> {
    let plain = style == ScalarStyle::Plain;
    match tag.and_then(tag_name).as_deref() {
        Some("str") => return Value::Str(value),
        Some("null") => return Value::Null,
        Some("bool" | "int" | "float") => {}
        _ if !plain => return Value::Str(value),
        _ => {
            if matches!(value.as_ref(), "" | "~" | "null" | "Null" | "NULL") {
                return Value::Null;
            }
        }
    }
    let t = value.trim_matches([' ', '\t', '\r', '\n']);
    // Most scalars (emails, roles, names, keys) start with a letter: no integer does, and the
    // only floats Rust parses from such text (`inf`, `nan`) are not YAML floats (see
    // `is_float`): a boolean or a string, without the number parsers.
    if t.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        return if t.len() <= 5 && is_yaml11_bool(t) {
            Value::Bool(is_yaml11_true(t))
        } else {
            Value::Str(value)
        };
    }
    if is_yaml11_bool(t) {
        Value::Bool(is_yaml11_true(t))
    } else if let Some(n) = parse_int(t) {
        Value::Int(n)
    } else if is_float(t) {
        Value::Float
    } else {
        Value::Str(value)
    }
}

fn is_yaml11_true(t: &str) -> bool {
    ["true", "yes", "y", "on"]
        .iter()
        .any(|b| t.eq_ignore_ascii_case(b))
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

#[cfg(test)]
mod tests {
    //! The tree builder: scalar resolution, positions, anchors, merges and limits.
    use super::*;

    fn tree(text: &str) -> Node<'_> {
        parse_tree(text).unwrap_or_else(|d| panic!("{text:?}: {d:?}"))
    }

    fn value_of<'a>(root: &'a Node<'a>, key: &str) -> &'a Node<'a> {
        let Value::Map(entries) = &root.value else {
            panic!("not a mapping: {root:?}")
        };
        &entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .unwrap()
            .1
    }

    fn at(n: &Node<'_>) -> (u32, u32) {
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
            let text = format!("v: {text}\n");
            let root = tree(&text);
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
