//! The apply report's lines: one progress line per finished step, and the closing summary.

use super::{describe, symbol};
use crate::escape::escape;
use crate::executor::{Outcome, Report, StepReport};
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

/// The closing summary: counts, then each blocked and failed step.
pub(crate) fn finished(report: &Report) -> String {
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
    out
}
