//! Builds every guest crate under `examples/` and `tests/fixtures/` for `wasm32-wasip2`, as
//! WASI 0.2 and as WASI 0.3 components, and `examples/config` with each of the framework's
//! `wasi:config/store` features, and tells the tests where they are
//! (`NANOHTTP_COMPONENTS_DIR`, `NANOHTTP_COMPONENTS_P3_DIR`,
//! `NANOHTTP_COMPONENTS_CONFIG_STORE{,_SPIN}_DIR`). A new example or fixture is picked up
//! without editing this file.

#[path = "../host/build/guests.rs"]
mod guests;

use std::path::Path;

fn main() {
    let workspace = guests::workspace();
    let mut dirs = Vec::new();
    let mut packages = Vec::new();
    for parent in ["examples", "tests/fixtures"] {
        let Ok(entries) = std::fs::read_dir(workspace.join(parent)) else {
            continue;
        };
        for entry in entries.flatten() {
            let manifest = entry.path().join("Cargo.toml");
            if let Some(name) = package_name(&manifest) {
                dirs.push(format!("{parent}/{}", entry.file_name().to_string_lossy()));
                packages.push(name);
            }
        }
        println!(
            "cargo::rerun-if-changed={}",
            workspace.join(parent).display()
        );
    }
    packages.sort();
    guests::watch(
        &workspace,
        &dirs.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let packages: Vec<&str> = packages.iter().map(String::as_str).collect();
    // Every package twice: for WASI 0.2 and, with the framework's `p3` feature, for 0.3; then
    // `examples/config` once more with each `wasi:config/store` feature (a build of its own:
    // cargo would turn a feature on for every package built with it).
    let config: &[&str] = &["nanohttp-config"];
    let builds: [(&[&str], guests::Wasi, &[&str], &str); 4] = [
        (&packages, guests::Wasi::P2, &[], "NANOHTTP_COMPONENTS_DIR"),
        (
            &packages,
            guests::Wasi::P3,
            &[],
            "NANOHTTP_COMPONENTS_P3_DIR",
        ),
        (
            config,
            guests::Wasi::P2,
            &["config-store"],
            "NANOHTTP_COMPONENTS_CONFIG_STORE_DIR",
        ),
        (
            config,
            guests::Wasi::P2,
            &["config-store-spin"],
            "NANOHTTP_COMPONENTS_CONFIG_STORE_SPIN_DIR",
        ),
    ];
    for (packages, wasi, features, var) in builds {
        match guests::build(&workspace, packages, wasi, features) {
            Ok(dir) => println!("cargo::rustc-env={var}={}", dir.display()),
            Err(message) => println!("cargo::error={message}"),
        }
    }
}

/// The `name` of a manifest's `[package]`, read without a TOML parser: the first line that
/// starts with `name = "`.
fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    text.lines()
        .find_map(|line| line.trim().strip_prefix("name = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .map(str::to_owned)
}
