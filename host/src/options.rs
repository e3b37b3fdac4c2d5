//! The host's own options: limits, timeouts, logging, the compilation cache and reloading.
//!
//! Each has a default, may be set in the `host:` section of the merged settings (so in a `-c`
//! file, a `-d` directory or with `-o host.KEY=VALUE`), and may be set by a command-line flag,
//! which wins. The `host:` section is the runner's: it is taken out of the settings before they
//! reach guests, which see every other key.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail};
use serde_yaml_ng::Value;

use crate::outbound::OutboundOptions;

/// The settings key holding the host's options.
pub(crate) const SECTION: &str = "host";

/// Every option of the host, resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostOptions {
    /// Wall-clock limit on one request's guest (instantiation, handling, streaming the body);
    /// `None`: no limit.
    pub(crate) request_timeout: Option<Duration>,
    /// Largest size of one linear memory of an instance.
    pub(crate) memory_limit: usize,
    /// Requests served at once; more get `503 Service Unavailable` with `Retry-After`.
    pub(crate) max_concurrent: u32,
    /// Requests one instance may serve, one after the other, before it is discarded; `1` (the
    /// default) is a fresh instance per request.
    pub(crate) reuse: u32,
    /// Largest request body; larger ones get `413 Content Too Large`.
    pub(crate) max_body_size: u64,
    /// Largest request head (request line and headers); larger ones get `431`.
    pub(crate) max_header_size: usize,
    /// Most header fields in one request; more get `431`.
    pub(crate) max_headers: usize,
    /// Time a client has to send a request's head, from the connection's opening or the end of
    /// the previous response.
    pub(crate) header_timeout: Duration,
    /// A connection with no request in flight for this long is closed.
    pub(crate) idle_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub(crate) grace_period: Duration,
    /// A `tracing` filter (`info`, `warn,nanohttp::access=info`); `None`: `RUST_LOG`, else
    /// `info`.
    pub(crate) log_level: Option<String>,
    pub(crate) log_format: LogFormat,
    /// Where compiled components are kept; `None`: no cache.
    pub(crate) cache_dir: Option<PathBuf>,
    /// Watch the component file and serve each new version.
    pub(crate) reload: bool,
    /// Host directories mapped read-only into every instance (`--dir`, `host.dir`).
    pub(crate) dirs: Vec<DirMapping>,
    /// Outgoing HTTP from guests: the allow-list and its limits.
    pub(crate) outbound: OutboundOptions,
    /// The key-value store guests use (`--kv`, `host.kv`).
    pub(crate) kv: crate::kv::KvOptions,
}

/// A host directory preopened read-only in every instance, at a path of the guest's choosing:
/// `--dir HOST_PATH[::GUEST_PATH]`, or an item of `host.dir` in settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirMapping {
    /// The directory on the host, already resolved against `-C`.
    pub(crate) host: PathBuf,
    /// Where the guest sees it: `GUEST_PATH`, else `HOST_PATH` as written.
    pub(crate) guest: String,
}

impl DirMapping {
    /// Parses `HOST_PATH[::GUEST_PATH]` (split at the first `::`, as wasmtime's `--dir`);
    /// `resolve` makes a relative `HOST_PATH` absolute. Existence is checked later, by
    /// [`DirMapping::check`], once every source of mappings is known.
    pub(crate) fn parse(text: &str, resolve: impl Fn(PathBuf) -> PathBuf) -> Result<Self, String> {
        let (host, guest) = text.split_once("::").unwrap_or((text, text));
        if host.is_empty() || guest.is_empty() {
            return Err(format!(
                "'{text}' is not HOST_PATH[::GUEST_PATH] (a path is empty)"
            ));
        }
        Ok(Self {
            host: resolve(PathBuf::from(host)),
            guest: guest.to_owned(),
        })
    }

    /// The host path must be a directory now, so a typo stops the host before it listens.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        let meta = std::fs::metadata(&self.host).map_err(|e| {
            anyhow!(
                "cannot map directory '{}': {}",
                self.host.display(),
                crate::config::io_reason(&e)
            )
        })?;
        if !meta.is_dir() {
            bail!(
                "cannot map directory '{}': not a directory",
                self.host.display()
            );
        }
        Ok(())
    }
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            request_timeout: Some(Duration::from_secs(30)),
            memory_limit: 64 << 20,
            max_concurrent: 1000,
            reuse: 1,
            max_body_size: 16 << 20,
            max_header_size: 16 << 10,
            max_headers: 100,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            grace_period: Duration::from_secs(30),
            log_level: None,
            log_format: LogFormat::Text,
            cache_dir: default_cache_dir(),
            reload: false,
            dirs: Vec::new(),
            outbound: OutboundOptions::default(),
            kv: crate::kv::KvOptions::default(),
        }
    }
}

/// `$XDG_CACHE_HOME/nanohttp`, else `$HOME/.cache/nanohttp`, else no cache.
pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".cache"),
    };
    Some(base.join("nanohttp"))
}

/// The keys of the `host:` section, in the order `--help` lists their flags.
pub(crate) const KEYS: &[&str] = &[
    "request_timeout",
    "memory_limit",
    "max_concurrent",
    "reuse",
    "max_body_size",
    "max_header_size",
    "max_headers",
    "header_timeout",
    "idle_timeout",
    "grace_period",
    "log_level",
    "log_format",
    "cache",
    "cache_dir",
    "reload",
    "dir",
    "allow_outbound",
    "outbound_connect_timeout",
    "outbound_first_byte_timeout",
    "outbound_between_bytes_timeout",
    "outbound_max_body_size",
    "outbound_max_in_flight",
    "outbound_max_per_host",
    "outbound_ca",
    "kv",
];

impl HostOptions {
    /// Applies a `host:` section (a mapping) over these options. `resolve` makes a relative
    /// `cache_dir` absolute.
    pub(crate) fn apply_section(
        &mut self,
        section: &Value,
        resolve: impl Fn(PathBuf) -> PathBuf,
    ) -> anyhow::Result<()> {
        let Value::Mapping(map) = section else {
            bail!(
                "the '{SECTION}' setting is the runner's section and must be a mapping of its \
                 options ({})",
                KEYS.join(", ")
            );
        };
        for (key, value) in map {
            let Some(key) = key.as_str() else {
                bail!("'{SECTION}' settings have string keys, not {key:?}");
            };
            self.apply_one(key, value, &resolve)
                .map_err(|e| anyhow!("invalid setting '{SECTION}.{key}': {e}"))?;
        }
        // `cache: false` wins over a `cache_dir` in the same section, whatever their order.
        if map.get("cache") == Some(&Value::Bool(false)) {
            self.cache_dir = None;
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
            "request_timeout" => self.request_timeout = optional(duration_value(value)?),
            "memory_limit" => self.memory_limit = memory_limit(size_value(value)?)?,
            "max_concurrent" => self.max_concurrent = max_concurrent(count_value(value)?)?,
            "reuse" => self.reuse = reuse(count_value(value)?)?,
            "max_body_size" => self.max_body_size = size_value(value)?,
            "max_header_size" => self.max_header_size = header_size(size_value(value)?)?,
            "max_headers" => self.max_headers = positive(count_value(value)?)?,
            "header_timeout" => self.header_timeout = positive_duration(duration_value(value)?)?,
            "idle_timeout" => self.idle_timeout = positive_duration(duration_value(value)?)?,
            "grace_period" => self.grace_period = duration_value(value)?,
            "log_level" => self.log_level = Some(string_value(value)?),
            "log_format" => self.log_format = string_value(value)?.parse()?,
            "cache" => {
                if !bool_value(value)? {
                    self.cache_dir = None;
                }
            }
            "cache_dir" => self.cache_dir = Some(resolve(PathBuf::from(string_value(value)?))),
            "reload" => self.reload = bool_value(value)?,
            // A list replaces the mappings of earlier layers (settings merge lists whole);
            // `--dir` flags are added after it.
            "dir" => {
                self.dirs = match value {
                    Value::Sequence(items) => items
                        .iter()
                        .map(|item| DirMapping::parse(&string_value(item)?, resolve))
                        .collect::<Result<_, _>>()?,
                    other => vec![DirMapping::parse(&string_value(other)?, resolve)?],
                }
            }
            "kv" => self.kv.apply(value, resolve)?,
            _ => {
                if !self.outbound.apply_one(key, value, resolve)? {
                    return Err(format!("unknown option; known: {}", KEYS.join(", ")));
                }
            }
        }
        Ok(())
    }
}

/// Takes the `host:` section out of the merged settings, if there is one.
pub(crate) fn take_section(settings: &mut Value) -> Option<Value> {
    match settings {
        Value::Mapping(map) => map.remove(SECTION),
        _ => None,
    }
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(format!("'{text}' is not a log format (text or json)")),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Json => "json",
        })
    }
}

/// `0` means no limit.
pub(crate) fn optional(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

pub(crate) fn positive_duration(duration: Duration) -> Result<Duration, String> {
    if duration.is_zero() {
        Err("must be more than 0".into())
    } else {
        Ok(duration)
    }
}

fn positive(count: u64) -> Result<usize, String> {
    match usize::try_from(count) {
        Ok(0) => Err("must be at least 1".into()),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("{count} is too large")),
    }
}

/// Smallest memory limit: a Rust component needs about 1 MiB to start; 2 MiB leaves it room.
const MIN_MEMORY: u64 = 2 << 20;
/// Largest memory limit: a 32-bit linear memory cannot grow beyond 4 GiB.
const MAX_MEMORY: u64 = 4 << 30;

pub(crate) fn memory_limit(bytes: u64) -> Result<usize, String> {
    if !(MIN_MEMORY..=MAX_MEMORY).contains(&bytes) {
        return Err(format!("must be between 2MiB and 4GiB, not {bytes} bytes"));
    }
    usize::try_from(bytes).map_err(|_| format!("{bytes} bytes do not fit this machine"))
}

/// The instance pool holds this many instances; each reserves address space for its memories.
const MAX_CONCURRENT: u64 = 10_000;

pub(crate) fn max_concurrent(count: u64) -> Result<u32, String> {
    if !(1..=MAX_CONCURRENT).contains(&count) {
        return Err(format!(
            "must be between 1 and {MAX_CONCURRENT}, not {count}"
        ));
    }
    u32::try_from(count).map_err(|_| format!("{count} is too large"))
}

/// Most requests one instance may serve: a guest's heap may fragment over many requests, so
/// even reused instances are renewed now and then.
const MAX_REUSE: u64 = 1_000_000;

pub(crate) fn reuse(count: u64) -> Result<u32, String> {
    if !(1..=MAX_REUSE).contains(&count) {
        return Err(format!("must be between 1 and {MAX_REUSE}, not {count}"));
    }
    u32::try_from(count).map_err(|_| format!("{count} is too large"))
}

/// hyper's read buffer, which bounds the request head, cannot be smaller than 8 KiB.
const MIN_HEADER_SIZE: u64 = 8 << 10;

pub(crate) fn header_size(bytes: u64) -> Result<usize, String> {
    if bytes < MIN_HEADER_SIZE {
        return Err(format!("must be at least 8KiB, not {bytes} bytes"));
    }
    usize::try_from(bytes).map_err(|_| format!("{bytes} bytes is too large"))
}

pub(crate) fn duration_value(value: &Value) -> Result<Duration, String> {
    match value {
        Value::Number(n) => n
            .as_f64()
            .filter(|secs| secs.is_finite() && *secs >= 0.0 && *secs < 1e12)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| format!("{n} is not a number of seconds")),
        Value::String(text) => parse_duration(text),
        other => Err(format!("expected a duration like 30s, not {other:?}")),
    }
}

pub(crate) fn size_value(value: &Value) -> Result<u64, String> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| format!("{n} is not a number of bytes")),
        Value::String(text) => parse_size(text),
        other => Err(format!("expected a size like 64MiB, not {other:?}")),
    }
}

pub(crate) fn count_value(value: &Value) -> Result<u64, String> {
    match value {
        Value::Number(n) => n.as_u64().ok_or_else(|| format!("{n} is not a count")),
        Value::String(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("'{text}' is not a count")),
        other => Err(format!("expected a count, not {other:?}")),
    }
}

pub(crate) fn string_value(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        other => Err(format!("expected text, not {other:?}")),
    }
}

fn bool_value(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        other => Err(format!("expected true or false, not {other:?}")),
    }
}

/// `250ms`, `30s`, `2m`, `1h`, or a bare number of seconds (`1.5`). `0` is zero.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("'{text}' is not a duration (like 500ms, 30s, 2m)")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (like 500ms, 30s, 2m)"))?;
    let secs = value * scale;
    if !secs.is_finite() || secs >= 1e12 {
        return Err(format!("'{text}' is too long"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `65536`, `64KiB`, `64MiB`, `1GiB` (also `K`/`KB`, `M`/`MB`, `G`/`GB`, all powers of 1024).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("'{text}' is not a size (like 16KiB, 64MiB)")),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (like 16KiB, 64MiB)"))?;
    value
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("'{text}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn durations() {
        let ok = [
            ("0", 0),
            ("250ms", 250),
            ("30s", 30_000),
            ("30", 30_000),
            ("1.5", 1500),
            ("1.5s", 1500),
            ("2m", 120_000),
            ("2min", 120_000),
            ("1h", 3_600_000),
            (" 10 s ", 10_000),
        ];
        for (text, ms) in ok {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for text in ["", "s", "10x", "-1s", "1e3", "1.2.3s", "99999999999999h"] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn sizes() {
        let ok = [
            ("0", 0),
            ("65536", 65536),
            ("16KiB", 16 << 10),
            ("16k", 16 << 10),
            ("64MiB", 64 << 20),
            ("64MB", 64 << 20),
            ("1GiB", 1 << 30),
            ("10 b", 10),
        ];
        for (text, bytes) in ok {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for text in [
            "",
            "MiB",
            "1.5MiB",
            "-1",
            "10TiB",
            "99999999999999999999GiB",
        ] {
            assert!(parse_size(text).is_err(), "{text}");
        }
    }

    #[test]
    fn section_overrides_defaults() {
        let mut options = HostOptions::default();
        options
            .apply_section(
                &yaml(
                    "{request_timeout: 5s, memory_limit: 32MiB, max_concurrent: 10, \
                      reuse: 100, max_body_size: 1024, max_header_size: 8KiB, max_headers: 20, \
                      header_timeout: 2, idle_timeout: 1.5, grace_period: 0, log_level: debug, \
                      log_format: json, cache_dir: c, reload: true, \
                      dir: [public, '/srv/data::/data'], kv: {url: 'file:kv.redb'}}",
                ),
                |p| PathBuf::from("/base").join(p),
            )
            .unwrap();
        assert_eq!(
            options,
            HostOptions {
                request_timeout: Some(Duration::from_secs(5)),
                memory_limit: 32 << 20,
                max_concurrent: 10,
                reuse: 100,
                max_body_size: 1024,
                max_header_size: 8 << 10,
                max_headers: 20,
                header_timeout: Duration::from_secs(2),
                idle_timeout: Duration::from_millis(1500),
                grace_period: Duration::ZERO,
                log_level: Some("debug".into()),
                log_format: LogFormat::Json,
                cache_dir: Some(PathBuf::from("/base/c")),
                reload: true,
                dirs: vec![
                    DirMapping {
                        host: PathBuf::from("/base/public"),
                        guest: "public".into(),
                    },
                    DirMapping {
                        host: PathBuf::from("/srv/data"),
                        guest: "/data".into(),
                    },
                ],
                outbound: OutboundOptions::default(),
                kv: crate::kv::KvOptions {
                    backend: crate::kv::KvBackend::File(PathBuf::from("/base/kv.redb")),
                    ..crate::kv::KvOptions::default()
                },
            }
        );
        options
            .apply_section(
                &yaml("{request_timeout: 0, cache: false, cache_dir: d}"),
                |p| p,
            )
            .unwrap();
        assert_eq!(options.request_timeout, None);
        assert_eq!(options.cache_dir, None);
        options
            .apply_section(&yaml("{dir: 'site::/site'}"), |p| p)
            .unwrap();
        assert_eq!(
            options.dirs,
            [DirMapping {
                host: PathBuf::from("site"),
                guest: "/site".into(),
            }]
        );
    }

    #[test]
    fn section_errors() {
        let cases = [
            (
                "5",
                "the 'host' setting is the runner's section and must be a mapping",
            ),
            (
                "{timeout: 5}",
                "invalid setting 'host.timeout': unknown option; known: ",
            ),
            (
                "{request_timeout: soon}",
                "invalid setting 'host.request_timeout': 'soon' is not a duration",
            ),
            (
                "{memory_limit: 1MiB}",
                "invalid setting 'host.memory_limit': must be between 2MiB and 4GiB",
            ),
            (
                "{max_concurrent: 0}",
                "invalid setting 'host.max_concurrent': must be between 1 and 10000",
            ),
            (
                "{reuse: 0}",
                "invalid setting 'host.reuse': must be between 1 and 1000000",
            ),
            (
                "{max_header_size: 100}",
                "invalid setting 'host.max_header_size': must be at least 8KiB",
            ),
            (
                "{max_headers: 0}",
                "invalid setting 'host.max_headers': must be at least 1",
            ),
            (
                "{header_timeout: 0}",
                "invalid setting 'host.header_timeout': must be more than 0",
            ),
            (
                "{log_format: xml}",
                "invalid setting 'host.log_format': 'xml' is not a log format (text or json)",
            ),
            (
                "{reload: yes please}",
                "invalid setting 'host.reload': expected true or false",
            ),
            (
                "{dir: '::/site'}",
                "invalid setting 'host.dir': '::/site' is not HOST_PATH[::GUEST_PATH]",
            ),
            ("{dir: [a, 5]}", "invalid setting 'host.dir': expected text"),
            (
                "{max_body_size: -1}",
                "invalid setting 'host.max_body_size': -1 is not",
            ),
        ];
        for (section, expected) in cases {
            let error = HostOptions::default()
                .apply_section(&yaml(section), |p| p)
                .unwrap_err()
                .to_string();
            assert!(error.starts_with(expected), "{section}: {error}");
        }
    }

    #[test]
    fn the_section_is_taken_out() {
        let mut settings = yaml("{debug: true, host: {reload: true}}");
        assert_eq!(take_section(&mut settings), Some(yaml("{reload: true}")));
        assert_eq!(settings, yaml("{debug: true}"));
        assert_eq!(take_section(&mut settings), None);
    }
}
