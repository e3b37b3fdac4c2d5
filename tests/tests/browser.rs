//! The demo in a real browser: headless Chromium (started by the test, with a fresh profile,
//! driven over the DevTools protocol) opens `/`, types a title into the form, submits it,
//! follows the redirect and finds the new title in the list; then the host is killed and
//! started again on the same (default, embedded) store, and the title is still there.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nanohttp_e2e::services::{HostProcess, free_port};
use nanohttp_e2e::{Scratch, client};
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket, stream::MaybeTlsStream};

const HOST: &str = env!("CARGO_BIN_EXE_nanohttp-e2e-host");
const WAIT: Duration = Duration::from_secs(30);

struct Chromium {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl Chromium {
    fn start(profile: &std::path::Path) -> Self {
        let port = free_port();
        let child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                &format!("--user-data-dir={}", profile.display()),
                &format!("--remote-debugging-port={port}"),
                "about:blank",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start chromium ({e}): install it with `apt-get install -y chromium`")
            });
        let deadline = Instant::now() + WAIT;
        let url = loop {
            let pages = client()
                .get(format!("http://127.0.0.1:{port}/json/list"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .and_then(|text| serde_json::from_str::<Vec<Value>>(&text).ok());
            let url = pages.into_iter().flatten().find_map(|page| {
                (page["type"] == "page")
                    .then(|| page["webSocketDebuggerUrl"].as_str().map(str::to_owned))
                    .flatten()
            });
            if let Some(url) = url {
                break url;
            }
            assert!(
                Instant::now() < deadline,
                "chromium's DevTools never answered"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let (socket, _) = tungstenite::connect(url).expect("the DevTools websocket");
        Self {
            child,
            socket,
            next_id: 1,
        }
    }

    /// Sends a DevTools command and returns its `result`, skipping events.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let message = json!({ "id": id, "method": method, "params": params }).to_string();
        self.socket.send(Message::text(message)).unwrap();
        loop {
            let Message::Text(text) = self.socket.read().unwrap() else {
                continue;
            };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page.
    fn wait_for(&mut self, expression: &str) {
        let deadline = Instant::now() + WAIT;
        while self.eval(expression) != Value::Bool(true) {
            assert!(
                Instant::now() < deadline,
                "never true: {expression}; the page: {}",
                self.eval("location.href + '\\n' + document.documentElement.outerHTML")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for(&format!(
            "location.href === {} && document.readyState === 'complete'",
            json!(url)
        ));
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_demo_form_updates_a_tip_that_survives_a_restart() {
    let scratch = Scratch::new("browser");
    let data = scratch.path().join("data");
    let start =
        |log: &str| HostProcess::demo_with_default_store(HOST, &data, &scratch.path().join(log));
    let host = start("1.log");
    let mut browser = Chromium::start(&scratch.path().join("profile"));
    let title = "Typed in Chromium & <saved>";

    browser.open(&host.url("/"));
    assert_eq!(browser.eval("document.title"), "nanohttp Demo");
    browser.eval("document.querySelector('input[name=title]').focus()");
    browser.call("Input.insertText", json!({ "text": title }));
    assert_eq!(
        browser.eval("document.querySelector('input[name=title]').value"),
        title
    );
    browser.eval("document.querySelector('input[type=submit]').click()");
    // The redirect lands on the list, which shows the new title.
    browser.wait_for(&format!(
        "location.pathname === '/tips/' && document.body.innerText.includes({})",
        json!(format!(r#""id":2,"title":"{title}""#))
    ));
    browser.open(&host.url("/"));
    assert_eq!(
        browser.eval("document.getElementById('tip-2').textContent"),
        title
    );

    host.kill();
    let host = start("2.log");
    browser.open(&host.url("/"));
    assert_eq!(
        browser.eval("document.getElementById('tip-2').textContent"),
        title
    );
    assert_eq!(
        browser.eval("document.getElementById('tip-1').textContent"),
        "Tip 1"
    );
}
