//! The host's settings layers, `-o` overrides and `host:` options, on arbitrary input.
//!
//! Input: NUL-separated parts; parts starting with `-o ` are overrides, the others YAML
//! documents. Properties: nothing panics; the merged settings serialise to YAML that parses
//! back to the same value (that text is what every guest parses as `NANOHTTP_SETTINGS`); the
//! `host:` section and any duration or size text are accepted or refused, never a panic.

#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use serde_yaml_ng::{Mapping, Value};

/// What `settings.rs` needs from the host's `config.rs`.
mod config {
    pub(crate) fn io_reason(error: &std::io::Error) -> String {
        error.to_string()
    }
}

#[path = "../../host/src/settings.rs"]
#[allow(dead_code, reason = "the fuzz target uses a part of the module")]
mod settings;

#[path = "../../host/src/options.rs"]
#[allow(dead_code, reason = "the fuzz target uses a part of the module")]
mod options;

fn has_nan(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.as_f64().is_some_and(f64::is_nan),
        Value::Sequence(items) => items.iter().any(has_nan),
        Value::Mapping(map) => map.iter().any(|(k, v)| has_nan(k) || has_nan(v)),
        Value::Tagged(tagged) => has_nan(&tagged.value),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut merged = Value::Mapping(Mapping::new());
    for part in text.split('\0') {
        if let Some(option) = part.strip_prefix("-o ") {
            if let Ok(option) = option.parse::<settings::Override>() {
                settings::merge(&mut merged, option.into_layer());
            }
        } else if let Ok(layer) = settings::parse_document(part, "fuzz.yml") {
            settings::merge(&mut merged, layer);
        }
        let _ = options::parse_duration(part);
        let _ = options::parse_size(part);
    }
    if let Some(section) = options::take_section(&mut merged) {
        let _ = options::HostOptions::default().apply_section(&section, |p| PathBuf::from("/").join(p));
    }
    let Ok(yaml) = settings::to_yaml(&merged) else {
        return;
    };
    let back: Value = serde_yaml_ng::from_str(&yaml)
        .unwrap_or_else(|e| panic!("the merged settings do not parse back: {e}\n{yaml}"));
    if !has_nan(&merged) {
        assert_eq!(back, merged, "the merged settings change on the way:\n{yaml}");
    }
});
