//! Where and how to reach the API: the base URL, the key (which no `Debug` or `Display` shows),
//! the timeout and the retry policy. `crate::config` checks them (`ApiConfig::new`) from the
//! flags and the environment.

use super::RetryPolicy;
use std::fmt;
use std::time::Duration;

/// Where the API key came from, for messages about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeySource {
    /// `SCALING_API_KEY`.
    Variable,
    /// `SCALING_API_KEY_FILE`.
    File,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeySource::Variable => "SCALING_API_KEY",
            KeySource::File => "the file SCALING_API_KEY_FILE names",
        })
    }
}

/// The Scaling API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ApiKey(String);

impl ApiKey {
    /// The key as read (checked by `ApiConfig::new` in `crate::config`).
    pub(crate) fn new(key: String) -> ApiKey {
        ApiKey(key)
    }

    /// The secret itself, for the Authorization header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where and how to reach the API.
#[derive(Clone, Debug)]
pub(crate) struct ApiConfig {
    /// Base URL, always ending in `/`, e.g. `https://api.scaling.cloud/v1/`.
    pub(crate) base_url: reqwest::Url,
    pub(crate) key: ApiKey,
    /// Per-request timeout.
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
}

/// A URL as it may be shown: any `user:password@` before the host becomes `***@`. Works on
/// text that does not parse as a URL too (the part after `://` up to the first `/`, `?` or
/// `#` is the authority; its user info ends at its last `@`).
pub(crate) fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}***{}{tail}", &authority[at..]),
        None => url.to_string(),
    }
}

/// Loopback: 127.0.0.0/8, ::1 and `localhost`.
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}
