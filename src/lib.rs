//! teamsync keeps a Scaling organization's members and roles equal to a YAML file kept in git.
//!
//! Layers, from the outside in:
//! - [`cli`]: clap types, turned into a validated [`config::Config`] and dispatched.
//! - [`desired`]: the desired-state file: parsing (serde-saphyr, with line and column for every
//!   node) and validation (every problem at once).
//! - [`client`]: the Scaling team API over HTTP (retries, pagination, redaction of the key).
//! - [`planner`]: a pure function, desired × live × options → [`plan::Plan`].
//! - [`render`]: text, JSON, Markdown and diff views over one `Plan`.
//! - [`apply`]: executes a `Plan` in safe phases and returns a per-step report.

pub mod apply;
pub mod cli;
pub mod client;
pub mod config;
pub mod date;
pub mod desired;
pub mod email;
pub mod export;
pub mod glob;
pub mod model;
pub mod plan;
pub mod planner;
#[cfg(test)]
mod proptests;
pub mod render;
pub mod saved;
pub mod schema;
