//! What one request's `Store` holds, and the WASI / WASI-HTTP views over it: the memory
//! limiter and the guest's stdout and stderr, which become log lines.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::AsyncWrite;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::options::DirMapping;
use crate::outbound::{Outbound, OutboundHooks};
use crate::trace::TraceContext;

/// The environment variable carrying the merged settings, the only one a guest sees.
pub(crate) const SETTINGS_VAR: &str = "NANOHTTP_SETTINGS";

/// Store data for one instance: created with it (per request, unless `--reuse` keeps
/// instances for several), dropped with it.
pub(crate) struct RequestState {
    /// The request being served, named in the guest's log lines.
    label: RequestLabel,
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: OutboundHooks,
    limiter: MemoryLimiter,
    kv: crate::kv::KvCtx,
}

impl RequestState {
    /// The guest gets `NANOHTTP_SETTINGS` and nothing else from the host's environment, no
    /// arguments, no sockets, an empty stdin, and no files but the `dirs` mapped in, read-only;
    /// what it writes to stdout and stderr becomes log lines (target `nanohttp::guest`)
    /// prefixed with the label of the request being served (see [`RequestState::serving`]).
    /// Each of its linear memories may grow to `memory_limit` bytes. Its outgoing requests go
    /// through `outbound` (refused unless allowed).
    ///
    /// # Errors
    /// A mapped directory cannot be opened (it was checked at start-up, but may have gone).
    pub(crate) fn new(
        settings: &str,
        memory_limit: usize,
        dirs: &[DirMapping],
        outbound: &Arc<Outbound>,
        kv: Arc<crate::kv::Kv>,
    ) -> anyhow::Result<Self> {
        let label = RequestLabel::default();
        let mut builder = WasiCtx::builder();
        for dir in dirs {
            builder
                .preopened_dir(&dir.host, &dir.guest, FsPerms::ReadOnly)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot open the mapped directory '{}': {e:#}",
                        dir.host.display()
                    )
                })?;
        }
        let wasi = builder
            .env(SETTINGS_VAR, settings)
            .stdout(GuestOutput {
                stream: "stdout",
                label: label.clone(),
            })
            .stderr(GuestOutput {
                stream: "stderr",
                label: label.clone(),
            })
            .allow_tcp(false)
            .allow_udp(false)
            .build();
        Ok(Self {
            label,
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            hooks: OutboundHooks::new(outbound.clone()),
            limiter: MemoryLimiter {
                limit: memory_limit,
                refused: false,
            },
            kv: crate::kv::KvCtx::new(kv),
        })
    }

    /// Names the request the instance serves from now on (its method and path), for the
    /// guest's log lines and its outgoing requests', which also end by its `deadline`.
    pub(crate) fn serving(
        &mut self,
        label: Arc<str>,
        deadline: Option<Instant>,
        trace: Option<TraceContext>,
    ) {
        self.hooks.serving(label.clone(), deadline, trace);
        *self.label.0.lock().unwrap_or_else(PoisonError::into_inner) = label;
        self.kv.begin_request();
    }

    /// The guest's `wasi:keyvalue` view (see `kv.rs`).
    pub(crate) fn kv(&mut self) -> crate::kv::KvView<'_> {
        crate::kv::KvView {
            ctx: &mut self.kv,
            table: &mut self.table,
        }
    }

    /// Whether the guest holds a handle to anything of the host's (a stream, a body, a bucket):
    /// after the start-up, whether it can be snapshotted (`snapshot.rs`).
    pub(crate) fn holds_handles(&self) -> bool {
        !self.table.is_empty()
    }

    /// For [`wasmtime::Store::limiter`].
    pub(crate) fn limiter(&mut self) -> &mut dyn ResourceLimiter {
        &mut self.limiter
    }

    /// Whether the guest asked for more memory than its limit (and was refused).
    pub(crate) fn memory_refused(&self) -> bool {
        self.limiter.refused
    }
}

/// Refuses to grow a linear memory beyond the limit, and remembers having refused, so the log
/// can say why the guest failed (its allocator aborts, which traps).
struct MemoryLimiter {
    limit: usize,
    refused: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.refused = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // The pool bounds tables; their elements are a pointer each.
        Ok(true)
    }
}

/// The request an instance is serving, shared with its output streams: a reused instance's
/// streams outlive a request.
#[derive(Clone, Default)]
struct RequestLabel(Arc<Mutex<Arc<str>>>);

impl RequestLabel {
    fn get(&self) -> Arc<str> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A guest's stdout or stderr: whole lines become `info` events of target `nanohttp::guest`,
/// with the stream and the request's method and path.
struct GuestOutput {
    stream: &'static str,
    label: RequestLabel,
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            stream: self.stream,
            label: self.label.clone(),
            pending: Vec::new(),
        })
    }
}

/// Longest line kept whole; longer ones are logged in pieces of this size.
const MAX_LINE: usize = 8 << 10;

/// Buffers a stream's bytes until a newline, then logs the line.
struct LineWriter {
    stream: &'static str,
    label: RequestLabel,
    pending: Vec<u8>,
}

impl LineWriter {
    fn emit(&self, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        let line = line.strip_suffix('\r').unwrap_or(&line);
        tracing::info!(
            target: "nanohttp::guest",
            stream = self.stream,
            "{} [{}] {line}",
            self.label.get(),
            self.stream
        );
    }

    fn take_lines(&mut self) {
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.emit(&line[..line.len() - 1]);
        }
        while self.pending.len() >= MAX_LINE {
            let piece: Vec<u8> = self.pending.drain(..MAX_LINE).collect();
            self.emit(&piece);
        }
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pending.extend_from_slice(buf);
        self.take_lines();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let rest = std::mem::take(&mut self.pending);
        if !rest.is_empty() {
            self.emit(&rest);
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            self.emit(&self.pending);
        }
    }
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}
