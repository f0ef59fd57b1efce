//! Writing YAML that teamsync makes from data it does not control (an API's emails and roles,
//! in `export` and `adopt`): what may be written as it is, a double-quoted scalar with every
//! other character escaped, and the rest of a comment line (docs/contract.md §6: `export` never
//! writes a control or bidirectional character raw, not in comments either).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` may be written raw into a file teamsync writes: YAML's printable characters
/// (`c-printable`: tab, line feed, carriage return and `U+0085` aside) less every control
/// character, the bidirectional overrides and isolates (which make text read other than it is
/// stored), the invisible characters ([`crate::escape::is_invisible`]: zero-width spaces, LRM and
/// RLM, Hangul fillers, …) and the line and paragraph separators U+2028 and U+2029 (line
/// breaks to YAML 1.1 and to many editors).
pub(crate) fn printable(c: char) -> bool {
    let yaml_printable = matches!(c, ' '..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
    yaml_printable
        && !matches!(c, '\u{2028}' | '\u{2029}')
        && !crate::escape::is_bidi_control(c)
        && !crate::escape::is_invisible(c)
}

/// `s` as a YAML double-quoted scalar that reads back as `s`: `"`, `\` and every character that
/// is not [`printable`] escaped (`\e` as `\u001b`, above U+FFFF as `\U000e0001`).
pub(crate) fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if printable(c) => out.push(c),
            c if u32::from(c) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

/// `s` made safe for the rest of a comment line: every character that is not [`printable`]
/// (a line break included) written as an escape, `\u{1b}`, as teamsync shows such characters
/// on a terminal.
pub(crate) fn comment(s: &str) -> Cow<'_, str> {
    crate::escape::escape_where(s, |c| !printable(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_printable_is_escaped_and_reads_back() {
        for s in [
            "plain@x.io",
            "é@x.io",
            "a\u{1b}[2K\u{7}b",
            "rlo\u{202e}x",
            "nel\u{85}sep\u{2028}",
            "filler\u{3164}zw\u{200b}",
            "quote\"back\\slash",
            "tag\u{e0041}",
            "nonchar\u{fffe}",
            "tab\tnl\ncr\r",
        ] {
            let q = double_quoted(s);
            assert!(q.chars().all(printable), "{s:?} written as {q:?}");
            let read = crate::yaml::parse_tree(&q).unwrap();
            assert_eq!(read.as_str(), Some(s), "{q}");
            assert!(comment(s).chars().all(printable), "{:?}", comment(s));
        }
        assert_eq!(double_quoted("a\u{1b}b"), "\"a\\u001bb\"");
        assert_eq!(double_quoted("t\u{e0041}"), "\"t\\U000e0041\"");
        assert_eq!(comment("a\u{7}b\u{202e}"), "a\\u{7}b\\u{202e}");
        assert!(matches!(comment("plain, é ✓"), Cow::Borrowed(_)));
    }
}
