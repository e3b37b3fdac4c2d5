//! Compile errors of the macros: each points at the offending token with a message that says
//! what is expected.

#[test]
fn diagnostics() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
