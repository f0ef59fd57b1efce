//! JSON Schemas: the desired-state file (`teamsync schema`, `schema/teamsync.schema.json`), the
//! JSON plan (`schema/plan.schema.json`), the apply report (`schema/report.schema.json`) and the
//! org snapshot (`schema/snapshot.schema.json`).
//! The file's schema is derived from the types below, which describe the file for schemars
//! only (`#[serde]` attributes included: schemars reads them); the loader is
//! [`crate::desired`], and a test holds the two to the same fields.

use super::plan::PlanDocument;
use schemars::JsonSchema;
use schemars::transform::{RestrictFormats, Transform as _, transform_subschemas};
use serde_json::{Value, json};

/// Where the schemas are published: the raw files of the repository's default branch
/// (docs/contract.md §11). Within a format version fields are only ever added, so the newest
/// schema also accepts every older file. `name` is a file of `schema/`.
pub(crate) fn schema_url(name: &str) -> String {
    let repository = env!("CARGO_PKG_REPOSITORY");
    let raw = repository.replacen(
        "https://github.com/",
        "https://raw.githubusercontent.com/",
        1,
    );
    format!("{raw}/main/schema/{name}")
}

/// The desired-state file's schema URL, its `$id`; `export` writes it in the modeline.
pub(crate) fn file_schema_url() -> String {
    schema_url("teamsync.schema.json")
}

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
    /// The file's own rules, checked wherever the file is loaded; every violation is an error.
    #[serde(default)]
    policy: Option<PolicySchema>,
    /// The org this file describes: snapshots, saved plans and apply reports carry it, and a
    /// snapshot or baseline of another org is refused. 1 to 64 letters, digits, `-`, `_`, `.`.
    #[serde(default)]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    org: Option<String>,
}

/// The `policy` block: rules the entries must follow (every one off unless set).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "a description of the file for schemars, never built"
)]
pub(crate) struct PolicySchema {
    /// Every `org:admin` entry has a non-empty `reason`.
    #[serde(default)]
    admins_need_reason: Option<bool>,
    /// The organisation's own domains (`example.com`, or `*.example.com` for its subdomains);
    /// an entry outside them is external and needs `expires`.
    #[serde(default)]
    internal_domains: Vec<String>,
    /// An external entry's `expires` is at most this many days ahead. Needs `internal_domains`.
    #[serde(default)]
    #[schemars(range(min = 1, max = 36500))]
    external_max_days: Option<u32>,
    /// At most this many current `org:admin` entries.
    #[serde(default)]
    #[schemars(range(min = 1, max = 36500))]
    max_admins: Option<u32>,
    /// `teamsync review` flags an entry not changed for more than this many days. Default 365.
    #[serde(default)]
    #[schemars(range(min = 1, max = 36500))]
    recertify_days: Option<u32>,
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
    /// as "10%". Default: max(3, 25%), at most 50.
    #[serde(default)]
    max_removals: Option<MaxRemovalsSchema>,
    /// Fewest admin members the org may be left with (pending invitations do not count).
    /// At least 1 (the org needs an admin); default 1.
    #[serde(default)]
    #[schemars(range(min = 1))]
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

/// A schema as published: its `$id` (`name` under [`schema_url`]) and only the `format` values
/// JSON Schema defines, the integer ones schemars writes turned into bounds
/// ([`integer_bounds`]), so that strict validators (ajv `--strict`) accept it.
fn published(mut schema: schemars::Schema, name: &str) -> String {
    integer_bounds(&mut schema);
    RestrictFormats::default().transform(&mut schema);
    schema.insert("$id".into(), schema_url(name).into());
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// schemars describes Rust's integer types with `format` values that no JSON Schema draft
/// defines (`uint8`, `uint32`, `uint`, `int64`, …), which strict validators refuse. Each
/// becomes the bounds it stands for (a bound already there, tighter, is kept); 64-bit and
/// pointer-sized ones keep only their sign, their limits being past what JSON numbers carry
/// exactly.
fn integer_bounds(schema: &mut schemars::Schema) {
    if let Some(obj) = schema.as_object_mut() {
        let bounds: Option<(Value, Option<Value>)> = match obj.get("format").and_then(Value::as_str)
        {
            Some("uint8") => Some((json!(0), Some(json!(u8::MAX)))),
            Some("uint16") => Some((json!(0), Some(json!(u16::MAX)))),
            Some("uint32") => Some((json!(0), Some(json!(u32::MAX)))),
            Some("uint64" | "uint" | "uint128") => Some((json!(0), None)),
            Some("int8") => Some((json!(i8::MIN), Some(json!(i8::MAX)))),
            Some("int16") => Some((json!(i16::MIN), Some(json!(i16::MAX)))),
            Some("int32") => Some((json!(i32::MIN), Some(json!(i32::MAX)))),
            Some("int64" | "int" | "int128") => Some((Value::Null, None)),
            _ => None,
        };
        if let Some((min, max)) = bounds {
            obj.remove("format");
            if !min.is_null() {
                obj.entry("minimum").or_insert(min);
            }
            if let Some(max) = max {
                obj.entry("maximum").or_insert(max);
            }
        }
    }
    transform_subschemas(&mut integer_bounds, schema);
}

/// The desired-state file's schema, as committed at `schema/teamsync.schema.json`.
pub(crate) fn file_schema() -> String {
    published(schemars::schema_for!(FileSchema), "teamsync.schema.json")
}

/// The JSON plan's schema, as committed at `schema/plan.schema.json`.
pub(crate) fn plan_schema() -> String {
    published(
        schemars::schema_for!(PlanDocument<'static>),
        "plan.schema.json",
    )
}

/// The apply report's schema, as committed at `schema/report.schema.json`.
pub(crate) fn report_schema() -> String {
    published(
        schemars::schema_for!(super::report::ReportDocument),
        "report.schema.json",
    )
}

/// The access review's schema, as committed at `schema/review.schema.json`.
pub(crate) fn review_schema() -> String {
    published(
        schemars::schema_for!(super::review::ReviewDocument),
        "review.schema.json",
    )
}

/// The org snapshot's schema, as committed at `schema/snapshot.schema.json`.
pub(crate) fn snapshot_schema() -> String {
    published(
        schemars::schema_for!(super::snapshot::SnapshotDocument),
        "snapshot.schema.json",
    )
}

/// The validation document's schema (`validate --format json`), as committed at
/// `schema/validation.schema.json`.
pub(crate) fn validation_schema() -> String {
    published(
        schemars::schema_for!(super::validation::ValidationDocument),
        "validation.schema.json",
    )
}

#[cfg(test)]
mod tests {
    /// The schemas describe the defaults in words (their descriptions are doc comments); they
    /// must state the ones the planner uses.
    #[test]
    fn the_schemas_state_the_defaults_the_planner_uses() {
        use crate::planner::{DEFAULT_REMOVAL_CAP, DEFAULT_REMOVAL_FLOOR, DEFAULT_REMOVAL_PERCENT};
        let file = super::file_schema();
        for words in [
            format!(
                "Default: max({DEFAULT_REMOVAL_FLOOR}, {DEFAULT_REMOVAL_PERCENT}%), at most {DEFAULT_REMOVAL_CAP}."
            ),
            format!(
                "invitations pending more than {} days are plan",
                crate::plan::STALE_INVITATION_DAYS
            ),
        ] {
            assert!(
                file.contains(&words),
                "the file schema does not say {words:?}"
            );
        }
        let plan = super::plan_schema();
        let words = format!(
            "max({DEFAULT_REMOVAL_FLOOR}, {DEFAULT_REMOVAL_PERCENT} % of current members), at most {DEFAULT_REMOVAL_CAP}"
        );
        assert!(
            plan.contains(&words),
            "the plan schema does not say {words:?}"
        );
    }

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
    fn committed_validation_schema_is_current() {
        assert_eq!(
            committed("validation.schema.json"),
            super::validation_schema(),
            "regenerate with: cargo run -- schema --validation > schema/validation.schema.json"
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

    /// Every schema has its published URL as `$id`, and only `format` values JSON Schema
    /// defines (strict validators refuse others; scripts/lint-ci runs ajv --strict too).
    #[test]
    fn schemas_have_their_id_and_only_standard_formats() {
        let repository = env!("CARGO_PKG_REPOSITORY");
        assert!(
            repository.starts_with("https://github.com/"),
            "{repository}"
        );
        for (name, text) in [
            ("teamsync.schema.json", super::file_schema()),
            ("plan.schema.json", super::plan_schema()),
            ("report.schema.json", super::report_schema()),
            ("snapshot.schema.json", super::snapshot_schema()),
            ("review.schema.json", super::review_schema()),
        ] {
            let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
            let id = schema["$id"].as_str().unwrap();
            assert_eq!(
                id,
                format!(
                    "https://raw.githubusercontent.com/{}/main/schema/{name}",
                    &repository["https://github.com/".len()..]
                )
            );
            let mut formats = Vec::new();
            collect_formats(&schema, &mut formats);
            assert!(formats.iter().all(|f| f == "email"), "{name}: {formats:?}");
        }
        assert_eq!(
            super::file_schema_url(),
            super::schema_url("teamsync.schema.json")
        );
    }

    fn collect_formats(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                if let Some(f) = o.get("format").and_then(|f| f.as_str()) {
                    out.push(f.to_string());
                }
                o.values().for_each(|v| collect_formats(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| collect_formats(v, out)),
            _ => {}
        }
    }

    #[test]
    fn integer_formats_become_bounds() {
        let mut schema = schemars::json_schema!({
            "type": "object",
            "properties": {
                "a": {"type": "integer", "format": "uint8"},
                "b": {"type": "integer", "format": "uint32", "minimum": 1},
                "c": {"type": ["integer", "null"], "format": "uint"},
                "d": {"type": "integer", "format": "int16"},
                "e": {"type": "integer", "format": "int64"},
                "f": {"type": "string", "format": "email"}
            }
        });
        super::integer_bounds(&mut schema);
        assert_eq!(
            serde_json::to_value(&schema).unwrap()["properties"],
            serde_json::json!({
                "a": {"type": "integer", "minimum": 0, "maximum": 255},
                "b": {"type": "integer", "minimum": 1, "maximum": 4294967295u32},
                "c": {"type": ["integer", "null"], "minimum": 0},
                "d": {"type": "integer", "minimum": -32768, "maximum": 32767},
                "e": {"type": "integer"},
                "f": {"type": "string", "format": "email"}
            })
        );
    }

    #[test]
    fn committed_review_schema_is_current() {
        assert_eq!(
            committed("review.schema.json"),
            super::review_schema(),
            "regenerate with: cargo run -- schema --review > schema/review.schema.json"
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
        use crate::desired::{MEMBER_FIELDS, POLICY_FIELDS, SAFETY_FIELDS, TOP_FIELDS};
        assert_eq!(keys(&schema["properties"]), sorted(TOP_FIELDS));
        assert_eq!(
            keys(&schema["$defs"]["MemberSchema"]["properties"]),
            sorted(MEMBER_FIELDS)
        );
        assert_eq!(
            keys(&schema["$defs"]["SafetySchema"]["properties"]),
            sorted(SAFETY_FIELDS)
        );
        assert_eq!(
            keys(&schema["$defs"]["PolicySchema"]["properties"]),
            sorted(POLICY_FIELDS)
        );
    }
}
