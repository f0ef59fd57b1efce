//! The plan for people, in a terminal or a CI log (docs/contract.md §6).

use super::{
    adopt_pointer, counts, describe, heading, note, origin_counts, origin_heading, pending_line,
    shown, source_line, symbol,
};
use crate::email::Email;
use crate::escape::escape;
use crate::origin::Origin;
use crate::plan::{Action, Blocked, Change, Plan, waited};
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

/// The plan for people: grouped by action with `+ ~ - !`, reasons, warnings and counts; with a
/// baseline, the edit's changes first, then the drift (docs/contract.md §8). Readable without
/// colour.
pub(crate) fn text(plan: &Plan, file: &str, options: TextOptions) -> String {
    let color = options.color;
    let mut out = String::new();
    let bold = Style::new().bold();
    let warn = AnsiColor::Red.on_default().bold();
    let by_origin = origin_counts(plan).map_or(String::new(), |o| format!("; {o}"));
    let summary = format!(
        "{} {}{by_origin} ({} unchanged, {} ignored).",
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
    if plan.origins.is_some() {
        for origin in [Origin::Edit, Origin::Drift] {
            let (changes, blocked) = plan.of_origin(origin);
            let n = shown(&changes, &blocked);
            if n == 0 && origin == Origin::Drift {
                continue;
            }
            let heading = format!("{} ({n} change{}):", origin_heading(origin), plural(n));
            let _ = writeln!(out, "{}\n", paint(color, bold, &heading));
            if n == 0 {
                let _ = writeln!(out, "  It changes nothing in the org.\n");
            }
            groups(&mut out, &changes, &blocked, color);
            if origin == Origin::Edit {
                already_in_org(&mut out, plan, color);
            }
        }
    } else {
        let changes: Vec<&Change> = plan.changes.iter().collect();
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
    let Some(already) = plan.origins.as_ref().map(|o| &o.already_in_org) else {
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

/// `Planned against the org as read at …` for a plan made from a snapshot (docs/contract.md §9).
fn source(out: &mut String, plan: &Plan) {
    if let Some(line) = source_line(plan.source.as_ref()) {
        let _ = writeln!(out, "{}", escape(&line));
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
