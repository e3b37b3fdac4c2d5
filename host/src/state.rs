//! What one request's `Store` holds, and the WASI / WASI-HTTP views over it.

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
    WasiHttpView,
};

/// The environment variable carrying the merged settings, the only one a guest sees.
pub(crate) const SETTINGS_VAR: &str = "NANOHTTP_SETTINGS";

/// Store data for one request: created fresh per request, dropped with its instance.
pub(crate) struct RequestState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: NoOutgoingRequests,
}

impl RequestState {
    /// The guest gets `NANOHTTP_SETTINGS` and nothing else from the host's environment, no
    /// arguments, no files, no sockets, an empty stdin, and the host's stdout and stderr.
    pub(crate) fn new(settings: &str) -> Self {
        let wasi = WasiCtx::builder()
            .env(SETTINGS_VAR, settings)
            .inherit_stdout()
            .inherit_stderr()
            .allow_tcp(false)
            .allow_udp(false)
            .build();
        Self {
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            hooks: NoOutgoingRequests,
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

/// Outgoing HTTP from guests is refused: `wasi:http/outgoing-handler.handle` fails with the
/// error code `HTTP-request-denied`. Serving needs no client (and wasmtime's default one pulls
/// in rustls); a later option can allow it, with an allow-list.
struct NoOutgoingRequests;

impl WasiHttpHooks for NoOutgoingRequests {
    fn send_request(
        &mut self,
        _request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _response_error: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        Box::new(async { Err(HttpError::HttpRequestDenied) })
    }
}
