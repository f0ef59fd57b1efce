//! The five endpoints: the member list with its pagination, invite, change a role, remove a
//! member, revoke an invitation; and the validation of what they are sent.

use super::*;

pub(crate) fn data(status: StatusCode, value: Value) -> Response {
    (status, axum::Json(json!({ "data": value }))).into_response()
}

pub(crate) fn deleted(status: u16, id: &str) -> Response {
    if status == 200 {
        data(StatusCode::OK, json!({"id": id, "deleted": true}))
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

pub(crate) async fn list_members(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let cursor = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| *k == "cursor")
        .map(|(_, v)| v.to_string());
    let offset = match &cursor {
        None => 0,
        Some(c) => decode_cursor(c).ok_or_else(|| {
            ApiError::rule("invalid_cursor", "The cursor is not valid for this list.")
        })?,
    };
    let json = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )];
    let inner = shared.lock();
    if inner.options.whole_list {
        let page = inner.page(offset);
        // Written into a buffer of about its size (an entry is 150-200 bytes): grown from
        // empty, a page of 100,000 entries (16 MB) was copied and faulted in again at each
        // doubling.
        let entries = page.data.members.len() + page.data.invitations.len();
        let mut bytes = Vec::with_capacity(64 + entries * 192);
        serde_json::to_writer(&mut bytes, &page).map_err(|e| ApiError::invalid(e.to_string()))?;
        return Ok((StatusCode::OK, json, bytes).into_response());
    }
    drop(inner);
    // The page is sent while it is written, as a server streams a large list: serialised on a
    // thread of its own, under the lock (one consistent read of the org, taken as that thread
    // starts, while the request is being answered), in pieces of `PIECE` bytes that go out as
    // they are made; a write fails only once the client has gone. Written whole first, a page of 100,000
    // entries (16 MB) took 20 ms before its first byte, and gzip 12 ms more
    // (docs/performance.md).
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    tokio::task::spawn_blocking(move || {
        let inner = shared.lock();
        let mut pieces = Pieces {
            buf: Vec::with_capacity(PIECE),
            tx,
        };
        if serde_json::to_writer(&mut pieces, &inner.page(offset)).is_ok() {
            pieces.send();
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let piece = rx.recv().await?;
        Some((Ok::<Bytes, std::io::Error>(piece), rx))
    });
    Ok((StatusCode::OK, json, Body::from_stream(stream)).into_response())
}

/// How many bytes of a list's page go out at a time.
const PIECE: usize = 64 * 1024;

/// Bytes written into pieces of [`PIECE`] bytes, each sent as soon as it is full; a write
/// fails once the answer's receiver is gone (the client left).
struct Pieces {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::UnboundedSender<Bytes>,
}

impl Pieces {
    fn send(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let piece = std::mem::replace(&mut self.buf, Vec::with_capacity(PIECE));
        self.tx.send(Bytes::from(piece)).is_ok()
    }
}

impl std::io::Write for Pieces {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= PIECE && !self.send() {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Inner {
    /// The page of the list that starts at `offset` (past the end: an empty page).
    fn page(&self, offset: usize) -> ListOut<'_> {
        let list_all = self.options.list_non_pending;
        let invitations: Vec<&Invitation> = self
            .org
            .invitations
            .iter()
            .filter(|i| list_all || i.status == "pending")
            .collect();
        let total = self.org.members.len() + invitations.len();
        let end = match self.faults.page_size {
            Some(n) => offset.saturating_add(n.max(1)).min(total),
            None => total,
        };
        let start = offset.min(total);
        let mut members = Vec::new();
        let mut invs = Vec::new();
        for idx in start..end {
            if let Some(m) = self.org.members.get(idx) {
                members.push(self.member_out(m));
            } else {
                invs.push(self.invitation_out(invitations[idx - self.org.members.len()]));
            }
        }
        let next = match (end < total, self.faults.empty_cursor) {
            (true, _) => Some(encode_cursor(end)),
            (false, true) => Some(String::new()),
            (false, false) => None,
        };
        // Serialised from borrowed structs straight to bytes (no `Value` per entry): the same
        // JSON as `data(…, json!(…))`, whose keys come out sorted.
        ListOut {
            data: ListData {
                invitations: invs,
                members,
                next_cursor: next,
            },
        }
    }
}

/// The list's answer; fields in the order `json!` would print them (sorted).
#[derive(Serialize)]
pub(crate) struct ListOut<'a> {
    pub(crate) data: ListData<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListData<'a> {
    pub(crate) invitations: Vec<InvitationOut<'a>>,
    pub(crate) members: Vec<MemberOut<'a>>,
    pub(crate) next_cursor: Option<String>,
}

/// A member as listed; fields sorted like [`Inner::member_json`]'s.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MemberOut<'a> {
    pub(crate) email: &'a str,
    pub(crate) first_name: Option<&'a str>,
    pub(crate) id: &'a str,
    pub(crate) image_url: Option<()>,
    pub(crate) joined_at: &'a str,
    pub(crate) last_name: Option<&'a str>,
    pub(crate) role: &'a str,
}

/// An invitation as listed; fields sorted like [`Inner::invitation_json`]'s.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InvitationOut<'a> {
    pub(crate) created_at: &'a str,
    pub(crate) email_address: &'a str,
    pub(crate) id: &'a str,
    pub(crate) role: &'a str,
    pub(crate) status: &'a str,
}

pub(crate) const CURSOR_SALT: u64 = 0x7ea3_5c0d_e11a_b1e5;

pub(crate) fn cursor_check(offset: u64) -> u64 {
    // FNV-1a over the salted offset.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in (offset ^ CURSOR_SALT).to_le_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub(crate) fn encode_cursor(offset: usize) -> String {
    let o = offset as u64;
    format!("cur_{o:x}_{:016x}", cursor_check(o))
}

pub(crate) fn decode_cursor(s: &str) -> Option<usize> {
    let rest = s.strip_prefix("cur_")?;
    let (o, check) = rest.split_once('_')?;
    let o = u64::from_str_radix(o, 16).ok()?;
    if check.len() != 16 || u64::from_str_radix(check, 16).ok()? != cursor_check(o) {
        return None;
    }
    usize::try_from(o).ok()
}

/// Parse a JSON object body sent as `application/json`.
pub(crate) fn json_body(
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

pub(crate) fn role_field(map: &serde_json::Map<String, Value>) -> Result<String, ApiError> {
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

pub(crate) async fn invite(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
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
    if inner.faults.reject_invites {
        return Err(ApiError::invalid("This address cannot be invited."));
    }
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
        .entry(email.to_ascii_lowercase())
        .or_insert(0) += 1;
    let body = inner.invitation_json(&inv);
    inner.org.invitations.push(inv);
    Ok(data(StatusCode::CREATED, body))
}

pub(crate) async fn change_role(
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

pub(crate) async fn remove_member(
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
    inner.remove_member_at(idx);
    Ok(deleted(inner.options.delete_status, &user_id))
}

pub(crate) async fn revoke_invitation(
    State(shared): State<Arc<Shared>>,
    Path(invitation_id): Path<String>,
) -> ApiResult {
    let mut inner = shared.lock();
    let meanwhile = inner.faults.on_revoke;
    let pending = |inner: &Inner| {
        inner
            .org
            .invitations
            .iter()
            .position(|i| i.id == invitation_id && i.status == "pending")
    };
    if let (Some(Meanwhile::Accepted), Some(idx)) = (meanwhile, pending(&inner)) {
        let email = inner.org.invitations[idx].email_address.clone();
        inner.accept(&email);
    }
    let Some(idx) = pending(&inner) else {
        return Err(ApiError::not_found(format!(
            "No pending invitation with id '{invitation_id}'."
        )));
    };
    inner.org.invitations[idx].status = "revoked".to_string();
    if meanwhile == Some(Meanwhile::InvitedAgain) {
        let again = Invitation {
            id: inner.random_id("orginv_"),
            status: "pending".to_string(),
            ..inner.org.invitations[idx].clone()
        };
        let created = inner.invitation_clock.clone().unwrap_or_else(now_rfc3339);
        inner.created_at.insert(again.id.clone(), created);
        inner.org.invitations.push(again);
    }
    Ok(deleted(inner.options.delete_status, &invitation_id))
}
