use crate::escape::escape;
use crate::live::Managed;
use crate::plan::{Plan, simulate};
use similar::TextDiff;

/// The managed roster, one `email role` line per person (pending invitations marked), sorted.
fn roster(org: &Managed) -> String {
    let mut lines: Vec<String> = org
        .members
        .iter()
        .map(|m| format!("{} {}", escape(m.email.as_str()), escape(m.role.as_str())))
        .chain(org.invitations.iter().map(|i| {
            format!(
                "{} {} (invited)",
                escape(i.email.as_str()),
                escape(i.role.as_str())
            )
        }))
        .collect();
    lines.sort();
    lines.dedup();
    lines.join("\n") + "\n"
}

/// A unified diff of the managed roster against the roster once the plan is applied (blocked
/// changes stay as they are).
pub(crate) fn diff(org: &Managed, plan: &Plan, file: &str) -> String {
    let before = roster(org);
    let after = roster(&simulate(org, plan.changes.iter().map(|c| &c.change)));
    if before == after {
        return String::new();
    }
    TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header("live", file)
        .to_string()
}
