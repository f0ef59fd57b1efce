//! Email globs for `ignore`: `*` matches any run of characters, `?` exactly one; matching is
//! case-insensitive and the whole email must match (docs/contract.md §3).

use crate::email::Email;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Glob {
    /// Trimmed and ASCII-lower-cased, like the emails it is matched against.
    pattern: String,
    chars: Vec<char>,
}

impl Glob {
    pub(crate) fn new(pattern: &str) -> Glob {
        // ASCII case folding, as emails are compared (docs/contract.md §3).
        let pattern = pattern.trim().to_ascii_lowercase();
        Glob {
            chars: pattern.chars().collect(),
            pattern,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the whole of `email` matches. Both sides are lower-case already.
    pub(crate) fn matches(&self, email: &Email) -> bool {
        let text = email.as_str();
        // The usual patterns, `*@vendor.io` and exact emails, without the matcher: a suffix
        // or an equality (a million members are matched against each pattern).
        let p = self.pattern.as_str();
        match p.strip_prefix('*') {
            Some(suffix) if !suffix.contains(['*', '?']) => return text.ends_with(suffix),
            None if !p.contains(['*', '?']) => return text == p,
            _ => {}
        }
        if text.is_ascii() && self.pattern.is_ascii() {
            // The common case, without allocating.
            return wildcard(self.pattern.as_bytes(), text.as_bytes(), b'*', b'?');
        }
        let text: Vec<char> = text.chars().collect();
        wildcard(&self.chars, &text, '*', '?')
    }
}

/// Whether the whole `text` matches pattern `p`, where `star` matches any run of symbols and
/// `any` exactly one. Iterative, with single-star backtracking: linear in practice, never
/// exponential.
fn wildcard<T: Copy + PartialEq>(p: &[T], text: &[T], star: T, any: T) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut last_star: Option<(usize, usize)> = None;
    while ti < text.len() {
        // A star is a wildcard even where the text holds a `*` too: tried first, so
        // `ops*@vendor.io` matches `ops*team@vendor.io`.
        if pi < p.len() && p[pi] == star {
            last_star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == any || p[pi] == text[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = last_star {
            pi = sp + 1;
            ti = st + 1;
            last_star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == star {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::Glob;
    use crate::email::Email;
    use proptest::prelude::*;

    fn matches(pattern: &str, email: &str) -> bool {
        Glob::new(pattern).matches(&Email::new(email))
    }

    #[test]
    fn star_and_question_mark() {
        assert!(matches("*@vendor.io", "support@vendor.io"));
        assert!(matches("*@vendor.io", "@vendor.io"));
        assert!(!matches("*@vendor.io", "support@vendor.io.evil.com"));
        assert!(!matches("*@vendor.io", "support@notvendor.com"));
        assert!(matches("bot?@example.com", "bot1@example.com"));
        assert!(!matches("bot?@example.com", "bot12@example.com"));
        assert!(!matches("bot?@example.com", "bot@example.com"));
    }

    #[test]
    fn case_insensitive_both_ways() {
        assert!(matches("*@Vendor.IO", "Support@VENDOR.io"));
        assert!(matches("exact@x.com", "EXACT@X.COM"));
        // ASCII case folding only (docs/contract.md §3).
        assert!(!matches("ÉVA@*", "éva@x.com"));
        assert!(matches("éva@*", "éva@X.com"));
        assert!(
            !matches("kim@*", "\u{212a}im@x.com"),
            "KELVIN SIGN is not K"
        );
        assert!(!matches("k*@x.com", "\u{212a}im@x.com"));
        assert!(matches("K*@X.com", "kim@x.com"));
    }

    #[test]
    fn several_stars_backtrack() {
        assert!(matches("*ops*@*.example.com", "team-ops-1@eu.example.com"));
        assert!(!matches("*ops*@*.example.com", "team-dev@eu.example.com"));
        assert!(matches("*", "anything@at.all"));
    }

    #[test]
    fn a_star_in_the_email_does_not_consume_the_wildcard() {
        // Found in review: the literal `*` matched the pattern's star as a character, and the
        // rest of the email could then not match, so an ignored account was planned for removal.
        assert!(matches("ops*@vendor.io", "ops*team@vendor.io"));
        assert!(matches("a?c*", "a*c*x"));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        /// Against an independent matcher (the `wildmatch` crate), on an alphabet where the
        /// text itself holds `*` and `?` as often as letters.
        #[test]
        fn agrees_with_wildmatch(pattern in "[ab*?@]{0,8}", text in "[ab*?@]{0,10}") {
            let ours = matches(&pattern, &text);
            let theirs = wildmatch::WildMatch::new(&pattern).matches(&text);
            prop_assert_eq!(ours, theirs, "pattern {:?} text {:?}", pattern, text);
        }
    }
}
