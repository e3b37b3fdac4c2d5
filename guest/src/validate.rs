//! Validation of form fields, with the options of nanohttp's `@validate` in the original's
//! order, each with an optional custom status.

use std::fmt;
use std::sync::Arc;

use serde_json::{Number, Value};

use crate::form::{Form, FormValue};
use crate::rejection::{FieldRule, Rejection};
use crate::status::HttpStatus;

/// The rules of one field: `Field::new("age").required().integer().minimum(18)`.
///
/// Rules run in nanohttp's order whatever order they are written in: readonly, required,
/// not_none, type, minimum, maximum, min_length, max_length, pattern, callback. Each may carry
/// its own status: `.minimum(18).status("400 Too young")` applies to the rule just added.
/// A field that is absent (and not required) is not checked further, and a JSON `null` is checked
/// by `not_none` only (the value rules skip it, as the original's do). Every value of a repeated
/// field is checked. Type rules convert the values in the form, so the handler sees numbers.
///
/// ```
/// use nanohttp::{Context, validate::Field};
///
/// let request = http::Request::post("/signup?age=30")
///     .header("content-type", "application/x-www-form-urlencoded")
///     .body(b"name=Ada&age=17".to_vec())
///     .unwrap();
/// let mut ctx = Context::new(request, Default::default());
/// let rules = [
///     Field::new("name").required().pattern(r"^[A-Za-z]+$").status("422 Bad name"),
///     Field::new("age").required().integer().minimum(18).status("400 Too young"),
/// ];
/// // The query's `age=30` does not hide the body's `age=17`: every value is checked.
/// let error = ctx.validate(&rules).unwrap_err();
/// assert_eq!(error.to_string(), "400 Too young");
/// ```
#[derive(Debug, Clone)]
pub struct Field {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Clone)]
struct Rule {
    check: Check,
    status: Option<HttpStatus>,
}

/// A value type a field must convert to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A whole number.
    Integer,
    /// Any number.
    Float,
    /// `true`/`false` (also `1`/`0`, `on`/`off`, `yes`/`no` from text forms).
    Boolean,
    /// Text (numbers and booleans from JSON are turned into their text).
    String,
}

type Callback = Arc<dyn Fn(&FormValue) -> Result<(), HttpStatus> + Send + Sync>;

#[derive(Clone)]
enum Check {
    Readonly,
    Required,
    NotNone,
    Type(Type),
    Minimum(f64),
    Maximum(f64),
    MinLength(usize),
    MaxLength(usize),
    Pattern(Result<regex_lite::Regex, String>),
    Callback(Callback),
}

impl Check {
    /// The position in nanohttp's order.
    fn rank(&self) -> u8 {
        match self {
            Self::Readonly => 0,
            Self::Required => 1,
            Self::NotNone => 2,
            Self::Type(_) => 3,
            Self::Minimum(_) => 4,
            Self::Maximum(_) => 5,
            Self::MinLength(_) => 6,
            Self::MaxLength(_) => 7,
            Self::Pattern(_) => 8,
            Self::Callback(_) => 9,
        }
    }
}

impl Check {
    /// The kind of rule, as a rejection reports it (a callback answers with its own status).
    fn field_rule(&self) -> FieldRule {
        match self {
            Self::Readonly => FieldRule::Readonly,
            Self::Required => FieldRule::Required,
            Self::NotNone => FieldRule::NotNone,
            Self::Type(_) | Self::Callback(_) => FieldRule::Type,
            Self::Minimum(_) => FieldRule::Minimum,
            Self::Maximum(_) => FieldRule::Maximum,
            Self::MinLength(_) => FieldRule::MinLength,
            Self::MaxLength(_) => FieldRule::MaxLength,
            Self::Pattern(_) => FieldRule::Pattern,
        }
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let check = match &self.check {
            Check::Readonly => "readonly".to_owned(),
            Check::Required => "required".to_owned(),
            Check::NotNone => "not_none".to_owned(),
            Check::Type(ty) => format!("type {ty:?}"),
            Check::Minimum(n) => format!("minimum {n}"),
            Check::Maximum(n) => format!("maximum {n}"),
            Check::MinLength(n) => format!("min_length {n}"),
            Check::MaxLength(n) => format!("max_length {n}"),
            Check::Pattern(Ok(re)) => format!("pattern {}", re.as_str()),
            Check::Pattern(Err(error)) => format!("invalid pattern: {error}"),
            Check::Callback(_) => "callback".to_owned(),
        };
        f.debug_struct("Rule")
            .field("check", &check)
            .field("status", &self.status)
            .finish()
    }
}

impl Field {
    /// The rules of the form field `name`; none yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            rules: Vec::new(),
        }
    }

    fn rule(mut self, check: Check) -> Self {
        self.rules.push(Rule {
            check,
            status: None,
        });
        self
    }

    /// The field must not be sent at all.
    #[must_use]
    pub fn readonly(self) -> Self {
        self.rule(Check::Readonly)
    }

    /// The field must be sent.
    #[must_use]
    pub fn required(self) -> Self {
        self.rule(Check::Required)
    }

    /// The field must not be JSON `null`.
    #[must_use]
    pub fn not_none(self) -> Self {
        self.rule(Check::NotNone)
    }

    /// The values must convert to `ty`; the converted values replace them in the form.
    #[must_use]
    pub fn of_type(self, ty: Type) -> Self {
        self.rule(Check::Type(ty))
    }

    /// Shorthand for `.of_type(Type::Integer)`.
    #[must_use]
    pub fn integer(self) -> Self {
        self.of_type(Type::Integer)
    }

    /// The values must be numbers no smaller than `minimum` (`0` included).
    #[must_use]
    pub fn minimum(self, minimum: impl Into<f64>) -> Self {
        self.rule(Check::Minimum(minimum.into()))
    }

    /// The values must be numbers no larger than `maximum`.
    #[must_use]
    pub fn maximum(self, maximum: impl Into<f64>) -> Self {
        self.rule(Check::Maximum(maximum.into()))
    }

    /// The text values must have at least `length` characters.
    #[must_use]
    pub fn min_length(self, length: usize) -> Self {
        self.rule(Check::MinLength(length))
    }

    /// The text values must have at most `length` characters.
    #[must_use]
    pub fn max_length(self, length: usize) -> Self {
        self.rule(Check::MaxLength(length))
    }

    /// The text values must match the regular expression (unanchored unless it says `^…$`).
    /// An invalid pattern makes validation answer `500` with the error as detail.
    #[must_use]
    pub fn pattern(self, pattern: &str) -> Self {
        let regex = regex_lite::Regex::new(pattern).map_err(|e| format!("{pattern:?}: {e}"));
        self.rule(Check::Pattern(regex))
    }

    /// `check` must accept every value.
    #[must_use]
    pub fn callback(
        self,
        check: impl Fn(&FormValue) -> Result<(), HttpStatus> + Send + Sync + 'static,
    ) -> Self {
        self.rule(Check::Callback(Arc::new(check)))
    }

    /// The status for the rule added last, as a status line: `"422 Bad name"`, `"701 Custom"`.
    /// An invalid line makes that rule answer `500` with the line as detail.
    #[must_use]
    pub fn status(mut self, status_line: &str) -> Self {
        let status = status_line.parse::<HttpStatus>().unwrap_or_else(|error| {
            HttpStatus::internal_server_error().with_detail(error.to_string())
        });
        if let Some(rule) = self.rules.last_mut() {
            rule.status = Some(status);
        }
        self
    }

    fn check(&self, form: &mut Form) -> Result<(), HttpStatus> {
        let mut rules: Vec<&Rule> = self.rules.iter().collect();
        rules.sort_by_key(|rule| rule.check.rank());
        let present = form.contains(&self.name);
        for rule in rules {
            let name = &self.name;
            let fail = |message: String| {
                let rejection = Rejection::InvalidField {
                    name: name.clone(),
                    rule: rule.check.field_rule(),
                    message,
                };
                // A rule with its own client-error status still says which rejection it is.
                match &rule.status {
                    Some(status) if status.code() < 500 => status.clone().with_rejection(rejection),
                    Some(status) => status.clone(),
                    None => rejection.into(),
                }
            };
            match &rule.check {
                Check::Readonly if present => {
                    return Err(fail(format!("Field: {name} Is Readonly")));
                }
                Check::Required if !present => return Err(fail(format!("Field: {name} Required"))),
                _ if !present => return Ok(()),
                Check::Readonly | Check::Required => {}
                Check::Pattern(Err(error)) => {
                    return Err(HttpStatus::internal_server_error()
                        .with_detail(format!("invalid validation pattern {error}")));
                }
                Check::Type(ty) => {
                    let mut failed = false;
                    form.set_values(name, |value| {
                        if is_null(value) {
                            return value.clone();
                        }
                        convert(value, *ty).unwrap_or_else(|| {
                            failed = true;
                            value.clone()
                        })
                    });
                    if failed {
                        return Err(fail(format!("Field: {name} Must Be {}", type_name(*ty))));
                    }
                }
                check => {
                    // A JSON `null` is "no value": only `not_none` refuses it; the value rules
                    // skip it, as in the original (whose criteria all skip `None`).
                    let values = form.values(name);
                    for value in values.filter(|v| matches!(check, Check::NotNone) || !is_null(v)) {
                        check_value(check, value, name).map_err(&fail)?;
                        if let Check::Callback(callback) = check {
                            callback(value)
                                .map_err(|status| rule.status.clone().unwrap_or(status))?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn is_null(value: &FormValue) -> bool {
    matches!(value, FormValue::Json(Value::Null))
}

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Integer => "An Integer",
        Type::Float => "A Number",
        Type::Boolean => "A Boolean",
        Type::String => "Text",
    }
}

/// Checks one value against a value rule; `Err` carries the default reason.
fn check_value(check: &Check, value: &FormValue, name: &str) -> Result<(), String> {
    let number = || number_of(value).ok_or_else(|| format!("Field: {name} Must Be A Number"));
    let length = || {
        value
            .as_text()
            .map(|text| text.chars().count())
            .ok_or_else(|| format!("Field: {name} Must Be Text"))
    };
    match check {
        Check::NotNone if matches!(value, FormValue::Json(Value::Null)) => {
            Err(format!("Field: {name} Must Not Be Null"))
        }
        Check::Minimum(minimum) if number()? < *minimum => {
            Err(format!("Field: {name} Must Be At Least {minimum}"))
        }
        Check::Maximum(maximum) if number()? > *maximum => {
            Err(format!("Field: {name} Must Be At Most {maximum}"))
        }
        Check::MinLength(min) if length()? < *min => {
            Err(format!("Field: {name} Must Have At Least {min} Characters"))
        }
        Check::MaxLength(max) if length()? > *max => {
            Err(format!("Field: {name} Must Have At Most {max} Characters"))
        }
        Check::Pattern(Ok(regex)) => match value.as_text() {
            Some(text) if regex.is_match(&text) => Ok(()),
            _ => Err(format!("Field: {name} Does Not Match The Pattern")),
        },
        _ => Ok(()),
    }
}

fn number_of(value: &FormValue) -> Option<f64> {
    match value {
        FormValue::Json(Value::Number(number)) => number.as_f64(),
        other => other.as_text()?.trim().parse().ok(),
    }
}

/// The value converted to `ty`, or `None` when it does not convert.
fn convert(value: &FormValue, ty: Type) -> Option<FormValue> {
    let converted = match ty {
        Type::Integer => match value {
            FormValue::Json(Value::Number(n)) if n.is_i64() || n.is_u64() => {
                Value::Number(n.clone())
            }
            other => {
                let text = other.as_text()?;
                let text = text.trim();
                match text.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => Value::from(text.parse::<u64>().ok()?),
                }
            }
        },
        Type::Float => {
            let number = number_of(value)?;
            Value::Number(Number::from_f64(number)?)
        }
        Type::Boolean => match value {
            FormValue::Json(Value::Bool(b)) => Value::Bool(*b),
            other => match other.as_text()?.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "on" | "yes" => Value::Bool(true),
                "false" | "0" | "off" | "no" => Value::Bool(false),
                _ => return None,
            },
        },
        Type::String => Value::String(value.as_text()?.into_owned()),
    };
    Some(FormValue::Json(converted))
}

/// Checks `form` against `fields`, converting values as their type rules say. The first rule
/// that fails answers with its status (`400` unless it has its own);
/// [`Context::validate`](crate::Context::validate) does this for the request's form.
pub fn check(form: &mut Form, fields: &[Field]) -> Result<(), HttpStatus> {
    fields.iter().try_for_each(|field| field.check(form))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The form of a url-encoded request: the query's fields, then the body's.
    fn form(query: &str, body: &str) -> Form {
        let mut form = Form::default();
        form.extend_urlencoded(query.trim_start_matches('?').as_bytes());
        form.extend_urlencoded(body.as_bytes());
        form
    }

    fn json_form(body: &str) -> Form {
        let mut form = Form::default();
        form.set_json(serde_json::from_str(body).unwrap());
        form
    }

    fn outcome(result: Result<(), HttpStatus>) -> String {
        result.map_or_else(|e| e.to_string(), |()| "ok".to_owned())
    }

    #[test]
    fn each_option_with_default_and_custom_status() {
        // (rule, body, default outcome)
        let cases: Vec<(Field, &str, &str)> = vec![
            (
                Field::new("a").readonly(),
                "a=1",
                "400 Field: a Is Readonly",
            ),
            (Field::new("a").readonly(), "b=1", "ok"),
            (Field::new("a").required(), "b=1", "400 Field: a Required"),
            (Field::new("a").required(), "a=", "ok"),
            (
                Field::new("a").integer(),
                "a=x",
                "400 Field: a Must Be An Integer",
            ),
            (Field::new("a").integer(), "a=-3", "ok"),
            (Field::new("a").of_type(Type::Float), "a=1.5e3", "ok"),
            (
                Field::new("a").of_type(Type::Boolean),
                "a=maybe",
                "400 Field: a Must Be A Boolean",
            ),
            (
                Field::new("a").minimum(0),
                "a=-1",
                "400 Field: a Must Be At Least 0",
            ),
            (Field::new("a").minimum(0), "a=0", "ok"),
            (
                Field::new("a").maximum(10),
                "a=11",
                "400 Field: a Must Be At Most 10",
            ),
            (
                Field::new("a").maximum(10),
                "a=x",
                "400 Field: a Must Be A Number",
            ),
            (
                Field::new("a").min_length(2),
                "a=%C3%A9",
                "400 Field: a Must Have At Least 2 Characters",
            ),
            (
                Field::new("a").max_length(2),
                "a=abc",
                "400 Field: a Must Have At Most 2 Characters",
            ),
            (Field::new("a").max_length(2), "a=%C3%A9%C3%A9", "ok"),
            (
                Field::new("a").pattern("^[a-z]+$"),
                "a=abc1",
                "400 Field: a Does Not Match The Pattern",
            ),
            (Field::new("a").pattern("^[a-z]+$"), "a=abc", "ok"),
            (
                Field::new("a").callback(|v| match v.as_text().as_deref() {
                    Some("no") => Err(HttpStatus::conflict()),
                    _ => Ok(()),
                }),
                "a=no",
                "409 Conflict",
            ),
            (Field::new("a").minimum(5), "b=1", "ok"),
        ];
        for (field, body, expected) in cases {
            let debug = format!("{field:?}");
            assert_eq!(
                outcome(check(&mut form("", body), std::slice::from_ref(&field))),
                expected,
                "{debug} {body}"
            );
            if expected != "ok" {
                let custom = field.status("701 Custom");
                assert_eq!(
                    outcome(check(&mut form("", body), &[custom])),
                    "701 Custom",
                    "{debug} {body}"
                );
            }
        }
    }

    #[test]
    fn not_none_for_json() {
        let rules = [Field::new("a").not_none()];
        assert_eq!(
            outcome(check(&mut json_form(r#"{"a": null}"#), &rules)),
            "400 Field: a Must Not Be Null"
        );
        assert_eq!(outcome(check(&mut json_form(r#"{"a": 0}"#), &rules)), "ok");
    }

    /// The original's `test_validation_max`: `maximum` lets `None` through; so do all value rules.
    #[test]
    fn null_is_checked_by_not_none_only() {
        let rules = [Field::new("a")
            .integer()
            .maximum(10)
            .min_length(1)
            .pattern("^x$")
            .callback(|_| Err(HttpStatus::bad_request()))];
        let mut form = json_form(r#"{"a": null}"#);
        assert_eq!(outcome(check(&mut form, &rules)), "ok");
        assert!(matches!(
            form.value("a"),
            Some(FormValue::Json(Value::Null))
        ));
    }

    #[test]
    fn order_is_the_originals_whatever_the_writing() {
        let rules = [Field::new("a")
            .pattern("^[0-9]+$")
            .status("422 Pattern")
            .minimum(10)
            .status("400 Minimum")
            .integer()
            .status("400 Type")];
        assert_eq!(outcome(check(&mut form("", "a=x"), &rules)), "400 Type");
        assert_eq!(outcome(check(&mut form("", "a=5"), &rules)), "400 Minimum");
    }

    #[test]
    fn converted_values_are_what_handlers_see() {
        let mut form = form("?age=30", "age=31&ok=on");
        let rules = [
            Field::new("age").integer().minimum(18),
            Field::new("ok").of_type(Type::Boolean),
        ];
        check(&mut form, &rules).unwrap();
        let ages: Vec<&FormValue> = form.values("age").collect();
        assert_eq!(
            ages,
            [&FormValue::Json(30.into()), &FormValue::Json(31.into())]
        );
        assert_eq!(form.value("ok"), Some(&FormValue::Json(true.into())));
    }

    #[test]
    fn the_query_never_bypasses_validation() {
        let rules = [Field::new("age").integer()];
        assert_eq!(
            outcome(check(&mut form("?age=30", "age=thirty"), &rules)),
            "400 Field: age Must Be An Integer"
        );
    }

    #[test]
    fn failures_are_typed_rejections() {
        let rules = [Field::new("age")
            .integer()
            .minimum(18)
            .status("422 Too young")];
        let error = check(&mut form("", "age=17"), &rules).unwrap_err();
        assert_eq!(error.to_string(), "422 Too young");
        assert!(matches!(
            error.rejection(),
            Some(Rejection::InvalidField { name, rule: FieldRule::Minimum, message })
                if name == "age" && message == "Field: age Must Be At Least 18"
        ));
        let error = check(&mut form("", ""), &[Field::new("age").required()]).unwrap_err();
        assert_eq!(
            error.rejection().map(ToString::to_string).as_deref(),
            Some("Field: age Required")
        );
    }

    #[test]
    fn invalid_rules_are_500() {
        let bad_pattern = [Field::new("a").pattern("(")];
        assert_eq!(
            check(&mut form("", "a=1"), &bad_pattern)
                .unwrap_err()
                .code(),
            500
        );
        let bad_status = [Field::new("a").required().status("nope")];
        assert_eq!(
            check(&mut form("", ""), &bad_status).unwrap_err().code(),
            500
        );
    }
}
