use super::{
    adopt_pointer, age, describe, note, origin_counts, origin_heading, pending_line, source_line,
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
        s.revoke,
        plural(s.revoke),
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
                let changes: Vec<&Change> = plan
                    .changes_with_origin()
                    .filter(|(_, o)| *o == Some(origin))
                    .map(|(c, _)| c)
                    .collect();
                let blocked: Vec<&Blocked> = plan
                    .blocked_with_origin()
                    .filter(|(_, o)| *o == Some(origin))
                    .map(|(b, _)| b)
                    .collect();
                let n = changes.len() + blocked.len();
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
        ("-", "Revocations", Some(Action::Revoke), s.revoke),
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
            .filter(|c| Group::of(c) == g)
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
        // The removals in sight, the first 20; the invitations collapsed, as many as fit; each
        // cut with its own count.
        let rem = md
            .find("#### Removals (1500)")
            .expect("removals are never pushed out");
        let details = md.find("<details>").expect("a collapsed section");
        let inv = md.find("#### Invitations (1500)").expect("invitations");
        assert!(rem < details && details < inv, "{md}");
        let (rems, invs) = (&md[rem..details], &md[inv..]);
        for (part, verb) in [(rems, "- remove "), (invs, "- invite ")] {
            let shown = part.lines().filter(|l| l.starts_with(verb)).count();
            if verb == "- remove " {
                assert_eq!(shown, MUST_SEE_MAX);
            } else {
                assert!(shown > 100, "{shown}");
            }
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

    /// A pull request (docs/contract.md §8): the edit removes carol, demotes ann and promotes
    /// bob; in the org, 25 people were added by hand and a protected admin was demoted.
    #[test]
    fn with_a_baseline_the_edit_comes_first_and_what_must_not_be_missed_is_in_sight() {
        use crate::origin::classify;
        let mut base = Desired::new(vec![
            DesiredMember::new("root@example.com", Role::Admin),
            DesiredMember::new("ann@example.com", Role::Admin),
            DesiredMember::new("bob@example.com", Role::Member),
            DesiredMember::new("carol@example.com", Role::Member),
            DesiredMember::new("glass@example.com", Role::Member),
        ]);
        base.protected.push(Email::new("glass@example.com"));
        let mut file = base.clone();
        file.members
            .retain(|m| m.email.as_str() != "carol@example.com");
        file.members[1].role = Role::Member;
        file.members[2].role = Role::Admin;
        file.members
            .push(DesiredMember::new("dan@example.com", Role::Member));
        let mut members = vec![
            root(),
            LiveMember::new("u1", "ann@example.com", "org:admin"),
            LiveMember::new("u2", "bob@example.com", "org:member"),
            LiveMember::new("u3", "carol@example.com", "org:member"),
            LiveMember::new("u4", "glass@example.com", "org:admin"),
        ];
        for i in 0..25 {
            members.push(LiveMember::new(
                &format!("h{i}"),
                &format!("hand{i:02}@example.com"),
                "org:member",
            ));
        }
        let live = LiveState {
            members,
            invitations: vec![],
        };
        let mut p = plan(&file, &live, &opts());
        let b = plan(&base, &live, &opts());
        p.set_origins(classify(&p, &b, &file, &base, opts().today));
        let md = markdown(&p, "teamsync.yaml");
        let at = |needle: &str| {
            md.find(needle)
                .unwrap_or_else(|| panic!("no {needle:?} in:\n{md}"))
        };
        let order = [
            at("#### This change (4 changes)"),
            at("##### Removals (1)\n\n- remove carol@example.com"),
            at("##### Demotions (1)\n\n- change ann@example.com"),
            at("<details><summary>This change: 1 invitation, 1 promotion</summary>"),
            at("#### Drift in the org that applying also reverts (26 changes)"),
            at(
                "Drift: applying also reverts what was done in the org, outside this change, for 25 emails.",
            ),
            at("##### Removals (25)"),
            at("- … and 5 more (run `teamsync plan` for the full list)"),
            at("##### Blocked, not sent (1)"),
        ];
        assert!(order.is_sorted(), "{order:?}\n{md}");
        assert_eq!(
            md.lines()
                .filter(|l| l.starts_with("- remove hand"))
                .count(),
            MUST_SEE_MAX
        );
        assert!(!md.contains("\\`"), "no escaped backticks: {md}");
        insta::assert_snapshot!("markdown_baseline", md);
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
