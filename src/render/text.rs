//! The plan for people, in a terminal or a CI log (docs/contract.md §6).

use super::waited;
use super::{
    adopt_pointer, counts, describe, heading, note, origin_counts, origin_heading, pending_line,
    removal_limit, shown, source_line, symbol,
};
use crate::email::Email;
use crate::escape::escape;
use crate::origin::Origin;
use crate::plan::{Action, Blocked, Change, Invited, Plan, STALE_INVITATION_DAYS, Warning};
use crate::role::Role;
use crate::words::plural;
use anstyle::{AnsiColor, Style};
use std::collections::HashMap;
use std::fmt::Write;

fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_string()
    }
}

fn style_for(action: Action) -> Style {
    match action {
        Action::Invite => AnsiColor::Green.on_default(),
        Action::UpdateRole | Action::Resend => AnsiColor::Yellow.on_default(),
        Action::Remove | Action::Revoke => AnsiColor::Red.on_default(),
    }
}

/// How the text plan is shown: decided by the command layer (the terminal, `-v`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TextOptions {
    /// ANSI styles.
    pub(crate) color: bool,
    /// List every kept pending invitation even when there are no changes (else one line).
    pub(crate) list_pending: bool,
}

/// A plan with more changes than this also starts with its `Plan: …` line: the counts are
/// then on screen before the list scrolls them away (docs/contract.md §6).
const LONG_PLAN: usize = 20;

/// The plan for people: grouped by action with `+ ~ - !`, reasons and counts; with a baseline,
/// the edit's changes first, then the drift (docs/contract.md §8). Readable without colour. Its
/// warnings are not part of it: they go to stderr ([`warnings`]).
pub(crate) fn text(plan: &Plan, file: &str, options: TextOptions) -> String {
    let color = options.color;
    let mut out = String::new();
    let bold = Style::new().bold();
    let by_origin = origin_counts(plan).map_or(String::new(), |o| format!("; {o}"));
    let limit = removal_limit(plan).map_or(String::new(), |l| format!("; {l}"));
    let summary = format!(
        "{} {}{by_origin} ({} unchanged, {} ignored){limit}.",
        paint(color, bold, "Plan:"),
        counts(plan),
        plan.summary.unchanged,
        plan.summary.ignored
    );
    if plan.count() > LONG_PLAN {
        let _ = writeln!(out, "{summary}\n");
    }
    if plan.is_empty() {
        stops(&mut out, plan, color);
        already_in_org(&mut out, plan, color);
        pending(&mut out, plan, options);
        source(&mut out, plan);
        let _ = writeln!(
            out,
            "No changes. The org matches {} ({} unchanged, {} ignored).",
            escape(file),
            plan.summary.unchanged,
            plan.summary.ignored
        );
        return out;
    }
    if plan.compared.is_some() {
        for origin in Origin::ALL {
            let (changes, blocked) = plan.of_origin(origin);
            let n = shown(&changes, &blocked);
            if n == 0 && origin != Origin::Edit {
                continue;
            }
            let heading = format!(
                "{} ({n} change{}):",
                origin_heading(plan, origin),
                plural(n)
            );
            let _ = writeln!(out, "{}\n", paint(color, bold, &heading));
            if n == 0 {
                let _ = writeln!(out, "  It changes nothing in the org.\n");
            }
            groups(&mut out, &changes, &blocked, color);
            if origin == Origin::Edit {
                stops(&mut out, plan, color);
                already_in_org(&mut out, plan, color);
            }
        }
    } else {
        let changes: Vec<&Change> = plan.changes.iter().map(|c| &c.change).collect();
        let blocked: Vec<&Blocked> = plan.blocked.iter().collect();
        groups(&mut out, &changes, &blocked, color);
    }
    pending(&mut out, plan, options);
    source(&mut out, plan);
    let _ = writeln!(out, "{summary}");
    if let Some(pointer) = adopt_pointer(plan, &escape(file)) {
        let _ = writeln!(out, "{pointer}");
    }
    out
}

/// The plan's warnings for stderr, one `warning: …` line each (docs/contract.md §6), in the
/// plan's order (tripped guards first), escaped. Stale pending invitations are one line
/// whatever their number — how many, the oldest — where the first of them was; with
/// `list_stale` (`-v`) each follows on its own indented line. The JSON plan keeps one warning per
/// invitation.
pub(crate) fn warnings(plan: &Plan, list_stale: bool) -> String {
    let stale: Vec<(&Email, Role, &Invited)> = plan
        .warnings
        .iter()
        .filter_map(|w| match w {
            Warning::StaleInvitation {
                email,
                role,
                invited,
            } => Some((email, *role, invited)),
            _ => None,
        })
        .collect();
    let mut out = String::new();
    let mut stale_said = false;
    for w in &plan.warnings {
        let line = match w {
            Warning::StaleInvitation { .. } if stale.len() > 1 => {
                if std::mem::replace(&mut stale_said, true) {
                    continue;
                }
                // The oldest: the longest wait, then the first email.
                let Some((email, role, invited)) = stale
                    .iter()
                    .copied()
                    .max_by(|a, b| a.2.age_days.cmp(&b.2.age_days).then(b.0.cmp(a.0)))
                else {
                    continue;
                };
                let mut line = format!(
                    "{} pending invitations were sent more than {STALE_INVITATION_DAYS} days ago, the oldest {email} ({role}), {invited}; set `invitations.resend_after_days` to re-send stale invitations",
                    stale.len()
                );
                if !list_stale {
                    line.push_str(" (-v lists them)");
                }
                let _ = writeln!(out, "warning: {}", escape(&line));
                if list_stale {
                    for (email, role, invited) in &stale {
                        let _ =
                            writeln!(out, "  {}", escape(&format!("{email} ({role}), {invited}")));
                    }
                }
                continue;
            }
            w => w.to_string(),
        };
        let _ = writeln!(out, "warning: {}", escape(&line));
    }
    out
}

/// The changes and blocked changes given, grouped by action. A replaced invitation is one
/// change: its revoke is not listed among the revocations, and the new invitation's line says
/// how old the replaced one was.
fn groups(out: &mut String, changes: &[&Change], blocked: &[&Blocked], color: bool) {
    let bold = Style::new().bold();
    let replaced: HashMap<&Email, &Change> = changes
        .iter()
        .copied()
        .filter(|c| c.is_replaced_revoke())
        .map(|c| (c.email(), c))
        .collect();
    for action in Action::ALL {
        let group: Vec<&Change> = changes
            .iter()
            .copied()
            .filter(|c| c.action() == action)
            .filter(|c| !c.is_replaced_revoke())
            .collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{} ({}):",
            paint(color, bold, heading(action)),
            group.len()
        );
        for c in group {
            let line = format!("  {} {}", symbol(action), describe(c));
            let _ = write!(out, "{}", paint(color, style_for(action), &line));
            let old = match replaced.get(c.email()) {
                Some(Change::Revoke(r)) if c.is_replacement() => {
                    Some(format!("the old one {}", waited(r.invited.as_ref())))
                }
                _ => None,
            };
            match (note(c), old) {
                (Some(n), Some(o)) => {
                    let _ = write!(out, "  # {n}; {o}");
                }
                (n, o) => {
                    if let Some(n) = n.or(o) {
                        let _ = write!(out, "  # {n}");
                    }
                }
            }
            out.push('\n');
        }
        out.push('\n');
    }
    if !blocked.is_empty() {
        let blocked = crate::plan::blocked_entries(blocked.iter().copied());
        let _ = writeln!(
            out,
            "{} ({}):",
            paint(color, bold, "Blocked, not sent"),
            blocked.len()
        );
        for (change, why) in blocked {
            let line = format!("  ! {}: {}", describe(change), why);
            let _ = writeln!(
                out,
                "{}",
                paint(color, AnsiColor::Magenta.on_default(), &line)
            );
        }
        out.push('\n');
    }
}

/// With a baseline: the entries the edit adds or changes that the org already holds, one line
/// each (docs/contract.md §8).
fn already_in_org(out: &mut String, plan: &Plan, color: bool) {
    let Some(already) = plan.compared.as_ref().map(|o| &o.already_in_org) else {
        return;
    };
    if already.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{} ({}):",
        paint(
            color,
            Style::new().bold(),
            "Already in the org, nothing to send"
        ),
        already.len()
    );
    for a in already {
        let _ = writeln!(out, "  = {} ({})", escape(a.email.as_str()), a.role);
    }
    out.push('\n');
}

/// `Planned against the org as read at …` for a plan made from a snapshot (docs/contract.md §9),
/// and the baseline compared with (§8).
fn source(out: &mut String, plan: &Plan) {
    if let Some(line) = source_line(plan.source.as_ref()) {
        let _ = writeln!(out, "{}", escape(&line));
    }
    if let Some(b) = &plan.baseline {
        let _ = writeln!(out, "Compared with the baseline {}.", escape(b.name()));
    }
}

/// With a baseline: what the edit stops (`x`, and whether that keeps access) and the rules it
/// changes, each with the org members it now matches (docs/contract.md §8).
fn stops(out: &mut String, plan: &Plan, color: bool) {
    let Some(compared) = &plan.compared else {
        return;
    };
    let bold = Style::new().bold();
    if !compared.no_longer.is_empty() {
        let title = "No longer done, because of this change";
        let _ = writeln!(
            out,
            "{} ({}):",
            paint(color, bold, title),
            compared.no_longer.len()
        );
        for n in &compared.no_longer {
            let keeps = if n.keeps_access() {
                "; this keeps access"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  x {}  # {}{keeps}",
                describe(&n.change),
                escape(&n.cause.words())
            );
        }
        out.push('\n');
    }
    if !compared.expiries.is_empty() {
        let _ = writeln!(
            out,
            "{} ({}):",
            paint(color, bold, "Expiries this change sets"),
            compared.expiries.len()
        );
        for e in &compared.expiries {
            let _ = writeln!(
                out,
                "  @ {} ({}): {}",
                escape(e.email.as_str()),
                e.role,
                super::expiry_words(e)
            );
        }
        out.push('\n');
    }
    if !compared.rules_changed.is_empty() {
        let _ = writeln!(
            out,
            "{} ({}):",
            paint(color, bold, "Rules changed"),
            compared.rules_changed.len()
        );
        for r in &compared.rules_changed {
            let _ = writeln!(out, "  * {}", escape(&super::rule_line(r)));
        }
        out.push('\n');
    }
}

/// The pending invitations the plan keeps, with how long each has waited (docs/contract.md §6):
/// listed when the plan has changes (or with `-v`); one line otherwise, the count and the
/// oldest.
fn pending(out: &mut String, plan: &Plan, options: TextOptions) {
    let all = &plan.pending_invitations;
    if all.is_empty() {
        return;
    }
    let title = paint(
        options.color,
        Style::new().bold(),
        "Pending invitations, kept",
    );
    if plan.changes.is_empty() && !options.list_pending {
        let oldest = all
            .iter()
            .filter_map(|p| p.invited.as_ref())
            .max_by_key(|i| i.age_days);
        let oldest = match oldest {
            Some(i) => format!("the oldest {i}"),
            None => "their ages unknown".to_string(),
        };
        let _ = writeln!(out, "{title}: {}, {oldest} (-v lists them).\n", all.len());
        return;
    }
    let _ = writeln!(out, "{title} ({}):", all.len());
    for p in all {
        let _ = writeln!(out, "  . {}", pending_line(p));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::{Date, Timestamp};

    fn stale(email: &str, at: &str) -> Warning {
        Warning::StaleInvitation {
            email: Email::new(email),
            role: Role::Member,
            invited: Invited::new(
                &Timestamp::parse(at).unwrap(),
                Date::parse("2027-03-31").unwrap(),
            ),
        }
    }

    #[test]
    fn stale_invitations_are_one_warning_line_whatever_their_number() {
        let mut plan = Plan::default();
        plan.warnings
            .push(Warning::BelowMinAdmins { admins: 1, min: 2 });
        for i in 0..25 {
            plan.warnings.push(stale(
                &format!("p{i:02}@example.com"),
                &format!("2027-01-{:02}T09:00:00Z", 28 - i),
            ));
        }
        plan.warnings.push(Warning::SelfNotInOrg {
            email: Email::new("bot@example.com"),
            from: crate::plan::SelfFrom::Flag,
        });
        let quiet = warnings(&plan, false);
        assert_eq!(
            quiet,
            "warning: the org has 1 admin member, fewer than min_admins 2; pending admin invitations count once accepted\n\
             warning: 25 pending invitations were sent more than 30 days ago, the oldest p24@example.com (org:member), invited 2027-01-04, 86 days ago; set `invitations.resend_after_days` to re-send stale invitations (-v lists them)\n\
             warning: --self bot@example.com is neither a member nor invited: check the email (it should be the API key's own account)\n"
        );
        let listed = warnings(&plan, true);
        let lines: Vec<&str> = listed.lines().collect();
        assert_eq!(lines.len(), 3 + 25, "{listed}");
        assert!(!lines[1].contains("-v lists them"), "{listed}");
        assert_eq!(
            lines[2],
            "  p00@example.com (org:member), invited 2027-01-28, 62 days ago"
        );
        // One stale invitation is its own sentence.
        plan.warnings.truncate(2);
        assert_eq!(
            warnings(&plan, false).lines().nth(1).unwrap(),
            "warning: the invitation of p00@example.com (org:member) is pending, invited 2027-01-28, 62 days ago, more than 30 days; set `invitations.resend_after_days` to re-send stale invitations"
        );
    }
}
