//! Every option of the host, by group, and how the `host:` section of the settings goes under
//! the flags. Layers, from the bottom: the default; the `host:` section of the merged settings
//! (a `-c` file, a `-d` directory, `-o host.KEY=VALUE`); the flag. The `host:` section is the
//! runner's: it is taken out of the settings before they reach guests, which see every other
//! key.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use clap::ArgMatches;
use serde_json::{Map, Value};

use crate::kv::KvOptions;
use crate::options::group::Group;
use crate::options::{Limits, Runtime, Serving};
use crate::outbound::OutboundOptions;

/// The settings key holding the host's options.
pub(crate) const SECTION: &str = "host";

/// Every option of the host, by group.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub(crate) struct HostOptions {
    #[command(flatten)]
    pub(crate) limits: Limits,
    #[command(flatten)]
    pub(crate) runtime: Runtime,
    #[command(flatten)]
    pub(crate) serving: Serving,
    #[command(flatten)]
    pub(crate) outbound: OutboundOptions,
    #[command(flatten)]
    pub(crate) kv: KvOptions,
}

impl HostOptions {
    /// Puts the `host:` section of the settings under the flags (`matches` says which options
    /// were given on the command line; the others hold their defaults). Unknown keys are
    /// refused, with the known ones listed.
    pub(crate) fn layer_settings(
        &mut self,
        section: Value,
        matches: &ArgMatches,
    ) -> anyhow::Result<()> {
        let top_keys = || {
            [
                Limits::KEYS,
                Runtime::KEYS,
                Serving::KEYS,
                OutboundOptions::KEYS,
            ]
            .concat()
            .into_iter()
            .chain([KvOptions::SECTION])
        };
        let Value::Object(mut top) = section else {
            bail!(
                "the '{SECTION}' setting is the runner's section and must be a mapping of its \
                 options ({})",
                top_keys().collect::<Vec<_>>().join(", ")
            );
        };
        let kv = top.remove(KvOptions::SECTION);
        refuse_unknown(&top, "", &top_keys().collect::<Vec<_>>())?;
        layer(&mut self.limits, &top, matches)?;
        layer(&mut self.runtime, &top, matches)?;
        layer(&mut self.serving, &top, matches)?;
        layer(&mut self.outbound, &top, matches)?;
        if let Some(kv) = kv {
            let Value::Object(kv) = kv else {
                bail!(
                    "invalid setting '{SECTION}.{}': a mapping of {} is expected",
                    KvOptions::SECTION,
                    KvOptions::KEYS.join(", ")
                );
            };
            refuse_unknown(&kv, "kv.", KvOptions::KEYS)?;
            layer(&mut self.kv, &kv, matches)?;
        }
        Ok(())
    }

    /// Makes every relative path absolute with `resolve` (against `-C`), once every layer is
    /// in: settings' paths and flags' alike.
    pub(crate) fn resolve_paths(&mut self, resolve: impl Fn(&Path) -> PathBuf) {
        let runtime = &mut self.runtime;
        if let Some(dir) = &mut runtime.cache_dir {
            *dir = resolve(dir);
        }
        for dir in &mut runtime.dir {
            dir.resolve(&resolve);
        }
        let serving = &mut self.serving;
        let files = [
            &mut self.outbound.outbound_ca,
            &mut serving.tls_cert,
            &mut serving.tls_key,
        ];
        for file in files.into_iter().flatten() {
            *file = resolve(file);
        }
        self.kv.url.resolve(&resolve);
    }
}

fn layer<G: Group>(
    group: &mut G,
    section: &Map<String, Value>,
    matches: &ArgMatches,
) -> anyhow::Result<()> {
    group.layer(section, matches).map_err(|(key, why)| {
        let prefix = match G::SECTION {
            "" => String::new(),
            nested => format!("{nested}."),
        };
        anyhow!("invalid setting '{SECTION}.{prefix}{key}': {why}")
    })
}

fn refuse_unknown(
    section: &Map<String, Value>,
    prefix: &str,
    known: &[&str],
) -> anyhow::Result<()> {
    match section.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => bail!(
            "invalid setting '{SECTION}.{prefix}{key}': unknown option; known: {}",
            known.join(", ")
        ),
        None => Ok(()),
    }
}

/// Takes the `host:` section out of the merged settings, if there is one.
pub(crate) fn take_section(settings: &mut Value) -> Option<Value> {
    match settings {
        Value::Object(map) => map.remove(SECTION),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::{Args as _, FromArgMatches as _};

    use super::*;
    use crate::options::LogFormat;

    /// The options from `flags` over the `host:` section `section` (YAML).
    fn layered(flags: &[&str], section: &str) -> anyhow::Result<HostOptions> {
        let command = HostOptions::augment_args(clap::Command::new("nanohttp"));
        let matches = command
            .try_get_matches_from(std::iter::once("nanohttp").chain(flags.iter().copied()))?;
        let mut options = HostOptions::from_arg_matches(&matches)?;
        options.layer_settings(serde_yaml_ng::from_str(section)?, &matches)?;
        Ok(options)
    }

    fn error(flags: &[&str], section: &str) -> String {
        format!(
            "{:#}",
            layered(flags, section).expect_err("should be refused")
        )
    }

    #[test]
    fn defaults() {
        let options = layered(&[], "{}").unwrap();
        let limits = &options.limits;
        assert_eq!(limits.request_timeout, Some(Duration::from_secs(30)));
        assert_eq!(limits.memory_limit, 64 << 20);
        assert_eq!(limits.max_concurrent, 1000);
        assert_eq!(limits.reuse, 1);
        assert_eq!(limits.max_body_size, 16 << 20);
        assert_eq!(limits.max_header_size, 16 << 10);
        assert_eq!(limits.max_headers, 100);
        assert_eq!(limits.header_timeout, Duration::from_secs(10));
        assert_eq!(limits.idle_timeout, Duration::from_secs(60));
        assert_eq!(limits.grace_period, Duration::from_secs(30));
        let runtime = &options.runtime;
        assert_eq!(runtime.log_level, None);
        assert_eq!(runtime.log_format, LogFormat::Text);
        assert!(runtime.cache && !runtime.reload && runtime.dir.is_empty());
        let serving = &options.serving;
        assert_eq!(serving.admin_bind, None);
        assert_eq!(serving.max_connections, None);
        assert!(serving.connection_limit() >= 1);
        assert_eq!(serving.write_timeout, Some(Duration::from_secs(30)));
        assert_eq!((&serving.tls_cert, &serving.tls_key), (&None, &None));
        let outbound = &options.outbound;
        assert!(outbound.allow_outbound.is_empty());
        assert_eq!(outbound.outbound_connect_timeout, Duration::from_secs(10));
        assert_eq!(outbound.outbound_max_body_size, 128 << 20);
        assert_eq!(outbound.outbound_max_in_flight, 16);
        assert_eq!(outbound.outbound_max_per_host, 100);
        assert_eq!(options.kv.buckets, ["default"]);
        assert_eq!(options.kv.max_key_size, 1024);
        assert_eq!(options.kv.timeout, Duration::from_secs(2));
    }

    #[test]
    fn settings_override_defaults() {
        let options = layered(
            &[],
            "{request_timeout: 5s, memory_limit: 32MiB, max_concurrent: 10, reuse: 100, \
              max_body_size: 1024, max_header_size: 8KiB, max_headers: 20, header_timeout: 2, \
              idle_timeout: 1.5, grace_period: 0, log_level: debug, log_format: json, \
              cache_dir: c, reload: true, dir: [public, '/srv/data::/data'], \
              admin_bind: 9090, max_connections: 50, write_timeout: 2s, \
              tls_cert: cert.pem, tls_key: key.pem, \
              allow_outbound: 'http://127.0.0.1:9000', outbound_first_byte_timeout: 500ms, \
              outbound_max_in_flight: 3, outbound_ca: ca.pem, \
              kv: {url: 'file:kv.redb', buckets: [a, b], max_value_size: 1KiB, timeout: 1}}",
        )
        .unwrap();
        let limits = &options.limits;
        assert_eq!(limits.request_timeout, Some(Duration::from_secs(5)));
        assert_eq!(limits.memory_limit, 32 << 20);
        assert_eq!((limits.max_concurrent, limits.reuse), (10, 100));
        assert_eq!(
            (limits.max_body_size, limits.max_header_size),
            (1024, 8 << 10)
        );
        assert_eq!(limits.max_headers, 20);
        assert_eq!(limits.header_timeout, Duration::from_secs(2));
        assert_eq!(limits.idle_timeout, Duration::from_millis(1500));
        assert_eq!(limits.grace_period, Duration::ZERO);
        let runtime = &options.runtime;
        assert_eq!(runtime.log_level.as_deref(), Some("debug"));
        assert_eq!(runtime.log_format, LogFormat::Json);
        assert_eq!(runtime.cache_dir(), Some(PathBuf::from("c")));
        assert!(runtime.reload);
        let serving = &options.serving;
        assert_eq!(serving.admin_bind, Some("127.0.0.1:9090".parse().unwrap()));
        assert_eq!(serving.connection_limit(), 50);
        assert_eq!(serving.write_timeout, Some(Duration::from_secs(2)));
        assert_eq!(
            serving.tls_files().unwrap(),
            Some((PathBuf::from("cert.pem"), PathBuf::from("key.pem")))
        );
        let guests: Vec<_> = runtime.dir.iter().map(|d| d.guest.as_str()).collect();
        assert_eq!(guests, ["public", "/data"]);
        let outbound = &options.outbound;
        assert_eq!(outbound.allow_outbound.len(), 1);
        assert_eq!(
            outbound.outbound_first_byte_timeout,
            Duration::from_millis(500)
        );
        assert_eq!(outbound.outbound_max_in_flight, 3);
        assert_eq!(outbound.outbound_ca, Some(PathBuf::from("ca.pem")));
        assert_eq!(options.kv.url.describe(), "file:kv.redb");
        assert_eq!(options.kv.buckets, ["a", "b"]);
        assert_eq!(options.kv.max_value_size, 1024);
        assert_eq!(options.kv.timeout, Duration::from_secs(1));
        let off = layered(&[], "{request_timeout: 0, cache: false, cache_dir: d}");
        let off = off.unwrap();
        assert_eq!(off.limits.request_timeout, None);
        assert_eq!(off.runtime.cache_dir(), None);
    }

    #[test]
    fn flags_win_and_lists_add_to_settings() {
        let options = layered(
            &[
                "--request-timeout=7s",
                "--dir=site::/site",
                "--allow-outbound=https://*.example.com",
                "--kv-bucket=c",
                "--no-cache",
            ],
            "{request_timeout: 5s, reuse: 3, dir: 'data::/data', \
              allow_outbound: ['http://127.0.0.1:9000'], cache_dir: x, kv: {buckets: [a, b]}}",
        )
        .unwrap();
        assert_eq!(options.limits.request_timeout, Some(Duration::from_secs(7)));
        assert_eq!(
            options.limits.reuse, 3,
            "a setting without its flag still counts"
        );
        let guests: Vec<_> = options
            .runtime
            .dir
            .iter()
            .map(|d| d.guest.as_str())
            .collect();
        assert_eq!(guests, ["/data", "/site"]);
        assert_eq!(options.outbound.allow_outbound.len(), 2);
        assert_eq!(options.kv.buckets, ["a", "b", "c"]);
        assert_eq!(options.runtime.cache_dir(), None);
        // A list flag alone replaces the list's default.
        let only_flag = layered(&["--kv-bucket=x"], "{}").unwrap();
        assert_eq!(only_flag.kv.buckets, ["x"]);
    }

    #[test]
    fn setting_errors() {
        let cases = [
            (
                "5",
                "the 'host' setting is the runner's section and must be a mapping",
            ),
            (
                "{timeout: 5}",
                "invalid setting 'host.timeout': unknown option; known: request_timeout, ",
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
                "invalid setting 'host.max_headers': must be between 1 and 65535",
            ),
            (
                "{header_timeout: 0}",
                "invalid setting 'host.header_timeout': must be more than 0",
            ),
            (
                "{max_connections: 0}",
                "invalid setting 'host.max_connections': must be between 1 and 1000000",
            ),
            (
                "{admin_bind: 'x:y'}",
                "invalid setting 'host.admin_bind': 'y' is not a port number",
            ),
            (
                "{log_format: xml}",
                "invalid setting 'host.log_format': 'xml' is not a log format (text or json)",
            ),
            (
                "{reload: yes please}",
                "invalid setting 'host.reload': expected true or false, not 'yes please'",
            ),
            (
                "{dir: '::/site'}",
                "invalid setting 'host.dir': '::/site' is not HOST_PATH[::GUEST_PATH]",
            ),
            (
                "{dir: [a, {b: c}]}",
                "invalid setting 'host.dir': expected one value, not a mapping",
            ),
            (
                "{max_body_size: -1}",
                "invalid setting 'host.max_body_size': '-1' is not a size",
            ),
            (
                "{request_timeout: [1]}",
                "invalid setting 'host.request_timeout': expected one value, not a sequence",
            ),
            (
                "{allow_outbound: ['ftp://x']}",
                "invalid setting 'host.allow_outbound': ",
            ),
            (
                "{outbound_max_in_flight: 0}",
                "invalid setting 'host.outbound_max_in_flight': must be between 1 and 100000",
            ),
            (
                "{kv: 5}",
                "invalid setting 'host.kv': a mapping of url, buckets, ",
            ),
            (
                "{kv: {colour: red}}",
                "invalid setting 'host.kv.colour': unknown option; known: url, buckets",
            ),
            (
                "{kv: {buckets: ['a b']}}",
                "invalid setting 'host.kv.buckets': 'a b' is not a bucket name",
            ),
            (
                "{kv: {max_key_size: 0}}",
                "invalid setting 'host.kv.max_key_size': must be at least 1 byte, not 0",
            ),
            (
                "{kv: {url: 'ftp://x'}}",
                "invalid setting 'host.kv.url': 'ftp://x' is not a key-value store URL",
            ),
        ];
        for (section, expected) in cases {
            let got = error(&[], section);
            assert!(got.starts_with(expected), "{section}: {got}");
        }
        // A bad setting is refused even when its flag would override it: the file is wrong.
        let got = error(&["--reuse=2"], "{reuse: 0}");
        assert!(got.starts_with("invalid setting 'host.reuse'"), "{got}");
    }

    #[test]
    fn every_key_is_one_option() {
        let mut keys: Vec<&str> = [
            Limits::KEYS,
            Runtime::KEYS,
            Serving::KEYS,
            OutboundOptions::KEYS,
            KvOptions::KEYS,
        ]
        .concat();
        let count = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(
            keys.len(),
            count,
            "two groups share a key (and so a clap id)"
        );
        let command = HostOptions::augment_args(clap::Command::new("nanohttp"));
        for key in keys {
            let arg = command.get_arguments().find(|arg| arg.get_id() == key);
            assert!(
                arg.is_some_and(|arg| arg.get_long().is_some()),
                "{key} has no flag"
            );
        }
        command.debug_assert();
    }
}
