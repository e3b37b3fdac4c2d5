//! Attribute syntax: our attributes taken off the `impl` block's items and read into plain
//! data. What they mean together is `ast.rs`'s concern; whether it is allowed, `valid.rs`'s.

use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Expr, FnArg, Ident, ImplItemFn, LitBool, LitStr, Token};

/// Options of the controller attribute itself:
/// `#[controller(remove_trailing_slash = false, crate = "my_nanohttp")]`.
pub(crate) struct ControllerOptions {
    pub(crate) remove_trailing_slash: bool,
    /// The path the generated code reaches the framework through (`::nanohttp` unless renamed).
    pub(crate) krate: syn::Path,
}

impl Parse for ControllerOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = ControllerOptions {
            remove_trailing_slash: true,
            krate: syn::parse_quote!(::nanohttp),
        };
        while !input.is_empty() {
            if input.peek(Token![crate]) {
                input.parse::<Token![crate]>()?;
                input.parse::<Token![=]>()?;
                let path: LitStr = input.parse()?;
                options.krate = path.parse().map_err(|_| {
                    syn::Error::new(
                        path.span(),
                        "expected the path the framework is reachable at, e.g. `crate = \"my_nanohttp\"`",
                    )
                })?;
            } else {
                let key: Ident = input.parse()?;
                input.parse::<Token![=]>()?;
                if key == "remove_trailing_slash" {
                    options.remove_trailing_slash = input.parse::<LitBool>()?.value;
                } else {
                    return Err(syn::Error::new(
                        key.span(),
                        "unknown controller option; expected `remove_trailing_slash = true|false` or `crate = \"path\"`",
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(options)
    }
}

/// The content type family an action marker stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Action,
    Html,
    Text,
    Json,
    Xml,
    Binary,
}

impl Marker {
    fn from_ident(ident: &Ident) -> Option<Self> {
        Some(match ident.to_string().as_str() {
            "action" => Self::Action,
            "html" => Self::Html,
            "text" => Self::Text,
            "json" => Self::Json,
            "xml" => Self::Xml,
            "binary" => Self::Binary,
            _ => return None,
        })
    }

    pub(crate) fn content_type(self) -> Option<&'static str> {
        match self {
            Self::Action => None,
            Self::Html => Some("text/html"),
            Self::Text => Some("text/plain"),
            Self::Json => Some("application/json"),
            Self::Xml => Some("application/xml"),
            Self::Binary => Some("application/octet-stream"),
        }
    }
}

/// Our attributes of one method, removed from it.
#[derive(Default)]
pub(crate) struct FnAttrs {
    pub(crate) marker: Option<(Marker, Attribute)>,
    pub(crate) child: Option<Attribute>,
    pub(crate) route: Option<Attribute>,
    /// The `#[query]` of each parameter after `&self`, in order.
    pub(crate) queries: Vec<QueryAttr>,
}

/// `#[query]` or `#[query("key")]` on a parameter.
pub(crate) type QueryAttr = Option<(Attribute, Option<String>)>;

impl FnAttrs {
    /// Takes our attributes off `function` and its parameters, leaving the others.
    pub(crate) fn take(function: &mut ImplItemFn) -> syn::Result<Self> {
        let mut attrs = Self::default();
        let mut kept = Vec::new();
        for attr in function.attrs.drain(..) {
            let Some(ident) = attr.path().get_ident() else {
                kept.push(attr);
                continue;
            };
            if let Some(marker) = Marker::from_ident(ident) {
                if attrs.marker.is_some() {
                    return Err(syn::Error::new_spanned(
                        &attr,
                        "a handler takes one action marker (`action`, `html`, `text`, `json`, `xml` or `binary`)",
                    ));
                }
                attrs.marker = Some((marker, attr));
            } else if ident == "child" {
                attrs.child = Some(attr);
            } else if ident == "route" {
                attrs.route = Some(attr);
            } else {
                kept.push(attr);
            }
        }
        function.attrs = kept;
        attrs.queries = take_query_attrs(function)?;
        Ok(attrs)
    }
}

fn take_query_attrs(function: &mut ImplItemFn) -> syn::Result<Vec<QueryAttr>> {
    let mut found = Vec::new();
    for input in function.sig.inputs.iter_mut() {
        let FnArg::Typed(pat_type) = input else {
            continue;
        };
        let mut query = None;
        let mut kept = Vec::new();
        for attr in pat_type.attrs.drain(..) {
            if attr.path().is_ident("query") {
                let key = match &attr.meta {
                    syn::Meta::Path(_) => None,
                    _ => Some(attr.parse_args::<LitStr>()?.value()),
                };
                query = Some((attr, key));
            } else {
                kept.push(attr);
            }
        }
        pat_type.attrs = kept;
        found.push(query);
    }
    Ok(found)
}

/// `#[child]` or `#[child(name = "segment")]`: the segment, if renamed.
pub(crate) fn child_name(attr: &Attribute) -> syn::Result<Option<String>> {
    let mut segment = None;
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                segment = Some(meta.value()?.parse::<LitStr>()?.value());
                Ok(())
            } else {
                Err(meta.error("unknown child option; expected `name = \"segment\"`"))
            }
        })?;
    }
    Ok(segment)
}

/// The arguments of an action marker: verbs as strings, then `key = value` options.
#[derive(Default)]
pub(crate) struct MarkerArgs {
    pub(crate) verbs: Vec<LitStr>,
    pub(crate) content_type: Option<Expr>,
    pub(crate) encoding: Option<Option<Expr>>,
    pub(crate) name: Option<LitStr>,
    pub(crate) max_body_size: Option<Expr>,
    pub(crate) guards: Guards,
}

/// Form guards of a handler, each with its status line.
#[derive(Default)]
pub(crate) struct Guards {
    pub(crate) prevent_form: Option<String>,
    pub(crate) prevent_empty_form: Option<String>,
    pub(crate) form_whitelist: Option<(Vec<String>, Option<String>)>,
}

impl MarkerArgs {
    /// The arguments of `attr` (none for a bare `#[json]`, or a route's implied `#[action]`).
    pub(crate) fn of(attr: Option<&Attribute>) -> syn::Result<Self> {
        match attr {
            Some(attr) if !matches!(attr.meta, syn::Meta::Path(_)) => attr.parse_args(),
            _ => Ok(Self::default()),
        }
    }

    fn set(&mut self, key: &Ident, input: ParseStream<'_>) -> syn::Result<()> {
        match key.to_string().as_str() {
            "content_type" => self.content_type = Some(input.parse()?),
            "encoding" => {
                let value: Expr = input.parse()?;
                let none = matches!(&value, Expr::Path(p) if p.path.is_ident("None"));
                self.encoding = Some(if none { None } else { Some(value) });
            }
            "name" => self.name = Some(input.parse()?),
            "max_body_size" => self.max_body_size = Some(input.parse()?),
            _ => {
                return Err(syn::Error::new(
                    key.span(),
                    "unknown option; expected verbs as strings (\"GET\", \"POST\") and `content_type = ..`, `encoding = ..|None`, `name = \"segment\"`, `max_body_size = bytes`, `prevent_form`, `prevent_empty_form` or `form_whitelist = [..]`",
                ));
            }
        }
        Ok(())
    }
}

impl Parse for MarkerArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = MarkerArgs::default();
        while !input.is_empty() {
            if input.peek(LitStr) {
                args.verbs.push(input.parse()?);
            } else {
                let key: Ident = input.parse()?;
                match key.to_string().as_str() {
                    "prevent_form" => {
                        args.guards.prevent_form =
                            Some(flag_with_status(input, "400 Form Not Allowed")?);
                    }
                    "prevent_empty_form" => {
                        args.guards.prevent_empty_form =
                            Some(flag_with_status(input, "400 Empty Form Not Allowed")?);
                    }
                    "form_whitelist" => args.guards.form_whitelist = Some(whitelist(input)?),
                    _ => {
                        input.parse::<Token![=]>()?;
                        args.set(&key, input)?;
                    }
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}

/// A status line such as `"400 Too young"`, checked at compile time.
fn status_line(input: ParseStream<'_>) -> syn::Result<String> {
    let line: LitStr = input.parse()?;
    let value = line.value();
    let (code, _) = value.split_once(' ').unwrap_or((&value, ""));
    match code.parse::<u16>() {
        Ok(100..=999) => Ok(value),
        _ => Err(syn::Error::new(
            line.span(),
            "expected a status line: a code from 100 to 999 and a reason, e.g. \"400 No Form Allowed\"",
        )),
    }
}

/// `prevent_form` alone, or `prevent_form = "status line"`.
fn flag_with_status(input: ParseStream<'_>, default: &str) -> syn::Result<String> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        status_line(input)
    } else {
        Ok(default.to_owned())
    }
}

/// `form_whitelist = ["a", "b"]` or `form_whitelist = (["a", "b"], "status line")`.
fn whitelist(input: ParseStream<'_>) -> syn::Result<(Vec<String>, Option<String>)> {
    input.parse::<Token![=]>()?;
    let names = |input: ParseStream<'_>| -> syn::Result<Vec<String>> {
        let content;
        syn::bracketed!(content in input);
        let names = content.parse_terminated(|i| i.parse::<LitStr>(), Token![,])?;
        Ok(names.iter().map(LitStr::value).collect())
    };
    if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        let list = names(&content)?;
        content.parse::<Token![,]>()?;
        let status = status_line(&content)?;
        Ok((list, Some(status)))
    } else {
        Ok((names(input)?, None))
    }
}
