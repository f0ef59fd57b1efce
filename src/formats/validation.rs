//! The validation document (`validate --format json`; docs/contract.md §1): whether the file is
//! valid, and every problem with its file, line and column, for editors and CI tools that read
//! JSON rather than `FILE:LINE:COL: message` lines. Schema: `schema/validation.schema.json`.

use crate::desired::Loaded;
use schemars::JsonSchema;
use serde::Serialize;

/// The version of the document's shape. Fields may be added within a version; none is removed
/// or changes meaning.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The validation document.
#[derive(Serialize, JsonSchema)]
#[schemars(title = "teamsync validation")]
pub(crate) struct ValidationDocument {
    /// Always `teamsync-validation`.
    format: &'static str,
    /// Always 1 for this shape.
    format_version: u32,
    /// No problems: the file (or directory) is a valid desired state.
    valid: bool,
    /// Every problem, in the order `validate` prints them; empty when valid. Warnings are not
    /// problems: they go to stderr.
    problems: Vec<Problem>,
}

/// One problem of the file.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Problem {
    /// The file the problem is in: `-f` as given, or the part of a directory.
    file: String,
    /// 1-based line.
    line: u64,
    /// 1-based column.
    column: u64,
    message: String,
}

impl ValidationDocument {
    /// The document of a load.
    pub(crate) fn new(loaded: &Loaded) -> ValidationDocument {
        let problems: Vec<Problem> = match &loaded.desired {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .iter()
                .map(|d| Problem {
                    file: loaded.part_name(d).to_string(),
                    line: d.line,
                    column: d.column,
                    message: d.message.clone(),
                })
                .collect(),
        };
        ValidationDocument {
            format: "teamsync-validation",
            format_version: FORMAT_VERSION,
            valid: problems.is_empty(),
            problems,
        }
    }

    /// Pretty JSON with a final newline.
    pub(crate) fn to_json(&self) -> String {
        // Serializing plain data to a string cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
