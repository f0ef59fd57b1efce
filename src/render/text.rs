use super::{counts, describe, heading, note, pending_line, symbol};
use crate::escape::escape;
use crate::plan::{Action, Change, Departure, Plan, RevokeCause};
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

/// The plan for people: grouped by action with `+ ~ - !`, reasons, warnings and counts.
/// Readable without colour; `color` adds ANSI styles.
pub(crate) fn text(plan: &Plan, file: &str, color: bool) -> String {
    let mut out = String::new();
    let bold = Style::new().bold();
    let warn = AnsiColor::Red.on_default().bold();
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
        pending(&mut out, plan, color);
        let _ = writeln!(
            out,
            "No changes. The org matches {} ({} unchanged, {} ignored).",
            escape(file),
            plan.summary.unchanged,
            plan.summary.ignored
        );
        return out;
    }
    for action in Action::ALL {
        let group: Vec<_> = plan
            .changes
            .iter()
            .filter(|c| c.action() == action)
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
            if let Some(n) = note(c) {
                let _ = write!(out, "  # {n}");
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
    pending(&mut out, plan, color);
    let _ = writeln!(
        out,
        "{} {} ({} unchanged, {} ignored).",
        paint(color, bold, "Plan:"),
        counts(plan),
        plan.summary.unchanged,
        plan.summary.ignored
    );
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

/// The pending invitations the plan keeps, with how long each has waited (docs/contract.md §9).
fn pending(out: &mut String, plan: &Plan, color: bool) {
    if plan.pending_invitations.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{} ({}):",
        paint(color, Style::new().bold(), "Pending invitations, kept"),
        plan.pending_invitations.len()
    );
    for p in &plan.pending_invitations {
        let _ = writeln!(out, "  . {}", pending_line(p));
    }
    out.push('\n');
}
