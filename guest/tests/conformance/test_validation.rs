//! `nanohttp/tests/test_validation.py`: `@validate` and `RequestValidator`.
//!
//! The original calls its validator on Python dicts; ours validates a request's form, so each
//! dict is sent as a JSON body (values keep their types: `9` and `"9"` differ) and the answer is
//! the form as the handler then sees it (converted values included) or the error's status line.

use nanohttp::FormValue;
use nanohttp::prelude::*;
use nanohttp::serde_json::{Value, json};
use nanohttp::testing::TestClient;
use nanohttp::validate::{Field, Type};

use crate::support::validate;

#[derive(Default)]
struct Root;

/// The kind of a converted value, as the original prints `type(value).__name__`.
fn kind(value: Option<&FormValue>) -> String {
    match value {
        Some(FormValue::Json(Value::Number(n))) if n.is_f64() => format!("float: {n}"),
        Some(FormValue::Json(Value::Number(n))) => format!("int: {n}"),
        Some(FormValue::Json(Value::String(s))) => format!("str: {s}"),
        other => format!("{other:?}"),
    }
}

#[controller]
impl Root {
    #[action]
    fn index(&self, ctx: &mut Context) -> Result<String, HttpStatus> {
        ctx.validate(&[
            // `query=True` in the original: ours validates the form, which on every verb
            // includes the query string.
            Field::new("query1").required().integer(),
            Field::new("field1").required().of_type(Type::Float),
            Field::new("field2").required().integer(),
            // The original converts with `lambda v: v.encode()` (to bytes); ours has no
            // converting callbacks, so it is text with the same length rule.
            Field::new("field3")
                .required()
                .of_type(Type::String)
                .min_length(1),
        ])?;
        let form = ctx.form()?;
        Ok(["query1", "field1", "field2", "field3"]
            .map(|name| kind(form.value(name)))
            .join(", "))
    }
}

impl Application for Root {}

#[test]
fn test_validation_decorator() {
    let response = TestClient::new(Root)
        .post("/?query1=1")
        .form(&[("field1", "2.3"), ("field2", "2"), ("field3", "ab")])
        .send();
    assert_eq!(
        (response.status.as_u16(), response.text()),
        (200, "int: 1, float: 2.3, int: 2, str: ab")
    );
}

#[test]
fn test_validation_required() {
    let fields = || vec![Field::new("a").required()];
    assert_eq!(
        validate(fields(), json!({"a": "value1"})),
        Ok(json!({"a": "value1"}))
    );
    assert_eq!(
        validate(fields(), json!({"another_param": "value1"})),
        Err("400 Field: a Required".into())
    );

    let fields = || vec![Field::new("a").required().status("600 Custom exception")];
    assert_eq!(
        validate(fields(), json!({"another_param": "value1"})),
        Err("600 Custom exception".into())
    );
    assert_eq!(
        validate(fields(), json!({"a": "value1"})),
        Ok(json!({"a": "value1"}))
    );
}

#[test]
fn test_validation_max() {
    let fields = || vec![Field::new("a").maximum(10)];
    assert_eq!(validate(fields(), json!({"a": 9})), Ok(json!({"a": 9})));
    // A null is not checked by value rules (only `not_none` refuses it), as in the original.
    assert_eq!(
        validate(fields(), json!({"a": null})),
        Ok(json!({"a": null}))
    );
    // The original refuses the text `'9'` (a `TypeError` comparing it); ours reads numbers in
    // text, which is all a url-encoded form can send.
    assert_eq!(validate(fields(), json!({"a": "9"})), Ok(json!({"a": "9"})));
    assert_eq!(
        validate(fields(), json!({"a": 11})),
        Err("400 Field: a Must Be At Most 10".into())
    );
    assert_eq!(
        validate(fields(), json!({"a": "a"})),
        Err("400 Field: a Must Be A Number".into())
    );
}

#[test]
fn test_validation_min() {
    let fields = || vec![Field::new("a").minimum(10)];
    assert_eq!(validate(fields(), json!({"a": 11})), Ok(json!({"a": 11})));
    // As for `maximum`: numbers in text are numbers (the original refuses `'11'`).
    assert_eq!(
        validate(fields(), json!({"a": "11"})),
        Ok(json!({"a": "11"}))
    );
    assert_eq!(
        validate(fields(), json!({"a": 9})),
        Err("400 Field: a Must Be At Least 10".into())
    );
}

#[test]
fn test_validation_min_length() {
    let fields = || vec![Field::new("a").min_length(3)];
    assert_eq!(
        validate(fields(), json!({"a": "abc"})),
        Ok(json!({"a": "abc"}))
    );
    assert_eq!(
        validate(fields(), json!({"a": "ab"})),
        Err("400 Field: a Must Have At Least 3 Characters".into())
    );
}

#[test]
fn test_validation_max_length() {
    let fields = || vec![Field::new("a").max_length(4)];
    assert_eq!(
        validate(fields(), json!({"a": "abcd"})),
        Ok(json!({"a": "abcd"}))
    );
    assert_eq!(
        validate(fields(), json!({"a": "abbcde"})),
        Err("400 Field: a Must Have At Most 4 Characters".into())
    );
}

#[test]
fn test_validation_pattern() {
    let fields = || vec![Field::new("a").pattern(r"^\D{5}$")];
    assert_eq!(
        validate(fields(), json!({"a": "abcdJ"})),
        Ok(json!({"a": "abcdJ"}))
    );
    assert_eq!(
        validate(fields(), json!({"a": "asc"})),
        Err("400 Field: a Does Not Match The Pattern".into())
    );
}

#[test]
fn test_validation_pattern_compiled() {
    // The original also takes a compiled `re` pattern; ours compiles the text once per `Field`,
    // so there is one way to write it.
    let fields = || vec![Field::new("a").pattern(r"^\d{5}$")];
    assert_eq!(
        validate(fields(), json!({"a": "01234"})),
        Ok(json!({"a": "01234"}))
    );
    assert!(validate(fields(), json!({"a": "123456"})).is_err());
}

#[test]
fn test_validation_type() {
    let fields = || {
        vec![
            Field::new("a").integer(),
            Field::new("b").of_type(Type::String),
            // The original's `Decimal`: ours has no decimal type; a JSON number is the nearest.
            Field::new("c").of_type(Type::Float),
        ]
    };
    assert_eq!(
        validate(fields(), json!({"a": "123", "b": 123, "c": 1.23})),
        Ok(json!({"a": 123, "b": "123", "c": 1.23}))
    );
    assert_eq!(
        validate(fields(), json!({"a": "NotInteger"})),
        Err("400 Field: a Must Be An Integer".into())
    );
    assert_eq!(
        validate(fields(), json!({"c": "NotDecimal"})),
        Err("400 Field: c Must Be A Number".into())
    );
}

#[derive(Default)]
struct Query;

#[controller]
impl Query {
    #[text]
    fn index(&self, ctx: &mut Context) -> Result<String, HttpStatus> {
        ctx.validate(&[Field::new("a").required()])?;
        Ok(ctx.query().get("a").unwrap_or_default().to_owned())
    }
}

impl Application for Query {}

#[test]
fn test_validation_query_string() {
    // The original's `query=True`: ours validates the form, which includes the query string.
    let client = TestClient::new(Query);
    let response = client.get("/?a=value").send();
    assert_eq!((response.status.as_u16(), response.text()), (200, "value"));
    assert_eq!(client.get("/").send().status, 400);
}

#[test]
fn test_validation_custom_status() {
    let fields = || {
        vec![
            Field::new("a")
                .integer()
                .status("999 Type error")
                .minimum(3)
                .status("666")
                .maximum(4)
                .status("667 greater than maximum"),
        ]
    };
    assert_eq!(
        validate(fields(), json!({"a": "NotInteger"})),
        Err("999 Type error".into())
    );
    // A status line without a reason: the original says `Bad request`; ours takes the code's
    // standard reason, which for an unregistered code is `Unknown`.
    assert_eq!(
        validate(fields(), json!({"a": 2})),
        Err("666 Unknown".into())
    );
    assert_eq!(
        validate(fields(), json!({"a": 5})),
        Err("667 greater than maximum".into())
    );
}

#[test]
fn test_callable_validator() {
    // The original's callback converts (`int(age)`) and raises `ValueError`, which escapes the
    // request; ours checks a value and answers with a status (`400` unless one is given).
    let fields = || {
        vec![Field::new("a").callback(|value| {
            match value.as_text().and_then(|text| text.parse::<i64>().ok()) {
                Some(age) if age >= 0 => Ok(()),
                _ => Err(HttpStatus::bad_request().with_reason("Age is not in valid range")),
            }
        })]
    };
    assert_eq!(validate(fields(), json!({"a": 12})), Ok(json!({"a": 12})));
    assert_eq!(
        validate(fields(), json!({"a": -1})),
        Err("400 Age is not in valid range".into())
    );
}

#[test]
fn test_not_none_validator() {
    let fields = || vec![Field::new("a").not_none()];
    assert_eq!(
        validate(fields(), json!({"a": 1, "b": 2})),
        Ok(json!({"a": 1, "b": 2}))
    );
    assert_eq!(validate(fields(), json!({"b": 2})), Ok(json!({"b": 2})));
    assert_eq!(
        validate(fields(), json!({"a": null})),
        Err("400 Field: a Must Not Be Null".into())
    );

    let fields = vec![Field::new("a").not_none().status("666 a is null")];
    assert_eq!(
        validate(fields, json!({"a": null})),
        Err("666 a is null".into())
    );
    // `not_none=23` is a `TypeError` in the original; ours takes no value (`.not_none()`), and a
    // status is a status line, so there is nothing wrong to write.
}

#[test]
fn test_readonly_validator() {
    let fields = vec![Field::new("a").readonly()];
    assert_eq!(
        validate(fields, json!({"a": null})),
        Err("400 Field: a Is Readonly".into())
    );
    // The original's second half checks `not_none` under a readonly-sounding status; ours does
    // that, then `readonly` with that status as well.
    let fields = vec![Field::new("a").not_none().status("666 a is readonly")];
    assert_eq!(
        validate(fields, json!({"a": null})),
        Err("666 a is readonly".into())
    );
    let fields = vec![Field::new("a").readonly().status("666 a is readonly")];
    assert_eq!(
        validate(fields, json!({"a": 1})),
        Err("666 a is readonly".into())
    );
}

#[test]
fn test_priority_validation() {
    // Written in reverse: the original's order (lengths, then pattern) applies all the same.
    let fields = || {
        vec![
            Field::new("a")
                .pattern(r"^[A-Z]*$")
                .status("602 Invalid input format")
                .max_length(5)
                .status("601 Greater than the maximum length")
                .min_length(2)
                .status("600 Greater than the minimum length"),
        ]
    };
    let cases = [
        ("A", "600 Greater than the minimum length"),
        ("AAAAAA", "601 Greater than the maximum length"),
        ("abc", "602 Invalid input format"),
    ];
    for (value, error) in cases {
        assert_eq!(
            validate(fields(), json!({ "a": value })),
            Err(error.into()),
            "{value}"
        );
    }
}
