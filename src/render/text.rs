//! The plan for people, in a terminal or a CI log (docs/contract.md §6).

use super::{counts, describe, heading, note, pending_line, shown, symbol};
use crate::escape::escape;
use crate::plan::{Action, Change, Departure, Plan, RevokeCause, waited};
use anstyle::{AnsiColor, Style};
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

/// The plan for people: grouped by action with `+ ~ - !`, reasons, warnings and counts.
/// Readable without colour.
pub(crate) fn text(plan: &Plan, file: &str, options: TextOptions) -> String {
    let color = options.color;
    let mut out = String::new();
    let bold = Style::new().bold();
    let warn = AnsiColor::Red.on_default().bold();
    let summary = format!(
        "{} {} ({} unchanged, {} ignored).",
        paint(color, bold, "Plan:"),
        counts(plan),
        plan.summary.unchanged,
        plan.summary.ignored
    );
    if plan.count() > LONG_PLAN {
        let _ = writeln!(out, "{summary}\n");
    }
    for w in &plan.warnings {
        let _ = writeln!(
            out,
            "{} {}",
            paint(color, warn, "! warning:"),
            escape(&w.to_string())
        );
    }
    if !plan.warnings.is_empty() {
        out.push('\n');
    }
    if plan.is_empty() {
        pending(&mut out, plan, options);
        let _ = writeln!(
            out,
            "No changes. The org matches {} ({} unchanged, {} ignored).",
            escape(file),
            plan.summary.unchanged,
            plan.summary.ignored
        );
        return out;
    }
    // The revoke half of a replacement, by email, to show its age on the new invitation's line.
    let replaced: std::collections::HashMap<&crate::email::Email, &Change> = plan
        .changes
        .iter()
        .filter(|c| matches!(c, Change::Revoke(_)) && c.is_replacement())
        .map(|c| (c.email(), c))
        .collect();
    for action in Action::ALL {
        let group: Vec<_> = shown(plan, action).collect();
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
    if !plan.blocked.is_empty() {
        let _ = writeln!(
            out,
            "{} ({}):",
            paint(color, bold, "Blocked, not sent"),
            plan.blocked.len()
        );
        for b in &plan.blocked {
            let line = format!("  ! {}: {}", describe(&b.change), b.why);
            let _ = writeln!(
                out,
                "{}",
                paint(color, AnsiColor::Magenta.on_default(), &line)
            );
        }
        out.push('\n');
    }
    pending(&mut out, plan, options);
    let _ = writeln!(out, "{summary}");
    if undoes_live_changes(plan) {
        let _ = writeln!(out, "{}", adopt_hint(&escape(file)));
    }
    out
}

/// Whether the plan undoes changes made in the org: it removes or revokes someone the file
/// does not list (not an expiry), or changes a role (docs/contract.md §7).
pub(super) fn undoes_live_changes(plan: &Plan) -> bool {
    plan.changes.iter().any(|c| match c {
        Change::UpdateRole(_) => true,
        Change::Invite(i) => i.replaces.is_some(),
        Change::Remove(r) => r.departure == Departure::NotDesired,
        Change::Revoke(r) => r.cause == RevokeCause::Departed(Departure::NotDesired),
        // A stale invitation sent again undoes nothing made in the org.
        Change::Resend(_) => false,
    })
}

/// The pointer to `teamsync adopt`, for a plan that undoes changes made in the org.
pub(super) fn adopt_hint(file: &str) -> String {
    format!(
        "This plan undoes changes made in the org. To keep them instead, run `teamsync adopt` to write them into {file}."
    )
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
