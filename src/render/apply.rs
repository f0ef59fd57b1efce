//! The apply report's lines: one progress line per finished step, the closing summary, and the
//! Markdown outcome for the GitHub job summary.

use super::markdown::esc;
use super::{describe, symbol};
use crate::escape::escape;
use crate::executor::{Execution, Outcome, StepReport};
use crate::formats::report::{Ending, ReportDocument, StepOutcome, finding_text, halt_text};
use std::fmt::Write;

/// What a step does, e.g. `revoke the invitation of … (org:admin), then invite … as org:member`.
fn what(r: &StepReport) -> String {
    r.step
        .changes
        .iter()
        .map(describe)
        .collect::<Vec<_>>()
        .join(", then ")
}

/// One step and how it ended, e.g. `+ invite erin@example.com as org:member: done`.
pub(crate) fn step_line(r: &StepReport) -> String {
    let what = what(r);
    let sym = r.step.changes.last().map_or('+', |c| symbol(c.action()));
    match &r.outcome {
        Outcome::Done if r.confirmed_by_reread => {
            format!("{sym} {what}: done (confirmed by reading the org again)")
        }
        Outcome::Done => format!("{sym} {what}: done"),
        Outcome::Blocked(why) => format!("! {what}: blocked: {}", escape(why)),
        Outcome::NotAttempted(why) => format!("  {what}: {why}"),
        Outcome::Failed(f) => {
            let mut ids = Vec::new();
            if let Some(c) = &f.code {
                ids.push(format!("code {}", escape(c)));
            }
            if let Some(r) = &f.request_id {
                ids.push(format!("requestId {}", escape(r)));
            }
            let ids = if ids.is_empty() {
                String::new()
            } else {
                format!(" ({})", ids.join(", "))
            };
            format!("{sym} {what}: FAILED: {}{ids}", escape(&f.message))
        }
    }
}

/// The closing summary: counts, why apply stopped early, each blocked, failed and not attempted
/// step, and what the verification read found.
pub(crate) fn finished(report: &Execution) -> String {
    let mut out = format!(
        "\nApply finished: {} done, {} blocked, {} failed{}.\n",
        report.done(),
        report.blocked(),
        report.failed(),
        match report.not_attempted() {
            0 => String::new(),
            n => format!(", {n} not attempted"),
        }
    );
    for b in &report.blocked_in_plan {
        let _ = writeln!(
            out,
            "  warning: blocked: {}: {}",
            describe(&b.change),
            b.why
        );
    }
    for s in &report.steps {
        match &s.outcome {
            Outcome::Blocked(why) => {
                let _ = writeln!(out, "  warning: blocked: {}: {}", what(s), escape(why));
            }
            Outcome::Failed(_) => {
                let _ = writeln!(out, "  failed: {}", step_line(s));
            }
            _ => {}
        }
    }
    let left: Vec<&StepReport> = report
        .steps
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::NotAttempted(_)))
        .collect();
    if let Some(h) = &report.halt {
        let _ = writeln!(out, "  stopped: {}", escape(&halt_text(h)));
    }
    if !left.is_empty() {
        let _ = writeln!(out, "  not attempted:");
        for s in left {
            let _ = writeln!(out, "    {}", what(s));
        }
    }
    for f in report.findings.iter().flatten() {
        let _ = writeln!(
            out,
            "  warning: verification: {}",
            escape(&finding_text(report, f))
        );
    }
    out
}

/// Most steps listed by name in the job summary; the rest are counted.
const MAX_SUMMARY_STEPS: usize = 200;

/// The apply's outcome in Markdown, for the GitHub job summary: counts, why it stopped, the
/// failed steps with their `code` and `requestId`, the steps not attempted, and what the
/// verification read found.
pub(crate) fn apply_summary(doc: &ReportDocument) -> String {
    let verdict = match doc.ending {
        Ending::Succeeded => "applied",
        Ending::NoChanges => "nothing to apply",
        Ending::Failed => "failed",
        Ending::Refused => "refused by a safety guard",
        Ending::Interrupted => "interrupted",
        Ending::NotConfirmed => "not confirmed, nothing sent",
        Ending::Stale => "stale saved plan, nothing sent",
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
    section("Not attempted", StepOutcome::NotAttempted, &mut out);
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
