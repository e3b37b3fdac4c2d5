//! Validate: the rules a route must keep, checked on the AST, each error pointing at the token
//! that breaks it. Every route is checked, so one bad handler does not hide the others.

use syn::{FnArg, ReturnType, Signature, Type};

use crate::ast::{Arity, Child, Controller, Errors, Handler, Kind, Source, unraw};

pub(crate) fn controller(controller: &Controller, errors: &mut Errors) {
    if let Some((_, path, _)) = &controller.item.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "controller attributes go on an inherent `impl` block, not a trait impl",
        ));
    }
    for child in &controller.children {
        if let Err(error) = self::child(child) {
            errors.push(error);
        }
    }
    for handler in &controller.handlers {
        if let Err(error) = self::handler(controller.kind, handler) {
            errors.push(error);
        }
    }
    unique_segments(controller, errors);
}

fn unique_segments(controller: &Controller, errors: &mut Errors) {
    let mut seen: Vec<&str> = Vec::new();
    let names = controller
        .children
        .iter()
        .map(|c| (&c.segment, &c.sig.ident))
        .chain(controller.handlers.iter().map(|h| (&h.segment, h.method())));
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

fn child(child: &Child) -> syn::Result<()> {
    let sig = &child.sig;
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
    Ok(())
}

/// A handler's first broken rule, in the order a reader meets them.
fn handler(kind: Kind, handler: &Handler) -> syn::Result<()> {
    verbs(handler)?;
    signature(&handler.sig)?;
    params(handler)?;
    if let Some(route) = &handler.route {
        let groups = route.groups(handler);
        if let Some((param, _)) = handler.positional().zip(groups).find(|(_, g)| g.is_none()) {
            let wanted = unraw(&param.name);
            return Err(syn::Error::new(
                param.name.span(),
                format!(
                    "the route has no capture group named `{wanted}` and no unnamed group left for it"
                ),
            ));
        }
    }
    let rest_param = handler
        .params
        .iter()
        .find(|p| matches!(p.source, Source::Positional(Arity::Rest)));
    if let Some(param) = rest_param.filter(|_| kind == Kind::Regex) {
        return Err(syn::Error::new_spanned(
            &param.ty,
            "regex routes bind captures to parameters; a rest parameter (`Vec<T>`) has no capture to read",
        ));
    }
    Ok(())
}

fn verbs(handler: &Handler) -> syn::Result<()> {
    for verb in &handler.verbs {
        let value = verb.value();
        let token = value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if value.is_empty() || !token {
            return Err(syn::Error::new(
                verb.span(),
                "a verb is a token such as \"GET\" or \"LIST\"",
            ));
        }
    }
    Ok(())
}

fn signature(sig: &Signature) -> syn::Result<()> {
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

/// Positional parameters go required, optional, rest; only the context is a reference.
fn params(handler: &Handler) -> syn::Result<()> {
    let mut last_positional: Option<Arity> = None;
    for param in &handler.params {
        if let Source::Positional(arity) = param.source {
            match last_positional {
                Some(Arity::Rest) => {
                    return Err(syn::Error::new_spanned(
                        &param.ty,
                        "no positional parameter can follow the rest parameter (`Vec<T>`); mark query parameters with `#[query]`",
                    ));
                }
                Some(Arity::Optional) if arity == Arity::Required => {
                    return Err(syn::Error::new_spanned(
                        &param.ty,
                        "a required positional parameter cannot follow an optional one (`Option<T>`)",
                    ));
                }
                _ => {}
            }
            last_positional = Some(arity);
        }
        if let (Type::Reference(_), Source::Positional(_) | Source::Query { .. }) =
            (&param.ty, &param.source)
        {
            return Err(syn::Error::new_spanned(
                &param.ty,
                "unsupported handler parameter: expected `&Context`/`&mut Context`, or an owned type parsed from the path or query (`String`, `u32`, `Option<T>`, `Vec<T>`)",
            ));
        }
    }
    Ok(())
}
