//! Outgoing HTTP from guests (`wasi:http/outgoing-handler`): refused unless an
//! `--allow-outbound` rule allows the upstream, and then sent within the host's limits.
//!
//! - [`policy`]: the rules and which addresses they reach;
//! - [`send`]: resolving, connecting (TLS with the webpki roots plus `--outbound-ca`), the
//!   exchange and its timeouts, the response body's limit, and one log line per request
//!   (target `nanohttp::outbound`);
//! - [`pool`]: connections kept open for the next call to the same upstream;
//! - [`options`]: the flags and `host.` keys, and their defaults;
//! - this module: the state shared by every instance, and the per-request hooks
//!   wasmtime-wasi-http calls.

mod options;
mod policy;
mod pool;
mod send;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use anyhow::Context as _;
use tokio::sync::Semaphore;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

pub(crate) use options::OutboundOptions;

use crate::trace::{TRACEPARENT, TraceContext};

/// The outbound side of the host, shared by every instance: the options, the TLS client
/// configuration and the per-upstream limits.
pub(crate) struct Outbound {
    options: OutboundOptions,
    tls: Arc<rustls::ClientConfig>,
    /// One semaphore per upstream (`scheme://host:port`) with requests in flight or recently
    /// seen; idle ones are dropped when the map grows.
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Connections kept open for the next call to the same upstream.
    pool: pool::Pool,
}

/// Upstreams remembered before idle ones are forgotten.
const REMEMBERED_HOSTS: usize = 1024;

impl Outbound {
    /// Reads `--outbound-ca` (so a missing or bad file stops the host before it listens).
    pub(crate) fn new(options: &OutboundOptions) -> anyhow::Result<Arc<Self>> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(file) = &options.outbound_ca {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject as _;
            let shown = file.display();
            let pem = std::fs::read(file).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read the outbound CA file '{shown}': {}",
                    crate::io::io_reason(&e)
                )
            })?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("the outbound CA file '{shown}' is not PEM"))?;
            anyhow::ensure!(
                !certs.is_empty(),
                "the outbound CA file '{shown}' holds no certificate"
            );
            for cert in certs {
                roots
                    .add(cert)
                    .with_context(|| format!("a certificate in '{shown}' is not valid"))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("cannot configure TLS for outgoing requests")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        // The exchange is HTTP/1.1 (`send.rs`).
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(Self {
            options: options.clone(),
            tls: Arc::new(tls),
            hosts: Mutex::new(HashMap::new()),
            pool: pool::Pool::default(),
        }))
    }

    /// The semaphore bounding requests in flight to `upstream`.
    fn host_permits(&self, upstream: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(permits) = hosts.get(upstream) {
            return permits.clone();
        }
        if hosts.len() >= REMEMBERED_HOSTS {
            // Forget upstreams nobody holds a permit of.
            let all = self.options.outbound_max_per_host as usize;
            hosts.retain(|_, permits| {
                Arc::strong_count(permits) > 1 || permits.available_permits() < all
            });
        }
        let permits = Arc::new(Semaphore::new(self.options.outbound_max_per_host as usize));
        hosts.insert(upstream.to_owned(), permits.clone());
        permits
    }
}

/// The hooks of one instance: every outgoing request goes through [`send::send`], bounded by
/// the request being served (its label for logs, its deadline, its own in-flight limit).
pub(crate) struct OutboundHooks {
    shared: Arc<Outbound>,
    /// The instance's calls in flight, made on its first call: a fresh instance per request
    /// (the default) that calls nothing pays nothing for it.
    in_flight: Option<Arc<Semaphore>>,
    /// The request being served, set before the guest runs.
    label: Option<Arc<str>>,
    deadline: Option<Instant>,
    /// The request's trace: its calls carry a `traceparent` of it.
    trace: Option<TraceContext>,
}

impl OutboundHooks {
    pub(crate) fn new(shared: Arc<Outbound>) -> Self {
        Self {
            shared,
            in_flight: None,
            label: None,
            deadline: None,
            trace: None,
        }
    }

    /// The request the instance serves from now on (`--reuse` instances serve several).
    pub(crate) fn serving(
        &mut self,
        label: Arc<str>,
        deadline: Option<Instant>,
        trace: Option<TraceContext>,
    ) {
        self.label = Some(label);
        self.deadline = deadline;
        self.trace = trace;
    }
}

/// What `send_request` returns: the response, and the connection's remaining work.
type Sent = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_error: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Sent {
        let limit = self.shared.options.outbound_max_in_flight as usize;
        let in_flight = self
            .in_flight
            .get_or_insert_with(|| Arc::new(Semaphore::new(limit)));
        // A guest that sets its own `traceparent` keeps it.
        if let Some(trace) = &self.trace
            && !request.headers().contains_key(TRACEPARENT)
        {
            request.headers_mut().insert(TRACEPARENT, trace.child());
        }
        Box::new(send::send(
            self.shared.clone(),
            in_flight.clone(),
            self.label.clone().unwrap_or_else(|| Arc::from("?")),
            self.deadline,
            request,
            options,
        ))
    }
}
