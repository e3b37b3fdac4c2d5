//! Builds the demo component (`examples/demo`, package `nanohttp-demo`) for `wasm32-wasip2` and
//! puts it in `OUT_DIR` for `src/demo.rs` to embed, so `nanohttp demo` needs no other file.
//!
//! Skipped (the binary then says the demo is not embedded) when `NANOHTTP_NO_DEMO` is set,
//! which saves rebuilding the demo on every guest change while working on the host.

#[path = "build/guests.rs"]
mod guests;

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(nanohttp_demo_embedded)");
    println!("cargo::rerun-if-env-changed=NANOHTTP_NO_DEMO");
    if env::var_os("NANOHTTP_NO_DEMO").is_some() {
        return;
    }
    let workspace = guests::workspace();
    guests::watch(&workspace, &["examples/demo"]);
    if let Err(message) = embed_demo(&workspace) {
        println!("cargo::error={message}");
    }
}

fn embed_demo(workspace: &std::path::Path) -> Result<(), String> {
    let built = guests::build(workspace, &["nanohttp-demo"])
        .map_err(|e| format!("{e} (set NANOHTTP_NO_DEMO=1 to build the host without the demo)"))?
        .join("nanohttp_demo.wasm");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::copy(&built, out_dir.join("nanohttp_demo.wasm"))
        .map_err(|e| format!("cannot copy {}: {e}", built.display()))?;
    println!("cargo::rustc-cfg=nanohttp_demo_embedded");
    Ok(())
}
