//! Settings layers: YAML files, directories of YAML files and `-o key.path=value` overrides,
//! deep-merged into the one document every instance receives as `NANOHTTP_SETTINGS`.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context as _, bail};
use serde_yaml_ng::{Mapping, Value};

use crate::config::io_reason;

/// The guest's own deep merge (maps merge key by key, anything else replaces), so the host
/// merges its layers exactly as a guest merges `NANOHTTP_SETTINGS` over its defaults.
pub(crate) use nanohttp::merge_settings as merge;

/// The merged settings as YAML text: what `NANOHTTP_SETTINGS` carries. An empty mapping
/// serialises as `{}`.
pub(crate) fn to_yaml(settings: &Value) -> anyhow::Result<String> {
    serde_yaml_ng::to_string(settings).context("cannot serialise the merged settings as YAML")
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

/// Parses a settings document whose top level must be a mapping (or nothing at all).
pub(crate) fn parse_document(text: &str, source: &str) -> anyhow::Result<Value> {
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| yaml_error(&e, source))?;
    match value {
        Value::Null => Ok(Value::Mapping(Mapping::new())),
        Value::Mapping(_) => Ok(value),
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
        Value::Sequence(_) => "a sequence",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// One `-o key.path=value` override. The value is read as a YAML scalar, so `true` is a
/// boolean, `80` a number, `~` null and anything else a string; text that YAML would read as
/// a mapping or a sequence (`a: b`, `[1]`) stays the literal string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Override {
    path: Vec<String>,
    value: Value,
}

impl Override {
    /// The override as a settings layer: `a.b=1` is `{a: {b: 1}}`.
    pub(crate) fn into_layer(self) -> Value {
        self.path.into_iter().rev().fold(self.value, |inner, key| {
            let mut map = Mapping::new();
            map.insert(Value::String(key), inner);
            Value::Mapping(map)
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
        let value = match serde_yaml_ng::from_str::<Value>(raw) {
            Ok(value @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_))) => {
                value
            }
            _ => Value::String(raw.to_owned()),
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
        let mut merged = Value::Mapping(Mapping::new());
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
    fn empty_settings_serialise_as_empty_map() {
        assert_eq!(to_yaml(&Value::Mapping(Mapping::new())).unwrap(), "{}\n");
    }
}
