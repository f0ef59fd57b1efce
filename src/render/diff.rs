use crate::desired::Desired;
use crate::email::normalize;
use crate::model::LiveState;
use crate::plan::{Plan, simulate};
use similar::TextDiff;

/// A roster, one `email role` line per person (pending invitations marked), sorted; ignored
/// emails left out.
pub fn roster(live: &LiveState, desired: &Desired) -> Vec<String> {
    let mut lines: Vec<String> = live
        .members
        .iter()
        .filter(|m| !desired.is_ignored(&m.email))
        .map(|m| format!("{} {}", normalize(&m.email), m.role))
        .chain(
            live.pending_invitations()
                .filter(|i| !desired.is_ignored(&i.email))
                .map(|i| format!("{} {} (invited)", normalize(&i.email), i.role)),
        )
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

/// A unified diff of the live roster against the roster once the plan is applied (blocked
/// changes stay as they are).
pub fn diff(live: &LiveState, desired: &Desired, plan: &Plan, file: &str) -> String {
    let before = roster(live, desired).join("\n") + "\n";
    let after = roster(&simulate(live, &plan.changes), desired).join("\n") + "\n";
    if before == after {
        return String::new();
    }
    TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header("live", file)
        .to_string()
}
