//! The original nanohttp's own test suite (`pylover/nanohttp` at commit 110a8bb,
//! `nanohttp/tests/test_*.py`), ported scenario by scenario: one module per original file, one
//! Rust test per original test function, named after it. Where we behave differently on purpose
//! the assertion is ours and a one-line comment says why; `docs/conformance.md` has the totals.
//! The CLI file (`nanohttp/cli/tests/test_cli.py`) is about the host: see that table.

#[path = "conformance/support.rs"]
mod support;

#[path = "conformance/test_action_decorator.rs"]
mod test_action_decorator;
#[path = "conformance/test_application_hooks.rs"]
mod test_application_hooks;
#[path = "conformance/test_chunked_streaming.rs"]
mod test_chunked_streaming;
#[path = "conformance/test_cookies.rs"]
mod test_cookies;
#[path = "conformance/test_exception_classes.rs"]
mod test_exception_classes;
#[path = "conformance/test_exceptions.rs"]
mod test_exceptions;
#[path = "conformance/test_forms.rs"]
mod test_forms;
#[path = "conformance/test_int_or_notfound.rs"]
mod test_int_or_notfound;
#[path = "conformance/test_object_dispatcher.rs"]
mod test_object_dispatcher;
#[path = "conformance/test_pileline.rs"]
mod test_pileline;
#[path = "conformance/test_querystring.rs"]
mod test_querystring;
#[path = "conformance/test_regex_route_controller.rs"]
mod test_regex_route_controller;
#[path = "conformance/test_rest_controller.rs"]
mod test_rest_controller;
#[path = "conformance/test_static_controller.rs"]
mod test_static_controller;
#[path = "conformance/test_url_parameters.rs"]
mod test_url_parameters;
#[path = "conformance/test_validation.rs"]
mod test_validation;
