//! The benchmark's baseline component: `GET /` answers `Hello, world!` as
//! `text/plain; charset=utf-8`, exactly what `examples/hello` answers, written directly against
//! the `wasi:http` bindings generated from the repository's `wit/` (no framework, no `http`
//! crate, no settings, no start-up to snapshot: the `handler` world). Every other request is a
//! `404`.
//!
//! `cargo build --profile guest --target wasm32-wasip2 -p bench-raw-hello`
//! -> `target/wasm32-wasip2/guest/bench_raw_hello.wasm`.
//!
//! Natively the crate is empty, so `cargo clippy --workspace` and `cargo test --workspace`
//! build it like any other member.

#[cfg(target_arch = "wasm32")]
// The glue wit-bindgen generates for the export is `unsafe` FFI; nanohttp keeps it inside its
// own crate, which is what this baseline does without.
#[allow(unsafe_code, reason = "generated export glue")]
mod component {
    #[allow(
        unreachable_pub,
        missing_debug_implementations,
        clippy::all,
        reason = "generated code"
    )]
    mod bindings {
        wit_bindgen::generate!({
            path: "../../wit",
            world: "nanohttp:app/handler",
            generate_all,
        });
    }

    use bindings::exports::wasi::http::incoming_handler::Guest;
    use bindings::wasi::http::types::{
        Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
    };

    const HELLO: &[u8] = b"Hello, world!";
    const NOT_FOUND: &[u8] = b"404 Not Found\n";

    struct Hello;

    impl Guest for Hello {
        fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
            let hello = matches!(request.method(), Method::Get)
                && request.path_with_query().as_deref() == Some("/");
            let (status, body) = if hello {
                (200, HELLO)
            } else {
                (404, NOT_FOUND)
            };
            let length = body.len().to_string().into_bytes();
            let headers = Fields::from_list(&[
                (
                    "content-type".to_owned(),
                    b"text/plain; charset=utf-8".to_vec(),
                ),
                ("content-length".to_owned(), length),
            ])
            .expect("valid response headers");
            let response = OutgoingResponse::new(headers);
            response
                .set_status_code(status)
                .expect("a valid status code");
            let outgoing = response.body().expect("a new response's body");
            let stream = outgoing.write().expect("a new body's stream");
            ResponseOutparam::set(response_out, Ok(response));
            // At most 4096 bytes may be written at once; both bodies are far smaller.
            if stream.blocking_write_and_flush(body).is_err() {
                return; // the client went away: dropping the body tells the host
            }
            drop(stream);
            if let Err(error) = OutgoingBody::finish(outgoing, None) {
                eprintln!("cannot finish the response body: {error:?}");
            }
        }
    }

    bindings::export!(Hello with_types_in bindings);
}
