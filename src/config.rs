//! The validated configuration that the CLI layer hands down. clap types stop here.

use crate::date::Date;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The Scaling API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The secret itself, for the Authorization header only.
    pub fn expose(&self) -> &str {
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

/// Retry behaviour for 429, 5xx and connection failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff; doubles each attempt, with full jitter.
    pub base: Duration,
    /// Longest backoff between two attempts.
    pub cap: Duration,
    /// Longest `Retry-After` honoured; a longer one is cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Where and how to reach the API.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Base URL, always ending in `/`, e.g. `https://api.scaling.cloud/v1/`.
    pub base_url: reqwest::Url,
    pub key: ApiKey,
    /// Per-request timeout.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "SCALING_API_KEY is not set: export an org admin's API key (Settings → API Access in the Scaling dashboard); teamsync never takes it as an argument"
    )]
    MissingKey,
    #[error(
        "SCALING_API_KEY contains characters that cannot be sent in an HTTP header (a stray newline or space?); set it to the key alone"
    )]
    BadKey,
    #[error("the API URL `{0}` is not a valid URL")]
    BadUrl(String),
    #[error(
        "refusing plain http for `{0}`: the API key would cross the network in clear text; use https (http is only allowed for loopback hosts)"
    )]
    InsecureUrl(String),
    #[error("the API URL `{0}` must use https")]
    BadScheme(String),
    #[error("--parallelism must be between 1 and 64, got {0}")]
    BadParallelism(usize),
    #[error("`{0}` is not a valid date: write YYYY-MM-DD")]
    BadDate(String),
}

impl ApiConfig {
    /// Validates the base URL (https, or http on loopback) and the key.
    pub fn new(url: &str, key: Option<String>) -> Result<ApiConfig, ConfigError> {
        let key = key
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .ok_or(ConfigError::MissingKey)?;
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::BadKey);
        }
        let mut text = url.trim().to_string();
        if !text.ends_with('/') {
            text.push('/');
        }
        let base_url = reqwest::Url::parse(&text).map_err(|_| ConfigError::BadUrl(url.into()))?;
        match base_url.scheme() {
            "https" => {}
            "http" if is_loopback(&base_url) => {}
            "http" => return Err(ConfigError::InsecureUrl(url.into())),
            _ => return Err(ConfigError::BadScheme(url.into())),
        }
        if base_url.host_str().is_none() || base_url.cannot_be_a_base() {
            return Err(ConfigError::BadUrl(url.into()));
        }
        Ok(ApiConfig {
            base_url,
            key: ApiKey::new(key),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        })
    }
}

/// Loopback: 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Output formats for plans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Diff,
}

/// Everything a command needs, validated.
#[derive(Clone, Debug)]
pub struct Config {
    pub file: PathBuf,
    /// `-f` was given on the command line (not the default).
    pub file_explicit: bool,
    pub format: Format,
    pub color: bool,
    pub self_email: Option<String>,
    pub today: Date,
    /// `GITHUB_ACTIONS=true`: also print validation errors as workflow annotations.
    pub github_annotations: bool,
    pub command: Command,
}

#[derive(Clone, Debug)]
pub enum Command {
    Validate,
    Plan {
        api: ApiConfig,
        detailed_exitcode: bool,
        out: Option<PathBuf>,
    },
    Apply {
        api: ApiConfig,
        auto_approve: bool,
        parallelism: usize,
        allow_mass_removal: bool,
        plan_file: Option<PathBuf>,
    },
    Export {
        api: ApiConfig,
        output: Option<PathBuf>,
    },
    Schema {
        plan: bool,
    },
    Completions(clap_complete::Shell),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Option<String> {
        Some("scl_live_secret".into())
    }

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        assert!(ApiConfig::new("https://api.scaling.cloud/v1", key()).is_ok());
        for ok in [
            "http://127.0.0.1:8080/v1",
            "http://127.8.9.10/v1",
            "http://[::1]:9/v1",
            "http://localhost:1/v1",
            "http://LOCALHOST/v1",
        ] {
            assert!(ApiConfig::new(ok, key()).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.scaling.cloud/v1",
            "http://10.0.0.1/v1",
            "http://127.0.0.1.evil.com/v1",
            "http://localhost.evil.com/",
        ] {
            assert!(
                matches!(ApiConfig::new(bad, key()), Err(ConfigError::InsecureUrl(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            ApiConfig::new("ftp://x.com/", key()),
            Err(ConfigError::BadScheme(_))
        ));
        assert!(matches!(
            ApiConfig::new("not a url", key()),
            Err(ConfigError::BadUrl(_))
        ));
    }

    #[test]
    fn base_url_gets_a_trailing_slash_so_paths_join_under_it() {
        let c = ApiConfig::new("https://api.scaling.cloud/v1", key()).unwrap();
        assert_eq!(
            c.base_url.join("team/members").unwrap().as_str(),
            "https://api.scaling.cloud/v1/team/members"
        );
    }

    #[test]
    fn key_is_required_and_redacted() {
        assert_eq!(
            ApiConfig::new("https://a.b/v1", None).unwrap_err(),
            ConfigError::MissingKey
        );
        assert_eq!(
            ApiConfig::new("https://a.b/v1", Some("  ".into())).unwrap_err(),
            ConfigError::MissingKey
        );
        assert_eq!(
            ApiConfig::new("https://a.b/v1", Some("scl_live_a\nb".into())).unwrap_err(),
            ConfigError::BadKey
        );
        let c = ApiConfig::new("https://a.b/v1", key()).unwrap();
        let shown = format!("{c:?} {}", c.key);
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(c.key.expose(), "scl_live_secret");
    }
}
