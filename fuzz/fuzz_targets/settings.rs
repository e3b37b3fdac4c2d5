//! The host's settings layers, `-o` overrides and `host:` options, on arbitrary input.
//!
//! Input: NUL-separated parts; parts starting with `-o ` are overrides, the others YAML
//! documents. Properties: nothing panics; the merged settings serialise to JSON that parses
//! back to the same value (that text is what every guest parses as `NANOHTTP_SETTINGS`); the
//! `host:` section and any duration or size text are accepted or refused, never a panic.

#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;

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

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut merged = settings::empty();
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
    let mut merged = settings::to_yaml_value(merged).expect("JSON data converts to YAML");
    if let Some(section) = options::take_section(&mut merged) {
        let _ = options::HostOptions::default().apply_section(&section, |p| PathBuf::from("/").join(p));
    }
    let json = settings::to_json(&merged).expect("settings read as JSON data serialise as JSON");
    let back: serde_json::Value = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("the merged settings do not parse back: {e}\n{json}"));
    let back = settings::to_yaml_value(back).expect("JSON data converts to YAML");
    assert_eq!(back, merged, "the merged settings change on the way:\n{json}");
});
