//! The Scaling team API over HTTP: the five endpoints, the `data` envelope, lenient parsing,
//! pagination, retries with backoff, and errors that carry the API's `code` and `requestId` but
//! never the key.

use crate::config::{ApiConfig, ApiKey, RetryPolicy};
use crate::date::Timestamp;
use crate::email::Email;
use crate::live::{LiveInvitation, LiveMember, LiveState};
use crate::role::{LiveRole, Role};
use crate::ui::Notes;
use reqwest::{Method, StatusCode, header};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// The most a page of the member list may hold, decompressed (docs/network.md): a 100,000-member
/// org is about 19 MB in one page, so 64 MiB leaves room without letting an endless answer eat
/// the memory.
pub(crate) const LIST_PAGE_CAP: usize = 64 * 1024 * 1024;
/// The most any other answer (a write's answer, an error body) may hold, decompressed.
pub(crate) const ANSWER_CAP: usize = 1024 * 1024;

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
            ApiError::Transport { message, .. } if message.contains("timed out") => {
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

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ListData<'a> {
    #[serde(default, borrow)]
    members: Option<Vec<WireMember<'a>>>,
    #[serde(default, borrow)]
    invitations: Option<Vec<WireInvitation<'a>>>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// A member of the list. The role is borrowed from the body when it can be (it is only
/// parsed): one allocation fewer for each of 100,000 members.
#[derive(Deserialize)]
struct WireMember<'a> {
    id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, borrow)]
    role: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireInvitation<'a> {
    id: String,
    #[serde(default, alias = "email")]
    email_address: Option<String>,
    #[serde(default, borrow)]
    role: Option<Cow<'a, str>>,
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

/// Keeps the first of the items with the same id, in order: ids are hashed where they lie,
/// not copied (foldhash, seeded per process, so a list cannot be made to collide).
fn first_of_each_id<T>(items: &mut Vec<T>, id: impl Fn(&T) -> &str) {
    let keep: Vec<bool> = {
        let mut seen: HashSet<&str, foldhash::fast::RandomState> =
            HashSet::with_capacity_and_hasher(items.len(), foldhash::fast::RandomState::default());
        items.iter().map(|x| seen.insert(id(x))).collect()
    };
    if keep.iter().all(|k| *k) {
        return;
    }
    let mut kept = keep.into_iter();
    items.retain(|_| kept.next().unwrap_or(true));
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
                role: LiveRole::parse(m.role.as_deref().unwrap_or_default()),
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
                role: LiveRole::parse(i.role.as_deref().unwrap_or_default()),
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

/// A client of the team endpoints. Cheap to clone: one connection pool, one rate-limit pause and
/// one in-flight list read are shared by every clone.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
    key: ApiKey,
    retry: RetryPolicy,
    shared: Arc<Shared>,
}

/// What every clone of a [`Client`] shares.
#[derive(Default)]
struct Shared {
    /// Until when every request waits, after a 429 (docs/contract.md §8: one pause for
    /// everyone).
    paused_until: std::sync::Mutex<Option<Instant>>,
    /// The list read in flight (held while reading) and the last one's result, with the ticket
    /// it started at, kept only while callers are waiting for it.
    flight: tokio::sync::Mutex<Option<(u64, Result<LiveState, ApiError>)>>,
    /// Tickets: a caller takes one when it asks; a read takes one when it starts. A caller may
    /// take a read's result only if the read started after it asked.
    tickets: AtomicU64,
    /// Callers queued for `flight`.
    waiting: AtomicUsize,
    /// How many list reads were really sent (single-flight merges the others).
    list_reads: AtomicUsize,
    /// Where "rate limited, waiting N s" goes; none in unit tests.
    notes: std::sync::OnceLock<Notes>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("list_reads", &self.list_reads)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn new(config: &ApiConfig) -> Result<Client, ApiError> {
        // reqwest asks for gzip (`Accept-Encoding: gzip`), decompresses what comes back that
        // way and takes an uncompressed answer as it is (docs/contract.md §10). It honours
        // HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY itself, and trusts the system's
        // certificate store (or SSL_CERT_FILE); see docs/network.md.
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
            shared: Arc::new(Shared::default()),
        })
    }

    /// Sends the client's notes ("rate limited, waiting N s") to `notes`.
    pub(crate) fn with_notes(self, notes: Notes) -> Client {
        let _ = self.shared.notes.set(notes);
        self
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// How many list reads this client (and its clones) really sent.
    #[cfg(test)]
    pub(crate) fn list_reads(&self) -> usize {
        self.shared.list_reads.load(Ordering::SeqCst)
    }

    /// Reads the whole live state (docs/contract.md §8: re-reads are shared). Callers at the
    /// same time share one read: one read is in flight at a time, and a caller takes the
    /// result of a read that *started after it asked* (so it always sees the org as it was
    /// after its own write), else it starts the next read, which those queued behind it share.
    /// A burst of unknown outcomes costs two reads, not one per step.
    pub(crate) async fn list(&self) -> Result<LiveState, ApiError> {
        let shared = &self.shared;
        let asked = shared.tickets.fetch_add(1, Ordering::SeqCst);
        shared.waiting.fetch_add(1, Ordering::SeqCst);
        let mut flight = shared.flight.lock().await;
        let still_waiting = shared.waiting.fetch_sub(1, Ordering::SeqCst) - 1;
        if let Some((started, result)) = flight.as_ref() {
            if *started > asked {
                // The last waiter takes the result itself; the others take a copy.
                return if still_waiting == 0 {
                    flight.take().map(|(_, r)| r).unwrap_or_else(result_gone)
                } else {
                    result.clone()
                };
            }
        }
        *flight = None;
        let started = shared.tickets.fetch_add(1, Ordering::SeqCst);
        let result = self.list_uncached().await;
        // Keep it only for those already queued behind this read.
        if shared.waiting.load(Ordering::SeqCst) > 0 {
            *flight = Some((started, result.clone()));
        }
        result
    }

    /// One whole read of the live state, following `data.nextCursor`. Each page is retried on
    /// transient failures; a page that still fails fails the whole read, so nothing is ever
    /// planned against a partial list.
    async fn list_uncached(&self) -> Result<LiveState, ApiError> {
        self.shared.list_reads.fetch_add(1, Ordering::SeqCst);
        let mut state = LiveState::default();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let mut url = self.url("team/members")?;
            if let Some(c) = &cursor {
                url.query_pairs_mut().append_pair("cursor", c);
            }
            // An unreadable page is retried like a failed one.
            let (page, next) = self
                .with_retries(|| {
                    let url = url.clone();
                    async move {
                        parse_list_page(&self.send(Method::GET, url, None, LIST_PAGE_CAP).await?)
                    }
                })
                .await?;
            if state.members.is_empty() && state.invitations.is_empty() {
                state = page;
            } else {
                state.members.extend(page.members);
                state.invitations.extend(page.invitations);
            }
            match next {
                None => {
                    // Offset cursors can repeat an entry when the org changes between pages
                    // (and a page can repeat one): keep the first of each id.
                    first_of_each_id(&mut state.members, |m| &m.id);
                    first_of_each_id(&mut state.invitations, |i| &i.id);
                    return Ok(state);
                }
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
            self.wait_for_pause().await;
            match self
                .send(method.clone(), url.clone(), body.clone(), ANSWER_CAP)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.safe_to_resend() && attempt < self.retry.max_attempts => {
                    let wait = self.retry.backoff(attempt, &e);
                    tracing::info!(%method, path, attempt, ?wait, "retrying: {e}");
                    self.back_off(wait, &e).await;
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
            self.wait_for_pause().await;
            match call().await {
                Ok(value) => return Ok(value),
                Err(e) if e.is_transient() && attempt < self.retry.max_attempts => {
                    let wait = self.retry.backoff(attempt, &e);
                    tracing::info!(attempt, ?wait, "retrying a read: {e}");
                    self.back_off(wait, &e).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits before the next attempt: after a 429, by pausing *every* request of this client
    /// (docs/contract.md §8), else this request alone.
    async fn back_off(&self, wait: Duration, e: &ApiError) {
        if e.status() == Some(429) {
            self.pause_all(wait);
        } else {
            tokio::time::sleep(wait).await;
        }
    }

    /// Starts (or lengthens) the pause every request waits for; says so once per pause.
    fn pause_all(&self, wait: Duration) {
        let now = Instant::now();
        let until = now + wait;
        let fresh = {
            let mut paused = self
                .shared
                .paused_until
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let fresh = paused.is_none_or(|p| p <= now);
            if paused.is_none_or(|p| p < until) {
                *paused = Some(until);
            }
            fresh
        };
        if fresh {
            // Whole seconds, rounded up: "waiting 0 s" would read as no wait at all.
            let secs = wait.as_millis().div_ceil(1000);
            match self.shared.notes.get() {
                Some(notes) => notes.note(format_args!("rate limited, waiting {secs} s")),
                None => tracing::info!("rate limited, waiting {secs} s"),
            }
        }
    }

    /// Returns once no pause is in force.
    async fn wait_for_pause(&self) {
        loop {
            let until = *self
                .shared
                .paused_until
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => return,
            }
        }
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, ApiError> {
        self.base
            .join(path)
            .map_err(|e| ApiError::Decode(format!("bad URL for {path}: {e}")))
    }

    /// One HTTP exchange. 2xx → the body (possibly empty, at most `cap` bytes decompressed);
    /// anything else → an error.
    async fn send(
        &self,
        method: Method,
        url: reqwest::Url,
        body: Option<serde_json::Value>,
        cap: usize,
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
        let mut resp = req.send().await.map_err(transport)?;
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
        // An error's body is only read for its code: 1 MiB at most, and one that is larger is
        // as good as none.
        let cap = if status.is_success() {
            cap
        } else {
            cap.min(ANSWER_CAP)
        };
        let bytes = match read_capped(&mut resp, cap).await {
            Ok(bytes) => bytes,
            Err(Capped::Transport(e)) => return Err(transport(e)),
            Err(Capped::TooLarge) if status.is_success() => {
                return Err(ApiError::TooLarge {
                    what: format!("{method} {}", url.path()),
                    limit: cap,
                });
            }
            Err(Capped::TooLarge) => Vec::new(),
        };
        tracing::debug!(%method, path = url.path(), status = status.as_u16(), bytes = bytes.len(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
        if status.is_success() {
            return Ok(bytes);
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

/// Only reached if the single-flight slot was emptied under a caller's feet, which the lock
/// prevents; an error rather than a panic all the same.
fn result_gone() -> Result<LiveState, ApiError> {
    Err(ApiError::Decode(
        "the shared read of the org went missing".into(),
    ))
}

enum Capped {
    Transport(reqwest::Error),
    TooLarge,
}

/// Reads a body chunk by chunk (decompressed, when it came gzipped), and stops as soon as it
/// would pass `cap` bytes: an endless or huge answer never sits in memory whole.
async fn read_capped(resp: &mut reqwest::Response, cap: usize) -> Result<Vec<u8>, Capped> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(Capped::TooLarge);
    }
    let mut buf = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = resp.chunk().await.map_err(Capped::Transport)? {
        if buf.len() + chunk.len() > cap {
            return Err(Capped::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// An id as one path segment: everything but letters, digits, `-`, `_` and `~` is
/// percent-encoded, so an id can never add a segment, a query or a fragment. `.` and `..` are
/// refused outright: URL parsers read even `%2E%2E` as "up one level" (WHATWG URL), so member
/// `..` would become `DELETE /v1/team/` (docs/network.md).
fn seg(id: &str) -> Result<String, ApiError> {
    if id.is_empty() || id == "." || id == ".." {
        return Err(ApiError::BadId(format!(
            "the API listed the id `{id}`, which cannot be sent as one path segment; refusing to send the request"
        )));
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
    // reqwest's message names the URL (never the key); keep its cause chain short.
    let mut detail = String::new();
    let mut tls = false;
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail = s.to_string();
        tls |= is_tls_error(s);
        source = s.source();
    }
    if tls {
        // The handshake failed, so nothing was sent; trying again will fail the same way.
        return ApiError::Tls(format!(
            "the TLS connection to the API failed: {}",
            if detail.is_empty() {
                "handshake failed".to_string()
            } else {
                detail
            }
        ));
    }
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

/// A rustls failure (a certificate nobody trusts, a peer that does not speak TLS), as rustls
/// words it: reqwest hands it over as an `io::Error` whose text comes from rustls.
fn is_tls_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let text = e.to_string();
    [
        "invalid peer certificate",
        "certificate",
        "received corrupt message",
        "tls handshake",
    ]
    .iter()
    .any(|needle| text.to_ascii_lowercase().contains(needle))
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
    fn a_repeated_id_keeps_its_first_entry_in_order() {
        let mut items = vec![("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)];
        first_of_each_id(&mut items, |x| x.0);
        assert_eq!(items, [("a", 1), ("b", 2), ("c", 4)]);
        let mut unique = vec![("x", 1), ("y", 2)];
        first_of_each_id(&mut unique, |x| x.0);
        assert_eq!(unique, [("x", 1), ("y", 2)]);
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
        for bad in ["", ".", ".."] {
            let err = seg(bad).unwrap_err();
            assert!(matches!(err, ApiError::BadId(_)), "{bad:?}");
            assert!(
                !err.outcome_unknown() && !err.safe_to_resend() && !err.is_transient(),
                "a refused id fails its step at once"
            );
        }
    }

    fn test_client(url: &str) -> Client {
        let mut config = ApiConfig::new(url, Some("scl_live_test")).unwrap();
        config.retry.base = Duration::from_millis(5);
        config.timeout = Duration::from_secs(5);
        Client::new(&config).unwrap()
    }

    /// Every URL the client would send for `id`, with the part its endpoint fixes.
    fn endpoint_urls(client: &Client, id: &str) -> Vec<(String, reqwest::Url)> {
        let Ok(s) = seg(id) else { return Vec::new() };
        [
            (
                "/v1/team/members/",
                format!("team/members/{s}/role"),
                "/role",
            ),
            ("/v1/team/members/", format!("team/members/{s}"), ""),
            (
                "/v1/team/members/invitations/",
                format!("team/members/invitations/{s}"),
                "",
            ),
        ]
        .into_iter()
        .map(|(prefix, path, suffix)| (format!("{prefix}|{suffix}"), client.url(&path).unwrap()))
        .collect()
    }

    proptest::proptest! {
        /// docs/network.md: for any id, every request stays inside its endpoint: the path
        /// is the endpoint's prefix, one segment that is neither `.` nor `..` (nor their
        /// encodings), then the endpoint's suffix; no query, no fragment; same host.
        #[test]
        fn any_id_stays_inside_its_endpoint(
            id in proptest::prop_oneof![
                proptest::string::string_regex("[./%?#a-zA-Z0-9_~ -]{0,12}").unwrap(),
                proptest::prelude::any::<String>(),
                proptest::sample::select(vec![
                    ".".to_string(), "..".to_string(), "%2e%2e".to_string(), "%2E".to_string(),
                    "../..".to_string(), "a/../..".to_string(), "?x".to_string(), "#".to_string(),
                    "\\..".to_string(), "..\\".to_string(), ".%2e".to_string(),
                ]),
            ]
        ) {
            let client = test_client("https://api.scaling.cloud/v1");
            let urls = endpoint_urls(&client, &id);
            if id.is_empty() || id == "." || id == ".." {
                proptest::prop_assert!(urls.is_empty(), "refused");
            } else {
                proptest::prop_assert_eq!(urls.len(), 3);
            }
            for (shape, url) in urls {
                let (prefix, suffix) = shape.split_once('|').unwrap();
                proptest::prop_assert_eq!(url.host_str(), Some("api.scaling.cloud"));
                proptest::prop_assert_eq!(url.query(), None);
                proptest::prop_assert_eq!(url.fragment(), None);
                let rest = url.path().strip_prefix(prefix);
                proptest::prop_assert!(rest.is_some(), "{} left {}", url, prefix);
                let segment = rest.unwrap().strip_suffix(suffix);
                proptest::prop_assert!(segment.is_some(), "{} lost {}", url, suffix);
                let segment = segment.unwrap();
                proptest::prop_assert!(!segment.is_empty() && !segment.contains('/'), "{}", url);
                let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
                proptest::prop_assert!(decoded != "." && decoded != "..", "{}", url);
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_429_pauses_every_request_of_the_client() {
        let emu = scaling_emulator::Emulator::start(
            scaling_emulator::OrgState::with_members(&[("root@example.com", "org:admin")]),
            scaling_emulator::Options {
                api_key: "scl_live_test".into(),
                ..Default::default()
            },
        );
        let client = test_client(&emu.url());
        let other = client.clone();
        // One caller sees a 429 with Retry-After: 1 s (through a clone: the pause is shared).
        client.pause_all(Duration::from_millis(700));
        let started = Instant::now();
        other.list().await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(650),
            "the other caller waited for the pause: {:?}",
            started.elapsed()
        );
        // Once it has passed, nothing waits.
        let started = Instant::now();
        other.list().await.unwrap();
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_list_callers_share_reads_that_started_after_they_asked() {
        let emu = scaling_emulator::Emulator::start(
            scaling_emulator::OrgState::with_members(&[("root@example.com", "org:admin")]),
            scaling_emulator::Options {
                api_key: "scl_live_test".into(),
                ..Default::default()
            },
        );
        emu.set_faults(scaling_emulator::Faults {
            latency: Duration::from_millis(100),
            ..Default::default()
        });
        let client = test_client(&emu.url());
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let c = client.clone();
            tasks.spawn(async move { c.list().await.map(|s| s.members.len()) });
        }
        while let Some(r) = tasks.join_next().await {
            assert_eq!(r.unwrap().unwrap(), 1);
        }
        let reads = client.list_reads();
        assert!((1..=2).contains(&reads), "20 callers, {reads} reads");
        assert_eq!(
            emu.requests().iter().filter(|r| r.method == "GET").count(),
            reads
        );
        // A caller that asks after a read has finished gets a fresh read, never an old answer.
        emu.set_state(scaling_emulator::OrgState::with_members(&[
            ("root@example.com", "org:admin"),
            ("new@example.com", "org:member"),
        ]));
        assert_eq!(client.list().await.unwrap().members.len(), 2);
        assert_eq!(client.list_reads(), reads + 1);
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
