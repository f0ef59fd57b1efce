//! A faithful, stateful, in-process emulator of the Scaling team-members API.
//!
//! It serves the five team endpoints under `http://127.0.0.1:PORT/v1`, keeps an
//! organization (members plus invitations) in memory behind a mutex, and can inject
//! faults (latency, 5xx, 429, commit-then-fail, slow answers, dropped connections,
//! pagination) reproducibly from a seed. [`Emulator`] runs it on its own thread with
//! its own tokio runtime, so it works from synchronous tests and from inside another
//! tokio runtime alike. The `scaling-emulator` binary serves the same [`router`].
//!
//! # Where the docs speak, the emulator follows them
//!
//! * Paths: `GET /v1/team/members`, `POST /v1/team/members/invite`,
//!   `PATCH /v1/team/members/{userId}/role`, `DELETE /v1/team/members/{userId}`,
//!   `DELETE /v1/team/members/invitations/{invitationId}`.
//! * Success bodies are wrapped in `{"data": …}`; members use `email`, invitations use
//!   `emailAddress`; timestamps are RFC 3339 UTC with milliseconds and `Z`.
//! * Errors are `{"statusCode","type","code","requestId","message"}`; 401 codes are
//!   `missing_authorization_header` (header absent or not starting with `Bearer `),
//!   `invalid_api_key` and `not_authorized` (a valid key that is not an admin's).
//! * Invite validation failures are **400** `invalid_request_error`/`invalid_request_error`
//!   (as the team page says, not the 422 `validation_error` of the errors page); an
//!   address longer than 320 characters is rejected.
//! * `cannot_change_own_role` and `cannot_remove_self` are 400 `invalid_request_error`.
//!
//! # Choices made where the docs are silent
//!
//! * **Who "self" is.** [`Options::self_email`] names the key's own user, matched without
//!   regard to case. When it is `None`, self is the first `org:admin` member of the seed
//!   state (none if the seed has no admin, in which case the self rules never fire).
//!   [`Emulator::start`] panics when `self_email` names nobody in the seed state. Self is
//!   looked up by email on every request, so [`Emulator::set_state`] may remove it.
//! * **Admin-ness of the key** is the knob [`Options::key_is_admin`] only; it is not
//!   derived from self's role.
//! * **Status codes.** Invite answers 201 with the invitation; PATCH answers 200 with the
//!   updated member; both DELETEs answer 204 with no body, or 200 with
//!   `{"data":{"id":…,"deleted":true}}` when [`Options::delete_status`] is 200.
//! * **Unknown ids** answer 404 `invalid_request_error`/`not_found`, checked after body
//!   validation and before the self rule. Revoking an invitation that is not pending
//!   (already revoked or accepted) is also 404 `not_found`.
//! * **Last admin.** Demoting or removing the organization's only `org:admin` answers 400
//!   `invalid_request_error`/`last_admin`. Setting a member's current role again is a
//!   successful no-op.
//! * **Duplicates.** Inviting an address that is already a member or already has a pending
//!   invitation is accepted and creates another pending invitation (so duplicates are
//!   observable). Email comparison is case-insensitive; addresses are stored as sent.
//! * **Email validity.** At most 320 characters; exactly one `@` (no quoted local parts);
//!   a non-empty local part without whitespace, control characters or the characters
//!   `()<>[]\,;:"`; a domain of at least two dot-separated labels made of letters, digits
//!   and `-`, not starting or ending with `-`. RFC 5321's 64/255 sub-limits are not
//!   enforced.
//! * **Request bodies** of POST and PATCH must be JSON objects sent with
//!   `Content-Type: application/json` (the overview asks clients for that header);
//!   otherwise 400 `invalid_request_error`. Unknown fields are ignored; `role` must be
//!   exactly `org:admin` or `org:member`.
//! * **Invitation statuses** are `pending`, `revoked` and `accepted` (Clerk's vocabulary).
//!   Non-pending invitations leave the list unless [`Options::list_non_pending`] is set.
//! * **Ids.** Seeded members are `user_0001…`, seeded invitations `orginv_0001…`; ids
//!   created by the API (`orginv_…`) or by [`Emulator::accept_invitation`] (`user_…`) are
//!   20 random lowercase alphanumerics from a fixed-seed generator, so runs repeat.
//!   First and last names are derived from the address's local part (`jane.smith@…` →
//!   Jane / Smith, `bob@…` → Bob / null); `imageUrl` is always `null`. Seeded members
//!   joined at `2025-01-15T09:30:00.000Z`; seeded invitations were created at
//!   `2026-04-05T10:00:00.000Z`; anything created later carries the current time.
//! * **Pagination** (only with [`Faults::page_size`]): members then listed invitations are
//!   cut into pages (a size of 0 counts as 1); `nextCursor` is an opaque checksummed token carrying an offset. A
//!   cursor is honoured even when paging is off (it then returns the rest). A cursor that
//!   does not decode, including the empty string, is 400
//!   `invalid_request_error`/`invalid_cursor`. Offsets are positional, so edits between
//!   pages can skip or repeat items, as with any offset cursor. Other query parameters are
//!   ignored.
//! * **Request ids** are random UUID-v4 strings, sent as `requestId` in error bodies and
//!   as the `x-request-id` header on every response (success bodies carry no `requestId`,
//!   as in the docs' examples).
//! * **Unknown routes** answer 404 `invalid_request_error`/`not_found`; a known path with
//!   the wrong method answers 405 `invalid_request_error`/`method_not_allowed`. Both come
//!   after authentication, like every other answer.
//! * **Late commits** ([`Faults::late_commit`]): a write answers 504 at once and is applied
//!   [`Faults::late_commit_delay`] later, as behind a gateway that gave up on a slow backend.
//! * **A 404 gateway** ([`Faults::delete_404`]): every authenticated DELETE answers 404
//!   `not_found` without touching state, as a broken gateway in front of the API would.
//! * **A revoked key** ([`Faults::revoke_key_after_writes`]): once that many writes have been
//!   received, every later request answers 401 `invalid_api_key`.
//! * **Fault order** for each request: the request is recorded; `latency` is slept; the
//!   probabilistic faults are drawn from the seeded generator (when
//!   [`Faults::writes_only`] is set, only POST/PATCH/DELETE draw); a 5xx or 429 fault is
//!   answered *before authentication* (as a gateway would) without touching state;
//!   otherwise the request is authenticated and handled; then `commit_then_fail` (writes
//!   only) turns a **successful** write into a 500 (failed writes keep their own error);
//!   `slow` sleeps `slow_delay` after the work is done; `drop_connection` sends the status
//!   line and headers with a `Content-Length` larger than the part of the body that is
//!   sent, then aborts the stream (a 204 is sent as a 200 so that there is a body to cut).
//! * **5xx faults** rotate 500, 502, 503, all with a JSON body of type `internal_error`,
//!   code `server_error`. **429** has type `rate_limit_error`, code `rate_limited`, and a
//!   `Retry-After` header taken from [`Faults::retry_after`] (omitted if that is empty).
//! * **Bookkeeping.** [`Emulator::requests`] has one entry per request received, in
//!   arrival order, with the status finally sent (0 if the client went away before an
//!   answer was decided). [`Emulator::write_count`] counts every non-GET request
//!   received, whatever its outcome. [`Emulator::invites_committed`] counts invitations
//!   created through the API only (not seeded ones), keyed by lowercase address.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The role that may use the team endpoints.
pub const ROLE_ADMIN: &str = "org:admin";
/// The ordinary member role.
pub const ROLE_MEMBER: &str = "org:member";

const SEED_JOINED_AT: &str = "2025-01-15T09:30:00.000Z";
const SEED_CREATED_AT: &str = "2026-04-05T10:00:00.000Z";
const MAX_EMAIL_LEN: usize = 320;

/// A member of the organization (`email`, not `emailAddress`, on the wire).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: String,
}

/// An invitation (`emailAddress` on the wire). `status` is `pending`, `revoked` or
/// `accepted`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub id: String,
    pub email_address: String,
    pub role: String,
    pub status: String,
}

/// The organization the emulator serves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgState {
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
}

impl OrgState {
    /// Build an org from (email, role) pairs, ids generated deterministically
    /// (`user_0001`, `user_0002`, …). Names are derived from the address.
    pub fn with_members(members: &[(&str, &str)]) -> Self {
        let mut state = OrgState::default();
        for (email, role) in members {
            state.add_member(email, role);
        }
        state
    }

    /// Add a member with the next free deterministic id and return that id.
    pub fn add_member(&mut self, email: &str, role: &str) -> String {
        let id = next_seq_id("user_", self.members.iter().map(|m| m.id.as_str()));
        let (first_name, last_name) = names_from_email(email);
        self.members.push(Member {
            id: id.clone(),
            email: email.to_string(),
            first_name,
            last_name,
            role: role.to_string(),
        });
        id
    }

    /// Add a pending invitation with the next free deterministic id (`orginv_0001`, …)
    /// and return that id.
    pub fn add_invitation(&mut self, email: &str, role: &str) -> String {
        let id = next_seq_id("orginv_", self.invitations.iter().map(|i| i.id.as_str()));
        self.invitations.push(Invitation {
            id: id.clone(),
            email_address: email.to_string(),
            role: role.to_string(),
            status: "pending".to_string(),
        });
        id
    }

    /// The member with this address, compared without regard to case.
    pub fn member_by_email(&self, email: &str) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| m.email.eq_ignore_ascii_case(email))
    }
}

fn next_seq_id<'a>(prefix: &str, existing: impl Iterator<Item = &'a str> + Clone) -> String {
    let mut n = existing.clone().count() + 1;
    loop {
        let id = format!("{prefix}{n:04}");
        if !existing.clone().any(|e| e == id) {
            return id;
        }
        n += 1;
    }
}

/// `jane.smith@x` → (Jane, Smith); `bob@x` → (Bob, None).
fn names_from_email(email: &str) -> (Option<String>, Option<String>) {
    let local = email.split('@').next().unwrap_or("");
    let mut parts = local
        .split(['.', '_', '-', '+'])
        .filter(|p| !p.is_empty())
        .map(capitalize);
    (parts.next(), parts.next())
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Fault knobs. Probabilities are in `0.0..=1.0`; decisions come from a generator
/// seeded with `seed` (reset by every [`Emulator::set_faults`]).
#[derive(Clone, Debug)]
pub struct Faults {
    /// Added to every request.
    pub latency: Duration,
    /// Probability: answer 500/502/503 (rotating) without doing anything.
    pub error_5xx: f64,
    /// Probability: answer 429 with `Retry-After` without doing anything.
    pub rate_limit_429: f64,
    /// Value of the `Retry-After` header ("0", "1", or an HTTP date); default "1";
    /// empty means no header.
    pub retry_after: String,
    /// Probability for writes: apply the change, then answer 500.
    pub commit_then_fail: f64,
    /// Probability: sleep `slow_delay` before answering (writes commit first).
    pub slow: f64,
    pub slow_delay: Duration,
    /// Probability: (writes commit first) send headers and part of the body, then drop
    /// the connection.
    pub drop_connection: f64,
    /// Cut the list into pages of this many items (members first, then invitations).
    pub page_size: Option<usize>,
    /// Seed of the fault generator, so runs are reproducible.
    pub seed: u64,
    /// When true, the probabilistic faults apply only to POST/PATCH/DELETE.
    pub writes_only: bool,
    /// Probability for writes: answer 504 at once, as a gateway that gave up would, and
    /// apply the change `late_commit_delay` later (the backend was still working).
    pub late_commit: f64,
    pub late_commit_delay: Duration,
    /// A rate-limit window of this length (zero = none): every request answered while it is
    /// open gets 429 `rate_limited` with `Retry-After` = the window's remaining time in whole
    /// seconds, rounded up. It opens when write number `rate_limit_window_at_write` (1-based,
    /// counted from this `set_faults`) arrives; 0 opens it with the first request of any kind.
    pub rate_limit_window: Duration,
    pub rate_limit_window_at_write: usize,
    /// Nonzero: every successful answer (only writes' answers when `writes_only`) is replaced
    /// by a 200 whose body streams this many bytes of JSON-looking filler
    /// without a `Content-Length` (`u64::MAX`: endless), as a broken gateway might.
    pub oversized_body: u64,
    /// At most this many late commits in all (counted from the emulator's start); `None`: no
    /// limit. With `late_commit: 1.0` and `Some(1)`, exactly the first write commits late.
    pub late_commit_max: Option<usize>,
    /// A broken gateway: every DELETE (after authentication) answers 404 `not_found` and
    /// changes nothing.
    pub delete_404: bool,
    /// The key is revoked once this many writes have been received: every later request
    /// answers 401 `invalid_api_key`.
    pub revoke_key_after_writes: Option<usize>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency: Duration::ZERO,
            error_5xx: 0.0,
            rate_limit_429: 0.0,
            retry_after: "1".to_string(),
            commit_then_fail: 0.0,
            slow: 0.0,
            slow_delay: Duration::ZERO,
            drop_connection: 0.0,
            page_size: None,
            seed: 0,
            writes_only: false,
            late_commit: 0.0,
            late_commit_delay: Duration::ZERO,
            rate_limit_window: Duration::ZERO,
            rate_limit_window_at_write: 0,
            oversized_body: 0,
            late_commit_max: None,
            delete_404: false,
            revoke_key_after_writes: None,
        }
    }
}

/// Fixed settings of an emulator.
#[derive(Clone, Debug)]
pub struct Options {
    /// The only key accepted (`Authorization: Bearer <api_key>`).
    pub api_key: String,
    /// The key's own user; `None` = the first admin of the seed state.
    pub self_email: Option<String>,
    /// When false, every authenticated request answers 401 `not_authorized`.
    pub key_is_admin: bool,
    /// 204 (no body) or 200 (`{"data":{"id","deleted":true}}`) for both DELETEs.
    pub delete_status: u16,
    /// Keep revoked/accepted invitations in the list, with their status.
    pub list_non_pending: bool,
    /// Compress answers with gzip when the request says `Accept-Encoding: gzip` (false: always
    /// send them as they are, as a server without compression would).
    pub gzip: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            api_key: "scl_live_test".to_string(),
            self_email: None,
            key_is_admin: true,
            delete_status: 204,
            list_non_pending: false,
            gzip: true,
        }
    }
}

/// One request as the emulator saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// Path with query string, e.g. `/v1/team/members?cursor=…`.
    pub path: String,
    /// Status sent; 0 if the client went away before an answer was decided.
    pub status: u16,
}

struct Inner {
    org: OrgState,
    options: Options,
    self_email: Option<String>,
    faults: Faults,
    fault_rng: fastrand::Rng,
    id_rng: fastrand::Rng,
    rotate_5xx: usize,
    joined_at: HashMap<String, String>,
    created_at: HashMap<String, String>,
    /// `createdAt` given to new invitations; `None`: the real clock.
    invitation_clock: Option<String>,
    invites_committed: BTreeMap<String, usize>,
    requests: Vec<RequestRecord>,
    write_count: usize,
    /// Writes received since the last `set_faults` (for `rate_limit_window_at_write`).
    writes_since_faults: usize,
    /// Until when the rate-limit window is open.
    window_until: Option<std::time::Instant>,
    /// Response body bytes sent, as sent (compressed when they were).
    body_bytes_sent: u64,
    /// Late commits drawn so far ([`Faults::late_commit_max`]).
    late_commits: usize,
}

impl Inner {
    /// The index of the member a PATCH or DELETE targets, after the rules in the order the
    /// emulator applies them: unknown id (404), the key's own account (`self_rule`), and the
    /// last admin when the change takes admin rights away.
    fn member_to_change(
        &self,
        user_id: &str,
        self_rule: (&'static str, &'static str),
        drops_admin: bool,
    ) -> Result<usize, ApiError> {
        let Some(idx) = self.org.members.iter().position(|m| m.id == user_id) else {
            return Err(ApiError::not_found(format!(
                "No member with id '{user_id}'."
            )));
        };
        if self.self_id().as_deref() == Some(user_id) {
            return Err(ApiError::rule(self_rule.0, self_rule.1));
        }
        if drops_admin && self.org.members[idx].role == ROLE_ADMIN && self.admin_count() <= 1 {
            return Err(ApiError::rule(
                "last_admin",
                "The organization must keep at least one admin.",
            ));
        }
        Ok(idx)
    }

    fn self_id(&self) -> Option<String> {
        let email = self.self_email.as_deref()?;
        self.org.member_by_email(email).map(|m| m.id.clone())
    }

    fn admin_count(&self) -> usize {
        self.org
            .members
            .iter()
            .filter(|m| m.role == ROLE_ADMIN)
            .count()
    }

    fn random_id(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let s: String = (0..20)
            .map(|_| ALPHABET[self.id_rng.usize(..ALPHABET.len())] as char)
            .collect();
        format!("{prefix}{s}")
    }

    fn member_json(&self, m: &Member) -> Value {
        json!({
            "id": m.id,
            "email": m.email,
            "firstName": m.first_name,
            "lastName": m.last_name,
            "imageUrl": null,
            "role": m.role,
            "joinedAt": self.joined_at.get(&m.id).map(String::as_str).unwrap_or(SEED_JOINED_AT),
        })
    }

    fn member_out<'a>(&'a self, m: &'a Member) -> MemberOut<'a> {
        MemberOut {
            email: &m.email,
            first_name: m.first_name.as_deref(),
            id: &m.id,
            image_url: None,
            joined_at: self
                .joined_at
                .get(&m.id)
                .map(String::as_str)
                .unwrap_or(SEED_JOINED_AT),
            last_name: m.last_name.as_deref(),
            role: &m.role,
        }
    }

    fn invitation_out<'a>(&'a self, i: &'a Invitation) -> InvitationOut<'a> {
        InvitationOut {
            created_at: self
                .created_at
                .get(&i.id)
                .map(String::as_str)
                .unwrap_or(SEED_CREATED_AT),
            email_address: &i.email_address,
            id: &i.id,
            role: &i.role,
            status: &i.status,
        }
    }

    fn invitation_json(&self, i: &Invitation) -> Value {
        json!({
            "id": i.id,
            "emailAddress": i.email_address,
            "role": i.role,
            "status": i.status,
            "createdAt": self.created_at.get(&i.id).map(String::as_str).unwrap_or(SEED_CREATED_AT),
        })
    }

    fn accept(&mut self, email: &str) -> bool {
        let Some(idx) = self
            .org
            .invitations
            .iter()
            .position(|i| i.status == "pending" && i.email_address.eq_ignore_ascii_case(email))
        else {
            return false;
        };
        self.org.invitations[idx].status = "accepted".to_string();
        if self.org.member_by_email(email).is_none() {
            let inv = self.org.invitations[idx].clone();
            let id = self.random_id("user_");
            let (first_name, last_name) = names_from_email(&inv.email_address);
            self.joined_at.insert(id.clone(), now_rfc3339());
            self.org.members.push(Member {
                id,
                email: inv.email_address,
                first_name,
                last_name,
                role: inv.role,
            });
        }
        true
    }
}

/// The emulator's shared state; build with [`Shared::new`] and pass to [`router`].
pub struct Shared {
    inner: Mutex<Inner>,
}

impl Shared {
    /// Panics if `options.self_email` is set and is not a member of `state`.
    pub fn new(state: OrgState, options: Options) -> Arc<Shared> {
        let self_email = match &options.self_email {
            Some(e) => {
                assert!(
                    state.member_by_email(e).is_some(),
                    "scaling-emulator: self_email {e:?} must be a member of the seed state"
                );
                Some(e.clone())
            }
            None => state
                .members
                .iter()
                .find(|m| m.role == ROLE_ADMIN)
                .map(|m| m.email.clone()),
        };
        let faults = Faults::default();
        Arc::new(Shared {
            inner: Mutex::new(Inner {
                org: state,
                options,
                self_email,
                fault_rng: fastrand::Rng::with_seed(faults.seed),
                faults,
                id_rng: fastrand::Rng::with_seed(0x5ca1_1ab5),
                rotate_5xx: 0,
                joined_at: HashMap::new(),
                created_at: HashMap::new(),
                invitation_clock: None,
                invites_committed: BTreeMap::new(),
                requests: Vec::new(),
                write_count: 0,
                writes_since_faults: 0,
                window_until: None,
                body_bytes_sent: 0,
                late_commits: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking handler must not wedge every later request.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replace the fault knobs and reseed the fault generator.
    pub fn set_faults(&self, faults: Faults) {
        let mut inner = self.lock();
        inner.fault_rng = fastrand::Rng::with_seed(faults.seed);
        inner.faults = faults;
        inner.writes_since_faults = 0;
        inner.window_until = None;
    }

    /// A snapshot of the organization.
    pub fn state(&self) -> OrgState {
        self.lock().org.clone()
    }

    /// Replace the organization.
    pub fn set_state(&self, state: OrgState) {
        self.lock().org = state;
    }

    /// Knob (invitation lifecycle): the `createdAt` of invitation `id`, as listed: any text,
    /// so a test can serve a missing-looking or unreadable value; `None` restores the default.
    pub fn set_created_at(&self, id: &str, created_at: Option<&str>) {
        let mut inner = self.lock();
        match created_at {
            Some(t) => inner.created_at.insert(id.to_string(), t.to_string()),
            None => inner.created_at.remove(id),
        };
    }

    /// Knob: the `createdAt` new invitations get (a fixed clock, for stable outputs); `None`
    /// uses the real clock.
    pub fn set_invitation_clock(&self, now: Option<&str>) {
        self.lock().invitation_clock = now.map(str::to_string);
    }

    /// The key's own user's address, if any.
    pub fn self_email(&self) -> Option<String> {
        self.lock().self_email.clone()
    }

    /// See [`Emulator::accept_invitation`].
    pub fn accept_invitation(&self, email: &str) -> bool {
        self.lock().accept(email)
    }

    /// See [`Emulator::invites_committed`].
    pub fn invites_committed(&self) -> BTreeMap<String, usize> {
        self.lock().invites_committed.clone()
    }

    /// See [`Emulator::requests`].
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().requests.clone()
    }

    /// See [`Emulator::write_count`].
    pub fn write_count(&self) -> usize {
        self.lock().write_count
    }

    /// See [`Emulator::body_bytes_sent`].
    pub fn body_bytes_sent(&self) -> u64 {
        self.lock().body_bytes_sent
    }
}

// ---------------------------------------------------------------------------------
// Errors

/// An API error; rendered into the documented body by the middleware, which knows the
/// request id.
#[derive(Clone, Debug)]
struct ApiError {
    status: StatusCode,
    kind: &'static str,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(
        status: StatusCode,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            kind,
            code,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_request_error",
            message,
        )
    }

    fn rule(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            message,
        )
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "not_found",
            message,
        )
    }

    fn unauthorized(code: &'static str, message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "not_authorized_error",
            code,
            message,
        )
    }

    fn server(status: StatusCode) -> Self {
        Self::new(
            status,
            "internal_error",
            "server_error",
            "An unexpected error occurred.",
        )
    }

    fn render(&self, request_id: &str) -> Response {
        let body = json!({
            "statusCode": self.status.as_u16(),
            "type": self.kind,
            "code": self.code,
            "requestId": request_id,
            "message": self.message,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = self.status.into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}

type ApiResult = Result<Response, ApiError>;

// ---------------------------------------------------------------------------------
// Router

/// The emulator's routes plus its middleware (request ids, bookkeeping, faults, auth).
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/team/members", get(list_members))
        .route("/v1/team/members/invite", post(invite))
        .route("/v1/team/members/{user_id}/role", patch(change_role))
        .route("/v1/team/members/{user_id}", delete(remove_member))
        .route(
            "/v1/team/members/invitations/{invitation_id}",
            delete(revoke_invitation),
        )
        .fallback(|| async { ApiError::not_found("No such route.") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request_error",
                "method_not_allowed",
                "Method not allowed on this route.",
            )
        })
        .layer(middleware::from_fn_with_state(shared.clone(), pipeline))
        .with_state(shared)
}

/// Serve [`router`] on `listener` until the future is dropped or fails.
pub async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) -> std::io::Result<()> {
    axum::serve(listener, router(shared)).await
}

#[derive(Clone, Copy, Debug, Default)]
struct Decision {
    pre_5xx: Option<StatusCode>,
    pre_429: bool,
    commit_then_fail: bool,
    late_commit: bool,
    slow: bool,
    drop_connection: bool,
}

fn draw(rng: &mut fastrand::Rng, p: f64) -> bool {
    p > 0.0 && rng.f64() < p
}

async fn pipeline(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let is_write = matches!(
        method,
        Method::POST | Method::PATCH | Method::DELETE | Method::PUT
    );
    let request_id = uuid_v4();

    let (record_idx, latency, writes_before) = {
        let mut inner = shared.lock();
        let writes_before = inner.write_count;
        if method != Method::GET {
            inner.write_count += 1;
        }
        if is_write {
            inner.writes_since_faults += 1;
        }
        let window = inner.faults.rate_limit_window;
        let at = inner.faults.rate_limit_window_at_write;
        if !window.is_zero()
            && inner.window_until.is_none()
            && (at == 0 || (is_write && inner.writes_since_faults == at))
        {
            inner.window_until = Some(std::time::Instant::now() + window);
        }
        inner.requests.push(RequestRecord {
            method: method.to_string(),
            path,
            status: 0,
        });
        (
            inner.requests.len() - 1,
            inner.faults.latency,
            writes_before,
        )
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let accepts_gzip = req
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.split(';').next().unwrap_or("").trim() == "gzip");
    let (
        decision,
        retry_after,
        slow_delay,
        late_delay,
        options,
        oversized,
        delete_404,
        key_revoked,
    ) = {
        let mut inner = shared.lock();
        let f = inner.faults.clone();
        let mut d = Decision::default();
        let now = std::time::Instant::now();
        let window_left = inner
            .window_until
            .filter(|until| *until > now)
            .map(|until| until - now);
        if !f.writes_only || is_write {
            let rng = &mut inner.fault_rng;
            if draw(rng, f.error_5xx) {
                d.pre_5xx = Some(StatusCode::INTERNAL_SERVER_ERROR);
            } else if draw(rng, f.rate_limit_429) {
                d.pre_429 = true;
            } else {
                d.commit_then_fail = is_write && draw(rng, f.commit_then_fail);
                d.late_commit = is_write && !d.commit_then_fail && draw(rng, f.late_commit);
                d.slow = draw(rng, f.slow);
                d.drop_connection = draw(rng, f.drop_connection);
            }
            if d.pre_5xx.is_some() {
                let codes = [
                    StatusCode::INTERNAL_SERVER_ERROR,
                    StatusCode::BAD_GATEWAY,
                    StatusCode::SERVICE_UNAVAILABLE,
                ];
                d.pre_5xx = Some(codes[inner.rotate_5xx % codes.len()]);
                inner.rotate_5xx += 1;
            }
        }
        let mut retry_after = f.retry_after;
        if let Some(left) = window_left {
            d = Decision {
                pre_429: true,
                ..Decision::default()
            };
            retry_after = left.as_millis().div_ceil(1000).to_string();
        }
        let oversized =
            (f.oversized_body > 0 && (!f.writes_only || is_write)).then_some(f.oversized_body);
        if d.late_commit {
            d.late_commit = f.late_commit_max.is_none_or(|m| inner.late_commits < m);
            inner.late_commits += usize::from(d.late_commit);
        }
        (
            d,
            retry_after,
            f.slow_delay,
            f.late_commit_delay,
            inner.options.clone(),
            oversized,
            f.delete_404,
            f.revoke_key_after_writes
                .is_some_and(|n| writes_before >= n),
        )
    };

    let mut resp = if let Some(status) = decision.pre_5xx {
        ApiError::server(status).render(&request_id)
    } else if decision.pre_429 {
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "rate_limited",
            "Too many requests; retry later.",
        )
        .render(&request_id);
        let value = Some(retry_after.as_str())
            .filter(|v| !v.is_empty())
            .and_then(|v| HeaderValue::from_str(v).ok());
        if let Some(v) = value {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    } else if let Err(e) = authenticate(req.headers(), &options) {
        e.render(&request_id)
    } else if key_revoked {
        ApiError::unauthorized("invalid_api_key", "The API key was revoked.").render(&request_id)
    } else if delete_404 && method == Method::DELETE {
        ApiError::not_found("Not found.").render(&request_id)
    } else if decision.late_commit {
        tokio::spawn(async move {
            tokio::time::sleep(late_delay).await;
            let _ = next.run(req).await;
        });
        ApiError::server(StatusCode::GATEWAY_TIMEOUT).render(&request_id)
    } else {
        let r = next.run(req).await;
        let r = match r.extensions().get::<ApiError>() {
            Some(e) => e.render(&request_id),
            None => r,
        };
        if decision.commit_then_fail && r.status().is_success() {
            ApiError::server(StatusCode::INTERNAL_SERVER_ERROR).render(&request_id)
        } else {
            r
        }
    };

    let succeeded = resp.status().is_success();
    if let Some(n) = oversized.filter(|_| succeeded) {
        resp = oversized_answer(n);
    } else if decision.drop_connection {
        resp = truncate(resp).await;
    } else {
        let gzip = options.gzip && accepts_gzip;
        let (r, sent) = finish_body(resp, gzip).await;
        resp = r;
        shared.lock().body_bytes_sent += sent;
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    {
        let mut inner = shared.lock();
        if let Some(rec) = inner.requests.get_mut(record_idx) {
            rec.status = resp.status().as_u16();
        }
    }
    if decision.slow && !slow_delay.is_zero() {
        tokio::time::sleep(slow_delay).await;
    }
    resp
}

fn authenticate(headers: &HeaderMap, options: &Options) -> Result<(), ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(token) = value.and_then(|v| v.strip_prefix("Bearer ")) else {
        return Err(ApiError::unauthorized(
            "missing_authorization_header",
            "The Authorization header is missing or does not start with 'Bearer '.",
        ));
    };
    if token != options.api_key {
        return Err(ApiError::unauthorized(
            "invalid_api_key",
            "The API key is invalid or expired.",
        ));
    }
    if !options.key_is_admin {
        return Err(ApiError::unauthorized(
            "not_authorized",
            "You are not authenticated or do not have the org:admin role.",
        ));
    }
    Ok(())
}

/// A 200 whose body is `n` bytes (`u64::MAX`: endless) of JSON-looking filler, streamed in
/// 64 KiB chunks without a `Content-Length`.
fn oversized_answer(n: u64) -> Response {
    use futures_util::StreamExt;
    const CHUNK: usize = 64 * 1024;
    let head = Bytes::from_static(b"{\"data\":{\"members\":[");
    let filler = Bytes::from(vec![b' '; CHUNK]);
    let mut left = n.saturating_sub(head.len() as u64);
    let body = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(head) }).chain(
        futures_util::stream::iter(std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let take = left.min(CHUNK as u64) as usize;
            if n != u64::MAX {
                left -= take as u64;
            }
            Some(Ok(filler.slice(..take)))
        })),
    );
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Body::from_stream(body),
    )
        .into_response()
}

/// The body of `resp` as it goes on the wire: gzipped when `gzip` (and there is a body), with
/// its length, which is returned for [`Shared::body_bytes_sent`].
async fn finish_body(resp: Response, gzip: bool) -> (Response, u64) {
    use std::io::Write;
    let (mut parts, body) = resp.into_parts();
    let full = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    if !gzip || full.is_empty() {
        let n = full.len() as u64;
        return (Response::from_parts(parts, Body::from(full)), n);
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let packed = enc
        .write_all(&full)
        .and_then(|()| enc.finish())
        .unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let n = packed.len() as u64;
    (Response::from_parts(parts, Body::from(packed)), n)
}

/// Send the head of `resp` with a `Content-Length` larger than what follows, then fail
/// the body stream so the server aborts the connection.
async fn truncate(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let full = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let full = if full.is_empty() {
        Bytes::from_static(b"{\"data\":{\"id\":\"truncated\",\"deleted\":true}}")
    } else {
        full
    };
    if parts.status == StatusCode::NO_CONTENT {
        parts.status = StatusCode::OK;
    }
    let sent = full.slice(..full.len() / 2);
    let claimed = full.len() + 64;
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(claimed));
    // The pause lets hyper flush the head and the first part of the body before the
    // stream fails; without it the whole response is discarded unsent.
    use futures_util::StreamExt;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(sent) })
        .chain(futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "scaling-emulator: injected connection drop",
            ))
        }));
    Response::from_parts(parts, Body::from_stream(stream))
}

// ---------------------------------------------------------------------------------
// Handlers

fn data(status: StatusCode, value: Value) -> Response {
    (status, axum::Json(json!({ "data": value }))).into_response()
}

fn deleted(status: u16, id: &str) -> Response {
    if status == 200 {
        data(StatusCode::OK, json!({"id": id, "deleted": true}))
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

async fn list_members(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> ApiResult {
    let cursor = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| *k == "cursor")
        .map(|(_, v)| v.to_string());
    let inner = shared.lock();
    let offset = match &cursor {
        None => 0,
        Some(c) => decode_cursor(c).ok_or_else(|| {
            ApiError::rule("invalid_cursor", "The cursor is not valid for this list.")
        })?,
    };
    let list_all = inner.options.list_non_pending;
    let invitations: Vec<&Invitation> = inner
        .org
        .invitations
        .iter()
        .filter(|i| list_all || i.status == "pending")
        .collect();
    let total = inner.org.members.len() + invitations.len();
    let end = match inner.faults.page_size {
        Some(n) => offset.saturating_add(n.max(1)).min(total),
        None => total,
    };
    let start = offset.min(total);
    let mut members = Vec::new();
    let mut invs = Vec::new();
    for idx in start..end {
        if let Some(m) = inner.org.members.get(idx) {
            members.push(inner.member_out(m));
        } else {
            invs.push(inner.invitation_out(invitations[idx - inner.org.members.len()]));
        }
    }
    let next = (end < total).then(|| encode_cursor(end));
    // Serialised from borrowed structs straight to bytes (no `Value` per entry): the same JSON
    // as `data(…, json!(…))`, whose keys come out sorted.
    let body = ListOut {
        data: ListData {
            invitations: invs,
            members,
            next_cursor: next,
        },
    };
    let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response())
}

/// The list's answer; fields in the order `json!` would print them (sorted).
#[derive(Serialize)]
struct ListOut<'a> {
    data: ListData<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListData<'a> {
    invitations: Vec<InvitationOut<'a>>,
    members: Vec<MemberOut<'a>>,
    next_cursor: Option<String>,
}

/// A member as listed; fields sorted like [`Inner::member_json`]'s.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberOut<'a> {
    email: &'a str,
    first_name: Option<&'a str>,
    id: &'a str,
    image_url: Option<()>,
    joined_at: &'a str,
    last_name: Option<&'a str>,
    role: &'a str,
}

/// An invitation as listed; fields sorted like [`Inner::invitation_json`]'s.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvitationOut<'a> {
    created_at: &'a str,
    email_address: &'a str,
    id: &'a str,
    role: &'a str,
    status: &'a str,
}

const CURSOR_SALT: u64 = 0x7ea3_5c0d_e11a_b1e5;

fn cursor_check(offset: u64) -> u64 {
    // FNV-1a over the salted offset.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in (offset ^ CURSOR_SALT).to_le_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn encode_cursor(offset: usize) -> String {
    let o = offset as u64;
    format!("cur_{o:x}_{:016x}", cursor_check(o))
}

fn decode_cursor(s: &str) -> Option<usize> {
    let rest = s.strip_prefix("cur_")?;
    let (o, check) = rest.split_once('_')?;
    let o = u64::from_str_radix(o, 16).ok()?;
    if check.len() != 16 || u64::from_str_radix(check, 16).ok()? != cursor_check(o) {
        return None;
    }
    usize::try_from(o).ok()
}

/// Parse a JSON object body sent as `application/json`.
fn json_body(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::invalid(
            "The request body must be sent with Content-Type: application/json.",
        ));
    }
    if body.is_empty() {
        return Err(ApiError::invalid("The request body is missing."));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid("The request body must be a JSON object.")),
        Err(e) => Err(ApiError::invalid(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

fn role_field(map: &serde_json::Map<String, Value>) -> Result<String, ApiError> {
    match map.get("role") {
        None | Some(Value::Null) => Err(ApiError::invalid("The field 'role' is required.")),
        Some(Value::String(r)) if r == ROLE_ADMIN || r == ROLE_MEMBER => Ok(r.clone()),
        Some(other) => Err(ApiError::invalid(format!(
            "The field 'role' must be 'org:admin' or 'org:member', got {other}."
        ))),
    }
}

/// The emulator's notion of a valid address (see the crate docs).
pub fn is_valid_email(email: &str) -> bool {
    if email.chars().count() > MAX_EMAIL_LEN {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    if local.is_empty()
        || local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "()<>[]\\,;:\"@".contains(c))
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

async fn invite(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let map = json_body(&headers, &body)?;
    let email = match map.get("emailAddress") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid("The field 'emailAddress' is required."));
        }
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::invalid(
                "The field 'emailAddress' must be a string.",
            ));
        }
    };
    if email.chars().count() > MAX_EMAIL_LEN {
        return Err(ApiError::invalid(
            "The field 'emailAddress' must be no longer than 320 characters.",
        ));
    }
    if !is_valid_email(&email) {
        return Err(ApiError::invalid(
            "The field 'emailAddress' must be a valid email address.",
        ));
    }
    let role = role_field(&map)?;

    let mut inner = shared.lock();
    let id = inner.random_id("orginv_");
    let created = inner.invitation_clock.clone().unwrap_or_else(now_rfc3339);
    inner.created_at.insert(id.clone(), created);
    let inv = Invitation {
        id,
        email_address: email.clone(),
        role,
        status: "pending".to_string(),
    };
    *inner
        .invites_committed
        .entry(email.to_lowercase())
        .or_insert(0) += 1;
    let body = inner.invitation_json(&inv);
    inner.org.invitations.push(inv);
    Ok(data(StatusCode::CREATED, body))
}

async fn change_role(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let map = json_body(&headers, &body)?;
    let role = role_field(&map)?;
    let mut inner = shared.lock();
    let idx = inner.member_to_change(
        &user_id,
        (
            "cannot_change_own_role",
            "You attempted to change your own role, which is not allowed.",
        ),
        role != ROLE_ADMIN,
    )?;
    inner.org.members[idx].role = role;
    let body = inner.member_json(&inner.org.members[idx]);
    Ok(data(StatusCode::OK, body))
}

async fn remove_member(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
) -> ApiResult {
    let mut inner = shared.lock();
    let idx = inner.member_to_change(
        &user_id,
        (
            "cannot_remove_self",
            "You attempted to remove yourself from the organization, which is not allowed.",
        ),
        true,
    )?;
    inner.org.members.remove(idx);
    Ok(deleted(inner.options.delete_status, &user_id))
}

async fn revoke_invitation(
    State(shared): State<Arc<Shared>>,
    Path(invitation_id): Path<String>,
) -> ApiResult {
    let mut inner = shared.lock();
    let Some(inv) = inner
        .org
        .invitations
        .iter_mut()
        .find(|i| i.id == invitation_id && i.status == "pending")
    else {
        return Err(ApiError::not_found(format!(
            "No pending invitation with id '{invitation_id}'."
        )));
    };
    inv.status = "revoked".to_string();
    Ok(deleted(inner.options.delete_status, &invitation_id))
}

// ---------------------------------------------------------------------------------
// Small helpers

fn uuid_v4() -> String {
    let a = fastrand::u64(..);
    let b = fastrand::u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// The current time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn now_rfc3339() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_rfc3339(d.as_secs() as i64, d.subsec_millis())
}

fn format_rfc3339(secs: i64, millis: u32) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

// ---------------------------------------------------------------------------------
// The threaded emulator

/// An emulator listening on `127.0.0.1`, running on its own thread and tokio runtime.
/// Stops on [`Emulator::stop`] or drop.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Emulator {
    /// Bind `127.0.0.1:0` and serve; returns once the socket is listening.
    /// Panics if `options.self_email` is set and is not a member of `state`.
    pub fn start(state: OrgState, options: Options) -> Emulator {
        let shared = Shared::new(state, options);
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("scaling-emulator: cannot bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("scaling-emulator: set_nonblocking");
        let addr = listener.local_addr().expect("scaling-emulator: local_addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(shared.clone());
        let thread = std::thread::Builder::new()
            .name(format!("scaling-emulator-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("scaling-emulator: tokio runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("scaling-emulator: tokio listener");
                    tokio::select! {
                        res = axum::serve(listener, app) => {
                            if let Err(e) = res {
                                eprintln!("scaling-emulator: server error: {e}");
                            }
                        }
                        _ = rx => {}
                    }
                });
                // Dropping the runtime cancels connections still in flight.
                drop(rt);
            })
            .expect("scaling-emulator: spawn thread");
        Emulator {
            shared,
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// The base URL, e.g. `http://127.0.0.1:PORT/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The socket address the emulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state, e.g. to build another [`router`] on it.
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Replace the fault knobs and reseed the fault generator.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// A snapshot of the organization.
    pub fn state(&self) -> OrgState {
        self.shared.state()
    }

    /// Replace the organization (to simulate someone editing it by hand).
    pub fn set_state(&self, state: OrgState) {
        self.shared.set_state(state);
    }

    /// Simulate an invitee accepting: the oldest pending invitation for `email` becomes
    /// `accepted` and, unless the address already is a member, a member with a new
    /// `user_…` id and the invitation's role is added. Returns false if no pending
    /// invitation matched.
    pub fn accept_invitation(&self, email: &str) -> bool {
        self.shared.accept_invitation(email)
    }

    /// Lowercase email → number of invitations actually created through the API.
    pub fn invites_committed(&self) -> BTreeMap<String, usize> {
        self.shared.invites_committed()
    }

    /// Every request received, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.requests()
    }

    /// Number of non-GET requests received.
    pub fn write_count(&self) -> usize {
        self.shared.write_count()
    }

    /// Response body bytes sent so far, as they went on the wire (gzipped ones compressed);
    /// answers cut by `drop_connection` or made by `oversized_body` are not counted.
    pub fn body_bytes_sent(&self) -> u64 {
        self.shared.body_bytes_sent()
    }

    /// Stop serving and join the thread (also done on drop).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn formats_timestamps() {
        assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_rfc3339(1_736_933_400, 5), "2025-01-15T09:30:00.005Z");
        assert_eq!(format_rfc3339(951_782_400, 0), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for o in [0, 1, 7, 1000] {
            assert_eq!(decode_cursor(&encode_cursor(o)), Some(o));
        }
        let c = encode_cursor(3);
        let tampered = c.replacen("cur_3", "cur_4", 1);
        assert_eq!(decode_cursor(&tampered), None);
        assert_eq!(decode_cursor(""), None);
        assert_eq!(decode_cursor("garbage"), None);
    }

    #[test]
    fn validates_emails() {
        assert!(is_valid_email("jane@example.com"));
        assert!(is_valid_email("Jane.Smith+x@sub.example.co"));
        assert!(!is_valid_email("not-an-email"));
        assert!(!is_valid_email("a@b"));
        assert!(!is_valid_email("a b@example.com"));
        assert!(!is_valid_email("a@@example.com"));
        assert!(!is_valid_email("@example.com"));
        let long = format!("{}@example.com", "a".repeat(320 - 12));
        assert_eq!(long.len(), 320);
        assert!(is_valid_email(&long));
        let too_long = format!("{}@example.com", "a".repeat(321 - 12));
        assert!(!is_valid_email(&too_long));
    }

    #[test]
    fn seeds_ids_and_names() {
        let mut s = OrgState::with_members(&[
            ("jane.smith@example.com", ROLE_ADMIN),
            ("bob@example.com", ROLE_MEMBER),
        ]);
        assert_eq!(s.members[0].id, "user_0001");
        assert_eq!(s.members[1].id, "user_0002");
        assert_eq!(s.members[0].first_name.as_deref(), Some("Jane"));
        assert_eq!(s.members[0].last_name.as_deref(), Some("Smith"));
        assert_eq!(s.members[1].last_name, None);
        assert_eq!(
            s.add_invitation("x@example.com", ROLE_MEMBER),
            "orginv_0001"
        );
        assert_eq!(
            s.add_invitation("y@example.com", ROLE_MEMBER),
            "orginv_0002"
        );
        assert_eq!(s.invitations[1].status, "pending");
    }
}
