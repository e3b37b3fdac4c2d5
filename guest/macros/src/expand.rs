//! Expand: the `impl` block as written (minus our attributes) plus a `Controller` impl whose
//! `dispatch` matches segments, verbs or patterns and calls library functions through the
//! framework's path (`::nanohttp`, or what `crate = "..."` names).

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::Path;
use syn::spanned::Spanned;

use crate::ast::{Arity, Controller, Handler, Kind, Returns, Source, generic_argument};

/// The framework's path with every token at `span`, so that errors in generated calls point
/// where the user's code is (a return type, a parameter type).
fn krate_at(krate: &Path, span: Span) -> TokenStream {
    krate
        .to_token_stream()
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// The `Controller` impl for a parsed block.
pub(crate) fn controller(controller: &Controller) -> TokenStream {
    let body = match controller.kind {
        Kind::Controller => object_dispatch(controller),
        Kind::Rest => rest_dispatch(controller),
        Kind::Regex => regex_dispatch(controller),
    };
    controller_impl(controller, body)
}

/// A `Controller` impl that answers 404, emitted next to compile errors so that users see the
/// error itself rather than a cascade of "`Root` is not a controller".
pub(crate) fn fallback(controller: &Controller) -> TokenStream {
    let krate = &controller.options.krate;
    controller_impl(
        controller,
        quote! {
            let _ = (__ctx, __path);
            ::core::result::Result::Err(#krate::HttpStatus::not_found())
        },
    )
}

fn controller_impl(controller: &Controller, body: TokenStream) -> TokenStream {
    let krate = &controller.options.krate;
    let item = &controller.item;
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    quote! {
        #item

        impl #impl_generics #krate::Controller for #self_ty #where_clause {
            fn dispatch<'__a>(
                &'__a self,
                __ctx: &mut #krate::Context,
                __path: &[::std::string::String],
            ) -> #krate::Outcome<'__a> {
                #body
            }
        }
    }
}

/// `match` arms sending the first segment to a child controller or a named handler.
fn segment_arms(controller: &Controller) -> Vec<TokenStream> {
    let krate = &controller.options.krate;
    let children = controller.children.iter().map(|child| {
        let segment = &child.segment;
        let method = &child.sig.ident;
        quote! {
            #segment => return #krate::Controller::dispatch(self.#method(), __ctx, __rest),
        }
    });
    let handlers = controller.handlers.iter().map(|handler| {
        let segment = &handler.segment;
        let call = call_with_segments(krate, handler);
        let args = trimmed(controller, quote! { __rest });
        quote! {
            #segment => {
                let __args = #args;
                return #call;
            }
        }
    });
    children.chain(handlers).collect()
}

fn first_segment_match(arms: &[TokenStream]) -> TokenStream {
    if arms.is_empty() {
        return TokenStream::new();
    }
    quote! {
        if let ::core::option::Option::Some((__first, __rest)) = __path.split_first() {
            match __first.as_str() {
                #(#arms)*
                _ => {}
            }
        }
    }
}

fn object_dispatch(controller: &Controller) -> TokenStream {
    let krate = &controller.options.krate;
    let segment_match = first_segment_match(&segment_arms(controller));
    let index = controller.handlers.iter().find(|h| h.segment == "index");
    let fallback = match index {
        Some(index) => {
            let call = call_with_segments(krate, index);
            let args = trimmed(controller, quote! { __path });
            quote! {
                let __args = #args;
                #call
            }
        }
        None => quote! {
            let _ = __ctx;
            ::core::result::Result::Err(#krate::HttpStatus::not_found())
        },
    };
    quote! {
        #segment_match
        #fallback
    }
}

const STANDARD_VERBS: [&str; 7] = ["get", "head", "post", "put", "patch", "delete", "options"];

fn rest_dispatch(controller: &Controller) -> TokenStream {
    let krate = &controller.options.krate;
    let segment_match = first_segment_match(&segment_arms(controller));
    let args = trimmed(controller, quote! { __path });
    let has_head = controller.handlers.iter().any(|h| h.segment == "head");
    let verb_arms = controller.handlers.iter().map(|handler| {
        let segment = &handler.segment;
        let call = call_with_segments(krate, handler);
        quote! { #segment => #call, }
    });
    let allowed: Vec<String> = controller
        .handlers
        .iter()
        .filter(|h| STANDARD_VERBS.contains(&h.segment.as_str()))
        .map(|h| h.segment.to_ascii_uppercase())
        .collect();
    quote! {
        #segment_match
        let __verb = #krate::__private::rest_verb(__ctx, #has_head);
        let __args = #args;
        match &*__verb {
            #(#verb_arms)*
            _ => #krate::__private::rest_fallback(__ctx, &[#(#allowed),*]),
        }
    }
}

fn regex_dispatch(controller: &Controller) -> TokenStream {
    let krate = &controller.options.krate;
    let count = controller.handlers.len();
    let args = trimmed(controller, quote! { __path });
    let patterns = controller.handlers.iter().map(|handler| {
        let route = handler.route.as_ref().expect("regex handlers have routes");
        let anchored = route.anchored();
        let at = krate_at(krate, route.pattern.span());
        quote_spanned! {route.pattern.span()=>
            #at::__private::Regex::new(#anchored).expect("the pattern was checked at compile time")
        }
    });
    let attempts = controller.handlers.iter().enumerate().map(|(index, handler)| {
        let call = call_with_captures(krate, handler);
        let route = handler.route.as_ref().expect("regex handlers have routes");
        let prefix = literal_prefix(&route.pattern.value());
        quote! {
            if __joined.starts_with(#prefix)
                && let ::core::option::Option::Some(__captures) = __routes[#index].captures(&__joined)
            {
                return #call;
            }
        }
    });
    quote! {
        static __ROUTES: ::std::sync::OnceLock<[#krate::__private::Regex; #count]> =
            ::std::sync::OnceLock::new();
        let __routes = __ROUTES.get_or_init(|| [#(#patterns),*]);
        let __joined = #krate::__private::join_path(#args);
        #(#attempts)*
        let _ = __ctx;
        ::core::result::Result::Err(#krate::HttpStatus::not_found())
    }
}

/// The text every match of `pattern` starts with, so most routes are ruled out by a
/// `starts_with` before the regex engine runs. Conservative: stops at the first character with a
/// meaning in regex syntax, drops a character a quantifier makes optional, and gives up on
/// alternations.
fn literal_prefix(pattern: &str) -> String {
    if pattern.contains('|') {
        return String::new();
    }
    let end = pattern
        .find(|c: char| "\\.+*?()[]{}^$#&~- \t\n".contains(c))
        .unwrap_or(pattern.len());
    let mut prefix = &pattern[..end];
    if pattern[end..].starts_with(['?', '*', '{']) {
        let last = prefix.char_indices().last().map_or(0, |(i, _)| i);
        prefix = &prefix[..last];
    }
    prefix.to_owned()
}

/// The segments a handler gets: without the empty segment of a trailing slash, unless this
/// controller keeps trailing slashes. Child controllers get the segments untrimmed and decide
/// for themselves.
fn trimmed(controller: &Controller, segments: TokenStream) -> TokenStream {
    let krate = &controller.options.krate;
    let remove = controller.options.remove_trailing_slash;
    quote! { #krate::__private::trim_trailing_slash(#segments, #remove) }
}

/// The `Action` constant describing a handler.
fn action_const(krate: &Path, handler: &Handler) -> TokenStream {
    let name = &handler.segment;
    let verbs = if handler.verbs.is_empty() {
        quote! { ::core::option::Option::None }
    } else {
        let verbs = handler.verbs.iter().map(|v| v.value().to_ascii_uppercase());
        quote! { ::core::option::Option::Some(&[#(#verbs),*]) }
    };
    let content_type = match (&handler.content_type, handler.marker.content_type()) {
        (Some(expr), _) => quote! { ::core::option::Option::Some(#expr) },
        (None, Some(default)) => quote! { ::core::option::Option::Some(#default) },
        (None, None) => quote! { ::core::option::Option::None },
    };
    let encoding = match &handler.encoding {
        Some(Some(expr)) => quote! { ::core::option::Option::Some(#expr) },
        Some(None) => quote! { ::core::option::Option::None },
        None if handler.has_default_charset() => quote! { ::core::option::Option::Some("utf-8") },
        None => quote! { ::core::option::Option::None },
    };
    let count = |arity| {
        handler
            .positional()
            .filter(|p| matches!(p.source, Source::Positional(a) if a == arity))
            .count()
    };
    let required = count(Arity::Required);
    let optional = count(Arity::Optional);
    let rest = count(Arity::Rest) > 0;
    let max_body_size = match &handler.max_body_size {
        Some(expr) => quote! { ::core::option::Option::Some(#expr) },
        None => quote! { ::core::option::Option::None },
    };
    let guards = guards(krate, handler);
    quote! {
        const __ACTION: #krate::__private::Action = #krate::__private::Action {
            name: #name,
            verbs: #verbs,
            content_type: #content_type,
            encoding: #encoding,
            required: #required,
            optional: #optional,
            rest: #rest,
            max_body_size: #max_body_size,
            guards: #guards,
        };
    }
}

fn guards(krate: &Path, handler: &Handler) -> TokenStream {
    let guards = &handler.guards;
    if guards.prevent_form.is_none()
        && guards.prevent_empty_form.is_none()
        && guards.form_whitelist.is_none()
    {
        return quote! { ::core::option::Option::None };
    }
    let some = |line: &Option<String>| match line {
        Some(line) => quote! { ::core::option::Option::Some(#line) },
        None => quote! { ::core::option::Option::None },
    };
    let prevent_form = some(&guards.prevent_form);
    let prevent_empty_form = some(&guards.prevent_empty_form);
    let form_whitelist = match &guards.form_whitelist {
        Some((names, status)) => {
            let status = some(status);
            quote! { ::core::option::Option::Some((&[#(#names),*], #status)) }
        }
        None => quote! { ::core::option::Option::None },
    };
    quote! {
        ::core::option::Option::Some(|__ctx: &#krate::Context| {
            #krate::__private::Guards {
                prevent_form: #prevent_form,
                prevent_empty_form: #prevent_empty_form,
                form_whitelist: #form_whitelist,
            }
            .check(__ctx)
        })
    }
}

/// Calls a handler whose positional arguments are the segments in `__args`.
fn call_with_segments(krate: &Path, handler: &Handler) -> TokenStream {
    let mut index = 0usize;
    let positional = handler.positional().map(|param| {
        let Source::Positional(arity) = param.source else {
            unreachable!("positional() yields positional parameters")
        };
        let ty = &param.ty;
        let at = krate_at(krate, ty.span());
        let value = match arity {
            Arity::Required => quote_spanned! {ty.span()=> #at::__private::path_arg::<#ty>(&__args[#index])? },
            Arity::Optional => {
                let inner = generic_argument(ty).expect("Option<T> has an argument");
                quote_spanned! {ty.span()=> #at::__private::path_opt::<#inner>(__args.get(#index))? }
            }
            Arity::Rest => {
                let inner = generic_argument(ty).expect("Vec<T> has an argument");
                quote_spanned! {ty.span()=> #at::__private::path_rest::<#inner>(__args.get(#index..).unwrap_or(&[]))? }
            }
        };
        index += 1;
        value
    });
    let positional: Vec<TokenStream> = positional.collect();
    let arg_count = quote! { __args.len() };
    call(krate, handler, arg_count, positional)
}

/// Calls a regex route's handler whose positional arguments are capture groups of `__captures`.
fn call_with_captures(krate: &Path, handler: &Handler) -> TokenStream {
    let route = handler.route.as_ref().expect("regex handlers have routes");
    let positional = handler
        .positional()
        .zip(route.groups(handler))
        .map(|(param, group)| {
            let group = group.expect("valid.rs checked every parameter has a group");
            let ty = &param.ty;
            let at = krate_at(krate, ty.span());
            match param.source {
                Source::Positional(Arity::Optional) => {
                    let inner = generic_argument(ty).expect("Option<T> has an argument");
                    quote_spanned! {ty.span()=> #at::__private::capture_opt::<#inner>(&__captures, #group)? }
                }
                _ => quote_spanned! {ty.span()=> #at::__private::capture_arg::<#ty>(&__captures, #group)? },
            }
        })
        .collect();
    // A matching pattern has the arity it needs: captures are not counted.
    call(krate, handler, quote! { __ACTION.required }, positional)
}

fn call(
    krate: &Path,
    handler: &Handler,
    arg_count: TokenStream,
    positional: Vec<TokenStream>,
) -> TokenStream {
    let action = action_const(krate, handler);
    let method = handler.method();
    let mut positional = positional.into_iter();
    let mut lets = Vec::new();
    let mut args = Vec::new();
    for (i, param) in handler.params.iter().enumerate() {
        let var = format_ident!("__arg{}", i);
        let ty = &param.ty;
        match &param.source {
            Source::Context { mutable: true } => args.push(quote! { __ctx }),
            Source::Context { mutable: false } => args.push(quote! { &*__ctx }),
            Source::Positional(_) => {
                let value = positional
                    .next()
                    .expect("one value per positional parameter");
                lets.push(quote! { let #var: #ty = #value; });
                args.push(quote! { #var });
            }
            Source::Query { key, arity } => {
                let at = krate_at(krate, ty.span());
                let value = match arity {
                    Arity::Required => {
                        quote_spanned! {ty.span()=> #at::__private::query_required::<#ty>(__ctx, #key)? }
                    }
                    Arity::Optional => {
                        let inner = generic_argument(ty).expect("Option<T> has an argument");
                        quote_spanned! {ty.span()=> #at::__private::query_opt::<#inner>(__ctx, #key)? }
                    }
                    Arity::Rest => {
                        let inner = generic_argument(ty).expect("Vec<T> has an argument");
                        quote_spanned! {ty.span()=> #at::__private::query_vec::<#inner>(__ctx, #key)? }
                    }
                };
                lets.push(quote! { let #var: #ty = #value; });
                args.push(quote! { #var });
            }
        }
    }
    let reply = match handler.returns {
        Returns::Reply => quote! { __returned },
        Returns::JsonValue => quote! { #krate::Json(__returned) },
        Returns::JsonInside => quote! { __returned.map(#krate::Json) },
    };
    let at = krate_at(krate, handler.return_span());
    let into_body = quote_spanned! {handler.return_span()=>
        #at::Reply::into_body(#reply, __ctx)
    };
    // An `async` handler runs to its end here: the framework answers once it has.
    let returned = match handler.sig.asyncness {
        Some(_) => quote! { #krate::future::block_on(self.#method(#(#args),*)) },
        None => quote! { self.#method(#(#args),*) },
    };
    quote! {{
        #action
        #krate::__private::invoke(__ctx, &__ACTION, #arg_count, |__ctx: &mut #krate::Context| {
            #(#lets)*
            let __returned = #returned;
            #into_body
        })
    }}
}

#[cfg(test)]
mod tests {
    use super::literal_prefix;

    #[test]
    fn literal_prefixes() {
        let cases = [
            (r"/user/(?P<id>\d+)/tokens", "/user/"),
            (r"/pages?/(\d+)", "/page"),
            (r"/files/a.txt", "/files/a"),
            (r"/a|/b", ""),
            (r"(?i)/user", ""),
            (r"/x{2}", "/"),
            (r"/plain", "/plain"),
            (r"/caf\u{e9}", "/caf"),
            (r"", ""),
        ];
        for (pattern, prefix) in cases {
            assert_eq!(literal_prefix(pattern), prefix, "{pattern}");
        }
    }
}
