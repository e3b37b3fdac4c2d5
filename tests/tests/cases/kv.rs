//! `nanohttp::kv` end to end: every operation on each backend (memory, the embedded file,
//! Redis), the limits, bad keys, unknown buckets, a `kill -9` of the host (the embedded store
//! keeps every acknowledged write), two host processes on one embedded file and a Redis outage (`503`, the host keeps serving, and
//! recovers). Redis is a `redis-server` the test starts on a free port.

use std::time::{Duration, Instant};

use nanohttp_e2e::services::{HostProcess, Redis};
use nanohttp_e2e::{Scratch, client, metric, serve};

use super::wasi::{component, example};

const HOST: &str = env!("CARGO_BIN_EXE_nanohttp-e2e-host");

/// Small limits, two buckets, and `debug` so that error bodies carry their reason.
const SETTINGS: &str = "debug: true
host:
  kv:
    buckets: [default, second]
    max_key_size: 64
    max_value_size: 4KiB
    list_page_size: 3
    max_operations: 50
    timeout: 1s
";

struct Api {
    base: String,
    http: ureq::Agent,
}

impl Api {
    fn new(base: String) -> Self {
        Self {
            base,
            http: client(),
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        let mut response = self
            .http
            .get(format!("{}{path}", self.base))
            .call()
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    fn post_form(&self, path: &str, body: &str) -> (u16, String) {
        let mut response = self
            .http
            .post(format!("{}{path}", self.base))
            .content_type("application/x-www-form-urlencoded")
            .send(body)
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    fn post(&self, path: &str, body: &str) -> (u16, String) {
        let mut response = self
            .http
            .post(format!("{}{path}", self.base))
            .send(body)
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }
}

fn ok(text: &str) -> (u16, String) {
    (200, text.to_owned())
}

fn assert_error(answer: (u16, String), status: u16, reason: &str) {
    assert_eq!(answer.0, status, "{answer:?}");
    assert!(
        answer.1.contains(reason),
        "{answer:?} should mention {reason:?}"
    );
}

/// Every operation, the limits and the errors, against a host serving `kvops` with
/// [`SETTINGS`]; `exact_pages`: the backend's pages hold at most `list_page_size` keys (a
/// Redis `SCAN` takes it as a hint).
fn exercise(api: &Api, exact_pages: bool) {
    // get / set / exists / delete
    assert_eq!(api.get("/get/default/a").0, 404);
    assert_eq!(api.get("/exists/default/a"), ok("false"));
    assert_eq!(api.post("/set/default/a", "one"), ok("stored"));
    assert_eq!(api.get("/get/default/a"), ok("one"));
    assert_eq!(api.post("/set/default/a", "two"), ok("stored"));
    assert_eq!(api.get("/get/default/a"), ok("two"));
    assert_eq!(api.get("/exists/default/a"), ok("true"));
    assert_eq!(api.get("/get/second/a").0, 404, "buckets are separate");
    assert_eq!(api.post("/delete/default/a", ""), ok("deleted"));
    assert_eq!(api.get("/exists/default/a"), ok("false"));
    assert_eq!(
        api.post("/delete/default/a", ""),
        ok("deleted"),
        "deleting nothing is fine"
    );
    assert_eq!(api.post("/set/default/empty", ""), ok("stored"));
    assert_eq!(api.get("/get/default/empty"), ok(""));
    assert_eq!(api.get("/exists/default/empty"), ok("true"));

    // list keys, page by page
    for n in 1..=7 {
        assert_eq!(
            api.post(&format!("/set/second/k{n}"), &format!("v{n}")).0,
            200
        );
    }
    let all: Vec<String> = (1..=7).map(|n| format!("k{n}")).collect();
    let (status, keys) = api.get("/keys/second");
    assert_eq!(status, 200, "{keys}");
    assert_eq!(serde_json::from_str::<Vec<String>>(&keys).unwrap(), all);
    let mut seen = Vec::new();
    let mut cursor: Option<u64> = None;
    let mut pages = 0;
    loop {
        let path = match cursor {
            Some(c) => format!("/list/second?cursor={c}"),
            None => "/list/second".to_owned(),
        };
        let (status, page) = api.get(&path);
        assert_eq!(status, 200, "{page}");
        let page: serde_json::Value = serde_json::from_str(&page).unwrap();
        let keys = page["keys"].as_array().unwrap();
        if exact_pages {
            assert!(keys.len() <= 3, "{page}");
        }
        seen.extend(keys.iter().map(|k| k.as_str().unwrap().to_owned()));
        pages += 1;
        match page["cursor"].as_u64() {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 100, "the cursor never ends");
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen, all);
    if exact_pages {
        assert_eq!(pages, 3);
    }

    // atomic increment
    assert_eq!(api.post("/incr/default/count", ""), ok("1"));
    assert_eq!(api.post("/incr/default/count?delta=41", ""), ok("42"));
    assert_eq!(api.post("/incr/default/count?delta=0", ""), ok("42"));
    assert_eq!(
        api.get("/get/default/count"),
        ok("42"),
        "counters are decimal text"
    );
    assert_eq!(api.post("/set/default/word", "hello"), ok("stored"));
    assert_error(api.post("/incr/default/word", ""), 500, "");

    // batches
    let (status, values) = api.post("/get_many/second", r#"["k1", "nope", "k2"]"#);
    assert_eq!(status, 200, "{values}");
    assert_eq!(values, r#"["v1",null,"v2"]"#);
    assert_eq!(
        api.post("/set_many/default", r#"{"m1": "x", "m2": "y"}"#),
        ok("stored")
    );
    assert_eq!(
        api.post("/get_many/default", r#"["m1", "m2"]"#),
        ok(r#"["x","y"]"#)
    );
    assert_eq!(
        api.post("/delete_many/default", r#"["m1", "m2", "never"]"#),
        ok("deleted")
    );
    assert_eq!(
        api.post("/get_many/default", r#"["m1", "m2"]"#),
        ok("[null,null]")
    );
    assert_eq!(api.post("/get_many/default", "[]"), ok("[]"));

    // unknown bucket
    assert_error(api.get("/get/third/a"), 500, "no such key-value bucket");
    assert_error(
        api.post("/set/third/a", "x"),
        500,
        "no such key-value bucket",
    );

    // bad keys and limits
    assert_error(api.get("/empty_key"), 500, "invalid key");
    assert_eq!(api.get("/key/64"), ok("None"));
    assert_error(api.get("/key/65"), 500, "limit: a key of 65 bytes");
    assert_error(api.get("/key/100000"), 500, "limit: a key of 100000 bytes");
    assert_eq!(api.post("/value/4096", ""), ok("stored"));
    assert_error(
        api.post("/value/4097", ""),
        500,
        "limit: a value of 4097 bytes",
    );
    assert_error(
        api.post(
            "/set_many/default",
            &format!(r#"{{"ok": "x", "{}": "y"}}"#, "k".repeat(65)),
        ),
        500,
        "limit",
    );
    assert_eq!(
        api.get("/get/default/ok").0,
        404,
        "a refused batch writes nothing"
    );
    assert_eq!(
        api.get("/ops/49"),
        ok("49 operations"),
        "open is free, 49 + 1 more is fine"
    );
    assert_eq!(
        api.get("/ops/49"),
        ok("49 operations"),
        "each request has its own budget"
    );
    assert_error(api.get("/ops/51"), 500, "more than 50 key-value operations");
    // Keys are WIT strings: a path that is not UTF-8 never reaches the store.
    let (status, _) = api.get("/get/default/%FF%FE");
    assert!((400..500).contains(&status), "{status}");
}

fn settings(scratch: &Scratch) -> String {
    scratch
        .write("settings.yml", SETTINGS)
        .display()
        .to_string()
}

#[test]
fn memory_backend() {
    let scratch = Scratch::new("kv-memory");
    let server = serve(
        &component("nanohttp-fixture-kvops"),
        &[
            "-c",
            &settings(&scratch),
            "--kv",
            "memory:",
            "--admin-bind",
            "127.0.0.1:0",
        ],
    );
    exercise(&Api::new(format!("http://{}", server.addr())), true);
    // Counted by operation and result (at least: the metrics are the process's, and other
    // tests' hosts count into them too).
    for op in ["set", "get", "increment", "list_keys"] {
        let series = format!("nanohttp_kv_operations_total{{op=\"{op}\",result=\"ok\"}}");
        assert!(metric(&server, &series) >= 1.0, "{series}");
    }
}

#[test]
fn embedded_backend() {
    let scratch = Scratch::new("kv-embedded");
    let file = scratch.path().join("data/kv.redb");
    let server = serve(
        &component("nanohttp-fixture-kvops"),
        &[
            "-c",
            &settings(&scratch),
            "--kv",
            &format!("file:{}", file.display()),
        ],
    );
    exercise(&Api::new(format!("http://{}", server.addr())), true);
    assert!(file.is_file(), "the store is the file asked for");
}

#[test]
fn redis_backend() {
    let redis = Redis::start("backend");
    let scratch = Scratch::new("kv-redis");
    let server = serve(
        &component("nanohttp-fixture-kvops"),
        &["-c", &settings(&scratch), "--kv", &redis.url()],
    );
    exercise(&Api::new(format!("http://{}", server.addr())), false);
}

/// Polls `f` until it is true or `limit` passes.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn redis_outage_is_503_and_the_host_recovers() {
    let mut redis = Redis::start("outage");
    let scratch = Scratch::new("kv-outage");
    let server = serve(
        &component("nanohttp-fixture-kvops"),
        &["-c", &settings(&scratch), "--kv", &redis.url()],
    );
    let api = Api::new(format!("http://{}", server.addr()));
    assert_eq!(api.post("/set/default/a", "before"), ok("stored"));

    redis.stop();
    let started = Instant::now();
    let (status, body) = api.get("/get/default/a");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("unavailable"), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by host.kv.timeout"
    );
    let response = client().get(server.url("/get/default/a")).call().unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers().get("retry-after").unwrap(), "1");
    assert_eq!(
        api.get("/"),
        ok("kvops"),
        "requests that need no store still succeed"
    );
    assert_eq!(api.post("/set/default/a", "during").0, 503);

    redis.resume();
    assert!(
        eventually(Duration::from_secs(15), || api
            .post("/set/default/a", "after")
            .0
            == 200),
        "the host reconnects once Redis is back"
    );
    assert_eq!(api.get("/get/default/a"), ok("after"));
}

#[test]
fn redis_down_at_start_up_only_fails_requests_that_need_it() {
    let mut redis = Redis::start("late");
    redis.stop();
    let scratch = Scratch::new("kv-late");
    let server = serve(
        &component("nanohttp-fixture-kvops"),
        &["-c", &settings(&scratch), "--kv", &redis.url()],
    );
    let api = Api::new(format!("http://{}", server.addr()));
    assert_eq!(api.get("/"), ok("kvops"));
    assert_eq!(api.get("/get/default/a").0, 503);
    redis.resume();
    assert!(eventually(Duration::from_secs(15), || {
        api.post("/set/default/a", "x").0 == 200
    }));
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let scratch = Scratch::new("kv-kill");
    let file = format!("file:{}", scratch.path().join("kv.redb").display());
    let kvops = component("nanohttp-fixture-kvops");
    let kvops = kvops.to_str().unwrap();
    let host = HostProcess::start(HOST, &["--kv", &file, kvops], &scratch.path().join("1.log"));
    let api = Api::new(format!("http://{}", host.addr()));
    for n in 0..50 {
        assert_eq!(
            api.post(&format!("/set/default/key{n}"), &format!("value {n}")),
            ok("stored")
        );
    }
    assert_eq!(api.post("/incr/default/count?delta=7", ""), ok("7"));
    // Straight after the last acknowledgement: no shutdown, nothing flushed on the way out.
    host.kill();

    let host = HostProcess::start(HOST, &["--kv", &file, kvops], &scratch.path().join("2.log"));
    let api = Api::new(format!("http://{}", host.addr()));
    for n in 0..50 {
        assert_eq!(
            api.get(&format!("/get/default/key{n}")),
            ok(&format!("value {n}"))
        );
    }
    assert_eq!(api.post("/incr/default/count?delta=0", ""), ok("7"));
}

#[test]
fn the_demo_remembers_in_the_default_store_across_kill_9() {
    // No --kv: the embedded store in the default place, under XDG_DATA_HOME.
    let scratch = Scratch::new("kv-demo");
    let data = scratch.path().join("data");
    let start =
        |log: &str| HostProcess::demo_with_default_store(HOST, &data, &scratch.path().join(log));
    let host = start("1.log");
    let api = Api::new(format!("http://{}", host.addr()));
    let (status, _) = api.post_form("/tips/2", "title=Remembered+%3Ctip%3E");
    assert_eq!(status, 302);
    assert_eq!(
        api.get("/tips/2"),
        ok(r#"{"id":2,"title":"Remembered <tip>"}"#)
    );
    host.kill();
    assert!(data.join("nanohttp/kv.redb").is_file());

    let host = start("2.log");
    let api = Api::new(format!("http://{}", host.addr()));
    assert_eq!(
        api.get("/tips/2"),
        ok(r#"{"id":2,"title":"Remembered <tip>"}"#)
    );
    let (status, list) = api.get("/tips");
    assert_eq!(status, 200);
    assert!(
        list.contains(r#"{"id":2,"title":"Remembered <tip>"}"#),
        "{list}"
    );
    assert!(list.contains(r#"{"id":1,"title":"Tip 1"}"#), "{list}");
    assert!(api.get("/").1.contains("Remembered &lt;tip&gt;"));
}

#[test]
fn two_processes_share_one_embedded_file() {
    let scratch = Scratch::new("kv-shared-file");
    let file = format!("file:{}", scratch.path().join("kv.redb").display());
    let kvops = component("nanohttp-fixture-kvops");
    let kvops = kvops.to_str().unwrap();
    let start =
        |log: &str| HostProcess::start(HOST, &["--kv", &file, kvops], &scratch.path().join(log));
    let (one, two) = (start("1.log"), start("2.log"));
    let (one, two) = (
        Api::new(format!("http://{}", one.addr())),
        Api::new(format!("http://{}", two.addr())),
    );
    assert_eq!(one.post("/set/default/shared", "from one"), ok("stored"));
    assert_eq!(two.get("/get/default/shared"), ok("from one"));
    assert_eq!(two.post("/set/default/shared", "from two"), ok("stored"));
    assert_eq!(one.get("/get/default/shared"), ok("from two"));
    // Increments from both processes at once: one write transaction at a time, none lost.
    let threads: Vec<_> = [one, two]
        .into_iter()
        .map(|api| {
            std::thread::spawn(move || {
                for _ in 0..100 {
                    assert_eq!(api.post("/incr/default/both", "").0, 200);
                }
                api
            })
        })
        .collect();
    let apis: Vec<Api> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(apis[1].post("/incr/default/both?delta=0", ""), ok("200"));
}

#[test]
fn a_host_whose_guest_keeps_no_state_creates_no_file() {
    let scratch = Scratch::new("kv-no-file");
    let file = scratch.path().join("sub/kv.redb");
    let server = serve(
        &example("hello"),
        &["--kv", &format!("file:{}", file.display())],
    );
    assert_eq!(client().get(server.url("/")).call().unwrap().status(), 200);
    drop(server);
    assert!(!file.exists() && !file.parent().unwrap().exists());
}

#[test]
fn an_embedded_file_that_cannot_be_opened_is_503_not_a_crash() {
    let scratch = Scratch::new("kv-bad-file");
    // A directory where the file should be.
    let file = scratch.path().join("kv.redb");
    std::fs::create_dir_all(&file).unwrap();
    let server = serve(
        &component("nanohttp-fixture-kvops"),
        &[
            "-o",
            "debug=true",
            "--kv",
            &format!("file:{}", file.display()),
        ],
    );
    let api = Api::new(format!("http://{}", server.addr()));
    let (status, body) = api.get("/get/default/a");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("cannot open the key-value store"), "{body}");
    assert_eq!(api.get("/"), ok("kvops"));
}

#[test]
fn todo_on_the_embedded_store() {
    let scratch = Scratch::new("kv-todo");
    let file = format!("file:{}", scratch.path().join("kv.redb").display());
    let server = serve(&example("todo"), &["--kv", &file]);
    todo_round_trip(&format!("http://{}", server.addr()));
}

#[test]
fn todo_on_redis() {
    let redis = Redis::start("todo");
    let server = serve(&example("todo"), &["--kv", &redis.url()]);
    todo_round_trip(&format!("http://{}", server.addr()));
}

/// The to-do API's life cycle over HTTP.
pub(crate) fn todo_round_trip(base: &str) {
    let http = client();
    let url = |path: &str| format!("{base}{path}");
    let mut created = http
        .post(url("/todos"))
        .content_type("application/json")
        .send(r#"{"title": "Buy milk"}"#)
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    let body: serde_json::Value =
        serde_json::from_str(&created.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["title"], "Buy milk");
    let mut read = http.get(url(&location)).call().unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(read.headers()["etag"], etag.as_str());
    assert!(
        read.body_mut()
            .read_to_string()
            .unwrap()
            .contains("Buy milk")
    );

    let updated = http
        .put(url(&location))
        .header("if-match", &etag)
        .content_type("application/json")
        .send(r#"{"done": true}"#)
        .unwrap();
    assert_eq!(updated.status(), 200);
    assert_ne!(updated.headers()["etag"], etag.as_str());
    let stale = http
        .put(url(&location))
        .header("if-match", &etag)
        .content_type("application/json")
        .send(r#"{"done": false}"#)
        .unwrap();
    assert_eq!(stale.status(), 412);

    for n in 0..4 {
        let created = http
            .post(url("/todos"))
            .content_type("application/json")
            .send(format!(r#"{{"title": "Item {n}"}}"#))
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let mut page = http.get(url("/todos?limit=3")).call().unwrap();
    let page: serde_json::Value =
        serde_json::from_str(&page.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 3, "{page}");
    assert_eq!(page["items"][0]["done"], true);
    let next = page["next"].as_u64().unwrap();
    let mut rest = http
        .get(url(&format!("/todos?limit=3&after={next}")))
        .call()
        .unwrap();
    let rest: serde_json::Value =
        serde_json::from_str(&rest.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 2, "{rest}");
    assert_eq!(rest["next"], serde_json::Value::Null);

    assert_eq!(http.delete(url(&location)).call().unwrap().status(), 204);
    assert_eq!(http.get(url(&location)).call().unwrap().status(), 404);
}
