//! The dispatch core: controllers walk path segments to a handler; handlers are invoked with the
//! arity, verb and argument rules of nanohttp. Free of WASI, so it runs natively in tests.
//!
//! The attribute macros generate [`Controller`] implementations that call the functions here;
//! they are public (hidden) so generated code can reach them, not for users to call.

use std::borrow::Cow;
use std::str::FromStr;

use http::Method;
use http::header::ALLOW;

use crate::context::Context;
use crate::rejection::Rejection;
use crate::response::Outcome;
use crate::status::HttpStatus;

/// A node of the controller tree: given the path segments left after its own mount point, it
/// answers the request or says why not (404, 405, ...).
///
/// Implemented for you by `#[controller]`, `#[rest_controller]` and `#[regex_controller]`;
/// implement it by hand for controllers that compute their routes (a static file server, say).
pub trait Controller {
    /// Answers the request addressed to this controller; `path` holds the percent-decoded
    /// segments after the controller's mount point (`/tips/2/` mounted at `tips` → `["2", ""]`).
    fn dispatch<'a>(&'a self, ctx: &mut Context, path: &[String]) -> Outcome<'a>;
}

impl<C: Controller + ?Sized> Controller for &C {
    fn dispatch<'a>(&'a self, ctx: &mut Context, path: &[String]) -> Outcome<'a> {
        (**self).dispatch(ctx, path)
    }
}

impl<C: Controller + ?Sized> Controller for Box<C> {
    fn dispatch<'a>(&'a self, ctx: &mut Context, path: &[String]) -> Outcome<'a> {
        (**self).dispatch(ctx, path)
    }
}

/// How a handler was declared: its name, verbs, content type and arity.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Action {
    /// The handler's segment name.
    pub name: &'static str,
    /// Upper-case verbs it accepts, or `None` for any.
    pub verbs: Option<&'static [&'static str]>,
    /// The content type it sets, without charset.
    pub content_type: Option<&'static str>,
    /// The charset it labels its body with.
    pub encoding: Option<&'static str>,
    /// Required positional arguments.
    pub required: usize,
    /// Optional positional arguments after those.
    pub optional: usize,
    /// Whether a rest parameter takes any further arguments.
    pub rest: bool,
    /// The handler's own request body limit, in bytes.
    pub max_body_size: Option<u64>,
    /// Form guards, checked after the verb. A function, not data, so that applications
    /// without guards do not link the form parsers.
    pub guards: Option<GuardCheck>,
}

/// A handler's generated guard check.
#[doc(hidden)]
pub type GuardCheck = fn(&Context) -> Result<(), HttpStatus>;

/// A handler's form guards, each with its status line (`None`: the guard is off).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Guards {
    /// No form may be sent (query string included, as in the original).
    pub prevent_form: Option<&'static str>,
    /// A form must be sent.
    pub prevent_empty_form: Option<&'static str>,
    /// Only these fields may be sent; the status line, if set, replaces
    /// `400 Field: <name> Not Allowed`.
    pub form_whitelist: Option<(&'static [&'static str], Option<&'static str>)>,
}

impl Guards {
    /// Checks the request against the guards that are on.
    pub fn check(&self, ctx: &Context) -> Result<(), HttpStatus> {
        // The guard's status line, still reporting which rejection it is.
        let refuse = |line: &str, rejection: Rejection| {
            line.parse::<HttpStatus>()
                .map(|status| status.with_rejection(rejection))
                .unwrap_or_else(|error| {
                    HttpStatus::internal_server_error().with_detail(error.to_string())
                })
        };
        if let Some(line) = self.prevent_form {
            let sent = !ctx.query().is_empty() || (!ctx.body_is_empty() && !ctx.form()?.is_empty());
            if sent {
                return Err(refuse(line, Rejection::FormNotAllowed));
            }
        }
        if let Some(line) = self.prevent_empty_form
            && ctx.form()?.is_empty()
        {
            return Err(refuse(line, Rejection::EmptyFormNotAllowed));
        }
        if let Some((allowed, line)) = self.form_whitelist {
            let form = ctx.form()?;
            if let Some(name) = form.names().into_iter().find(|n| !allowed.contains(n)) {
                let rejection = Rejection::FieldNotAllowed {
                    name: name.to_owned(),
                };
                return Err(match line {
                    Some(line) => refuse(line, rejection),
                    None => rejection.into(),
                });
            }
        }
        Ok(())
    }
}

/// Every verb a handler without restrictions accepts, as sent in `Allow`.
const ANY_VERB: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

impl Action {
    fn accepts_arity(&self, count: usize) -> bool {
        count >= self.required && (self.rest || count <= self.required + self.optional)
    }

    fn accepts_verb(&self, method: &Method) -> bool {
        let Some(verbs) = self.verbs else {
            return true;
        };
        let accepts = |name: &str| verbs.iter().any(|v| v.eq_ignore_ascii_case(name));
        accepts(method.as_str()) || (*method == Method::HEAD && accepts("GET"))
    }

    /// The `Allow` header value: the declared verbs, plus HEAD with GET, plus OPTIONS.
    fn allow(&self) -> Cow<'static, str> {
        let Some(verbs) = self.verbs else {
            return Cow::Borrowed(ANY_VERB);
        };
        let mut allow: Vec<&str> = verbs.to_vec();
        if allow.contains(&"GET") && !allow.contains(&"HEAD") {
            allow.push("HEAD");
        }
        if !allow.contains(&"OPTIONS") {
            allow.push("OPTIONS");
        }
        Cow::Owned(allow.join(", "))
    }
}

/// Runs a handler: arity (404), then verb (405, or 204 for OPTIONS), then form guards (400),
/// then sets the content type and calls `call`, which parses the arguments (404/400) and calls
/// the handler.
#[doc(hidden)]
pub fn invoke<'a>(
    ctx: &mut Context,
    action: &Action,
    arg_count: usize,
    call: impl FnOnce(&mut Context) -> Outcome<'a>,
) -> Outcome<'a> {
    if !action.accepts_arity(arg_count) {
        return Err(HttpStatus::not_found());
    }
    if !action.accepts_verb(ctx.method()) {
        return if *ctx.method() == Method::OPTIONS {
            answer_options(ctx, &action.allow())
        } else {
            Err(HttpStatus::method_not_allowed_for(&action.allow()))
        };
    }
    if let Some(content_type) = action.content_type {
        ctx.set_content_type(content_type);
    }
    ctx.set_encoding(action.encoding);
    if let Some(limit) = action.max_body_size {
        ctx.set_max_body_size(limit);
    }
    if let Some(check) = action.guards {
        check(ctx)?;
    }
    call(ctx)
}

/// `204 No Content` with `Allow`: the answer to OPTIONS nobody handles explicitly.
fn answer_options<'a>(ctx: &mut Context, allow: &str) -> Outcome<'a> {
    ctx.set_status(204);
    ctx.set_header(ALLOW, allow)?;
    Ok(crate::response::Body::Empty)
}

/// The verb a REST controller dispatches on: the lower-cased method, with HEAD answered by
/// `get` when the controller has no `head` handler.
#[doc(hidden)]
pub fn rest_verb(ctx: &Context, has_head: bool) -> Cow<'static, str> {
    match ctx.verb() {
        "head" if !has_head => Cow::Borrowed("get"),
        "get" => Cow::Borrowed("get"),
        "post" => Cow::Borrowed("post"),
        "put" => Cow::Borrowed("put"),
        "patch" => Cow::Borrowed("patch"),
        "delete" => Cow::Borrowed("delete"),
        "options" => Cow::Borrowed("options"),
        "head" => Cow::Borrowed("head"),
        other => Cow::Owned(other.to_owned()),
    }
}

/// What a REST controller answers when no handler is named after the verb: 204 with `Allow`
/// for OPTIONS, otherwise 405 with `Allow` (`verbs` are the upper-case verbs it has handlers for).
#[doc(hidden)]
pub fn rest_fallback<'a>(ctx: &mut Context, verbs: &[&str]) -> Outcome<'a> {
    let mut allow: Vec<&str> = verbs.to_vec();
    if allow.contains(&"GET") && !allow.contains(&"HEAD") {
        allow.push("HEAD");
    }
    if !allow.contains(&"OPTIONS") {
        allow.push("OPTIONS");
    }
    let allow = allow.join(", ");
    if *ctx.method() == Method::OPTIONS {
        answer_options(ctx, &allow)
    } else {
        Err(HttpStatus::method_not_allowed_for(&allow))
    }
}

/// The segments a controller works on: a trailing empty segment (from a trailing slash) is
/// dropped when the controller ignores trailing slashes.
#[doc(hidden)]
pub fn trim_trailing_slash(path: &[String], remove: bool) -> &[String] {
    match path.split_last() {
        Some((last, rest)) if remove && last.is_empty() => rest,
        _ => path,
    }
}

/// Splits a percent-encoded path into decoded segments: `/a/b%2Fc/` → `["a", "b/c", ""]`.
/// `/` alone is no segment at all. A segment that does not decode to UTF-8 is a 400.
pub(crate) fn split_path(path: &str) -> Result<Vec<String>, HttpStatus> {
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() {
        return Ok(Vec::new());
    }
    path.split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8()
                .map(Cow::into_owned)
                .map_err(|_| Rejection::MalformedPath.into())
        })
        .collect()
}

/// Joins segments back into a path for regular expressions: `["user", "42"]` → `/user/42`.
#[doc(hidden)]
pub fn join_path(path: &[String]) -> String {
    let mut joined = String::with_capacity(path.iter().map(|s| s.len() + 1).sum());
    for segment in path {
        joined.push('/');
        joined.push_str(segment);
    }
    if joined.is_empty() {
        joined.push('/');
    }
    joined
}

// ----- arguments: path segments are 404 when they don't parse, query values 400 -----

/// A required positional argument.
#[doc(hidden)]
pub fn path_arg<T: FromStr>(segment: &str) -> Result<T, HttpStatus> {
    segment.parse().map_err(|_| HttpStatus::not_found())
}

/// An optional positional argument.
#[doc(hidden)]
pub fn path_opt<T: FromStr>(segment: Option<&String>) -> Result<Option<T>, HttpStatus> {
    segment.map(|s| path_arg(s)).transpose()
}

/// The rest parameter: every remaining segment.
#[doc(hidden)]
pub fn path_rest<T: FromStr>(segments: &[String]) -> Result<Vec<T>, HttpStatus> {
    segments.iter().map(|s| path_arg(s)).collect()
}

fn query_value<T: FromStr>(name: &str, value: &str) -> Result<T, HttpStatus> {
    value.parse().map_err(|_| {
        Rejection::InvalidQueryArgument {
            name: name.to_owned(),
        }
        .into()
    })
}

/// An optional query argument: absent or empty → `None` (as the original ignores blank values).
#[doc(hidden)]
pub fn query_opt<T: FromStr>(ctx: &Context, name: &str) -> Result<Option<T>, HttpStatus> {
    match ctx.query().get_all(name).find(|v| !v.is_empty()) {
        Some(value) => query_value(name, value).map(Some),
        None => Ok(None),
    }
}

/// A required query argument: absent → 400.
#[doc(hidden)]
pub fn query_required<T: FromStr>(ctx: &Context, name: &str) -> Result<T, HttpStatus> {
    query_opt(ctx, name)?.ok_or_else(|| {
        Rejection::MissingQueryArgument {
            name: name.to_owned(),
        }
        .into()
    })
}

/// A repeated query argument: every non-empty value, in order.
#[doc(hidden)]
pub fn query_vec<T: FromStr>(ctx: &Context, name: &str) -> Result<Vec<T>, HttpStatus> {
    ctx.query()
        .get_all(name)
        .filter(|v| !v.is_empty())
        .map(|v| query_value(name, v))
        .collect()
}

/// A capture of a regex route that must have matched.
#[doc(hidden)]
pub fn capture_arg<T: FromStr>(
    captures: &regex_lite::Captures<'_>,
    index: usize,
) -> Result<T, HttpStatus> {
    capture_opt(captures, index)?.ok_or_else(HttpStatus::not_found)
}

/// A capture of a regex route that may not have taken part in the match.
#[doc(hidden)]
pub fn capture_opt<T: FromStr>(
    captures: &regex_lite::Captures<'_>,
    index: usize,
) -> Result<Option<T>, HttpStatus> {
    captures
        .get(index)
        .map(|m| m.as_str().parse().map_err(|_| HttpStatus::not_found()))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_splitting() {
        let cases: [(&str, &[&str]); 7] = [
            ("/", &[]),
            ("", &[]),
            ("/a", &["a"]),
            ("/a/", &["a", ""]),
            ("/a//b", &["a", "", "b"]),
            ("/a%2Fb/c%20d", &["a/b", "c d"]),
            ("/%E2%9C%93", &["✓"]),
        ];
        for (path, expected) in cases {
            assert_eq!(split_path(path).unwrap(), expected, "{path}");
        }
        assert_eq!(split_path("/%FF").unwrap_err().code(), 400);
    }

    #[test]
    fn trailing_slash_trimming() {
        let segments = split_path("/a/").unwrap();
        assert_eq!(trim_trailing_slash(&segments, true), ["a"]);
        assert_eq!(trim_trailing_slash(&segments, false), ["a", ""]);
        assert!(trim_trailing_slash(&[], true).is_empty());
    }

    #[test]
    fn arity_rules() {
        let action = |required, optional, rest| Action {
            name: "h",
            verbs: None,
            content_type: None,
            encoding: None,
            required,
            optional,
            rest,
            max_body_size: None,
            guards: None,
        };
        // (required, optional, rest, count, accepted)
        let cases = [
            (0, 0, false, 0, true),
            (0, 0, false, 1, false),
            (1, 0, false, 0, false),
            (1, 0, false, 1, true),
            (1, 1, false, 2, true),
            (1, 1, false, 3, false),
            (1, 0, true, 5, true),
            (2, 0, true, 1, false),
        ];
        for (required, optional, rest, count, accepted) in cases {
            assert_eq!(
                action(required, optional, rest).accepts_arity(count),
                accepted,
                "{required}+{optional} rest={rest} count={count}"
            );
        }
    }

    #[test]
    fn allow_lists() {
        let action = Action {
            name: "h",
            verbs: Some(&["GET", "POST"]),
            content_type: None,
            encoding: None,
            required: 0,
            optional: 0,
            rest: false,
            max_body_size: None,
            guards: None,
        };
        assert_eq!(action.allow(), "GET, POST, HEAD, OPTIONS");
        assert!(action.accepts_verb(&Method::HEAD));
        assert!(!action.accepts_verb(&Method::PUT));
    }

    #[test]
    fn joined_paths() {
        assert_eq!(join_path(&[]), "/");
        assert_eq!(join_path(&["user".into(), "42".into()]), "/user/42");
    }
}
