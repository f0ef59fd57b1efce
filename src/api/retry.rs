//! When to try again: the retry policy (docs/contract.md §5), capped exponential backoff with
//! jitter, and `Retry-After`.

use super::ApiError;
use std::time::Duration;

/// Retry behaviour for 429, 5xx and connection failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Attempts per request, the first included.
    pub(crate) max_attempts: u32,
    /// First backoff; doubles each attempt, with jitter (each wait drawn from its upper half).
    pub(crate) base: Duration,
    /// Longest backoff between two attempts.
    pub(crate) cap: Duration,
    /// Longest `Retry-After` honoured; a longer one is cut to this.
    pub(crate) max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before attempt `attempt + 1`: `Retry-After` when the API gave one
    /// (capped), else capped exponential backoff with jitter: a wait drawn uniformly from
    /// `[d/2, d]`, where `d` is the base doubled per attempt, up to the cap.
    pub(crate) fn backoff(&self, attempt: u32, error: &ApiError) -> Duration {
        if let ApiError::Status {
            status: 429,
            retry_after: Some(wait),
            ..
        } = error
        {
            return (*wait).min(self.max_retry_after);
        }
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.cap);
        let millis = exp.as_millis() as u64;
        Duration::from_millis(if millis == 0 {
            0
        } else {
            fastrand::u64(millis / 2..=millis)
        })
    }
}

/// `Retry-After`: whole seconds, or an HTTP date (a date in the past means now).
pub(crate) fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The 429 pauses of an apply: how many, and how long every request waited in all
/// (docs/contract.md §5, progress and summary).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pauses {
    pub(crate) count: usize,
    pub(crate) waited: Duration,
}

/// What the writes of one apply step sent: every request (resends after a 429 included) and
/// the `requestId` of every error answer, also of those a confirming read followed. Shared, so
/// that a step cut off by a second signal still reports what it sent (docs/contract.md §8).
#[derive(Clone, Debug, Default)]
pub(crate) struct SendLog(std::sync::Arc<std::sync::Mutex<Sends>>);

/// See [`SendLog`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sends {
    pub(crate) requests: u32,
    pub(crate) error_request_ids: Vec<String>,
}

impl SendLog {
    fn with<T>(&self, f: impl FnOnce(&mut Sends) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A request is about to be sent.
    pub(crate) fn sent(&self) {
        self.with(|s| s.requests += 1);
    }

    /// An answer was an error.
    pub(crate) fn failed(&self, e: &super::ApiError) {
        if let Some(id) = e.request_id() {
            self.with(|s| s.error_request_ids.push(id.to_string()));
        }
    }

    pub(crate) fn get(&self) -> Sends {
        self.with(|s| s.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_is_capped_and_honours_retry_after() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(400),
            max_retry_after: Duration::from_secs(2),
        };
        let e = ApiError::Status {
            status: 503,
            kind: None,
            code: None,
            message: None,
            request_id: None,
            retry_after: None,
        };
        for attempt in 1..10 {
            assert!(p.backoff(attempt, &e) <= Duration::from_millis(400));
        }
        let limited = |ra: u64| ApiError::Status {
            status: 429,
            kind: None,
            code: None,
            message: None,
            request_id: None,
            retry_after: Some(Duration::from_secs(ra)),
        };
        assert_eq!(p.backoff(1, &limited(1)), Duration::from_secs(1));
        assert_eq!(
            p.backoff(1, &limited(3600)),
            Duration::from_secs(2),
            "capped"
        );
    }
}
