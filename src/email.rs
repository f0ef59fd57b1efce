//! Email normalization and syntax checks. Emails are compared trimmed and case-insensitively,
//! everywhere (SPEC §3): the normalized form is the plan's key.

use email_address::{EmailAddress, Options};

/// The API's limit on an invitation's email address.
pub const MAX_EMAIL_LEN: usize = 320;

/// The comparison key of an email: trimmed and lower-cased.
pub fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks an email's syntax strictly: a plain `local@domain` address, no display name, no
/// domain literal, and a domain with at least one dot. Returns why it is refused.
pub fn check(email: &str) -> Result<(), String> {
    let trimmed = email.trim();
    if trimmed.is_empty() {
        return Err("email is empty".into());
    }
    if trimmed.chars().count() > MAX_EMAIL_LEN {
        return Err(format!(
            "email is {} characters long; the API accepts at most {MAX_EMAIL_LEN}",
            trimmed.chars().count()
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

/// The domain part of a normalized email.
pub fn domain(email: &str) -> &str {
    email.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_space() {
        assert_eq!(normalize("  Jane@Example.COM "), "jane@example.com");
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
    fn domain_of_email() {
        assert_eq!(domain("a@b.example.com"), "b.example.com");
    }
}
