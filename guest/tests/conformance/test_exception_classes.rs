//! `nanohttp/tests/test_exception_classes.py`: `HTTPStatus` subclasses as the statuses of
//! validation rules. Ours are status lines (`.status("666 a is readonly")`): a Rust status is a
//! value, not a class, so the line is what the original's class carries.

use nanohttp::serde_json::json;
use nanohttp::validate::Field;

use crate::support::validate;

#[test]
fn test_not_null() {
    let fields = || vec![Field::new("foo").not_none().status("666 a is readonly")];
    assert_eq!(
        validate(fields(), json!({"foo": null})),
        Err("666 a is readonly".into())
    );
}

#[test]
fn test_validation_required_as_httpstatus() {
    let fields = || vec![Field::new("foo").required().status("600 Custom exception")];
    assert_eq!(
        validate(fields(), json!({"another_param": "value1"})),
        Err("600 Custom exception".into())
    );
    assert_eq!(
        validate(fields(), json!({"foo": "value1"})),
        Ok(json!({"foo": "value1"}))
    );
}

fn lengths_and_pattern() -> Vec<Field> {
    vec![
        Field::new("foo")
            .min_length(2)
            .status("600 Greater than the minimum length")
            .max_length(5)
            .status("601 Greater than the maximum length")
            .pattern(r"^[A-Z]*$")
            .status("602 Invalid input format"),
    ]
}

#[test]
fn test_httpstatus_as_validation_error() {
    let cases = [
        ("A", "600 Greater than the minimum length"),
        ("AAAAAA", "601 Greater than the maximum length"),
        ("abc", "602 Invalid input format"),
    ];
    for (value, error) in cases {
        assert_eq!(
            validate(lengths_and_pattern(), json!({ "foo": value })),
            Err(error.into()),
            "{value}"
        );
    }
}

#[test]
fn test_localization() {
    let fields = vec![Field::new("foo").not_none().status("605 لورم ایپسوم")];
    assert_eq!(
        validate(fields, json!({"foo": null})),
        Err("605 لورم ایپسوم".into())
    );
}
