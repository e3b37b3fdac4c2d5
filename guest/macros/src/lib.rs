//! The macros of [nanohttp](https://docs.rs/nanohttp): the attributes read an `impl` block of
//! handlers and child controllers and generate its `nanohttp::Controller` implementation;
//! `yaml!` turns YAML settings into JSON at compile time. Use them through `nanohttp`, which
//! documents them.

use proc_macro::TokenStream;

mod ast;
mod attr;
mod expand;
mod settings;
mod valid;

use ast::{Errors, Kind};
use attr::ControllerOptions;

/// Object dispatch: the first path segment names a child controller or a handler; otherwise
/// `index` gets every segment. See the `nanohttp` crate docs.
#[proc_macro_attribute]
pub fn controller(args: TokenStream, item: TokenStream) -> TokenStream {
    generate(Kind::Controller, args, item)
}

/// Verb dispatch: a segment naming a handler first, then the handler named after the
/// lower-cased request method (`get`, `post`, custom verbs such as `list`); none → 405.
#[proc_macro_attribute]
pub fn rest_controller(args: TokenStream, item: TokenStream) -> TokenStream {
    generate(Kind::Rest, args, item)
}

/// Regex dispatch: each handler has `#[route(r"pattern")]`; the first pattern matching the whole
/// remaining path wins, and its captures bind to the handler's parameters by name.
#[proc_macro_attribute]
pub fn regex_controller(args: TokenStream, item: TokenStream) -> TokenStream {
    generate(Kind::Regex, args, item)
}

/// YAML settings as JSON text, converted at compile time: the string literal of the same
/// mapping, for `Application::SETTINGS` and wherever settings text is expected. See the
/// `nanohttp` crate docs.
#[proc_macro]
pub fn yaml(input: TokenStream) -> TokenStream {
    settings::expand(input.into()).into()
}

fn generate(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let options = match syn::parse::<ControllerOptions>(args) {
        Ok(options) => options,
        Err(error) => return error.to_compile_error().into(),
    };
    let item = match syn::parse::<syn::ItemImpl>(item) {
        Ok(item) => item,
        Err(error) => {
            return syn::Error::new(
                error.span(),
                "controller attributes go on an `impl` block: `#[controller] impl Root { .. }`",
            )
            .to_compile_error()
            .into();
        }
    };
    let mut errors = Errors::default();
    let controller = ast::parse(kind, options, item, &mut errors);
    valid::controller(&controller, &mut errors);
    match errors.into_result() {
        Ok(()) => expand::controller(&controller).into(),
        Err(error) => {
            let mut tokens = error.to_compile_error();
            tokens.extend(expand::fallback(&controller));
            tokens.into()
        }
    }
}
