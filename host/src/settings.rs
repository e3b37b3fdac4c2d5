//! Settings layers: YAML files, directories of YAML files and `-o key.path=value` overrides,
//! each read into JSON data and deep-merged into the one JSON object every instance receives as
//! `NANOHTTP_SETTINGS` (components parse JSON only: no YAML parser in them).
//!
//! Settings are JSON data: YAML keys become strings (`1:` is `"1"`), and `.nan` and `.inf`,
//! which JSON lacks, become `null` in files (an `-o` override keeps them as text).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context as _, bail};
use serde_json::{Map, Value};

use crate::io::io_reason;

/// The deep merge guests use too (maps merge key by key, anything else replaces), so the host
/// merges its layers exactly as a guest merges `NANOHTTP_SETTINGS` over its defaults.
pub(crate) use nanohttp_settings::merge;

/// The settings layers of a command line, in the order they merge: every `-c` file, then
/// every `-d` directory's files, then every `-o` override; relative paths against `-C`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Layers {
    /// A YAML settings file; may be given several times, later files win.
    #[arg(short = 'c', long = "config-file", value_name = "FILE")]
    config_files: Vec<PathBuf>,

    /// A directory whose `*.yml` and `*.yaml` files are settings, read in file-name order
    /// after every `-c` file; may be given several times.
    #[arg(short = 'd', long = "config-directory", value_name = "DIR")]
    config_directories: Vec<PathBuf>,

    /// Resolve relative paths (TARGET, -c, -d) against this directory. The last `-C` wins.
    #[arg(
        short = 'C',
        long = "directory",
        value_name = "DIR",
        overrides_with = "directory"
    )]
    directory: Option<PathBuf>,

    /// Override one setting, after all files; the value is a YAML scalar (`-o debug=true`,
    /// `-o db.port=5432`, `-o name=x`). May be given several times.
    #[arg(short = 'o', long = "option", value_name = "KEY.PATH=VALUE")]
    options: Vec<Override>,
}

impl Layers {
    /// `-C`, checked to be a directory.
    pub(crate) fn base(&self) -> anyhow::Result<Option<&Path>> {
        let Some(dir) = &self.directory else {
            return Ok(None);
        };
        let meta = std::fs::metadata(dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot use directory '{}': {}",
                dir.display(),
                io_reason(&e)
            )
        })?;
        anyhow::ensure!(
            meta.is_dir(),
            "cannot use directory '{}': not a directory",
            dir.display()
        );
        Ok(Some(dir.as_path()))
    }

    /// Every layer read, parsed and merged: the settings, `host:` section included.
    pub(crate) fn merged(&self) -> anyhow::Result<Value> {
        let base = self.base()?;
        let resolve = |path: &Path| resolve_against(base, path);
        let mut merged = empty();
        for file in &self.config_files {
            merge(&mut merged, load_file(&resolve(file), file)?);
        }
        for dir in &self.config_directories {
            for layer in load_directory(&resolve(dir), dir)? {
                merge(&mut merged, layer);
            }
        }
        for option in &self.options {
            merge(&mut merged, option.clone().into_layer());
        }
        Ok(merged)
    }
}

/// `path` resolved against `-C` when it is relative and `-C` was given.
pub(crate) fn resolve_against(base: Option<&Path>, path: &Path) -> PathBuf {
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}

/// An empty settings layer, `{}`: where merging starts.
pub(crate) fn empty() -> Value {
    Value::Object(Map::new())
}

/// Reads one settings file. An empty file is an empty mapping; anything else must be a mapping.
pub(crate) fn load_file(path: &Path, shown: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read settings file '{}': {}",
            shown.display(),
            io_reason(&e)
        )
    })?;
    parse_document(&text, &shown.display().to_string())
}

/// Every `*.yml` and `*.yaml` file directly inside `dir`, sorted by file name, as layers.
pub(crate) fn load_directory(dir: &Path, shown: &Path) -> anyhow::Result<Vec<Value>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot read settings directory '{}': {}",
            shown.display(),
            io_reason(&e)
        )
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry
            .with_context(|| format!("cannot read settings directory '{}'", shown.display()))?;
        let name = entry.file_name();
        let is_yaml = Path::new(&name)
            .extension()
            .is_some_and(|ext| ext == "yml" || ext == "yaml");
        // Follows symlinks, so a linked file counts and a linked directory does not.
        if is_yaml && entry.path().is_file() {
            names.push(name);
        }
    }
    names.sort();
    names
        .into_iter()
        .map(|name| load_file(&dir.join(&name), &shown.join(&name)))
        .collect()
}

/// Parses a YAML settings document into JSON data; its top level must be a mapping (or nothing
/// at all).
pub(crate) fn parse_document(text: &str, source: &str) -> anyhow::Result<Value> {
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| yaml_error(&e, source))?;
    match value {
        Value::Null => Ok(empty()),
        Value::Object(_) => Ok(value),
        other => bail!(
            "settings in '{source}' must be a mapping of keys to values, not {}",
            kind(&other)
        ),
    }
}

/// `invalid YAML in 'conf.yml' at line 3 column 5: <what libyaml said>`, with the position
/// said once, up front.
fn yaml_error(error: &serde_yaml_ng::Error, source: &str) -> anyhow::Error {
    let mut message = error.to_string();
    match error.location() {
        Some(at) => {
            let position = format!("line {} column {}", at.line(), at.column());
            // libyaml repeats the position inside its message; say it once.
            message = message.replace(&format!(" at {position}"), "");
            anyhow::anyhow!("invalid YAML in '{source}' at {position}: {message}")
        }
        None => anyhow::anyhow!("invalid YAML in '{source}': {message}"),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// One `-o key.path=value` override. The value is read as a YAML scalar, so `true` is a
/// boolean, `80` a number, `~` null and anything else a string; text that YAML would read as
/// a mapping or a sequence (`a: b`, `[1]`), or as a number JSON cannot carry (`.inf`, `.nan`,
/// `1e400`), stays the literal string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Override {
    path: Vec<String>,
    value: Value,
}

impl Override {
    /// The override as a settings layer: `a.b=1` is `{a: {b: 1}}`.
    pub(crate) fn into_layer(self) -> Value {
        self.path.into_iter().rev().fold(self.value, |inner, key| {
            let mut map = Map::new();
            map.insert(key, inner);
            Value::Object(map)
        })
    }
}

/// Why an override was refused; clap shows it after `invalid value '...' for '--option'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OverrideError {
    MissingEquals,
    EmptyKey,
}

impl fmt::Display for OverrideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingEquals => "expected KEY.PATH=VALUE (no '=' found)",
            Self::EmptyKey => "expected KEY.PATH=VALUE (a key or one of its dotted parts is empty)",
        })
    }
}

impl std::error::Error for OverrideError {}

impl FromStr for Override {
    type Err = OverrideError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (key, raw) = text.split_once('=').ok_or(OverrideError::MissingEquals)?;
        let path: Vec<String> = key.trim().split('.').map(str::to_owned).collect();
        if path.iter().any(String::is_empty) {
            return Err(OverrideError::EmptyKey);
        }
        use serde_yaml_ng::Value as Yaml;
        let literal = || Value::String(raw.to_owned());
        let value = match serde_yaml_ng::from_str::<Yaml>(raw) {
            Ok(Yaml::Null) => Value::Null,
            Ok(Yaml::Bool(flag)) => Value::Bool(flag),
            Ok(Yaml::String(text)) => Value::String(text),
            Ok(Yaml::Number(number)) => {
                if let Some(n) = number.as_u64() {
                    n.into()
                } else if let Some(n) = number.as_i64() {
                    n.into()
                } else {
                    number
                        .as_f64()
                        .and_then(serde_json::Number::from_f64)
                        .map_or_else(literal, Value::Number)
                }
            }
            _ => literal(),
        };
        Ok(Self { path, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn later_layers_win_in_order() {
        let mut merged = empty();
        for layer in [
            "{debug: false, db: {host: a, port: 1}}",
            "{db: {port: 2}}",
            "{debug: true}",
        ] {
            merge(&mut merged, yaml(layer));
        }
        assert_eq!(merged, yaml("{debug: true, db: {host: a, port: 2}}"));
    }

    #[test]
    fn override_table() {
        let cases = [
            ("debug=true", "{debug: true}"),
            ("debug=false", "{debug: false}"),
            ("port=80", "{port: 80}"),
            ("ratio=0.5", "{ratio: 0.5}"),
            ("name=x", "{name: x}"),
            ("name=hello world", "{name: hello world}"),
            ("name='80'", "{name: '80'}"),
            ("name=", "{name: null}"),
            ("name=~", "{name: null}"),
            ("a.b.c=1", "{a: {b: {c: 1}}}"),
            ("url=http://x/?a=b", "{url: 'http://x/?a=b'}"),
            ("title=Hello: world", "{title: 'Hello: world'}"),
            ("list=[1, 2]", "{list: '[1, 2]'}"),
            ("x=.inf", "{x: '.inf'}"),
            ("x=1e400", "{x: '1e400'}"),
            ("x=-7", "{x: -7}"),
            ("x=0x10", "{x: 16}"),
            (" key =v", "{key: v}"),
        ];
        for (text, expected) in cases {
            let parsed: Override = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed.into_layer(), yaml(expected), "-o {text}");
        }
    }

    #[test]
    fn override_errors() {
        let cases = [
            ("debug", OverrideError::MissingEquals),
            ("", OverrideError::MissingEquals),
            ("=1", OverrideError::EmptyKey),
            ("a..b=1", OverrideError::EmptyKey),
            (".a=1", OverrideError::EmptyKey),
            ("a.=1", OverrideError::EmptyKey),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Override>(), Err(expected), "-o {text}");
        }
    }

    #[test]
    fn documents() {
        assert_eq!(parse_document("", "x").unwrap(), yaml("{}"));
        assert_eq!(parse_document("# nothing\n", "x").unwrap(), yaml("{}"));
        assert_eq!(parse_document("a: 1\n", "x").unwrap(), yaml("{a: 1}"));
        assert_eq!(
            parse_document("1: a\ntrue: b\nc: .nan\n", "x").unwrap(),
            serde_json::json!({"1": "a", "true": "b", "c": null})
        );
        let error = parse_document("- 1\n", "list.yml").unwrap_err().to_string();
        assert_eq!(
            error,
            "settings in 'list.yml' must be a mapping of keys to values, not a sequence"
        );
    }

    #[test]
    fn invalid_yaml_names_file_and_line() {
        let error = parse_document("a: 1\nb:\n  c: [1, 2\nd: 4\n", "conf.yml")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("invalid YAML in 'conf.yml' at line "),
            "{error}"
        );
        let error = parse_document("a: 1\nb: c: d\n", "conf.yml")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("invalid YAML in 'conf.yml' at line 2 column 5: "),
            "{error}"
        );
        assert_eq!(error.matches("line 2").count(), 1, "{error}");
    }

    #[test]
    fn settings_travel_as_compact_json() {
        assert_eq!(empty().to_string(), "{}");
        let data = yaml("{a: {b: [1, -2, 0.5, x, null, true]}, c: '80'}");
        let text = data.to_string();
        assert_eq!(text, r#"{"a":{"b":[1,-2,0.5,"x",null,true]},"c":"80"}"#);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), data);
    }
}
