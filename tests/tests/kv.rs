//! `nanohttp::kv` end to end (`cases/kv.rs`). The components are
//! WASI 0.2 ones; `p3.rs` runs the same cases with their WASI 0.3 builds.

use nanohttp_e2e::p2 as wasi;

#[path = "cases/kv.rs"]
mod kv;
