//! The documentation's recipes as components (`cases/recipes.rs`). The components are
//! WASI 0.2 ones; `p3.rs` runs the same cases with their WASI 0.3 builds.

use nanohttp_e2e::p2 as wasi;

#[path = "cases/recipes.rs"]
mod recipes;
