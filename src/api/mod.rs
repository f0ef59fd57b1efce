//! The Scaling team API over HTTP (docs/contract.md §5, docs/network.md): the five endpoints,
//! the `data` envelope and lenient parsing of the list ([`wire`]), read while it arrives
//! ([`page`]), pagination, retries with
//! backoff ([`retry`]), and errors that carry the API's `code` and `requestId` but never the key
//! ([`error`]).

mod client;
mod error;
mod page;
mod retry;
mod settings;
mod wire;

pub(crate) use client::{Client, Notes};
pub(crate) use error::ApiError;
pub(crate) use retry::{Pauses, RetryPolicy, SendLog, Sends};
pub(crate) use settings::{ApiConfig, ApiKey, KeySource, is_loopback, redact_url};
#[cfg(test)]
pub(crate) use wire::parse_list_page;

#[cfg(test)]
mod tests;
