//! Runs an application natively, without wasm or sockets: for unit tests of handlers.
//!
//! ```
//! use nanohttp::prelude::*;
//! use nanohttp::testing::TestClient;
//!
//! #[derive(Default)]
//! struct Root;
//!
//! #[controller]
//! impl Root {
//!     #[text]
//!     fn index(&self) -> &'static str { "hi" }
//! }
//! impl Application for Root {}
//!
//! let client = TestClient::new(Root);
//! let response = client.get("/").send();
//! assert_eq!(response.status, 200);
//! assert_eq!(response.header("content-type"), Some("text/plain; charset=utf-8"));
//! assert_eq!(response.text(), "hi");
//! assert_eq!(client.get("/nope").send().status, 404);
//! ```

use std::sync::Arc;

use http::{HeaderMap, StatusCode};

use std::io::Read;

use crate::app::{Application, ResponseSink, serve_context};
use crate::body::Source;
use crate::context::Context;
use crate::head::RequestHead;
use crate::settings::{Settings, SettingsError, defaults_text_is_accepted};
use crate::status::HttpStatus;

/// An application with its settings, ready to answer requests in-process.
#[derive(Debug)]
pub struct TestClient<A> {
    app: A,
    settings: Arc<Settings>,
    kv: crate::kv::MemoryStore,
}

impl<A: Application> TestClient<A> {
    /// The application with framework and application default settings; runs `app_init`.
    pub fn new(app: A) -> Self {
        Self::with_settings(app, "").expect("the application's default settings are valid")
    }

    /// As [`TestClient::new`], with `settings` merged over the defaults as a host would pass
    /// them in `NANOHTTP_SETTINGS`: a JSON object (`r#"{"debug": true}"#`), or YAML through
    /// [`yaml!`](crate::yaml) (`nanohttp::yaml!("debug: true")`).
    pub fn with_settings(mut app: A, settings: &str) -> Result<Self, SettingsError> {
        const {
            assert!(
                defaults_text_is_accepted(A::SETTINGS),
                "Application::SETTINGS must be a JSON object: write YAML as nanohttp::yaml!(\"...\")"
            );
        }
        let settings = Settings::from_layers([
            ("application defaults", A::SETTINGS),
            ("test settings", settings),
        ])?;
        app.app_init(&settings);
        Ok(Self {
            app,
            settings: Arc::new(settings),
            kv: crate::kv::MemoryStore::default(),
        })
    }

    /// The same client, its handlers' [`kv`](crate::kv) buckets in `store` (by default a
    /// fresh [`MemoryStore`](crate::kv::MemoryStore) with one bucket, `default`).
    #[must_use]
    pub fn with_kv(mut self, store: crate::kv::MemoryStore) -> Self {
        self.kv = store;
        self
    }

    /// The store its handlers' [`kv`](crate::kv) buckets live in.
    pub fn kv(&self) -> &crate::kv::MemoryStore {
        &self.kv
    }

    /// The application under test.
    pub fn app(&self) -> &A {
        &self.app
    }

    /// The merged settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A request with any method (custom verbs too: `client.request("LIST", "/tips")`).
    pub fn request(&self, method: &str, uri: &str) -> TestRequest<'_, A> {
        TestRequest {
            client: self,
            builder: http::Request::builder().method(method).uri(uri),
            body: Source::Bytes(Vec::new()),
        }
    }
}

macro_rules! verbs {
    ($($name:ident => $method:literal),*) => {
        impl<A: Application> TestClient<A> {
            $(
                #[doc = concat!("A `", $method, "` request.")]
                pub fn $name(&self, uri: &str) -> TestRequest<'_, A> {
                    self.request($method, uri)
                }
            )*
        }
    };
}

verbs!(get => "GET", head => "HEAD", post => "POST", put => "PUT", patch => "PATCH",
       delete => "DELETE", options => "OPTIONS");

/// A request being built; [`TestRequest::send`] runs it.
pub struct TestRequest<'c, A> {
    client: &'c TestClient<A>,
    builder: http::request::Builder,
    body: Source,
}

impl<A> std::fmt::Debug for TestRequest<'_, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestRequest")
            .field("builder", &self.builder)
            .finish_non_exhaustive()
    }
}

impl<A: Application> TestRequest<'_, A> {
    /// Adds a request header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    /// Sets the request body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Source::Bytes(body.into());
        self
    }

    /// Sets a body read from `reader` as the handler asks for it, of unknown length (like a
    /// chunked body): for testing limits and streaming.
    #[must_use]
    pub fn body_reader(mut self, reader: impl Read + 'static) -> Self {
        self.body = Source::Reader(Box::new(reader));
        self
    }

    /// Sets an `application/x-www-form-urlencoded` body.
    #[must_use]
    pub fn form(self, fields: &[(&str, &str)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }

    /// Sets an `application/json` body.
    #[must_use]
    pub fn json(self, value: &serde_json::Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }

    /// Runs the request through the application and collects the response.
    ///
    /// # Panics
    /// If the request itself is malformed (an invalid URI or header), which is a bug in the test.
    pub fn send(self) -> TestResponse {
        let (parts, ()) = self
            .builder
            .body(())
            .expect("the test request is well formed")
            .into_parts();
        let ctx = Context::from_head(
            RequestHead::from_parts(parts),
            self.body,
            Arc::clone(&self.client.settings),
        );
        let _kv = crate::kv::enter(&self.client.kv);
        let mut response = TestResponse {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            headers: HeaderMap::new(),
            body: Vec::new(),
            chunks: 0,
            broken_off: None,
            started: false,
        };
        serve_context(&self.client.app, ctx, &mut response);
        assert!(response.started, "the framework never started the response");
        response
    }
}

/// What the application answered.
#[derive(Debug, Clone)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as far as it was sent.
    pub body: Vec<u8>,
    /// How many writes the body took (a streamed body takes one per chunk).
    pub chunks: usize,
    /// The error that broke a streamed body off midway, if one did.
    pub broken_off: Option<HttpStatus>,
    started: bool,
}

impl TestResponse {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a header, as text.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// The body as text.
    ///
    /// # Panics
    /// If the body is not UTF-8.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("the body is UTF-8")
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// If the body is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

impl ResponseSink for &mut TestResponse {
    fn start(&mut self, status: StatusCode, headers: HeaderMap) {
        assert!(!self.started, "the response was started twice");
        self.started = true;
        self.status = status;
        self.headers = headers;
    }

    fn write(&mut self, chunk: &[u8]) -> bool {
        assert!(self.started, "a body chunk came before the status");
        self.chunks += 1;
        self.body.extend_from_slice(chunk);
        true
    }

    fn finish(self, error: Option<HttpStatus>) {
        self.broken_off = error;
    }
}
