use super::{age, describe, heading, note, pending_line, shown};
use crate::plan::{Action, Change, Plan, Warning};
use crate::words::plural;
use std::fmt::Write;

/// The first line of every comment, so a CI job can find and update its previous one.
pub(crate) const MARKER: &str = "<!-- teamsync:plan -->";
/// GitHub refuses comments over 65,536 characters; stay well under.
pub(crate) const MAX_COMMENT_CHARS: usize = 65_000;
/// Room kept for the closing lines after the details are cut.
const RESERVE: usize = 600;
/// Most warnings shown; the rest are counted in one line.
const MAX_WARNINGS: usize = 20;
/// Longest warning shown, in characters (before escaping); longer ones are cut.
const MAX_WARNING_CHARS: usize = 500;
/// Most bytes all shown warnings may take together.
const WARNINGS_BUDGET: usize = 16_000;
/// Longest file name shown in the heading, in characters.
const MAX_FILE_CHARS: usize = 200;

/// Escapes text for Markdown outside code spans.
pub(super) fn esc(s: &str) -> String {
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
pub(crate) fn markdown(plan: &Plan, file: &str) -> String {
    fit(render(plan, file), MAX_COMMENT_CHARS)
}

fn render(plan: &Plan, file: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{MARKER}");
    let file_md = esc(&cut(file, MAX_FILE_CHARS));
    if plan.is_empty() {
        let _ = writeln!(out, "### teamsync: no changes");
        let _ = writeln!(
            out,
            "\nThe org matches {file_md} ({} unchanged, {} ignored).",
            plan.summary.unchanged, plan.summary.ignored
        );
        warnings(&mut out, &plan.warnings, |out, _, w| {
            let _ = writeln!(out, "\n> [!WARNING]\n> {w}");
        });
        if !plan.pending_invitations.is_empty() {
            let n = plan.pending_invitations.len();
            let _ = writeln!(
                out,
                "\n<details><summary>Pending invitations ({n})</summary>\n"
            );
            details(&mut out, vec![pending_section(plan)]);
            let _ = writeln!(out, "\n</details>");
        }
        return out;
    }
    let s = &plan.summary;
    // A replaced invitation is one change, an invitation (docs/contract.md §6).
    let revocations = s.revoke.saturating_sub(plan.replacements());
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
        revocations,
        plural(revocations),
        s.blocked
    );
    if s.resend > 0 {
        // Inside the parenthesis: `…, 1 blocked, 2 re-sent)`.
        out.truncate(out.len() - 2);
        let _ = writeln!(out, ", {} re-sent)", s.resend);
    }
    out.push('\n');
    warnings(&mut out, &plan.warnings, |out, warning, w| {
        // A tripped guard is a caution.
        let kind = match warning {
            Warning::Guard(_) => "CAUTION",
            _ => "WARNING",
        };
        let _ = writeln!(out, "> [!{kind}]\n> **{w}**\n");
    });
    let _ = writeln!(out, "| | Action | Count |\n|---|---|---:|");
    let _ = writeln!(out, "| + | Invitations | {} |", s.invite);
    if s.resend > 0 {
        let _ = writeln!(out, "| ~ | Invitations re-sent | {} |", s.resend);
    }
    let _ = writeln!(out, "| ~ | Role changes | {} |", s.update_role);
    let _ = writeln!(out, "| - | Removals | {} |", s.remove);
    let _ = writeln!(out, "| - | Revocations | {revocations} |");
    let _ = writeln!(out, "| ! | Blocked | {} |", s.blocked);
    let _ = writeln!(out, "\n{} unchanged, {} ignored.\n", s.unchanged, s.ignored);
    if super::text::undoes_live_changes(plan) {
        let _ = writeln!(out, "{}\n", super::text::adopt_hint(&file_md));
    }
    let total = plan.count() + plan.blocked.len();
    let _ = writeln!(
        out,
        "<details><summary>Details ({total} change{})</summary>\n",
        plural(total)
    );

    // Sections in plan order. Each gets a fair share of what is left of the budget, so a
    // long list of invitations can never push the removals out of sight.
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for action in Action::ALL {
        let items: Vec<String> = shown(plan, action).map(|c| item(c, None)).collect();
        if !items.is_empty() {
            sections.push((heading(action).to_string(), items));
        }
    }
    if !plan.blocked.is_empty() {
        let items = plan
            .blocked
            .iter()
            .map(|b| item(&b.change, Some(&b.why.to_string())))
            .collect();
        sections.push(("Blocked (not sent)".to_string(), items));
    }
    if !plan.pending_invitations.is_empty() {
        sections.push(pending_section(plan));
    }
    details(&mut out, sections);
    let _ = writeln!(out, "\n</details>");
    out
}

/// The pending invitations the plan keeps, with how long each has waited (docs/contract.md §9).
fn pending_section(plan: &Plan) -> (String, Vec<String>) {
    (
        "Pending invitations, kept".to_string(),
        plan.pending_invitations
            .iter()
            .map(|p| format!("- {}", esc(&pending_line(p))))
            .collect(),
    )
}

/// Writes the sections, each with a fair share of what is left of the budget.
fn details(out: &mut String, sections: Vec<(String, Vec<String>)>) {
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
}

/// Writes the first warnings that fit (tripped guards come first in the plan), each cut to
/// [`MAX_WARNING_CHARS`] and escaped, then one line counting the rest. `write` gets the
/// warning as the plan has it and as it is to be shown (cut and escaped).
fn warnings<W: std::fmt::Display>(
    out: &mut String,
    all: &[W],
    write: impl Fn(&mut String, &W, &str),
) {
    let start = out.len();
    let mut shown = 0;
    for w in all.iter().take(MAX_WARNINGS) {
        let mut one = String::new();
        write(&mut one, w, &esc(&cut(&w.to_string(), MAX_WARNING_CHARS)));
        if out.len() - start + one.len() > WARNINGS_BUDGET {
            break;
        }
        out.push_str(&one);
        shown += 1;
    }
    if shown < all.len() {
        let more = all.len() - shown;
        let _ = writeln!(
            out,
            "\n… and {more} more warning{} (run `teamsync plan` for all of them)\n",
            plural(more)
        );
    }
}

/// `s` cut to at most `max` characters, with `…` when something was cut.
fn cut(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(s),
        Some(_) => {
            let end = s
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(s.len(), |(i, _)| i);
            std::borrow::Cow::Owned(format!("{}…", &s[..end]))
        }
    }
}

/// The last guarantee that the comment stays under `max` characters, whatever it holds: cut
/// at the last line break that fits, close the collapsible section if it is open, and say so.
fn fit(text: String, max: usize) -> String {
    if text.chars().count() < max {
        return text;
    }
    const NOTE: &str = "\n**The comment was cut to stay under GitHub's size limit; run `teamsync plan` for the full plan.**\n";
    const CLOSE: &str = "\n</details>\n";
    // Room for the kept text and the line break that may end it, strictly under `max`.
    let room = max.saturating_sub(NOTE.chars().count() + CLOSE.chars().count() + 2);
    let end = text.char_indices().nth(room).map_or(text.len(), |(i, _)| i);
    let mut kept = &text[..end];
    // Prefer a whole line; the marker line is always kept.
    if let Some(nl) = kept.rfind('\n') {
        if nl >= MARKER.len() {
            kept = &kept[..=nl];
        }
    }
    let mut out = kept.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if out.matches("<details>").count() > out.matches("</details>").count() {
        out.push_str(CLOSE);
    }
    out.push_str(NOTE);
    out
}

fn item(c: &Change, blocked: Option<&str>) -> String {
    let mut line = format!("- {}", esc(&describe(c)));
    if let Some(b) = blocked {
        let _ = write!(line, ": {}", esc(b));
    } else if let Some(r) = c.shown_reason() {
        let _ = write!(line, " — _{}_", esc(&r));
        if let Some(a) = age(c) {
            let _ = write!(line, " ({})", esc(&a));
        }
    } else if let Some(n) = note(c) {
        let _ = write!(line, " — {}", esc(&n));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::desired::{Desired, DesiredMember};
    use crate::email::Email;
    use crate::live::{LiveInvitation, LiveMember, LiveState};
    use crate::planner::{PlanOptions, plan_live as plan};
    use crate::role::Role;

    fn opts() -> PlanOptions {
        PlanOptions::new(Date::parse("2027-03-31").unwrap())
    }

    fn root() -> LiveMember {
        LiveMember::new("user_root", "root@example.com", "org:admin")
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
        d.protected.push(Email::new("glass@example.com"));
        let live = LiveState {
            members: vec![
                root(),
                LiveMember::new("u2", "bob@example.com", "org:member"),
                LiveMember::new("u3", "glass@example.com", "org:admin"),
            ],
            invitations: vec![LiveInvitation::new("i1", "old@example.com", "org:member")],
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
            members.push(LiveMember::new(
                &format!("u{i}"),
                &format!("leaving.person.{i:04}@example.com"),
                "org:member",
            ));
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

    /// A plan with `n` warnings (the same one, for the budget's sake) and the `extra` members.
    fn with_warnings(n: usize, extra: Vec<DesiredMember>) -> Plan {
        let mut want = vec![DesiredMember::new("root@example.com", Role::Admin)];
        want.extend(extra);
        let live = LiveState {
            members: vec![root()],
            invitations: vec![],
        };
        let mut p = plan(&Desired::new(want), &live, &opts());
        p.warnings = vec![Warning::BelowMinAdmins { admins: 1, min: 2 }; n];
        p
    }

    #[test]
    fn a_thousand_warnings_stay_under_the_limit_with_the_marker_first() {
        let invite = DesiredMember::new("new@example.com", Role::Member);
        for (p, kind) in [
            (with_warnings(1000, vec![]), "no changes"),
            (with_warnings(1000, vec![invite]), "changes"),
        ] {
            assert_eq!(p.warnings.len(), 1000, "{kind}");
            assert_eq!(p.is_empty(), kind == "no changes");
            let md = markdown(&p, "teamsync.yaml");
            let chars = md.chars().count();
            assert!(chars < MAX_COMMENT_CHARS, "{kind}: {chars} characters");
            assert_eq!(md.lines().next(), Some(MARKER), "{kind}");
            let shown = md
                .lines()
                .filter(|l| l.contains("fewer than min\\_admins"))
                .count();
            assert_eq!(shown, MAX_WARNINGS, "{kind}");
            assert!(
                md.contains(&format!(
                    "… and {} more warnings (run `teamsync plan` for all of them)",
                    1000 - MAX_WARNINGS
                )),
                "{kind}: {md}"
            );
            assert!(
                !md.contains("The comment was cut"),
                "{kind}: fits without the last resort"
            );
        }
        let md = markdown(
            &with_warnings(
                1000,
                vec![DesiredMember::new("new@example.com", Role::Member)],
            ),
            "teamsync.yaml",
        );
        assert!(
            md.contains("- invite new@example.com as org:member"),
            "{md}"
        );
        assert!(md.trim_end().ends_with("</details>"), "{md}");
    }

    #[test]
    fn long_warnings_and_file_names_are_cut() {
        let p = with_warnings(0, vec![DesiredMember::new("new@example.com", Role::Member)]);
        let md = markdown(&p, &"dir/".repeat(20_000));
        let chars = md.chars().count();
        assert!(chars < 5_000, "{chars} characters");
        assert_eq!(md.lines().next(), Some(MARKER));
        let mut out = String::new();
        warnings(
            &mut out,
            &["é".repeat(70_000), "short one".into()],
            |out, _, w| {
                out.push_str(w);
                out.push('\n');
            },
        );
        assert_eq!(
            out,
            format!("{}…\nshort one\n", "é".repeat(MAX_WARNING_CHARS - 1))
        );
    }

    #[test]
    fn the_last_resort_cuts_at_a_line_and_closes_the_details() {
        let mut text = format!("{MARKER}\n### head\n\n<details><summary>x</summary>\n\n");
        for i in 0..1000 {
            text.push_str(&format!("- item {i} ééé\n"));
        }
        text.push_str("\n</details>\n");
        let out = fit(text.clone(), 1_000);
        assert!(out.chars().count() < 1_000, "{}", out.chars().count());
        assert!(out.starts_with(&format!("{MARKER}\n### head\n")), "{out}");
        assert!(
            out.ends_with(
                "\n</details>\n\n**The comment was cut to stay under GitHub's size limit; run `teamsync plan` for the full plan.**\n"
            ),
            "{out}"
        );
        let last_item = out.lines().rfind(|l| l.starts_with("- item ")).unwrap();
        assert!(
            last_item.ends_with(" ééé"),
            "cut at a line break: {last_item}"
        );
        // Nothing to close when no section was opened; nothing changes when it fits.
        let plain = format!("{MARKER}\n{}", "word ".repeat(1_000));
        let out = fit(plain, 1_000);
        assert!(out.chars().count() < 1_000);
        assert!(
            out.starts_with(MARKER) && !out.contains("</details>"),
            "{out}"
        );
        assert_eq!(fit(text.clone(), text.chars().count() + 1), text);
        // Text without a line break is cut too.
        let out = fit("x".repeat(500), 200);
        assert!(out.chars().count() < 200, "{out}");
    }
}
