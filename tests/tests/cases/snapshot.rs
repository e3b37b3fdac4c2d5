//! The start-up snapshot: the host runs a component's start-up (settings, `app_init`) once at
//! load and makes every request's fresh instance from the state it left. Each request still
//! gets an instance of its own: nothing one request leaves behind reaches the next, while what
//! the start-up made is there in all of them. A start-up the host cannot snapshot (it keeps a
//! handle, or fails) is run by each instance itself, as with `--no-snapshot`. A reload takes a
//! new snapshot; the compile cache keeps one per component.

use std::time::Duration;

use nanohttp_e2e::BackgroundServer;

use super::hardening::{client, faulty, mark};

/// The body of a `200` answer to `GET path`.
#[track_caller]
fn ok_text(server: &BackgroundServer, path: &str) -> String {
    let mut response = client().get(server.url(path)).call().expect("a response");
    let body = response.body_mut().read_to_string().expect("a whole body");
    assert_eq!(response.status(), 200, "GET {path}: {body}");
    body
}

/// When the application that answers the next request started (`/started`), taken by three
/// requests a few milliseconds apart (each with a fresh instance: the host's default).
fn start_times(server: &BackgroundServer) -> Vec<u64> {
    (0..3)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(5));
            ok_text(server, "/started").parse().expect("nanoseconds")
        })
        .collect()
}

/// That each of three fresh instances served by `server` ran the start-up itself.
#[track_caller]
fn assert_a_start_up_per_instance(server: &BackgroundServer) {
    let started = start_times(server);
    assert!(
        started.windows(2).all(|pair| pair[0] < pair[1]),
        "a start-up per instance: {started:?}"
    );
}

#[test]
fn every_fresh_instance_starts_from_one_start_up_and_none_sees_another_requests_state() {
    let server = nanohttp_e2e::serve(&faulty(), &[]);
    let started = start_times(&server);
    assert!(started[0] > 0, "app_init ran: {started:?}");
    assert!(
        started.iter().all(|&at| at == started[0]),
        "one start-up for all instances: {started:?}"
    );
    // Each request counts itself in a static (`begin_request`) and leaves per-request
    // traces behind; the next one, from the same snapshot, sees neither.
    for _ in 0..3 {
        assert_eq!(ok_text(&server, "/served"), "1");
    }
    assert_eq!(mark(&server).status(), 201);
    assert_eq!(
        ok_text(&server, "/look"),
        "identity=- cookies=- form=-",
        "nothing of the previous request"
    );
}

#[test]
fn without_a_snapshot_each_instance_runs_the_start_up() {
    let server = nanohttp_e2e::serve(&faulty(), &["--no-snapshot"]);
    assert_a_start_up_per_instance(&server);
    assert_eq!(ok_text(&server, "/served"), "1");
}

#[test]
fn a_start_up_that_keeps_a_handle_is_run_by_each_instance() {
    // Writing to stderr leaves the guest holding the stream: no snapshot, and still served.
    let server = nanohttp_e2e::serve(&faulty(), &["-o", "print_at_start=true"]);
    assert_a_start_up_per_instance(&server);
    assert_eq!(ok_text(&server, "/hello"), "hello");
}

#[test]
fn a_start_up_that_panics_is_a_500_for_every_request_and_the_host_keeps_serving() {
    // The snapshot fails with the start-up; each instance then runs it, and panics, itself.
    let server = nanohttp_e2e::serve(&faulty(), &["-o", "panic_at_start=true"]);
    for _ in 0..2 {
        let mut response = client()
            .get(server.url("/hello"))
            .call()
            .expect("a response");
        assert_eq!(response.status(), 500);
        let body = response.body_mut().read_to_string().expect("a whole body");
        assert_eq!(
            body, "500 Internal Server Error\n",
            "the framework's own 500"
        );
    }
}

#[test]
fn the_compile_cache_keeps_one_snapshot_per_component_however_often_it_starts() {
    let scratch = nanohttp_e2e::Scratch::new("snapshot-cache");
    let cache = scratch.path().to_str().expect("a UTF-8 path");
    let files = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(scratch.path())
            .expect("the cache directory")
            .map(|entry| entry.expect("an entry").file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    // Each start of the faulty fixture reads the clock into its snapshot, so every load
    // makes a new one: it replaces the last. With the instrumented component, two files.
    let mut started = Vec::new();
    for _ in 0..3 {
        let server = nanohttp_e2e::serve(&faulty(), &["--cache-dir", cache]);
        started.push(ok_text(&server, "/started"));
        drop(server);
        assert_eq!(files().len(), 2, "{:?}", files());
    }
    assert!(
        started[0] != started[1] && started[1] != started[2],
        "{started:?}"
    );
    // A start-up that is the same on every load (hello's) finds its snapshot compiled.
    let hello = super::wasi::component("nanohttp-hello");
    drop(nanohttp_e2e::serve(&hello, &["--cache-dir", cache]));
    let after_first = files();
    assert_eq!(after_first.len(), 4, "{after_first:?}");
    let server = nanohttp_e2e::serve(&hello, &["--cache-dir", cache]);
    assert_eq!(ok_text(&server, "/"), "Hello, world!");
    assert_eq!(files(), after_first);
}

#[test]
fn a_reload_takes_a_new_snapshot() {
    let scratch = nanohttp_e2e::Scratch::new("snapshot-reload");
    let served = scratch.path().join("app.wasm");
    std::fs::copy(faulty(), &served).expect("a copy");
    let server = nanohttp_e2e::serve(&served, &["--reload"]);
    let first = ok_text(&server, "/started");
    assert_eq!(ok_text(&server, "/started"), first, "one snapshot");
    // The same component written again (a rebuild): a new version, started anew.
    let aside = scratch.path().join("app.wasm.new");
    std::fs::copy(faulty(), &aside).expect("a copy");
    std::fs::rename(&aside, &served).expect("the new version in place");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let second = loop {
        let now = ok_text(&server, "/started");
        if now != first {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "never reloaded");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(ok_text(&server, "/started"), second, "one snapshot again");
}
