//! The AST: an `impl` block read into routes (children and handlers) with their parameters.
//! Built from what `attr.rs` read; an error here means the item cannot be understood at all,
//! whereas `valid.rs` checks the rules a well-formed route must keep.

use syn::{
    Attribute, FnArg, GenericArgument, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr, Pat,
    PathArguments, ReturnType, Signature, Type,
};

use crate::attr::{ControllerOptions, FnAttrs, Guards, Marker, MarkerArgs, QueryAttr, child_name};

/// Which dispatcher the `impl` block gets.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Controller,
    Rest,
    Regex,
}

/// Everything the expansion needs.
pub(crate) struct Controller {
    /// The block as written, our attributes removed.
    pub(crate) item: ItemImpl,
    pub(crate) kind: Kind,
    pub(crate) options: ControllerOptions,
    pub(crate) children: Vec<Child>,
    pub(crate) handlers: Vec<Handler>,
}

/// A child controller: `#[child] fn tips(&self) -> &Tips`.
pub(crate) struct Child {
    pub(crate) segment: String,
    pub(crate) sig: Signature,
}

/// A handler: a method marked with an action marker (or `#[route]` in a regex controller).
pub(crate) struct Handler {
    pub(crate) segment: String,
    pub(crate) sig: Signature,
    pub(crate) marker: Marker,
    /// The verbs as written, or none for any verb.
    pub(crate) verbs: Vec<LitStr>,
    /// An expression of type `&'static str`, or `None` for the marker's default.
    pub(crate) content_type: Option<syn::Expr>,
    /// `None`: the marker's default; `Some(None)`: no charset; `Some(Some(e))`: that charset.
    pub(crate) encoding: Option<Option<syn::Expr>>,
    pub(crate) max_body_size: Option<syn::Expr>,
    pub(crate) guards: Guards,
    pub(crate) params: Vec<Param>,
    pub(crate) returns: Returns,
    pub(crate) route: Option<Route>,
}

impl Handler {
    pub(crate) fn method(&self) -> &Ident {
        &self.sig.ident
    }

    pub(crate) fn has_default_charset(&self) -> bool {
        self.marker != Marker::Binary
    }

    pub(crate) fn positional(&self) -> impl Iterator<Item = &Param> {
        self.params
            .iter()
            .filter(|p| matches!(p.source, Source::Positional(_)))
    }

    /// Where errors about the return value point: the return type, or the name.
    pub(crate) fn return_span(&self) -> proc_macro2::Span {
        match &self.sig.output {
            ReturnType::Type(_, ty) => syn::spanned::Spanned::span(&**ty),
            ReturnType::Default => self.sig.ident.span(),
        }
    }
}

/// A regular-expression route of a regex controller.
pub(crate) struct Route {
    pub(crate) pattern: LitStr,
    /// The name of each capture group, by index (group 0 is the whole match).
    names: Vec<Option<String>>,
}

impl Route {
    /// The group each positional parameter reads, in parameter order: the group of its name,
    /// or else the next unnamed one; `None` when there is neither.
    pub(crate) fn groups(&self, handler: &Handler) -> Vec<Option<usize>> {
        let mut unnamed = (1..self.names.len()).filter(|&i| self.names[i].is_none());
        handler
            .positional()
            .map(|param| {
                let wanted = unraw(&param.name);
                self.names
                    .iter()
                    .position(|n| n.as_deref() == Some(wanted.as_str()))
                    .or_else(|| unnamed.next())
            })
            .collect()
    }

    /// The pattern anchored to the whole remaining path.
    pub(crate) fn anchored(&self) -> String {
        format!("^(?:{})$", self.pattern.value())
    }
}

/// How the handler's return value becomes a body.
pub(crate) enum Returns {
    /// Any `Reply`; also `()`.
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

/// Reads the block; items that cannot be understood are left out and reported.
pub(crate) fn parse(
    kind: Kind,
    options: ControllerOptions,
    mut item: ItemImpl,
    errors: &mut Errors,
) -> Controller {
    let mut children = Vec::new();
    let mut handlers = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(function) = impl_item else {
            continue;
        };
        match parse_function(kind, function) {
            Ok(Some(Route_::Child(child))) => children.push(*child),
            Ok(Some(Route_::Handler(handler))) => handlers.push(*handler),
            Ok(None) => {}
            Err(error) => errors.push(error),
        }
    }
    Controller {
        item,
        kind,
        options,
        children,
        handlers,
    }
}

enum Route_ {
    Child(Box<Child>),
    Handler(Box<Handler>),
}

/// What a method is: a child, a handler or neither, its attributes removed from it.
fn parse_function(kind: Kind, function: &mut ImplItemFn) -> syn::Result<Option<Route_>> {
    let FnAttrs {
        marker,
        child,
        route,
        queries,
    } = FnAttrs::take(function)?;
    if let Some(attr) = child {
        if let Some((_, marker_attr)) = &marker {
            return Err(syn::Error::new_spanned(
                marker_attr,
                "a child controller cannot also be a handler",
            ));
        }
        let segment = child_name(&attr)?.unwrap_or_else(|| function.sig.ident.to_string());
        return Ok(Some(Route_::Child(Box::new(Child {
            segment,
            sig: function.sig.clone(),
        }))));
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
            if let Some((attr, _)) = queries.into_iter().flatten().next() {
                return Err(syn::Error::new_spanned(
                    attr,
                    "`#[query]` is for handler parameters; mark the method as a handler (`#[action]`, `#[json]`, ...)",
                ));
            }
            return Ok(None);
        }
    };
    let args = MarkerArgs::of(marker_attr.as_ref())?;
    let handler = handler(&function.sig, marker, args, route.as_ref(), queries)?;
    Ok(Some(Route_::Handler(Box::new(handler))))
}

fn handler(
    sig: &Signature,
    marker: Marker,
    args: MarkerArgs,
    route: Option<&Attribute>,
    queries: Vec<QueryAttr>,
) -> syn::Result<Handler> {
    let params = params(sig, queries)?;
    let returns = match (&sig.output, marker) {
        (ReturnType::Type(_, ty), Marker::Json) => match last_segment_ident(ty).as_deref() {
            Some("Result" | "Option") => Returns::JsonInside,
            Some("Json") => Returns::Reply,
            _ => Returns::JsonValue,
        },
        _ => Returns::Reply,
    };
    let route = match route {
        Some(attr) => Some(parse_route(attr)?),
        None => None,
    };
    Ok(Handler {
        segment: args
            .name
            .map_or_else(|| unraw(&sig.ident), |name| name.value()),
        sig: sig.clone(),
        marker,
        verbs: args.verbs,
        content_type: args.content_type,
        encoding: args.encoding,
        max_body_size: args.max_body_size,
        guards: args.guards,
        params,
        returns,
        route,
    })
}

/// The parameters after `&self`: the context, a query argument, or a positional one.
fn params(sig: &Signature, queries: Vec<QueryAttr>) -> syn::Result<Vec<Param>> {
    let mut params = Vec::new();
    let mut queries = queries.into_iter();
    for input in sig.inputs.iter() {
        let FnArg::Typed(pat_type) = input else {
            continue;
        };
        let query = queries.next().flatten();
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
            Source::Positional(arity_of(&ty))
        };
        params.push(Param { name, ty, source });
    }
    Ok(params)
}

fn parse_route(attr: &Attribute) -> syn::Result<Route> {
    let pattern: LitStr = attr.parse_args()?;
    let regex = regex_lite::Regex::new(&format!("^(?:{})$", pattern.value())).map_err(|error| {
        syn::Error::new(
            pattern.span(),
            format!("invalid regular expression: {error}"),
        )
    })?;
    let names = regex
        .capture_names()
        .map(|n| n.map(str::to_owned))
        .collect();
    Ok(Route { pattern, names })
}

/// An identifier as text, without `r#`.
pub(crate) fn unraw(ident: &Ident) -> String {
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

fn last_segment_ident(ty: &Type) -> Option<String> {
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
