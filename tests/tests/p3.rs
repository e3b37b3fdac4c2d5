//! Every end-to-end case again with the WASI 0.3 builds of the examples and fixtures
//! (`wasi:http/handler@0.3.0`, the framework's `p3` feature), served by the same host with the
//! same expectations: dispatch, payloads, hardening and limits, reuse, state, outgoing
//! requests, settings, the start-up snapshot and static files. The 50 MiB streaming case has a
//! binary of its own (`p3_outbound_memory.rs`), as for WASI 0.2.

// The hardening and payload cases run twice here, as in `hardening.rs`/`forms.rs` and
// `reuse.rs` for WASI 0.2: with fresh instances, and inside `reuse` with reused ones.
#![allow(clippy::duplicate_mod)]

use std::path::Path;

use nanohttp_e2e::BackgroundServer;
use nanohttp_e2e::p3 as wasi;

/// The shared cases' server: a fresh instance per request, the host's default.
fn serve(component: &Path, args: &[&str]) -> BackgroundServer {
    nanohttp_e2e::serve(component, args)
}

#[path = "cases/examples.rs"]
mod examples;
#[path = "cases/forms.rs"]
mod forms;
#[path = "cases/hardening.rs"]
mod hardening;
#[path = "cases/kv.rs"]
mod kv;
#[path = "cases/outbound.rs"]
mod outbound;
#[path = "cases/recipes.rs"]
mod recipes;
#[path = "cases/replicas.rs"]
mod replicas;
#[path = "cases/reuse.rs"]
mod reuse;
#[path = "cases/settings.rs"]
mod settings;
#[path = "cases/snapshot.rs"]
mod snapshot;
#[path = "cases/static_files.rs"]
mod static_files;
