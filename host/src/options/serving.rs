//! How the host faces its clients: the admin listener, the connection cap, the write timeout
//! and TLS. Each a flag and a `host.` key.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::group::option_group;
use super::values;

/// The most connections `--max-connections` may allow.
const MAX_CONNECTIONS: u32 = 1_000_000;
/// File descriptors kept back from connections when `--max-connections` is not given: the
/// listeners, the cache and key-value files, outgoing connections, the runtime's own.
const FD_HEADROOM: u64 = 128;

option_group! {
    /// The listeners and what a connection may hold.
    #[command(next_help_heading = "Serving (each also settable as host.KEY in settings)")]
    pub(crate) struct Serving in "" {
        /// Serve `GET /healthz`, `/readyz` and `/metrics` (Prometheus text) on this address,
        /// apart from the application's. A bare port listens on loopback. [default: none]
        #[arg(long, value_name = "{HOST:}PORT")]
        pub(crate) admin_bind: Option<SocketAddr> = values::bind,

        /// Connections open at once; past it a new connection is accepted and closed at once
        /// (and counted), established ones keep working. [default: the open-file limit minus
        /// 128]
        #[arg(long, value_name = "N")]
        pub(crate) max_connections: Option<u32> = values::count::<1, MAX_CONNECTIONS>,

        /// A connection whose client takes longer than this to take the next piece of a
        /// response (it stopped reading) is cut, and the request's instance released. `0`:
        /// no limit.
        // `std::option::Option`: the parser's `None` for `0`, not clap's optional flag.
        #[arg(long, value_name = "DURATION", default_value = "30s")]
        pub(crate) write_timeout: std::option::Option<Duration> = values::time_limit,

        /// Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with this PEM certificate chain, leaf
        /// first; needs `--tls-key`. SIGHUP reloads both files.
        #[arg(long, value_name = "FILE")]
        pub(crate) tls_cert: Option<PathBuf> = values::path,

        /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of `--tls-cert`.
        #[arg(long, value_name = "FILE")]
        pub(crate) tls_key: Option<PathBuf> = values::path,
    }
}

impl Serving {
    /// `--max-connections`, else the soft open-file limit less some headroom.
    pub(crate) fn connection_limit(&self) -> usize {
        if let Some(limit) = self.max_connections {
            return limit as usize;
        }
        let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(u64::from(MAX_CONNECTIONS));
        let limit = soft
            .saturating_sub(FD_HEADROOM)
            .clamp(1, u64::from(MAX_CONNECTIONS));
        limit as usize
    }

    /// The certificate and key files, when both are set.
    pub(crate) fn tls_files(&self) -> anyhow::Result<Option<(PathBuf, PathBuf)>> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some((cert.clone(), key.clone()))),
            (None, None) => Ok(None),
            (Some(_), None) => anyhow::bail!("a TLS certificate needs its key (--tls-key)"),
            (None, Some(_)) => anyhow::bail!("a TLS key needs its certificate (--tls-cert)"),
        }
    }
}
