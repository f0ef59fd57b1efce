//! Data from the file or the API shown on a terminal or in a CI log: control characters are
//! escaped, so that a `reason`, an email or an error `code` can never move the cursor, erase a
//! line at the apply prompt, or put a `::warning …` workflow command on a line of its own.
//! Markdown has its own escaping (`render::markdown`); this is for text.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is: C0 and C1 controls, DEL, the Unicode
/// bidirectional overrides and isolates, which reorder what is shown, the line and paragraph
/// separators (U+2028, U+2029), which some terminals and log viewers break lines at, and the
/// invisible characters ([`is_invisible`]), so that `admin\u{3164}@x.io` never
/// reads as `admin@x.io` in a plan. The zero-width joiner and the variation selectors that build
/// emoji (U+200D, U+FE00–U+FE0F) are kept: a `reason` may hold one, and alone they spoof nothing
/// an email could carry (the file refuses them there).
pub(crate) fn is_unsafe(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control()
        || is_bidi_control(c)
        || matches!(c, '\u{2028}' | '\u{2029}')
        || (!matches!(c, '\u{200d}' | '\u{fe00}'..='\u{fe0f}') && is_invisible(c))
}

/// Whether `c` is invisible in an address (docs/contract.md §3, hostile input): every Unicode
/// Default_Ignorable_Code_Point (zero-width spaces and joiners, LRM and RLM, the soft hyphen,
/// variation selectors, tag characters, …), and the Hangul fillers U+115F, U+1160, U+3164 and
/// U+FFA0, which the property lists too but which render as blank space in most fonts. The
/// property comes from `icu_properties` (ICU4X's Unicode Character Database, already compiled in
/// for `url`'s IDNA), so the table follows Unicode's updates rather than a copy kept here.
pub(crate) fn is_invisible(c: char) -> bool {
    use icu_properties::props::{BinaryProperty, DefaultIgnorableCodePoint};
    !c.is_ascii()
        && (matches!(c, '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}')
            || DefaultIgnorableCodePoint::for_char(c))
}

/// The Unicode bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069): they make
/// text read other than it is stored. The file refuses them, and every output escapes them.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every character `escaped` picks written as `\u{…}`, the one form teamsync shows
/// such characters in (terminal, comments of the files it writes, messages); borrowed when
/// there is none.
pub(crate) fn escape_where(s: &str, escaped: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&escaped) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if escaped(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` with every unsafe character written as an escape (`\n`, `\r`, `\t`, `\u{1b}`, …);
/// borrowed, without a copy, when there is none (the common case).
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert!(matches!(
            escape("plain reason, é ✓"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(escape("a\nb"), "a\\nb");
        assert_eq!(escape("x\r\n::warning ::owned"), "x\\r\\n::warning ::owned");
        assert_eq!(escape("\u{1b}[2K\u{1b}[1A"), "\\u{1b}[2K\\u{1b}[1A");
        assert_eq!(escape("tab\there"), "tab\\there");
        assert_eq!(escape("\u{7f}\u{9b}"), "\\u{7f}\\u{9b}");
        assert_eq!(escape("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(escape("a\u{2028}::warning b"), "a\\u{2028}::warning b");
        assert_eq!(escape("admin\u{3164}@x.io"), "admin\\u{3164}@x.io");
        assert_eq!(escape("a\u{200b}b\u{ad}c"), "a\\u{200b}b\\u{ad}c");
        // Emoji sequences in a reason stay as they are.
        assert!(matches!(
            escape("on call \u{1f9d1}\u{200d}\u{1f4bb}\u{fe0f}"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
