//! Settings from `wasi:config/store`, for platforms whose deployment configuration is a config
//! store rather than the environment: the `config-store` feature binds
//! `wasi:config/store@0.2.0-rc.1` (`wasmtime serve -Sconfig`, wasmCloud 2), `config-store-spin`
//! the `@0.2.0-draft-2024-09-27` Spin 3 and 4 offer for their variables. Without either
//! feature this module is not built and the component does not import the interface.

#[cfg(all(feature = "config-store", feature = "config-store-spin"))]
compile_error!(
    "the features `config-store` and `config-store-spin` bind two versions of \
     wasi:config/store: a component can import only one, choose the one its platform offers"
);

#[allow(missing_docs, unreachable_pub, clippy::all, reason = "generated code")]
mod bindings {
    #[cfg(feature = "config-store")]
    wit_bindgen::generate!({ path: "wit/config/0.2.0-rc.1.wit", world: "wasi:config/imports" });
    #[cfg(all(feature = "config-store-spin", not(feature = "config-store")))]
    wit_bindgen::generate!({
        path: "wit/config/0.2.0-draft-2024-09-27.wit",
        world: "wasi:config/imports",
    });
}

use bindings::wasi::config::store;

/// The key the settings are read from: one JSON object, like `NANOHTTP_SETTINGS` (Spin's
/// variable names are lower case).
pub(crate) const SETTINGS_KEY: &str = "nanohttp_settings";

/// The name of this layer in error messages.
pub(crate) const LAYER: &str = "wasi:config/store `nanohttp_settings`";

/// The store's `nanohttp_settings`, if it has one; `Err` says why the store could not be read.
pub(crate) fn settings() -> Result<Option<String>, String> {
    store::get(SETTINGS_KEY).map_err(|error| {
        let (kind, message) = match error {
            store::Error::Upstream(message) => ("upstream", message),
            store::Error::Io(message) => ("i/o", message),
        };
        format!("cannot read {LAYER}: {kind} error: {message}")
    })
}
