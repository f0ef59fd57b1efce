//! Emails: one normalized type from where they enter (the file, the API's list, `--self`).
//!
//! The contract (docs/contract.md §3) compares emails trimmed and case-insensitively,
//! everywhere, by ASCII case folding only: `Kim@X.com` is `kim@x.com`, but `\u{212a}im@x.com`
//! (KELVIN SIGN, which Unicode lower-cases to `k`) is another address, kept as written.
//! Rather than remembering to normalize at each comparison, every email becomes an [`Email`]
//! where it enters, and only an `Email` can be compared with an `Email`: a path that
//! forgets to normalize does not compile.

use crate::escape::is_invisible;
use email_address::{EmailAddress, Options};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The API's limit on an invitation's email address.
pub(crate) const MAX_EMAIL_LEN: usize = 320;

/// An email address: its key, trimmed and with its ASCII letters lower-cased (nothing else: a
/// letter outside ASCII stays as written), which is all it is compared, ordered and hashed by;
/// and the address as written (trimmed), which is what an invitation is sent to
/// (docs/contract.md §3: the address kept as written).
///
/// Its only constructor normalizes, and it derefs to nothing, so comparing it with a raw
/// `&str` takes an explicit `as_str()`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub(crate) struct Email {
    key: String,
    /// The written form when it differs from `key` (ASCII uppercase in it); `None` in the
    /// common case, so that 100,000 members cost no second string.
    written: Option<Box<str>>,
}

impl Email {
    /// Normalizes `raw`: surrounding whitespace removed, ASCII letters lower-cased.
    pub(crate) fn new(raw: &str) -> Email {
        Email::from_string(raw.to_string())
    }

    /// Like [`Email::new`], keeping the allocation when `raw` is already normalized (the
    /// common case for an API's list of 100,000 members).
    pub(crate) fn from_string(raw: String) -> Email {
        let trimmed = raw.trim();
        if !trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
            let key = if trimmed.len() == raw.len() {
                raw
            } else {
                trimmed.to_string()
            };
            return Email { key, written: None };
        }
        // ASCII only (docs/contract.md §3): `to_lowercase` would make U+212A KELVIN SIGN
        // a `k`, and a look-alike account would pass for the file's address.
        Email {
            key: trimmed.to_ascii_lowercase(),
            written: Some(trimmed.into()),
        }
    }

    /// The key: what every comparison uses.
    pub(crate) fn as_str(&self) -> &str {
        &self.key
    }

    /// The address as written (trimmed): what an invitation is sent to.
    pub(crate) fn written(&self) -> &str {
        self.written.as_deref().unwrap_or(&self.key)
    }

    /// The part after the last `@` (empty when there is none).
    pub(crate) fn domain(&self) -> &str {
        self.key.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

impl PartialEq for Email {
    fn eq(&self, other: &Email) -> bool {
        self.key == other.key
    }
}

impl Eq for Email {}

impl PartialOrd for Email {
    fn partial_cmp(&self, other: &Email) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Email {
    fn cmp(&self, other: &Email) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl std::hash::Hash for Email {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl From<String> for Email {
    fn from(raw: String) -> Email {
        Email::from_string(raw)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.key
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.key, f)
    }
}

/// Checks an email's syntax strictly: a plain `local@domain` address, no display name, no
/// domain literal, and a domain with at least one dot. Returns why it is refused.
pub(crate) fn check(email: &str) -> Result<(), String> {
    let trimmed = email.trim();
    if trimmed.is_empty() {
        return Err("email is empty".into());
    }
    if trimmed.len() > MAX_EMAIL_LEN && trimmed.chars().count() > MAX_EMAIL_LEN {
        return Err(format!(
            "email is {} characters long; the API accepts at most {MAX_EMAIL_LEN}",
            trimmed.chars().count()
        ));
    }
    if plainly_valid(trimmed) {
        return Ok(());
    }
    if let Some((at, c)) = invisible(trimmed) {
        return Err(format!(
            "`{}` holds the invisible character U+{:04X} (character {} of the address); an invisible character makes one address look like another: remove it",
            shown(trimmed),
            c as u32,
            at + 1
        ));
    }
    let options = Options::default()
        .without_display_text()
        .without_domain_literal()
        .with_required_tld();
    match EmailAddress::parse_with_options(trimmed, options) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("`{trimmed}` is not a valid email address ({e})")),
    }
}

/// The first invisible character of `email` ([`is_invisible`]): its index (in characters) and
/// itself.
pub(crate) fn invisible(email: &str) -> Option<(usize, char)> {
    if email.is_ascii() {
        return None;
    }
    email.chars().enumerate().find(|(_, c)| is_invisible(*c))
}

/// `email` with its invisible characters written as escapes (`\u{3164}`), so that a message
/// shows where they are.
fn shown(email: &str) -> std::borrow::Cow<'_, str> {
    crate::escape::escape_where(email, is_invisible)
}

/// The everyday address, checked without the full parser: ASCII letters, digits and `._+-` in a
/// dot-atom local part of at most 64 bytes, `@`, and at least two labels of letters, digits and
/// inner `-` (each at most 63, the domain at most 254). Everything it accepts, the
/// `email_address` parser with [`check`]'s options accepts too (property test below); what it
/// does not accept goes to that parser, which gives the reason. One of 100,000 members costs a
/// fraction of the full parse (docs/performance.md).
fn plainly_valid(email: &str) -> bool {
    let bytes = email.as_bytes();
    let Some(at) = bytes.iter().rposition(|c| *c == b'@') else {
        return false;
    };
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    if local.is_empty() || local.len() > 64 || domain.len() > 254 {
        return false;
    }
    // Atoms of `[A-Za-z0-9_+-]` joined by single dots.
    let mut after_dot = true;
    for &c in local {
        if c == b'.' {
            if after_dot {
                return false;
            }
            after_dot = true;
        } else if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'+' | b'-') {
            after_dot = false;
        } else {
            return false;
        }
    }
    if after_dot {
        return false;
    }
    // Labels of `[A-Za-z0-9-]`, each starting and ending with a letter or digit.
    let (mut labels, mut len, mut last) = (1, 0usize, b'.');
    for &c in domain {
        if c == b'.' {
            if len == 0 || !last.is_ascii_alphanumeric() {
                return false;
            }
            labels += 1;
            len = 0;
        } else if c.is_ascii_alphanumeric() || (c == b'-' && len > 0) {
            len += 1;
            if len > 63 {
                return false;
            }
        } else {
            return false;
        }
        last = c;
    }
    len > 0 && last.is_ascii_alphanumeric() && labels >= 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The full parser, with `check`'s options.
    fn parser_accepts(email: &str) -> bool {
        let options = Options::default()
            .without_display_text()
            .without_domain_literal()
            .with_required_tld();
        EmailAddress::parse_with_options(email, options).is_ok()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// The shortcut never accepts what the full parser refuses.
        #[test]
        fn the_shortcut_accepts_nothing_the_parser_refuses(
            email in "[a-zA-Z0-9._+@<>\\[\\]\" -]{0,12}(@[a-z0-9.-]{0,10})?",
        ) {
            if plainly_valid(&email) {
                prop_assert!(parser_accepts(&email), "{:?}", email);
            }
        }

        /// And it takes the everyday addresses (else it would save nothing).
        #[test]
        fn the_shortcut_takes_everyday_addresses(
            email in "[a-z0-9]{1,8}([._+-][a-z0-9]{1,8}){0,2}@[a-z0-9]{1,8}(-[a-z0-9]{1,4})?(\\.[a-z]{2,6}){1,3}",
        ) {
            prop_assert!(plainly_valid(&email), "{:?}", email);
            prop_assert!(parser_accepts(&email), "{:?}", email);
        }
    }

    #[test]
    fn normalizes_case_and_space_once() {
        assert_eq!(
            Email::new("  Jane@Example.COM ").as_str(),
            "jane@example.com"
        );
        assert_eq!(
            Email::new("jane@example.com"),
            Email::new("JANE@example.com ")
        );
        assert_eq!(
            Email::new("ÉVA@Example.com").as_str(),
            "Éva@example.com",
            "ASCII case folding only"
        );
        assert_ne!(
            Email::new("\u{212a}im@x.com"),
            Email::new("kim@x.com"),
            "KELVIN SIGN is not K"
        );
        assert_eq!(Email::new("\u{212a}im@X.com").as_str(), "\u{212a}im@x.com");
        assert!(crate::escape::folds_to_ascii('\u{212a}'));
        assert!(
            !['\u{130}', 'É', 'k']
                .into_iter()
                .any(crate::escape::folds_to_ascii)
        );
        let parsed: Email = serde_json::from_str("\" Bob@X.io\"").unwrap();
        assert_eq!(parsed.as_str(), "bob@x.io", "deserializing normalizes too");
    }

    #[test]
    fn keeps_the_address_as_written_beside_its_key() {
        let written = Email::new(" Kim.Lee@X.com ");
        assert_eq!(written.written(), "Kim.Lee@X.com");
        assert_eq!(written.as_str(), "kim.lee@x.com");
        assert_eq!(written.to_string(), "kim.lee@x.com");
        let plain = Email::new("kim.lee@x.com");
        assert_eq!(plain.written(), "kim.lee@x.com");
        assert_eq!(written, plain, "equal by the folded form");
        assert_eq!(written.cmp(&plain), std::cmp::Ordering::Equal);
        let state = std::collections::hash_map::RandomState::new();
        assert_eq!(
            std::hash::BuildHasher::hash_one(&state, &written),
            std::hash::BuildHasher::hash_one(&state, &plain)
        );
        assert!(
            Email::new("a@x.io") < Email::new("B@x.io"),
            "ordered by the key"
        );
        assert_eq!(
            serde_json::to_string(&written).unwrap(),
            "\"kim.lee@x.com\"",
            "documents carry the key"
        );
        assert_eq!(Email::new("\u{212a}im@X.com").written(), "\u{212a}im@X.com");
    }

    #[test]
    fn accepts_plain_and_rejects_odd_addresses() {
        assert!(check("jane@example.com").is_ok());
        assert!(check("jane.doe+ops@sub.example.co.uk").is_ok());
        assert!(check("jane@localhost").is_err(), "a TLD is required");
        assert!(check("Jane <jane@example.com>").is_err());
        assert!(check("jane@[127.0.0.1]").is_err());
        assert!(check("jane").is_err());
        assert!(check("").is_err());
    }

    #[test]
    fn enforces_the_320_character_limit() {
        let local = "a".repeat(64);
        let label = "b".repeat(60);
        let mut domain = String::new();
        while domain.len() + local.len() + 1 < 330 {
            domain.push_str(&label);
            domain.push('.');
        }
        domain.push_str("com");
        let long = format!("{local}@{domain}");
        assert!(long.len() > MAX_EMAIL_LEN);
        let err = check(&long).unwrap_err();
        assert!(err.contains("at most 320"), "{err}");
    }

    #[test]
    fn invisible_characters_are_refused_where_they_are() {
        // Default_Ignorable_Code_Point (DerivedCoreProperties.txt) and the Hangul fillers.
        for c in [
            '\u{00ad}',
            '\u{034f}',
            '\u{115f}',
            '\u{1160}',
            '\u{17b4}',
            '\u{180b}',
            '\u{180e}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{2060}',
            '\u{2064}',
            '\u{3164}',
            '\u{fe00}',
            '\u{fe0f}',
            '\u{feff}',
            '\u{ffa0}',
            '\u{1bca0}',
            '\u{1d173}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e01ef}',
            '\u{e0fff}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", c as u32);
            let email = format!("admin{c}@x.io");
            let why = check(&email).unwrap_err();
            assert!(
                why.contains(&format!("U+{:04X} (character 6 of", c as u32)),
                "{why}"
            );
            assert!(
                why.contains(&format!("`admin\\u{{{:x}}}@x.io`", c as u32)),
                "{why}"
            );
        }
        // Visible letters, spaces and marks are not.
        for c in [
            'a', 'é', 'ß', '中', 'ㄱ', '\u{ac00}', ' ', '\u{a0}', '\u{301}', '\u{2028}',
        ] {
            assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
        assert!(check("éva@example.com").is_ok());
        assert_eq!(invisible("a\u{200b}b\u{3164}@x.io"), Some((1, '\u{200b}')));
        assert_eq!(invisible("plain@x.io"), None);
    }

    #[test]
    fn domain_of_email() {
        assert_eq!(Email::new("a@b.example.com").domain(), "b.example.com");
        assert_eq!(Email::new("nodomain").domain(), "");
    }
}
