//! The file's own rules: the optional top-level `policy:` mapping (docs/contract.md §3). Read
//! with the other top-level fields (in `check`, as `safety` is); checked against the valid entries once every part
//! is read ([`violations`]), each violation an error at its position, all of them at once. The
//! same rules decide what `teamsync adopt` leaves alone ([`Policy::refuses_add`],
//! [`Policy::refuses_role`]), so that adopt never writes a file that fails them.

use super::{Desired, DesiredMember, domain_allowed};
use crate::date::Date;
use crate::email::Email;
use crate::role::Role;
use crate::words::{one_or_many, plural};
use crate::yaml::{Diagnostic, Loc};

/// The fields of `policy`.
pub(crate) const POLICY_FIELDS: &[&str] = &[
    "admins_need_reason",
    "internal_domains",
    "external_max_days",
    "max_admins",
    "recertify_days",
];

/// Without `policy.recertify_days`, `teamsync review` flags an entry unchanged for more than
/// this many days (docs/contract.md §3).
pub(crate) const DEFAULT_RECERTIFY_DAYS: u64 = 365;

/// The longest span of days a policy field takes (100 years).
pub(super) const MAX_DAYS: i128 = 36_500;

/// The `policy` block. Every rule is off unless the file sets it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Every `org:admin` entry has a non-empty `reason`.
    pub(crate) admins_need_reason: bool,
    /// The organisation's own domains (`example.com`, `*.example.com`); an entry outside them is
    /// external: `teamsync review` flags one without `expires`, and `external_max_days` makes
    /// that an error.
    pub(crate) internal_domains: Vec<String>,
    /// An external entry has `expires`, at most this many days ahead.
    pub(crate) external_max_days: Option<u64>,
    /// At most this many current `org:admin` entries, and where the file says so.
    pub(crate) max_admins: Option<(u64, Loc)>,
    /// `teamsync review` flags an entry unchanged for longer.
    pub(crate) recertify_days: Option<u64>,
}

/// One rule of the policy, for messages that name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    AdminsNeedReason,
    /// `external_max_days` (this many) asks an external entry for `expires`.
    ExternalNeedsExpires(u64),
    ExternalMaxDays(u64),
    MaxAdmins(u64),
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::AdminsNeedReason => {
                write!(
                    f,
                    "policy.admins_need_reason: every org:admin entry has a reason"
                )
            }
            Rule::ExternalNeedsExpires(n) => write!(
                f,
                "policy.external_max_days: an entry outside internal_domains needs `expires`, at most {n} day{} ahead",
                plural(*n)
            ),
            Rule::ExternalMaxDays(n) => write!(
                f,
                "policy.external_max_days: an entry outside internal_domains expires at most {n} day{} ahead",
                plural(*n)
            ),
            Rule::MaxAdmins(n) => write!(
                f,
                "policy.max_admins: at most {n} org:admin entr{}",
                one_or_many(*n, "y", "ies")
            ),
        }
    }
}

impl Policy {
    /// Whether `email` is outside `internal_domains` (never, without them).
    pub(crate) fn is_external(&self, email: &Email) -> bool {
        !self.internal_domains.is_empty() && !domain_allowed(&self.internal_domains, email)
    }

    /// The rule a new entry (`email`, `role`, a reason, no `expires`) would break, as `adopt`
    /// writes one (docs/contract.md §7).
    pub(crate) fn refuses_add(&self, email: &Email) -> Option<Rule> {
        self.external_max_days
            .filter(|_| self.is_external(email))
            .map(Rule::ExternalNeedsExpires)
    }

    /// The rule an entry would break if its role became `to` (its reason as it is).
    pub(crate) fn refuses_role(&self, entry: &DesiredMember, to: Role) -> Option<Rule> {
        (self.admins_need_reason && to == Role::Admin && entry.reason.is_none())
            .then_some(Rule::AdminsNeedReason)
    }

    /// `policy.max_admins`, when set.
    pub(crate) fn max_admins(&self) -> Option<u64> {
        self.max_admins.map(|(n, _)| n)
    }
}

/// Every entry of `desired` that breaks its policy, as of `today`, each an error at the entry
/// (its email); too many admins, one error at `max_admins` naming them. Expired entries are
/// not checked: they are on their way out. `place` says where an entry is, seen from a message
/// at another position (another part's entry is named `PART:LINE:COL`).
pub(super) fn violations(
    desired: &Desired,
    today: Date,
    place: impl Fn(Loc, Loc) -> String,
) -> Vec<Diagnostic> {
    let policy = &desired.policy;
    let mut errors = Vec::new();
    let current = desired.members.iter().filter(|m| !m.is_expired(today));
    let mut admins: Vec<&DesiredMember> = Vec::new();
    for m in current {
        if m.role == Role::Admin {
            admins.push(m);
            if policy.admins_need_reason && m.reason.is_none() {
                errors.push(Diagnostic::at(
                    m.loc,
                    format!(
                        "`{}` is org:admin without a `reason`; {}",
                        m.email,
                        Rule::AdminsNeedReason
                    ),
                ));
            }
        }
        // `internal_domains` alone only says who is external (`teamsync review` flags one
        // without `expires`); `external_max_days` makes it a rule.
        let Some(max) = policy.external_max_days else {
            continue;
        };
        if !policy.is_external(&m.email) {
            continue;
        }
        match m.expires {
            None => errors.push(Diagnostic::at(
                m.loc,
                format!(
                    "`{}` is outside policy.internal_domains ({}) and has no `expires`; {}",
                    m.email,
                    policy.internal_domains.join(", "),
                    Rule::ExternalNeedsExpires(max)
                ),
            )),
            Some(d) if today.days_until(d) > max as i64 => {
                errors.push(Diagnostic::at(
                    m.loc,
                    format!(
                        "`{}` expires on {d}, {} days ahead; {}",
                        m.email,
                        today.days_until(d),
                        Rule::ExternalMaxDays(max)
                    ),
                ));
            }
            _ => {}
        }
    }
    if let Some((max, loc)) = policy.max_admins {
        if admins.len() as u64 > max {
            let listed: Vec<String> = admins
                .iter()
                .map(|m| format!("`{}` ({})", m.email, place(m.loc, loc)))
                .collect();
            errors.push(Diagnostic::at(
                loc,
                format!(
                    "the file lists {} org:admin entries; {}: {}",
                    admins.len(),
                    Rule::MaxAdmins(max),
                    listed.join(", ")
                ),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use crate::date::Date;
    use crate::desired::validate;
    use proptest::prelude::*;

    const TODAY: &str = "2027-01-10";

    fn today() -> Date {
        Date::parse(TODAY).unwrap()
    }

    fn errors(text: &str) -> Vec<String> {
        match validate(text, today()).desired {
            Ok(_) => Vec::new(),
            Err(e) => e
                .into_iter()
                .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
                .collect(),
        }
    }

    #[test]
    fn every_violation_is_reported_at_its_entry_at_once() {
        let text = "version: 1
policy:
  admins_need_reason: true
  internal_domains: [example.com, '*.corp.example.com']
  external_max_days: 90
  max_admins: 1
members:
  - email: ana@example.com
    role: org:admin
  - email: bo@dev.corp.example.com
    role: org:admin
    reason: on call
  - email: cy@vendor.io
    role: org:member
  - email: di@vendor.io
    role: org:member
    expires: 2027-06-30
  - email: ed@vendor.io
    role: org:member
    expires: 2027-03-31
  - email: old@vendor.io
    role: org:admin
    expires: 2027-01-01
";
        insta::assert_snapshot!(errors(text).join("\n"), @r"
        6:15: the file lists 2 org:admin entries; policy.max_admins: at most 1 org:admin entry: `ana@example.com` (line 8), `bo@dev.corp.example.com` (line 10)
        8:12: `ana@example.com` is org:admin without a `reason`; policy.admins_need_reason: every org:admin entry has a reason
        13:12: `cy@vendor.io` is outside policy.internal_domains (example.com, *.corp.example.com) and has no `expires`; policy.external_max_days: an entry outside internal_domains needs `expires`, at most 90 days ahead
        15:12: `di@vendor.io` expires on 2027-06-30, 171 days ahead; policy.external_max_days: an entry outside internal_domains expires at most 90 days ahead
        ");
    }

    #[test]
    fn the_policy_block_is_checked_like_every_mapping() {
        let text = "version: 1
policy:
  admins_need_reasons: true
  admins_need_reason: yes please
  internal_domains: [example]
  external_max_days: 0
  max_admins: -1
  recertify_days: 3.5
members:
  - email: ana@example.com
    role: org:admin
    reason: founder
";
        insta::assert_snapshot!(errors(text).join("\n"), @r"
        3:3: unknown field `admins_need_reasons` in `policy`; expected one of: admins_need_reason, internal_domains, external_max_days, max_admins, recertify_days
        4:23: `policy.admins_need_reason` must be true or false
        5:22: policy.internal_domains: `example` is not a domain; write `example.com`, or `*.example.com` for its subdomains
        6:22: `policy.external_max_days` must be a whole number from 1 to 36500
        7:15: `policy.max_admins` must be a whole number from 1 to 36500
        8:19: `policy.recertify_days` must be a whole number from 1 to 36500
        ");
    }

    #[test]
    fn external_max_days_needs_internal_domains() {
        let text = "version: 1
policy: {external_max_days: 30}
members: [{email: ana@example.com, role: org:admin}]
";
        insta::assert_snapshot!(errors(text).join("\n"), @"2:29: `policy.external_max_days` applies to entries outside `policy.internal_domains`; set `internal_domains` too");
    }

    #[test]
    fn a_file_within_its_policy_is_valid_and_keeps_it() {
        let text = "version: 1
policy:
  admins_need_reason: true
  internal_domains: [example.com]
  external_max_days: 90
  max_admins: 2
  recertify_days: 180
members:
  - email: ana@example.com
    role: org:admin
    reason: founder
  - email: cy@Vendor.IO
    role: org:member
    expires: 2027-04-10
";
        let desired = validate(text, today()).desired.unwrap();
        let p = &desired.policy;
        assert!(p.admins_need_reason);
        assert_eq!(p.internal_domains, ["example.com"]);
        assert_eq!(p.external_max_days, Some(90));
        assert_eq!(p.max_admins(), Some(2));
        assert_eq!(p.recertify_days, Some(180));
    }

    #[test]
    fn policy_may_be_set_in_one_part_only() {
        use crate::desired::{PartText, validate_parts};
        let a = "version: 1\npolicy: {max_admins: 3}\nmembers: [{email: ana@example.com, role: org:admin}]\n";
        let b = "version: 1\npolicy: {admins_need_reason: false}\n";
        let parts = [
            PartText {
                name: "a.yaml",
                text: a,
            },
            PartText {
                name: "b.yaml",
                text: b,
            },
        ];
        let errors = validate_parts(&parts, true, today(), 1)
            .desired
            .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0]
                .message
                .contains("`policy` is already set at a.yaml:2:9"),
            "{errors:?}"
        );
    }

    proptest! {
        /// For any roster and policy, the errors are exactly the entries that break a rule:
        /// admins without a reason, externals without `expires` or too far ahead, and one for
        /// too many admins.
        #[test]
        fn violations_are_exactly_the_entries_that_break_a_rule(
            entries in proptest::collection::vec(
                (any::<bool>(), any::<bool>(), any::<bool>(), proptest::option::of(-5i64..200)),
                1..12,
            ),
            need_reason in any::<bool>(),
            max_days in proptest::option::of(1u64..150),
            max_admins in proptest::option::of(1u64..6),
        ) {
            let mut text = String::from("version: 1\npolicy:\n  internal_domains: [example.com]\n");
            text.push_str(&format!("  admins_need_reason: {need_reason}\n"));
            if let Some(n) = max_days {
                text.push_str(&format!("  external_max_days: {n}\n"));
            }
            if let Some(n) = max_admins {
                text.push_str(&format!("  max_admins: {n}\n"));
            }
            // One admin that breaks nothing, so that the file always has an admin.
            text.push_str("members:\n  - email: root@example.com\n    role: org:admin\n    reason: root\n    expires: 2099-01-01\n");
            let mut expected = 0usize;
            let mut admins = 1u64;
            for (i, (admin, reason, external, expires)) in entries.iter().enumerate() {
                let domain = if *external { "vendor.io" } else { "example.com" };
                text.push_str(&format!("  - email: p{i}@{domain}\n    role: {}\n", if *admin { "org:admin" } else { "org:member" }));
                if *reason {
                    text.push_str("    reason: because\n");
                }
                if let Some(d) = expires {
                    text.push_str(&format!("    expires: {}\n", today().add_days(*d)));
                }
                let expired = matches!(expires, Some(d) if *d < 0);
                if expired {
                    continue;
                }
                if *admin {
                    admins += 1;
                    if need_reason && !reason {
                        expected += 1;
                    }
                }
                if let (true, Some(m)) = (*external, max_days) {
                    match expires {
                        None => expected += 1,
                        Some(d) if *d > m as i64 => expected += 1,
                        _ => {}
                    }
                }
            }
            if max_admins.is_some_and(|m| admins > m) {
                expected += 1;
            }
            prop_assert_eq!(errors(&text).len(), expected, "{}", text);
        }
    }
}
