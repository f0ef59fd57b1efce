//! The org snapshot (`teamsync snapshot`, `plan --live SNAPSHOT`; docs/contract.md §9): the org
//! as one list read saw it — members with ids and roles, pending invitations with ids, roles and
//! `createdAt` — and when it was read, so that a plan can be made without a key and without a
//! request. It holds no key, no URL and no header: only what `GET team/members` listed.

use crate::date::Timestamp;
use crate::email::Email;
use crate::live::{LiveInvitation, LiveMember, LiveState};
use crate::role::LiveRole;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `format` of every snapshot.
pub(crate) const FORMAT: &str = "teamsync-snapshot";
/// The version of the snapshot's shape. Fields may be added within a version; none is removed
/// or changes meaning.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// A teamsync org snapshot: the org's members and pending invitations as read at `read_at`.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "teamsync org snapshot")]
pub(crate) struct SnapshotDocument {
    /// Always `teamsync-snapshot`.
    #[schemars(extend("const" = "teamsync-snapshot"))]
    pub(crate) format: String,
    /// Always 1 for this shape.
    #[schemars(range(min = 1, max = 1))]
    pub(crate) format_version: u32,
    /// When the org was read: the start of the list read (RFC 3339, UTC).
    pub(crate) read_at: String,
    /// The org's name, from the desired file's `org:` when `snapshot` read one; `plan --live`
    /// refuses a snapshot of another org than the file names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    pub(crate) org: Option<String>,
    /// The commit of the desired state that the apply before this snapshot applied in full
    /// (`snapshot --commit`): the apply recipe's next baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) commit: Option<String>,
    /// Every member the list showed with an email, sorted by email.
    pub(crate) members: Vec<SnapshotMember>,
    /// Every pending invitation the list showed with an email, sorted by email.
    pub(crate) invitations: Vec<SnapshotInvitation>,
}

/// A member.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct SnapshotMember {
    /// The member's user id.
    pub(crate) id: String,
    /// The member's email, trimmed and lower-cased.
    pub(crate) email: String,
    /// The role as the API listed it (`org:admin`, `org:member`, or one teamsync does not know).
    pub(crate) role: String,
}

/// A pending invitation.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct SnapshotInvitation {
    /// The invitation's id.
    pub(crate) id: String,
    /// The invited email, trimmed and lower-cased.
    pub(crate) email: String,
    /// The role the invitation gives, as the API listed it.
    pub(crate) role: String,
    /// When it was sent, as the API wrote it; null when the API gave no readable time (its age
    /// is then unknown).
    #[serde(rename = "createdAt")]
    pub(crate) created_at: Option<String>,
}

/// Why a file is not a snapshot this teamsync reads. Each says what was found.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum BadSnapshot {
    #[error("it ends early, as a cut-off copy would ({0})")]
    Truncated(String),
    #[error("it is not a JSON object ({0})")]
    NotJson(String),
    #[error("it is not a teamsync snapshot: its `format` is {0}, not \"teamsync-snapshot\"")]
    NotASnapshot(String),
    #[error("its format_version is {0}; this teamsync reads format_version 1")]
    Version(String),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "its {what} list holds the {field} `{value}` twice; a read of the org lists each once, so it was edited or joined from two reads"
    )]
    Repeated {
        what: &'static str,
        field: &'static str,
        value: String,
    },
    #[error(
        "its read_at {read_at} is {minutes} minutes in the future; a snapshot is taken in the past (check the clock of the machine that took it)"
    )]
    Future { read_at: String, minutes: i64 },
}

/// How far in the future a snapshot's `read_at` may be (clocks differ a little between
/// machines), in seconds.
pub(crate) const FUTURE_TOLERANCE_SECONDS: i64 = 5 * 60;

/// A snapshot as read: the org, when it was read, and what it names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ReadSnapshot {
    pub(crate) live: LiveState,
    pub(crate) read_at: Timestamp,
    pub(crate) org: Option<String>,
    pub(crate) commit: Option<String>,
}

/// The two fields that say what a document is, read before the rest.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    format: Option<serde_json::Value>,
    #[serde(default)]
    format_version: Option<serde_json::Value>,
}

impl SnapshotDocument {
    /// The snapshot of `live`, read at `read_at`, of the org named `org` (the file's `org:`).
    pub(crate) fn new(
        live: &LiveState,
        read_at: &Timestamp,
        org: Option<&str>,
        commit: Option<&str>,
    ) -> SnapshotDocument {
        let mut members: Vec<SnapshotMember> = live
            .members
            .iter()
            .map(|m| SnapshotMember {
                id: m.id.as_str().to_string(),
                email: m.email.to_string(),
                role: m.role.as_str().to_string(),
            })
            .collect();
        members.sort_by(|a, b| (&a.email, &a.id).cmp(&(&b.email, &b.id)));
        let mut invitations: Vec<SnapshotInvitation> = live
            .invitations
            .iter()
            .map(|i| SnapshotInvitation {
                id: i.id.as_str().to_string(),
                email: i.email.to_string(),
                role: i.role.as_str().to_string(),
                created_at: i.created_at.as_ref().map(|t| t.as_str().to_string()),
            })
            .collect();
        invitations.sort_by(|a, b| (&a.email, &a.id).cmp(&(&b.email, &b.id)));
        SnapshotDocument {
            format: FORMAT.to_string(),
            format_version: FORMAT_VERSION,
            read_at: read_at.as_str().to_string(),
            org: org.map(str::to_string),
            commit: commit.map(str::to_string),
            members,
            invitations,
        }
    }

    /// Pretty JSON with a final newline, as written.
    pub(crate) fn to_json(&self) -> String {
        // Serializing plain data to a string cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Reads a snapshot: the right `format` and `format_version`, every field present, `read_at`
    /// a time no more than 5 minutes after `now`, no entry without an id or an email, no id or
    /// email twice among the members nor among the invitations, `org` a name as the file writes
    /// it (docs/contract.md §9). Unknown fields are allowed (a later 1.x may add some).
    pub(crate) fn parse(bytes: &[u8], now: &Timestamp) -> Result<ReadSnapshot, BadSnapshot> {
        let header: Header = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
            serde_json::error::Category::Eof => BadSnapshot::Truncated(e.to_string()),
            _ => BadSnapshot::NotJson(e.to_string()),
        })?;
        match &header.format {
            Some(serde_json::Value::String(f)) if f == FORMAT => {}
            Some(other) => return Err(BadSnapshot::NotASnapshot(other.to_string())),
            None => return Err(BadSnapshot::NotASnapshot("missing".into())),
        }
        match &header.format_version {
            Some(v) if v.as_u64() == Some(u64::from(FORMAT_VERSION)) => {}
            Some(other) => return Err(BadSnapshot::Version(other.to_string())),
            None => return Err(BadSnapshot::Version("missing".into())),
        }
        let doc: SnapshotDocument =
            serde_json::from_slice(bytes).map_err(|e| BadSnapshot::Invalid(e.to_string()))?;
        let read_at = Timestamp::parse(&doc.read_at).ok_or_else(|| {
            BadSnapshot::Invalid(format!(
                "its read_at `{}` is not an RFC 3339 date and time",
                doc.read_at
            ))
        })?;
        let ahead = now.seconds_until(&read_at);
        if ahead > FUTURE_TOLERANCE_SECONDS {
            return Err(BadSnapshot::Future {
                read_at: doc.read_at,
                minutes: ahead / 60,
            });
        }
        if let Some(org) = doc
            .org
            .as_deref()
            .filter(|o| !crate::desired::is_org_name(o))
        {
            return Err(BadSnapshot::Invalid(format!(
                "its org `{}` is not an org name (1 to 64 letters, digits, `-`, `_` or `.`)",
                crate::escape::escape(org)
            )));
        }
        repeated(
            "members",
            doc.members.iter().map(|m| (&m.id, &m.email)),
            true,
        )?;
        repeated(
            "invitations",
            doc.invitations.iter().map(|i| (&i.id, &i.email)),
            false,
        )?;
        let blank = |what: &str, n: usize, field: &str| {
            BadSnapshot::Invalid(format!("{what} {} has an empty `{field}`", n + 1))
        };
        let mut live = LiveState::default();
        for (n, m) in doc.members.into_iter().enumerate() {
            if m.id.is_empty() {
                return Err(blank("member", n, "id"));
            }
            if m.email.trim().is_empty() {
                return Err(blank("member", n, "email"));
            }
            live.members.push(LiveMember {
                id: m.id.into(),
                email: Email::from_string(m.email),
                role: LiveRole::parse(&m.role),
            });
        }
        for (n, i) in doc.invitations.into_iter().enumerate() {
            if i.id.is_empty() {
                return Err(blank("invitation", n, "id"));
            }
            if i.email.trim().is_empty() {
                return Err(blank("invitation", n, "email"));
            }
            live.invitations.push(LiveInvitation {
                id: i.id.into(),
                email: Email::from_string(i.email),
                role: LiveRole::parse(&i.role),
                // Unreadable is "age unknown", as from the API.
                created_at: i.created_at.as_deref().and_then(Timestamp::parse),
            });
        }
        Ok(ReadSnapshot {
            live,
            read_at,
            org: doc.org,
            commit: doc.commit,
        })
    }
}

/// The first id, then (for members) the first email, compared as the planner compares them,
/// that `entries` of the list `what` hold twice: one read of the org lists each member once.
/// Several pending invitations for one email are what the org can hold (docs/contract.md §4),
/// so an invitation's email may repeat; its id may not.
fn repeated<'a>(
    what: &'static str,
    entries: impl Iterator<Item = (&'a String, &'a String)> + Clone,
    emails_unique: bool,
) -> Result<(), BadSnapshot> {
    let twice = |field: &'static str, keys: Vec<String>| {
        let mut seen = std::collections::HashSet::with_capacity(keys.len());
        match keys.into_iter().find(|k| !seen.insert(k.clone())) {
            Some(value) => Err(BadSnapshot::Repeated {
                what,
                field,
                value: crate::escape::escape(&value).into_owned(),
            }),
            None => Ok(()),
        }
    };
    twice("id", entries.clone().map(|(id, _)| id.clone()).collect())?;
    if !emails_unique {
        return Ok(());
    }
    twice(
        "email",
        entries.map(|(_, e)| Email::new(e).to_string()).collect(),
    )
}
#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> LiveState {
        let mut inv = LiveInvitation::new("inv_1", "Carol@x.com", "org:member");
        inv.created_at = Timestamp::parse("2027-03-01T10:00:00.000Z");
        LiveState {
            members: vec![
                LiveMember::new("u2", "zed@x.com", "org:billing"),
                LiveMember::new("u1", "ann@x.com", "org:admin"),
            ],
            invitations: vec![inv, LiveInvitation::new("inv_2", "dan@x.com", "org:admin")],
        }
    }

    #[test]
    fn a_snapshot_round_trips_the_org_sorted_with_unknown_roles_and_ages() {
        let read_at = Timestamp::parse("2027-03-31T09:00:00.000Z").unwrap();
        let doc = SnapshotDocument::new(&live(), &read_at, None, None);
        let json = doc.to_json();
        insta::assert_snapshot!(json, @r#"
        {
          "format": "teamsync-snapshot",
          "format_version": 1,
          "read_at": "2027-03-31T09:00:00.000Z",
          "members": [
            {
              "id": "u1",
              "email": "ann@x.com",
              "role": "org:admin"
            },
            {
              "id": "u2",
              "email": "zed@x.com",
              "role": "org:billing"
            }
          ],
          "invitations": [
            {
              "id": "inv_1",
              "email": "carol@x.com",
              "role": "org:member",
              "createdAt": "2027-03-01T10:00:00.000Z"
            },
            {
              "id": "inv_2",
              "email": "dan@x.com",
              "role": "org:admin",
              "createdAt": null
            }
          ]
        }
        "#);
        let back = SnapshotDocument::parse(json.as_bytes(), &read_at).unwrap();
        assert_eq!(back.read_at, read_at);
        assert_eq!((back.org, back.commit), (None, None));
        let mut want = live();
        want.members.reverse();
        assert_eq!(back.live, want);
    }

    #[test]
    fn what_is_not_a_snapshot_says_why() {
        let now = now();
        let ok = SnapshotDocument::new(&live(), &now, None, None).to_json();
        let err = |text: &str| {
            SnapshotDocument::parse(text.as_bytes(), &now)
                .unwrap_err()
                .to_string()
        };
        let cut = err(&ok[..ok.len() / 2]);
        assert!(
            cut.starts_with("it ends early, as a cut-off copy would (EOF while parsing"),
            "{cut}"
        );
        assert_eq!(
            err(""),
            "it ends early, as a cut-off copy would (EOF while parsing a value at line 1 column 0)"
        );
        assert_eq!(
            err("{]"),
            "it is not a JSON object (key must be a string at line 1 column 2)"
        );
        assert_eq!(
            err(r#"{"format_version": 1, "desired_file": "teamsync.yaml", "changes": []}"#),
            "it is not a teamsync snapshot: its `format` is missing, not \"teamsync-snapshot\""
        );
        assert_eq!(
            err(r#"{"format": "teamsync-plan", "format_version": 1}"#),
            "it is not a teamsync snapshot: its `format` is \"teamsync-plan\", not \"teamsync-snapshot\""
        );
        assert_eq!(
            err(&ok.replace("\"format_version\": 1", "\"format_version\": 2")),
            "its format_version is 2; this teamsync reads format_version 1"
        );
        assert_eq!(
            err(
                r#"{"format": "teamsync-snapshot", "format_version": 1, "read_at": "2027-03-31T09:00:00Z", "members": []}"#
            ),
            "missing field `invitations` at line 1 column 102"
        );
        assert_eq!(
            err(&ok.replace("2027-03-31T09:00:00Z", "yesterday")),
            "its read_at `yesterday` is not an RFC 3339 date and time"
        );
        assert_eq!(
            err(&ok.replace("\"ann@x.com\"", "\" \"")),
            "member 1 has an empty `email`"
        );
        assert_eq!(
            err("\"teamsync-snapshot\""),
            "it is not a JSON object (invalid type: string \"teamsync-snapshot\", expected struct Header at line 1 column 19)"
        );
    }

    #[test]
    fn unknown_fields_are_allowed_and_an_unreadable_created_at_is_an_unknown_age() {
        let text = r#"{"format": "teamsync-snapshot", "format_version": 1, "extra": {"x": 1},
            "read_at": "2027-03-31T09:00:00Z", "members": [],
            "invitations": [{"id": "i", "email": "a@x.com", "role": "org:member", "createdAt": "soon", "new": 1}]}"#;
        let read = SnapshotDocument::parse(text.as_bytes(), &now()).unwrap();
        assert_eq!(read.live.invitations[0].created_at, None);
    }

    fn now() -> Timestamp {
        Timestamp::parse("2027-03-31T09:00:00Z").unwrap()
    }

    /// The org's name and the applied commit round-trip; a snapshot without them has none.
    #[test]
    fn org_and_commit_are_written_when_known() {
        let doc = SnapshotDocument::new(&live(), &now(), Some("acme-prod"), Some("0123abc"));
        let json = doc.to_json();
        assert!(json.contains("\"org\": \"acme-prod\",\n  \"commit\": \"0123abc\""));
        let read = SnapshotDocument::parse(json.as_bytes(), &now()).unwrap();
        assert_eq!(read.org.as_deref(), Some("acme-prod"));
        assert_eq!(read.commit.as_deref(), Some("0123abc"));
        let bad = json.replace("acme-prod", "acme prod");
        assert_eq!(
            SnapshotDocument::parse(bad.as_bytes(), &now())
                .unwrap_err()
                .to_string(),
            "its org `acme prod` is not an org name (1 to 64 letters, digits, `-`, `_` or `.`)"
        );
    }

    /// One read lists each member once, and each invitation once; several invitations for one
    /// email are what an org can hold.
    #[test]
    fn repeated_ids_and_member_emails_are_refused() {
        let json = SnapshotDocument::new(&live(), &now(), None, None).to_json();
        let err = |text: String| {
            SnapshotDocument::parse(text.as_bytes(), &now())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(json.replace("\"u2\"", "\"u1\"")),
            "its members list holds the id `u1` twice; a read of the org lists each once, so it was edited or joined from two reads"
        );
        assert_eq!(
            err(json.replace("zed@x.com", "ANN@x.com ")),
            "its members list holds the email `ann@x.com` twice; a read of the org lists each once, so it was edited or joined from two reads"
        );
        assert_eq!(
            err(json.replace("inv_2", "inv_1")),
            "its invitations list holds the id `inv_1` twice; a read of the org lists each once, so it was edited or joined from two reads"
        );
        let two =
            SnapshotDocument::parse(json.replace("dan@x.com", "carol@x.com").as_bytes(), &now())
                .unwrap();
        assert_eq!(two.live.invitations.len(), 2);
    }

    /// Up to 5 minutes ahead is clock skew; more is a snapshot no read could have made.
    #[test]
    fn a_read_at_more_than_5_minutes_ahead_is_refused() {
        let at = |t: &str| {
            SnapshotDocument::new(&live(), &Timestamp::parse(t).unwrap(), None, None).to_json()
        };
        assert!(SnapshotDocument::parse(at("2027-03-31T09:05:00Z").as_bytes(), &now()).is_ok());
        assert_eq!(
            SnapshotDocument::parse(at("2027-03-31T09:05:01Z").as_bytes(), &now())
                .unwrap_err()
                .to_string(),
            "its read_at 2027-03-31T09:05:01Z is 5 minutes in the future; a snapshot is taken in the past (check the clock of the machine that took it)"
        );
        assert!(
            SnapshotDocument::parse(at("2027-04-02T09:00:00Z").as_bytes(), &now())
                .unwrap_err()
                .to_string()
                .contains("2880 minutes in the future")
        );
    }
}
