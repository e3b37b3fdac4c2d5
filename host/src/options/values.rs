//! The parsers of option values, each used for a flag's text and for the same key in settings
//! (where a number or a boolean is read as the text a flag would carry).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use crate::io::io_reason;

/// Any duration: `250ms`, `30s`, `2m`, `1h`, or a bare number of seconds (`1.5`). `0` is zero.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
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

/// A duration more than zero.
pub(crate) fn positive_duration(text: &str) -> Result<Duration, String> {
    match duration(text)? {
        Duration::ZERO => Err("must be more than 0".into()),
        duration => Ok(duration),
    }
}

/// A time limit, where `0` means none.
pub(crate) fn time_limit(text: &str) -> Result<Option<Duration>, String> {
    let limit = duration(text)?;
    Ok((!limit.is_zero()).then_some(limit))
}

/// `65536`, `64KiB`, `64MiB`, `1GiB` (also `K`/`KB`, `M`/`MB`, `G`/`GB`, all powers of 1024).
pub(crate) fn size(text: &str) -> Result<u64, String> {
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

/// A size of at least `MIN` bytes that fits in memory.
pub(crate) fn size_at_least<const MIN: u64>(text: &str) -> Result<usize, String> {
    let bytes = size(text)?;
    if bytes < MIN {
        return Err(format!(
            "must be at least {}, not {bytes} bytes",
            show_size(MIN)
        ));
    }
    usize::try_from(bytes).map_err(|_| format!("{bytes} bytes do not fit this machine"))
}

/// Smallest memory limit: a Rust component needs about 1 MiB to start; 2 MiB leaves it room.
const MIN_MEMORY: u64 = 2 << 20;
/// Largest memory limit: a 32-bit linear memory cannot grow beyond 4 GiB.
const MAX_MEMORY: u64 = 4 << 30;

/// The largest size of one linear memory: 2MiB to 4GiB.
pub(crate) fn memory_limit(text: &str) -> Result<usize, String> {
    let bytes = size(text)?;
    if !(MIN_MEMORY..=MAX_MEMORY).contains(&bytes) {
        return Err(format!("must be between 2MiB and 4GiB, not {bytes} bytes"));
    }
    usize::try_from(bytes).map_err(|_| format!("{bytes} bytes do not fit this machine"))
}

/// A count from `MIN` to `MAX`.
pub(crate) fn count<const MIN: u32, const MAX: u32>(text: &str) -> Result<u32, String> {
    let count: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a count"))?;
    if !(u64::from(MIN)..=u64::from(MAX)).contains(&count) {
        return Err(format!("must be between {MIN} and {MAX}, not {count}"));
    }
    Ok(count as u32)
}

/// `true` or `false`.
pub(crate) fn flag(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("expected true or false, not '{other}'")),
    }
}

/// Any text.
pub(crate) fn text(text: &str) -> Result<String, String> {
    Ok(text.to_owned())
}

/// A path, as written (relative ones are resolved against `-C` once every layer is read).
pub(crate) fn path(text: &str) -> Result<PathBuf, String> {
    if text.is_empty() {
        return Err("the path is empty".into());
    }
    Ok(PathBuf::from(text))
}

/// `{HOST:}PORT`: a bare port means loopback; `HOST` is an IP address (IPv6 in brackets) or a
/// name resolved now, the first address found wins.
pub(crate) fn bind(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err("expected PORT or HOST:PORT".into());
    };
    if host.is_empty() {
        return Err("expected PORT or HOST:PORT (the host is empty)".into());
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("'{port}' is not a port number (0-65535)"))?;
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve '{host}': {}", io_reason(&e)))?
        .next()
        .ok_or_else(|| format!("'{host}' resolves to no address"))
}

/// `16KiB` for a whole number of KiB, MiB or GiB, else bytes.
fn show_size(bytes: u64) -> String {
    match bytes {
        1 => "1 byte".into(),
        b if b % (1 << 30) == 0 => format!("{}GiB", b >> 30),
        b if b % (1 << 20) == 0 => format!("{}MiB", b >> 20),
        b if b % (1 << 10) == 0 => format!("{}KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(duration(text), Ok(Duration::from_millis(ms)), "{text}");
        }
        for text in ["", "s", "10x", "-1s", "1e3", "1.2.3s", "99999999999999h"] {
            assert!(duration(text).is_err(), "{text}");
        }
        assert_eq!(time_limit("0"), Ok(None));
        assert_eq!(time_limit("2s"), Ok(Some(Duration::from_secs(2))));
        assert_eq!(positive_duration("0"), Err("must be more than 0".into()));
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
            assert_eq!(size(text), Ok(bytes), "{text}");
        }
        for text in [
            "",
            "MiB",
            "1.5MiB",
            "-1",
            "10TiB",
            "99999999999999999999GiB",
        ] {
            assert!(size(text).is_err(), "{text}");
        }
        assert_eq!(
            size_at_least::<{ 8 << 10 }>("100"),
            Err("must be at least 8KiB, not 100 bytes".into())
        );
        assert_eq!(
            memory_limit("1MiB"),
            Err("must be between 2MiB and 4GiB, not 1048576 bytes".into())
        );
    }

    #[test]
    fn counts_and_flags() {
        assert_eq!(count::<1, 10>("10"), Ok(10));
        assert_eq!(
            count::<1, 10>("0"),
            Err("must be between 1 and 10, not 0".into())
        );
        assert_eq!(count::<1, 10>("-1"), Err("'-1' is not a count".into()));
        assert_eq!(flag("true"), Ok(true));
        assert_eq!(
            flag("yes please"),
            Err("expected true or false, not 'yes please'".into())
        );
    }
}
