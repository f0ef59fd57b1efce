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

/// A character no string of the file may hold (docs/contract.md §3, validation rules): C0 and
/// C1 controls and DEL (an ESC can rewrite a terminal line, a newline can start a CI workflow
/// command), and the bidirectional overrides and isolates that make text read other than it
/// is stored.
fn forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
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
