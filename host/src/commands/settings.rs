//! `nanohttp settings`: the merged settings as the JSON text guests get in
//! `NANOHTTP_SETTINGS`, to pass to a runtime that does not read YAML (`wasmtime serve -Scli
//! --env NANOHTTP_SETTINGS="$(nanohttp settings -c prod.yml)"`, Spin's `environment`,
//! wasmCloud's workload config).

use std::ffi::OsString;

use clap::Parser;

use crate::config::take_section;
use crate::settings::Layers;

/// Print the merged settings (every `-c` file, then every `-d` directory, then `-o`) as the
/// JSON every instance receives in NANOHTTP_SETTINGS, without the host's own `host:` section.
#[derive(Debug, Parser)]
#[command(name = "nanohttp settings", version)]
struct SettingsArgs {
    #[command(flatten)]
    layers: Layers,

    /// Indented, for reading; the default is one line, for an environment variable.
    #[arg(long)]
    pretty: bool,

    /// Keep the `host:` section (the runner's options), which guests never see.
    #[arg(long)]
    with_host: bool,
}

pub(super) fn run(args: &[OsString]) -> anyhow::Result<()> {
    let args = SettingsArgs::try_parse_from(args)?;
    let mut merged = args.layers.merged()?;
    if !args.with_host {
        take_section(&mut merged);
    }
    let text = if args.pretty {
        serde_json::to_string_pretty(&merged)?
    } else {
        merged.to_string()
    };
    println!("{text}");
    Ok(())
}
