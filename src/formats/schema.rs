//! JSON Schemas: the desired-state file (`teamsync schema`, `schema/teamsync.schema.json`), the
//! JSON plan (`schema/plan.schema.json`), the apply report (`schema/report.schema.json`) and the
//! org snapshot (`schema/snapshot.schema.json`).
//! The file's schema is derived from the types below, which describe the file for schemars
//! only (`#[serde]` attributes included: schemars reads them); the loader is
//! [`crate::desired`], and a test holds the two to the same fields.

use super::plan::PlanDocument;
use schemars::JsonSchema;

/// A teamsync desired-state file (version 1): the members and roles a Scaling organization
/// should have.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "teamsync desired state")]
#[expect(
    dead_code,
    reason = "a description of the file for schemars, never built"
)]
pub(crate) struct FileSchema {
    /// Always 1.
    #[schemars(range(min = 1, max = 1))]
    version: u8,
    /// Everyone who should be in the organization, with their role.
    members: Vec<MemberSchema>,
    /// When set, every member's email must be in one of these domains (`example.com`, or
    /// `*.example.com` for its subdomains).
    #[serde(default)]
    allowed_domains: Vec<String>,
    /// Email globs (`*`, `?`, case-insensitive) that teamsync never touches.
    #[serde(default)]
    ignore: Vec<String>,
    /// Emails that are never demoted, removed or revoked (break-glass admins).
    #[serde(default)]
    protected: Vec<String>,
    /// Limits apply refuses to cross.
    #[serde(default)]
    safety: Option<SafetySchema>,
    /// The pending-invitation lifecycle.
    #[serde(default)]
    invitations: Option<InvitationsSchema>,
}

/// The `invitations` block.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "a description of the file for schemars, never built"
)]
pub(crate) struct InvitationsSchema {
    /// Re-send (revoke, then invite again, as one step) a pending invitation still wanted and
    /// older than this many days. Unset: invitations pending more than 30 days are plan
    /// warnings.
    #[serde(default)]
    #[schemars(range(min = 1, max = 36500))]
    resend_after_days: Option<u32>,
}

/// One member.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "a description of the file for schemars, never built"
)]
pub(crate) struct MemberSchema {
    /// The member's email (compared trimmed and case-insensitively; at most 320 characters).
    #[schemars(length(max = 320), email)]
    email: String,
    role: crate::role::Role,
    /// Why this member is here; shown next to their changes in plans.
    #[serde(default)]
    reason: Option<String>,
    /// Last day (UTC) of membership, `YYYY-MM-DD`; from the next day the member is removed.
    #[serde(default)]
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    expires: Option<String>,
}

/// The `safety` block.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "a description of the file for schemars, never built"
)]
pub(crate) struct SafetySchema {
    /// Most members one apply may remove: a number, or a percentage of current members such
    /// as "10%". Default: max(3, 25%).
    #[serde(default)]
    max_removals: Option<MaxRemovalsSchema>,
    /// Fewest admin members the org may be left with (pending invitations do not count).
    /// Default 1.
    #[serde(default)]
    #[schemars(range(min = 0))]
    min_admins: Option<u32>,
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[expect(
    dead_code,
    reason = "a description of the file for schemars, never built"
)]
pub(crate) enum MaxRemovalsSchema {
    Count(u32),
    Percent(#[schemars(regex(pattern = r"^\s*\d{1,3}\s*%\s*$"))] String),
}

fn pretty(schema: schemars::Schema) -> String {
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// The desired-state file's schema, as committed at `schema/teamsync.schema.json`.
pub(crate) fn file_schema() -> String {
    pretty(schemars::schema_for!(FileSchema))
}

/// The JSON plan's schema, as committed at `schema/plan.schema.json`.
pub(crate) fn plan_schema() -> String {
    pretty(schemars::schema_for!(PlanDocument<'static>))
}

/// The apply report's schema, as committed at `schema/report.schema.json`.
pub(crate) fn report_schema() -> String {
    pretty(schemars::schema_for!(super::report::ReportDocument))
}

/// The org snapshot's schema, as committed at `schema/snapshot.schema.json`.
pub(crate) fn snapshot_schema() -> String {
    pretty(schemars::schema_for!(super::snapshot::SnapshotDocument))
}

#[cfg(test)]
mod tests {
    fn committed(name: &str) -> String {
        let path = format!("{}/schema/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn committed_file_schema_is_current() {
        assert_eq!(
            committed("teamsync.schema.json"),
            super::file_schema(),
            "regenerate with: cargo run -- schema > schema/teamsync.schema.json"
        );
    }

    #[test]
    fn committed_plan_schema_is_current() {
        assert_eq!(
            committed("plan.schema.json"),
            super::plan_schema(),
            "regenerate with: cargo run -- schema --plan > schema/plan.schema.json"
        );
    }

    #[test]
    fn committed_report_schema_is_current() {
        assert_eq!(
            committed("report.schema.json"),
            super::report_schema(),
            "regenerate with: cargo run -- schema --report > schema/report.schema.json"
        );
    }

    #[test]
    fn committed_snapshot_schema_is_current() {
        assert_eq!(
            committed("snapshot.schema.json"),
            super::snapshot_schema(),
            "regenerate with: cargo run -- schema --snapshot > schema/snapshot.schema.json"
        );
    }

    #[test]
    fn file_schema_lists_exactly_the_fields_the_loader_reads() {
        let schema: serde_json::Value = serde_json::from_str(&super::file_schema()).unwrap();
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let sorted = |fields: &[&str]| {
            let mut f: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
            f.sort();
            f
        };
        use crate::desired::{MEMBER_FIELDS, SAFETY_FIELDS, TOP_FIELDS};
        assert_eq!(keys(&schema["properties"]), sorted(TOP_FIELDS));
        assert_eq!(
            keys(&schema["$defs"]["MemberSchema"]["properties"]),
            sorted(MEMBER_FIELDS)
        );
        assert_eq!(
            keys(&schema["$defs"]["SafetySchema"]["properties"]),
            sorted(SAFETY_FIELDS)
        );
    }
}
