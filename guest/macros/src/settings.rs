//! `yaml!`: settings written as YAML, turned into JSON text at compile time, so that components
//! parse JSON only and carry no YAML parser.

use proc_macro2::TokenStream;
use quote::ToTokens;
use serde_json::Value;
use syn::LitStr;

/// Expands `yaml!("...")` into the string literal of the same mapping as compact JSON, or into a
/// compile error naming the line and column of the problem.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let literal = match syn::parse2::<LitStr>(input) {
        Ok(literal) => literal,
        Err(error) => {
            return syn::Error::new(
                error.span(),
                "`yaml!` takes one string literal of YAML: `nanohttp::yaml!(\"debug: true\")`",
            )
            .to_compile_error();
        }
    };
    match to_json(&literal.value()) {
        Ok(json) => LitStr::new(&json, literal.span()).into_token_stream(),
        Err(message) => syn::Error::new(literal.span(), message).to_compile_error(),
    }
}

/// The YAML document as JSON text; its top level must be a mapping (or nothing, which is `{}`).
/// Keys become strings (`1:` is `"1"`), and `.nan` and `.inf`, which JSON lacks, become `null`.
fn to_json(yaml: &str) -> Result<String, String> {
    let value: Value =
        serde_yaml_ng::from_str(yaml).map_err(|error| format!("invalid YAML settings: {error}"))?;
    let value = match value {
        Value::Null => Value::Object(serde_json::Map::new()),
        Value::Object(_) => value,
        Value::Array(_) => return Err(not_a_mapping("a sequence")),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            return Err(not_a_mapping("a scalar"));
        }
    };
    Ok(value.to_string())
}

fn not_a_mapping(found: &str) -> String {
    format!("settings must be a mapping of keys to values, found {found}")
}

#[cfg(test)]
mod tests {
    use super::to_json;

    #[test]
    fn conversions() {
        let cases = [
            ("", "{}"),
            ("# nothing\n", "{}"),
            ("debug: true", r#"{"debug":true}"#),
            (
                "app:\n  name: x\n  size: 10\n  ratio: 0.5\nlist: [a, 2]\nnone: ~",
                r#"{"app":{"name":"x","ratio":0.5,"size":10},"list":["a",2],"none":null}"#,
            ),
            ("1: one\ntrue: yes", r#"{"1":"one","true":"yes"}"#),
            ("quoted: '80'", r#"{"quoted":"80"}"#),
            (
                "{\"json\": [1, {\"a\": null}]}",
                r#"{"json":[1,{"a":null}]}"#,
            ),
            ("a: .nan", r#"{"a":null}"#),
        ];
        for (yaml, json) in cases {
            assert_eq!(to_json(yaml).as_deref(), Ok(json), "{yaml:?}");
        }
    }

    #[test]
    fn refusals() {
        let error = to_json("a: 1\nb: c: d\n").unwrap_err();
        assert!(error.starts_with("invalid YAML settings: "), "{error}");
        assert!(error.contains("line 2 column 5"), "{error}");
        assert_eq!(
            to_json("- 1\n- 2").unwrap_err(),
            "settings must be a mapping of keys to values, found a sequence"
        );
        assert_eq!(
            to_json("just text").unwrap_err(),
            "settings must be a mapping of keys to values, found a scalar"
        );
    }
}
