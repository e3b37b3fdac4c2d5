//! The only code that speaks WASI: the bindings generated from `wit/` and the glue between the
//! component's `wasi:http` export and the framework's request cycle (`app.rs`). One glue per
//! WASI version, chosen by the `p3` feature: `p2.rs` exports
//! `wasi:http/incoming-handler@0.2`, `p3.rs` exports `wasi:http/handler@0.3`. What they share
//! (the application instance, the request head) is here.

use std::any::Any;
use std::cell::{Cell, OnceCell};
use std::sync::Arc;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

use crate::app::{Application, panic_message};
use crate::head::RequestHead;
use crate::rejection::Rejection;
use crate::settings::{SETTINGS_ENV, Settings};
use crate::status::HttpStatus;

#[cfg(any(feature = "config-store", feature = "config-store-spin"))]
mod config_store;
#[cfg(not(feature = "p3"))]
mod p2;
#[cfg(feature = "p3")]
mod p3;

#[cfg(not(feature = "p3"))]
pub use p2::handle_incoming;
#[cfg(not(feature = "p3"))]
pub(crate) use p2::{BodyOwner, IncomingReader};
#[cfg(feature = "p3")]
pub use p3::handle;
#[cfg(feature = "p3")]
pub(crate) use p3::{BodyError, StreamBody, block_on};

#[allow(
    missing_docs,
    unreachable_pub,
    missing_debug_implementations,
    clippy::all,
    reason = "generated code"
)]
pub mod bindings {
    #[cfg(not(feature = "p3"))]
    wit_bindgen::generate!({
        path: "wit",
        world: "nanohttp:app/app",
        generate_all,
        pub_export_macro: true,
        export_macro_name: "export_handler",
        default_bindings_module: "::nanohttp::__private::bindings",
        runtime_path: "::nanohttp::__private::wit_bindgen::rt",
    });

    #[cfg(feature = "p3")]
    wit_bindgen::generate!({
        path: "wit/p3",
        world: "nanohttp:app/app-p3",
        generate_all,
        pub_export_macro: true,
        export_macro_name: "export_handler",
        default_bindings_module: "::nanohttp::__private::bindings",
        runtime_path: "::nanohttp::__private::wit_bindgen::rt",
    });
}

/// The application of this component instance, created on its first request.
type Instance<A> = Result<(A, Arc<Settings>), StartFailure>;

/// Why this instance's application cannot start (its settings), answered to every request.
pub(crate) struct StartFailure {
    reason: String,
    /// The application's own defaults turn `debug` on (the host's layers, which failed,
    /// cannot say).
    debug: bool,
}

impl StartFailure {
    /// Logs the reason and returns the `500`'s text: with the reason in debug mode.
    fn answer(&self) -> String {
        eprintln!("nanohttp: cannot start the application: {}", self.reason);
        let status = HttpStatus::internal_server_error();
        match self.debug {
            true => format!(
                "{status}\n\ncannot start the application: {}\n",
                self.reason
            ),
            false => format!("{status}\n"),
        }
    }
}

thread_local! {
    // One application per component; `dyn Any` because a thread-local cannot be generic.
    static INSTANCE: OnceCell<&'static dyn Any> = const { OnceCell::new() };
    // Whether the panic hook may show the panic message (the `debug` setting).
    static DEBUG: Cell<bool> = const { Cell::new(false) };
}

/// This instance's application and settings, created (and `app_init` run) on first use; `Err`
/// says why it cannot start (its settings).
fn instance<A: Application + Default + 'static>() -> &'static Instance<A> {
    let any = INSTANCE.with(|cell| {
        *cell.get_or_init(|| {
            let instance: Instance<A> = build_instance();
            // Lives as long as the component instance, which the host discards as a whole.
            Box::leak(Box::new(instance))
        })
    });
    any.downcast_ref()
        .expect("a component exports exactly one application type")
}

/// The component's `wizer-initialize` export: the start-up the first request would run, so a
/// host can run it once and snapshot the instance (see `export!`). Does nothing the second time.
pub fn initialize<A: Application + Default + 'static>() {
    let _ = instance::<A>();
}

fn build_instance<A: Application + Default>() -> Instance<A> {
    #[cfg(not(feature = "p3"))]
    install_panic_hook(p2::answer_panic);
    #[cfg(feature = "p3")]
    install_panic_hook(p3::answer_panic);
    let failure = |reason: String| StartFailure {
        reason,
        debug: Settings::from_layers([("application defaults", A::SETTINGS)])
            .is_ok_and(|defaults| defaults.debug()),
    };
    let host = std::env::var(SETTINGS_ENV).unwrap_or_default();
    let layers = [
        ("application defaults", A::SETTINGS),
        (SETTINGS_ENV, host.as_str()),
    ];
    // The config store's layer goes over the environment's: where a platform fills both, the
    // store is the one its deployment tools speak.
    #[cfg(any(feature = "config-store", feature = "config-store-spin"))]
    let store = config_store::settings().map_err(failure)?;
    #[cfg(any(feature = "config-store", feature = "config-store-spin"))]
    let layers = layers
        .into_iter()
        .chain(store.as_deref().map(|text| (config_store::LAYER, text)));
    let settings = Settings::from_layers(layers).map_err(|error| failure(error.to_string()))?;
    DEBUG.set(settings.debug());
    let mut app = A::default();
    app.app_init(&settings);
    Ok((app, Arc::new(settings)))
}

/// Installed once per instance: a panic before the response started becomes the framework's
/// own `500` (with the message when `debug` is on), sent by `answer` (the glue's, which says
/// whether the response was still pending), after which the instance exits with status 0 to
/// tell the host the response is whole. A panic after the response started still aborts,
/// which cuts the body, as it must.
fn install_panic_hook(answer: fn(StatusCode, String) -> bool) {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        let status = HttpStatus::internal_server_error();
        let text = match DEBUG.get() {
            true => format!(
                "{status}\n\nhandler panicked: {}\n",
                panic_message(info.payload())
            ),
            false => format!("{status}\n"),
        };
        if answer(status.status_code(), text) {
            std::process::exit(0);
        }
    }));
}

/// A request's head as the host gives it, whichever WASI version: the method's name, the
/// target and the header fields.
struct Head {
    method: http::Method,
    target: Option<String>,
    fields: Vec<(String, Vec<u8>)>,
}

impl Head {
    /// The method, target and headers; the body is read later, when a handler asks for it.
    fn parse(self) -> Result<RequestHead, HttpStatus> {
        let uri = http::Uri::try_from(self.target.unwrap_or_else(|| "/".to_owned()))
            .map_err(|_| malformed("Request Target"))?;
        RequestHead::from_fields(self.method, uri, self.fields).map_err(|_| malformed("Header"))
    }
}

/// Headers as `wasi:http` field entries (either version's `fields.from-list` takes these).
pub(crate) fn field_entries(headers: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect()
}

/// A response's fields as an `http` header map, leaving out any the `http` crate cannot
/// represent (an upstream's answer to an outgoing request: its other headers still count).
pub(crate) fn lenient_headers(fields: Vec<(String, Vec<u8>)>) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(fields.len());
    for (name, value) in fields {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(&value),
        ) {
            headers.append(name, value);
        }
    }
    headers
}

/// The `400` for a part of the request the framework cannot represent.
fn malformed(part: &'static str) -> HttpStatus {
    HttpStatus::from(Rejection::MalformedRequest { part })
}

/// Maps a `wasi:http` method (either version's `method` variant, which have the same cases)
/// to the `http` crate's.
macro_rules! method_from_wasi {
    ($method:expr, $wasi:path) => {{
        use $wasi as W;
        match $method {
            W::Get => Ok(http::Method::GET),
            W::Head => Ok(http::Method::HEAD),
            W::Post => Ok(http::Method::POST),
            W::Put => Ok(http::Method::PUT),
            W::Delete => Ok(http::Method::DELETE),
            W::Connect => Ok(http::Method::CONNECT),
            W::Options => Ok(http::Method::OPTIONS),
            W::Trace => Ok(http::Method::TRACE),
            W::Patch => Ok(http::Method::PATCH),
            W::Other(other) => http::Method::from_bytes(other.as_bytes())
                .map_err(|_| $crate::component::malformed("Method")),
        }
    }};
}
pub(crate) use method_from_wasi;

/// The other way: an `http` method as either version's `method` variant.
macro_rules! method_to_wasi {
    ($method:expr, $wasi:path) => {{
        use $wasi as W;
        match *$method {
            http::Method::GET => W::Get,
            http::Method::HEAD => W::Head,
            http::Method::POST => W::Post,
            http::Method::PUT => W::Put,
            http::Method::DELETE => W::Delete,
            http::Method::CONNECT => W::Connect,
            http::Method::OPTIONS => W::Options,
            http::Method::TRACE => W::Trace,
            http::Method::PATCH => W::Patch,
            ref other => W::Other(other.as_str().to_owned()),
        }
    }};
}
pub(crate) use method_to_wasi;
