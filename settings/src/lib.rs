//! How nanohttp merges settings layers, shared by the framework (a guest merges
//! `NANOHTTP_SETTINGS` over its defaults) and the host (which merges `-c` files, `-d`
//! directories and `-o` overrides), so both sides merge the same way without the host
//! depending on the framework.

use serde_json::Value;

/// Deep-merges `overlay` into `base`: mappings merge key by key, recursively; anything else
/// (scalars, sequences, null) replaces.
///
/// ```
/// let mut base = serde_json::json!({"db": {"host": "a", "port": 1}, "tags": [1]});
/// nanohttp_settings::merge(&mut base, serde_json::json!({"db": {"port": 2}, "tags": [3]}));
/// assert_eq!(base, serde_json::json!({"db": {"host": "a", "port": 2}, "tags": [3]}));
/// ```
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_rules() {
        let cases = [
            (json!({}), json!({}), json!({})),
            (json!({}), json!({"a": 1}), json!({"a": 1})),
            (json!({"a": 1}), json!({}), json!({"a": 1})),
            (
                json!({"a": {"b": {"c": 1}}}),
                json!({"a": {"b": {"d": 2}}}),
                json!({"a": {"b": {"c": 1, "d": 2}}}),
            ),
            (json!({"a": "x"}), json!({"a": true}), json!({"a": true})),
            (json!({"a": 1}), json!({"b": 2}), json!({"a": 1, "b": 2})),
            (json!({"a": 1}), json!({"a": 2}), json!({"a": 2})),
            (
                json!({"a": {"x": 1, "y": 2}}),
                json!({"a": {"y": 3, "z": 4}}),
                json!({"a": {"x": 1, "y": 3, "z": 4}}),
            ),
            (json!({"a": {"x": 1}}), json!({"a": 5}), json!({"a": 5})),
            (
                json!({"a": 5}),
                json!({"a": {"x": 1}}),
                json!({"a": {"x": 1}}),
            ),
            (json!({"a": [1, 2]}), json!({"a": [3]}), json!({"a": [3]})),
            (json!({"a": 1}), json!({"a": null}), json!({"a": null})),
        ];
        for (base, overlay, expected) in cases {
            let mut merged = base.clone();
            merge(&mut merged, overlay.clone());
            assert_eq!(merged, expected, "{base} <- {overlay}");
        }
    }
}
