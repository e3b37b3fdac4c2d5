//! Cookies: the request's, parsed once; the response's, written as `Set-Cookie` values.

use cookie::time::{OffsetDateTime, UtcOffset};
use cookie::{Cookie, SameSite};
use http::header::HeaderValue;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::settings::CookieDefaults;

/// The request cookies of every `Cookie` header (`headers`), in order (malformed pairs are
/// skipped).
pub(crate) fn parse_cookies<'a>(headers: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    headers
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| Cookie::parse_encoded(pair.trim()).ok())
        .map(|c| (c.name().to_owned(), c.value().to_owned()))
        .collect()
}

/// A cookie's `Set-Cookie` value, with the settings' defaults for attributes left unset.
pub(crate) fn set_cookie_value(
    cookie: &Cookie<'static>,
    defaults: CookieDefaults,
) -> Option<HeaderValue> {
    let mut cookie = cookie.clone();
    if cookie.http_only().is_none() && defaults.http_only {
        cookie.set_http_only(true);
    }
    if cookie.secure().is_none() && defaults.secure {
        cookie.set_secure(true);
    }
    HeaderValue::from_str(&set_cookie_text(&cookie)).ok()
}

/// The bytes the `cookie` crate percent-encodes in names and values: controls, non-ASCII, space
/// and `"#%(),/:;<=>?@[\]^`{|}`.
const COOKIE_ENCODED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'(')
    .add(b')')
    .add(b',')
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The `Set-Cookie` text the `cookie` crate writes (`cookie.encoded().to_string()`), written
/// here: the crate formats `Expires` with the `time` crate's general-purpose formatter, about
/// 20 KB of every component, where a fixed format needs a few lines.
fn set_cookie_text(cookie: &Cookie<'_>) -> String {
    use std::fmt::Write as _;

    let mut text = format!(
        "{}={}",
        utf8_percent_encode(cookie.name(), COOKIE_ENCODED),
        utf8_percent_encode(cookie.value(), COOKIE_ENCODED)
    );
    if cookie.http_only() == Some(true) {
        text.push_str("; HttpOnly");
    }
    if let Some(same_site) = cookie.same_site() {
        let _ = write!(text, "; SameSite={same_site}");
    }
    let partitioned = cookie.partitioned() == Some(true);
    if partitioned {
        text.push_str("; Partitioned");
    }
    // As the crate does: partitioned cookies, and `SameSite=None` ones unless told otherwise,
    // must be secure.
    if cookie.secure() == Some(true)
        || partitioned
        || cookie.secure().is_none() && cookie.same_site() == Some(SameSite::None)
    {
        text.push_str("; Secure");
    }
    if let Some(path) = cookie.path() {
        let _ = write!(text, "; Path={path}");
    }
    if let Some(domain) = cookie.domain() {
        let _ = write!(text, "; Domain={domain}");
    }
    if let Some(max_age) = cookie.max_age() {
        let _ = write!(text, "; Max-Age={}", max_age.whole_seconds());
    }
    if let Some(expires) = cookie.expires_datetime() {
        let _ = write!(text, "; Expires={}", cookie_date(expires));
    }
    text
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`: the date format of `Expires` (RFC 6265, RFC 7231 IMF-fixdate),
/// the year written in full as the `cookie` crate does.
fn cookie_date(time: OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let time = time.to_offset(UtcOffset::UTC);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[usize::from(time.weekday().number_days_from_monday())],
        time.day(),
        MONTHS[usize::from(u8::from(time.month())) - 1],
        time.year(),
        time.hour(),
        time.minute(),
        time.second(),
    )
}

#[cfg(test)]
mod tests {
    use cookie::time::{Date, Duration, Month, PrimitiveDateTime, Time, UtcOffset};
    use cookie::{Cookie, SameSite};

    use super::set_cookie_text;

    /// The text matches the `cookie` crate's own, attribute for attribute.
    #[test]
    fn set_cookie_text_matches_the_cookie_crate() {
        let at = |year, month, day, hms: (u8, u8, u8), offset_hours| {
            let date = Date::from_calendar_date(year, month, day).unwrap();
            let time = Time::from_hms(hms.0, hms.1, hms.2).unwrap();
            PrimitiveDateTime::new(date, time)
                .assume_offset(UtcOffset::from_hms(offset_hours, 0, 0).unwrap())
        };
        let mut removed = Cookie::build(("gone", "x")).path("/").build();
        removed.make_removal();
        let cookies = [
            Cookie::new("a", "1"),
            Cookie::new("my name", "this; value?"),
            Cookie::new(
                (' '..='~').collect::<String>(),
                format!("\u{7f}\t{}é€", (' '..='~').rev().collect::<String>()),
            ),
            Cookie::build(("s", "v"))
                .http_only(true)
                .secure(true)
                .same_site(SameSite::Lax)
                .path("/app")
                .domain("example.com")
                .max_age(Duration::hours(2))
                .expires(at(1994, Month::November, 6, (8, 49, 37), 0))
                .build(),
            Cookie::build(("n", "v")).same_site(SameSite::None).build(),
            Cookie::build(("n", "v"))
                .same_site(SameSite::None)
                .secure(false)
                .build(),
            Cookie::build(("p", "v")).partitioned(true).build(),
            Cookie::build(("h", "v"))
                .http_only(false)
                .secure(false)
                .same_site(SameSite::Strict)
                .max_age(Duration::seconds(-5))
                .build(),
            Cookie::build(("e", "v"))
                .expires(at(2026, Month::March, 1, (23, 5, 9), -5))
                .build(),
            Cookie::build(("old", "v"))
                .expires(at(1901, Month::January, 2, (0, 0, 0), 0))
                .build(),
            Cookie::build(("far", "v"))
                .expires(at(9999, Month::December, 31, (23, 59, 59), 0))
                .build(),
            removed,
        ];
        for cookie in cookies {
            assert_eq!(set_cookie_text(&cookie), cookie.encoded().to_string());
        }
    }
}
