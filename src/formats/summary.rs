//! The apply's outcome in Markdown for the GitHub job summary (docs/contract.md §6): a view of
//! the apply report ([`super::report::ReportDocument`]), so that the summary and the report
//! state the same facts.

use super::report::{Ending, ReportDocument, StepOutcome};
use crate::render::esc;
use std::fmt::Write;

/// Most steps listed by name in the job summary; the rest are counted.
const MAX_SUMMARY_STEPS: usize = 200;

/// A value's name as the JSON documents write it (`drift`, `keep`, `remove`).
fn wire_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The apply's outcome in Markdown, for the GitHub job summary: counts, why it stopped, with a
/// baseline the drift mode and the steps by origin (docs/contract.md §5), the failed steps with
/// their `code` and `requestId`, the steps not attempted, the drift left in place, and what the
/// verification read found.
pub(crate) fn apply_summary(doc: &ReportDocument) -> String {
    let verdict = match doc.ending {
        Ending::Succeeded => "applied",
        Ending::NoChanges => "nothing to apply",
        Ending::Failed => "failed",
        Ending::Refused => "refused by a safety guard",
        Ending::Interrupted => "interrupted",
        Ending::NotConfirmed => "not confirmed, nothing sent",
        Ending::PlanOutdated => "stale saved plan, nothing sent",
    };
    let c = &doc.counts;
    let mut out = format!(
        "## teamsync apply: {verdict}\n\n`{}`, exit code {}\n\n| done | blocked | failed | not attempted |\n|---:|---:|---:|---:|\n| {} | {} | {} | {} |\n",
        esc(&doc.desired_file).replace('`', "'"),
        doc.exit_code,
        c.done,
        c.blocked,
        c.failed,
        c.not_attempted
    );
    if let Some(m) = &doc.message {
        let _ = write!(out, "\n{}\n", esc(m));
    }
    if let Some(mode) = doc.drift {
        // Each origin's steps, in the order they first appear.
        let mut by: Vec<(String, usize)> = Vec::new();
        for s in &doc.steps {
            let name = wire_name(&s.origin);
            match by.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => *count += 1,
                None => by.push((name, 1)),
            }
        }
        let counts: Vec<String> = by.iter().map(|(n, c)| format!("{c} {n}")).collect();
        let _ = write!(
            out,
            "\nDrift: {}. Steps by origin: {}.\n",
            wire_name(&Some(mode)),
            if counts.is_empty() {
                "none".to_string()
            } else {
                counts.join(", ")
            }
        );
    }
    let mut listed = 0usize;
    let mut section = |title: &str, pick: StepOutcome, out: &mut String| {
        let steps: Vec<_> = doc.steps.iter().filter(|s| s.outcome == pick).collect();
        if steps.is_empty() {
            return;
        }
        let _ = write!(out, "\n### {title}\n\n");
        for s in &steps {
            if listed == MAX_SUMMARY_STEPS {
                let _ = writeln!(out, "- … and more (see the report)");
                break;
            }
            listed += 1;
            let mut line = format!(
                "- {} {}",
                esc(serde_json::to_value(s.action)
                    .ok()
                    .as_ref()
                    .and_then(|v| v.as_str())
                    .unwrap_or("change")),
                esc(&s.email)
            );
            if s.origin.is_some() {
                let _ = write!(line, " ({})", wire_name(&s.origin));
            }
            if let Some(m) = &s.message {
                let _ = write!(line, ": {}", esc(m));
            }
            let ids: Vec<String> = [("code", &s.code), ("requestId", &s.request_id)]
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {}", esc(v))))
                .collect();
            if !ids.is_empty() {
                let _ = write!(line, " ({})", ids.join(", "));
            }
            let _ = writeln!(out, "{line}");
        }
    };
    section("Failed", StepOutcome::Failed, &mut out);
    let unsure: Vec<_> = doc.steps.iter().filter(|s| s.may_have_been_sent).collect();
    if !unsure.is_empty() {
        let _ = write!(
            out,
            "\n### May have been sent\n\nThe outcome is unknown; the next apply reads the org first, and its verification read reports duplicates.\n\n"
        );
        for s in unsure.iter().take(MAX_SUMMARY_STEPS) {
            let _ = writeln!(out, "- the invitation of {}", esc(&s.email));
        }
    }
    section("Not attempted", StepOutcome::NotAttempted, &mut out);
    if let Some(left) = doc.drift_left_in_place.as_ref().filter(|l| !l.is_empty()) {
        let _ = write!(
            out,
            "\n### Drift left in place (--drift keep)\n\nMade in the org outside the file, not reverted; `teamsync adopt` writes it into the file.\n\n"
        );
        for c in left.iter().take(MAX_SUMMARY_STEPS) {
            let _ = writeln!(out, "- {} {}", wire_name(&Some(c.action)), esc(&c.email));
        }
        if left.len() > MAX_SUMMARY_STEPS {
            let _ = writeln!(
                out,
                "- … and {} more (see the report)",
                left.len() - MAX_SUMMARY_STEPS
            );
        }
    }
    if let Some(v) = &doc.verification {
        if !v.findings.is_empty() {
            let _ = write!(out, "\n### Verification\n\n");
            for f in &v.findings {
                let _ = writeln!(out, "- {}", esc(&f.message));
            }
        }
    }
    out
}
