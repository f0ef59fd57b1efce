//! The desired-state file (docs/contract.md §3): the validated [`Desired`] state, and [`load`],
//! the one loader every command uses: the parts `-f` names, read by [`crate::parts`], checked
//! to be UTF-8 ([`strings`]), parsed by [`crate::yaml`] into trees with line and column per
//! node, and validated ([`check`]), every problem reported at once, each at its part, line and
//! column. Printing the problems is the command layer's business.

mod blocks;
mod check;
mod expiry;
mod fields;
mod policy;
mod strings;
#[cfg(test)]
mod tests;

pub(crate) use blocks::is_org_name;
pub(crate) use expiry::{Expiring, RemovalsAhead, SHOWN_EMAILS};
pub(crate) use fields::domain_allowed;
pub(crate) use policy::{DEFAULT_RECERTIFY_DAYS, POLICY_FIELDS, Policy, Rule};
pub(crate) use strings::{forbidden_in, refused_email};

use crate::date::Date;
use crate::email::Email;
use crate::glob::Glob;
use crate::parts::{Part, Sources};
use crate::role::Role;
use crate::yaml::{Diagnostic, Loc, Node, parse_part_noting_reader};
use std::fmt;

/// The only file version this teamsync reads.
pub(crate) const VERSION: i64 = 1;
/// How many days ahead `validate` and `plan` announce entries that expire (docs/contract.md §4).
pub(crate) const EXPIRY_NOTICE_DAYS: i64 = 14;

pub(crate) const TOP_FIELDS: &[&str] = &[
    "version",
    "members",
    "allowed_domains",
    "ignore",
    "protected",
    "safety",
    "invitations",
    "policy",
    "org",
];
pub(crate) const MEMBER_FIELDS: &[&str] = &["email", "role", "reason", "expires"];
pub(crate) const SAFETY_FIELDS: &[&str] = &["max_removals", "min_admins"];
pub(crate) const INVITATION_FIELDS: &[&str] = &["resend_after_days"];

/// A validated desired state.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Desired {
    pub(crate) members: Vec<DesiredMember>,
    pub(crate) allowed_domains: Vec<String>,
    pub(crate) ignore: Vec<Glob>,
    pub(crate) protected: Vec<Email>,
    pub(crate) safety: Safety,
    pub(crate) invitations: InvitationPolicy,
    /// The file's own rules (docs/contract.md §3).
    pub(crate) policy: Policy,
    /// The org the file describes (`org:`, docs/contract.md §3), when it names one: snapshots,
    /// saved plans and reports carry it, and a snapshot or a baseline of another org is refused.
    pub(crate) org: Option<String>,
    /// The parts' names, in `Loc::part` order, when the desired state is a directory
    /// (docs/contract.md §10); empty for one file.
    pub(crate) parts: Vec<String>,
}

/// The `invitations` block (docs/contract.md §3, §4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct InvitationPolicy {
    /// Re-send (revoke, then invite again) a pending invitation older than this many days.
    pub(crate) resend_after_days: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DesiredMember {
    pub(crate) email: Email,
    pub(crate) role: Role,
    pub(crate) reason: Option<String>,
    pub(crate) expires: Option<Date>,
    /// Where the entry's email is written in the file (0:0 when built in code).
    pub(crate) loc: Loc,
    /// The lines the entry takes in its part (0 when built in code).
    pub(crate) lines: EntryLines,
}

/// The lines an entry of `members` is written on, in its part (1-based; 0 when unknown), for
/// `teamsync review`'s history of each entry (docs/contract.md §6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct EntryLines {
    pub(crate) first: u32,
    pub(crate) last: u32,
    /// The line of its `role`.
    pub(crate) role: u32,
}

impl DesiredMember {
    pub(crate) fn new(email: &str, role: Role) -> DesiredMember {
        DesiredMember {
            email: Email::new(email),
            role,
            reason: None,
            expires: None,
            loc: Loc::default(),
            lines: EntryLines::default(),
        }
    }

    /// Whether the entry's `expires` date has passed: from the day after it, the member is not
    /// desired.
    pub(crate) fn is_expired(&self, today: Date) -> bool {
        matches!(self.expires, Some(d) if today > d)
    }
}

/// The `safety` block: limits apply refuses to cross.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Safety {
    /// Replaces the default removal limit, max(3, 25 % of current members).
    pub(crate) max_removals: Option<MaxRemovals>,
    pub(crate) min_admins: u64,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            max_removals: None,
            min_admins: 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MaxRemovals {
    Count(u64),
    Percent(u64),
}

impl fmt::Display for MaxRemovals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxRemovals::Count(n) => write!(f, "{n}"),
            MaxRemovals::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// A desired state of these members, for tests.
#[cfg(test)]
impl Desired {
    pub(crate) fn of(list: &[(&str, Role)]) -> Desired {
        Desired::new(
            list.iter()
                .map(|(e, r)| DesiredMember::new(e, *r))
                .collect(),
        )
    }
}

impl Desired {
    pub(crate) fn new(members: Vec<DesiredMember>) -> Desired {
        Desired {
            members,
            allowed_domains: Vec::new(),
            ignore: Vec::new(),
            protected: Vec::new(),
            safety: Safety::default(),
            invitations: InvitationPolicy::default(),
            policy: Policy::default(),
            org: None,
            parts: Vec::new(),
        }
    }

    /// A member's reason, for the changes planned (its part is [`Desired::part_of`], a field
    /// of its own: docs/contract.md §10).
    pub(crate) fn reason_of(&self, m: &DesiredMember) -> Option<String> {
        m.reason.clone()
    }

    /// The name of the part that lists `m`, in a desired directory (docs/contract.md §10), so
    /// that a reviewer knows whose file a change comes from. Made for the changes planned only.
    pub(crate) fn part_of(&self, m: &DesiredMember) -> Option<String> {
        self.parts.get(m.loc.part as usize).cloned()
    }

    #[cfg(test)]
    pub(crate) fn is_ignored(&self, email: &Email) -> bool {
        self.ignore.iter().any(|g| g.matches(email))
    }

    pub(crate) fn is_protected(&self, email: &Email) -> bool {
        self.protected.contains(email)
    }
}

/// What validating the parts' text produced: the desired state when there were no errors, and
/// warnings either way.
#[derive(Debug)]
pub(crate) struct Validated {
    pub(crate) desired: Result<Desired, Vec<Diagnostic>>,
    pub(crate) warnings: Vec<Diagnostic>,
}

/// What [`load`] produced from the parts `-f` names: the desired state when they are valid, else
/// every error; warnings either way. Each diagnostic's `part` indexes [`Loaded::parts`].
#[derive(Debug)]
pub(crate) struct Loaded {
    /// `-f` as given, for messages.
    pub(crate) name: String,
    /// The parts in path order (one for a file); a member's `loc.part` indexes them too.
    pub(crate) parts: Vec<Part>,
    /// `sha256:` of the bytes read (of every part's, for a directory; docs/contract.md §10).
    pub(crate) fingerprint: String,
    pub(crate) desired: Result<Desired, Vec<Diagnostic>>,
    pub(crate) warnings: Vec<Diagnostic>,
}

impl Loaded {
    /// How messages name the part a diagnostic is in.
    pub(crate) fn part_name(&self, d: &Diagnostic) -> &str {
        self.parts.get(d.part).map_or(&self.name, |p| &p.name)
    }
}

/// A desired state loaded without errors, with what it was read from.
#[derive(Debug)]
pub(crate) struct LoadedFile {
    pub(crate) desired: Desired,
    /// `sha256:` of its bytes (of every part's, for a directory).
    pub(crate) fingerprint: String,
    /// Its path as given, for messages.
    pub(crate) name: String,
    /// Its parts in path order (one for a file); a member's `loc.part` indexes them.
    pub(crate) parts: Vec<Part>,
}

/// Validates the parts `-f` named, as read: bytes that are not UTF-8 are an error at their
/// position (docs/contract.md §3), each part checked once; then the parts are parsed on up to
/// `threads` threads and validated as one desired state ([`validate_parts`]).
pub(crate) fn load(sources: Sources, today: Date, threads: usize) -> Loaded {
    // The fingerprint (SHA-256 of every byte, 5 ms at 100,000 members) is taken on a second
    // core while the parts are read (docs/performance.md, "Plan at 100,000 members").
    let (fingerprint, validated) = std::thread::scope(|scope| {
        let hashing = (threads > 1).then(|| scope.spawn(|| sources.fingerprint()));
        let validated = validate_sources(&sources, today, threads);
        let fingerprint = match hashing {
            Some(hashing) => hashing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => sources.fingerprint(),
        };
        (fingerprint, validated)
    });
    Loaded {
        name: sources.root.display().to_string(),
        parts: sources.parts,
        fingerprint,
        desired: validated.desired,
        warnings: validated.warnings,
    }
}

/// The parts' bytes checked to be UTF-8, then validated.
fn validate_sources(sources: &Sources, today: Date, threads: usize) -> Validated {
    let mut texts: Vec<&str> = Vec::with_capacity(sources.bytes.len());
    let mut bad: Vec<Diagnostic> = Vec::new();
    for (i, b) in (0u32..).zip(&sources.bytes) {
        match std::str::from_utf8(b) {
            Ok(text) => texts.push(text),
            Err(_) => {
                texts.push("");
                bad.extend(strings::not_utf8(b, i));
            }
        }
    }
    if bad.is_empty() {
        let part_texts = PartText::zip(&sources.parts, &texts);
        validate_parts(&part_texts, sources.directory, today, threads)
    } else {
        Validated {
            desired: Err(bad),
            warnings: Vec::new(),
        }
    }
}

/// One part of the desired state to validate: its text and how messages name it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PartText<'a> {
    pub(crate) name: &'a str,
    pub(crate) text: &'a str,
}

impl<'a> PartText<'a> {
    /// Each part with its text, named as the parts name it.
    pub(crate) fn zip(parts: &'a [Part], texts: &[&'a str]) -> Vec<PartText<'a>> {
        parts
            .iter()
            .zip(texts)
            .map(|(p, &text)| PartText {
                name: &p.name,
                text,
            })
            .collect()
    }
}

/// Validates one desired-state file's text. `today` decides expiry warnings.
pub(crate) fn validate(text: &str, today: Date) -> Validated {
    validate_parts(&[PartText { name: "", text }], false, today, 1)
}

/// The cores this process may use.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Validates the parts of one desired state (docs/contract.md §10), in path order: each is
/// parsed (on up to `threads` threads, at least one) and its top-level fields checked; the
/// policy fields of every part are merged before any member is checked (a domain allowed in one
/// part allows it in all); then the members of every part, and the checks across members
/// (duplicates, contradictions, the admin), as for one file. Every diagnostic names its part
/// (`Diagnostic::part`). `directory` says whether the parts come from `-f DIR`: then a part
/// need not list `members`, and the desired state keeps the parts' names, so that plan reasons
/// name them ([`Desired::reason_of`]).
pub(crate) fn validate_parts(
    parts: &[PartText],
    directory: bool,
    today: Date,
    threads: usize,
) -> Validated {
    let mut check = check::Check::new(today, parts, directory);
    let mut roots = Vec::with_capacity(parts.len());
    let mut texts = Vec::with_capacity(parts.len());
    for ((parsed, fast), part) in parse_all(parts, threads).into_iter().zip(parts) {
        match parsed {
            Ok(root) => {
                roots.push(root);
                texts.push((part.text, fast));
            }
            Err(d) => check.errors.push(d),
        }
    }
    let all_parsed = roots.len() == parts.len();
    let mut desired = check.parts(&roots, all_parsed);
    for (root, &(text, fast)) in roots.iter().zip(&texts) {
        // A tree of the fast path holds text of single lines as written, and that reader took
        // no control character but line feeds: in ASCII text, no string can hold a forbidden
        // character, and the walk over 100,000 entries is skipped (docs/performance.md).
        if !(fast && text.is_ascii()) {
            strings::control_characters(root, &mut check.errors);
        }
        check.version_as_written(root, text);
    }
    drop(roots);
    if directory {
        desired.parts = parts.iter().map(|p| p.name.to_string()).collect();
    }
    let (mut errors, mut warnings) = check.into_diagnostics();
    errors.sort();
    warnings.sort();
    Validated {
        desired: if errors.is_empty() {
            Ok(desired)
        } else {
            Err(errors)
        },
        warnings,
    }
}

/// A part's tree or its syntax error, and whether the fast path read it.
type Parsed<'t> = (Result<Node<'t>, Diagnostic>, bool);

/// Parses every part, in order; parts are independent, so several are parsed at once, on up to
/// `threads` threads (a directory of 100 parts loads no slower than the same org in one file).
/// Each with whether the fast path read it ([`parse_part_noting_reader`]).
fn parse_all<'t>(parts: &[PartText<'t>], threads: usize) -> Vec<Parsed<'t>> {
    let parse = |offset: usize, chunk: &[PartText<'t>]| -> Vec<Parsed<'t>> {
        chunk
            .iter()
            .enumerate()
            .map(|(i, p)| {
                parse_part_noting_reader(p.text, u32::try_from(offset + i).unwrap_or(u32::MAX))
            })
            .collect()
    };
    let workers = threads.min(parts.len()).min(8);
    if workers <= 1 {
        return parse(0, parts);
    }
    let size = parts.len().div_ceil(workers);
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .chunks(size)
            .enumerate()
            .map(|(n, chunk)| s.spawn(move || parse(n * size, chunk)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
