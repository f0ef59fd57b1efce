use super::{
    adopt_pointer, age, describe, note, origin_counts, origin_heading, pending_line, removal_limit,
    shown, source_line,
};
use crate::origin::Origin;
use crate::plan::{Action, BlockReason, Blocked, Change, Plan, Warning};
use crate::words::{one_or_many, plural};
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

/// Escapes text for Markdown outside code spans. What must not reach a terminal as it is
/// ([`crate::escape::is_unsafe`]: controls, bidirectional overrides, invisible characters)
/// must not reach a reviewer either: it is written as an escape, `\u{202e}`, shown as such.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '&' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            c if crate::escape::is_unsafe(c) => {
                let _ = write!(out, "\\\\u{{{:x}}}", c as u32);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// The plan as a pull-request comment: marker, verdict, guard warnings first, a summary table,
/// then what a reviewer must not miss in sight (removals, demotions, revocations, blocked
/// changes) and the rest in collapsible sections; with a baseline, the edit's group before the
/// drift's (docs/contract.md §6, §8). Never longer than [`MAX_COMMENT_CHARS`].
pub(crate) fn markdown(plan: &Plan, file: &str) -> String {
    fit(render(plan, file), MAX_COMMENT_CHARS)
}

/// Most entries of one group shown outside the collapsible sections; the rest are counted.
const MUST_SEE_MAX: usize = 20;

/// How the comment groups changes: the first four in sight, the others collapsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Removals,
    Demotions,
    Revocations,
    Invitations,
    Resends,
    Promotions,
}

impl Group {
    const IN_SIGHT: [Group; 3] = [Group::Removals, Group::Demotions, Group::Revocations];
    const COLLAPSED: [Group; 3] = [Group::Invitations, Group::Resends, Group::Promotions];

    fn of(c: &Change) -> Group {
        match c {
            Change::Remove(_) => Group::Removals,
            Change::UpdateRole(_) if c.is_demotion() => Group::Demotions,
            Change::UpdateRole(_) => Group::Promotions,
            Change::Revoke(_) => Group::Revocations,
            Change::Invite(_) => Group::Invitations,
            Change::Resend(_) => Group::Resends,
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Group::Removals => "Removals",
            Group::Demotions => "Demotions",
            Group::Revocations => "Revocations",
            Group::Invitations => "Invitations",
            Group::Resends => "Invitations re-sent (revoke, then invite again)",
            Group::Promotions => "Promotions",
        }
    }

    /// `2 invitations`, `1 re-sent`, `1 promotion`.
    fn counted(self, n: usize) -> String {
        let (one, many) = match self {
            Group::Removals => ("removal", "removals"),
            Group::Demotions => ("demotion", "demotions"),
            Group::Revocations => ("revocation", "revocations"),
            Group::Invitations => ("invitation", "invitations"),
            Group::Resends => ("re-sent", "re-sent"),
            Group::Promotions => ("promotion", "promotions"),
        };
        format!("{n} {}", one_or_many(n, one, many))
    }
}

/// A piece of the comment: text written as it is, or a list (under its heading, if it has one)
/// that gets a fair share of the room left, and at most `cap` entries.
enum Block {
    Raw(String),
    List {
        heading: Option<String>,
        items: Vec<String>,
        cap: usize,
    },
}

fn render(plan: &Plan, file: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{MARKER}");
    let file_md = esc(&cut(file, MAX_FILE_CHARS));
    let source = source_line(plan.source.as_ref()).map(|l| format!("\n{}\n", esc(&l)));
    if plan.is_empty() {
        let _ = writeln!(out, "### teamsync: no changes");
        let _ = writeln!(
            out,
            "\nThe org matches {file_md} ({} unchanged, {} ignored).",
            plan.summary.unchanged, plan.summary.ignored
        );
        out.push_str(source.as_deref().unwrap_or_default());
        warnings(&mut out, &plan.warnings, |out, _, w| {
            let _ = writeln!(out, "\n> [!WARNING]\n> {w}");
        });
        let mut blocks = Vec::new();
        already_in_org(plan, "####", &mut blocks);
        pending(plan, &mut blocks);
        write_blocks(&mut out, blocks);
        return out;
    }
    let s = &plan.summary;
    // A replaced invitation is one change, an invitation (docs/contract.md §6).
    let revocations = plan.revocations();
    let refused = plan.refusing_guards().count() > 0;
    let verdict = if refused {
        "apply would be refused by a safety guard"
    } else {
        "changes pending"
    };
    let _ = write!(
        out,
        "### teamsync plan for {file_md}: {verdict} ({} invite{}, {} role change{}, {} removal{}, {} revocation{}, {} blocked",
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
        let _ = write!(out, ", {} re-sent", s.resend);
    }
    if let Some(by_origin) = origin_counts(plan) {
        let _ = write!(out, "; {by_origin}");
    }
    let _ = writeln!(out, ")");
    out.push_str(source.as_deref().unwrap_or_default());
    out.push('\n');
    warnings(&mut out, &plan.warnings, |out, warning, w| {
        // A tripped guard is a caution.
        let kind = match warning {
            Warning::Guard(_) => "CAUTION",
            _ => "WARNING",
        };
        let _ = writeln!(out, "> [!{kind}]\n> **{w}**\n");
    });
    table(&mut out, plan);
    let _ = writeln!(out, "\n{} unchanged, {} ignored.", s.unchanged, s.ignored);
    if let Some(limit) = removal_limit(plan) {
        // Numbers and words of teamsync's own: nothing from the file or the API.
        let limit = limit
            .strip_prefix("removal")
            .map_or(limit.clone(), |rest| format!("Removal{rest}"));
        let _ = writeln!(out, "\n{}.", esc(&limit));
    }

    let mut blocks = Vec::new();
    let pointer = adopt_pointer(plan, &file_md).map(|p| format!("\n{p}\n"));
    match &plan.origins {
        None => {
            blocks.extend(pointer.map(Block::Raw));
            let changes: Vec<&Change> = plan.changes.iter().collect();
            let blocked: Vec<&Blocked> = plan.blocked.iter().collect();
            origin_group(&changes, &blocked, "####", "", &mut blocks);
        }
        Some(_) => {
            for origin in [Origin::Edit, Origin::Drift] {
                let (changes, blocked) = plan.of_origin(origin);
                let n = shown(&changes, &blocked);
                if n == 0 && origin == Origin::Drift {
                    continue;
                }
                blocks.push(Block::Raw(format!(
                    "\n#### {} ({n} change{})\n",
                    origin_heading(origin),
                    plural(n)
                )));
                match origin {
                    Origin::Edit if n == 0 => {
                        blocks.push(Block::Raw("\nIt changes nothing in the org.\n".into()));
                    }
                    Origin::Drift => blocks.extend(pointer.clone().map(Block::Raw)),
                    Origin::Edit => {}
                }
                let prefix = match origin {
                    Origin::Edit => "This change: ",
                    Origin::Drift => "Drift: ",
                };
                origin_group(&changes, &blocked, "#####", prefix, &mut blocks);
                if origin == Origin::Edit {
                    already_in_org(plan, "#####", &mut blocks);
                }
            }
        }
    }
    pending(plan, &mut blocks);
    write_blocks(&mut out, blocks);
    out
}

/// The summary table: counts by action, and with a baseline by origin too.
fn table(out: &mut String, plan: &Plan) {
    let s = &plan.summary;
    let by_origin = plan.origins.is_some();
    if by_origin {
        let _ = writeln!(
            out,
            "| | Action | This change | Drift |\n|---|---|---:|---:|"
        );
    } else {
        let _ = writeln!(out, "| | Action | Count |\n|---|---|---:|");
    }
    let count = |action: Option<Action>, origin: Origin| {
        let changes = plan
            .changes_with_origin()
            .filter(|(c, o)| Some(c.action()) == action && *o == Some(origin))
            .filter(|(c, _)| !c.is_replaced_revoke())
            .count();
        let blocked = plan
            .blocked_with_origin()
            .filter(|(_, o)| action.is_none() && *o == Some(origin))
            .count();
        changes + blocked
    };
    let rows = [
        ("+", "Invitations", Some(Action::Invite), s.invite),
        ("~", "Invitations re-sent", Some(Action::Resend), s.resend),
        ("~", "Role changes", Some(Action::UpdateRole), s.update_role),
        ("-", "Removals", Some(Action::Remove), s.remove),
        ("-", "Revocations", Some(Action::Revoke), plan.revocations()),
        ("!", "Blocked", None, s.blocked),
    ];
    for (symbol, name, action, total) in rows {
        if action == Some(Action::Resend) && total == 0 {
            continue;
        }
        if by_origin {
            let _ = writeln!(
                out,
                "| {symbol} | {name} | {} | {} |",
                count(action, Origin::Edit),
                count(action, Origin::Drift)
            );
        } else {
            let _ = writeln!(out, "| {symbol} | {name} | {total} |");
        }
    }
}

/// The blocks of one origin's changes (all of them, without a baseline): removals, demotions,
/// revocations and blocked changes in sight, each list cut at [`MUST_SEE_MAX`]; invitations,
/// re-sends and promotions in a collapsible section whose summary counts them.
fn origin_group(
    changes: &[&Change],
    blocked: &[&Blocked],
    level: &str,
    prefix: &str,
    blocks: &mut Vec<Block>,
) {
    let items = |g: Group| -> Vec<String> {
        changes
            .iter()
            .filter(|c| Group::of(c) == g && !c.is_replaced_revoke())
            .map(|c| item(c, None))
            .collect()
    };
    let list = |heading: &str, items: Vec<String>, cap: usize| Block::List {
        heading: Some(format!("{level} {heading} ({})", items.len())),
        items,
        cap,
    };
    for g in Group::IN_SIGHT {
        let items = items(g);
        if !items.is_empty() {
            blocks.push(list(g.heading(), items, MUST_SEE_MAX));
        }
    }
    if !blocked.is_empty() {
        let items = blocked
            .iter()
            .map(|b| item(&b.change, Some(b.why)))
            .collect();
        blocks.push(list("Blocked, not sent", items, MUST_SEE_MAX));
    }
    let collapsed: Vec<(Group, Vec<String>)> = Group::COLLAPSED
        .into_iter()
        .map(|g| (g, items(g)))
        .filter(|(_, items)| !items.is_empty())
        .collect();
    if collapsed.is_empty() {
        return;
    }
    let summary: Vec<String> = collapsed
        .iter()
        .map(|(g, items)| g.counted(items.len()))
        .collect();
    blocks.push(Block::Raw(format!(
        "\n<details><summary>{prefix}{}</summary>\n",
        summary.join(", ")
    )));
    for (g, items) in collapsed {
        blocks.push(list(g.heading(), items, usize::MAX));
    }
    blocks.push(Block::Raw("\n</details>\n".into()));
}

/// With a baseline: what the edit asks for that the org already holds, one line each.
fn already_in_org(plan: &Plan, level: &str, blocks: &mut Vec<Block>) {
    let Some(already) = plan.origins.as_ref().map(|o| &o.already_in_org) else {
        return;
    };
    if already.is_empty() {
        return;
    }
    blocks.push(Block::List {
        heading: Some(format!(
            "{level} Already in the org, nothing to send ({})",
            already.len()
        )),
        items: already
            .iter()
            .map(|a| format!("- {} ({})", esc(a.email.as_str()), a.role))
            .collect(),
        cap: MUST_SEE_MAX,
    });
}

/// The pending invitations the plan keeps, with how long each has waited (docs/contract.md §6),
/// collapsed.
fn pending(plan: &Plan, blocks: &mut Vec<Block>) {
    if plan.pending_invitations.is_empty() {
        return;
    }
    let n = plan.pending_invitations.len();
    blocks.push(Block::Raw(format!(
        "\n<details><summary>Pending invitations, kept ({n})</summary>\n"
    )));
    blocks.push(Block::List {
        heading: None,
        items: plan
            .pending_invitations
            .iter()
            .map(|p| format!("- {}", esc(&pending_line(p))))
            .collect(),
        cap: usize::MAX,
    });
    blocks.push(Block::Raw("\n</details>\n".into()));
}

/// Writes the blocks in order. Each list gets a fair share of the room the lists after it and
/// the text still to come leave, so a long list of invitations can never push the removals out
/// of sight; a list cut short ends with "… and N more".
fn write_blocks(out: &mut String, blocks: Vec<Block>) {
    let budget = MAX_COMMENT_CHARS - RESERVE;
    let mut raw_left: usize = blocks
        .iter()
        .map(|b| match b {
            Block::Raw(r) => r.len(),
            Block::List { .. } => 0,
        })
        .sum();
    let mut lists_left = blocks
        .iter()
        .filter(|b| matches!(b, Block::List { .. }))
        .count();
    for block in blocks {
        match block {
            Block::Raw(text) => {
                raw_left -= text.len();
                out.push_str(&text);
            }
            Block::List {
                heading,
                items,
                cap,
            } => {
                let share = budget.saturating_sub(out.len() + raw_left) / lists_left;
                lists_left -= 1;
                let start = out.len();
                match heading {
                    Some(h) => {
                        let _ = writeln!(out, "\n{h}\n");
                    }
                    None => out.push('\n'),
                }
                let mut shown = 0;
                for it in &items {
                    // Keep room for the "… and N more" line.
                    if shown == cap || out.len() - start + it.len() + 1 + 80 > share {
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

fn item(c: &Change, blocked: Option<BlockReason>) -> String {
    let mut line = format!("- {}", esc(&describe(c)));
    if let Some(b) = blocked {
        // Teamsync's own words, Markdown as written (`protected` is code), never data from
        // the file or the API: not escaped.
        let _ = write!(line, ": {b}");
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
#[path = "markdown_tests.rs"]
mod tests;
