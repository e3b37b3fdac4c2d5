//! Layered settings: framework defaults, the application's defaults, then what the host passes
//! in `NANOHTTP_SETTINGS`. Components parse JSON (a subset of YAML): YAML stays out of them,
//! converted by the host or, for an application's defaults, at compile time by [`yaml!`].
//! The `yaml` feature makes every layer parse as YAML instead.
//!
//! [`yaml!`]: crate::yaml

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The framework's own defaults, the first layer under everything else (as YAML, for reading;
/// instances build them without parsing).
pub const FRAMEWORK_DEFAULTS: &str = "\
debug: false
domain: null
cookie:
  http_only: false
  secure: false
max_body_size: 10485760
max_form_fields: 1000
";

/// The environment variable through which a host passes settings to a component: a JSON
/// object (or, with the `yaml` feature, YAML).
pub const SETTINGS_ENV: &str = "NANOHTTP_SETTINGS";

/// Why settings could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A layer is not valid JSON (YAML with the `yaml` feature), or its top level is not a
    /// mapping.
    #[error("invalid settings in {layer}: {message}")]
    Invalid {
        /// Which layer: `framework defaults`, `application defaults` or `NANOHTTP_SETTINGS`.
        layer: String,
        /// What is wrong, with the line and column when the parser gives them.
        message: String,
    },
    /// A key that [`Settings::get_as`] needs is absent.
    #[error("missing setting `{0}`")]
    Missing(String),
    /// A key is present but does not have the type asked for.
    #[error("setting `{key}` has the wrong type: {message}")]
    WrongType {
        /// The dotted key.
        key: String,
        /// What serde said.
        message: String,
    },
}

/// The merged settings of one component instance, read-only while it serves.
///
/// ```
/// use nanohttp::Settings;
///
/// let settings =
///     Settings::from_layers([("app", r#"{"db": {"pool": 4}}"#), ("host", r#"{"debug": true}"#)])
///         .unwrap();
/// assert!(settings.debug());
/// assert_eq!(settings.get("db.pool").and_then(|v| v.as_u64()), Some(4));
/// assert!(!settings.get_as::<bool>("cookie.secure").unwrap());
/// assert!(settings.get_as::<u32>("db.missing").is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    root: Value,
    debug: bool,
    cookie_defaults: CookieDefaults,
    max_body_size: u64,
    max_form_fields: usize,
}

/// The cookie attributes applied to response cookies that leave them unset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CookieDefaults {
    pub(crate) http_only: bool,
    pub(crate) secure: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self::from_layers(std::iter::empty::<(&str, &str)>())
            .expect("the framework defaults are built, not parsed")
    }
}

impl Settings {
    /// Framework defaults with each `(name, text)` layer deep-merged over them in order: maps
    /// merge key by key, anything else replaces. A layer is a JSON object (YAML with the `yaml`
    /// feature); an empty layer is allowed.
    pub fn from_layers<'a>(
        layers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, SettingsError> {
        let mut root = framework_defaults();
        for (name, text) in layers {
            merge(&mut root, parse_layer(name, text)?);
        }
        let flag = |path: &[&str]| {
            path.iter()
                .try_fold(&root, |value, key| value.get(key))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let debug = flag(&["debug"]);
        let cookie_defaults = CookieDefaults {
            http_only: flag(&["cookie", "http_only"]),
            secure: flag(&["cookie", "secure"]),
        };
        let number = |key: &str| -> Result<u64, SettingsError> {
            root.get(key)
                .and_then(Value::as_u64)
                .ok_or_else(|| SettingsError::WrongType {
                    key: key.to_owned(),
                    message: "expected a whole number of bytes or fields".to_owned(),
                })
        };
        let max_body_size = number("max_body_size")?;
        let max_form_fields = usize::try_from(number("max_form_fields")?).unwrap_or(usize::MAX);
        Ok(Self {
            root,
            debug,
            cookie_defaults,
            max_body_size,
            max_form_fields,
        })
    }

    /// The value at a dotted path (`"cookie.secure"`), if present.
    pub fn get(&self, path: &str) -> Option<&Value> {
        path.split('.')
            .try_fold(&self.root, |value, key| value.get(key))
    }

    /// The value at a dotted path, deserialised into `T` (a section into a struct, say).
    pub fn get_as<T: DeserializeOwned>(&self, path: &str) -> Result<T, SettingsError> {
        let value = self
            .get(path)
            .ok_or_else(|| SettingsError::Missing(path.to_owned()))?;
        T::deserialize(value).map_err(|error| SettingsError::WrongType {
            key: path.to_owned(),
            message: error.to_string(),
        })
    }

    /// Whether debug mode is on: error responses then carry internal details.
    pub fn debug(&self) -> bool {
        self.debug
    }

    /// The default limit of a request body, in bytes (`max_body_size`, 10 MiB unless set).
    pub fn max_body_size(&self) -> u64 {
        self.max_body_size
    }

    /// The most fields (or multipart parts) a form may have (`max_form_fields`, 1000 unless set).
    pub fn max_form_fields(&self) -> usize {
        self.max_form_fields
    }

    pub(crate) fn cookie_defaults(&self) -> CookieDefaults {
        self.cookie_defaults
    }

    /// The whole merged tree.
    pub fn value(&self) -> &Value {
        &self.root
    }
}

/// [`FRAMEWORK_DEFAULTS`], built without parsing: every component instance starts with them,
/// and parsing YAML is most of what building settings costs.
fn framework_defaults() -> Value {
    let mut cookie = Map::new();
    cookie.insert("http_only".into(), false.into());
    cookie.insert("secure".into(), false.into());
    let mut root = Map::new();
    root.insert("debug".into(), false.into());
    root.insert("domain".into(), Value::Null);
    root.insert("cookie".into(), Value::Object(cookie));
    root.insert("max_body_size".into(), (10u64 << 20).into());
    root.insert("max_form_fields".into(), 1000u64.into());
    Value::Object(root)
}

fn parse_layer(layer: &str, text: &str) -> Result<Value, SettingsError> {
    // The common layers, no application defaults and no host settings, need no parser.
    if matches!(text.trim(), "" | "{}") {
        return Ok(Value::Object(Map::new()));
    }
    let invalid = |message: String| SettingsError::Invalid {
        layer: layer.to_owned(),
        message,
    };
    #[cfg(feature = "yaml")]
    let parsed: Value = serde_yaml_ng::from_str(text).map_err(|e| invalid(e.to_string()))?;
    #[cfg(not(feature = "yaml"))]
    let parsed: Value = serde_json::from_str(text).map_err(|e| {
        // YAML where JSON is expected: the most likely mistake, say what to do about it.
        let hint = if text.trim_start().starts_with(['{', '[']) {
            ""
        } else {
            " (settings reach components as JSON: convert YAML with `nanohttp settings -c \
             FILE`, or build the component with nanohttp's `yaml` feature)"
        };
        invalid(format!("{e}{hint}"))
    })?;
    match parsed {
        Value::Null => Ok(Value::Object(Map::new())),
        Value::Object(_) => Ok(parsed),
        other => Err(invalid(format!(
            "the top level must be a mapping, found {}",
            kind(&other)
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// Whether `text` can be an application's defaults ([`Application::SETTINGS`]): blank, or a
/// JSON object (with the `yaml` feature, anything). Checked at compile time by
/// [`export!`](crate::export) and [`TestClient`](crate::testing::TestClient), so that YAML
/// written without [`yaml!`](crate::yaml) is a compile error, not a failing component.
///
/// [`Application::SETTINGS`]: crate::Application::SETTINGS
#[doc(hidden)]
pub const fn defaults_text_is_accepted(text: &str) -> bool {
    if cfg!(feature = "yaml") {
        return true;
    }
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() && bytes[at].is_ascii_whitespace() {
        at += 1;
    }
    at == bytes.len() || bytes[at] == b'{'
}

/// Deep-merges `overlay` into `base`: mappings merge key by key, recursively; anything else
/// (scalars, sequences, null) replaces. The `nanohttp` host merges its layers with the same
/// function (it lives in the small `nanohttp-settings` crate both sides depend on).
pub use nanohttp_settings::merge;

#[cfg(test)]
mod tests {
    use super::*;

    /// YAML for readable tables; what the framework parses is JSON.
    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn built_defaults_match_the_documented_yaml() {
        assert_eq!(framework_defaults(), yaml(FRAMEWORK_DEFAULTS));
    }

    #[test]
    fn defaults_are_present() {
        let settings = Settings::default();
        assert!(!settings.debug());
        assert_eq!(settings.get("cookie.http_only"), Some(&Value::Bool(false)));
        assert_eq!(
            settings.get("max_body_size"),
            Some(&Value::from(10u64 << 20))
        );
        assert_eq!(settings.get("domain"), Some(&Value::Null));
        assert_eq!(settings.get("cookie.nope"), None);
    }

    #[test]
    fn layers_apply_in_order() {
        let settings = Settings::from_layers([
            (
                "app",
                r#"{"debug": true, "cookie": {"secure": true}, "name": "app"}"#,
            ),
            ("host", r#"{"name": "host"}"#),
            ("empty", ""),
            ("blank", " \n"),
        ])
        .unwrap();
        assert!(settings.debug());
        assert!(settings.get_as::<bool>("cookie.secure").unwrap());
        assert!(!settings.get_as::<bool>("cookie.http_only").unwrap());
        assert_eq!(settings.get_as::<String>("name").unwrap(), "host");
    }

    #[test]
    fn bad_layers_are_named() {
        let error = Settings::from_layers([("NANOHTTP_SETTINGS", r#"{"a": [1,"#)]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid settings in NANOHTTP_SETTINGS"),
            "{error}"
        );
        let error = Settings::from_layers([("app", "[1, 2]")]).unwrap_err();
        assert!(error.to_string().contains("found a sequence"), "{error}");
    }

    #[test]
    #[cfg(not(feature = "yaml"))]
    fn layers_are_json() {
        let error = Settings::from_layers([("app", "debug: true")]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid settings in app: expected value at line 1 column 1"),
            "{error}"
        );
        assert!(
            error.to_string().ends_with(
                "(settings reach components as JSON: convert YAML with `nanohttp settings -c \
                 FILE`, or build the component with nanohttp's `yaml` feature)"
            ),
            "{error}"
        );
        let broken_json = Settings::from_layers([("app", "{\"a\": }")]).unwrap_err();
        assert!(
            !broken_json.to_string().contains("convert YAML"),
            "{broken_json}"
        );
        for accepted in ["", " \n", "{}", " {\"a\": 1}"] {
            assert!(defaults_text_is_accepted(accepted), "{accepted:?}");
        }
        for refused in ["a: 1", "[1]", "null"] {
            assert!(!defaults_text_is_accepted(refused), "{refused:?}");
        }
    }

    #[test]
    #[cfg(feature = "yaml")]
    fn layers_are_yaml() {
        let settings = Settings::from_layers([("app", "db:\n  pool: 4\n")]).unwrap();
        assert_eq!(settings.get_as::<u32>("db.pool").unwrap(), 4);
        assert!(defaults_text_is_accepted("a: 1"));
    }

    #[test]
    fn typed_access_errors_name_the_key() {
        let settings = Settings::from_layers([("app", r#"{"db": {"pool": "many"}}"#)]).unwrap();
        let error = settings.get_as::<u32>("db.pool").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("setting `db.pool` has the wrong type"),
            "{error}"
        );
        let error = settings.get_as::<u32>("db.size").unwrap_err();
        assert_eq!(error.to_string(), "missing setting `db.size`");
    }
}
