//! Builds the demo component (`examples/demo`, package `nanohttp-demo`) and the static file
//! server (`examples/static`, package `nanohttp-static`) for `wasm32-wasip2`, in one cargo
//! call, and puts them in `OUT_DIR` for `src/demo.rs` to embed, so `nanohttp demo` and
//! `nanohttp :Static` need no other file.
//!
//! Skipped, both (the binary then says they are not embedded), when `NANOHTTP_NO_DEMO` is set,
//! which saves rebuilding them on every guest change while working on the host.
//!
//! Built from a package (crates.io, `cargo install`), the host has no workspace to build them
//! from: it embeds the prebuilt `embedded/nanohttp_demo.wasm` and
//! `embedded/nanohttp_static.wasm` its package ships (`.ci/package` puts them there before
//! packaging), or nothing when they are absent.

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
    let result = if workspace.join("examples/demo/Cargo.toml").is_file() {
        guests::watch(&workspace, &["examples/demo", "examples/static"]);
        build_and_embed(&workspace)
    } else {
        embed_shipped()
    };
    if let Err(message) = result {
        println!("cargo::error={message}");
    }
}

/// The components a package ships, prebuilt, if it ships both.
fn embed_shipped() -> Result<(), String> {
    let shipped =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("embedded");
    println!("cargo::rerun-if-changed={}", shipped.display());
    if FILES.iter().all(|file| shipped.join(file).is_file()) {
        copy_to_out_dir(&shipped)?;
    }
    Ok(())
}

/// The embedded components' file names.
const FILES: [&str; 2] = ["nanohttp_demo.wasm", "nanohttp_static.wasm"];

fn build_and_embed(workspace: &std::path::Path) -> Result<(), String> {
    let built = guests::build(
        workspace,
        &["nanohttp-demo", "nanohttp-static"],
        guests::Wasi::P2,
        &[],
    )
    .map_err(|e| {
        format!(
            "{e} (set NANOHTTP_NO_DEMO=1 to build the host without the demo and the static \
             file server)"
        )
    })?;
    copy_to_out_dir(&built)
}

/// Copies both components from `dir` to `OUT_DIR`, for `src/demo.rs` to embed.
fn copy_to_out_dir(dir: &std::path::Path) -> Result<(), String> {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    for file in FILES {
        let from = dir.join(file);
        std::fs::copy(&from, out_dir.join(file))
            .map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    }
    // One flag for both: they are built, and skipped, together.
    println!("cargo::rustc-cfg=nanohttp_demo_embedded");
    Ok(())
}
