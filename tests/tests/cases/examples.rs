//! The examples, built for `wasm32-wasip2`, served by the `nanohttp` host, over real HTTP.

use nanohttp_e2e::{BackgroundServer, Config, client, serve};

use super::wasi::example;

fn text(response: &mut ureq::http::Response<ureq::Body>) -> String {
    response.body_mut().read_to_string().expect("a UTF-8 body")
}

fn header<'a>(response: &'a ureq::http::Response<ureq::Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn demo_quick_start() {
    let server = serve(&example("demo"), &[]);
    let http = client();

    let mut home = http.get(server.url("/")).call().unwrap();
    assert_eq!(home.status(), 200);
    assert_eq!(
        header(&home, "content-type"),
        Some("text/html; charset=utf-8")
    );
    // The home page is a streamed body: no length known up front, sent chunked.
    assert_eq!(header(&home, "transfer-encoding"), Some("chunked"));
    let page = text(&mut home);
    assert!(
        page.contains("<form method=\"POST\" action=\"/tips/2\">"),
        "{page}"
    );
    assert!(page.contains("name=\"title\""), "{page}");

    let mut tips = http.get(server.url("/tips")).call().unwrap();
    assert_eq!(tips.status(), 200);
    assert_eq!(
        header(&tips, "content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        text(&mut tips),
        r#"[{"id":1,"title":"Tip 1"},{"id":2,"title":"Tip 2"},{"id":3,"title":"Tip 3"}]"#
    );

    let mut tip = http.get(server.url("/tips/2")).call().unwrap();
    assert_eq!(text(&mut tip), r#"{"id":2,"title":"Tip 2"}"#);

    let posted = http
        .post(server.url("/tips/2"))
        .send_form([("title", "A better title")])
        .unwrap();
    assert_eq!(posted.status(), 302);
    assert_eq!(header(&posted, "location"), Some("/tips/"));

    let mut missing = http.get(server.url("/tips/9")).call().unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        text(&mut missing),
        r#"{"message":"Tip 9 not found","status":404}"#
    );
}

#[test]
fn demo_http_semantics() {
    let server = serve(&example("demo"), &[]);
    let http = client();

    let mut nowhere = http.get(server.url("/nowhere")).call().unwrap();
    assert_eq!(nowhere.status(), 404);
    assert_eq!(
        header(&nowhere, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(text(&mut nowhere), "404 Not Found\n");

    let not_allowed = http.delete(server.url("/tips/2")).call().unwrap();
    assert_eq!(not_allowed.status(), 405);
    assert_eq!(
        header(&not_allowed, "allow"),
        Some("GET, POST, HEAD, OPTIONS")
    );

    let options = http.options(server.url("/tips")).call().unwrap();
    assert_eq!(options.status(), 204);
    assert_eq!(header(&options, "allow"), Some("GET, POST, HEAD, OPTIONS"));

    let mut head = http.head(server.url("/tips/2")).call().unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        header(&head, "content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(text(&mut head), "");
    // The connection survives the HEAD response (its body ended cleanly).
    let mut after = http.get(server.url("/tips/1")).call().unwrap();
    assert_eq!(text(&mut after), r#"{"id":1,"title":"Tip 1"}"#);

    let bad_query = http.get(server.url("/tips/two")).call().unwrap();
    assert_eq!(
        bad_query.status(),
        404,
        "a segment that does not parse is a 404"
    );
}

#[test]
fn demo_is_embedded_in_the_host() {
    let config =
        Config::from_args(["nanohttp", "-b", "127.0.0.1:0", "--kv", "memory:", "demo"]).unwrap();
    let server = BackgroundServer::start(config).unwrap();
    let mut tip = client().get(server.url("/tips/3")).call().unwrap();
    assert_eq!(tip.status(), 200);
    assert_eq!(text(&mut tip), r#"{"id":3,"title":"Tip 3"}"#);
}

#[test]
fn dispatch_guide() {
    let server = serve(&example("dispatch"), &[]);
    let http = client();
    let cases = [
        ("GET", "/", "<h1>i am root</h1>"),
        ("GET", "/children", "<h1>This is child controller</h1>"),
        ("GET", "/children/", "<h1>This is child controller</h1>"),
        ("GET", "/children/name", "<h1>children controller</h1>"),
        (
            "GET",
            "/children/edit/NAME",
            "<h1>children edited</h1><p>NAME</p>",
        ),
        (
            "GET",
            "/rest/5",
            "<h1>You called GET Method. (some_id=5)</h1>",
        ),
        ("DELETE", "/rest", "<h1>You called DELETE Method</h1>"),
        ("POST", "/rest", "<h1>You called POST Method</h1>"),
        ("PATCH", "/rest", "<h1>You called PATCH Method</h1>"),
        ("GET", "/rest/say_hello", "<h1>Hello!</h1>"),
        ("POST", "/rest/say_hello", "<h1>Hello!</h1>"),
        (
            "GET",
            "/regex/user/42/access_tokens",
            r#"{"installation_id":42}"#,
        ),
    ];
    for (method, path, body) in cases {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(server.url(path))
            .body(())
            .unwrap();
        let mut response = http.run(request).unwrap();
        assert_eq!(response.status(), 200, "{method} {path}");
        assert_eq!(text(&mut response), body, "{method} {path}");
    }

    let put = http.put(server.url("/rest")).send_empty().unwrap();
    assert_eq!(put.status(), 405);
    assert_eq!(
        header(&put, "allow"),
        Some("GET, DELETE, POST, PATCH, HEAD, OPTIONS")
    );
    for path in [
        "/children/edit",
        "/children/nope/x",
        "/regex/user/x/access_tokens",
    ] {
        assert_eq!(
            http.get(server.url(path)).call().unwrap().status(),
            404,
            "{path}"
        );
    }
}

#[test]
fn settings_from_files_and_overrides_reach_handlers() {
    let dir = std::env::temp_dir().join(format!("nanohttp-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("site.yml");
    std::fs::write(
        &file,
        "app:\n  page_size: 50\n  theme: dark\ndebug: false\n",
    )
    .unwrap();

    let server = serve(
        &example("config"),
        &[
            "-c",
            file.to_str().unwrap(),
            "-o",
            "debug=true",
            "-o",
            "app.theme=light",
        ],
    );
    let http = client();
    let mut page = http.get(server.url("/")).call().unwrap();
    assert!(text(&mut page).contains("debug flag is: true"));

    let mut settings = http.get(server.url("/settings")).call().unwrap();
    let settings = text(&mut settings);
    // Application defaults, then the file, then the overrides.
    for expected in [
        r#""name":"config-example""#,
        r#""page_size":50"#,
        r#""theme":"light""#,
        r#""debug":true"#,
        r#""greeting":"hello from the application defaults""#,
    ] {
        assert!(settings.contains(expected), "{expected} in {settings}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn request_bodies_arrive_whole_sized_or_chunked() {
    let server = serve(&example("dispatch"), &[]);
    let http = client();
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();

    let mut sized = http.post(server.url("/echo")).send(&body[..]).unwrap();
    assert_eq!(sized.status(), 200);
    assert_eq!(sized.body_mut().read_to_vec().unwrap(), body);

    // A reader of unknown length goes out with `Transfer-Encoding: chunked`.
    let mut chunked = http
        .post(server.url("/echo"))
        .send(ureq::SendBody::from_reader(&mut &body[..]))
        .unwrap();
    assert_eq!(chunked.status(), 200);
    assert_eq!(chunked.body_mut().read_to_vec().unwrap(), body);
}
