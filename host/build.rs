//! Builds the demo component (`examples/demo`, package `nanohttp-demo`) and the static file
//! server (`examples/static`, package `nanohttp-static`) for `wasm32-wasip2`, in one cargo
//! call, and puts them in `OUT_DIR` for `src/demo.rs` to embed, so `nanohttp demo` and
//! `nanohttp :Static` need no other file.
//!
//! Skipped, both (the binary then says they are not embedded), when `NANOHTTP_NO_DEMO` is set,
//! which saves rebuilding them on every guest change while working on the host.

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
    guests::watch(&workspace, &["examples/demo", "examples/static"]);
    if let Err(message) = embed(&workspace) {
        println!("cargo::error={message}");
    }
}

fn embed(workspace: &std::path::Path) -> Result<(), String> {
    let built = guests::build(workspace, &["nanohttp-demo", "nanohttp-static"]).map_err(|e| {
        format!(
            "{e} (set NANOHTTP_NO_DEMO=1 to build the host without the demo and the static \
             file server)"
        )
    })?;
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    for file in ["nanohttp_demo.wasm", "nanohttp_static.wasm"] {
        let from = built.join(file);
        std::fs::copy(&from, out_dir.join(file))
            .map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    }
    // One flag for both: they are built, and skipped, together.
    println!("cargo::rustc-cfg=nanohttp_demo_embedded");
    Ok(())
}
