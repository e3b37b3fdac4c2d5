//! The examples, built for `wasm32-wasip2`, served by the `nanohttp` host, over real HTTP
//! (`cases/examples.rs`). The components are WASI 0.2 ones; `p3.rs` runs the same cases with
//! their WASI 0.3 builds.

use nanohttp_e2e::p2 as wasi;

#[path = "cases/examples.rs"]
mod examples;
