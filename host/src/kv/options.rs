//! `--kv URL` and the `host.kv` settings: which backend, which buckets, which limits.

use std::path::PathBuf;
use std::time::Duration;

use serde_yaml_ng::Value;

use crate::options::{count_value, duration_value, size_value, string_value};

/// Where the buckets live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Backend {
    /// `memory:`: in the host's memory, gone when it stops.
    Memory,
    /// `file:PATH`: the embedded store (redb), one file.
    File(PathBuf),
    /// `redis://HOST:PORT/DB` (or `rediss://`, `redis+unix://`): shared by every host using it.
    Redis(String),
}

impl Backend {
    /// Parses a `--kv` URL; `resolve` makes a relative `file:` path absolute.
    pub(crate) fn parse(text: &str, resolve: impl Fn(PathBuf) -> PathBuf) -> Result<Self, String> {
        if text == "memory:" {
            Ok(Self::Memory)
        } else if let Some(path) = text.strip_prefix("file:") {
            if path.is_empty() {
                return Err("'file:' needs a path (file:PATH)".into());
            }
            Ok(Self::File(resolve(PathBuf::from(path))))
        } else if ["redis://", "rediss://", "redis+unix://"]
            .iter()
            .any(|scheme| text.starts_with(scheme))
        {
            Ok(Self::Redis(text.to_owned()))
        } else {
            Err(format!(
                "'{text}' is not a key-value store URL (memory:, file:PATH, redis://HOST:PORT/DB)"
            ))
        }
    }

    /// A relative `file:` path made absolute by `resolve`.
    pub(crate) fn resolved(self, resolve: impl Fn(&std::path::Path) -> PathBuf) -> Self {
        match self {
            Self::File(path) => Self::File(resolve(&path)),
            other => other,
        }
    }

    /// What the log says about it (a Redis URL without its password).
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Memory => "memory:".into(),
            Self::File(path) => format!("file:{}", path.display()),
            Self::Redis(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    format!("{}://***{}", &url[..scheme], &url[at..])
                }
                _ => url.clone(),
            },
        }
    }
}

/// `$XDG_DATA_HOME/nanohttp/kv.redb`, else `$HOME/.local/share/nanohttp/kv.redb`; `memory:`
/// when there is no home directory at all.
pub(crate) fn default_backend() -> Backend {
    let base = match std::env::var_os("XDG_DATA_HOME") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(".local/share")),
    };
    match base {
        Some(base) => Backend::File(base.join("nanohttp").join("kv.redb")),
        None => Backend::Memory,
    }
}

/// The key-value options of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KvOptions {
    pub(crate) backend: Backend,
    /// The buckets a guest may open; any other name is `no-such-store`.
    pub(crate) buckets: Vec<String>,
    /// Longest key, in bytes.
    pub(crate) max_key_size: usize,
    /// Largest value, in bytes.
    pub(crate) max_value_size: usize,
    /// Keys in one page of `list-keys` (a Redis page is a `SCAN ... COUNT` hint).
    pub(crate) list_page_size: u32,
    /// Key-value operations one request may make (a batch counts one per key).
    pub(crate) max_operations: u32,
    /// How long one operation may wait for the backend (Redis: connecting, each reply).
    pub(crate) timeout: Duration,
}

impl Default for KvOptions {
    fn default() -> Self {
        Self {
            backend: default_backend(),
            buckets: vec!["default".into()],
            max_key_size: 1024,
            max_value_size: 1 << 20,
            list_page_size: 100,
            max_operations: 1000,
            timeout: Duration::from_secs(2),
        }
    }
}

/// The keys of `host.kv`.
const KEYS: &[&str] = &[
    "url",
    "buckets",
    "max_key_size",
    "max_value_size",
    "list_page_size",
    "max_operations",
    "timeout",
];

impl KvOptions {
    /// Applies `host.kv` (a mapping) over these options.
    pub(crate) fn apply(
        &mut self,
        section: &Value,
        resolve: &impl Fn(PathBuf) -> PathBuf,
    ) -> Result<(), String> {
        let Value::Mapping(map) = section else {
            return Err(format!("a mapping of {} is expected", KEYS.join(", ")));
        };
        for (key, value) in map {
            let key = key.as_str().unwrap_or_default();
            self.apply_one(key, value, resolve)
                .map_err(|e| format!("'{key}': {e}"))?;
        }
        Ok(())
    }

    fn apply_one(
        &mut self,
        key: &str,
        value: &Value,
        resolve: &impl Fn(PathBuf) -> PathBuf,
    ) -> Result<(), String> {
        match key {
            "url" => self.backend = Backend::parse(&string_value(value)?, resolve)?,
            "buckets" => {
                let names = match value {
                    Value::Sequence(items) => items
                        .iter()
                        .map(string_value)
                        .collect::<Result<Vec<_>, _>>()?,
                    other => vec![string_value(other)?],
                };
                for name in &names {
                    check_bucket_name(name)?;
                }
                self.buckets = names;
            }
            "max_key_size" => self.max_key_size = positive_size(size_value(value)?)?,
            "max_value_size" => self.max_value_size = positive_size(size_value(value)?)?,
            "list_page_size" => self.list_page_size = positive_count(count_value(value)?)?,
            "max_operations" => self.max_operations = positive_count(count_value(value)?)?,
            "timeout" => {
                self.timeout = crate::options::positive_duration(duration_value(value)?)?;
            }
            _ => return Err(format!("unknown option; known: {}", KEYS.join(", "))),
        }
        Ok(())
    }
}

/// Bucket names become Redis key prefixes and redb table names: keep them plain.
fn check_bucket_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if plain {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a bucket name (1 to 64 of A-Z a-z 0-9 _ - .)"
        ))
    }
}

fn positive_size(bytes: u64) -> Result<usize, String> {
    match usize::try_from(bytes) {
        Ok(0) => Err("must be at least 1 byte".into()),
        Ok(size) => Ok(size),
        Err(_) => Err(format!("{bytes} is too large")),
    }
}

fn positive_count(count: u64) -> Result<u32, String> {
    match u32::try_from(count) {
        Ok(0) => Err("must be at least 1".into()),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("{count} is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let resolve = |path: PathBuf| PathBuf::from("/base").join(path);
        let cases: &[(&str, Result<Backend, &str>)] = &[
            ("memory:", Ok(Backend::Memory)),
            ("file:kv.redb", Ok(Backend::File("/base/kv.redb".into()))),
            (
                "file:/data/kv.redb",
                Ok(Backend::File("/data/kv.redb".into())),
            ),
            (
                "redis://127.0.0.1:6379/2",
                Ok(Backend::Redis("redis://127.0.0.1:6379/2".into())),
            ),
            ("file:", Err("needs a path")),
            ("http://x", Err("is not a key-value store URL")),
        ];
        for (text, expected) in cases {
            match (Backend::parse(text, resolve), expected) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{text}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{text}: {got}"),
                (got, want) => panic!("{text}: {got:?}, expected {want:?}"),
            }
        }
        assert_eq!(
            Backend::Redis("redis://:secret@host:1/0".into()).describe(),
            "redis://***@host:1/0"
        );
    }

    #[test]
    fn section() {
        let mut options = KvOptions::default();
        let section: Value = serde_yaml_ng::from_str(
            "{url: 'memory:', buckets: [a, b], max_key_size: 16, max_value_size: 1KiB, \
             list_page_size: 5, max_operations: 7, timeout: 500ms}",
        )
        .unwrap();
        options.apply(&section, &|p| p).unwrap();
        assert_eq!(
            options,
            KvOptions {
                backend: Backend::Memory,
                buckets: vec!["a".into(), "b".into()],
                max_key_size: 16,
                max_value_size: 1024,
                list_page_size: 5,
                max_operations: 7,
                timeout: Duration::from_millis(500),
            }
        );
        for (yaml, error) in [
            ("{buckets: ['a b']}", "is not a bucket name"),
            ("{max_key_size: 0}", "at least 1"),
            ("{colour: red}", "unknown option"),
            ("{url: 'ftp://x'}", "not a key-value store URL"),
        ] {
            let section: Value = serde_yaml_ng::from_str(yaml).unwrap();
            let got = KvOptions::default().apply(&section, &|p| p).unwrap_err();
            assert!(got.contains(error), "{yaml}: {got}");
        }
    }
}
