//! Reading a mapping's fields, lists of strings and domain patterns: the helpers every rule of
//! the file uses (docs/contract.md §3).

use crate::email::Email;
use crate::yaml::{Diagnostic, Loc, Node, Value};

/// A mapping's fields among `known` (at most [`Fields::MAX`]), by name. A slot per known field
/// rather than a hash map: there are a handful, and one such lookup is made for each of
/// 100,000 members (docs/performance.md).
pub(super) struct Fields<'n, 'a> {
    known: &'static [&'static str],
    slots: [Option<&'n Node<'a>>; Fields::MAX],
}

impl<'n, 'a> Fields<'n, 'a> {
    const MAX: usize = 12;

    pub(super) fn get(&self, name: &str) -> Option<&'n Node<'a>> {
        let i = self.known.iter().position(|k| *k == name)?;
        self.slots[i]
    }
}

pub(super) fn fields<'n, 'a>(
    node: &'n Node<'a>,
    what: &str,
    known: &'static [&'static str],
    errors: &mut Vec<Diagnostic>,
) -> Fields<'n, 'a> {
    debug_assert!(known.len() <= Fields::MAX);
    let mut out = Fields {
        known,
        slots: [None; Fields::MAX],
    };
    let Value::Map(entries) = &node.value else {
        errors.push(Diagnostic::at(
            node.loc,
            format!("{what} must be a mapping, found {}", node.kind()),
        ));
        return out;
    };
    for (k, v) in entries {
        let Some(key) = k.as_str() else {
            errors.push(Diagnostic::at(
                k.loc,
                format!("{what} has a key that is {}, not a field name", k.kind()),
            ));
            continue;
        };
        match known.iter().position(|f| *f == key) {
            None => errors.push(Diagnostic::at(
                k.loc,
                format!(
                    "unknown field `{key}` in {what}; expected one of: {}",
                    known.join(", ")
                ),
            )),
            Some(i) if out.slots[i].is_some() => errors.push(Diagnostic::at(
                k.loc,
                format!("field `{key}` appears twice in {what}"),
            )),
            Some(i) => out.slots[i] = Some(v),
        }
    }
    out
}

pub(super) fn string_list<'a>(
    node: &'a Node<'_>,
    what: &str,
    errors: &mut Vec<Diagnostic>,
) -> Vec<(&'a str, Loc)> {
    match &node.value {
        Value::Null => Vec::new(),
        Value::Seq(items) => items
            .iter()
            .filter_map(|item| match item.as_str() {
                Some(s) => Some((s, item.loc)),
                None => {
                    errors.push(Diagnostic::at(
                        item.loc,
                        format!(
                            "each entry of `{what}` must be a string, found {}",
                            item.kind()
                        ),
                    ));
                    None
                }
            })
            .collect(),
        _ => {
            errors.push(Diagnostic::at(
                node.loc,
                format!("`{what}` must be a list of strings, found {}", node.kind()),
            ));
            Vec::new()
        }
    }
}

/// A domain pattern as `allowed_domains` and `policy.internal_domains` take it: `example.com`,
/// or `*.example.com` for its subdomains; trimmed and lower-cased. The error says why not.
pub(super) fn domain_pattern(d: &str) -> Result<String, String> {
    // ASCII case folding, as emails are compared (docs/contract.md §3).
    let d = d.trim().to_ascii_lowercase();
    let bare = d.strip_prefix("*.").unwrap_or(&d);
    if bare.is_empty() || bare.contains('@') || bare.contains('*') || !bare.contains('.') {
        Err(format!(
            "`{d}` is not a domain; write `example.com`, or `*.example.com` for its subdomains"
        ))
    } else {
        Ok(d)
    }
}

/// Whether `email`'s domain is one of `allowed` (exact, or `*.d` for subdomains of `d`).
pub(crate) fn domain_allowed(allowed: &[String], email: &Email) -> bool {
    let domain = email.domain();
    allowed.iter().any(|a| match a.strip_prefix("*.") {
        Some(parent) => {
            domain.len() > parent.len() + 1
                && domain.ends_with(parent)
                && domain[..domain.len() - parent.len()].ends_with('.')
        }
        None => domain == a,
    })
}
