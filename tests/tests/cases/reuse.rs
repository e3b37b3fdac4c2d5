//! `nanohttp --reuse N`: one instance serves up to N requests in turn. Nothing of a request
//! reaches the next one, an instance that failed or hit a limit is discarded, and every
//! hardening and payload case (`cases/`) holds in this mode too.

use std::path::Path;

use nanohttp_e2e::BackgroundServer;

#[path = "forms.rs"]
mod forms;
#[path = "hardening.rs"]
mod hardening;

// For the shared cases: the components of the test binary's WASI version.
use super::wasi;

use hardening::{client, eventually, faulty, when_free};

/// How many requests an instance serves in the shared cases.
const REUSE: &str = "50";

/// The shared cases' server: instances reused.
fn serve(component: &Path, args: &[&str]) -> BackgroundServer {
    let args = [args, &["--reuse", REUSE]].concat();
    nanohttp_e2e::serve(component, &args)
}

/// One instance at a time, so consecutive requests meet the same instance whenever it is
/// kept.
fn one_instance(extra: &[&str]) -> BackgroundServer {
    let args = [&["--max-concurrent", "1"], extra].concat();
    serve(&faulty(), &args)
}

/// `/served`: how many requests the instance answering it has begun.
fn served(server: &BackgroundServer) -> u64 {
    let mut response = when_free(|| client().get(server.url("/served")).call());
    let body = response.body_mut().read_to_string().expect("a body");
    assert_eq!(response.status(), 200, "{body}");
    body.parse().expect("a count")
}

#[test]
fn an_instance_serves_up_to_n_requests_then_a_fresh_one_takes_over() {
    let server = nanohttp_e2e::serve(&faulty(), &["--max-concurrent", "1", "--reuse", "3"]);
    let counts: Vec<u64> = (0..7).map(|_| served(&server)).collect();
    assert_eq!(counts, [1, 2, 3, 1, 2, 3, 1]);
}

#[test]
fn without_reuse_every_request_meets_a_fresh_instance() {
    let server = nanohttp_e2e::serve(&faulty(), &["--max-concurrent", "1"]);
    let counts: Vec<u64> = (0..3).map(|_| served(&server)).collect();
    assert_eq!(counts, [1, 1, 1]);
}

#[test]
fn the_host_setting_turns_reuse_on() {
    let server = nanohttp_e2e::serve(
        &faulty(),
        &["-o", "host.reuse=2", "-o", "host.max_concurrent=1"],
    );
    let counts: Vec<u64> = (0..3).map(|_| served(&server)).collect();
    assert_eq!(counts, [1, 2, 1]);
}

#[test]
fn nothing_of_a_request_reaches_the_next_one() {
    let server = one_instance(&[]);
    let mut marked = hardening::mark(&server);
    assert_eq!(marked.status().as_u16(), 201);
    assert_eq!(marked.headers()["x-mark"], "set");
    assert!(marked.headers().contains_key("set-cookie"));
    assert_eq!(marked.body_mut().read_to_string().unwrap(), "marked");

    // The same instance (its third request) sees none of it, and sends none of it back.
    let mut look = when_free(|| client().get(server.url("/look")).call());
    assert_eq!(look.status().as_u16(), 200);
    assert!(!look.headers().contains_key("x-mark"));
    assert!(!look.headers().contains_key("set-cookie"));
    assert_eq!(
        look.body_mut().read_to_string().unwrap(),
        "identity=- cookies=- form=-"
    );
    assert_eq!(
        served(&server),
        3,
        "all three requests met the same instance"
    );
}

#[test]
fn an_instance_that_failed_or_hit_a_limit_is_discarded() {
    let server = one_instance(&["--request-timeout", "2s", "--memory-limit", "24MiB"]);
    let failures = [
        ("/panic", 500),
        ("/spin", 504),
        ("/allocate/40", 500),
        ("/stall", 200),
    ];
    for (path, status) in failures {
        let before = served(&server);
        assert_eq!(served(&server), before + 1, "kept before {path}");
        assert_eq!(get_status(&server, path), status, "{path}");
        assert_eq!(served(&server), 1, "{path} left its instance behind");
    }
}

#[test]
fn an_instance_that_read_an_oversized_body_is_discarded() {
    let server = one_instance(&["--max-body-size", "1KiB"]);
    assert_eq!(served(&server), 1);
    // Chunked, so the guest starts reading before the host finds it too large; sent raw, as
    // the host answers before reading all of it.
    let large = vec![b'x'; 64 << 10];
    // `503`: the previous request's instance is still on its way back (see `when_free`).
    let status = eventually("a slot to be free", || {
        let status = nanohttp_e2e::raw_chunked_post(server.addr(), "/size", &large).0;
        (status != 503).then_some(status)
    });
    assert_eq!(status, 413);
    assert_eq!(served(&server), 1);
}

/// The status of `path`; a body cut off by the time limit counts as read.
fn get_status(server: &BackgroundServer, path: &str) -> u16 {
    let mut response = when_free(|| client().get(server.url(path)).call());
    let _ = response.body_mut().read_to_vec();
    response.status().as_u16()
}
