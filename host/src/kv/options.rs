//! `--kv URL` and the `host.kv` settings: which backend, which buckets, which limits.

use std::path::PathBuf;
use std::time::Duration;

use crate::options::group::option_group;
use crate::options::values;

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
    /// Parses a `--kv` URL (a relative `file:` path is resolved later, see
    /// [`Backend::resolved`]).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if text == "memory:" {
            Ok(Self::Memory)
        } else if let Some(path) = text.strip_prefix("file:") {
            if path.is_empty() {
                return Err("'file:' needs a path (file:PATH)".into());
            }
            Ok(Self::File(PathBuf::from(path)))
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

    /// Makes a relative `file:` path absolute with `resolve`.
    pub(crate) fn resolve(&mut self, resolve: impl Fn(&std::path::Path) -> PathBuf) {
        if let Self::File(path) = self {
            *path = resolve(path);
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

/// As the log and `--help` show it (a Redis URL without its password).
impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
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

option_group! {
    /// The key-value store guests use (`wasi:keyvalue`), its buckets and its limits.
    #[command(next_help_heading = "Key-value store (each also settable as host.kv.KEY in settings)")]
    pub(crate) struct KvOptions in "kv" {
        /// Key-value store for guests (wasi:keyvalue): `memory:`, `file:PATH` (embedded,
        /// durable) or `redis://HOST:PORT/DB`; relative paths are resolved against `-C`. Also
        /// `host.kv.url`.
        #[arg(long = "kv", value_name = "URL", default_value_t = default_backend())]
        pub(crate) url: Backend = Backend::parse,

        /// A bucket guests may open; any other name is `no-such-store`. May be given several
        /// times (`host.kv.buckets` is the list).
        #[arg(long = "kv-bucket", value_name = "NAME", default_value = "default")]
        pub(crate) buckets: Vec<String> = bucket_name,

        /// Longest key, in bytes.
        #[arg(long = "kv-max-key-size", value_name = "SIZE", default_value = "1KiB")]
        pub(crate) max_key_size: usize = values::size_at_least::<1>,

        /// Largest value, in bytes.
        #[arg(long = "kv-max-value-size", value_name = "SIZE", default_value = "1MiB")]
        pub(crate) max_value_size: usize = values::size_at_least::<1>,

        /// Keys in one page of `list-keys` (a Redis page is a `SCAN ... COUNT` hint).
        #[arg(long = "kv-list-page-size", value_name = "N", default_value = "100")]
        pub(crate) list_page_size: u32 = values::count::<1, { u32::MAX }>,

        /// Key-value operations one request may make (a batch counts one per key).
        #[arg(long = "kv-max-operations", value_name = "N", default_value = "1000")]
        pub(crate) max_operations: u32 = values::count::<1, { u32::MAX }>,

        /// How long one operation may wait for the backend (Redis: connecting, each reply).
        #[arg(long = "kv-timeout", value_name = "DURATION", default_value = "2s")]
        pub(crate) timeout: Duration = values::positive_duration,
    }
}

/// Bucket names become Redis key prefixes and redb table names: keep them plain.
fn bucket_name(name: &str) -> Result<String, String> {
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if plain {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "'{name}' is not a bucket name (1 to 64 of A-Z a-z 0-9 _ - .)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let cases: &[(&str, Result<Backend, &str>)] = &[
            ("memory:", Ok(Backend::Memory)),
            ("file:kv.redb", Ok(Backend::File("kv.redb".into()))),
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
            match (Backend::parse(text), expected) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{text}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{text}: {got}"),
                (got, want) => panic!("{text}: {got:?}, expected {want:?}"),
            }
        }
        let mut relative = Backend::parse("file:kv.redb").unwrap();
        relative.resolve(|path| PathBuf::from("/base").join(path));
        assert_eq!(relative, Backend::File("/base/kv.redb".into()));
        assert_eq!(
            Backend::Redis("redis://:secret@host:1/0".into()).describe(),
            "redis://***@host:1/0"
        );
    }

    #[test]
    fn bucket_names() {
        assert_eq!(bucket_name("tips-1.v2"), Ok("tips-1.v2".into()));
        for bad in ["", "a b", "a/b", &"x".repeat(65)] {
            assert!(bucket_name(bad).is_err(), "{bad}");
        }
    }
}
