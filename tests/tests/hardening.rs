//! The hardening cases (`cases/hardening.rs`) with a fresh instance per request, the host's
//! default; `reuse.rs` runs them again with instances reused. Also the start-up snapshot those
//! fresh instances are made from (`cases/snapshot.rs`).

use std::path::Path;

use nanohttp_e2e::BackgroundServer;
use nanohttp_e2e::p2 as wasi;

#[path = "cases/hardening.rs"]
mod hardening;
#[path = "cases/snapshot.rs"]
mod snapshot;

fn serve(component: &Path, args: &[&str]) -> BackgroundServer {
    nanohttp_e2e::serve(component, args)
}
