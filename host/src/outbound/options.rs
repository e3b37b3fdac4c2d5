//! The outbound options: each a flag and a `host.` key (flags win), with its default.

use std::path::PathBuf;
use std::time::Duration;

use super::policy::Rule;
use crate::options::group::option_group;
use crate::options::values;

/// Most outgoing requests in flight that a limit may allow.
const MAX_IN_FLIGHT: u32 = 100_000;

option_group! {
    /// Outgoing HTTP from guests: the allow-list and its limits.
    #[command(next_help_heading = "Outgoing HTTP from guests (each also settable as host.KEY in settings)")]
    pub(crate) struct OutboundOptions in "" {
        /// Let guests call upstreams matching PATTERN, `scheme://host[:port]` (`*` for any
        /// scheme, host or port; `*.example.com` for names under it): `https://api.example.com`,
        /// `http://127.0.0.1:9000`. A wildcard host never reaches loopback, private or
        /// link-local addresses; name such a host to allow it. May be given several times,
        /// after the `host.allow_outbound` list. [default: none, every outgoing request is
        /// refused]
        #[arg(long, value_name = "PATTERN")]
        pub(crate) allow_outbound: Vec<Rule> = Rule::parse,

        /// Time to resolve, connect and finish TLS with an upstream.
        #[arg(long, value_name = "DURATION", default_value = "10s")]
        pub(crate) outbound_connect_timeout: Duration = values::positive_duration,

        /// Time from sending a request to the upstream's response head.
        #[arg(long, value_name = "DURATION", default_value = "30s")]
        pub(crate) outbound_first_byte_timeout: Duration = values::positive_duration,

        /// Time between two pieces of an upstream's response body.
        #[arg(long, value_name = "DURATION", default_value = "30s")]
        pub(crate) outbound_between_bytes_timeout: Duration = values::positive_duration,

        /// Largest upstream response body a guest may read.
        #[arg(long, value_name = "SIZE", default_value = "128MiB")]
        pub(crate) outbound_max_body_size: u64 = values::size,

        /// Outgoing requests one incoming request may have in flight, each until its body is
        /// read; more fail at once (the guest sees `connection-limit-reached`).
        #[arg(long, value_name = "N", default_value = "16")]
        pub(crate) outbound_max_in_flight: u32 = values::count::<1, MAX_IN_FLIGHT>,

        /// Outgoing requests in flight to one upstream from all guests together; more wait for
        /// a slot, within the connect timeout.
        #[arg(long, value_name = "N", default_value = "100")]
        pub(crate) outbound_max_per_host: u32 = values::count::<1, MAX_IN_FLIGHT>,

        /// PEM certificates to trust for `https` upstreams, besides the webpki roots (an
        /// internal CA). [default: none]
        #[arg(long, value_name = "FILE")]
        pub(crate) outbound_ca: Option<PathBuf> = values::path,
    }
}
