//! The components built for wasm32-wasip2 and embedded by `build.rs` (unless
//! `NANOHTTP_NO_DEMO` was set for the build): the demo (`nanohttp demo`) and the static file
//! server (`nanohttp :Static`, package `nanohttp-static`).

/// The demo component's bytes, if this build embedded it.
#[cfg(nanohttp_demo_embedded)]
pub(crate) const COMPONENT: Option<&[u8]> = Some(include_bytes!(concat!(
    env!("OUT_DIR"),
    "/nanohttp_demo.wasm"
)));

/// The demo component's bytes, if this build embedded it.
#[cfg(not(nanohttp_demo_embedded))]
pub(crate) const COMPONENT: Option<&[u8]> = None;

/// The static file server's bytes, if this build embedded it.
#[cfg(nanohttp_demo_embedded)]
pub(crate) const STATIC_SERVER: Option<&[u8]> = Some(include_bytes!(concat!(
    env!("OUT_DIR"),
    "/nanohttp_static.wasm"
)));

/// The static file server's bytes, if this build embedded it.
#[cfg(not(nanohttp_demo_embedded))]
pub(crate) const STATIC_SERVER: Option<&[u8]> = None;
