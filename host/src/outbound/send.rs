//! One outgoing request: checked against the rules, resolved, connected to an allowed address
//! (TLS for `https`), sent over HTTP/1.1 within the timeouts, its response body held to the
//! size limit, and logged once it is over.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Uri;
use http_body_util::BodyExt as _;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

use super::Outbound;
use super::policy::{self, Scheme, Verdict};
use super::pool::Sender;
use crate::metrics::{self, Outbound as Counted};

/// The connection's remaining work once the response head is in.
type Io = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

trait Transport: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Transport for T {}

/// Sends `request` for the guest serving `label`, or says why not.
pub(super) async fn send(
    shared: Arc<Outbound>,
    in_flight: Arc<Semaphore>,
    label: Arc<str>,
    deadline: Option<Instant>,
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<(http::Response<WasiBody>, Io), HttpError> {
    let mut log = Log {
        label,
        method: request.method().clone(),
        url: shown_url(request.uri()),
        started: Instant::now(),
        rule: String::new(),
    };
    let Some(target) = Target::of(request.uri()) else {
        return Err(log.refused(
            HttpError::HttpRequestUriInvalid,
            "not an http(s) URL with a host",
        ));
    };
    let rules = &shared.options.allow_outbound;
    let any_address = match policy::check(rules, target.scheme, &target.host, target.port) {
        Verdict::Allowed { rule, any_address } => {
            log.rule = rule.text().to_owned();
            any_address
        }
        Verdict::Refused if rules.is_empty() => {
            return Err(log.refused(
                HttpError::HttpRequestDenied,
                "outgoing requests are not allowed (no --allow-outbound rule)",
            ));
        }
        Verdict::Refused => {
            return Err(log.refused(
                HttpError::HttpRequestDenied,
                "no --allow-outbound rule matches",
            ));
        }
    };
    let limits = Limits::of(&shared.options, options, deadline);
    // One deadline for all of connecting: a slot for the upstream, resolving, TCP, TLS and the
    // HTTP handshake.
    let connect_by = tokio::time::Instant::now() + limits.connect;

    // One request's own calls past its limit fail at once: waiting could deadlock a guest
    // that reads the bodies of earlier calls only once later ones have answered. The
    // upstream's limit is shared by every guest, so a call waits for a slot there, within the
    // connect timeout.
    let Ok(own) = in_flight.try_acquire_owned() else {
        return Err(log.failed(
            HttpError::ConnectionLimitReached,
            &format!(
                "over {} calls in flight for one request (--outbound-max-in-flight)",
                shared.options.outbound_max_in_flight
            ),
        ));
    };
    let upstream = target.key();
    let host = shared.host_permits(&upstream);
    let permits = match tokio::time::timeout_at(connect_by, host.acquire_owned()).await {
        Ok(Ok(host)) => [own, host],
        _ => {
            return Err(log.failed(
                HttpError::ConnectionLimitReached,
                "no free slot for this upstream within the connect timeout \
                 (--outbound-max-per-host)",
            ));
        }
    };
    let (mut sender, reused) = match shared.pool.take(&upstream).await {
        Some(sender) => (sender, true),
        None => {
            let open = open(&shared, &target, any_address);
            match tokio::time::timeout_at(connect_by, open).await {
                Ok(Ok(sender)) => (sender, false),
                Ok(Err((error, why))) => return Err(log.failed(error, &why)),
                Err(_) => {
                    return Err(log.failed(HttpError::ConnectionTimeout, "connect timed out"));
                }
            }
        }
    };

    // The request line carries the path only; the host header names the upstream.
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    *request.uri_mut() = Uri::try_from(path).map_err(|_| HttpError::HttpRequestUriInvalid)?;

    let exchange = tokio::time::timeout(limits.first_byte, sender.send_request(request));
    let response = match exchange.await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            let kept = if reused {
                " (on a kept connection)"
            } else {
                ""
            };
            let why = format!("no response{kept}: {error}");
            return Err(log.failed(HttpError::Hyper(error), &why));
        }
        Err(_) => {
            return Err(log.failed(
                HttpError::ConnectionReadTimeout,
                "no response within the first-byte timeout",
            ));
        }
    };
    let status = response.status();
    // The connection runs as a task of its own (see `open`): nothing is left to drive here.
    let io: Io = Box::new(async { Ok(()) });
    let response = response.map(|body| {
        UpstreamBody {
            inner: body,
            received: 0,
            limit: limits.max_body_size,
            between_bytes: limits.between_bytes,
            stall: Box::pin(tokio::time::sleep(limits.between_bytes)),
            waiting: false,
            log: Some((log, status.as_u16())),
            keep: Some((shared, upstream, sender)),
            _permits: permits,
        }
        .boxed_unsync()
    });
    Ok((response, io))
}

/// The upstream of a request: scheme, host (without IPv6 brackets) and port.
struct Target {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl Target {
    fn of(uri: &Uri) -> Option<Self> {
        let scheme = match uri.scheme_str()? {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return None,
        };
        let authority = uri.authority()?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return None;
        }
        Some(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(scheme.default_port()),
        })
    }

    /// `scheme://host:port`: what the per-upstream limit counts.
    fn key(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

/// The time and size limits of one request: the guest's own (`request-options`) where it asks
/// for less than the host allows, and never past the incoming request's deadline.
struct Limits {
    connect: Duration,
    first_byte: Duration,
    between_bytes: Duration,
    max_body_size: u64,
}

impl Limits {
    fn of(
        host: &super::OutboundOptions,
        guest: Option<RequestOptions>,
        deadline: Option<Instant>,
    ) -> Self {
        let left = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        let pick = |host: Duration, guest: Option<Duration>| {
            let limit = guest.map_or(host, |guest| guest.min(host));
            left.map_or(limit, |left| limit.min(left))
        };
        let guest = guest.unwrap_or_default();
        Self {
            connect: pick(host.outbound_connect_timeout, guest.connect_timeout),
            first_byte: pick(host.outbound_first_byte_timeout, guest.first_byte_timeout),
            between_bytes: pick(
                host.outbound_between_bytes_timeout,
                guest.between_bytes_timeout,
            )
            .max(Duration::from_millis(1)),
            max_body_size: host.outbound_max_body_size,
        }
    }
}

/// A new connection: [`connect`], then the HTTP/1.1 handshake; the connection itself runs as
/// a task of its own, which ends when the upstream closes it or the sender is dropped.
async fn open(
    shared: &Outbound,
    target: &Target,
    any_address: bool,
) -> Result<Sender, (HttpError, String)> {
    let stream = connect(shared, target, any_address).await?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| {
            let why = format!("handshake failed: {error}");
            (HttpError::Hyper(error), why)
        })?;
    tokio::spawn(async move {
        if let Err(error) = conn.await {
            tracing::debug!(target: "nanohttp::outbound", "connection ended: {error}");
        }
    });
    Ok(sender)
}

/// Resolves the host and connects to the first allowed address that answers; for `https`,
/// then the TLS handshake. `Err` carries the error for the guest and the reason for the log.
async fn connect(
    shared: &Outbound,
    target: &Target,
    any_address: bool,
) -> Result<Box<dyn Transport>, (HttpError, String)> {
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|error| {
            (
                HttpError::DnsError {
                    rcode: Some(error.to_string()),
                    info_code: None,
                },
                format!("cannot resolve {}: {error}", target.host),
            )
        })?
        .collect();
    let allowed: Vec<SocketAddr> = resolved
        .iter()
        .copied()
        .filter(|addr| any_address || policy::is_public(addr.ip()))
        .collect();
    if allowed.is_empty() {
        let shown: Vec<String> = resolved.iter().map(|addr| addr.ip().to_string()).collect();
        return Err((
            HttpError::DestinationIpProhibited,
            format!(
                "{} resolves to {} only, which a wildcard rule does not reach (name the host \
                 in a rule to allow it)",
                target.host,
                if shown.is_empty() {
                    "nothing".to_owned()
                } else {
                    shown.join(", ")
                }
            ),
        ));
    }
    let mut last = None;
    let mut tcp = None;
    for addr in allowed {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                tcp = Some(stream);
                break;
            }
            Err(error) => last = Some((addr, error)),
        }
    }
    let Some(tcp) = tcp else {
        let (addr, error) = last.expect("at least one address was tried");
        let code = if error.kind() == std::io::ErrorKind::ConnectionRefused {
            HttpError::ConnectionRefused
        } else {
            HttpError::DestinationUnavailable
        };
        return Err((code, format!("cannot connect to {addr}: {error}")));
    };
    let _ = tcp.set_nodelay(true);
    if target.scheme == Scheme::Http {
        return Ok(Box::new(tcp));
    }
    let name = rustls::pki_types::ServerName::try_from(target.host.clone()).map_err(|_| {
        (
            HttpError::TlsProtocolError,
            format!("{} is not a name TLS can verify", target.host),
        )
    })?;
    let connector = tokio_rustls::TlsConnector::from(shared.tls.clone());
    match connector.connect(name, tcp).await {
        Ok(tls) => Ok(Box::new(tls)),
        Err(error) => {
            let code = match error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                Some(rustls::Error::InvalidCertificate(_)) => HttpError::TlsCertificateError,
                Some(rustls::Error::AlertReceived(alert)) => HttpError::TlsAlertReceived {
                    alert_id: Some(u8::from(*alert)),
                    alert_message: Some(format!("{alert:?}")),
                },
                _ => HttpError::TlsProtocolError,
            };
            Err((code, format!("TLS with {} failed: {error}", target.host)))
        }
    }
}

/// The URL as logs show it: without the query (it may carry secrets) or credentials.
fn shown_url(uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("?");
    let authority = uri.authority().map_or("", |a| a.as_str());
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{authority}{}", uri.path())
}

/// What the log line of one outgoing request says.
struct Log {
    label: Arc<str>,
    method: http::Method,
    url: String,
    started: Instant,
    /// The rule that allowed it.
    rule: String,
}

impl Log {
    fn refused(&self, error: HttpError, why: &str) -> HttpError {
        metrics::outbound(Counted::Refused);
        tracing::warn!(
            target: "nanohttp::outbound",
            request = %self.label,
            method = %self.method,
            url = %self.url,
            outcome = "refused",
            "{}: {} {} refused: {why}",
            self.label,
            self.method,
            self.url
        );
        error
    }

    fn failed(&self, error: HttpError, why: &str) -> HttpError {
        metrics::outbound(Counted::Failed);
        let ms = self.started.elapsed().as_millis();
        tracing::warn!(
            target: "nanohttp::outbound",
            request = %self.label,
            method = %self.method,
            url = %self.url,
            rule = %self.rule,
            outcome = "failed",
            ms,
            "{}: {} {} failed after {ms} ms: {why} (allowed by {})",
            self.label,
            self.method,
            self.url,
            self.rule
        );
        error
    }

    fn done(&self, status: u16, bytes: u64, ended: &str) {
        metrics::outbound(match ended {
            COMPLETE => Counted::Complete,
            _ if ended.starts_with("cut") => Counted::Cut,
            _ if ended.starts_with("broken") => Counted::Broken,
            _ => Counted::Abandoned,
        });
        let ms = self.started.elapsed().as_millis();
        tracing::info!(
            target: "nanohttp::outbound",
            request = %self.label,
            method = %self.method,
            url = %self.url,
            rule = %self.rule,
            status,
            bytes,
            ms,
            outcome = ended,
            "{}: {} {} -> {status}, {bytes} B in {ms} ms, {ended} (allowed by {})",
            self.label,
            self.method,
            self.url,
            self.rule
        );
    }
}

/// An upstream's response body as the guest reads it: at most `limit` bytes, each piece
/// within `between_bytes` of the last. Holds the request's in-flight slots until it is over,
/// logs the request then, and gives the connection back to the pool if the body was whole.
struct UpstreamBody {
    inner: Incoming,
    received: u64,
    limit: u64,
    between_bytes: Duration,
    /// Fires when the guest has waited `between_bytes` for the next piece.
    stall: Pin<Box<tokio::time::Sleep>>,
    /// Whether `stall` runs: from the first poll after a piece, so time the guest spends
    /// elsewhere (waiting for other calls) does not count.
    waiting: bool,
    /// The log line and the status, until written.
    log: Option<(Log, u16)>,
    /// The connection, kept for another call once this body was read to its end.
    keep: Option<(Arc<Outbound>, String, Sender)>,
    _permits: [OwnedSemaphorePermit; 2],
}

/// How a response body ended.
const COMPLETE: &str = "complete";

impl UpstreamBody {
    fn end(&mut self, how: &str) {
        if let Some((log, status)) = self.log.take() {
            log.done(status, self.received, how);
        }
        if let Some((shared, upstream, sender)) = self.keep.take()
            && how == COMPLETE
        {
            shared.pool.put(upstream, sender);
        }
    }
}

impl hyper::body::Body for UpstreamBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        if !this.waiting {
            let until = tokio::time::Instant::now() + this.between_bytes;
            this.stall.as_mut().reset(until);
            this.waiting = true;
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.waiting = false;
                let size = frame.data_ref().map_or(0, |data| data.len() as u64);
                this.received += size;
                if this.received > this.limit {
                    this.end(&format!("cut: the body is over {} bytes", this.limit));
                    return Poll::Ready(Some(Err(HttpError::HttpResponseBodySize(Some(
                        this.limit,
                    )))));
                }
                if this.inner.is_end_stream() {
                    this.end(COMPLETE);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.end(&format!("broken: {error}"));
                let error = if error.is_incomplete_message() {
                    HttpError::HttpResponseIncomplete
                } else {
                    HttpError::Hyper(error)
                };
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => {
                this.end(COMPLETE);
                Poll::Ready(None)
            }
            Poll::Pending => {
                std::task::ready!(this.stall.as_mut().poll(cx));
                this.end(&format!(
                    "cut: nothing for {} ms (between-bytes timeout)",
                    this.between_bytes.as_millis()
                ));
                Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for UpstreamBody {
    fn drop(&mut self) {
        let how = if hyper::body::Body::is_end_stream(&self.inner) {
            COMPLETE
        } else {
            "not read to the end"
        };
        self.end(how);
    }
}
