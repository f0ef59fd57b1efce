//! The API's JSON as teamsync reads it: the `data` envelope, the member list (lenient: unknown
//! fields ignored, members without an email left alone, ids deduplicated) and error bodies.

use super::ApiError;
use crate::date::Timestamp;
use crate::email::Email;
use crate::live::{LiveInvitation, LiveMember, LiveState};
use crate::role::LiveRole;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashSet;

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
pub(super) struct ErrorBody {
    #[serde(default, rename = "type")]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) code: Option<String>,
    #[serde(default)]
    pub(super) message: Option<String>,
    #[serde(default)]
    pub(super) request_id: Option<String>,
}

/// Keeps the first of the items with the same id, in order: ids are hashed where they lie,
/// not copied (foldhash, seeded per process, so a list cannot be made to collide).
pub(super) fn first_of_each_id<T>(items: &mut Vec<T>, id: impl Fn(&T) -> &str) {
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

/// An entry of the list left out, and what is said about it (said when the page is complete,
/// in the order of the lists: a page that fails says nothing).
pub(super) enum Note {
    MemberWithoutEmail(String),
    NotPending { id: String, status: String },
    InvitationWithoutEmail(String),
}

impl Note {
    fn say(&self) {
        match self {
            Note::MemberWithoutEmail(id) => {
                tracing::warn!(id = %id, "member without an email in the list: left alone");
            }
            Note::NotPending { id, status } => {
                tracing::debug!(id = %id, status = status.as_str(), "invitation that is not pending: left out");
            }
            Note::InvitationWithoutEmail(id) => {
                tracing::warn!(id = %id, "invitation without an email in the list: left alone");
            }
        }
    }
}

/// The entries of a page read while it arrived (src/api/page/), with their notes.
#[derive(Default)]
pub(super) struct Streamed {
    pub(super) members: Vec<LiveMember>,
    pub(super) member_notes: Vec<Note>,
    pub(super) invitations: Vec<LiveInvitation>,
    pub(super) invitation_notes: Vec<Note>,
}

fn member(m: WireMember) -> Result<LiveMember, Note> {
    match m.email {
        Some(email) if !email.trim().is_empty() => Ok(LiveMember {
            id: m.id.into(),
            email: Email::from_string(email),
            role: LiveRole::parse(m.role.as_deref().unwrap_or_default()),
        }),
        _ => Err(Note::MemberWithoutEmail(m.id)),
    }
}

fn invitation(i: WireInvitation) -> Result<LiveInvitation, Note> {
    // The docs show only `pending`; an invitation without a status is listed as
    // outstanding, so it is taken as pending. Other statuses are not the org's business.
    if let Some(status) = i.status.filter(|s| !s.eq_ignore_ascii_case("pending")) {
        return Err(Note::NotPending { id: i.id, status });
    }
    match i.email_address {
        Some(email) if !email.trim().is_empty() => Ok(LiveInvitation {
            id: i.id.into(),
            email: Email::from_string(email),
            role: LiveRole::parse(i.role.as_deref().unwrap_or_default()),
            created_at: i
                .created_at
                .as_ref()
                .and_then(|v| v.as_str())
                .and_then(Timestamp::parse),
        }),
        _ => Err(Note::InvitationWithoutEmail(i.id)),
    }
}

/// `[[[element]]]`: an entry as deep as it sits in the page (the envelope, `data` and the
/// list), since serde_json counts those levels against its limit of 127.
fn nested(element: &[u8]) -> Vec<u8> {
    let mut wrapped = Vec::with_capacity(element.len() + 6);
    wrapped.extend_from_slice(b"[[[");
    wrapped.extend_from_slice(element);
    wrapped.extend_from_slice(b"]]]");
    wrapped
}

/// The one entry of `[[[entry]]]`.
fn only<T>(v: Vec<Vec<Vec<T>>>) -> Option<T> {
    v.into_iter().next()?.into_iter().next()?.into_iter().next()
}

impl Streamed {
    fn take_member(&mut self, m: WireMember) {
        match member(m) {
            Ok(m) => self.members.push(m),
            Err(note) => self.member_notes.push(note),
        }
    }

    fn take_invitation(&mut self, i: WireInvitation) {
        match invitation(i) {
            Ok(i) => self.invitations.push(i),
            Err(note) => self.invitation_notes.push(note),
        }
    }
}

/// One entry of `data.members`, on its own (`deep`: parsed at the depth it has in the page):
/// `None` when the whole page's parse would not read it (the page is then parsed whole, for
/// its error).
pub(super) fn member_entry(element: &[u8], deep: bool, into: &mut Streamed) -> Option<()> {
    if deep {
        into.take_member(only(serde_json::from_slice(&nested(element)).ok()?)?);
    } else {
        into.take_member(serde_json::from_slice(element).ok()?);
    }
    Some(())
}

/// A member entry read by src/api/page/flat.rs (an id, and an email and a role when given):
/// what [`member_entry`] makes of the same entry.
pub(super) fn flat_member_entry(
    id: &str,
    email: Option<&str>,
    role: Option<&str>,
    into: &mut Streamed,
) {
    into.take_member(WireMember {
        id: id.to_owned(),
        email: email.map(str::to_owned),
        role: role.map(Cow::Borrowed),
    });
}

/// One entry of `data.invitations`, as [`member_entry`].
pub(super) fn invitation_entry(element: &[u8], deep: bool, into: &mut Streamed) -> Option<()> {
    if deep {
        into.take_invitation(only(serde_json::from_slice(&nested(element)).ok()?)?);
    } else {
        into.take_invitation(serde_json::from_slice(element).ok()?);
    }
    Some(())
}

/// One page of `GET team/members`, parsed whole: what src/api/page/ reads as it arrives
/// must equal it. Apart from the client so that the parser can be tested on its own (hostile
/// input must never panic it).
#[cfg(test)]
pub(crate) fn parse_list_page(body: &[u8]) -> Result<(LiveState, Option<String>), ApiError> {
    page_of(body, &mut Streamed::default())
}

/// The page `body`, whose lists may lack the entries already read in `streamed` (they come
/// first in their lists; taken from `streamed` only once `body` is a list page).
pub(super) fn page_of(
    body: &[u8],
    streamed: &mut Streamed,
) -> Result<(LiveState, Option<String>), ApiError> {
    let env: Envelope<ListData> =
        serde_json::from_slice(body).map_err(|e| ApiError::Decode(e.to_string()))?;
    // Both lists are required: reading a missing list as empty would plan to invite everyone
    // again (or remove no one when someone should go).
    let missing = |what: &str| {
        ApiError::Decode(format!(
            "the member list has no `{what}` field; refusing to plan against it"
        ))
    };
    let members = env.data.members.ok_or_else(|| missing("members"))?;
    let invitations = env.data.invitations.ok_or_else(|| missing("invitations"))?;
    let streamed = std::mem::take(streamed);
    let mut state = LiveState {
        members: streamed.members,
        invitations: streamed.invitations,
    };
    streamed.member_notes.iter().for_each(Note::say);
    for m in members {
        match member(m) {
            Ok(m) => state.members.push(m),
            Err(note) => note.say(),
        }
    }
    streamed.invitation_notes.iter().for_each(Note::say);
    for i in invitations {
        match invitation(i) {
            Ok(i) => state.invitations.push(i),
            Err(note) => note.say(),
        }
    }
    // docs/contract.md §4: an empty cursor neither says "no more pages" (that is `null`) nor
    // names a page; a list that cannot be known complete is never planned on.
    if env.data.next_cursor.as_deref() == Some("") {
        return Err(ApiError::Pagination(
            "the member list's `nextCursor` is an empty string, neither a cursor nor null: the list cannot be known complete; refusing to plan against it".into(),
        ));
    }
    Ok((state, env.data.next_cursor))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(matches!(
            parse_list_page(br#"{"data":{"members":[],"invitations":[],"nextCursor":""}}"#),
            Err(ApiError::Pagination(_))
        ));
        for odd in [
            &br#"{"data":{"members":[],"invitations":[],"nextCursor":7}}"#[..],
            br#"{"data":{"members":[],"invitations":[],"nextCursor":{}}}"#,
        ] {
            assert!(
                matches!(parse_list_page(odd), Err(ApiError::Decode(_))),
                "a cursor that is neither a string nor null is an error"
            );
        }
        assert!(parse_list_page(b"<html>").is_err());
        assert!(
            parse_list_page(br#"{"members":[]}"#).is_err(),
            "the data envelope is required"
        );
    }
}
