//! The stable JSON documents teamsync writes (docs/contract.md §6, §9), each with its own
//! `FORMAT_VERSION`: fields may be added within a version; none is removed or changes meaning.
//! - [`plan`]: the JSON plan (`plan --format json`, `plan --out`) and the wire view of a plan;
//! - [`saved`]: what a saved plan adds (fingerprints, the live snapshot) and its freshness check;
//! - [`report`]: the apply report (`apply --report FILE`), and [`summary`], its Markdown view
//!   for the GitHub job summary;
//! - [`review`]: the access review (`teamsync review --format json`; docs/contract.md §6);
//! - [`snapshot`]: the org snapshot (`teamsync snapshot`, `plan --live`; docs/contract.md §9);
//! - [`validation`]: the validation document (`validate --format json`);
//! - [`schema`]: the JSON Schemas of these documents and of the desired-state file.
//!
//! A new document gets a module of its own here, with its `FORMAT_VERSION` and its schema in
//! [`schema`].

pub(crate) mod plan;
pub(crate) mod report;
pub(crate) mod review;
pub(crate) mod saved;
pub(crate) mod schema;
pub(crate) mod snapshot;
pub(crate) mod summary;
pub(crate) mod validation;
