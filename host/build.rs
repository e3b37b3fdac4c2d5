//! Builds the demo component (`examples/demo`, package `nanohttp-demo`) for `wasm32-wasip2` and
//! puts it in `OUT_DIR` for `src/demo.rs` to embed, so `nanohttp demo` needs no other file.
//!
//! Skipped (the binary then says the demo is not embedded) when the workspace has no
//! `examples/demo` yet, or when `NANOHTTP_NO_DEMO` is set, which saves rebuilding the demo on
//! every guest change while working on the host.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGE: &str = "nanohttp-demo";
const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "guest";

/// What the outer build sets that must not reach the inner one: flags meant for the host
/// target (or coverage instrumentation), the outer target and target dir, clippy as a
/// compiler wrapper, and the outer jobserver.
const LEAKY_VARS: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_BUILD_DIR",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(nanohttp_demo_embedded)");
    println!("cargo::rerun-if-env-changed=NANOHTTP_NO_DEMO");

    let host_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let workspace = host_dir.parent().expect("host/ lives in the workspace");
    // The demo joins the workspace through the root manifest, so watch it either way.
    rerun_if_changed(&workspace.join("Cargo.toml"));

    if env::var_os("NANOHTTP_NO_DEMO").is_some() {
        return;
    }
    let demo = workspace.join("examples").join("demo");
    if !demo.join("Cargo.toml").is_file() {
        return;
    }
    for watched in [
        workspace.join("Cargo.lock"),
        workspace.join("guest"),
        workspace.join("guest").join("macros"),
        workspace.join("wit"),
        demo,
    ] {
        rerun_if_changed(&watched);
    }

    if let Err(message) = build_demo(workspace) {
        println!("cargo::error={message}");
    }
}

fn build_demo(workspace: &Path) -> Result<(), String> {
    check_target_installed()?;

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    // A target dir of its own: the outer cargo holds the lock on its own for as long as this
    // script runs, so sharing it would deadlock.
    let target_dir = outer_target_dir(&out_dir, workspace).join("wasm-guests");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));

    let mut command = Command::new(cargo);
    command
        .arg("build")
        .args([
            "--package",
            PACKAGE,
            "--target",
            TARGET,
            "--profile",
            PROFILE,
        ])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    for var in LEAKY_VARS {
        command.env_remove(var);
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run cargo to build the demo component: {e}"))?;
    // Cargo shows a build script's output when it fails (or with -vv); keep it for then.
    eprint!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        return Err(format!(
            "building the demo component ({PACKAGE}) for {TARGET} failed; \
             its cargo output is above (set NANOHTTP_NO_DEMO=1 to build without the demo)"
        ));
    }

    let built_dir = target_dir.join(TARGET).join(PROFILE);
    // A `cdylib` is named after the crate, a `bin` after the package.
    let built = ["nanohttp_demo.wasm", "nanohttp-demo.wasm"]
        .iter()
        .map(|name| built_dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            format!(
                "the demo component was built but is not in {}",
                built_dir.display()
            )
        })?;
    std::fs::copy(&built, out_dir.join("nanohttp_demo.wasm"))
        .map_err(|e| format!("cannot copy {}: {e}", built.display()))?;
    println!("cargo::rustc-cfg=nanohttp_demo_embedded");
    Ok(())
}

/// The wasm target's standard library must be installed for the toolchain in use.
fn check_target_installed() -> Result<(), String> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let output = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let libdir = String::from_utf8_lossy(&output.stdout);
    if output.status.success() && Path::new(libdir.trim()).is_dir() {
        Ok(())
    } else {
        Err(format!(
            "the {TARGET} target is not installed: run `rustup target add {TARGET}` \
             (it builds the demo component embedded in `nanohttp`)"
        ))
    }
}

/// The outer build's target dir: the nearest ancestor of `OUT_DIR` that cargo tagged with
/// `CACHEDIR.TAG`, else `CARGO_TARGET_DIR`, else `<workspace>/target`.
fn outer_target_dir(out_dir: &Path, workspace: &Path) -> PathBuf {
    if let Some(tagged) = out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
    {
        return tagged.to_path_buf();
    }
    match env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}

fn rerun_if_changed(path: &Path) {
    println!("cargo::rerun-if-changed={}", path.display());
}
