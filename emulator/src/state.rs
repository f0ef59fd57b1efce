//! The organization and the emulator's state: members, invitations, the fault knobs
//! ([`Faults`]), the options ([`Options`]), the bookkeeping of requests, and [`Shared`], which
//! holds it all behind one mutex (but for the count of bytes sent).

use super::*;

/// The role that may use the team endpoints.
pub const ROLE_ADMIN: &str = "org:admin";
/// The ordinary member role.
pub const ROLE_MEMBER: &str = "org:member";

pub(crate) const SEED_JOINED_AT: &str = "2025-01-15T09:30:00.000Z";
pub(crate) const SEED_CREATED_AT: &str = "2026-04-05T10:00:00.000Z";
pub(crate) const MAX_EMAIL_LEN: usize = 320;

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

pub(crate) fn next_seq_id<'a>(
    prefix: &str,
    existing: impl Iterator<Item = &'a str> + Clone,
) -> String {
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
pub(crate) fn names_from_email(email: &str) -> (Option<String>, Option<String>) {
    let local = email.split('@').next().unwrap_or("");
    let mut parts = local
        .split(['.', '_', '-', '+'])
        .filter(|p| !p.is_empty())
        .map(capitalize);
    (parts.next(), parts.next())
}

pub(crate) fn capitalize(s: &str) -> String {
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
    /// What someone else does to an invitation as teamsync revokes it (see [`Meanwhile`]).
    pub on_revoke: Option<Meanwhile>,
    /// Every invitation is refused with 400 `invalid_request_error` and nothing is created,
    /// as the API refuses an address it will not invite.
    pub reject_invites: bool,
    /// A broken paginator: the last page of the list says `"nextCursor": ""` instead of
    /// `null`, so a client cannot tell the list is complete.
    pub empty_cursor: bool,
}

/// Someone else's move at the moment an invitation is revoked ([`Faults::on_revoke`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meanwhile {
    /// The person accepts the invitation just before the revoke arrives: they become a
    /// member, and the revoke answers 404 (the invitation is no longer pending).
    Accepted,
    /// Just after the revoke, someone invites the same address again in the dashboard, with
    /// the same role.
    InvitedAgain,
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
            on_revoke: None,
            reject_invites: false,
            empty_cursor: false,
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
    /// Send the member list written whole, with a `Content-Length`, as a server that buffers
    /// its answers would (false: the list goes out while it is written, in pieces, without a
    /// `Content-Length`; see the crate docs).
    pub whole_list: bool,
    /// Keep the list's answer as it went out (its bytes, gzipped when they were) and send it
    /// again, whole and with a `Content-Length`, to a later list request for the same page
    /// while nothing has changed since, as a server behind a response cache would: only the
    /// first request pays for writing the page (see the crate docs).
    pub cached_list: bool,
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
            whole_list: false,
            cached_list: false,
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

pub(crate) struct Inner {
    pub(crate) org: OrgState,
    /// Member id → its place in `org.members` (the first, should ids repeat); built when first
    /// needed, dropped whenever `org` is replaced.
    pub(crate) member_index: Option<HashMap<String, usize>>,
    pub(crate) options: Options,
    pub(crate) self_email: Option<String>,
    pub(crate) faults: Faults,
    pub(crate) fault_rng: fastrand::Rng,
    pub(crate) id_rng: fastrand::Rng,
    pub(crate) rotate_5xx: usize,
    pub(crate) joined_at: HashMap<String, String>,
    pub(crate) created_at: HashMap<String, String>,
    /// `createdAt` given to new invitations; `None`: the real clock.
    pub(crate) invitation_clock: Option<String>,
    pub(crate) invites_committed: BTreeMap<String, usize>,
    pub(crate) write_count: usize,
    /// Writes received since the last `set_faults` (for `rate_limit_window_at_write`).
    pub(crate) writes_since_faults: usize,
    /// Until when the rate-limit window is open.
    pub(crate) window_until: Option<std::time::Instant>,
    /// Late commits drawn so far ([`Faults::late_commit_max`]).
    pub(crate) late_commits: usize,
    /// Counts what can change a list's answer: every write request (as it arrives and once
    /// it is handled) and every change made through [`Shared`]. A cached answer
    /// ([`Options::cached_list`]) is sent only while this is what it was read at.
    pub(crate) list_generation: u64,
}

impl Inner {
    /// The index of the member a PATCH or DELETE targets, after the rules in the order the
    /// emulator applies them: unknown id (404), the key's own account (`self_rule`), and the
    /// last admin when the change takes admin rights away.
    pub(crate) fn member_to_change(
        &mut self,
        user_id: &str,
        self_rule: (&'static str, &'static str),
        drops_admin: bool,
    ) -> Result<usize, ApiError> {
        let Some(idx) = self.member_position(user_id) else {
            return Err(ApiError::not_found(format!(
                "No member with id '{user_id}'."
            )));
        };
        if self.is_self(idx) {
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

    /// Where the member with this id is in the list (the first, should ids repeat). Looked up
    /// in an index kept beside the list, so that a request costs the same in an org of 100,000
    /// members as in one of ten (the bench's apply of 20,000 steps measures teamsync, not a
    /// scan of the org per request); a list with repeated ids is scanned.
    pub(crate) fn member_position(&mut self, id: &str) -> Option<usize> {
        let members = &self.org.members;
        let index = self.member_index.get_or_insert_with(|| {
            let mut index = HashMap::with_capacity(members.len());
            for (i, m) in members.iter().enumerate() {
                index.entry(m.id.clone()).or_insert(i);
            }
            index
        });
        if index.len() == members.len() {
            index.get(id).copied()
        } else {
            members.iter().position(|m| m.id == id)
        }
    }

    /// Removes the member at `idx`: the last member takes its place in the list (the API
    /// promises no order).
    pub(crate) fn remove_member_at(&mut self, idx: usize) {
        let removed = self.org.members.swap_remove(idx);
        if let Some(index) = self.member_index.as_mut() {
            index.remove(&removed.id);
            if let Some(moved) = self.org.members.get(idx) {
                index.insert(moved.id.clone(), idx);
            }
        }
    }

    /// Adds a member at the end of the list.
    pub(crate) fn push_member(&mut self, m: Member) {
        if let Some(index) = self.member_index.as_mut() {
            index.entry(m.id.clone()).or_insert(self.org.members.len());
        }
        self.org.members.push(m);
    }

    /// Whether the member at `idx` is the key's own account: the first member with its email.
    fn is_self(&self, idx: usize) -> bool {
        let Some(me) = self.self_email.as_deref() else {
            return false;
        };
        let members = &self.org.members;
        members[idx].email.eq_ignore_ascii_case(me)
            && !members[..idx]
                .iter()
                .any(|m| m.email.eq_ignore_ascii_case(me))
    }

    pub(crate) fn admin_count(&self) -> usize {
        self.org
            .members
            .iter()
            .filter(|m| m.role == ROLE_ADMIN)
            .count()
    }

    pub(crate) fn random_id(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let s: String = (0..20)
            .map(|_| ALPHABET[self.id_rng.usize(..ALPHABET.len())] as char)
            .collect();
        format!("{prefix}{s}")
    }

    pub(crate) fn member_json(&self, m: &Member) -> Value {
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

    pub(crate) fn member_out<'a>(&'a self, m: &'a Member) -> MemberOut<'a> {
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

    pub(crate) fn invitation_out<'a>(&'a self, i: &'a Invitation) -> InvitationOut<'a> {
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

    pub(crate) fn invitation_json(&self, i: &Invitation) -> Value {
        json!({
            "id": i.id,
            "emailAddress": i.email_address,
            "role": i.role,
            "status": i.status,
            "createdAt": self.created_at.get(&i.id).map(String::as_str).unwrap_or(SEED_CREATED_AT),
        })
    }

    pub(crate) fn accept(&mut self, email: &str) -> bool {
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
            self.push_member(Member {
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
    pub(crate) inner: Mutex<Inner>,
    /// Response body bytes sent, as sent (compressed when they were): counted apart from
    /// `inner`, since a list's answer goes out while the lock is held to write it.
    body_bytes_sent: AtomicU64,
    /// One record per request, in the order they were handled; apart from `inner` for the
    /// same reason.
    requests: Mutex<Vec<RequestRecord>>,
    /// The list's answers kept with [`Options::cached_list`], by path and query and whether
    /// they are gzipped.
    list_cache: Mutex<HashMap<(String, bool), CachedList>>,
    /// List answers sent from `list_cache`.
    lists_from_cache: AtomicU64,
}

/// A list's answer as it went out, and the [`Inner::list_generation`] it was read at.
#[derive(Clone)]
pub(crate) struct CachedList {
    pub(crate) generation: u64,
    pub(crate) body: Bytes,
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
                member_index: None,
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
                write_count: 0,
                writes_since_faults: 0,
                window_until: None,
                late_commits: 0,
                list_generation: 0,
            }),
            body_bytes_sent: AtomicU64::new(0),
            requests: Mutex::new(Vec::new()),
            list_cache: Mutex::new(HashMap::new()),
            lists_from_cache: AtomicU64::new(0),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking handler must not wedge every later request.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replace the fault knobs and reseed the fault generator.
    pub fn set_faults(&self, faults: Faults) {
        let mut inner = self.lock();
        inner.list_generation += 1;
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
        let mut inner = self.lock();
        inner.list_generation += 1;
        inner.org = state;
        inner.member_index = None;
    }

    /// Knob (invitation lifecycle): the `createdAt` of invitation `id`, as listed: any text,
    /// so a test can serve a missing-looking or unreadable value; `None` restores the default.
    pub fn set_created_at(&self, id: &str, created_at: Option<&str>) {
        let mut inner = self.lock();
        inner.list_generation += 1;
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
        let mut inner = self.lock();
        inner.list_generation += 1;
        inner.accept(email)
    }

    /// See [`Emulator::invites_committed`].
    pub fn invites_committed(&self) -> BTreeMap<String, usize> {
        self.lock().invites_committed.clone()
    }

    /// See [`Emulator::requests`].
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.records().clone()
    }

    fn records(&self) -> MutexGuard<'_, Vec<RequestRecord>> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a request; its index in [`Shared::requests`].
    pub(crate) fn record(&self, request: RequestRecord) -> usize {
        let mut records = self.records();
        records.push(request);
        records.len() - 1
    }

    pub(crate) fn set_status(&self, index: usize, status: u16) {
        if let Some(record) = self.records().get_mut(index) {
            record.status = status;
        }
    }

    /// The cached answer to the list request `key` (path and query, gzipped), if it was read
    /// at `generation`.
    pub(crate) fn cached_list(&self, key: &(String, bool), generation: u64) -> Option<Bytes> {
        let cache = self.list_cache.lock().unwrap_or_else(|e| e.into_inner());
        let body = cache
            .get(key)
            .filter(|c| c.generation == generation)
            .map(|c| c.body.clone());
        if body.is_some() {
            self.lists_from_cache.fetch_add(1, Ordering::Relaxed);
        }
        body
    }

    /// See [`Emulator::lists_from_cache`].
    pub fn lists_from_cache(&self) -> u64 {
        self.lists_from_cache.load(Ordering::Relaxed)
    }

    /// Keeps `body` as the answer to the list request `key`, read at `generation`.
    pub(crate) fn keep_list(&self, key: (String, bool), generation: u64, body: Bytes) {
        let mut cache = self.list_cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|_, c| c.generation == generation);
        cache.insert(key, CachedList { generation, body });
    }

    /// See [`Emulator::write_count`].
    pub fn write_count(&self) -> usize {
        self.lock().write_count
    }

    /// See [`Emulator::body_bytes_sent`].
    pub fn body_bytes_sent(&self) -> u64 {
        self.body_bytes_sent.load(Ordering::Relaxed)
    }

    pub(crate) fn count_sent(&self, bytes: usize) {
        self.body_bytes_sent
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }
}
