//! Builds guest crates of this workspace for `wasm32-wasip2` from a build script. Shared by
//! `host/build.rs` (which embeds the demo) and `tests/build.rs` (which serves every example),
//! through `#[path]`.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const TARGET: &str = "wasm32-wasip2";
/// The workspace profile for components: small and fast (see the root `Cargo.toml`).
pub(crate) const PROFILE: &str = "guest";

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

/// The workspace root, from the manifest directory of a crate one level below it.
pub(crate) fn workspace() -> PathBuf {
    let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    crate_dir
        .parent()
        .expect("the crate lives in the workspace")
        .to_path_buf()
}

/// Asks cargo to rerun the build script when the framework or any of `crates` (directories
/// relative to the workspace) change.
pub(crate) fn watch(workspace: &Path, crates: &[&str]) {
    let framework = ["Cargo.toml", "Cargo.lock", "guest", "wit"];
    for path in framework.iter().chain(crates) {
        println!("cargo::rerun-if-changed={}", workspace.join(path).display());
    }
}

/// Which `wasi:http` the components are built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wasi {
    /// WASI 0.2, the default build.
    P2,
    /// WASI 0.3: the framework's `p3` feature.
    #[allow(
        dead_code,
        reason = "the host's build script builds only WASI 0.2 components"
    )]
    P3,
}

/// Builds `packages` for [`TARGET`] with [`PROFILE`], with the framework's `features` on (and
/// `p3` for [`Wasi::P3`]); returns the directory holding the `.wasm` files (named after each
/// crate, `nanohttp_demo.wasm` for `nanohttp-demo`).
pub(crate) fn build(
    workspace: &Path,
    packages: &[&str],
    wasi: Wasi,
    features: &[&str],
) -> Result<PathBuf, String> {
    check_target_installed()?;

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    // A target dir of its own: the outer cargo holds the lock on its own for as long as this
    // script runs, so sharing it would deadlock. One per WASI version and set of features:
    // the `.wasm` files of every build have the same names, and cargo unifies the features of
    // one build across all its packages.
    let mut dir_name = match wasi {
        Wasi::P2 => "wasm-guests".to_owned(),
        Wasi::P3 => "wasm-guests-p3".to_owned(),
    };
    for feature in features {
        dir_name = format!("{dir_name}-{feature}");
    }
    let target_dir = outer_target_dir(&out_dir, workspace).join(dir_name);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));

    let mut command = Command::new(cargo);
    command.arg("build");
    for package in packages {
        command.args(["--package", package]);
    }
    if wasi == Wasi::P3 {
        command.args(["--features", "nanohttp/p3"]);
    }
    for feature in features {
        command.args(["--features", &format!("nanohttp/{feature}")]);
    }
    command
        .args(["--target", TARGET, "--profile", PROFILE])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    for var in LEAKY_VARS {
        command.env_remove(var);
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run cargo to build {packages:?}: {e}"))?;
    // Cargo shows a build script's output when it fails (or with -vv); keep it for then.
    eprint!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        return Err(format!(
            "building {packages:?} for {TARGET} failed; its cargo output is above"
        ));
    }
    Ok(target_dir.join(TARGET).join(PROFILE))
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
             (it builds the components of this workspace)"
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
