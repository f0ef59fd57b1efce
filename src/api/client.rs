//! The client of the team endpoints: one connection pool, requests with a cap on what is read
//! back, reads retried on transient failures, writes only when they provably did nothing, one
//! shared pause after a 429, and one list read in flight at a time.

use super::error::TransportKind;
use super::page::PageReader;
use super::retry::parse_retry_after;
use super::wire::{ErrorBody, first_of_each_id};
use super::{ApiConfig, ApiKey};
use super::{ApiError, Pauses, RetryPolicy, SendLog};
use crate::email::Email;
use crate::live::{InvitationId, LiveState, MemberId};
use crate::role::Role;
use reqwest::{Method, StatusCode, header};
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

/// A list read's result, with the ticket it started at.
type LastRead = (u64, Result<Arc<LiveState>, ApiError>);

/// What every clone of a [`Client`] shares.
#[derive(Default)]
struct Shared {
    /// Until when every request waits, after a 429 (docs/contract.md §5: one pause for
    /// everyone).
    paused_until: std::sync::Mutex<Option<Instant>>,
    /// The list read in flight (held while reading) and the last one's result, with the ticket
    /// it started at, kept only while callers are waiting for it.
    flight: tokio::sync::Mutex<Option<LastRead>>,
    /// Tickets: a caller takes one when it asks; a read takes one when it starts. A caller may
    /// take a read's result only if the read started after it asked.
    tickets: AtomicU64,
    /// Callers queued for `flight`.
    waiting: AtomicUsize,
    /// How many list reads were really sent (single-flight merges the others).
    list_reads: AtomicUsize,
    /// Where each rate-limit pause is announced; none in unit tests.
    notes: std::sync::OnceLock<Arc<dyn Notes>>,
    /// The pauses so far: how many, and how long they kept every request waiting.
    pauses: std::sync::Mutex<Pauses>,
}

/// Where the client announces what keeps requests waiting. The application implements it (the
/// terminal's `Ui`), so this layer never writes to the terminal itself.
pub(crate) trait Notes: Send + Sync {
    /// A 429 paused every request for `wait` (docs/contract.md §5).
    fn rate_limited(&self, wait: Duration);
    /// A request failed again after its first retry and is tried once more (docs/contract.md
    /// §5): `line` says what failed and which attempt comes next.
    fn retrying(&self, line: &str);
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("list_reads", &self.list_reads)
            .finish_non_exhaustive()
    }
}

/// Makes `ring` the process's rustls crypto provider (reqwest is built without one, so that no
/// C crypto library is compiled: docs/contract.md §11). Idempotent: a provider already installed stays.
pub(crate) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Client {
    pub(crate) fn new(config: &ApiConfig) -> Result<Client, ApiError> {
        // reqwest asks for gzip (`Accept-Encoding: gzip`), decompresses what comes back that
        // way and takes an uncompressed answer as it is (docs/contract.md §10). It honours
        // HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY itself, and trusts the system's
        // certificate store (or SSL_CERT_FILE); see docs/network.md.
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("teamsync/", env!("CARGO_PKG_VERSION")));
        if super::is_loopback(&config.base_url) {
            builder = builder.no_proxy();
        }
        if config.base_url.scheme() == "http" {
            // Plain http, on loopback only (docs/contract.md §1), and redirects are not
            // followed: no TLS is ever spoken, so the system's certificates are not read (a few
            // milliseconds of every command, docs/performance.md).
            builder = builder.tls_certs_only(std::iter::empty());
        }
        let http = builder.build().map_err(|e| ApiError::Transport {
            kind: TransportKind::Setup,
            detail: e.to_string(),
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
    pub(crate) fn with_notes(self, notes: Arc<dyn Notes>) -> Client {
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

    /// Reads the whole live state (docs/contract.md §5: re-reads are shared). Callers at the
    /// same time share one read: one read is in flight at a time, and a caller takes the
    /// result of a read that *started after it asked* (so it always sees the org as it was
    /// after its own write), else it starts the next read, which those queued behind it share.
    /// A burst of unknown outcomes costs two reads, not one per step, and the callers share
    /// one copy of it.
    pub(crate) async fn list(&self) -> Result<Arc<LiveState>, ApiError> {
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
        let result = self.list_uncached().await.map(Arc::new);
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
            // An unreadable page is retried like a failed one. The page is parsed while it
            // arrives (src/api/page/), and reads as if it had been buffered whole.
            let (page, next) = self
                .with_retries(|| {
                    let url = url.clone();
                    async move {
                        // Each chunk is parsed as it is received and decompressed, on this
                        // thread: a reader thread of its own gained no wall time on two cores
                        // and cost a copy of every chunk (docs/performance.md).
                        let mut page = PageReader::default();
                        self.exchange(Method::GET, url, None, LIST_PAGE_CAP, Sink::Page(&mut page))
                            .await?;
                        page.finish()
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
                    first_of_each_id(&mut state.members, |m| m.id.as_str());
                    first_of_each_id(&mut state.invitations, |i| i.id.as_str());
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
    pub(crate) async fn invite(
        &self,
        email: &Email,
        role: Role,
        log: &SendLog,
    ) -> Result<(), ApiError> {
        let body = serde_json::json!({ "emailAddress": email.written(), "role": role.as_str() });
        self.write(Method::POST, "team/members/invite", Some(body), log)
            .await
    }

    /// `PATCH team/members/{id}/role`.
    pub(crate) async fn update_role(
        &self,
        id: &MemberId,
        role: Role,
        log: &SendLog,
    ) -> Result<(), ApiError> {
        let path = format!("team/members/{}/role", seg(id.as_str())?);
        self.write(
            Method::PATCH,
            &path,
            Some(serde_json::json!({ "role": role.as_str() })),
            log,
        )
        .await
    }

    /// `DELETE team/members/{id}`.
    pub(crate) async fn remove(&self, id: &MemberId, log: &SendLog) -> Result<(), ApiError> {
        let path = format!("team/members/{}", seg(id.as_str())?);
        self.write(Method::DELETE, &path, None, log).await
    }

    /// `DELETE team/members/invitations/{id}`.
    pub(crate) async fn revoke(&self, id: &InvitationId, log: &SendLog) -> Result<(), ApiError> {
        let path = format!("team/members/invitations/{}", seg(id.as_str())?);
        self.write(Method::DELETE, &path, None, log).await
    }

    /// A write is sent again only when it provably did nothing (429, connection refused);
    /// any other failure goes back to the caller, which re-reads the live state first.
    async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        log: &SendLog,
    ) -> Result<(), ApiError> {
        let url = self.url(path)?;
        let mut attempt = 1;
        loop {
            self.wait_for_pause().await;
            log.sent();
            let answer = self
                .send(method.clone(), url.clone(), body.clone(), ANSWER_CAP)
                .await;
            if let Err(e) = &answer {
                log.failed(e);
            }
            match answer {
                Ok(_) => return Ok(()),
                Err(e) if e.safe_to_resend() && attempt < self.retry.max_attempts => {
                    let wait = self.retry.backoff(attempt, &e);
                    tracing::info!(%method, path, attempt, ?wait, "retrying: {e}");
                    self.say_retrying(attempt, &e);
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
                    self.say_retrying(attempt, &e);
                    self.back_off(wait, &e).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// From the second failed attempt of a request on, says on stderr that it is tried again
    /// (docs/contract.md §5): the first failure is retried silently (a blip), one that keeps
    /// failing is said at default verbosity. A 429 says so itself, as a pause ([`Notes`]).
    fn say_retrying(&self, attempt: u32, e: &ApiError) {
        if attempt < 2 || e.status() == Some(429) {
            return;
        }
        if let Some(notes) = self.shared.notes.get() {
            notes.retrying(&format!(
                "{e}; trying again (attempt {} of {})",
                attempt + 1,
                self.retry.max_attempts
            ));
        }
    }

    /// Waits before the next attempt: after a 429, by pausing *every* request of this client
    /// (docs/contract.md §5), else this request alone.
    async fn back_off(&self, wait: Duration, e: &ApiError) {
        if e.status() == Some(429) {
            self.pause_all(wait);
        } else {
            tokio::time::sleep(wait).await;
        }
    }

    /// The rate-limit pauses so far (docs/contract.md §5: the summary counts them).
    pub(crate) fn pauses(&self) -> Pauses {
        *self.shared.pauses.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts (or lengthens) the pause every request waits for; announces each new one, and
    /// adds the time every request waits to the tally.
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
            // The time added to the waiting: the whole wait for a new pause, what it lengthens
            // an old one by otherwise.
            let added = match *paused {
                Some(p) if !fresh => until.saturating_duration_since(p),
                _ => wait,
            };
            if paused.is_none_or(|p| p < until) {
                *paused = Some(until);
            }
            let mut tally = self.shared.pauses.lock().unwrap_or_else(|e| e.into_inner());
            tally.count += usize::from(fresh);
            tally.waited += added;
            fresh
        };
        if fresh {
            match self.shared.notes.get() {
                Some(notes) => notes.rate_limited(wait),
                None => tracing::info!(?wait, "rate limited"),
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
        let mut answer = Vec::new();
        self.exchange(method, url, body, cap, Sink::Buffer(&mut answer))
            .await?;
        Ok(answer)
    }

    /// One HTTP exchange. 2xx → the body (possibly empty, at most `cap` bytes decompressed)
    /// fed to `into` as it arrives; anything else → an error. A body that passes `cap` or
    /// breaks off is that error, whatever `into` made of its beginning.
    async fn exchange(
        &self,
        method: Method,
        url: reqwest::Url,
        body: Option<serde_json::Value>,
        cap: usize,
        into: Sink<'_>,
    ) -> Result<(), ApiError> {
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
        let mut bytes = Vec::new();
        let sink = if status.is_success() {
            into
        } else {
            Sink::Buffer(&mut bytes)
        };
        let read = match read_capped(&mut resp, cap, sink).await {
            Ok(read) => read,
            Err(Capped::Transport(e)) => return Err(transport(e)),
            Err(Capped::TooLarge) if status.is_success() => {
                return Err(ApiError::TooLarge {
                    what: format!("{method} {}", url.path()),
                    limit: cap,
                });
            }
            Err(Capped::TooLarge) => {
                bytes.clear();
                0
            }
        };
        tracing::debug!(%method, path = url.path(), status = status.as_u16(), bytes = read, elapsed_ms = started.elapsed().as_millis() as u64, "request");
        if status.is_success() {
            return Ok(());
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
fn result_gone() -> Result<Arc<LiveState>, ApiError> {
    Err(ApiError::Decode(
        "the shared read of the org went missing".into(),
    ))
}

enum Capped {
    Transport(reqwest::Error),
    TooLarge,
}

/// Where a body goes as it arrives: a buffer, or the reader of a page of the list.
enum Sink<'a> {
    Buffer(&'a mut Vec<u8>),
    Page(&'a mut PageReader),
}

impl Sink<'_> {
    fn push(&mut self, chunk: &[u8]) {
        match self {
            Sink::Buffer(buf) => buf.extend_from_slice(chunk),
            Sink::Page(reader) => reader.push(chunk),
        }
    }
}

/// Reads a body chunk by chunk (decompressed, when it came gzipped) into `into`, and stops as
/// soon as it would pass `cap` bytes: an endless or huge answer never sits in memory whole.
/// Returns how many bytes it read.
async fn read_capped(
    resp: &mut reqwest::Response,
    cap: usize,
    mut into: Sink<'_>,
) -> Result<usize, Capped> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(Capped::TooLarge);
    }
    if let Sink::Buffer(buf) = &mut into {
        buf.reserve_exact(resp.content_length().unwrap_or(0) as usize);
    }
    let mut read = 0;
    while let Some(chunk) = resp.chunk().await.map_err(Capped::Transport)? {
        if read + chunk.len() > cap {
            return Err(Capped::TooLarge);
        }
        read += chunk.len();
        into.push(&chunk);
    }
    Ok(read)
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
    // reqwest's message names the URL (never the key); keep its cause chain short: the
    // innermost cause's words.
    let mut detail = String::new();
    let mut tls = false;
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail = s.to_string();
        tls |= is_tls_error(s, e.is_connect());
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
    let kind = if e.is_timeout() {
        TransportKind::TimedOut
    } else if e.is_connect() {
        TransportKind::Connect
    } else if e.is_body() || e.is_decode() {
        TransportKind::Body
    } else {
        TransportKind::Other
    };
    ApiError::Transport {
        kind,
        detail,
        maybe_sent: !e.is_connect(),
    }
}

/// A failed TLS handshake, found by the types in reqwest's error chain, not by its words: a
/// `rustls::Error` (a certificate nobody trusts, a peer that does not speak TLS), or the peer
/// hanging up in the middle of the handshake (an `io::Error` of kind `UnexpectedEof` while
/// connecting: a TCP connection is either made or refused, it does not end early). reqwest
/// hands rustls's error over inside `io::Error`s, whose `source` skips the error they wrap, so
/// each one's inner error is looked at as well.
fn is_tls_error(e: &(dyn std::error::Error + 'static), connecting: bool) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        let Some(io) = e.downcast_ref::<std::io::Error>() else {
            return false;
        };
        if connecting && io.kind() == std::io::ErrorKind::UnexpectedEof {
            return true;
        }
        next = io
            .get_ref()
            .map(|inner| inner as &(dyn std::error::Error + 'static));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut config = ApiConfig::new(
            url,
            Some(("scl_live_test", crate::api::KeySource::Variable)),
        )
        .unwrap();
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
}
