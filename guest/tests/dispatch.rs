//! The dispatch rules of nanohttp, run natively through the test client.

use nanohttp::cookie::{Cookie, SameSite};
use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

// ----- the dispatch guide's example -----

#[derive(Default)]
struct Children;

#[controller]
impl Children {
    #[html]
    fn index(&self) -> &'static str {
        "<h1>This is child controller</h1>"
    }

    #[html]
    fn name(&self) -> &'static str {
        "<h1>children controller</h1>"
    }

    #[html]
    fn edit(&self, name: String) -> String {
        format!("<h1>children edited: {name}</h1>")
    }
}

#[derive(Default)]
struct Guide {
    children: Children,
}

#[controller]
impl Guide {
    #[child]
    fn children(&self) -> &Children {
        &self.children
    }

    #[html]
    fn index(&self) -> &'static str {
        "<h1>i am root</h1>"
    }

    /// Not a handler: unreachable.
    #[allow(dead_code)]
    fn helper(&self) -> &'static str {
        "secret"
    }
}

impl Application for Guide {}

#[test]
fn dispatch_guide_paths() {
    let client = TestClient::new(Guide::default());
    let cases = [
        ("/", 200, "<h1>i am root</h1>"),
        ("/children", 200, "<h1>This is child controller</h1>"),
        ("/children/", 200, "<h1>This is child controller</h1>"),
        ("/children/name", 200, "<h1>children controller</h1>"),
        ("/children/edit/NAME", 200, "<h1>children edited: NAME</h1>"),
        ("/children/edit/a%20b", 200, "<h1>children edited: a b</h1>"),
        (
            "/children/edit/NAME/",
            200,
            "<h1>children edited: NAME</h1>",
        ),
    ];
    for (path, status, body) in cases {
        let response = client.get(path).send();
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (status, body),
            "{path}"
        );
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
    }
}

#[test]
fn unknown_segments_and_non_handlers_are_404() {
    let client = TestClient::new(Guide::default());
    for path in [
        "/helper",
        "/nope",
        "/children/edit",
        "/children/edit/a/b",
        "/children/name/extra",
    ] {
        let response = client.get(path).send();
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(response.text(), "404 Not Found\n");
    }
}

// ----- arity and typed arguments -----

#[derive(Default)]
struct Args;

#[controller]
impl Args {
    #[text]
    fn one(&self, id: u32) -> String {
        format!("one {id}")
    }

    #[text]
    fn opt(&self, a: u32, b: Option<u32>) -> String {
        format!("opt {a} {b:?}")
    }

    #[text]
    fn rest(&self, first: String, more: Vec<String>) -> String {
        format!("rest {first} {more:?}")
    }

    #[text]
    fn query(
        &self,
        #[query] page: Option<u32>,
        #[query] tag: Vec<String>,
        #[query("q")] search: Option<String>,
    ) -> String {
        format!("query {page:?} {tag:?} {search:?}")
    }

    #[text]
    fn needs(&self, #[query] limit: u8) -> String {
        format!("needs {limit}")
    }
}

impl Application for Args {}

#[test]
fn arity_and_typed_arguments() {
    let client = TestClient::new(Args);
    let cases = [
        ("/one/7", 200, "one 7"),
        ("/one", 404, "404 Not Found\n"),
        ("/one/7/8", 404, "404 Not Found\n"),
        ("/one/x", 404, "404 Not Found\n"),
        ("/one/-1", 404, "404 Not Found\n"),
        ("/opt/1", 200, "opt 1 None"),
        ("/opt/1/2", 200, "opt 1 Some(2)"),
        ("/opt/1/2/3", 404, "404 Not Found\n"),
        ("/opt/1/b", 404, "404 Not Found\n"),
        ("/rest/a", 200, "rest a []"),
        ("/rest/a/b/c", 200, "rest a [\"b\", \"c\"]"),
        ("/rest", 404, "404 Not Found\n"),
    ];
    for (path, status, body) in cases {
        let response = client.get(path).send();
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (status, body),
            "{path}"
        );
    }
}

#[test]
fn query_arguments() {
    let client = TestClient::new(Args);
    let cases = [
        ("/query", 200, "query None [] None"),
        (
            "/query?page=2&tag=a&tag=b&q=x+y",
            200,
            "query Some(2) [\"a\", \"b\"] Some(\"x y\")",
        ),
        ("/query?page=", 200, "query None [] None"),
        (
            "/query?page=two",
            400,
            "400 Invalid value for query parameter: page\n",
        ),
        ("/query?tag=a&tag=", 200, "query None [\"a\"] None"),
        ("/needs?limit=5", 200, "needs 5"),
        ("/needs", 400, "400 Missing query parameter: limit\n"),
        (
            "/needs?limit=300",
            400,
            "400 Invalid value for query parameter: limit\n",
        ),
    ];
    for (path, status, body) in cases {
        let response = client.get(path).send();
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (status, body),
            "{path}"
        );
    }
}

#[test]
fn malformed_path_is_400() {
    let client = TestClient::new(Args);
    let response = client.get("/one/%FF").send();
    assert_eq!(response.status, 400);
    assert_eq!(response.text(), "400 Malformed Path\n");
}

// ----- REST controller -----

#[derive(Default)]
struct Rest;

#[rest_controller]
impl Rest {
    #[html]
    fn say_hello(&self) -> &'static str {
        "<h1>Hello!</h1>"
    }

    #[html]
    fn get(&self, some_id: u32) -> String {
        format!("<h1>You called GET Method. (some_id={some_id})</h1>")
    }

    #[html]
    fn delete(&self) -> &'static str {
        "<h1>You called DELETE Method</h1>"
    }

    #[html]
    fn post(&self) -> &'static str {
        "<h1>You called POST Method</h1>"
    }

    #[html]
    fn list(&self) -> &'static str {
        "<h1>custom LIST verb</h1>"
    }
}

impl Application for Rest {}

#[test]
fn rest_verbs() {
    let client = TestClient::new(Rest);
    let cases = [
        (
            "GET",
            "/5",
            200,
            "<h1>You called GET Method. (some_id=5)</h1>",
        ),
        ("GET", "/", 404, "404 Not Found\n"),
        ("DELETE", "/", 200, "<h1>You called DELETE Method</h1>"),
        ("POST", "/", 200, "<h1>You called POST Method</h1>"),
        ("LIST", "/", 200, "<h1>custom LIST verb</h1>"),
        ("GET", "/say_hello", 200, "<h1>Hello!</h1>"),
        ("POST", "/say_hello", 200, "<h1>Hello!</h1>"),
        ("DELETE", "/5", 404, "404 Not Found\n"),
    ];
    for (method, path, status, body) in cases {
        let response = client.request(method, path).send();
        assert_eq!(
            (response.status.as_u16(), response.text()),
            (status, body),
            "{method} {path}"
        );
    }
}

#[test]
fn rest_missing_verb_is_405_with_allow() {
    let client = TestClient::new(Rest);
    let response = client.patch("/").send();
    assert_eq!(response.status, 405);
    assert_eq!(
        response.header("allow"),
        Some("GET, DELETE, POST, HEAD, OPTIONS")
    );
    let response = client.options("/").send();
    assert_eq!(response.status, 204);
    assert_eq!(
        response.header("allow"),
        Some("GET, DELETE, POST, HEAD, OPTIONS")
    );
    assert!(response.body.is_empty());
}

#[test]
fn rest_head_answers_like_get_without_body() {
    let client = TestClient::new(Rest);
    let get = client.get("/5").send();
    let head = client.head("/5").send();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), get.header("content-length"));
    assert_eq!(head.header("content-type"), get.header("content-type"));
}

// ----- verbs on handlers, 404 before 405 -----

#[derive(Default)]
struct Verbs;

#[controller]
impl Verbs {
    #[text("POST", "put")]
    fn submit(&self, id: u32) -> String {
        format!("submitted {id}")
    }

    #[text("GET")]
    fn show(&self) -> &'static str {
        "shown"
    }

    #[text]
    fn any(&self) -> &'static str {
        "any"
    }
}

impl Application for Verbs {}

#[test]
fn verb_restrictions() {
    let client = TestClient::new(Verbs);
    assert_eq!(client.post("/submit/1").send().text(), "submitted 1");
    assert_eq!(client.put("/submit/1").send().text(), "submitted 1");

    let response = client.get("/submit/1").send();
    assert_eq!(response.status, 405);
    assert_eq!(response.header("allow"), Some("POST, PUT, OPTIONS"));

    // Arity is checked before the verb: a wrong argument count is 404 whatever the verb.
    assert_eq!(client.get("/submit").send().status, 404);
    assert_eq!(client.get("/submit/1/2").send().status, 404);

    let head = client.head("/show").send();
    assert_eq!((head.status.as_u16(), head.body.len()), (200, 0));
    assert_eq!(head.header("content-length"), Some("5"));

    let options = client.options("/show").send();
    assert_eq!(options.status, 204);
    assert_eq!(options.header("allow"), Some("GET, HEAD, OPTIONS"));

    let options = client.options("/any").send();
    assert_eq!(
        options.status, 200,
        "a handler for any verb answers OPTIONS itself"
    );
    assert_eq!(client.delete("/any").send().text(), "any");
}

// ----- trailing slashes -----

#[derive(Default)]
struct Strict;

#[controller(remove_trailing_slash = false)]
impl Strict {
    #[text]
    fn item(&self, id: String) -> String {
        format!("item {id:?}")
    }
}

#[derive(Default)]
struct SlashRoot {
    strict: Strict,
}

#[controller]
impl SlashRoot {
    #[child]
    fn strict(&self) -> &Strict {
        &self.strict
    }

    #[text]
    fn item(&self, id: String) -> String {
        format!("item {id:?}")
    }
}

impl Application for SlashRoot {}

#[test]
fn trailing_slash_is_configurable_per_controller() {
    let client = TestClient::new(SlashRoot::default());
    assert_eq!(client.get("/item/1/").send().text(), "item \"1\"");
    assert_eq!(client.get("/strict/item/1").send().text(), "item \"1\"");
    assert_eq!(client.get("/strict/item/1/").send().status, 404);
    assert_eq!(client.get("/strict/item/").send().text(), "item \"\"");
}

// ----- regex routes -----

#[derive(Default)]
struct Regex;

#[regex_controller]
impl Regex {
    #[json]
    #[route(r"/user/(?P<installation_id>\d+)/access_tokens")]
    fn access_tokens(&self, installation_id: u32) -> serde_json::Value {
        serde_json::json!({ "installation_id": installation_id })
    }

    #[text]
    #[route(r"/files/(\w+)\.(txt|md)")]
    fn file(&self, stem: String, extension: String) -> String {
        format!("{stem} {extension}")
    }

    #[text("GET")]
    #[route(r"/page(?:/(?P<number>\d+))?")]
    fn page(&self, number: Option<u8>) -> String {
        format!("page {number:?}")
    }
}

impl Application for Regex {}

#[test]
fn regex_routes() {
    let client = TestClient::new(Regex);
    let response = client.get("/user/42/access_tokens").send();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json(), serde_json::json!({"installation_id": 42}));
    assert_eq!(
        response.header("content-type"),
        Some("application/json; charset=utf-8")
    );

    assert_eq!(client.get("/files/readme.md").send().text(), "readme md");
    assert_eq!(client.get("/page").send().text(), "page None");
    assert_eq!(client.get("/page/3/").send().text(), "page Some(3)");
    // A capture that does not parse is a 404, as for path segments.
    assert_eq!(client.get("/page/300").send().status, 404);
    // Patterns match the whole remaining path.
    assert_eq!(client.get("/user/42/access_tokens/more").send().status, 404);
    assert_eq!(client.get("/x/user/42/access_tokens").send().status, 404);
    let response = client.post("/page").send();
    assert_eq!(response.status, 405);
    assert_eq!(response.header("allow"), Some("GET, HEAD, OPTIONS"));
}

// ----- responses and statuses -----

#[derive(Default)]
struct Responses;

const PDF: &str = "application/pdf";

#[controller]
impl Responses {
    #[json]
    fn tip(&self, id: u32) -> Result<serde_json::Value, HttpStatus> {
        if id > 3 {
            return Err(HttpStatus::not_found().with_reason(format!("Tip {id} not found")));
        }
        Ok(serde_json::json!({"id": id, "title": format!("Tip {id}")}))
    }

    #[json]
    fn items(&self) -> Vec<u32> {
        vec![1, 2, 3]
    }

    #[action(content_type = PDF)]
    fn pdf(&self) -> &'static [u8] {
        b"%PDF-1.4"
    }

    #[binary]
    fn raw(&self) -> Vec<u8> {
        vec![0, 1, 2]
    }

    #[xml]
    fn feed(&self) -> &'static str {
        "<feed/>"
    }

    #[action]
    fn plain(&self) -> &'static str {
        "no type"
    }

    #[action(encoding = "latin-1", content_type = "text/csv")]
    fn csv(&self) -> &'static str {
        "a,b"
    }

    #[text]
    fn created(&self, ctx: &mut Context) -> &'static str {
        ctx.set_status(201);
        ctx.set_header("x-created", "yes").unwrap();
        "made"
    }

    #[text]
    fn redirect(&self, ctx: &mut Context) -> Result<Redirect, HttpStatus> {
        ctx.set_header("x-kept", "1")?;
        ctx.set_cookie(Cookie::new("flash", "moved"));
        Ok(Redirect::found("/tips/"))
    }

    #[text]
    fn custom(&self) -> Result<String, HttpStatus> {
        Err(HttpStatus::new(603, "Custom Status"))
    }

    #[text]
    fn empty(&self) -> Result<&'static str, HttpStatus> {
        Err(HttpStatus::no_content())
    }

    #[text]
    fn not_modified(&self, ctx: &mut Context) -> &'static str {
        ctx.set_status(304);
        "ignored"
    }

    #[json]
    fn json_error(&self) -> Result<u32, HttpStatus> {
        Err(HttpStatus::unprocessable_entity().with_reason("Bad name"))
    }

    #[json]
    fn json_detail(&self) -> Result<u32, HttpStatus> {
        Err(HttpStatus::internal_server_error().with_detail("the \"db\" is down"))
    }

    #[text]
    fn nothing(&self) {}

    #[text]
    fn maybe(&self, found: bool) -> Option<&'static str> {
        found.then_some("found")
    }

    #[text]
    fn panics(&self) -> &'static str {
        panic!("secret internals")
    }

    #[text]
    fn typed_pdf(&self, ctx: &mut Context) -> &'static str {
        ctx.set_content_type("application/pdf");
        ctx.set_encoding(None);
        "%PDF"
    }
}

impl Application for Responses {}

#[test]
fn content_types_of_action_markers() {
    let client = TestClient::new(Responses);
    let cases = [
        ("/tip/2", Some("application/json; charset=utf-8")),
        ("/items", Some("application/json; charset=utf-8")),
        ("/pdf", Some("application/pdf; charset=utf-8")),
        ("/raw", Some("application/octet-stream")),
        ("/feed", Some("application/xml; charset=utf-8")),
        ("/plain", None),
        ("/csv", Some("text/csv; charset=latin-1")),
        ("/typed_pdf", Some("application/pdf")),
    ];
    for (path, content_type) in cases {
        let response = client.get(path).send();
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.header("content-type"), content_type, "{path}");
    }
    assert_eq!(
        client.get("/items").send().json(),
        serde_json::json!([1, 2, 3])
    );
    assert_eq!(client.get("/raw").send().body, [0, 1, 2]);
}

#[test]
fn statuses() {
    let client = TestClient::new(Responses);

    let response = client.get("/tip/9").send();
    assert_eq!(response.status, 404);
    assert_eq!(
        response.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        response.json(),
        serde_json::json!({"status": 404, "message": "Tip 9 not found"})
    );

    let response = client.get("/created").send();
    assert_eq!((response.status.as_u16(), response.text()), (201, "made"));
    assert_eq!(response.header("x-created"), Some("yes"));

    let response = client.get("/redirect").send();
    assert_eq!(response.status, 302);
    assert_eq!(response.header("location"), Some("/tips/"));
    assert_eq!(
        response.header("x-kept"),
        Some("1"),
        "headers survive redirects"
    );
    assert_eq!(
        response.header("set-cookie"),
        Some("flash=moved"),
        "cookies survive redirects"
    );

    let response = client.get("/custom").send();
    assert_eq!(response.status, 603);
    assert_eq!(response.text(), "603 Custom Status\n");

    for path in ["/empty", "/not_modified"] {
        let response = client.get(path).send();
        assert!(response.body.is_empty(), "{path}");
        assert_eq!(response.header("content-length"), None, "{path}");
    }

    let response = client.get("/nothing").send();
    assert_eq!((response.status.as_u16(), response.body.len()), (200, 0));
    assert_eq!(response.header("content-length"), Some("0"));

    assert_eq!(client.get("/maybe/true").send().text(), "found");
    assert_eq!(client.get("/maybe/false").send().status, 404);
}

#[test]
fn panics_are_500_without_details_unless_debug() {
    let client = TestClient::new(Responses);
    let response = client.get("/panics").send();
    assert_eq!(response.status, 500);
    assert_eq!(response.text(), "500 Internal Server Error\n");

    let client = TestClient::with_settings(Responses, r#"{"debug": true}"#).unwrap();
    let response = client.get("/panics").send();
    assert_eq!(response.status, 500);
    assert!(
        response
            .text()
            .contains("handler panicked: secret internals"),
        "{}",
        response.text()
    );

    let response = client.get("/json_error").send();
    assert_eq!(
        response.json(),
        serde_json::json!({"status": 422, "message": "Bad name"})
    );
    let response = client.get("/json_detail").send();
    assert_eq!(
        response.text(),
        r#"{"error":"the \"db\" is down","message":"Internal Server Error","status":500}"#
    );
    let client = TestClient::new(Responses);
    let response = client.get("/json_detail").send();
    assert_eq!(
        response.text(),
        r#"{"message":"Internal Server Error","status":500}"#
    );
}

// ----- streaming -----

#[derive(Default)]
struct Streams {
    lines: Vec<String>,
}

#[controller]
impl Streams {
    #[text]
    fn lines(&self) -> Stream<impl Iterator<Item = &str>> {
        Stream(self.lines.iter().map(String::as_str))
    }

    #[text]
    fn fails_first(&self) -> Stream<impl Iterator<Item = Result<String, HttpStatus>>> {
        Stream((0..3).map(|i| {
            if i == 0 {
                Err(HttpStatus::forbidden())
            } else {
                Ok(format!("{i}"))
            }
        }))
    }

    #[text]
    fn fails_later(&self) -> Stream<impl Iterator<Item = Result<String, HttpStatus>>> {
        Stream((0..3).map(|i| {
            if i == 2 {
                Err(HttpStatus::internal_server_error())
            } else {
                Ok(format!("{i}\n"))
            }
        }))
    }

    #[text]
    fn panics_first(&self) -> Stream<impl Iterator<Item = String>> {
        Stream((0..1).map(|_| -> String { panic!("boom") }))
    }

    #[text]
    fn empty(&self) -> Stream<Vec<String>> {
        Stream(Vec::new())
    }
}

impl Application for Streams {}

#[test]
fn streamed_bodies() {
    let client = TestClient::new(Streams {
        lines: vec!["a\n".into(), "b\n".into(), "c\n".into()],
    });
    let response = client.get("/lines").send();
    assert_eq!(
        (response.status.as_u16(), response.text()),
        (200, "a\nb\nc\n")
    );
    assert_eq!(response.chunks, 3);
    assert_eq!(response.header("content-length"), None);

    let response = client.get("/fails_first").send();
    assert_eq!(
        (response.status.as_u16(), response.text()),
        (403, "403 Forbidden\n")
    );

    let response = client.get("/fails_later").send();
    assert_eq!((response.status.as_u16(), response.text()), (200, "0\n1\n"));
    assert_eq!(response.broken_off.map(|e| e.code()), Some(500));

    assert_eq!(client.get("/panics_first").send().status, 500);

    let response = client.get("/empty").send();
    assert_eq!((response.status.as_u16(), response.body.len()), (200, 0));

    let head = client.head("/lines").send();
    assert_eq!((head.status.as_u16(), head.body.len()), (200, 0));
}

// ----- context, cookies, hooks -----

#[derive(Clone)]
struct Identity(String);

#[derive(Default)]
struct Hooked {
    init_greeting: String,
}

#[controller]
impl Hooked {
    #[text]
    fn index(&self, ctx: &mut Context) -> String {
        ctx.set_cookie(
            Cookie::build(("session", "abc"))
                .path("/")
                .max_age(nanohttp::cookie::time::Duration::seconds(60))
                .same_site(SameSite::Strict)
                .domain("example.com")
                .build(),
        );
        ctx.set_cookie(Cookie::build(("plain", "1")).http_only(false).build());
        let who = ctx
            .values()
            .get::<Identity>()
            .map_or("nobody".into(), |i| i.0.clone());
        format!("{} {who}", self.init_greeting)
    }

    #[text]
    fn echo(&self, ctx: &Context) -> String {
        format!(
            "{} {} {:?} {:?} {}",
            ctx.verb(),
            ctx.path(),
            ctx.header("x-test"),
            ctx.cookie("theme"),
            String::from_utf8_lossy(ctx.body().unwrap())
        )
    }

    #[text]
    fn setting(&self, ctx: &Context, key: String) -> String {
        format!("{:?}", ctx.settings().get(&key))
    }
}

impl Application for Hooked {
    const SETTINGS: &'static str = nanohttp::yaml!("greeting: hello\ncookie: {http_only: true}");

    fn app_init(&mut self, settings: &Settings) {
        self.init_greeting = settings.get_as("greeting").unwrap();
    }

    fn begin_request(&self, ctx: &mut Context) -> Result<(), HttpStatus> {
        match ctx.header("authorization") {
            Some("Bearer good") => {
                ctx.values_mut().insert(Identity("alice".into()));
                ctx.set_header("x-new-jwt-token", "refreshed")?;
            }
            Some(_) => return Err(HttpStatus::unauthorized()),
            None => {}
        }
        Ok(())
    }

    fn begin_response(&self, ctx: &mut Context) {
        let status = ctx.status().as_u16().to_string();
        ctx.set_header("x-status-seen", status).unwrap();
        assert!(
            ctx.header("x-break-begin-response").is_none(),
            "begin_response broke"
        );
    }

    fn end_response(&self, ctx: &mut Context) {
        assert!(
            ctx.header("x-break-end-response").is_none(),
            "end_response broke"
        );
    }
}

#[test]
fn failing_response_hooks_cost_only_their_request() {
    let client = TestClient::new(Hooked::default());
    let broken = client.get("/").header("x-break-begin-response", "1").send();
    assert_eq!(
        (broken.status.as_u16(), broken.text()),
        (500, "500 Internal Server Error\n")
    );
    let late = client.get("/").header("x-break-end-response", "1").send();
    assert_eq!((late.status.as_u16(), late.text()), (200, "hello nobody"));
    assert_eq!(client.get("/").send().status, 200);
}

#[test]
fn hooks_identity_and_cookies() {
    let client = TestClient::new(Hooked::default());
    let response = client
        .get("/")
        .header("authorization", "Bearer good")
        .send();
    assert_eq!(response.text(), "hello alice");
    assert_eq!(response.header("x-new-jwt-token"), Some("refreshed"));
    assert_eq!(response.header("x-status-seen"), Some("200"));
    let cookies = response.header_all("set-cookie");
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(cookies[0].starts_with("session=abc"), "{cookies:?}");
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Domain=example.com",
        "Max-Age=60",
    ] {
        assert!(cookies[0].contains(attribute), "{attribute} in {cookies:?}");
    }
    assert_eq!(
        cookies[1], "plain=1",
        "an explicit http_only(false) wins over the setting"
    );

    let response = client.get("/").header("authorization", "Bearer bad").send();
    assert_eq!(response.status, 401);
    assert_eq!(response.header("x-status-seen"), Some("401"));

    assert_eq!(client.get("/").send().text(), "hello nobody");
}

#[test]
fn request_cookies_are_not_echoed() {
    let client = TestClient::new(Hooked::default());
    let response = client
        .post("/echo?x=1")
        .header("x-test", "yes")
        .header("cookie", "theme=dark; other=1")
        .body("payload")
        .send();
    assert_eq!(
        response.text(),
        "post /echo Some(\"yes\") Some(\"dark\") payload"
    );
    assert!(response.header("set-cookie").is_none());
}

#[test]
fn settings_layers_reach_handlers() {
    let client = TestClient::with_settings(
        Hooked::default(),
        r#"{"greeting": "hi", "db": {"pool": 3}}"#,
    )
    .unwrap();
    assert_eq!(client.get("/").send().text(), "hi nobody");
    assert_eq!(
        client.get("/setting/db").send().text(),
        "Some(Object {\"pool\": Number(3)})"
    );
    assert_eq!(
        client.get("/setting/debug").send().text(),
        "Some(Bool(false))"
    );
}
