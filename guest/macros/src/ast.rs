//! Parse and validate: an `impl` block becomes a list of routes (children and handlers), each
//! error pointing at the token that caused it.

use syn::parse::{Parse, ParseStream};
use syn::{
    Attribute, Expr, FnArg, GenericArgument, Ident, ImplItem, ImplItemFn, ItemImpl, LitBool,
    LitStr, Pat, PathArguments, ReturnType, Token, Type,
};

/// Which dispatcher the `impl` block gets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Controller,
    Rest,
    Regex,
}

/// Options of the controller attribute itself.
pub(crate) struct ControllerOptions {
    pub(crate) remove_trailing_slash: bool,
}

impl Parse for ControllerOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = ControllerOptions {
            remove_trailing_slash: true,
        };
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            if key == "remove_trailing_slash" {
                options.remove_trailing_slash = input.parse::<LitBool>()?.value;
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    "unknown controller option; expected `remove_trailing_slash = true|false`",
                ));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(options)
    }
}

/// A child controller: `#[child] fn tips(&self) -> &Tips`.
pub(crate) struct Child {
    pub(crate) segment: String,
    pub(crate) method: Ident,
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

    fn content_type(self) -> Option<&'static str> {
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

/// A handler: a method marked with an action marker (or `#[route]` in a regex controller).
pub(crate) struct Handler {
    pub(crate) segment: String,
    pub(crate) method: Ident,
    pub(crate) marker: Marker,
    pub(crate) verbs: Option<Vec<String>>,
    /// An expression of type `&'static str`, or `None` for the marker's default.
    pub(crate) content_type: Option<Expr>,
    /// `None`: the marker's default; `Some(None)`: no charset; `Some(Some(e))`: that charset.
    pub(crate) encoding: Option<Option<Expr>>,
    pub(crate) max_body_size: Option<Expr>,
    pub(crate) guards: Guards,
    pub(crate) params: Vec<Param>,
    pub(crate) returns: Returns,
    /// Where errors about the return value point: the return type, or the name.
    pub(crate) return_span: proc_macro2::Span,
    pub(crate) route: Option<Route>,
}

impl Handler {
    pub(crate) fn default_content_type(&self) -> Option<&'static str> {
        self.marker.content_type()
    }

    pub(crate) fn has_default_charset(&self) -> bool {
        self.marker != Marker::Binary
    }

    pub(crate) fn positional(&self) -> impl Iterator<Item = &Param> {
        self.params
            .iter()
            .filter(|p| matches!(p.source, Source::Positional(_)))
    }
}

/// A regular-expression route of a regex controller.
pub(crate) struct Route {
    pub(crate) pattern: LitStr,
    /// The capture group index each positional parameter reads, in parameter order.
    pub(crate) groups: Vec<usize>,
}

/// How the handler's return value becomes a body.
pub(crate) enum Returns {
    /// Any [`Reply`]; also `()`.
    Reply,
    /// Under `#[json]`: wrap in `Json`.
    JsonValue,
    /// Under `#[json]`, a `Result` or `Option`: wrap what is inside.
    JsonInside,
}

/// One handler parameter after `&self`.
pub(crate) struct Param {
    pub(crate) name: Ident,
    pub(crate) ty: Type,
    pub(crate) source: Source,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Arity {
    Required,
    Optional,
    Rest,
}

pub(crate) enum Source {
    Context { mutable: bool },
    Positional(Arity),
    Query { key: String, arity: Arity },
}

/// Everything the expansion needs.
pub(crate) struct Controller {
    pub(crate) item: ItemImpl,
    pub(crate) kind: Kind,
    pub(crate) options: ControllerOptions,
    pub(crate) children: Vec<Child>,
    pub(crate) handlers: Vec<Handler>,
}

/// Collects errors so that one bad handler does not hide the others.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn into_result(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

pub(crate) fn parse(
    kind: Kind,
    options: ControllerOptions,
    mut item: ItemImpl,
    errors: &mut Errors,
) -> Controller {
    let mut children = Vec::new();
    let mut handlers = Vec::new();
    if let Some((_, path, _)) = &item.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "controller attributes go on an inherent `impl` block, not a trait impl",
        ));
    }
    for impl_item in &mut item.items {
        let ImplItem::Fn(function) = impl_item else {
            continue;
        };
        match parse_function(kind, function) {
            Ok(Some(Route_::Child(child))) => children.push(child),
            Ok(Some(Route_::Handler(handler))) => handlers.push(*handler),
            Ok(None) => {}
            Err(error) => errors.push(error),
        }
    }
    check_unique_segments(&children, &handlers, errors);
    Controller {
        item,
        kind,
        options,
        children,
        handlers,
    }
}

enum Route_ {
    Child(Child),
    Handler(Box<Handler>),
}

fn check_unique_segments(children: &[Child], handlers: &[Handler], errors: &mut Errors) {
    let mut seen: Vec<&str> = Vec::new();
    let names = children
        .iter()
        .map(|c| (&c.segment, &c.method))
        .chain(handlers.iter().map(|h| (&h.segment, &h.method)));
    for (segment, method) in names {
        if seen.contains(&segment.as_str()) {
            errors.push(syn::Error::new(
                method.span(),
                format!("two routes answer the segment `{segment}`"),
            ));
        }
        seen.push(segment);
    }
}

/// Removes our attributes from the method and its parameters, returning what they said.
fn parse_function(kind: Kind, function: &mut ImplItemFn) -> syn::Result<Option<Route_>> {
    let mut marker: Option<(Marker, Attribute)> = None;
    let mut child: Option<Attribute> = None;
    let mut route: Option<Attribute> = None;
    let mut kept = Vec::new();
    for attr in function.attrs.drain(..) {
        let Some(ident) = attr.path().get_ident() else {
            kept.push(attr);
            continue;
        };
        if let Some(m) = Marker::from_ident(ident) {
            if marker.is_some() {
                return Err(syn::Error::new_spanned(
                    &attr,
                    "a handler takes one action marker (`action`, `html`, `text`, `json`, `xml` or `binary`)",
                ));
            }
            marker = Some((m, attr));
        } else if ident == "child" {
            child = Some(attr);
        } else if ident == "route" {
            route = Some(attr);
        } else {
            kept.push(attr);
        }
    }
    function.attrs = kept;
    let query_attrs = strip_param_attrs(function)?;

    if let Some(attr) = child {
        if let Some((_, marker_attr)) = &marker {
            return Err(syn::Error::new_spanned(
                marker_attr,
                "a child controller cannot also be a handler",
            ));
        }
        return parse_child(function, &attr).map(|c| Some(Route_::Child(c)));
    }
    if let Some(route) = route.as_ref().filter(|_| kind != Kind::Regex) {
        return Err(syn::Error::new_spanned(
            route,
            "`#[route]` belongs in a `#[regex_controller]`",
        ));
    }
    if kind == Kind::Regex && marker.is_some() && route.is_none() {
        return Err(syn::Error::new(
            function.sig.ident.span(),
            "a handler of a `#[regex_controller]` needs `#[route(r\"pattern\")]`",
        ));
    }
    let (marker, marker_attr) = match (marker, &route) {
        (Some((marker, attr)), _) => (marker, Some(attr)),
        (None, Some(_)) => (Marker::Action, None),
        (None, None) => {
            if let Some((attr, _)) = query_attrs.into_iter().flatten().next() {
                return Err(syn::Error::new_spanned(
                    attr,
                    "`#[query]` is for handler parameters; mark the method as a handler (`#[action]`, `#[json]`, ...)",
                ));
            }
            return Ok(None);
        }
    };
    let handler = parse_handler(
        kind,
        function,
        marker,
        marker_attr.as_ref(),
        route,
        query_attrs,
    )?;
    Ok(Some(Route_::Handler(Box::new(handler))))
}

/// The `#[query]`/`#[query("key")]` attribute of each parameter (after `&self`), removed.
type QueryAttr = Option<(Attribute, Option<String>)>;

fn strip_param_attrs(function: &mut ImplItemFn) -> syn::Result<Vec<QueryAttr>> {
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

fn parse_child(function: &ImplItemFn, attr: &Attribute) -> syn::Result<Child> {
    let mut segment = function.sig.ident.to_string();
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                segment = meta.value()?.parse::<LitStr>()?.value();
                Ok(())
            } else {
                Err(meta.error("unknown child option; expected `name = \"segment\"`"))
            }
        })?;
    }
    let sig = &function.sig;
    let only_self = sig.inputs.len() == 1
        && matches!(sig.inputs.first(), Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none());
    let returns_ref =
        matches!(&sig.output, ReturnType::Type(_, ty) if matches!(**ty, Type::Reference(_)));
    if !only_self || !returns_ref {
        return Err(syn::Error::new_spanned(
            sig,
            "a child controller is a method `fn name(&self) -> &Child` returning a reference to a controller",
        ));
    }
    Ok(Child {
        segment,
        method: sig.ident.clone(),
    })
}

/// The arguments of an action marker: verbs as strings, then `key = value` options.
#[derive(Default)]
struct MarkerArgs {
    verbs: Vec<LitStr>,
    content_type: Option<Expr>,
    encoding: Option<Option<Expr>>,
    name: Option<LitStr>,
    max_body_size: Option<Expr>,
    guards: Guards,
}

/// Form guards of a handler, each with its status line.
#[derive(Default)]
pub(crate) struct Guards {
    pub(crate) prevent_form: Option<String>,
    pub(crate) prevent_empty_form: Option<String>,
    pub(crate) form_whitelist: Option<(Vec<String>, Option<String>)>,
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

impl MarkerArgs {
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

fn parse_handler(
    kind: Kind,
    function: &ImplItemFn,
    marker: Marker,
    marker_attr: Option<&Attribute>,
    route: Option<Attribute>,
    query_attrs: Vec<QueryAttr>,
) -> syn::Result<Handler> {
    let args = match marker_attr {
        Some(attr) if !matches!(attr.meta, syn::Meta::Path(_)) => attr.parse_args()?,
        _ => MarkerArgs::default(),
    };
    let verbs = if args.verbs.is_empty() {
        None
    } else {
        let mut verbs = Vec::new();
        for verb in &args.verbs {
            let value = verb.value();
            if value.is_empty()
                || !value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(syn::Error::new(
                    verb.span(),
                    "a verb is a token such as \"GET\" or \"LIST\"",
                ));
            }
            verbs.push(value.to_ascii_uppercase());
        }
        Some(verbs)
    };
    let sig = &function.sig;
    check_signature(sig)?;
    let params = parse_params(sig, query_attrs)?;
    let returns = match (&sig.output, marker) {
        (ReturnType::Type(_, ty), Marker::Json) => match last_segment_ident(ty).as_deref() {
            Some("Result" | "Option") => Returns::JsonInside,
            Some("Json") => Returns::Reply,
            _ => Returns::JsonValue,
        },
        _ => Returns::Reply,
    };
    let route = match route {
        Some(attr) => Some(parse_route(&attr, &params)?),
        None => None,
    };
    let rest_param = params
        .iter()
        .find(|p| matches!(p.source, Source::Positional(Arity::Rest)));
    if let Some(param) = rest_param.filter(|_| kind == Kind::Regex) {
        return Err(syn::Error::new_spanned(
            &param.ty,
            "regex routes bind captures to parameters; a rest parameter (`Vec<T>`) has no capture to read",
        ));
    }
    Ok(Handler {
        segment: args
            .name
            .map_or_else(|| unraw(&sig.ident), |name| name.value()),
        method: sig.ident.clone(),
        marker,
        verbs,
        content_type: args.content_type,
        encoding: args.encoding,
        max_body_size: args.max_body_size,
        guards: args.guards,
        params,
        returns,
        return_span: match &sig.output {
            ReturnType::Type(_, ty) => syn::spanned::Spanned::span(&**ty),
            ReturnType::Default => sig.ident.span(),
        },
        route,
    })
}

fn check_signature(sig: &syn::Signature) -> syn::Result<()> {
    if let Some(asyncness) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            asyncness,
            "handlers are not `async`: a component answers one request at a time",
        ));
    }
    if let Some(param) = sig.generics.params.first() {
        return Err(syn::Error::new_spanned(
            param,
            "handlers cannot be generic: the dispatcher must know every argument type",
        ));
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(receiver))
            if receiver.reference.is_some() && receiver.mutability.is_none() =>
        {
            Ok(())
        }
        Some(FnArg::Receiver(receiver)) => Err(syn::Error::new_spanned(
            receiver,
            "handlers take `&self`: one controller tree serves every request, so it is shared",
        )),
        _ => Err(syn::Error::new(
            sig.ident.span(),
            "handlers take `&self` as their first parameter",
        )),
    }
}

fn parse_params(sig: &syn::Signature, query_attrs: Vec<QueryAttr>) -> syn::Result<Vec<Param>> {
    let mut params = Vec::new();
    let mut last_positional: Option<Arity> = None;
    let mut query_attrs = query_attrs.into_iter();
    for input in sig.inputs.iter() {
        let FnArg::Typed(pat_type) = input else {
            continue;
        };
        let query = query_attrs.next().flatten();
        let Pat::Ident(pat) = &*pat_type.pat else {
            return Err(syn::Error::new_spanned(
                &pat_type.pat,
                "handler parameters are plain names: the name is the query key or the capture name",
            ));
        };
        let name = pat.ident.clone();
        let ty = (*pat_type.ty).clone();
        let source = if let Some(mutable) = context_reference(&ty) {
            Source::Context { mutable }
        } else if let Some((_, key)) = query {
            Source::Query {
                key: key.unwrap_or_else(|| unraw(&name).trim_start_matches('_').to_owned()),
                arity: arity_of(&ty),
            }
        } else {
            let arity = arity_of(&ty);
            match last_positional {
                Some(Arity::Rest) => {
                    return Err(syn::Error::new_spanned(
                        &pat_type.ty,
                        "no positional parameter can follow the rest parameter (`Vec<T>`); mark query parameters with `#[query]`",
                    ));
                }
                Some(Arity::Optional) if arity == Arity::Required => {
                    return Err(syn::Error::new_spanned(
                        &pat_type.ty,
                        "a required positional parameter cannot follow an optional one (`Option<T>`)",
                    ));
                }
                _ => {}
            }
            last_positional = Some(arity);
            Source::Positional(arity)
        };
        if let (Type::Reference(_), Source::Positional(_) | Source::Query { .. }) = (&ty, &source) {
            return Err(syn::Error::new_spanned(
                &pat_type.ty,
                "unsupported handler parameter: expected `&Context`/`&mut Context`, or an owned type parsed from the path or query (`String`, `u32`, `Option<T>`, `Vec<T>`)",
            ));
        }
        params.push(Param { name, ty, source });
    }
    Ok(params)
}

fn parse_route(attr: &Attribute, params: &[Param]) -> syn::Result<Route> {
    let pattern: LitStr = attr.parse_args()?;
    let regex = regex_lite::Regex::new(&format!("^(?:{})$", pattern.value())).map_err(|error| {
        syn::Error::new(
            pattern.span(),
            format!("invalid regular expression: {error}"),
        )
    })?;
    let names: Vec<Option<&str>> = regex.capture_names().collect();
    let mut unnamed = (1..names.len()).filter(|&i| names[i].is_none());
    let mut groups = Vec::new();
    for param in params
        .iter()
        .filter(|p| matches!(p.source, Source::Positional(_)))
    {
        let wanted = unraw(&param.name);
        let index = names
            .iter()
            .position(|n| *n == Some(wanted.as_str()))
            .or_else(|| unnamed.next())
            .ok_or_else(|| {
                syn::Error::new(
                    param.name.span(),
                    format!("the route has no capture group named `{wanted}` and no unnamed group left for it"),
                )
            })?;
        groups.push(index);
    }
    Ok(Route { pattern, groups })
}

fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
}

/// `Some(mutable)` when `ty` is `&Context` or `&mut Context`.
fn context_reference(ty: &Type) -> Option<bool> {
    let Type::Reference(reference) = ty else {
        return None;
    };
    (last_segment_ident(&reference.elem).as_deref() == Some("Context"))
        .then_some(reference.mutability.is_some())
}

fn arity_of(ty: &Type) -> Arity {
    match last_segment_ident(ty).as_deref() {
        Some("Option") if generic_argument(ty).is_some() => Arity::Optional,
        Some("Vec") if generic_argument(ty).is_some() => Arity::Rest,
        _ => Arity::Required,
    }
}

pub(crate) fn last_segment_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().map(|s| s.ident.to_string())
        }
        Type::Group(group) => last_segment_ident(&group.elem),
        Type::Paren(paren) => last_segment_ident(&paren.elem),
        _ => None,
    }
}

/// `T` of `Option<T>` / `Vec<T>`.
pub(crate) fn generic_argument(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}
