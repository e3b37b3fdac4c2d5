//! A 50 MiB upstream body streamed through the gateway (`cases/outbound_memory.rs`), alone
//! in its test binary so no other test's memory is counted. The components are
//! WASI 0.2 ones; `p3.rs` runs the same cases with their WASI 0.3 builds.

use nanohttp_e2e::p2 as wasi;

#[path = "cases/outbound_memory.rs"]
mod outbound_memory;
