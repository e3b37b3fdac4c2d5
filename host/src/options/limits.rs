//! What one request may cost, and how long connections may take: each a flag and a `host.`
//! key.

use std::time::Duration;

use super::group::option_group;
use super::values;

/// The instance pool holds this many instances; each reserves address space for its memories.
const MAX_CONCURRENT: u32 = 10_000;
/// Most requests one instance may serve: a guest's heap may fragment over many requests, so
/// even reused instances are renewed now and then.
const MAX_REUSE: u32 = 1_000_000;
/// hyper's read buffer, which bounds the request head, cannot be smaller than 8 KiB.
const MIN_HEADER_SIZE: u64 = 8 << 10;

option_group! {
    /// The limits of requests and connections.
    #[command(next_help_heading = "Limits (each also settable as host.KEY in settings)")]
    pub(crate) struct Limits in "" {
        /// Time limit for one request's guest, body included; beyond it, `504 Gateway
        /// Timeout` (or, once the response has started, the body is cut). `0`: no limit.
        #[arg(long, value_name = "DURATION", default_value = "30s")]
        pub(crate) request_timeout: std::option::Option<Duration> = values::time_limit,

        /// Largest linear memory of one instance (2MiB to 4GiB); a guest that needs more
        /// fails its request with `500`.
        #[arg(long, value_name = "SIZE", default_value = "64MiB")]
        pub(crate) memory_limit: usize = values::memory_limit,

        /// Requests served at once; beyond it, `503 Service Unavailable` with `Retry-After: 1`
        /// (no queue).
        #[arg(long, value_name = "N", default_value = "1000")]
        pub(crate) max_concurrent: u32 = values::count::<1, MAX_CONCURRENT>,

        /// Let one instance serve up to N requests, one after another, before it is discarded
        /// (an instance that failed is never reused). Faster, but a guest's global state then
        /// outlives a request: see the README. `1`: a fresh instance per request.
        #[arg(long, value_name = "N", default_value = "1")]
        pub(crate) reuse: u32 = values::count::<1, MAX_REUSE>,

        /// Largest request body; larger ones get `413 Content Too Large`.
        #[arg(long, value_name = "SIZE", default_value = "16MiB")]
        pub(crate) max_body_size: u64 = values::size,

        /// Largest request head (request line and headers, at least 8KiB); beyond it, `431`.
        #[arg(long, value_name = "SIZE", default_value = "16KiB")]
        pub(crate) max_header_size: usize = values::size_at_least::<MIN_HEADER_SIZE>,

        /// Most header fields in one request; beyond it, `431`.
        #[arg(long, value_name = "N", default_value = "100")]
        pub(crate) max_headers: u32 = values::count::<1, { u16::MAX as u32 }>,

        /// Time a client has to send a request's head, counted from the connection's opening
        /// or the end of the previous response; then the connection is closed.
        #[arg(long, value_name = "DURATION", default_value = "10s")]
        pub(crate) header_timeout: Duration = values::positive_duration,

        /// A connection with no request in flight for this long is closed.
        #[arg(long, value_name = "DURATION", default_value = "60s")]
        pub(crate) idle_timeout: Duration = values::positive_duration,

        /// On SIGINT or SIGTERM, how long requests in flight may take to finish.
        #[arg(long, value_name = "DURATION", default_value = "30s")]
        pub(crate) grace_period: Duration = values::duration,
    }
}
