//! The example components, unchanged, on other wasi-http runtimes: `wasmtime serve -Scli`
//! (wasmtime-cli 48.0.8) and `jco serve` answer the same requests with the same statuses,
//! headers and bodies as the `nanohttp` host. Settings reach the guest as the environment
//! variable `NANOHTTP_SETTINGS` on every runtime.
//!
//! Examples that keep state (`demo`, `todo`: `nanohttp::kv`) import `wasi:keyvalue@0.2.0-draft`:
//! wasmtime serves them with `-Skeyvalue`, whose store is in memory and per instance, so a
//! fresh, empty bucket for every request (nothing a request writes is seen by the next); jco
//! has no `wasi:keyvalue` at all and is skipped for them. Every other example imports no
//! `wasi:keyvalue` (the linker drops unused imports), which jco checks by serving it.
//!
//! The WASI 0.3 builds of `hello`, `demo`, `forms`, `todo` and `gateway` (the framework's `p3`
//! feature) answer the same on `wasmtime serve` as on the host (`*_p3` tests); jco is not
//! asked: its transpiled WASI 0.3 components need JSPI, which Debian's Node.js 20 lacks.
//!
//! `examples/config` built with the framework's `config-store` feature reads its settings from
//! `wasi:config/store` too: the `config_store_*` tests serve it on `wasmtime serve -Sconfig`.
//!
//! A runtime that is not installed is skipped with a message saying how to install it, unless
//! `NANOHTTP_REQUIRE_PORTABILITY=1` is set (as `.ci/run` does): then it is a failure.

use std::fs::File;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nanohttp_e2e::{Scratch, client, serve};
use ureq::http::Request;

/// Set to `1` to make a missing runtime a failure instead of a skip.
const REQUIRE_VAR: &str = "NANOHTTP_REQUIRE_PORTABILITY";
/// The variable the guest reads its settings from.
const SETTINGS_VAR: &str = "NANOHTTP_SETTINGS";
/// How long a runtime may take to listen: wasmtime compiles the component first, jco
/// transpiles it to JavaScript, on a busy 2-core machine.
const STARTUP: Duration = Duration::from_secs(180);
/// The response headers compared across runtimes (others, like `date`, differ by nature).
const COMPARED_HEADERS: [&str; 4] = ["content-type", "location", "allow", "etag"];
/// The examples that use `nanohttp::kv`, so import `wasi:keyvalue`.
const KV_EXAMPLES: [&str; 2] = ["demo", "todo"];

/// A wasi-http runtime other than ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runtime {
    /// `wasmtime serve -Scli`, the reference implementation of wasi-http.
    Wasmtime,
    /// `jco serve`: the component transpiled to JavaScript, run by Node.js.
    Jco,
}

const RUNTIMES: [Runtime; 2] = [Runtime::Wasmtime, Runtime::Jco];

/// The runtimes that serve WASI 0.3 components.
const P3_RUNTIMES: [Runtime; 1] = [Runtime::Wasmtime];

/// Which build of an example is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wasi {
    P2,
    P3,
}

impl Wasi {
    fn example(self, name: &str) -> std::path::PathBuf {
        match self {
            Wasi::P2 => nanohttp_e2e::p2::example(name),
            Wasi::P3 => nanohttp_e2e::p3::example(name),
        }
    }
}

impl Runtime {
    fn program(self) -> &'static str {
        match self {
            Runtime::Wasmtime => "wasmtime",
            Runtime::Jco => "jco",
        }
    }

    fn install_hint(self) -> &'static str {
        match self {
            Runtime::Wasmtime => "cargo install wasmtime-cli@48.0.8 --locked",
            Runtime::Jco => "npm install -g @bytecodealliance/jco",
        }
    }

    /// The runtime's version line, or `None` (after saying so, once) if it is not installed.
    ///
    /// # Panics
    /// If it is not installed and `NANOHTTP_REQUIRE_PORTABILITY=1`.
    fn installed(self) -> Option<&'static str> {
        static WASMTIME: OnceLock<Option<String>> = OnceLock::new();
        static JCO: OnceLock<Option<String>> = OnceLock::new();
        let cell = match self {
            Runtime::Wasmtime => &WASMTIME,
            Runtime::Jco => &JCO,
        };
        let version = cell.get_or_init(|| {
            let version = Command::new(self.program())
                .arg("--version")
                .stdin(Stdio::null())
                .output()
                .ok()
                .filter(|output| output.status.success())
                .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
            if version.is_none() && !required() {
                // Straight to the process's stderr: the test harness hides what passing tests
                // print, and a skip must be visible.
                let _ = writeln!(
                    std::io::stderr(),
                    "portability: `{}` not found, its checks are SKIPPED. Install it with \
                     `{}`; set {REQUIRE_VAR}=1 to make this a failure.",
                    self.program(),
                    self.install_hint(),
                );
            }
            version
        });
        assert!(
            version.is_some() || !required(),
            "`{}` is not installed and {REQUIRE_VAR}=1: install it with `{}`",
            self.program(),
            self.install_hint(),
        );
        version.as_deref()
    }

    /// The command serving `component` on `addr`, with `settings` (the guest's text, passed
    /// as it is) in the guest's `NANOHTTP_SETTINGS`. `scratch` holds jco's transpiled code.
    fn command(
        self,
        component: &Path,
        addr: SocketAddr,
        settings: Option<&str>,
        scratch: &Path,
        kv: bool,
    ) -> Command {
        let mut command = Command::new(self.program());
        match self {
            Runtime::Wasmtime => {
                // `-Scli`: Rust's std and the settings make the guest import more of wasi:cli
                // than the proxy world has (environment, exit, terminal-*); `--env` is the
                // only variable the guest sees besides wasmtime's own `INSTANCE_ID`.
                command.args(["serve", "-Scli", "--addr", &addr.to_string()]);
                if kv {
                    // wasi:keyvalue, in memory, per instance.
                    command.arg("-Skeyvalue");
                }
                if let Some(settings) = settings {
                    command.arg(format!("--env={SETTINGS_VAR}={settings}"));
                }
            }
            Runtime::Jco => {
                // jco hands the guest the whole environment of the Node.js process and has no
                // option to set a variable: clear it but for what `#!/usr/bin/env node` needs.
                command
                    .args(["serve", "--host", &addr.ip().to_string()])
                    .args(["--port", &addr.port().to_string()])
                    // Its own directory (not a temporary one left behind when it is killed).
                    .arg("--jco-dir")
                    .arg(scratch.join("jco"))
                    .env_clear()
                    .envs(std::env::var_os("PATH").map(|path| ("PATH", path)));
                if let Some(settings) = settings {
                    command.env(SETTINGS_VAR, settings);
                }
            }
        }
        command.arg(component);
        command
    }
}

fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|value| value == "1")
}

/// A runtime serving one component; killed, with its child processes, on drop.
#[derive(Debug)]
struct Served {
    runtime: Runtime,
    child: Child,
    addr: SocketAddr,
    scratch: Scratch,
}

impl Served {
    /// Starts `runtime` on a free loopback port and waits until it accepts connections.
    ///
    /// # Panics
    /// If it exits or does not listen within [`STARTUP`]; the message holds its output.
    fn start(runtime: Runtime, wasi: Wasi, name: &str, settings: Option<&str>) -> Self {
        let scratch = scratch(&format!("{name}-{}", runtime.program()));
        let addr = free_port();
        let command = runtime.command(
            &wasi.example(name),
            addr,
            settings,
            scratch.path(),
            KV_EXAMPLES.contains(&name),
        );
        Self::spawn(runtime, command, addr, scratch)
    }

    /// Runs `command`, which serves on `addr`, and waits until it accepts connections.
    fn spawn(runtime: Runtime, mut command: Command, addr: SocketAddr, scratch: Scratch) -> Self {
        let log = scratch.path().join("output.log");
        let output = File::create(&log).expect("a log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("a second log handle"))
            .stderr(output)
            // A group of its own, so that dropping it also ends jco's Node.js child.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", runtime.program()));
        let mut served = Self {
            runtime,
            child,
            addr,
            scratch,
        };
        served.wait_until_listening();
        served
    }

    fn wait_until_listening(&mut self) {
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                panic!(
                    "{} exited ({status}) before listening on {}:\n{}",
                    self.runtime.program(),
                    self.addr,
                    self.output()
                );
            }
            assert!(
                started.elapsed() < STARTUP,
                "{} is not listening on {} after {STARTUP:?}:\n{}",
                self.runtime.program(),
                self.addr,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the runtime printed so far.
    fn output(&self) -> String {
        std::fs::read_to_string(self.scratch.path().join("output.log")).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // The whole process group: jco serve runs the component in a second Node.js process.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch directory of its own: tests run in parallel, some with the same example.
fn scratch(label: &str) -> Scratch {
    static CREATED: AtomicUsize = AtomicUsize::new(0);
    let count = CREATED.fetch_add(1, Ordering::Relaxed);
    Scratch::new(&format!("portability-{label}-{count}"))
}

/// A loopback address nothing listens on now (the runtime binds it right after).
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
}

/// One request of a scenario.
#[derive(Debug, Clone, Copy)]
struct Probe {
    method: &'static str,
    path: &'static str,
    /// The content type and body; `None` sends no body.
    body: Option<(&'static str, &'static [u8])>,
}

const fn get(path: &'static str) -> Probe {
    request("GET", path)
}

const fn request(method: &'static str, path: &'static str) -> Probe {
    Probe {
        method,
        path,
        body: None,
    }
}

const fn post(path: &'static str, content_type: &'static str, body: &'static [u8]) -> Probe {
    Probe {
        method: "POST",
        path,
        body: Some((content_type, body)),
    }
}

/// What is compared of a response.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Probe {
    fn send(self, addr: SocketAddr) -> Answer {
        let url = format!("http://{addr}{}", self.path);
        let builder = Request::builder().method(self.method).uri(url);
        let http = client();
        let sent = match self.body {
            Some((content_type, body)) => http.run(
                builder
                    .header("content-type", content_type)
                    .body(body)
                    .expect("a valid request"),
            ),
            None => http.run(builder.body(()).expect("a valid request")),
        };
        let mut response =
            sent.unwrap_or_else(|e| panic!("{} {} on {addr}: {e}", self.method, self.path));
        let headers = COMPARED_HEADERS
            .into_iter()
            .filter_map(|name| {
                let value = response.headers().get(name)?;
                Some((name, String::from_utf8_lossy(value.as_bytes()).into_owned()))
            })
            .collect();
        let body = response
            .body_mut()
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{} {}: the body: {e}", self.method, self.path));
        Answer {
            status: response.status().as_u16(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}

/// Serves example `name` with `settings` on the `nanohttp` host, then on each installed
/// runtime, sends every probe to each, and asserts that every runtime answers exactly as the
/// host did. Returns the host's answers, one per probe, for absolute checks.
fn same_everywhere(name: &str, settings: Option<&str>, probes: &[Probe]) -> Vec<Answer> {
    same_on(&RUNTIMES, name, settings, &[], probes)
}

/// [`same_everywhere`] on `runtimes` only, with `host_args` for the `nanohttp` host too.
fn same_on(
    runtimes: &[Runtime],
    name: &str,
    settings: Option<&str>,
    host_args: &[&str],
    probes: &[Probe],
) -> Vec<Answer> {
    same_for(Wasi::P2, runtimes, name, settings, host_args, probes)
}

/// [`same_on`] for the `wasi` build of the example.
fn same_for(
    wasi: Wasi,
    runtimes: &[Runtime],
    name: &str,
    settings: Option<&str>,
    host_args: &[&str],
    probes: &[Probe],
) -> Vec<Answer> {
    let scratch = scratch(&format!("{name}-nanohttp"));
    let mut args: Vec<String> = settings
        .map(|yaml| {
            let file = scratch.write("settings.yml", yaml);
            vec!["-c".to_owned(), file.display().to_string()]
        })
        .unwrap_or_default();
    args.extend(host_args.iter().map(|arg| (*arg).to_owned()));
    let host = serve(
        &wasi.example(name),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let expected: Vec<Answer> = probes.iter().map(|probe| probe.send(host.addr())).collect();
    drop(host);

    for &runtime in runtimes {
        if runtime.installed().is_none() {
            continue;
        }
        if runtime == Runtime::Jco && KV_EXAMPLES.contains(&name) {
            let _ = writeln!(
                std::io::stderr(),
                "portability: {name} skipped on jco, which has no wasi:keyvalue"
            );
            continue;
        }
        let served = Served::start(runtime, wasi, name, settings);
        for (probe, expected) in probes.iter().zip(&expected) {
            let answer = probe.send(served.addr);
            assert_eq!(
                &answer,
                expected,
                "{name}: {} {} on {} differs from the nanohttp host; its output:\n{}",
                probe.method,
                probe.path,
                runtime.program(),
                served.output()
            );
        }
    }
    expected
}

const URLENCODED: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

#[test]
fn hello() {
    hello_on(Wasi::P2, &RUNTIMES);
}

#[test]
fn hello_p3() {
    hello_on(Wasi::P3, &P3_RUNTIMES);
}

fn hello_on(wasi: Wasi, runtimes: &[Runtime]) {
    let answers = same_for(
        wasi,
        runtimes,
        "hello",
        None,
        &[],
        &[
            get("/"),
            request("HEAD", "/"),
            request("OPTIONS", "/"),
            get("/nowhere"),
            get("/?greeting=ignored"),
        ],
    );
    assert_eq!(answers[0].status, 200);
    assert_eq!(answers[0].body, "Hello, world!");
    assert_eq!((answers[1].status, answers[1].body.as_str()), (200, ""));
    assert_eq!(answers[3].status, 404);
}

#[test]
fn demo() {
    demo_on(Wasi::P2, &RUNTIMES);
}

#[test]
fn demo_p3() {
    demo_on(Wasi::P3, &P3_RUNTIMES);
}

fn demo_on(wasi: Wasi, runtimes: &[Runtime]) {
    let answers = same_for(
        wasi,
        runtimes,
        "demo",
        None,
        &[],
        &[
            get("/"),
            get("/tips"),
            get("/tips/2"),
            get("/tips/9"),
            get("/tips/x"),
            request("HEAD", "/tips/2"),
            request("DELETE", "/tips/2"),
            request("OPTIONS", "/tips"),
            post("/tips/2", URLENCODED, b"title=A+better+title"),
        ],
    );
    assert!(answers[0].body.contains("action=\"/tips/2\""));
    assert_eq!(answers[2].body, r#"{"id":2,"title":"Tip 2"}"#);
    assert_eq!(answers[3].status, 404);
    assert_eq!(answers[6].status, 405);
    assert_eq!(answers[8].status, 302);
    assert!(
        answers[8]
            .headers
            .contains(&("location", "/tips/".to_owned())),
        "{answers:?}"
    );
}

/// The same to-do component on `wasmtime serve -Scli -Skeyvalue`: its store is in memory and
/// per instance, so every request starts from an empty bucket, as the host's first request
/// does; the probes only create one item, last.
#[test]
fn todo() {
    todo_on(Wasi::P2, &RUNTIMES);
}

#[test]
fn todo_p3() {
    todo_on(Wasi::P3, &P3_RUNTIMES);
}

fn todo_on(wasi: Wasi, runtimes: &[Runtime]) {
    let answers = same_for(
        wasi,
        runtimes,
        "todo",
        None,
        &[],
        &[
            get("/todos"),
            get("/todos/1"),
            get("/todos?limit=0"),
            request("DELETE", "/todos/1"),
            post("/todos", JSON, br#"{"title": ""}"#),
            post("/todos", JSON, br#"{"title": "Portable"}"#),
        ],
    );
    assert_eq!(answers[0].body, r#"{"items":[],"next":null}"#);
    assert_eq!(answers[1].status, 404);
    assert_eq!(answers[2].status, 400);
    assert_eq!(answers[3].status, 404);
    assert_eq!(answers[4].status, 422);
    assert_eq!(answers[5].status, 201);
    assert!(
        answers[5].headers.contains(&("etag", "\"1\"".to_owned())),
        "{answers:?}"
    );
    assert_eq!(
        answers[5].body,
        r#"{"done":false,"id":1,"title":"Portable","version":1}"#
    );
}

#[test]
fn config_settings_from_the_environment() {
    // JSON, which is also YAML: what other runtimes pass through must be what the guest parses,
    // and the host reads its `-c` files as YAML.
    let settings = r#"{"debug": true, "app": {"page_size": 20}, "list": ["a", "b"]}"#;
    let answers = same_everywhere("config", Some(settings), &[get("/"), get("/settings")]);
    assert!(
        answers[0].body.contains("debug flag is: true"),
        "{answers:?}"
    );
    for merged in [
        r#""app":{"name":"config-example","page_size":20}"#,
        r#""list":["a","b"]"#,
        r#""greeting":"hello from the application defaults""#,
    ] {
        assert!(answers[1].body.contains(merged), "{answers:?}");
    }
}

#[test]
fn config_without_settings() {
    let answers = same_everywhere("config", None, &[get("/"), get("/settings")]);
    assert!(
        answers[0].body.contains("debug flag is: false"),
        "{answers:?}"
    );
    assert!(answers[1].body.contains(r#""page_size":10"#), "{answers:?}");
}

#[test]
fn forms() {
    forms_on(Wasi::P2, &RUNTIMES);
}

#[test]
fn forms_p3() {
    forms_on(Wasi::P3, &P3_RUNTIMES);
}

fn forms_on(wasi: Wasi, runtimes: &[Runtime]) {
    let multipart = "multipart/form-data; boundary=XyZ";
    let answers = same_for(
        wasi,
        runtimes,
        "forms",
        None,
        &[],
        &[
            post("/echo?lang=en", URLENCODED, b"tag=a&tag=b&t=x+y"),
            post("/echo", JSON, br#"{"a": [1, 2], "b": null}"#),
            post("/echo", JSON, b"{not json"),
            post("/echo", "text/csv", b"a,b"),
            post(
                "/upload",
                multipart,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\
                  Content-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n",
            ),
            post("/signup", URLENCODED, b"name=Ann&age=17"),
            post("/signup", URLENCODED, b"name=Ann&age=30"),
            post("/guards/need_form", URLENCODED, b""),
            get("/echo"),
        ],
    );
    let statuses: Vec<u16> = answers.iter().map(|answer| answer.status).collect();
    assert_eq!(statuses, [200, 200, 400, 415, 200, 400, 200, 422, 405]);
    assert_eq!(answers[6].body, r#"{"age":30,"name":"Ann"}"#);
}

#[test]
fn gateway_calls_its_upstream() {
    gateway_on(Wasi::P2);
}

#[test]
fn gateway_calls_its_upstream_p3() {
    gateway_on(Wasi::P3);
}

fn gateway_on(wasi: Wasi) {
    // wasmtime serve lets a guest call anything; jco serve's outgoing HTTP is not checked here.
    let upstream = nanohttp_e2e::upstream::Upstream::start();
    let settings = format!(r#"{{"upstream": "{}"}}"#, upstream.url(""));
    let rule = upstream.rule();
    let answers = same_for(
        wasi,
        &[Runtime::Wasmtime],
        "gateway",
        Some(&settings),
        &["--allow-outbound", &rule],
        &[
            get("/relay"),
            get("/forecast/tehran"),
            get("/dashboard"),
            get("/files/small.txt"),
            get("/files/missing.txt"),
        ],
    );
    let statuses: Vec<u16> = answers.iter().map(|answer| answer.status).collect();
    // The test upstream has no `GET /`: the relay says so.
    assert_eq!(statuses, [502, 200, 200, 200, 404]);
    assert!(
        answers[1].body.contains(r#""fahrenheit":70.7"#),
        "{answers:?}"
    );
    assert_eq!(answers[3].body, "a small file\n");
}

/// `wasmtime serve -Scli -Sconfig` with `examples/config` built with nanohttp's
/// `config-store` feature, the config variable `nanohttp_settings` set to `store` and
/// `NANOHTTP_SETTINGS` to `env`.
fn config_store_on_wasmtime(store: &str, env: Option<&str>) -> Served {
    let scratch = scratch("config-store-wasmtime");
    let addr = free_port();
    let mut command = Command::new("wasmtime");
    command
        .args(["serve", "-Scli", "-Sconfig", "--addr", &addr.to_string()])
        .arg(format!("-Sconfig-var=nanohttp_settings={store}"));
    if let Some(env) = env {
        command.arg(format!("--env={SETTINGS_VAR}={env}"));
    }
    command.arg(nanohttp_e2e::config_store::config());
    Served::spawn(Runtime::Wasmtime, command, addr, scratch)
}

/// With the `config-store` feature, the settings also come from `wasi:config/store`'s
/// `nanohttp_settings` (wasmCloud 2's `config`), layered over `NANOHTTP_SETTINGS`.
#[test]
fn config_store_settings_on_wasmtime_serve() {
    if Runtime::Wasmtime.installed().is_none() {
        return;
    }
    // wasmtime splits `-S` values at commas: a store value with one key at each level.
    let served = config_store_on_wasmtime(
        r#"{"app": {"page_size": 20}}"#,
        Some(r#"{"debug": true, "app": {"page_size": 30}, "from_env": "yes"}"#),
    );
    let page = get("/").send(served.addr);
    assert!(page.body.contains("debug flag is: true"), "{page:?}");
    let settings = get("/settings").send(served.addr);
    assert_eq!(settings.status, 200, "{settings:?}");
    let settings: serde_json::Value = serde_json::from_str(&settings.body).unwrap();
    assert_eq!(
        settings["app"],
        serde_json::json!({"name": "config-example", "page_size": 20}),
        "the store's layer is over the environment's"
    );
    assert_eq!(settings["from_env"], "yes", "both layers are merged");
}

/// Bad settings in the store are a `500` for every request, and the log names the layer.
#[test]
fn config_store_with_yaml_is_a_500_that_names_the_store() {
    if Runtime::Wasmtime.installed().is_none() {
        return;
    }
    let served = config_store_on_wasmtime("debug: true", None);
    let answer = get("/").send(served.addr);
    assert_eq!(answer.status, 500, "{answer:?}");
    let started = Instant::now();
    while !served.output().contains(
        "invalid settings in wasi:config/store `nanohttp_settings`: expected value at line 1 \
         column 1 (settings reach components as JSON",
    ) {
        assert!(
            started.elapsed() < STARTUP,
            "no reason in the log:\n{}",
            served.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Without `-Sconfig`, `wasmtime serve` refuses a component that imports `wasi:config/store`
/// at start, naming the interface (what the README tells users to add).
#[test]
fn config_store_needs_wasmtime_serve_sconfig() {
    if Runtime::Wasmtime.installed().is_none() {
        return;
    }
    let output = Command::new("wasmtime")
        .args(["serve", "-Scli", "--addr", &free_port().to_string()])
        .arg(nanohttp_e2e::config_store::config())
        .stdin(Stdio::null())
        .output()
        .expect("wasmtime runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("wasi:config/store@0.2.0-rc.1"),
        "the error names the import: {stderr}"
    );
}

/// The settings as the original's users write them, YAML, given to another runtime as they
/// are: every request is a `500`, and the log says what is wrong and what to do.
#[test]
fn yaml_in_the_environment_is_a_500_that_says_what_to_do() {
    if Runtime::Wasmtime.installed().is_none() {
        return;
    }
    for wasi in [Wasi::P2, Wasi::P3] {
        let yaml = "debug: true\napp:\n  page_size: 20\n";
        let served = Served::start(Runtime::Wasmtime, wasi, "config", Some(yaml));
        let answer = get("/").send(served.addr);
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (500, "500 Internal Server Error\n"),
            "{wasi:?}"
        );
        let started = Instant::now();
        while !served
            .output()
            .contains("convert YAML with `nanohttp settings")
        {
            assert!(
                started.elapsed() < STARTUP,
                "{wasi:?}: no hint in the log:\n{}",
                served.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
