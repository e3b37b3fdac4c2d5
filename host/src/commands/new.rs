//! `nanohttp new NAME`: a new application crate, ready for `cargo test` and `nanohttp build`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Parser;

use crate::io::io_reason;

/// Start a new nanohttp application in the directory NAME: a crate with a small controller
/// tree, its native tests, and a release profile for small components.
#[derive(Debug, Parser)]
#[command(name = "nanohttp new", version)]
struct NewArgs {
    /// The application's name: its directory and its crate (ASCII letters, digits, `-` and
    /// `_`, starting with a letter).
    name: String,

    /// Where to create it. [default: the current directory]
    #[arg(short = 'C', long = "directory", value_name = "DIR")]
    directory: Option<PathBuf>,

    /// Depend on the nanohttp crate in this directory (a checkout's `guest/`), instead of the
    /// published version.
    #[arg(long, value_name = "DIR", conflicts_with = "git")]
    path: Option<PathBuf>,

    /// Depend on nanohttp from this git repository instead of the published version.
    #[arg(long, value_name = "URL")]
    git: Option<String>,

    /// With `--git`: the branch to use.
    #[arg(long, value_name = "BRANCH", requires = "git")]
    branch: Option<String>,
}

/// The template: each file's path in the new crate and its text, with `{{name}}`, `{{crate}}`
/// (the name as a Rust identifier) and `{{dependency}}` (the `nanohttp` dependency) to fill.
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("template/Cargo.toml.in")),
    ("src/lib.rs", include_str!("template/lib.rs")),
    ("tests/app.rs", include_str!("template/app.rs")),
    ("README.md", include_str!("template/README.md")),
    (".gitignore", include_str!("template/gitignore")),
];

pub(super) fn run(args: &[OsString]) -> anyhow::Result<()> {
    let args = NewArgs::try_parse_from(args)?;
    check_name(&args.name)?;
    let dependency = dependency(&args)?;
    let parent = args.directory.clone().unwrap_or_else(|| PathBuf::from("."));
    let root = parent.join(&args.name);
    if root.exists() {
        bail!("cannot create '{}': it exists already", root.display());
    }
    let crate_name = args.name.replace('-', "_");
    for (path, text) in FILES {
        let text = text
            .replace("{{name}}", &args.name)
            .replace("{{crate}}", &crate_name)
            .replace("{{dependency}}", &dependency);
        write(&root.join(path), &text)?;
    }
    let shown = root.display();
    eprintln!(
        "Created the nanohttp application '{}' in {shown}. Next:\n  \
         cd {shown}\n  \
         cargo test       # its tests, natively\n  \
         nanohttp build   # its component, target/wasm32-wasip2/release/{crate_name}.wasm\n  \
         nanohttp target/wasm32-wasip2/release/{crate_name}.wasm",
        args.name
    );
    Ok(())
}

/// A crate name that is also a directory name anywhere and a Rust identifier once `-` is `_`.
fn check_name(name: &str) -> anyhow::Result<()> {
    let mut chars = name.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !starts_well || !rest_ok || name.len() > 64 {
        bail!(
            "'{name}' is not an application name: 1 to 64 ASCII letters, digits, `-` and `_`, \
             starting with a letter"
        );
    }
    Ok(())
}

/// The `nanohttp = ...` dependency's value, as TOML.
fn dependency(args: &NewArgs) -> anyhow::Result<String> {
    if let Some(path) = &args.path {
        let path = std::path::absolute(path)
            .with_context(|| format!("cannot use --path '{}'", path.display()))?;
        if !path.join("Cargo.toml").is_file() {
            bail!(
                "--path '{}' holds no Cargo.toml (point it at the nanohttp crate, a checkout's guest/)",
                path.display()
            );
        }
        return Ok(format!(
            "{{ path = {} }}",
            toml_string(&path.to_string_lossy())
        ));
    }
    if let Some(url) = &args.git {
        let branch = match &args.branch {
            Some(branch) => format!(", branch = {}", toml_string(branch)),
            None => String::new(),
        };
        return Ok(format!("{{ git = {}{branch} }}", toml_string(url)));
    }
    Ok(toml_string(env!("CARGO_PKG_VERSION")))
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create '{}': {}", dir.display(), io_reason(&e)))?;
    }
    std::fs::write(path, text)
        .map_err(|e| anyhow::anyhow!("cannot write '{}': {}", path.display(), io_reason(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["app", "my-app", "my_app2", "A"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "2app",
            "-app",
            "my app",
            "app/x",
            "ünï",
            &"a".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dependencies() {
        let args = |extra: &[&str]| {
            NewArgs::try_parse_from(["nanohttp new", "app"].iter().chain(extra)).unwrap()
        };
        assert_eq!(
            dependency(&args(&[])).unwrap(),
            format!("\"{}\"", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            dependency(&args(&["--git", "https://x/y.git", "--branch", "main"])).unwrap(),
            r#"{ git = "https://x/y.git", branch = "main" }"#
        );
        let guest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest");
        let path = dependency(&args(&["--path", guest.to_str().unwrap()])).unwrap();
        assert!(
            path.starts_with("{ path = \"/") && path.ends_with("guest\" }"),
            "{path}"
        );
        let error = dependency(&args(&["--path", "/"])).unwrap_err().to_string();
        assert!(error.contains("holds no Cargo.toml"), "{error}");
        assert_eq!(toml_string("a\"b\\c"), r#""a\"b\\c""#);
    }
}
