//! What went wrong talking to the API, how it is classified for retries, and how it is
//! explained: what happened, the API's `code` and `requestId`, and what to do next.

use std::time::Duration;

/// What went wrong talking to the API.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// 401: never retried.
    #[error("{}", unauthorized_text(.code.as_deref()))]
    Unauthorized {
        code: Option<String>,
        request_id: Option<String>,
    },
    /// Any other non-2xx answer.
    #[error("the API answered {status}{}", .message.as_deref().map(|m| format!(": {}", m.trim().trim_end_matches('.'))).unwrap_or_default())]
    Status {
        status: u16,
        kind: Option<String>,
        code: Option<String>,
        message: Option<String>,
        request_id: Option<String>,
        /// The answer's `Retry-After`, when it had one.
        retry_after: Option<Duration>,
    },
    /// The request may or may not have reached the API (timeout, connection lost).
    #[error("{}{}", .kind.what(), if .detail.is_empty() { String::new() } else { format!(": {}", .detail) })]
    Transport {
        /// What went wrong, as reqwest's error says by its type (not its text).
        kind: TransportKind,
        /// The innermost cause, as its library words it (may be empty).
        detail: String,
        /// False only when the request provably never left (connection refused).
        maybe_sent: bool,
    },
    /// A 2xx answer whose body teamsync cannot read.
    #[error("the API's answer could not be read: {0}")]
    Decode(String),
    /// The list's pagination went wrong (a cursor loop).
    #[error("{0}")]
    Pagination(String),
    /// An id from the API that cannot be one path segment (`.`, `..`, empty): the request is
    /// never sent, so it can never reach another endpoint (docs/network.md).
    #[error("{0}")]
    BadId(String),
    /// An answer larger than its cap (docs/network.md): teamsync stopped reading it.
    #[error("the API's answer to {what} was larger than {} MiB; teamsync stopped reading it", .limit / (1024 * 1024))]
    TooLarge { what: String, limit: usize },
    /// The TLS handshake failed (a certificate nobody trusts, or no TLS at all): never retried.
    #[error("{0}")]
    Tls(String),
}

/// What kind of transport failure, from `reqwest::Error`'s own predicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransportKind {
    /// The HTTP client could not be set up.
    Setup,
    /// `is_timeout`: the request (or the connection) took longer than `--timeout`.
    TimedOut,
    /// `is_connect`: no connection was made.
    Connect,
    /// `is_body` / `is_decode`: the connection broke while the answer was read.
    Body,
    /// Anything else.
    Other,
}

impl TransportKind {
    fn what(self) -> &'static str {
        match self {
            TransportKind::Setup => "could not set up the HTTP client",
            TransportKind::TimedOut => "the request timed out",
            TransportKind::Connect => "could not connect to the API",
            TransportKind::Body => "the connection broke while reading the API's answer",
            TransportKind::Other => "the request to the API failed",
        }
    }
}

/// What a 401 means, by its code. The code itself is shown with the request id.
fn unauthorized_text(code: Option<&str>) -> &'static str {
    match code {
        Some("missing_authorization_header") => "the API received no API key",
        Some("invalid_api_key") => "the API refused the key as invalid or expired",
        Some("not_authorized") => "the API key is valid but lacks the org:admin role",
        _ => "the API refused the key (401)",
    }
}

impl ApiError {
    /// The API's error `code`, when it gave one.
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            ApiError::Unauthorized { code, .. } | ApiError::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Unauthorized { request_id, .. } | ApiError::Status { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            ApiError::Unauthorized { .. } => Some(401),
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Worth another try for a read: 429, 5xx, connection trouble, an unreadable body. Not a
    /// TLS failure (a certificate does not become trusted by waiting) nor an oversized answer.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => *status == 429 || *status >= 500,
            ApiError::Transport { .. } | ApiError::Decode(_) => true,
            _ => false,
        }
    }

    /// For a write: the change may have happened although no success came back (5xx, timeout,
    /// connection lost, unreadable answer). Such a write is not repeated before the live state
    /// has been read again.
    pub(crate) fn outcome_unknown(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => *status >= 500,
            ApiError::Transport { maybe_sent, .. } => *maybe_sent,
            // A 2xx whose body was cut at its cap: the write may well have happened.
            ApiError::Decode(_) | ApiError::TooLarge { .. } => true,
            _ => false,
        }
    }

    /// For a write: it provably did nothing and may be sent again at once (429, or a
    /// connection that was never made).
    pub(crate) fn safe_to_resend(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => *status == 429,
            ApiError::Transport { maybe_sent, .. } => !maybe_sent,
            _ => false,
        }
    }

    /// The whole story for an error line: what happened, the API's `code` and `requestId`,
    /// and what to do next, e.g. `the API answered 503 (code server_error, requestId 55…). The
    /// API kept failing after retries; …`.
    pub(crate) fn explain(&self) -> String {
        format!("{self}{}. {}", self.ids(), self.hint())
    }

    /// What the user can do about it, as a sentence.
    fn hint(&self) -> &'static str {
        match self {
            ApiError::Unauthorized { code, .. } => match code.as_deref() {
                Some("missing_authorization_header") => {
                    "Set SCALING_API_KEY (or SCALING_API_KEY_FILE) to an org admin's API key."
                }
                Some("invalid_api_key") => {
                    "Generate a new key under Settings → API Access and update SCALING_API_KEY (or the file SCALING_API_KEY_FILE names)."
                }
                Some("not_authorized") => "Team endpoints need a key created by an org admin.",
                _ => {
                    "Check the key (SCALING_API_KEY, or the file SCALING_API_KEY_FILE names) and that it belongs to an org admin."
                }
            },
            ApiError::Status { status, .. } if *status == 429 || *status >= 500 => {
                "The API kept failing after retries; try again in a few minutes, and quote the requestId to Scaling support if it persists."
            }
            ApiError::Status { status, .. } if (300..400).contains(status) => {
                "Check --api-url / SCALING_API_URL: it should be the API's base URL, e.g. https://api.scaling.cloud/v1."
            }
            ApiError::Status { .. } => {
                "The API refused the request; quote the requestId to Scaling support if it looks wrong."
            }
            ApiError::Transport {
                kind: TransportKind::TimedOut,
                ..
            } => {
                "Check --api-url / SCALING_API_URL, the network and any proxy (HTTPS_PROXY, NO_PROXY), or raise --timeout."
            }
            ApiError::Transport { .. } => {
                "Check --api-url / SCALING_API_URL, the network and any proxy (HTTPS_PROXY, NO_PROXY; see docs/network.md)."
            }
            ApiError::Tls(_) => {
                "Check the certificates teamsync trusts: SSL_CERT_FILE (a PEM bundle, e.g. your company's root CA), the system certificate store, and any proxy (HTTPS_PROXY, NO_PROXY) that intercepts TLS; see docs/network.md."
            }
            ApiError::BadId(_) => {
                "The API listed an id teamsync cannot put in a URL safely; report it to Scaling support."
            }
            ApiError::TooLarge { .. } => {
                "Check that --api-url / SCALING_API_URL points at the Scaling API; the caps are in docs/network.md."
            }
            ApiError::Decode(_) => {
                "Check that --api-url / SCALING_API_URL points at the Scaling API (e.g. https://api.scaling.cloud/v1)."
            }
            ApiError::Pagination(_) => {
                "Try again; report the problem to Scaling support if it persists."
            }
        }
    }

    /// The `code` and `requestId` as a suffix for messages, e.g. ` (code server_error, requestId 55…)`.
    pub(crate) fn ids(&self) -> String {
        match (self.code(), self.request_id()) {
            (Some(c), Some(r)) => format!(" (code {c}, requestId {r})"),
            (Some(c), None) => format!(" (code {c})"),
            (None, Some(r)) => format!(" (requestId {r})"),
            (None, None) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_errors_are_classified() {
        let s = |status| ApiError::Status {
            status,
            kind: None,
            code: None,
            message: None,
            request_id: None,
            retry_after: None,
        };
        assert!(s(500).outcome_unknown() && !s(500).safe_to_resend());
        assert!(s(429).safe_to_resend() && !s(429).outcome_unknown());
        assert!(!s(400).outcome_unknown() && !s(400).safe_to_resend());
        let refused = ApiError::Transport {
            kind: TransportKind::Connect,
            detail: "x".into(),
            maybe_sent: false,
        };
        assert!(refused.safe_to_resend());
        let timeout = ApiError::Transport {
            kind: TransportKind::TimedOut,
            detail: "x".into(),
            maybe_sent: true,
        };
        assert!(timeout.outcome_unknown() && !timeout.safe_to_resend());
        assert!(
            !ApiError::Unauthorized {
                code: None,
                request_id: None
            }
            .is_transient()
        );
    }
}
