//! Why the host answers a request itself instead of the guest.

use std::fmt;
use std::time::Duration;

/// Why the host answers a request itself instead of the guest.
#[derive(Debug)]
pub(crate) enum Failure {
    /// `--max-concurrent` requests are in flight already: `503` with `Retry-After`.
    Busy,
    /// The request body is larger than `--max-body-size`: `413`.
    BodyTooLarge(u64),
    /// The guest did not respond within `--request-timeout`: `504`.
    TimedOut(Duration),
    /// The guest trapped (a panic, running out of memory...), returned without a response or
    /// answered with an error code: `500`.
    Guest(anyhow::Error),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy => f.write_str("too many requests in flight"),
            Self::BodyTooLarge(limit) => write!(f, "the request body is over {limit} bytes"),
            Self::TimedOut(limit) => write!(f, "the guest did not respond within {limit:?}"),
            Self::Guest(error) => write!(f, "{error:#}"),
        }
    }
}
