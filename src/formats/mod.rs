//! The stable JSON documents teamsync writes (docs/contract.md §6), each with its own
//! `FORMAT_VERSION`: fields may be added within a version; none is removed or changes meaning.
//! - [`plan`]: the JSON plan (`plan --format json`, `plan --out`) and the wire view of a plan;
//! - [`saved`]: what a saved plan adds (fingerprints, the live snapshot) and its freshness check;
//! - [`report`]: the apply report (`apply --report FILE`);
//! - [`schema`]: the JSON Schemas of these documents and of the desired-state file.

pub(crate) mod plan;
pub(crate) mod report;
pub(crate) mod saved;
pub(crate) mod schema;
