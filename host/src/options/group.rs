//! How an option group is declared: once, as a struct whose fields are both command-line flags
//! (clap reads the struct) and keys of the `host:` settings section (read by the generated
//! [`Group::layer`]), with one parser per option used for both, so a flag and its key can
//! never disagree on syntax, range or default.

use clap::ArgMatches;
use clap::parser::ValueSource;
use serde_json::{Map, Value};

/// An option group: its keys in the `host:` section, and how settings layer under its flags.
pub(crate) trait Group {
    /// Where the group's keys live: `""` for the `host:` section itself, else the name of a
    /// mapping inside it (`kv` for `host.kv.*`).
    const SECTION: &'static str;
    /// Its keys, which are its fields' names, in declaration (and `--help`) order.
    const KEYS: &'static [&'static str];

    /// Puts each key of `section` into the option of that name unless the option was given
    /// on the command line (`matches` tells); lists are the exception, their settings come
    /// before their flags. `section` was checked to hold only [`Group::KEYS`].
    fn layer(
        &mut self,
        section: &Map<String, Value>,
        matches: &ArgMatches,
    ) -> Result<(), (&'static str, String)>;
}

/// Whether the option with this clap id (its field's name) was given on the command line.
pub(crate) fn on_command_line(matches: &ArgMatches, id: &str) -> bool {
    matches.value_source(id) == Some(ValueSource::CommandLine)
}

/// Declares an option group (see the module's documentation). Each field is
/// `NAME: TYPE = PARSER`, after its doc comment (the `--help` text) and `#[arg(...)]`
/// attributes (the flag's name, value name, default); `PARSER` is a `fn(&str) -> Result<T,
/// String>`, where `T` is the field's type, or its item type for `Option` and `Vec` fields.
macro_rules! option_group {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident in $section:literal {
            $(
                $(#[$field_meta:meta])*
                $field_vis:vis $field:ident : $type:ty = $parse:expr
            ),* $(,)?
        }
    ) => {
        #[derive(Debug, Clone, PartialEq, clap::Args)]
        $(#[$meta])*
        $vis struct $name {
            $(
                $(#[$field_meta])*
                #[arg(value_parser = $parse)]
                $field_vis $field: $type,
            )*
        }

        impl $crate::options::group::Group for $name {
            const SECTION: &'static str = $section;
            const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn layer(
                &mut self,
                section: &serde_json::Map<String, serde_json::Value>,
                matches: &clap::ArgMatches,
            ) -> Result<(), (&'static str, String)> {
                $(
                    if let Some(value) = section.get(stringify!($field)) {
                        let given =
                            $crate::options::group::on_command_line(matches, stringify!($field));
                        $crate::options::group::Layer::layer(&mut self.$field, value, given, $parse)
                            .map_err(|why| (stringify!($field), why))?;
                    }
                )*
                Ok(())
            }
        }
    };
}
pub(crate) use option_group;

/// How a setting goes under an option of type `Self` whose parser yields `T`.
pub(crate) trait Layer<T> {
    fn layer(
        &mut self,
        setting: &Value,
        on_command_line: bool,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<(), String>;
}

/// One value: the setting replaces the default, a flag replaces the setting.
impl<T> Layer<T> for T {
    fn layer(
        &mut self,
        setting: &Value,
        on_command_line: bool,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<(), String> {
        let value = parse(&scalar_text(setting)?)?;
        if !on_command_line {
            *self = value;
        }
        Ok(())
    }
}

/// An optional value without a default: as one value, `Some` once set.
impl<T> Layer<T> for Option<T> {
    fn layer(
        &mut self,
        setting: &Value,
        on_command_line: bool,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<(), String> {
        let parse = |text: &str| parse(text).map(Some);
        Layer::<Option<T>>::layer(self, setting, on_command_line, parse)
    }
}

/// A list (one item or a sequence of them in settings): the setting replaces the default, and
/// the flags' items come after the setting's. Settings merge lists whole, so the setting is
/// the last layer's list.
impl<T> Layer<T> for Vec<T> {
    fn layer(
        &mut self,
        setting: &Value,
        on_command_line: bool,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<(), String> {
        let items = match setting {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        let mut list = items
            .into_iter()
            .map(|item| parse(&scalar_text(item)?))
            .collect::<Result<Vec<_>, _>>()?;
        if on_command_line {
            list.append(self);
        }
        *self = list;
        Ok(())
    }
}

/// A scalar setting as the text a flag would carry: `30`, `true`, `64MiB`.
fn scalar_text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null => Err("expected a value, not null".into()),
        Value::Array(_) => Err("expected one value, not a sequence".into()),
        Value::Object(_) => Err("expected one value, not a mapping".into()),
    }
}
