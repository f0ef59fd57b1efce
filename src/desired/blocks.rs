//! The top-level settings of the file (docs/contract.md §3): `safety`, `org`, `invitations`
//! and `policy`, each read with every problem collected.

use super::fields::{domain_pattern, fields, string_list};
use super::policy;
use super::{
    INVITATION_FIELDS, InvitationPolicy, MaxRemovals, POLICY_FIELDS, Policy, SAFETY_FIELDS, Safety,
};
use crate::yaml::{Diagnostic, Node, Value};

pub(super) fn validate_safety(node: &Node<'_>, errors: &mut Vec<Diagnostic>) -> Safety {
    let f = fields(node, "`safety`", SAFETY_FIELDS, errors);
    let mut safety = Safety::default();
    if let Some(v) = f.get("max_removals") {
        let parsed = match &v.value {
            Value::Int(n) if *n >= 0 && *n <= u32::MAX as i128 => {
                Some(MaxRemovals::Count(*n as u64))
            }
            Value::Str(s) => s
                .trim()
                .strip_suffix('%')
                .and_then(|p| p.trim().parse::<u64>().ok())
                .filter(|p| *p <= 100)
                .map(MaxRemovals::Percent),
            _ => None,
        };
        match parsed {
            Some(m) => safety.max_removals = Some(m),
            None => errors.push(Diagnostic::at(
                v.loc,
                "`max_removals` must be a whole number (e.g. 5) or a percentage from 0% to 100% (e.g. \"10%\")",
            )),
        }
    }
    if let Some(v) = f.get("min_admins") {
        match v.value {
            // At least 1 (docs/contract.md §5): the API requires an admin, and 0 would let a
            // plan remove the last one without the guard saying a word.
            Value::Int(n) if (1..=u32::MAX as i128).contains(&n) => safety.min_admins = n as u64,
            _ => errors.push(Diagnostic::at(
                v.loc,
                "`min_admins` must be a whole number, 1 or more (the org needs an admin)",
            )),
        }
    }
    safety
}

/// The most characters an org name may have.
pub(crate) const ORG_NAME_MAX: usize = 64;

/// Whether `name` is an org name as `org:` takes it (docs/contract.md §3): 1 to 64 ASCII
/// letters, digits, `-`, `_` and `.`. Snapshots are held to it too.
pub(crate) fn is_org_name(name: &str) -> bool {
    (1..=ORG_NAME_MAX).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `org`: the org's name, written as-is (no trimming: a name is compared as written).
pub(super) fn validate_org(node: &Node<'_>) -> Result<String, String> {
    let rule = "1 to 64 letters, digits, `-`, `_` or `.`, such as `acme-prod`";
    match &node.value {
        Value::Str(s) if is_org_name(s) => Ok(s.to_string()),
        Value::Str(s) if s.is_empty() => Err(format!("`org` is empty; name the org with {rule}")),
        Value::Str(s) if s.chars().count() > ORG_NAME_MAX => Err(format!(
            "`org` has {} characters; an org name has {rule}",
            s.chars().count()
        )),
        Value::Str(_) => Err(format!("`org` may hold only {rule}")),
        _ => Err(format!(
            "`org` must be a string of {rule}, found {}",
            node.kind()
        )),
    }
}

/// The `invitations` block (docs/contract.md §3, §4): `resend_after_days`, a whole number of days,
/// 1 or more (0 would re-send every invitation on every apply).
pub(super) fn validate_invitations(
    node: &Node<'_>,
    errors: &mut Vec<Diagnostic>,
) -> InvitationPolicy {
    let f = fields(node, "`invitations`", INVITATION_FIELDS, errors);
    let mut policy = InvitationPolicy::default();
    if let Some(v) = f.get("resend_after_days") {
        match v.value {
            Value::Int(n) if (1..=36_500).contains(&n) => {
                policy.resend_after_days = Some(n as u64);
            }
            _ => errors.push(Diagnostic::at(
                v.loc,
                "`resend_after_days` must be a whole number of days, from 1 to 36500",
            )),
        }
    }
    policy
}

/// A whole number of days (or a count) from `min` to [`policy::MAX_DAYS`].
pub(super) fn whole_days(
    v: &Node<'_>,
    name: &str,
    min: i128,
    errors: &mut Vec<Diagnostic>,
) -> Option<u64> {
    match v.value {
        Value::Int(n) if (min..=policy::MAX_DAYS).contains(&n) => Some(n as u64),
        _ => {
            errors.push(Diagnostic::at(
                v.loc,
                format!(
                    "`policy.{name}` must be a whole number from {min} to {}",
                    policy::MAX_DAYS
                ),
            ));
            None
        }
    }
}

/// The `policy` block (docs/contract.md §3); unknown keys are errors, as in every other
/// mapping. Its rules are checked by [`policy::violations`] once every entry is read.
pub(super) fn validate_policy(node: &Node<'_>, errors: &mut Vec<Diagnostic>) -> Policy {
    let f = fields(node, "`policy`", POLICY_FIELDS, errors);
    let mut policy = Policy::default();
    if let Some(v) = f.get("admins_need_reason") {
        match v.value {
            Value::Bool(b) => policy.admins_need_reason = b,
            _ => errors.push(Diagnostic::at(
                v.loc,
                "`policy.admins_need_reason` must be true or false",
            )),
        }
    }
    if let Some(v) = f.get("internal_domains") {
        for (d, loc) in string_list(v, "policy.internal_domains", errors) {
            match domain_pattern(d) {
                Ok(d) => policy.internal_domains.push(d),
                Err(why) => errors.push(Diagnostic::at(
                    loc,
                    format!("policy.internal_domains: {why}"),
                )),
            }
        }
    }
    if let Some(v) = f.get("external_max_days") {
        policy.external_max_days = whole_days(v, "external_max_days", 1, errors);
        if f.get("internal_domains").is_none() {
            errors.push(Diagnostic::at(
                v.loc,
                "`policy.external_max_days` applies to entries outside `policy.internal_domains`; set `internal_domains` too",
            ));
        }
    }
    if let Some(v) = f.get("max_admins") {
        policy.max_admins = whole_days(v, "max_admins", 1, errors).map(|n| (n, v.loc));
    }
    if let Some(v) = f.get("recertify_days") {
        policy.recertify_days = whole_days(v, "recertify_days", 1, errors);
    }
    policy
}
