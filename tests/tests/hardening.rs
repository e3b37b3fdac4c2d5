//! The hardening cases (`cases/hardening.rs`) with a fresh instance per request, the host's
//! default; `reuse.rs` runs them again with instances reused.

use std::path::Path;

use nanohttp_e2e::BackgroundServer;
use nanohttp_e2e::p2 as wasi;

#[path = "cases/hardening.rs"]
mod hardening;

fn serve(component: &Path, args: &[&str]) -> BackgroundServer {
    nanohttp_e2e::serve(component, args)
}
