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

    // Sections in plan order. Each gets a fair share of what is left of the budget, so a
    // long list of invitations can never push the removals out of sight.
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for action in ACTIONS {
        let items: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| c.action == action)
            .map(|c| item(c, None))
            .collect();
        if !items.is_empty() {
            sections.push((heading(action).to_string(), items));
        }
    }
    if !plan.blocked.is_empty() {
        let items = plan
            .blocked
            .iter()
            .map(|c| item(c, c.blocked_reason.as_deref()))
            .collect();
        sections.push(("Blocked (not sent)".to_string(), items));
    }
    let budget = MAX_COMMENT_CHARS - RESERVE;
    let count = sections.len();
    for (n, (title, items)) in sections.iter().enumerate() {
        let share = budget.saturating_sub(out.len()) / (count - n);
        let start = out.len();
        let _ = writeln!(out, "\n#### {title} ({})\n", items.len());
        let mut shown = 0;
        for it in items {
            // Keep room for the "… and N more" line.
            if out.len() - start + it.len() + 1 + 80 > share {
                break;
            }
            out.push_str(it);
            out.push('\n');
            shown += 1;
        }
        if shown < items.len() {
            let _ = writeln!(
                out,
                "- … and {} more (run `teamsync plan` for the full list)",
                items.len() - shown
            );
        }
    }
    let _ = writeln!(out, "\n</details>");
    out
}

fn item(c: &crate::plan::Change, blocked: Option<&str>) -> String {
    let mut line = format!("- {}", esc(&describe(c)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::desired::{Desired, DesiredMember};
    use crate::model::{LiveInvitation, LiveMember, LiveState, Role};
    use crate::planner::{PlanOptions, plan};

    fn opts() -> PlanOptions {
        PlanOptions::new(Date::parse("2027-03-31").unwrap())
    }

    fn root() -> LiveMember {
        LiveMember {
            id: "user_root".into(),
            email: "root@example.com".into(),
            role: "org:admin".into(),
        }
    }

    #[test]
    fn no_changes_is_a_short_comment() {
        let d = Desired::new(vec![DesiredMember::new("root@example.com", Role::Admin)]);
        let live = LiveState {
            members: vec![root()],
            invitations: vec![],
        };
        let md = markdown(&plan(&d, &live, &opts()), "teamsync.yaml");
        assert!(md.len() < 200, "{md}");
        insta::assert_snapshot!("markdown_no_changes", md);
    }

    #[test]
    fn three_changes_with_reasons_and_a_blocked_one() {
        let mut carol = DesiredMember::new("carol@example.com", Role::Member);
        carol.reason = Some("new SRE <script> | *starts* Monday".into());
        let mut d = Desired::new(vec![
            DesiredMember::new("root@example.com", Role::Admin),
            carol,
            DesiredMember::new("bob@example.com", Role::Admin),
        ]);
        d.protected.push("glass@example.com".into());
        let live = LiveState {
            members: vec![
                root(),
                LiveMember {
                    id: "u2".into(),
                    email: "bob@example.com".into(),
                    role: "org:member".into(),
                },
                LiveMember {
                    id: "u3".into(),
                    email: "glass@example.com".into(),
                    role: "org:admin".into(),
                },
            ],
            invitations: vec![LiveInvitation {
                id: "i1".into(),
                email: "old@example.com".into(),
                role: "org:member".into(),
                status: "pending".into(),
            }],
        };
        let md = markdown(&plan(&d, &live, &opts()), "teamsync.yaml");
        assert!(md.starts_with(MARKER));
        assert!(
            md.contains("new SRE \\<script\\> \\| \\*starts\\* Monday"),
            "reasons are escaped: {md}"
        );
        insta::assert_snapshot!("markdown_three_changes", md);
    }

    #[test]
    fn three_thousand_changes_stay_under_githubs_limit_with_guards_first() {
        let mut members = vec![root()];
        for i in 0..1500 {
            members.push(LiveMember {
                id: format!("u{i}"),
                email: format!("leaving.person.{i:04}@example.com"),
                role: "org:member".into(),
            });
        }
        let mut want = vec![DesiredMember::new("root@example.com", Role::Admin)];
        for i in 0..1500 {
            let mut m = DesiredMember::new(
                &format!("new.person.with.a.long.name.{i:04}@example.com"),
                Role::Member,
            );
            m.reason = Some(format!(
                "hired in batch {i} for the incident response rotation"
            ));
            want.push(m);
        }
        let p = plan(
            &Desired::new(want),
            &LiveState {
                members,
                invitations: vec![],
            },
            &opts(),
        );
        assert_eq!(p.changes.len(), 3000);
        let md = markdown(&p, "teamsync.yaml");
        assert!(
            md.chars().count() < MAX_COMMENT_CHARS,
            "{} characters",
            md.chars().count()
        );
        assert!(
            md.len() > 50_000,
            "the budget is used, not wasted: {}",
            md.len()
        );
        let head: String = md.lines().take(6).collect::<Vec<_>>().join("\n");
        assert!(
            head.contains("[!CAUTION]") && head.contains("mass removal"),
            "guards come first: {head}"
        );
        // Both sections show, each cut with its own count.
        let inv = md.find("#### Invitations (1500)").expect("invitations");
        let rem = md
            .find("#### Removals (1500)")
            .expect("removals are never pushed out");
        let (invs, rems) = (&md[inv..rem], &md[rem..]);
        for (part, verb) in [(invs, "- invite "), (rems, "- remove ")] {
            let shown = part.lines().filter(|l| l.starts_with(verb)).count();
            assert!(shown > 100, "{shown}");
            let more = part
                .lines()
                .find(|l| l.starts_with("- … and "))
                .expect("a truncation line");
            assert_eq!(
                more,
                format!(
                    "- … and {} more (run `teamsync plan` for the full list)",
                    1500 - shown
                )
            );
        }
        assert!(md.trim_end().ends_with("</details>"));
        insta::assert_snapshot!(
            "markdown_3000_head",
            md.lines().take(20).collect::<Vec<_>>().join("\n")
        );
    }
}
