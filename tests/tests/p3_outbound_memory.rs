//! A 50 MiB upstream body streamed through the gateway (`cases/outbound_memory.rs`), with the
//! WASI 0.3 build of the gateway; alone in its test binary so no other test's memory is
//! counted.

use nanohttp_e2e::p3 as wasi;

#[path = "cases/outbound_memory.rs"]
mod outbound_memory;
