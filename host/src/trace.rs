//! A request's trace context (W3C Trace Context): the incoming `traceparent`, kept, or a new
//! trace for a request without one. Its trace id is the request id of the access log and of
//! the `x-request-id` response header; guests' outgoing requests carry a `traceparent` of the
//! same trace.

use std::fmt;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};

use http::HeaderMap;
use http::header::HeaderValue;

/// The header carrying a trace context.
pub(crate) const TRACEPARENT: &str = "traceparent";
/// The response header holding the request id.
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// One request's trace.
#[derive(Debug, Clone)]
pub(crate) struct TraceContext {
    trace_id: u128,
    flags: u8,
    /// The `traceparent` the request came with, if valid.
    incoming: Option<HeaderValue>,
}

impl TraceContext {
    /// The request's valid `traceparent`, else a new trace.
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        let parsed = headers
            .get(TRACEPARENT)
            .and_then(|value| Some((parse(value.to_str().ok()?)?, value)));
        match parsed {
            Some(((trace_id, flags), value)) => Self {
                trace_id,
                flags,
                incoming: Some(value.clone()),
            },
            None => Self {
                trace_id: (u128::from(random()) << 64) | u128::from(random()),
                flags: 0,
                incoming: None,
            },
        }
    }

    /// The trace id as 32 lowercase hex digits: the request id.
    pub(crate) fn trace_id(&self) -> RequestId {
        RequestId(self.trace_id)
    }

    /// The request id as a header value.
    pub(crate) fn request_id(&self) -> HeaderValue {
        HeaderValue::from_str(&self.trace_id().to_string()).expect("hex digits")
    }

    /// The incoming `traceparent`, if the request had a valid one.
    pub(crate) fn incoming(&self) -> Option<&str> {
        self.incoming.as_ref().and_then(|value| value.to_str().ok())
    }

    /// A `traceparent` for a call made while serving the request: same trace and flags, a
    /// new parent id.
    pub(crate) fn child(&self) -> HeaderValue {
        let span = random().max(1);
        let text = format!("00-{:032x}-{span:016x}-{:02x}", self.trace_id, self.flags);
        HeaderValue::from_str(&text).expect("hex digits")
    }
}

/// A trace id, shown as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestId(u128);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>` (later versions may append
/// fields); all-zero ids and version `ff` are invalid.
fn parse(text: &str) -> Option<(u128, u8)> {
    let mut parts = text.trim().split('-');
    let version = parts.next()?;
    let trace = parts.next()?;
    let parent = parts.next()?;
    let flags = parts.next()?;
    let hex = |part: &str, len: usize| {
        part.len() == len
            && part
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if !hex(version, 2) || version == "ff" || !hex(trace, 32) || !hex(parent, 16) {
        return None;
    }
    if !hex(flags, 2) || (version == "00" && parts.next().is_some()) {
        return None;
    }
    let trace_id = u128::from_str_radix(trace, 16).ok()?;
    let parent_id = u64::from_str_radix(parent, 16).ok()?;
    if trace_id == 0 || parent_id == 0 {
        return None;
    }
    Some((trace_id, u8::from_str_radix(flags, 16).ok()?))
}

/// 64 unpredictable bits: std's randomly keyed SipHash over a counter (ids, not secrets).
fn random() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u64(NEXT.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparents() {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(parse(valid), Some((0x4bf92f3577b34da6a3ce929d0e0e4736, 1)));
        // A later version may carry more fields.
        assert!(parse(&format!("01{}-more", &valid[2..])).is_some());
        for invalid in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
        ] {
            assert_eq!(parse(invalid), None, "{invalid}");
        }
    }

    #[test]
    fn a_request_without_one_gets_a_new_trace_and_calls_carry_it() {
        let fresh = TraceContext::of(&HeaderMap::new());
        let other = TraceContext::of(&HeaderMap::new());
        assert_ne!(fresh.trace_id().to_string(), other.trace_id().to_string());
        assert_eq!(fresh.incoming(), None);
        let child = fresh.child();
        let child = child.to_str().unwrap();
        assert_eq!(parse(child).map(|(id, _)| id), Some(fresh.trace_id));

        let mut headers = HeaderMap::new();
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        headers.insert(TRACEPARENT, HeaderValue::from_static(valid));
        let kept = TraceContext::of(&headers);
        assert_eq!(kept.incoming(), Some(valid));
        assert_eq!(
            kept.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        let child = kept.child();
        assert!(
            child
                .to_str()
                .unwrap()
                .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
        );
        assert!(child.to_str().unwrap().ends_with("-01"));
    }
}
