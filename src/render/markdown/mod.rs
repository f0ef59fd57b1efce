//! The plan as a pull-request comment (docs/contract.md §6, §8): what people decide on, so
//! everything a reviewer must see is in sight, and nothing from the file or the API can
//! mention anyone, link, or become markup.

use super::waited;
use super::warnings::Piece;
use super::{adopt_pointer, origin_counts, origin_heading, removal_limit, shown, source_parts};
use crate::origin::Origin;
use crate::plan::NoLonger;
use crate::plan::{Blocked, Change, Pending, Plan, Warning};
use crate::role::Role;
use crate::words::{one_or_many, plural};
use items::{blocked_item, item, no_longer_item, rule_item};

mod items;
use std::fmt::Write;

/// The first line of every comment, so a CI job can find and update its previous one.
pub(crate) const MARKER: &str = "<!-- teamsync:plan -->";
/// GitHub refuses comments over 65,536 characters; stay well under.
pub(crate) const MAX_COMMENT_CHARS: usize = 65_000;
/// Room kept for the closing lines after the lists are cut.
const RESERVE: usize = 600;
/// Most items of a group shown while the comment has room for them all; when it has not,
/// groups give way down to [`MIN_SHOWN`] (docs/contract.md §6).
const MUST_SEE_MAX: usize = 20;
/// Fewest items of a group shown, whatever the room.
const MIN_SHOWN: usize = 5;
/// Longest reason shown, in characters; longer ones end with `…`.
const MAX_REASON_CHARS: usize = 200;
/// Longest warning shown, in characters (before escaping); longer ones are cut.
const MAX_WARNING_CHARS: usize = 500;
/// Longest file name, path or label shown, in characters.
const MAX_NAME_CHARS: usize = 200;
/// Most members a rule change names on its line.
const RULE_MEMBERS: usize = 20;

/// Escapes teamsync's own words for Markdown outside code spans. What must not reach a
/// terminal as it is ([`crate::escape::is_unsafe`]) is written as an escape, `\u{202e}`.
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

/// Data from the file, the API or the command line as a code span, the only way it reaches
/// the comment: inside one, nothing mentions anyone (`@team`), links (an email, a URL), or is
/// markup. A fence one backtick longer than the longest run in the text holds backticks; line
/// breaks become spaces; what [`crate::escape::is_unsafe`] flags is written as `\u{…}`.
pub(crate) fn code(s: &str) -> String {
    let mut body = String::with_capacity(s.len() + 2);
    for ch in s.chars() {
        match ch {
            '\n' | '\r' => body.push(' '),
            c if crate::escape::is_unsafe(c) => {
                let _ = write!(body, "\\u{{{:x}}}", c as u32);
            }
            c => body.push(c),
        }
    }
    if body.is_empty() {
        return "(empty)".into();
    }
    let mut longest = 0;
    let mut run = 0;
    for ch in body.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // A span that starts or ends with a backtick or a space is padded on both sides: the one
    // space CommonMark strips from each side is the padding.
    let pad = if body.starts_with(['`', ' ']) || body.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// Teamsync's own words: escaped, except what they write in backticks (a field such as
/// `invitations.resend_after_days`), which stays code.
fn words(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&code(part));
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

/// A warning: its words escaped, its data in code spans (docs/contract.md §6).
fn warning(w: &Warning) -> String {
    w.pieces()
        .iter()
        .map(|p| match p {
            Piece::Words(s) => words(&cut(s, MAX_WARNING_CHARS)),
            Piece::Data(s) | Piece::Code(s) => code(&cut(s, MAX_NAME_CHARS)),
        })
        .collect()
}

/// A role as the comment shows it: a code span (from the API, it may be anything).
fn role(r: &str) -> String {
    code(r)
}

/// The plan as a pull-request comment: marker, verdict, sources, tripped guards and the
/// own-account warning first, the counts, then each origin's groups — what a reviewer must
/// see in sight, the rest collapsed — then the other warnings, one line per group, and the
/// pending invitations kept (docs/contract.md §6, §8). Always under [`MAX_COMMENT_CHARS`].
pub(crate) fn markdown(plan: &Plan, file: &str) -> String {
    fit(render(plan, file), MAX_COMMENT_CHARS)
}

/// How the comment groups changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Removals,
    Demotions,
    AdminGrants,
    Revocations,
    Invitations,
    Resends,
}

impl Group {
    const IN_SIGHT: [Group; 4] = [
        Group::Removals,
        Group::Demotions,
        Group::AdminGrants,
        Group::Revocations,
    ];
    const COLLAPSED: [Group; 2] = [Group::Invitations, Group::Resends];

    /// A replaced invitation is one change, grouped by its new invitation: an admin grant
    /// when it invites as `org:admin`, a demotion when it replaces an `org:admin` invitation
    /// with another role.
    fn of(c: &Change) -> Group {
        match c {
            Change::Remove(_) => Group::Removals,
            Change::UpdateRole(u) if u.to == Role::Admin => Group::AdminGrants,
            Change::UpdateRole(_) => Group::Demotions,
            Change::Revoke(_) => Group::Revocations,
            Change::Invite(i) if i.role == Role::Admin => Group::AdminGrants,
            Change::Invite(i) if i.replaces.as_ref().is_some_and(|r| r.is(Role::Admin)) => {
                Group::Demotions
            }
            Change::Invite(_) => Group::Invitations,
            Change::Resend(r) if r.role == Role::Admin => Group::AdminGrants,
            Change::Resend(_) => Group::Resends,
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Group::Removals => "Removals",
            Group::Demotions => "Demotions",
            Group::AdminGrants => "Admin grants",
            Group::Revocations => "Revocations",
            Group::Invitations => "Invitations",
            Group::Resends => "Invitations re-sent (revoke, then invite again)",
        }
    }

    /// `2 invitations`, `1 re-sent`.
    fn counted(self, n: usize) -> String {
        let (one, many) = match self {
            Group::Invitations => ("invitation", "invitations"),
            Group::Resends => ("re-sent", "re-sent"),
            _ => ("change", "changes"),
        };
        format!("{n} {}", one_or_many(n, one, many))
    }

    /// Which lists give way first when 20 items per group do not fit.
    fn yields(self) -> Yield {
        match self {
            Group::Removals | Group::Demotions | Group::AdminGrants => Yield::Last,
            Group::Revocations => Yield::Revocations,
            Group::Invitations | Group::Resends => Yield::Collapsed,
        }
    }
}

/// The order in which lists give way to fit the comment (docs/contract.md §6): collapsed ones
/// first, then revocations, then the rest in sight, then removals, demotions and admin grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Yield {
    Collapsed,
    Revocations,
    Rest,
    Last,
}

/// A piece of the comment: text written as it is, or a list under its heading (if it has
/// one) that shows as many of its items as the room allows, never fewer than [`MIN_SHOWN`].
enum Block {
    Raw(String),
    List {
        heading: Option<String>,
        items: Vec<String>,
        yields: Yield,
    },
}

fn list(heading: Option<String>, items: Vec<String>, yields: Yield) -> Block {
    Block::List {
        heading,
        items,
        yields,
    }
}

fn render(plan: &Plan, file: &str) -> String {
    let mut blocks = Vec::new();
    let mut head = format!("{MARKER}\n");
    let file_md = code(&cut(file, MAX_NAME_CHARS));
    let s = &plan.summary;
    let stopped = plan.compared.as_ref().map_or(0, |o| {
        o.no_longer.len() + o.rules_changed.len() + o.expiries.len()
    });
    if plan.is_empty() {
        let _ = write!(head, "### teamsync: no changes");
        if stopped > 0 {
            let _ = write!(
                head,
                ", but this change stops what the baseline would do ({stopped} below)"
            );
        }
        let _ = writeln!(
            head,
            "\n\nThe org matches {file_md} ({} unchanged, {} ignored).",
            s.unchanged, s.ignored
        );
    } else {
        let verdict = if plan.refusing_guards().count() > 0 {
            "apply would be refused by a safety guard"
        } else {
            "changes pending"
        };
        let revocations = plan.revocations();
        let _ = write!(
            head,
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
            let _ = write!(head, ", {} re-sent", s.resend);
        }
        if let Some(by_origin) = origin_counts(plan) {
            let _ = write!(head, "; {by_origin}");
        }
        let _ = writeln!(head, ")");
    }
    sources(&mut head, plan);
    // Tripped guards and the own-account warning first, in sight (docs/contract.md §8).
    let (first, rest): (Vec<&Warning>, Vec<&Warning>) = plan
        .warnings
        .iter()
        .partition(|w| matches!(w, Warning::Guard(_) | Warning::OnlyAdminIsSelf { .. }));
    for w in &first {
        let _ = writeln!(head, "\n> [!CAUTION]\n> **{}**", warning(w));
    }
    if !plan.is_empty() {
        head.push('\n');
        table(&mut head, plan);
        let _ = writeln!(head, "\n{} unchanged, {} ignored.", s.unchanged, s.ignored);
        if let Some(limit) = removal_limit(plan) {
            // Numbers and words of teamsync's own: nothing from the file or the API.
            let limit = limit
                .strip_prefix("removal")
                .map_or(limit.clone(), |rest| format!("Removal{rest}"));
            let _ = writeln!(head, "\n{}.", esc(&limit));
        }
    }
    blocks.push(Block::Raw(head));

    match &plan.compared {
        None => {
            if let Some(p) = adopt_pointer(plan, &file_md) {
                blocks.push(Block::Raw(format!("\n{}\n", words_around(&p, &file_md))));
            }
            let changes: Vec<&Change> = plan.changes.iter().map(|c| &c.change).collect();
            let blocked: Vec<&Blocked> = plan.blocked.iter().collect();
            origin_group(plan, None, &changes, &blocked, "####", "", &mut blocks);
        }
        Some(compared) => {
            for origin in Origin::ALL {
                let (changes, blocked) = plan.of_origin(origin);
                let n = shown(&changes, &blocked);
                let stops = origin == Origin::Edit
                    && (!compared.no_longer.is_empty()
                        || !compared.rules_changed.is_empty()
                        || !compared.expiries.is_empty()
                        || !compared.already_in_org.is_empty());
                if n == 0 && !stops && (origin != Origin::Edit || plan.is_empty()) {
                    continue;
                }
                blocks.push(Block::Raw(format!(
                    "\n#### {} ({n} change{})\n",
                    origin_heading(plan, origin),
                    plural(n)
                )));
                if origin == Origin::Edit && n == 0 {
                    blocks.push(Block::Raw("\nIt changes nothing in the org.\n".into()));
                }
                if origin == Origin::Drift {
                    if let Some(p) = adopt_pointer(plan, &file_md) {
                        blocks.push(Block::Raw(format!("\n{}\n", words_around(&p, &file_md))));
                    }
                }
                let prefix = match origin {
                    Origin::Edit => "This change: ",
                    Origin::Drift => "Drift: ",
                    Origin::Scheduled => "Scheduled: ",
                };
                origin_group(
                    plan,
                    Some(origin),
                    &changes,
                    &blocked,
                    "#####",
                    prefix,
                    &mut blocks,
                );
            }
        }
    }
    other_warnings(&rest, &mut blocks);
    pending(&plan.pending_invitations, &mut blocks);
    write_blocks(blocks)
}

/// The adopt pointer's words with the file (already a code span) kept as it is.
fn words_around(pointer: &str, file_md: &str) -> String {
    pointer
        .split(file_md)
        .map(words)
        .collect::<Vec<_>>()
        .join(file_md)
}

/// What the plan compared: the baseline (its label, or its path) and the org's read, each
/// named (docs/contract.md §8, §9).
fn sources(out: &mut String, plan: &Plan) {
    let mut line = Vec::new();
    if let Some(b) = &plan.baseline {
        line.push(format!(
            "Compared with the baseline {}.",
            code(&cut(b.name(), MAX_NAME_CHARS))
        ));
    }
    if let Some(source) = &plan.source {
        let (read_at, age, from, name) = source_parts(source);
        line.push(format!(
            "Planned against the org as read at {} ({}) {from} {}.",
            esc(read_at),
            esc(&age),
            code(&cut(name, MAX_NAME_CHARS))
        ));
    }
    if !line.is_empty() {
        let _ = writeln!(out, "\n{}", line.join(" "));
    }
}

/// The summary table: counts by action, and with a baseline by origin too.
fn table(out: &mut String, plan: &Plan) {
    use crate::plan::Action;
    let s = &plan.summary;
    let by_origin = plan.compared.is_some();
    if by_origin {
        let _ = writeln!(
            out,
            "| | Action | This change | Drift | Scheduled |\n|---|---|---:|---:|---:|"
        );
    } else {
        let _ = writeln!(out, "| | Action | Count |\n|---|---|---:|");
    }
    let count = |action: Option<Action>, origin: Origin| {
        let changes = plan
            .changes
            .iter()
            .filter(|c| Some(c.change.action()) == action && c.origin == Some(origin))
            .filter(|c| !c.change.is_replaced_revoke())
            .count();
        let blocked = plan
            .blocked
            .iter()
            .filter(|b| action.is_none() && b.origin == Some(origin))
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
                "| {symbol} | {name} | {} | {} | {} |",
                count(action, Origin::Edit),
                count(action, Origin::Drift),
                count(action, Origin::Scheduled)
            );
        } else {
            let _ = writeln!(out, "| {symbol} | {name} | {total} |");
        }
    }
}

/// The blocks of one origin's changes (all of them, without a baseline). In sight: removals,
/// demotions, admin grants, revocations, blocked changes, and for the edit what it stops that
/// keeps access and the rules it changes. Collapsed: invitations, re-sends, what the edit
/// stops otherwise, and what the org already holds.
fn origin_group(
    plan: &Plan,
    origin: Option<Origin>,
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
            .map(|c| item(c))
            .collect()
    };
    let headed = |heading: &str, n: usize| Some(format!("{level} {heading} ({n})"));
    for g in Group::IN_SIGHT {
        let items = items(g);
        if !items.is_empty() {
            blocks.push(list(headed(g.heading(), items.len()), items, g.yields()));
        }
    }
    if !blocked.is_empty() {
        let items: Vec<String> = crate::plan::blocked_entries(blocked.iter().copied())
            .into_iter()
            .map(|(change, why)| blocked_item(change, &why))
            .collect();
        blocks.push(list(
            headed("Blocked, not sent", items.len()),
            items,
            Yield::Rest,
        ));
    }
    let edit = origin == Some(Origin::Edit);
    let compared = plan.compared.as_ref().filter(|_| edit);
    let (keeps, others): (Vec<&NoLonger>, Vec<&NoLonger>) = compared
        .map(|o| o.no_longer.iter().partition(|n| n.keeps_access()))
        .unwrap_or_default();
    if !keeps.is_empty() {
        let items: Vec<String> = keeps.iter().map(|n| no_longer_item(n)).collect();
        blocks.push(list(
            headed("No longer done, so access is kept", items.len()),
            items,
            Yield::Rest,
        ));
    }
    if let Some(o) = compared.filter(|o| !o.rules_changed.is_empty()) {
        let items: Vec<String> = o.rules_changed.iter().map(rule_item).collect();
        blocks.push(list(
            headed("Rules changed", items.len()),
            items,
            Yield::Rest,
        ));
    }
    if let Some(o) = compared.filter(|o| !o.expiries.is_empty()) {
        let items: Vec<String> = o.expiries.iter().map(items::expiry_item).collect();
        blocks.push(list(
            headed("Expiries this change sets", items.len()),
            items,
            Yield::Rest,
        ));
    }
    let mut collapsed: Vec<(String, Vec<String>)> = Vec::new();
    let mut summary: Vec<String> = Vec::new();
    for g in Group::COLLAPSED {
        let items = items(g);
        if !items.is_empty() {
            summary.push(g.counted(items.len()));
            collapsed.push((g.heading().to_string(), items));
        }
    }
    if !others.is_empty() {
        summary.push(format!("{} no longer done", others.len()));
        collapsed.push((
            "No longer done".into(),
            others.iter().map(|n| no_longer_item(n)).collect(),
        ));
    }
    if let Some(o) = compared.filter(|o| !o.already_in_org.is_empty()) {
        summary.push(format!("{} already in the org", o.already_in_org.len()));
        collapsed.push((
            "Already in the org, nothing to send".into(),
            o.already_in_org
                .iter()
                .map(|a| format!("- {} ({})", code(a.email.as_str()), role(a.role.as_str())))
                .collect(),
        ));
    }
    if collapsed.is_empty() {
        return;
    }
    blocks.push(Block::Raw(format!(
        "\n<details><summary>{}{}</summary>\n",
        esc(prefix),
        summary.join(", ")
    )));
    for (heading, items) in collapsed {
        blocks.push(list(headed(&heading, items.len()), items, Yield::Collapsed));
    }
    blocks.push(Block::Raw("\n</details>\n".into()));
}

/// Warnings other than the tripped guards and the own-account warning, after what is in
/// sight: one line per group (stale invitations are one group), then every one of them
/// collapsed when a group holds more than one (docs/contract.md §6).
fn other_warnings(all: &[&Warning], blocks: &mut Vec<Block>) {
    if all.is_empty() {
        return;
    }
    let stale: Vec<&Warning> = all
        .iter()
        .copied()
        .filter(|w| matches!(w, Warning::StaleInvitation { .. }))
        .collect();
    let mut lines: Vec<String> = Vec::new();
    let mut stale_done = false;
    for w in all {
        match w {
            Warning::StaleInvitation { .. } if stale.len() > 1 => {
                if !stale_done {
                    stale_done = true;
                    lines.push(stale_line(&stale));
                }
            }
            w => lines.push(format!("- {}", warning(w))),
        }
    }
    blocks.push(list(
        Some(format!("#### Warnings ({})", all.len())),
        lines,
        Yield::Collapsed,
    ));
    if stale.len() > 1 {
        blocks.push(Block::Raw(format!(
            "\n<details><summary>Stale invitations ({})</summary>\n",
            stale.len()
        )));
        blocks.push(list(
            None,
            stale.iter().map(|w| format!("- {}", warning(w))).collect(),
            Yield::Collapsed,
        ));
        blocks.push(Block::Raw("\n</details>\n".into()));
    }
}

/// The stale invitations as one line: how many, the oldest, what to set.
fn stale_line(stale: &[&Warning]) -> String {
    let oldest = stale
        .iter()
        .filter_map(|w| match w {
            Warning::StaleInvitation { invited, .. } => Some(invited),
            _ => None,
        })
        .max_by_key(|i| i.age_days);
    format!(
        "- {} pending invitations are older than {} days{}; set {} to re-send stale invitations",
        stale.len(),
        crate::plan::STALE_INVITATION_DAYS,
        oldest.map_or(String::new(), |i| format!(
            ", the oldest {}",
            esc(&i.to_string())
        )),
        code("invitations.resend_after_days")
    )
}

/// The pending invitations the plan keeps, with how long each has waited (docs/contract.md §6),
/// collapsed.
fn pending(all: &[Pending], blocks: &mut Vec<Block>) {
    if all.is_empty() {
        return;
    }
    blocks.push(Block::Raw(format!(
        "\n<details><summary>Pending invitations, kept ({})</summary>\n",
        all.len()
    )));
    blocks.push(list(
        None,
        all.iter()
            .map(|p| {
                format!(
                    "- {} ({}): {}",
                    code(p.email.as_str()),
                    role(p.role.as_str()),
                    esc(&waited(p.invited.as_ref()))
                )
            })
            .collect(),
        Yield::Collapsed,
    ));
    blocks.push(Block::Raw("\n</details>\n".into()));
}

/// How many items each list shows: all of them when the comment has room; else lists give way
/// in [`Yield`] order, first down to [`MUST_SEE_MAX`], then down to [`MIN_SHOWN`], each
/// shortened from its end (docs/contract.md §6).
fn shown_counts(blocks: &[Block], budget: usize) -> Vec<usize> {
    let more_line = 80;
    let mut size: usize = 0;
    let mut shown = Vec::new();
    for b in blocks {
        match b {
            Block::Raw(r) => size += r.len(),
            Block::List { heading, items, .. } => {
                size += heading.as_ref().map_or(1, |h| h.len() + 3);
                size += items.iter().map(|i| i.len() + 1).sum::<usize>();
                shown.push(items.len());
            }
        }
    }
    let lists: Vec<(&Vec<String>, Yield)> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::List { items, yields, .. } => Some((items, *yields)),
            Block::Raw(_) => None,
        })
        .collect();
    for floor in [MUST_SEE_MAX, MIN_SHOWN] {
        for class in [
            Yield::Collapsed,
            Yield::Revocations,
            Yield::Rest,
            Yield::Last,
        ] {
            // Shorten the longest lists of this class first, one item at a time.
            while size > budget {
                let Some(i) = (0..lists.len())
                    .filter(|&i| lists[i].1 == class && shown[i] > floor)
                    .max_by_key(|&i| shown[i])
                else {
                    break;
                };
                let items = lists[i].0;
                if shown[i] == items.len() {
                    size += more_line;
                }
                shown[i] -= 1;
                size -= items[shown[i]].len() + 1;
            }
        }
    }
    shown
}

/// Writes the blocks, each list cut to its share (see [`shown_counts`]), every cut announced
/// with its count.
fn write_blocks(blocks: Vec<Block>) -> String {
    let counts = shown_counts(&blocks, MAX_COMMENT_CHARS - RESERVE);
    let mut out = String::new();
    let mut next = counts.into_iter();
    for block in blocks {
        match block {
            Block::Raw(text) => out.push_str(&text),
            Block::List { heading, items, .. } => {
                let n = next.next().unwrap_or(items.len());
                match heading {
                    Some(h) => {
                        let _ = writeln!(out, "\n{h}\n");
                    }
                    None => out.push('\n'),
                }
                for it in &items[..n] {
                    out.push_str(it);
                    out.push('\n');
                }
                if n < items.len() {
                    let _ = writeln!(
                        out,
                        "- … and {} more (run `teamsync plan` for the full list)",
                        items.len() - n
                    );
                }
            }
        }
    }
    out
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

#[cfg(test)]
mod tests;
