//! Splice-level edits of the `members` list (docs/contract.md §7): the text is parsed once more
//! with granit-parser for the byte span of every entry and of its `role` value, and each
//! adopted change becomes one replacement of a byte range. Every byte outside those ranges is
//! copied as it was: comments, blank lines, quoting, indentation, flow or block style, CRLF
//! line endings and a BOM.
//!
//! What an entry owns, for a deletion: its lines, from its `-` to the end of its last value
//! (trailing comment included), the comment lines below it indented deeper than its `-`, and the
//! comment lines directly above it. A comment block that opens a group (it follows a blank line
//! or the `members:` line, and the entry is followed directly by another entry) is the group's
//! heading and stays.
//!
//! An entry that shares a node with the rest of the file — an anchor in it that an alias
//! outside it refers to, or an alias or merge key in it that refers to an anchor outside it
//! (`role: &m org:member` and `role: *m`; `- &t {…}` and `<<: *t`) — is never edited: rewriting
//! the anchor would change how the other entry reads, deleting it would leave the alias
//! dangling (docs/contract.md §7).

use crate::email::Email;
use crate::role::Role;
use granit_parser::{Event, Parser, ScalarStyle, StructureStyle};

/// How a scalar is written, for new text in the same style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Quote {
    Plain,
    Single,
    Double,
    /// A block scalar (`|`, `>`): not rewritten in place.
    Block,
}

impl Quote {
    fn of(style: ScalarStyle) -> Quote {
        match style {
            ScalarStyle::Plain => Quote::Plain,
            ScalarStyle::SingleQuoted => Quote::Single,
            ScalarStyle::DoubleQuoted => Quote::Double,
            _ => Quote::Block,
        }
    }
}

/// A scalar value in the text.
#[derive(Clone, Copy, Debug)]
struct Scalar {
    start: usize,
    end: usize,
    quote: Quote,
}

/// One entry of `members`.
#[derive(Debug)]
struct Item {
    /// Its email, when written as a scalar directly in the entry.
    email: Option<Email>,
    email_quote: Quote,
    role: Option<Scalar>,
    reason_quote: Option<Quote>,
    /// Whether `role` is written before `email`.
    role_first: bool,
    /// A flow mapping (`{email: …, role: …}`) rather than a block one.
    flow: bool,
    /// The node's first byte (its first key, or its `{`).
    start: usize,
    /// Just after the node's last byte of content.
    end: usize,
    /// In a block list: the byte where the line of its `-` starts, and the `-`'s column.
    dash: Option<(usize, usize)>,
    /// Whether it shares a node with the rest of the file through an anchor, an alias or a
    /// merge key.
    shared: bool,
}

/// The `members` list as written.
struct Layout {
    flow: bool,
    /// The start of the line after the `members:` key.
    after_key: usize,
    items: Vec<Item>,
}

/// One replacement of `text[start..end]`.
#[derive(Debug)]
struct Splice {
    start: usize,
    end: usize,
    with: String,
}

/// Why an edit could not be made in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum NotEditable {
    /// The file has no `members` list that can be edited (an alias, or not a list).
    NoList,
    /// The entry's email or role is not written as a plain value in it (an alias, a merge key
    /// or a block scalar).
    Entry,
    /// The entry shares a node with another part of the file (an anchor another entry's alias
    /// or merge key refers to, or an alias or merge key of its own to one outside it).
    Shared,
}

/// What to change in the list.
#[derive(Debug, Default)]
pub(super) struct Edits {
    /// New entries: email, role.
    pub(super) add: Vec<(Email, Role)>,
    /// Entries whose role changes.
    pub(super) set_role: Vec<(Email, Role)>,
    /// Entries to delete.
    pub(super) delete: Vec<Email>,
    /// The `reason` of new entries.
    pub(super) reason: String,
}

/// The result of [`apply`]: the new text, and the edits that could not be made (with why).
pub(super) struct Edited {
    pub(super) text: String,
    pub(super) failed: Vec<(Email, NotEditable)>,
}

/// Applies `edits` to `text`, a valid desired file.
///
/// A file whose last line has no line break is edited with one added, and given back without
/// it: every edit then works on whole lines (a deleted last entry does not leave the line
/// break before it as the file's new end, an entry added after it does not need one made for
/// it), and the file still ends as it did (docs/contract.md §7).
pub(super) fn apply(text: &str, edits: &Edits) -> Edited {
    if text.is_empty() || text.ends_with('\n') {
        return apply_lines(text, edits);
    }
    let nl = newline(text);
    let mut edited = apply_lines(&format!("{text}{nl}"), edits);
    if let Some(kept) = edited.text.strip_suffix(nl) {
        edited.text.truncate(kept.len());
    }
    edited
}

/// [`apply`] on a text whose last line ends with a line break (or is empty).
fn apply_lines(text: &str, edits: &Edits) -> Edited {
    let mut failed = Vec::new();
    let Some(layout) = scan(text) else {
        let all = edits
            .add
            .iter()
            .map(|(e, _)| e)
            .chain(edits.set_role.iter().map(|(e, _)| e))
            .chain(&edits.delete);
        return Edited {
            text: text.to_string(),
            failed: all.map(|e| (e.clone(), NotEditable::NoList)).collect(),
        };
    };
    let index: std::collections::HashMap<&Email, usize> = layout
        .items
        .iter()
        .enumerate()
        .filter_map(|(n, i)| i.email.as_ref().map(|e| (e, n)))
        .collect();
    let find = |email: &Email| index.get(email).copied();
    let mut splices = Vec::new();

    let shared = |email: &Email| find(email).is_some_and(|n| layout.items[n].shared);
    for (email, role) in &edits.set_role {
        if shared(email) {
            failed.push((email.clone(), NotEditable::Shared));
            continue;
        }
        match find(email).and_then(|n| layout.items[n].role) {
            Some(s) if s.quote != Quote::Block => splices.push(Splice {
                start: s.start,
                end: s.end,
                with: quoted(role.as_str(), s.quote),
            }),
            _ => failed.push((email.clone(), NotEditable::Entry)),
        }
    }

    let mut deleted = vec![false; layout.items.len()];
    for email in &edits.delete {
        if shared(email) {
            failed.push((email.clone(), NotEditable::Shared));
            continue;
        }
        match find(email) {
            Some(n) if layout.flow || layout.items[n].dash.is_some() => deleted[n] = true,
            _ => failed.push((email.clone(), NotEditable::Entry)),
        }
    }
    if layout.flow {
        splices.extend(flow_deletions(&layout, &deleted));
    } else {
        for (n, _) in deleted.iter().enumerate().filter(|(_, d)| **d) {
            let (start, end) = block_extent(text, &layout, n);
            splices.push(Splice {
                start,
                end,
                with: String::new(),
            });
        }
    }

    if !edits.add.is_empty() {
        match insertions(text, &layout, &deleted, edits) {
            Some(more) => splices.extend(more),
            None => failed.extend(
                edits
                    .add
                    .iter()
                    .map(|(e, _)| (e.clone(), NotEditable::NoList)),
            ),
        }
    }

    // From the end, so that earlier offsets stay right; at one offset, a deletion that starts
    // there goes before an insertion made there.
    splices.sort_by(|a, b| b.start.cmp(&a.start).then(b.end.cmp(&a.end)));
    let mut out = text.to_string();
    for s in splices {
        out.replace_range(s.start..s.end, &s.with);
    }
    Edited { text: out, failed }
}

// ---------------------------------------------------------------------------------------------
// Reading the layout.

fn byte(m: &granit_parser::Marker) -> usize {
    m.byte_offset().unwrap_or(0)
}

/// The index just after the node that starts at `i`.
fn skip(events: &[(Event, usize, usize)], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while j < events.len() {
        match events[j].0 {
            Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        j += 1;
        if depth == 0 {
            break;
        }
    }
    j
}

/// The `members` list of a valid file, or `None` when it is not a list written in the file.
fn scan(text: &str) -> Option<Layout> {
    let options = granit_parser::options! { emit_comments: false };
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut events = Vec::new();
    while let Some(next) = parser.next_event() {
        let (event, span) = next.ok()?;
        events.push((event, byte(&span.start), byte(&span.end)));
    }
    let root = events
        .iter()
        .position(|e| matches!(e.0, Event::MappingStart(..)))?;
    let mut i = root + 1;
    let (mut from, mut to) = (None, 0);
    while i < events.len() && !matches!(events[i].0, Event::MappingEnd) {
        let value_end = skip(&events, i + 1);
        if matches!(&events[i].0, Event::Scalar(k, ..) if k == "members") {
            from = Some(i + 1);
            to = value_end;
        }
        i = value_end;
    }
    let from = from?;
    let Event::SequenceStart(style, ..) = events[from].0 else {
        return None;
    };
    let flow = style == StructureStyle::Flow;
    // Where each anchor is defined, and where each is referred to.
    let mut defined: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut referred: Vec<(usize, usize)> = Vec::new();
    for (at, (event, ..)) in events.iter().enumerate() {
        match event {
            Event::Alias(id) => referred.push((*id, at)),
            e => {
                if let Some(id) = e.anchor_id() {
                    defined.insert(id, at);
                }
            }
        }
    }
    let mut items = Vec::new();
    let mut j = from + 1;
    while j + 1 < to {
        let end = skip(&events, j);
        let mut it = item(text, &events[j..end], flow)?;
        let inside = |at: usize| (j..end).contains(&at);
        // A merge key refers through an alias too (`<<: *t`); an inline one (`<<: {…}`) shares
        // nothing, and its entry's role is not written in it anyway.
        it.shared = referred.iter().any(|&(id, at)| {
            let from_here = inside(at);
            let to_here = defined.get(&id).is_some_and(|&d| inside(d));
            from_here != to_here
        });
        items.push(it);
        j = end;
    }
    Some(Layout {
        flow,
        after_key: line_end(text, events[from - 1].2).min(events[from].1),
        items,
    })
}

fn item(text: &str, events: &[(Event, usize, usize)], in_flow: bool) -> Option<Item> {
    let (first, start, _) = events.first()?;
    let flow = matches!(first, Event::MappingStart(StructureStyle::Flow, ..));
    // The end of the content: the greatest end of its events, a block mapping's end (which
    // sits at the next token) left out, then back over the whitespace a block scalar takes.
    let mut end = events
        .iter()
        .filter(|(e, ..)| !(matches!(e, Event::MappingEnd | Event::SequenceEnd)) || flow)
        .map(|(_, _, end)| *end)
        .max()
        .unwrap_or(*start);
    end = text[..end].trim_end_matches([' ', '\t', '\r', '\n']).len();
    let mut item = Item {
        email: None,
        email_quote: Quote::Plain,
        role: None,
        reason_quote: None,
        role_first: false,
        flow,
        start: *start,
        end,
        dash: if in_flow { None } else { dash(text, *start) },
        shared: false,
    };
    if !matches!(first, Event::MappingStart(..)) {
        return Some(item);
    }
    let mut k = 1;
    while k < events.len() && !matches!(events[k].0, Event::MappingEnd) {
        let value_end = skip(events, k + 1);
        if let (Event::Scalar(key, ..), Some((Event::Scalar(value, style, ..), vs, ve))) =
            (&events[k].0, events.get(k + 1))
        {
            let quote = Quote::of(*style);
            match key.as_ref() {
                "email" => {
                    item.email = Some(Email::new(value));
                    item.email_quote = quote;
                }
                "role" => {
                    item.role_first = item.email.is_none();
                    item.role = Some(Scalar {
                        start: *vs,
                        end: *ve,
                        quote,
                    });
                }
                "reason" => item.reason_quote = Some(quote),
                _ => {}
            }
        }
        k = value_end;
    }
    Some(item)
}

/// The start of the line holding the `-` of the block-list entry that starts at `start`, and
/// the `-`'s column: on the entry's own line, or alone on the line above it.
fn dash(text: &str, start: usize) -> Option<(usize, usize)> {
    let line = line_start(text, start);
    let before = &text[line..start];
    let indent = before.len() - before.trim_start_matches(' ').len();
    if before[indent..].starts_with('-') {
        return Some((line, indent));
    }
    if !before.trim().is_empty() || line == 0 {
        return None;
    }
    let above = line_start(text, line - 1);
    let prev = &text[above..line];
    let indent = prev.len() - prev.trim_start_matches(' ').len();
    let rest = prev[indent..].trim_end_matches(['\r', '\n']);
    let after = rest.strip_prefix('-')?;
    (after.trim().is_empty() || after.starts_with([' ', '\t'])).then_some((above, indent))
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Just after the line break that ends the line holding `at` (the text's end on the last line).
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// The lines of `text[from..to]`, each with its start.
fn lines_between(text: &str, from: usize, to: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        let end = line_end(text, at).min(to);
        out.push((at, &text[at..end]));
        at = end;
    }
    out
}

/// Where the block entry `n` ends: after its last line, and after the comment lines right
/// below it that are indented deeper than its `-`.
fn block_end(text: &str, layout: &Layout, n: usize) -> usize {
    let item = &layout.items[n];
    let mut end = line_end(text, item.end);
    let Some((_, dash_col)) = item.dash else {
        return end;
    };
    let limit = layout
        .items
        .get(n + 1)
        .and_then(|next| next.dash.map(|(line, _)| line))
        .unwrap_or(text.len());
    for (at, line) in lines_between(text, end, limit) {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if is_comment(line) && indent > dash_col {
            end = at + line.len();
        } else {
            break;
        }
    }
    end
}

/// Where the comment lines that block entry `n` owns above its `-` start (its `-` line when
/// it owns none).
fn block_own_start(text: &str, layout: &Layout, n: usize) -> usize {
    let Some((dash_line, _)) = layout.items[n].dash else {
        return layout.items[n].start;
    };
    let floor = if n == 0 {
        layout.after_key
    } else {
        block_end(text, layout, n - 1)
    }
    .min(dash_line);
    let above = lines_between(text, floor, dash_line);
    let mut start = dash_line;
    for (at, line) in above.iter().rev() {
        if is_comment(line) {
            start = *at;
        } else {
            break;
        }
    }
    if start == dash_line {
        return start;
    }
    // A heading: the comments follow a blank line or the list's start, and the entry is
    // followed directly by another entry.
    let opens_group = n == 0 || above.iter().any(|(at, l)| *at < start && is_blank(l));
    let end = block_end(text, layout, n);
    let followed = layout.items.get(n + 1).is_some_and(|next| {
        let next_start = next.dash.map_or(next.start, |(l, _)| l);
        lines_between(text, end, next_start)
            .iter()
            .all(|(_, l)| !is_blank(l))
    });
    if opens_group && followed {
        dash_line
    } else {
        start
    }
}

/// The bytes a deleted block entry takes with it.
fn block_extent(text: &str, layout: &Layout, n: usize) -> (usize, usize) {
    (block_own_start(text, layout, n), block_end(text, layout, n))
}

/// Deletions in a flow list (`[{…}, {…}]`): each run of deleted entries goes with the
/// separator that joins it to the entry kept after it (or before it, at the end).
fn flow_deletions(layout: &Layout, deleted: &[bool]) -> Vec<Splice> {
    let items = &layout.items;
    let mut out = Vec::new();
    let mut n = 0;
    while n < items.len() {
        if !deleted[n] {
            n += 1;
            continue;
        }
        let first = n;
        while n < items.len() && deleted[n] {
            n += 1;
        }
        let last = n - 1;
        let (start, end) = if n < items.len() {
            (items[first].start, items[n].start)
        } else if first > 0 {
            (items[first - 1].end, items[last].end)
        } else {
            (items[first].start, items[last].end)
        };
        out.push(Splice {
            start,
            end,
            with: String::new(),
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// New entries.

/// The line break the file uses.
fn newline(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// Whether `s` (an email, a role, the adoption reason) can be written as a plain scalar in a
/// block or flow mapping and read back as the same string: it starts with a letter or digit,
/// holds only letters, digits, spaces and `._%+-@:/`, has no `: ` and does not end with a
/// space or `:`. (None of the three can read as a number, a boolean or null: an email holds
/// `@`, a role `:`, the reason several words.)
fn plain_safe(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " ._%+-@:/".contains(c))
        && !s.contains(": ")
        && !s.ends_with([' ', ':'])
        && (s.contains(['@', ':']) || s.contains(' '))
}

/// `s` written as a scalar in the style `quote` (double-quoted, with what is not printable
/// escaped, when it could not be read back otherwise: [`crate::yaml::write`]).
pub(super) fn quoted(s: &str, quote: Quote) -> String {
    match quote {
        Quote::Plain | Quote::Block if plain_safe(s) => s.to_string(),
        Quote::Single if s.chars().all(crate::yaml::write::printable) => {
            format!("'{}'", s.replace('\'', "''"))
        }
        _ => crate::yaml::write::double_quoted(s),
    }
}

/// A new entry's fields, in the template's order and quoting.
fn fields(template: &Item, email: &Email, role: Role, reason: &str) -> Vec<(&'static str, String)> {
    let role_quote = template.role.map_or(Quote::Plain, |s| s.quote).min_plain();
    let email_quote = template.email_quote.min_plain();
    let e = ("email", quoted(email.as_str(), email_quote));
    let r = ("role", quoted(role.as_str(), role_quote));
    let why = (
        "reason",
        quoted(
            reason,
            template.reason_quote.unwrap_or(email_quote).min_plain(),
        ),
    );
    if template.role_first {
        vec![r, e, why]
    } else {
        vec![e, r, why]
    }
}

impl Quote {
    /// A block style is not copied: a new entry's values are one line.
    fn min_plain(self) -> Quote {
        match self {
            Quote::Block => Quote::Plain,
            q => q,
        }
    }
}

/// A flow mapping in the template's spacing: `{email: a, role: b}` or `{ email: a, … }`.
fn flow_mapping(text: &str, template: &Item, fields: &[(&str, String)]) -> String {
    let spaced = text[template.start..].starts_with("{ ");
    let inner = fields
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    if spaced {
        format!("{{ {inner} }}")
    } else {
        format!("{{{inner}}}")
    }
}

/// A block-list entry in the template's indentation, ending with a line break.
fn block_entry(text: &str, template: &Item, fields: &[(&str, String)], nl: &str) -> Option<String> {
    let (dash_line, dash_col) = template.dash?;
    let key_col = template.start - line_start(text, template.start);
    // The gap between `-` and the entry when both are on one line; one space otherwise.
    let gap = if line_start(text, template.start) == dash_line && key_col > dash_col {
        key_col - dash_col - 1
    } else {
        1
    };
    let key_col = dash_col + 1 + gap;
    let mut out = format!("{}-{}", " ".repeat(dash_col), " ".repeat(gap));
    if template.flow {
        out.push_str(&flow_mapping(text, template, fields));
        out.push_str(nl);
        return Some(out);
    }
    for (n, (k, v)) in fields.iter().enumerate() {
        if n > 0 {
            out.push_str(&" ".repeat(key_col));
        }
        out.push_str(&format!("{k}: {v}{nl}"));
    }
    Some(out)
}

/// The insertions for `edits.add`: in sorted position when the list is sorted by email, else
/// at its end; in the style of the nearest entry. `None` when the list has no entry to copy
/// the style of, or that entry's layout cannot be read.
fn insertions(text: &str, layout: &Layout, deleted: &[bool], edits: &Edits) -> Option<Vec<Splice>> {
    let items = &layout.items;
    if items.is_empty() {
        return None;
    }
    let emails: Option<Vec<&Email>> = items.iter().map(|i| i.email.as_ref()).collect();
    let sorted = emails
        .as_ref()
        .is_some_and(|e| e.windows(2).all(|w| w[0] <= w[1]));
    let mut add: Vec<&(Email, Role)> = edits.add.iter().collect();
    add.sort_by(|a, b| a.0.cmp(&b.0));
    // The gap each goes into: before entry `gap` (items.len() = at the end).
    let mut by_gap: Vec<(usize, Vec<&(Email, Role)>)> = Vec::new();
    for a in add {
        let gap = match (&emails, sorted) {
            (Some(e), true) => e.partition_point(|x| *x < &a.0),
            _ => items.len(),
        };
        match by_gap.last_mut() {
            Some((g, list)) if *g == gap => list.push(a),
            _ => by_gap.push((gap, vec![a])),
        }
    }
    let nl = newline(text);
    let mut out = Vec::new();
    for (gap, adds) in by_gap {
        // The nearest kept entry before the gap, else after it; any entry for the style.
        let before = (0..gap).rev().find(|&n| !deleted[n]);
        let after = (gap..items.len()).find(|&n| !deleted[n]);
        let template = &items[gap.saturating_sub(1).min(items.len() - 1)];
        let entries = adds
            .iter()
            .map(|(email, role)| fields(template, email, *role, &edits.reason));
        if layout.flow {
            let maps: Vec<String> = entries.map(|f| flow_mapping(text, template, &f)).collect();
            let joined = maps.join(", ");
            let (at, with) = match (before, after) {
                (Some(b), _) => (items[b].end, format!(", {joined}")),
                (None, Some(a)) => (items[a].start, format!("{joined}, ")),
                // Every entry goes: the new ones are the whole list.
                (None, None) => (items[0].start, joined),
            };
            out.push(Splice {
                start: at,
                end: at,
                with,
            });
            continue;
        }
        let mut block = String::new();
        for f in entries {
            block.push_str(&block_entry(text, template, &f, nl)?);
        }
        let at = match gap {
            0 => block_own_start(text, layout, 0),
            g => block_end(text, layout, g - 1),
        };
        out.push(Splice {
            start: at,
            end: at,
            with: block,
        });
    }
    Some(out)
}
