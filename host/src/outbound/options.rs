//! The outbound options: each a flag and a `host.` key (flags win), with its default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml_ng::Value;

use super::policy::Rule;
use crate::options::{
    self, count_value, duration_value, parse_duration, parse_size, size_value, string_value,
};

/// The outbound options, resolved (flags over `host.` keys over defaults).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutboundOptions {
    /// `--allow-outbound`: no rule, no outgoing request.
    pub(crate) allow: Vec<Rule>,
    pub(crate) connect_timeout: Duration,
    pub(crate) first_byte_timeout: Duration,
    pub(crate) between_bytes_timeout: Duration,
    /// Largest response body a guest may receive.
    pub(crate) max_body_size: u64,
    /// Outgoing requests one incoming request may have in flight (until each body is read);
    /// more fail at once.
    pub(crate) max_in_flight: u32,
    /// Outgoing requests in flight to one upstream (`scheme://host:port`) from all guests
    /// together; more wait.
    pub(crate) max_per_host: u32,
    /// Certificates (PEM) trusted besides the webpki roots.
    pub(crate) ca_file: Option<PathBuf>,
}

impl Default for OutboundOptions {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(30),
            between_bytes_timeout: Duration::from_secs(30),
            max_body_size: 128 << 20,
            max_in_flight: 16,
            max_per_host: 100,
            ca_file: None,
        }
    }
}

impl OutboundOptions {
    /// Applies one `host.` key of this group; `Ok(false)` when the key is not one of them.
    pub(crate) fn apply_one(
        &mut self,
        key: &str,
        value: &Value,
        resolve: &impl Fn(PathBuf) -> PathBuf,
    ) -> Result<bool, String> {
        match key {
            // A list replaces the rules of earlier layers (settings merge lists whole);
            // `--allow-outbound` flags are added after it.
            "allow_outbound" => {
                self.allow = match value {
                    Value::Sequence(items) => items
                        .iter()
                        .map(|item| Rule::parse(&string_value(item)?))
                        .collect::<Result<_, _>>()?,
                    other => vec![Rule::parse(&string_value(other)?)?],
                }
            }
            "outbound_connect_timeout" => self.connect_timeout = timeout(duration_value(value)?)?,
            "outbound_first_byte_timeout" => {
                self.first_byte_timeout = timeout(duration_value(value)?)?;
            }
            "outbound_between_bytes_timeout" => {
                self.between_bytes_timeout = timeout(duration_value(value)?)?;
            }
            "outbound_max_body_size" => self.max_body_size = size_value(value)?,
            "outbound_max_in_flight" => self.max_in_flight = in_flight(count_value(value)?)?,
            "outbound_max_per_host" => self.max_per_host = in_flight(count_value(value)?)?,
            "outbound_ca" => self.ca_file = Some(resolve(PathBuf::from(string_value(value)?))),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// The outbound flags (see [`OutboundOptions`]); each overrides the `host.` key of its name.
#[derive(Debug, Default, clap::Args)]
#[command(next_help_heading = "Outgoing HTTP from guests (also settable as host.KEY in settings)")]
pub(crate) struct OutboundFlags {
    /// Let guests call upstreams matching PATTERN, `scheme://host[:port]` (`*` for any scheme,
    /// host or port; `*.example.com` for names under it): `https://api.example.com`,
    /// `http://127.0.0.1:9000`. A wildcard host never reaches loopback, private or link-local
    /// addresses; name such a host to allow it. May be given several times, after the
    /// `host.allow_outbound` list. [default: none, every outgoing request is refused]
    #[arg(long = "allow-outbound", value_name = "PATTERN", value_parser = Rule::parse)]
    allow_outbound: Vec<Rule>,

    /// Time to resolve, connect and finish TLS with an upstream. [default: 10s]
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    outbound_connect_timeout: Option<Duration>,

    /// Time from sending a request to the upstream's response head. [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    outbound_first_byte_timeout: Option<Duration>,

    /// Time between two pieces of an upstream's response body. [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    outbound_between_bytes_timeout: Option<Duration>,

    /// Largest upstream response body a guest may read. [default: 128MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    outbound_max_body_size: Option<u64>,

    /// Outgoing requests one incoming request may have in flight, each until its body is
    /// read; more fail at once (the guest sees `connection-limit-reached`). [default: 16]
    #[arg(long, value_name = "N", value_parser = parse_in_flight)]
    outbound_max_in_flight: Option<u32>,

    /// Outgoing requests in flight to one upstream from all guests together; more wait for a
    /// slot, within the connect timeout. [default: 100]
    #[arg(long, value_name = "N", value_parser = parse_in_flight)]
    outbound_max_per_host: Option<u32>,

    /// PEM certificates to trust for `https` upstreams, besides the webpki roots (an internal
    /// CA). [default: none]
    #[arg(long, value_name = "FILE")]
    outbound_ca: Option<PathBuf>,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    timeout(parse_duration(text)?)
}

fn parse_in_flight(text: &str) -> Result<u32, String> {
    let count = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a count"))?;
    in_flight(count)
}

impl OutboundFlags {
    /// Flags given on the command line win over the settings and the defaults.
    pub(crate) fn apply(self, options: &mut OutboundOptions, resolve: impl Fn(&Path) -> PathBuf) {
        options.allow.extend(self.allow_outbound);
        let durations = [
            (self.outbound_connect_timeout, &mut options.connect_timeout),
            (
                self.outbound_first_byte_timeout,
                &mut options.first_byte_timeout,
            ),
            (
                self.outbound_between_bytes_timeout,
                &mut options.between_bytes_timeout,
            ),
        ];
        for (flag, option) in durations {
            if let Some(value) = flag {
                *option = value;
            }
        }
        if let Some(size) = self.outbound_max_body_size {
            options.max_body_size = size;
        }
        if let Some(count) = self.outbound_max_in_flight {
            options.max_in_flight = count;
        }
        if let Some(count) = self.outbound_max_per_host {
            options.max_per_host = count;
        }
        if let Some(file) = self.outbound_ca {
            options.ca_file = Some(resolve(&file));
        }
    }
}

pub(crate) fn timeout(duration: Duration) -> Result<Duration, String> {
    options::positive_duration(duration)
}

/// Most outgoing requests in flight that a limit may allow.
const MAX_IN_FLIGHT: u64 = 100_000;

pub(crate) fn in_flight(count: u64) -> Result<u32, String> {
    if !(1..=MAX_IN_FLIGHT).contains(&count) {
        return Err(format!(
            "must be between 1 and {MAX_IN_FLIGHT}, not {count}"
        ));
    }
    u32::try_from(count).map_err(|_| format!("{count} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn keys() {
        let mut options = OutboundOptions::default();
        let section = yaml(
            "{allow_outbound: ['http://127.0.0.1:9000', 'https://*.example.com'], \
              outbound_connect_timeout: 2s, outbound_first_byte_timeout: 500ms, \
              outbound_between_bytes_timeout: 1, outbound_max_body_size: 1MiB, \
              outbound_max_in_flight: 3, outbound_max_per_host: 7, outbound_ca: ca.pem}",
        );
        let Value::Mapping(map) = section else {
            unreachable!()
        };
        for (key, value) in &map {
            let applied = options
                .apply_one(key.as_str().unwrap(), value, &|p| {
                    PathBuf::from("/base").join(p)
                })
                .unwrap();
            assert!(applied);
        }
        assert_eq!(
            options,
            OutboundOptions {
                allow: vec![
                    Rule::parse("http://127.0.0.1:9000").unwrap(),
                    Rule::parse("https://*.example.com").unwrap()
                ],
                connect_timeout: Duration::from_secs(2),
                first_byte_timeout: Duration::from_millis(500),
                between_bytes_timeout: Duration::from_secs(1),
                max_body_size: 1 << 20,
                max_in_flight: 3,
                max_per_host: 7,
                ca_file: Some(PathBuf::from("/base/ca.pem")),
            }
        );
        let not_ours = options.apply_one("reuse", &yaml("2"), &|p| p);
        assert_eq!(not_ours, Ok(false));
        for (key, value, why) in [
            (
                "allow_outbound",
                "[ftp://x]",
                "the scheme is http, https or *",
            ),
            ("outbound_connect_timeout", "0", "must be more than 0"),
            (
                "outbound_max_in_flight",
                "0",
                "must be between 1 and 100000",
            ),
        ] {
            let error = options.apply_one(key, &yaml(value), &|p| p).unwrap_err();
            assert!(error.contains(why), "{key}: {error}");
        }
    }
}
