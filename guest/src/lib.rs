#![doc = include_str!("../docs/guide.md")]

// Lets the generated bindings name this crate by its absolute path from inside it, too.
#[cfg(target_arch = "wasm32")]
extern crate self as nanohttp;

mod app;
mod body;
pub mod client;
mod context;
mod cookies;
mod dispatch;
mod form;
pub mod future;
mod head;
mod media;
mod multipart;
mod payload;
mod query;
mod redirect;
mod rejection;
mod response;
mod settings;
mod static_files;
mod status;

#[cfg(target_arch = "wasm32")]
mod component;
pub mod kv;
pub mod testing;
pub mod validate;

pub use app::{Application, default_error_body};
pub use body::{BodyReader, status_of_io_error};
pub use context::Context;
pub use dispatch::Controller;
pub use form::{Form, FormValue, UploadedFile};
pub use multipart::{Multipart, Part};
pub use nanohttp_macros::{controller, regex_controller, rest_controller, yaml};
pub use query::Query;
pub use redirect::Redirect;
pub use rejection::{FieldRule, Rejection};
pub use response::{Body, Chunk, Json, Outcome, Reply, Stream};
pub use settings::{
    FRAMEWORK_DEFAULTS, SETTINGS_ENV, Settings, SettingsError, merge as merge_settings,
};
pub use static_files::Static;
pub use status::{HttpStatus, InvalidStatusLine};

/// The `cookie` crate, whose [`Cookie`](cookie::Cookie) builder sets response cookies.
pub use cookie;
/// The `http` crate, whose types the context speaks.
pub use http;
/// The `serde_json` crate, for building JSON values in handlers.
pub use serde_json;

/// What most applications need: `use nanohttp::prelude::*;`.
pub mod prelude {
    pub use crate::cookie::Cookie;
    pub use crate::{
        Application, Body, Context, Controller, HttpStatus, Json, Redirect, Reply, Settings,
        Stream, controller, regex_controller, rest_controller,
    };
}

/// Turns an application into the component's `wasi:http` export: `nanohttp::export!(Root);`
/// where `Root: Application + Default`. That is `wasi:http/incoming-handler@0.2`, or with the
/// framework's `p3` feature, `wasi:http/handler@0.3`.
///
/// One instance of `Root` is created (and `app_init` run) per component instance, on its first
/// request, or once for all of them where the host pre-initialises the component (the
/// `nanohttp` host does: the component's `wizer-initialize` export runs the start-up, and every
/// instance starts from a snapshot of it). Natively (for tests) this expands to nothing.
#[macro_export]
macro_rules! export {
    ($app:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            assert!(
                $crate::__private::defaults_text_is_accepted(
                    <$app as $crate::Application>::SETTINGS
                ),
                "Application::SETTINGS must be a JSON object: write YAML as nanohttp::yaml!(\"...\")"
            );

            struct __NanohttpHandler;

            $crate::__private::export_handler_impl!(__NanohttpHandler, $app);

            impl $crate::__private::bindings::Guest for __NanohttpHandler {
                fn wizer_initialize() {
                    $crate::__private::initialize::<$app>()
                }
            }

            $crate::__private::bindings::export_handler!(
                __NanohttpHandler with_types_in $crate::__private::bindings
            );
        };

        // Natively nothing else names the application (there is no component to export): say
        // it is served as a component would serve it, so a correct application builds and
        // tests without dead-code warnings for its controllers and handlers.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$app as ::core::default::Default>::default;
            let _ = <$app as $crate::Application>::SETTINGS;
        };
    };
}

/// The handler trait's implementation for WASI 0.2 (`export!`'s half that depends on the
/// framework's features, which a `cfg` in `export!` would read from the application's crate).
#[cfg(not(feature = "p3"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_handler_impl {
    ($handler:ident, $app:ty) => {
        impl $crate::__private::bindings::exports::wasi::http::incoming_handler::Guest
            for $handler
        {
            fn handle(
                request: $crate::__private::bindings::wasi::http::types::IncomingRequest,
                response_out: $crate::__private::bindings::wasi::http::types::ResponseOutparam,
            ) {
                $crate::__private::handle_incoming::<$app>(request, response_out)
            }
        }
    };
}

/// The handler trait's implementation for WASI 0.3 (see the 0.2 one).
#[cfg(feature = "p3")]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_handler_impl {
    ($handler:ident, $app:ty) => {
        impl $crate::__private::bindings::exports::wasi::http::handler::Guest for $handler {
            async fn handle(
                request: $crate::__private::bindings::wasi::http::types::Request,
            ) -> ::core::result::Result<
                $crate::__private::bindings::wasi::http::types::Response,
                $crate::__private::bindings::wasi::http::types::ErrorCode,
            > {
                $crate::__private::handle::<$app>(request).await
            }
        }
    };
}

/// The README's example compiles and runs.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExample;

/// Used by the macros' generated code only; not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::__export_handler_impl as export_handler_impl;
    pub use crate::app::{ResponseSink, serve};
    #[cfg(target_arch = "wasm32")]
    pub use crate::component::bindings;
    #[cfg(all(target_arch = "wasm32", feature = "p3"))]
    pub use crate::component::handle;
    #[cfg(all(target_arch = "wasm32", not(feature = "p3")))]
    pub use crate::component::handle_incoming;
    #[cfg(target_arch = "wasm32")]
    pub use crate::component::initialize;
    pub use crate::dispatch::{
        Action, GuardCheck, Guards, capture_arg, capture_opt, invoke, join_path, path_arg,
        path_opt, path_rest, query_opt, query_required, query_vec, rest_fallback, rest_verb,
        trim_trailing_slash,
    };
    pub use crate::settings::defaults_text_is_accepted;
    pub use regex_lite::{Captures, Regex};
    #[cfg(target_arch = "wasm32")]
    pub use wit_bindgen;
}
