//! The string rules of the file (docs/contract.md §3, hostile input): bytes that are not UTF-8,
//! control characters and bidirectional overrides in any string, and emails written in
//! decomposed Unicode (NFD). teamsync refuses them at their position rather than repairing them.

use crate::yaml::{Diagnostic, Loc, Node, Value};

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

/// Why an email written in decomposed Unicode (NFD: a letter then a combining accent) is
/// refused, naming the character: it looks like the composed (NFC) email it would be, but is
/// another string, so it would never match the address the API holds. teamsync does not
/// normalize Unicode (docs/contract.md §3): the file must say what the API will be sent.
pub(super) fn decomposed(email: &str) -> Option<String> {
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

/// Line `line` (1-based) of `text` as the parser counts its columns: without its line break,
/// and the first line without a byte-order mark (a BOM is not a column; docs/contract.md §3: it
/// changes no check).
pub(super) fn line_at(text: &str, line: u32) -> &str {
    let found = text
        .lines()
        .nth((line as usize).saturating_sub(1))
        .unwrap_or_default();
    if line == 1 {
        found.strip_prefix('\u{feff}').unwrap_or(found)
    } else {
        found
    }
}

/// Where the first invisible character of `s`, a string written at `loc`, is
/// (docs/contract.md §3: invisible characters in an email are errors at their position): its
/// own column when it is written as it reads on the string's line, else `loc` (an escape such
/// as `"\u3164"`, a string over several lines, or none in it).
pub(super) fn invisible_loc(texts: &[&str], loc: Loc, s: &str) -> Loc {
    let Some((_, c)) = crate::email::invisible(s.trim()) else {
        return loc;
    };
    let Some(text) = texts.get(loc.part as usize) else {
        return loc;
    };
    let from = (loc.column as usize).saturating_sub(1);
    let found = line_at(text, loc.line)
        .chars()
        .skip(from)
        .position(|x| x == c);
    match found.and_then(|at| u32::try_from(at).ok()) {
        Some(at) => Loc {
            column: loc.column.saturating_add(at),
            ..loc
        },
        None => loc,
    }
}

/// A character no string of the file may hold (docs/contract.md §3, validation rules): C0 and
/// C1 controls and DEL (an ESC can rewrite a terminal line, a newline can start a CI workflow
/// command), and the bidirectional overrides and isolates that make text read other than it
/// is stored.
fn forbidden(c: char) -> bool {
    c.is_control() || crate::escape::is_bidi_control(c)
}

/// The first character of `s` that no string of the file may hold ([`forbidden`]), leading and
/// trailing whitespace aside.
pub(crate) fn forbidden_in(s: &str) -> Option<char> {
    s.trim().chars().find(|c| forbidden(*c))
}

/// Why the loader refuses `email` as a member's email (docs/contract.md §3), if it does: a
/// control character or bidirectional override, decomposed Unicode, or what
/// [`crate::email::check`] refuses (syntax, length, invisible characters). `export` and
/// `adopt` ask before they write an address from the API into a file, so that the file loads.
pub(crate) fn refused_email(email: &str) -> Option<String> {
    if let Some(c) = forbidden_in(email) {
        let what = if c.is_control() {
            "control character"
        } else {
            "bidirectional override"
        };
        return Some(format!(
            "the address holds the {what} U+{:04X}, which no string of the file may hold",
            c as u32
        ));
    }
    decomposed(email).or_else(|| crate::email::check(email).err())
}

/// Every string of the file, keys included, is free of [`forbidden`] characters, leading and
/// trailing whitespace aside (every field is trimmed, and a block scalar ends with a line
/// break).
pub(super) fn control_characters(root: &Node<'_>, errors: &mut Vec<Diagnostic>) {
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
                    errors.push(Diagnostic::at(
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
