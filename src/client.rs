//! The Scaling team API over HTTP: the five endpoints, the `data` envelope, lenient parsing,
//! pagination, retries with backoff, and errors that carry the API's `code` and `requestId` but
//! never the key.

use crate::config::{ApiConfig, ApiKey, RetryPolicy};
use crate::date::Timestamp;
use crate::email::Email;
use crate::live::{LiveInvitation, LiveMember, LiveState};
use crate::role::{LiveRole, Role};
use reqwest::{Method, StatusCode, header};
use serde::Deserialize;
use std::collections::HashSet;
use std::time::Duration;

/// What went wrong talking to the API.
#[derive(Debug, thiserror::Error)]
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
    #[error("{message}")]
    Transport {
        message: String,
        /// False only when the request provably never left (connection refused).
        maybe_sent: bool,
    },
    /// A 2xx answer whose body teamsync cannot read.
    #[error("the API's answer could not be read: {0}")]
    Decode(String),
    /// The list's pagination went wrong (a cursor loop).
    #[error("{0}")]
    Pagination(String),
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

    /// Worth another try for a read: 429, 5xx, connection trouble, an unreadable body.
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
            ApiError::Decode(_) => true,
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
                    "Set SCALING_API_KEY to an org admin's API key."
                }
                Some("invalid_api_key") => {
                    "Generate a new key under Settings → API Access and update SCALING_API_KEY."
                }
                Some("not_authorized") => "Team endpoints need a key created by an org admin.",
                _ => "Check SCALING_API_KEY and that it belongs to an org admin.",
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
            ApiError::Transport { .. } => {
                "Check --api-url / SCALING_API_URL and the network, or raise --timeout."
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

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ListData {
    #[serde(default)]
    members: Option<Vec<WireMember>>,
    #[serde(default)]
    invitations: Option<Vec<WireInvitation>>,
    #[serde(default)]
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct WireMember {
    id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireInvitation {
    id: String,
    #[serde(default, alias = "email")]
    email_address: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    status: Option<String>,
    /// Anything but a readable RFC 3339 string (a number, null, garbage) is "unknown", never
    /// an error: the age of an invitation must not stop a plan.
    #[serde(default)]
    created_at: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
}

/// One page of `GET team/members`, parsed. Public so the parser can be tested on its own
/// (hostile input must never panic it).
pub(crate) fn parse_list_page(body: &[u8]) -> Result<(LiveState, Option<String>), ApiError> {
    let env: Envelope<ListData> =
        serde_json::from_slice(body).map_err(|e| ApiError::Decode(e.to_string()))?;
    let mut state = LiveState::default();
    // Both lists are required: reading a missing list as empty would plan to invite everyone
    // again (or remove no one when someone should go).
    let missing = |what: &str| {
        ApiError::Decode(format!(
            "the member list has no `{what}` field; refusing to plan against it"
        ))
    };
    let members = env.data.members.ok_or_else(|| missing("members"))?;
    let invitations = env.data.invitations.ok_or_else(|| missing("invitations"))?;
    for m in members {
        match m.email {
            Some(email) if !email.trim().is_empty() => state.members.push(LiveMember {
                id: m.id,
                email: Email::from_string(email),
                role: LiveRole::parse(&m.role.unwrap_or_default()),
            }),
            _ => tracing::warn!(id = %m.id, "member without an email in the list: left alone"),
        }
    }
    for i in invitations {
        // The docs show only `pending`; an invitation without a status is listed as
        // outstanding, so it is taken as pending. Other statuses are not the org's business.
        if let Some(status) = i
            .status
            .as_deref()
            .filter(|s| !s.eq_ignore_ascii_case("pending"))
        {
            tracing::debug!(id = %i.id, status, "invitation that is not pending: left out");
            continue;
        }
        match i.email_address {
            Some(email) if !email.trim().is_empty() => state.invitations.push(LiveInvitation {
                id: i.id,
                email: Email::from_string(email),
                role: LiveRole::parse(&i.role.unwrap_or_default()),
                created_at: i
                    .created_at
                    .as_ref()
                    .and_then(|v| v.as_str())
                    .and_then(Timestamp::parse),
            }),
            _ => tracing::warn!(id = %i.id, "invitation without an email in the list: left alone"),
        }
    }
    let cursor = env.data.next_cursor.filter(|c| !c.is_empty());
    Ok((state, cursor))
}

/// The most pages a list may have before teamsync assumes the cursor is broken.
const MAX_PAGES: usize = 100_000;

/// A client of the team endpoints. Cheap to clone: one connection pool is shared.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
    key: ApiKey,
    retry: RetryPolicy,
}

impl Client {
    pub(crate) fn new(config: &ApiConfig) -> Result<Client, ApiError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("teamsync/", env!("CARGO_PKG_VERSION")));
        if crate::config::is_loopback(&config.base_url) {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| ApiError::Transport {
            message: format!("could not set up the HTTP client: {e}"),
            maybe_sent: false,
        })?;
        Ok(Client {
            http,
            base: config.base_url.clone(),
            key: config.key.clone(),
            retry: config.retry.clone(),
        })
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Reads the whole live state, following `data.nextCursor`. Each page is retried on
    /// transient failures; a page that still fails fails the whole read, so nothing is ever
    /// planned against a partial list.
    pub(crate) async fn list(&self) -> Result<LiveState, ApiError> {
        let mut state = LiveState::default();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        let (mut member_ids, mut invitation_ids) = (HashSet::new(), HashSet::new());
        for _ in 0..MAX_PAGES {
            let mut url = self.url("team/members")?;
            if let Some(c) = &cursor {
                url.query_pairs_mut().append_pair("cursor", c);
            }
            // An unreadable page is retried like a failed one.
            let (page, next) = self
                .with_retries(|| {
                    let url = url.clone();
                    async move { parse_list_page(&self.send(Method::GET, url, None).await?) }
                })
                .await?;
            // Offset cursors can repeat an entry when the org changes between pages: keep one.
            for m in page.members {
                if member_ids.insert(m.id.clone()) {
                    state.members.push(m);
                }
            }
            for i in page.invitations {
                if invitation_ids.insert(i.id.clone()) {
                    state.invitations.push(i);
                }
            }
            match next {
                None => return Ok(state),
                Some(next) => {
                    if !seen.insert(next.clone()) {
                        return Err(ApiError::Pagination(format!(
                            "the member list repeated the cursor `{next}`; refusing to plan against a list that may be partial"
                        )));
                    }
                    cursor = Some(next);
                }
            }
        }
        Err(ApiError::Pagination(format!(
            "the member list had more than {MAX_PAGES} pages; refusing to plan against a list that may be partial"
        )))
    }

    /// `POST team/members/invite`.
    pub(crate) async fn invite(&self, email: &Email, role: Role) -> Result<(), ApiError> {
        let body = serde_json::json!({ "emailAddress": email.as_str(), "role": role.as_str() });
        self.write(Method::POST, "team/members/invite", Some(body))
            .await
    }

    /// `PATCH team/members/{id}/role`.
    pub(crate) async fn update_role(&self, id: &str, role: Role) -> Result<(), ApiError> {
        let path = format!("team/members/{}/role", seg(id)?);
        self.write(
            Method::PATCH,
            &path,
            Some(serde_json::json!({ "role": role.as_str() })),
        )
        .await
    }

    /// `DELETE team/members/{id}`.
    pub(crate) async fn remove(&self, id: &str) -> Result<(), ApiError> {
        self.write(Method::DELETE, &format!("team/members/{}", seg(id)?), None)
            .await
    }

    /// `DELETE team/members/invitations/{id}`.
    pub(crate) async fn revoke(&self, id: &str) -> Result<(), ApiError> {
        let path = format!("team/members/invitations/{}", seg(id)?);
        self.write(Method::DELETE, &path, None).await
    }

    /// A write is sent again only when it provably did nothing (429, connection refused);
    /// any other failure goes back to the caller, which re-reads the live state first.
    async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(), ApiError> {
        let url = self.url(path)?;
        let mut attempt = 1;
        loop {
            match self.send(method.clone(), url.clone(), body.clone()).await {
                Ok(_) => return Ok(()),
                Err(e) if e.safe_to_resend() && attempt < self.retry.max_attempts => {
                    let wait = self.retry.backoff(attempt, &e);
                    tracing::info!(%method, path, attempt, ?wait, "retrying: {e}");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn with_retries<T, F, Fut>(&self, mut call: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(e) if e.is_transient() && attempt < self.retry.max_attempts => {
                    let wait = self.retry.backoff(attempt, &e);
                    tracing::info!(attempt, ?wait, "retrying a read: {e}");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, ApiError> {
        self.base
            .join(path)
            .map_err(|e| ApiError::Decode(format!("bad URL for {path}: {e}")))
    }

    /// One HTTP exchange. 2xx → the body (possibly empty); anything else → an error.
    async fn send(
        &self,
        method: Method,
        url: reqwest::Url,
        body: Option<serde_json::Value>,
    ) -> Result<Vec<u8>, ApiError> {
        let mut req = self
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(self.key.expose())
            .header(header::ACCEPT, "application/json");
        if let Some(b) = &body {
            req = req
                .header(header::CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        let started = std::time::Instant::now();
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
        let header_request_id = resp
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = resp.bytes().await.map_err(transport)?;
        tracing::debug!(%method, path = url.path(), status = status.as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        if status.is_redirection() {
            return Err(ApiError::Status {
                status: status.as_u16(),
                kind: None,
                code: None,
                message: Some("a redirect, which teamsync does not follow".into()),
                request_id: header_request_id,
                retry_after: None,
            });
        }
        let parsed: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
        let request_id = parsed.request_id.or(header_request_id);
        if status == StatusCode::UNAUTHORIZED {
            return Err(ApiError::Unauthorized {
                code: parsed.code,
                request_id,
            });
        }
        Err(ApiError::Status {
            status: status.as_u16(),
            kind: parsed.kind,
            code: parsed.code,
            message: parsed.message,
            request_id,
            retry_after,
        })
    }
}

/// An id as one path segment: everything but letters, digits, `-`, `_` and `~` is
/// percent-encoded (dots too, so `..` cannot climb), so an id can never change the path.
fn seg(id: &str) -> Result<String, ApiError> {
    if id.is_empty() {
        return Err(ApiError::Decode("the API listed an empty id".into()));
    }
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-_~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

fn transport(e: reqwest::Error) -> ApiError {
    let maybe_sent = !e.is_connect();
    let what = if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "could not connect to the API"
    } else if e.is_body() || e.is_decode() {
        "the connection broke while reading the API's answer"
    } else {
        "the request to the API failed"
    };
    // reqwest's message names the URL (never the key); keep its cause chain short.
    let mut detail = String::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    let message = if detail.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {detail}")
    };
    ApiError::Transport {
        message,
        maybe_sent,
    }
}

impl RetryPolicy {
    /// How long to wait before attempt `attempt + 1`: `Retry-After` when the API gave one
    /// (capped), else capped exponential backoff with full jitter.
    pub(crate) fn backoff(&self, attempt: u32, error: &ApiError) -> Duration {
        if let ApiError::Status {
            status: 429,
            retry_after: Some(wait),
            ..
        } = error
        {
            return (*wait).min(self.max_retry_after);
        }
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.cap);
        let millis = exp.as_millis() as u64;
        Duration::from_millis(if millis == 0 {
            0
        } else {
            fastrand::u64(millis / 2..=millis)
        })
    }
}

/// `Retry-After`: whole seconds, or an HTTP date (a date in the past means now).
pub(crate) fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_is_capped_and_honours_retry_after() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(400),
            max_retry_after: Duration::from_secs(2),
        };
        let e = ApiError::Status {
            status: 503,
            kind: None,
            code: None,
            message: None,
            request_id: None,
            retry_after: None,
        };
        for attempt in 1..10 {
            assert!(p.backoff(attempt, &e) <= Duration::from_millis(400));
        }
        let limited = |ra: u64| ApiError::Status {
            status: 429,
            kind: None,
            code: None,
            message: None,
            request_id: None,
            retry_after: Some(Duration::from_secs(ra)),
        };
        assert_eq!(p.backoff(1, &limited(1)), Duration::from_secs(1));
        assert_eq!(
            p.backoff(1, &limited(3600)),
            Duration::from_secs(2),
            "capped"
        );
    }

    #[test]
    fn list_page_tolerates_unknown_fields_and_nulls() {
        let body = br#"{"data":{"members":[
            {"id":"user_1","email":"Jane@Example.com","firstName":null,"role":"org:admin","extra":{"x":1}},
            {"id":"user_2","email":null,"role":"org:member"}],
          "invitations":[{"id":"inv_1","emailAddress":"a@b.co","role":"org:member","status":"pending","createdAt":"x"},
            {"id":"inv_2","emailAddress":"c@d.co","role":"org:member","status":"accepted"}],
          "nextCursor":null},"requestId":"r"}"#;
        let (state, next) = parse_list_page(body).unwrap();
        assert_eq!(state.members.len(), 1);
        assert_eq!(state.members[0].email.as_str(), "jane@example.com");
        assert_eq!(
            state.invitations.len(),
            1,
            "only pending invitations are kept"
        );
        assert_eq!(next, None);
        let (_, next) =
            parse_list_page(br#"{"data":{"members":[],"invitations":[],"nextCursor":"abc"}}"#)
                .unwrap();
        for partial in [
            &br#"{"data":{}}"#[..],
            br#"{"data":{"members":[]}}"#,
            br#"{"data":{"invitations":[]}}"#,
        ] {
            assert!(
                matches!(parse_list_page(partial), Err(ApiError::Decode(_))),
                "a missing list is an error, never an empty org"
            );
        }
        assert_eq!(next.as_deref(), Some("abc"));
        assert!(parse_list_page(b"<html>").is_err());
        assert!(
            parse_list_page(br#"{"members":[]}"#).is_err(),
            "the data envelope is required"
        );
    }

    #[test]
    fn ids_are_percent_encoded_into_one_segment() {
        assert_eq!(seg("user_2abc").unwrap(), "user_2abc");
        assert_eq!(seg("../invitations/x").unwrap(), "%2E%2E%2Finvitations%2Fx");
        assert!(seg("").is_err());
    }

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
            message: "x".into(),
            maybe_sent: false,
        };
        assert!(refused.safe_to_resend());
        let timeout = ApiError::Transport {
            message: "x".into(),
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
