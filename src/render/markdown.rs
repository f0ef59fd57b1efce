use super::{ACTIONS, describe, heading};
use crate::plan::{Action, Plan};
use std::fmt::Write;

/// The first line of every comment, so a CI job can find and update its previous one.
pub const MARKER: &str = "<!-- teamsync:plan -->";
/// GitHub refuses comments over 65,536 characters; stay well under.
pub const MAX_COMMENT_CHARS: usize = 65_000;
/// Room kept for the closing lines after the details are cut.
const RESERVE: usize = 600;

/// Escapes text for Markdown outside code spans.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '&' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// The plan as a pull-request comment: marker, verdict, guard warnings first, a summary table,
/// details in a collapsible section, never longer than [`MAX_COMMENT_CHARS`].
pub fn markdown(plan: &Plan, file: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{MARKER}");
    let file_md = esc(file);
    if plan.is_empty() {
        let _ = writeln!(out, "### teamsync: no changes");
        let _ = writeln!(
            out,
            "\nThe org matches {file_md} ({} unchanged, {} ignored).",
            plan.summary.unchanged, plan.summary.ignored
        );
        for w in &plan.warnings {
            let _ = writeln!(out, "\n> [!WARNING]\n> {}", esc(w));
        }
        return out;
    }
    let s = &plan.summary;
    let refused = plan.refusing_guards().count() > 0;
    let verdict = if refused {
        "apply would be refused by a safety guard"
    } else {
        "changes pending"
    };
    let _ = writeln!(
        out,
        "### teamsync plan for {file_md}: {verdict} ({} invite{}, {} role change{}, {} removal{}, {} revocation{}, {} blocked)",
        s.invite,
        plural(s.invite),
        s.update_role,
        plural(s.update_role),
        s.remove,
        plural(s.remove),
        s.revoke,
        plural(s.revoke),
        s.blocked
    );
    out.push('\n');
    for w in &plan.warnings {
        let kind = if w.starts_with("mass removal") || w.starts_with("too few admins") {
            "CAUTION"
        } else {
            "WARNING"
        };
        let _ = writeln!(out, "> [!{kind}]\n> **{}**\n", esc(w));
    }
    let _ = writeln!(out, "| | Action | Count |\n|---|---|---:|");
    let _ = writeln!(out, "| + | Invitations | {} |", s.invite);
    let _ = writeln!(out, "| ~ | Role changes | {} |", s.update_role);
    let _ = writeln!(out, "| - | Removals | {} |", s.remove);
    let _ = writeln!(out, "| - | Revocations | {} |", s.revoke);
    let _ = writeln!(out, "| ! | Blocked | {} |", s.blocked);
    let _ = writeln!(out, "\n{} unchanged, {} ignored.\n", s.unchanged, s.ignored);
    let total = plan.changes.len() + plan.blocked.len();
    let _ = writeln!(
        out,
        "<details><summary>Details ({total} change{})</summary>\n",
        plural(total)
    );

    // Every detail line, in order; cut when the budget runs out.
    let mut lines: Vec<String> = Vec::new();
    for action in ACTIONS {
        let group: Vec<_> = plan.changes.iter().filter(|c| c.action == action).collect();
        if group.is_empty() {
            continue;
        }
        lines.push(format!("\n#### {}\n", heading(action)));
        for c in group {
            lines.push(item(c, action, None));
        }
    }
    if !plan.blocked.is_empty() {
        lines.push("\n#### Blocked (not sent)\n".to_string());
        for c in &plan.blocked {
            lines.push(item(c, c.action, c.blocked_reason.as_deref()));
        }
    }
    let budget = MAX_COMMENT_CHARS - RESERVE;
    let items_total = lines.iter().filter(|l| l.starts_with("- ")).count();
    let mut shown = 0usize;
    for l in &lines {
        if out.len() + l.len() + 1 > budget {
            break;
        }
        out.push_str(l);
        out.push('\n');
        if l.starts_with("- ") {
            shown += 1;
        }
    }
    if shown < items_total {
        let _ = writeln!(
            out,
            "\n… and {} more (run `teamsync plan` for the full list)",
            items_total - shown
        );
    }
    let _ = writeln!(out, "\n</details>");
    out
}

fn item(c: &crate::plan::Change, action: Action, blocked: Option<&str>) -> String {
    let mut line = format!("- {}", esc(&describe(c)));
    let _ = action;
    if let Some(b) = blocked {
        let _ = write!(line, ": {}", esc(b));
    } else if let Some(r) = &c.reason {
        let _ = write!(line, " — _{}_", esc(r));
    } else if matches!(c.action, Action::Remove | Action::Revoke) {
        let _ = write!(line, " — {}", esc(&c.cause));
    }
    line
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
