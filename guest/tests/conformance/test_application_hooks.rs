//! `nanohttp/tests/test_application_hooks.py`: `app_init`, `begin_request`, `begin_response`
//! and `end_response`, with a per-request value the handler takes over.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use nanohttp::prelude::*;
use nanohttp::testing::TestClient;

/// The original's `context.foo` (set by `begin_request`) and `context.bar` (set by the handler,
/// which removes `foo`): per-request values on the context.
#[derive(Clone)]
struct First(String);
#[derive(Clone)]
struct Second(String);

/// The original counts calls in module globals; ours on the application (no statics: an
/// instance may serve several requests, see the guide).
#[derive(Default)]
struct TestApp {
    app_init: usize,
    begin_request: AtomicUsize,
    begin_response: AtomicUsize,
    end_response: AtomicUsize,
}

#[controller]
impl TestApp {
    #[action]
    fn index(&self, ctx: &mut Context) -> String {
        let first = ctx
            .values_mut()
            .remove::<First>()
            .map(|first| first.0)
            .unwrap_or_default();
        ctx.values_mut().insert(Second(first.clone()));
        format!("Index: {first}")
    }
}

impl Application for TestApp {
    fn app_init(&mut self, _: &Settings) {
        self.app_init += 1;
    }

    fn begin_request(&self, ctx: &mut Context) -> Result<(), HttpStatus> {
        ctx.values_mut().insert(First("Bar".into()));
        self.begin_request.fetch_add(1, SeqCst);
        Ok(())
    }

    fn begin_response(&self, ctx: &mut Context) {
        assert!(ctx.values().get::<First>().is_none());
        assert_eq!(
            ctx.values().get::<Second>().map(|second| second.0.as_str()),
            Some("Bar")
        );
        self.begin_response.fetch_add(1, SeqCst);
    }

    fn end_response(&self, _: &mut Context) {
        self.end_response.fetch_add(1, SeqCst);
    }
}

#[test]
fn test_application_hooks() {
    let client = TestClient::new(TestApp::default());
    let counts = |app: &TestApp| {
        [
            app.app_init,
            app.begin_request.load(SeqCst),
            app.begin_response.load(SeqCst),
            app.end_response.load(SeqCst),
        ]
    };
    let response = client.get("/").send();
    assert_eq!(
        (response.status.as_u16(), response.text()),
        (200, "Index: Bar")
    );
    assert_eq!(counts(client.app()), [1, 1, 1, 1]);

    assert_eq!(client.get("/").send().status, 200);
    assert_eq!(counts(client.app()), [1, 2, 2, 2]);
}
