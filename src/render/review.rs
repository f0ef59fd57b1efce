//! Views over one [`Review`] (docs/contract.md §6): Markdown for people (an issue a quarterly
//! job files: a summary on top, flagged entries first) and CSV for auditors' spreadsheets. The
//! JSON is [`crate::formats::review::ReviewDocument`]. Nothing here decides anything.

use crate::review::{Commit, Entry, Flag, InOrg, Review};
use crate::words::plural;
use std::fmt::Write as _;

/// The first line of the Markdown, so that a job can find its earlier issue or comment.
pub(crate) const MARKER: &str = "<!-- teamsync:review -->";
/// GitHub's limit for an issue body or comment is 65,536 characters; the review stays under
/// this, cutting rows (announced with their count) when it must.
const MAX_CHARS: usize = 65_000;

/// What the Markdown says besides the review.
pub(crate) struct Heading<'a> {
    pub(crate) file: &'a str,
    pub(crate) generated_at: &'a str,
    /// With `--live`: the snapshot and when it was read.
    pub(crate) live: Option<(&'a str, &'a str)>,
}

/// Data from the file or from git as a Markdown code span, safe in a table cell: it can never
/// mention anyone, link, or become markup (docs/contract.md §6, as it says of the plan).
/// Characters that must not reach a reader as they are show as escapes (`\u{202e}`).
fn code(s: &str) -> String {
    let shown = crate::escape::escape(s)
        .replace(['\n', '\r'], " ")
        .replace('|', "\\|");
    let longest = shown.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if shown.starts_with('`') || shown.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{shown}{pad}{fence}")
}

/// `2027-01-16, #12, `1111111` by `Bo <bo@example.com>``; `unknown` without history.
fn commit_md(c: Option<&Commit>) -> String {
    match c {
        None => "unknown".to_string(),
        Some(c) => {
            let pr = c.pr.map(|n| format!(" #{n},")).unwrap_or_default();
            format!(
                "{},{pr} {} by {}",
                c.date,
                code(&c.id[..c.id.len().min(12)]),
                code(&c.author)
            )
        }
    }
}

fn org_md(o: Option<&InOrg>) -> String {
    match o {
        None => String::new(),
        Some(InOrg::Member { role }) => format!("member as {}", code(role.as_str())),
        Some(InOrg::Invited { role, invited }) => format!(
            "pending invitation as {}, {}",
            code(role.as_str()),
            super::waited(invited.as_ref())
        ),
        Some(InOrg::Absent) => "absent".to_string(),
    }
}

fn row(e: &Entry, live: bool) -> String {
    let or_dash = |s: Option<String>| s.unwrap_or_else(|| "—".to_string());
    let flags: Vec<&str> = e.flags.iter().map(|f| f.name()).collect();
    let mut line = format!(
        "| {} | {} | {} | {} | {} | {} |",
        code(e.email.as_str()),
        code(e.role.as_str()),
        or_dash(e.reason.as_deref().map(code)),
        or_dash(e.expires.map(|d| d.to_string())),
        commit_md(e.added.as_ref()),
        commit_md(e.role_set.as_ref()),
    );
    if live {
        let _ = write!(line, " {} |", org_md(e.org.as_ref()));
    }
    let _ = write!(
        line,
        " {} |",
        if flags.is_empty() {
            String::new()
        } else {
            format!("**{}**", flags.join(", "))
        }
    );
    if let Some(part) = &e.part {
        let _ = write!(line, " {} |", code(part));
    }
    line
}

fn table_head(live: bool, parts: bool) -> String {
    let mut cols = vec!["email", "role", "reason", "expires", "added", "role set"];
    if live {
        cols.push("in the org");
    }
    cols.push("flags");
    if parts {
        cols.push("part");
    }
    format!("| {} |\n|{}\n", cols.join(" | "), "---|".repeat(cols.len()))
}

/// The review as Markdown: the marker, a heading naming the file and its sources, the counts
/// per role and per flag, the warnings, the flagged entries, then the others; under GitHub's
/// size limit, rows that do not fit counted in a last line.
pub(crate) fn markdown(review: &Review, heading: &Heading) -> String {
    let s = &review.summary;
    let mut out = String::new();
    let _ = writeln!(out, "{MARKER}");
    let _ = writeln!(out, "## Access review of {}\n", code(heading.file));
    let _ = write!(
        out,
        "Generated {} from {} and the git history of its lines (along first parents: the commit that brought each line to the branch, with its pull request).",
        heading.generated_at,
        code(heading.file)
    );
    if let Some((path, read_at)) = heading.live {
        let _ = write!(
            out,
            " The org's side from the snapshot {}, read at {read_at}.",
            code(path)
        );
    }
    let _ = writeln!(out, "\n");
    let _ = writeln!(
        out,
        "**{} entr{}**: {} `org:admin`, {} `org:member`; **{} flagged**.\n",
        s.entries,
        if s.entries == 1 { "y" } else { "ies" },
        s.admins,
        s.members,
        s.flagged
    );
    let _ = writeln!(out, "| flag | entries | means |\n|---|---|---|");
    for (flag, n) in &s.flags {
        if !review.live
            && matches!(
                flag,
                Flag::NotInOrg | Flag::RoleDiffers | Flag::PendingInvitation
            )
        {
            continue;
        }
        let _ = writeln!(
            out,
            "| `{}` | {n} | {} |",
            flag.name(),
            means(*flag, review)
        );
    }
    for w in &review.warnings {
        let _ = writeln!(
            out,
            "\n> [!WARNING]\n> {}",
            super::markdown::esc(&w.to_string())
        );
    }
    let parts = review.entries.iter().any(|e| e.part.is_some());
    let (flagged, others): (Vec<&Entry>, Vec<&Entry>) =
        review.entries.iter().partition(|e| !e.flags.is_empty());
    let mut left = review.entries.len();
    for (title, group) in [("Flagged entries", &flagged), ("Other entries", &others)] {
        let _ = writeln!(out, "\n### {title} ({})\n", group.len());
        if group.is_empty() {
            let _ = writeln!(out, "None.");
            continue;
        }
        out.push_str(&table_head(review.live, parts));
        for e in group.iter() {
            let line = row(e, review.live);
            // Room for this row, the cut note and the closing section.
            if out.chars().count() + line.chars().count() + 1_000 > MAX_CHARS {
                let _ = writeln!(
                    out,
                    "\n… and {left} more entr{} not shown here, to stay under GitHub's size limit: the CSV and the JSON (`teamsync review --format csv`) have every one.",
                    if left == 1 { "y" } else { "ies" }
                );
                out.push_str(HOW_TO_READ);
                return out;
            }
            out.push_str(&line);
            out.push('\n');
            left -= 1;
        }
    }
    out.push_str(HOW_TO_READ);
    out
}

const HOW_TO_READ: &str = "\n<details><summary>How to read this review</summary>\n\n\
Each entry is one line of the desired-state file. *Added* is the commit that brought its \
email's line to the branch, *role set* the commit of its role's line: the date, the pull \
request (where the commit names one) whose review approved it, the commit and its author. \
Flags are reported whatever the file's policy says. `teamsync review --format csv` gives \
the same entries for a spreadsheet; docs/governance.md explains each column.\n\n</details>\n";

fn means(flag: Flag, review: &Review) -> String {
    match flag {
        Flag::AdminWithoutReason => "`org:admin` without a reason".into(),
        Flag::ExternalWithoutExpires => "outside `policy.internal_domains`, no `expires`".into(),
        Flag::ExpiresSoon => "expires within 14 days".into(),
        Flag::NotRecertified => format!(
            "unchanged for more than {} day{}",
            review.recertify_days,
            plural(review.recertify_days)
        ),
        Flag::NotInOrg => "neither a member nor invited".into(),
        Flag::RoleDiffers => "the org gives another role".into(),
        Flag::PendingInvitation => "invited, not yet a member".into(),
    }
}

/// The CSV header.
const CSV_HEADER: &[&str] = &[
    "email",
    "role",
    "reason",
    "expires",
    "part",
    "added_date",
    "added_commit",
    "added_author",
    "added_pr",
    "role_set_date",
    "role_set_commit",
    "role_set_author",
    "role_set_pr",
    "last_changed_date",
    "flags",
    "org_status",
    "org_role",
    "invited_at",
    "invitation_age_days",
];

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. A field
/// that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return) starts with `'`, so that opening the file runs nothing.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The review as CSV: a header, then one row per entry, sorted by email; flags joined by `;`.
pub(crate) fn csv(review: &Review) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for e in &review.entries {
        let c = |c: &Option<Commit>| -> [String; 4] {
            match c {
                Some(c) => [
                    c.date.to_string(),
                    c.id.clone(),
                    c.author.clone(),
                    c.pr.map(|n| n.to_string()).unwrap_or_default(),
                ],
                None => Default::default(),
            }
        };
        let (status, role, at, age) = match &e.org {
            None => ("", String::new(), String::new(), String::new()),
            Some(InOrg::Member { role }) => (
                "member",
                role.as_str().to_string(),
                String::new(),
                String::new(),
            ),
            Some(InOrg::Invited { role, invited }) => (
                "invited",
                role.as_str().to_string(),
                invited
                    .as_ref()
                    .map(|i| i.at.as_str().to_string())
                    .unwrap_or_default(),
                invited
                    .as_ref()
                    .map(|i| i.age_days.to_string())
                    .unwrap_or_default(),
            ),
            Some(InOrg::Absent) => ("absent", String::new(), String::new(), String::new()),
        };
        let flags: Vec<&str> = e.flags.iter().map(|f| f.name()).collect();
        let mut row: Vec<String> = vec![
            e.email.to_string(),
            e.role.as_str().to_string(),
            e.reason.clone().unwrap_or_default(),
            e.expires.map(|d| d.to_string()).unwrap_or_default(),
            e.part.clone().unwrap_or_default(),
        ];
        row.extend(c(&e.added));
        row.extend(c(&e.role_set));
        row.push(
            e.changed
                .as_ref()
                .map(|c| c.date.to_string())
                .unwrap_or_default(),
        );
        row.push(flags.join(";"));
        row.extend([status.to_string(), role, at, age]);
        let fields: Vec<String> = row.iter().map(|s| field(s)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}
