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
//! * **Order.** The list gives members in the order they were added, except that removing a
//!   member moves the last one into its place (the docs promise no order; a removal costs the
//!   same in an org of 100,000 as in one of ten).
//! * **Unknown ids** answer 404 `invalid_request_error`/`not_found`, checked after body
//!   validation and before the self rule. Revoking an invitation that is not pending
//!   (already revoked or accepted) is also 404 `not_found`.
//! * **Last admin.** Demoting or removing the organization's only `org:admin` answers 400
//!   `invalid_request_error`/`last_admin`. Setting a member's current role again is a
//!   successful no-op.
//! * **Duplicates.** Inviting an address that is already a member or already has a pending
//!   invitation is accepted and creates another pending invitation (so duplicates are
//!   observable). Email comparison folds ASCII case only (a letter outside ASCII compares
//!   exactly: the doc does not say, and teamsync folds so); addresses are stored as sent.
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
//! * **The list's answer** goes out while it is written, as a server streams a large list:
//!   in pieces of 64 KiB without a `Content-Length` (chunked), each gzipped piece flushed so
//!   that it leaves at once, and every connection without Nagle's delay. The page is still one
//!   consistent read of the org. [`Options::whole_list`] sends it written whole, with a
//!   `Content-Length`, as a server that buffers its answers would.
//!   [`Options::cached_list`] keeps each page's answer as it went out (gzipped when it was)
//!   and sends it again, whole and with a `Content-Length`, to a later request for the same
//!   page, as a server behind a response cache would (a page not in the cache is written,
//!   then sent whole and kept); a cached answer is not sent once
//!   anything that could change it has happened: a write request (as it arrives and again
//!   once it is handled, a late commit included), or a change through [`Shared`]
//!   ([`Shared::set_state`], [`Shared::set_faults`], [`Shared::set_created_at`],
//!   [`Shared::accept_invitation`]). Faults are drawn as for any request.
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
//! * **Someone else, meanwhile** ([`Faults::on_revoke`]): as an invitation is revoked, its
//!   person accepts it just before (the revoke then answers 404), or someone invites the same
//!   address again just after. [`Faults::reject_invites`] refuses every invitation with 400.
//! * **An empty cursor** ([`Faults::empty_cursor`]): the list's last page says
//!   `"nextCursor": ""` instead of `null`.
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
//!   created through the API only (not seeded ones), keyed by the address with its ASCII
//!   letters lower-cased (as teamsync compares: `\u{212a}im@x.com` is not `kim@x.com`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    reason = "a test double: a broken invariant panics loudly instead of answering wrongly"
)]

mod error;
mod handlers;
mod pipeline;
mod state;

pub use handlers::is_valid_email;
pub use pipeline::{router, serve};
pub use state::{
    Faults, Invitation, Meanwhile, Member, Options, OrgState, ROLE_ADMIN, ROLE_MEMBER,
    RequestRecord, Shared,
};

use error::*;
use handlers::*;
use state::*;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
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
                        res = axum::serve(pipeline::nodelay(listener), app) => {
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

    /// Email (ASCII letters lower-cased) → invitations actually created through the API.
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

    /// List answers sent from the cache ([`Options::cached_list`]) so far.
    pub fn lists_from_cache(&self) -> u64 {
        self.shared.lists_from_cache()
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
