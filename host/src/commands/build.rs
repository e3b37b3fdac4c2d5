//! `nanohttp build`: `cargo build --release --target wasm32-wasip2` (with `--p3`, the
//! framework's `p3` feature too), binaryen's `wasm-opt` over the result when it is installed
//! (`wasm_opt.rs`), then the component's path and size.

use std::ffi::OsString;
use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use clap::Parser;

use super::wasm_opt::{self, Outcome};
use crate::target::check_is_component;

/// The target components are built for.
const TARGET: &str = "wasm32-wasip2";

/// Build the application in the current directory (or `--manifest-path`) as a wasi:http
/// component: `cargo build --release --target wasm32-wasip2`. Prints each component built,
/// with its size.
#[derive(Debug, Parser)]
#[command(name = "nanohttp build", version)]
struct BuildArgs {
    /// The package to build, in a workspace.
    #[arg(short, long, value_name = "SPEC")]
    package: Option<String>,

    /// The application's Cargo.toml. [default: the one cargo finds from the current directory]
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,

    /// Build the `dev` profile (faster to build, much bigger and slower) instead of `release`;
    /// wasm-opt is not run.
    #[arg(long, conflicts_with = "profile")]
    debug: bool,

    /// Build this cargo profile instead of `release`.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,

    /// Leave the component as cargo made it. By default, when binaryen's `wasm-opt` is on
    /// `PATH` (or named by `WASM_OPT`), `wasm-opt -Os` makes it about a sixth smaller.
    #[arg(long)]
    no_wasm_opt: bool,

    /// Build a WASI 0.3 component (`wasi:http/handler@0.3.0`) instead of a WASI 0.2 one: the
    /// framework's `p3` feature (`--features nanohttp/p3`).
    #[arg(long)]
    p3: bool,

    /// More arguments for `cargo build`, after `--` (`nanohttp build -- --features x`).
    #[arg(last = true, value_name = "CARGO_ARGS")]
    cargo_args: Vec<OsString>,
}

pub(super) fn run(args: &[OsString]) -> anyhow::Result<()> {
    let args = BuildArgs::try_parse_from(args)?;
    check_target_installed()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .args([
            "build",
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped());
    match (&args.profile, args.debug) {
        (Some(profile), _) => {
            command.args(["--profile", profile]);
        }
        (None, true) => {}
        (None, false) => {
            command.arg("--release");
        }
    }
    if let Some(package) = &args.package {
        command.args(["--package", package]);
    }
    if args.p3 {
        command.args(["--features", "nanohttp/p3"]);
    }
    if let Some(manifest) = &args.manifest_path {
        command.arg("--manifest-path").arg(manifest);
    }
    command.args(&args.cargo_args);
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot run {}", cargo.to_string_lossy()))?;
    let stdout = child.stdout.take().context("cargo's output")?;
    let mut components = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        components.extend(cdylib_wasm(&line));
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("cargo build failed ({status}); its messages are above");
    }
    if components.is_empty() {
        bail!(
            "cargo built no component: the package needs `crate-type = [\"cdylib\", \"rlib\"]` \
             in its [lib] section"
        );
    }
    let optimise = !args.debug && !args.no_wasm_opt;
    for path in components {
        let bytes = std::fs::read(&path)
            .with_context(|| format!("cannot read the component '{}'", path.display()))?;
        check_is_component(&bytes)
            .map_err(|why| anyhow::anyhow!("'{}' is not a component: {why}", path.display()))?;
        // A wasm-opt that fails (an old binaryen, say) costs the size, not the build: the
        // component stays as cargo made it, and the warning says why.
        let outcome = match optimise {
            true => {
                wasm_opt::optimise(&path, &bytes, &wasm_opt::program()).unwrap_or_else(|error| {
                    eprintln!(
                        "warning: wasm-opt left '{}' as cargo made it: {error:#} (`--no-wasm-opt` \
                     skips it)",
                        path.display()
                    );
                    Outcome::Unchanged
                })
            }
            false => Outcome::Unchanged,
        };
        let wasi = if args.p3 { "WASI 0.3, " } else { "" };
        let size = match outcome {
            Outcome::Smaller { after, .. } => after,
            _ => bytes.len(),
        };
        let how = match outcome {
            Outcome::Smaller { before, .. } => {
                format!("; {} from cargo, then wasm-opt", kb(before))
            }
            Outcome::AlreadyDone => "; already through wasm-opt".to_owned(),
            Outcome::Unchanged => String::new(),
            Outcome::NotFound => format!(
                "; {} not found: install binaryen to make it about a sixth smaller",
                wasm_opt::program().to_string_lossy()
            ),
        };
        println!("{} ({wasi}{}{how})", path.display(), kb(size));
    }
    Ok(())
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

/// The `.wasm` files of a `cdylib` in one of cargo's JSON messages.
fn cdylib_wasm(line: &str) -> Vec<PathBuf> {
    let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
        return Vec::new();
    };
    let is_cdylib = message["reason"] == "compiler-artifact"
        && message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|kind| kind == "cdylib"));
    if !is_cdylib {
        return Vec::new();
    }
    message["filenames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|name| name.as_str())
        .filter(|name| name.ends_with(".wasm"))
        .map(PathBuf::from)
        .collect()
}

/// Where rustup manages the toolchain, the target must be installed; say how, rather than
/// let the compiler say it cannot find `core`.
fn check_target_installed() -> anyhow::Result<()> {
    let Ok(output) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    else {
        return Ok(());
    };
    let installed = String::from_utf8_lossy(&output.stdout);
    if output.status.success() && !installed.lines().any(|line| line.trim() == TARGET) {
        bail!("the {TARGET} target is not installed: run `rustup target add {TARGET}`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_components_in_cargos_messages() {
        let artifact = r#"{"reason":"compiler-artifact","target":{"kind":["cdylib","rlib"]},
            "filenames":["/t/app.wasm","/t/libapp.rlib"]}"#
            .replace('\n', "");
        assert_eq!(cdylib_wasm(&artifact), [PathBuf::from("/t/app.wasm")]);
        let library =
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"filenames":["/t/x.rlib"]}"#;
        assert!(cdylib_wasm(library).is_empty());
        assert!(cdylib_wasm(r#"{"reason":"build-finished","success":true}"#).is_empty());
        assert!(cdylib_wasm("not json").is_empty());
    }
}
