//! Native per-request cost of the framework: build a request, dispatch it through a controller
//! tree, render the response into a sink that discards it. No wasm, no sockets.
//!
//! Run: `cargo bench -p nanohttp --bench dispatch`. Prints the median of several runs per case.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nanohttp::__private::{ResponseSink, serve};
use nanohttp::http::{HeaderMap, StatusCode};
use nanohttp::prelude::*;

#[derive(Default)]
struct Tips;

#[rest_controller]
impl Tips {
    #[json]
    fn get(&self, tip_id: u32) -> serde_json::Value {
        serde_json::json!({ "id": tip_id, "title": format!("Tip {tip_id}") })
    }
}

#[derive(Default)]
struct Api {
    tips: Tips,
}

#[controller]
impl Api {
    #[child]
    fn tips(&self) -> &Tips {
        &self.tips
    }
}

#[derive(Default)]
struct Many;

/// Fifty regex routes; the benchmark asks for the last one.
macro_rules! many_routes {
    ($($name:ident => $pattern:literal),* $(,)?) => {
        #[regex_controller]
        impl Many {
            $(
                #[text]
                #[route($pattern)]
                fn $name(&self, id: u32) -> String {
                    format!("{} {id}", stringify!($name))
                }
            )*
        }
    };
}

many_routes! {
    r00 => r"/r00/(?P<id>\d+)", r01 => r"/r01/(?P<id>\d+)", r02 => r"/r02/(?P<id>\d+)",
    r03 => r"/r03/(?P<id>\d+)", r04 => r"/r04/(?P<id>\d+)", r05 => r"/r05/(?P<id>\d+)",
    r06 => r"/r06/(?P<id>\d+)", r07 => r"/r07/(?P<id>\d+)", r08 => r"/r08/(?P<id>\d+)",
    r09 => r"/r09/(?P<id>\d+)", r10 => r"/r10/(?P<id>\d+)", r11 => r"/r11/(?P<id>\d+)",
    r12 => r"/r12/(?P<id>\d+)", r13 => r"/r13/(?P<id>\d+)", r14 => r"/r14/(?P<id>\d+)",
    r15 => r"/r15/(?P<id>\d+)", r16 => r"/r16/(?P<id>\d+)", r17 => r"/r17/(?P<id>\d+)",
    r18 => r"/r18/(?P<id>\d+)", r19 => r"/r19/(?P<id>\d+)", r20 => r"/r20/(?P<id>\d+)",
    r21 => r"/r21/(?P<id>\d+)", r22 => r"/r22/(?P<id>\d+)", r23 => r"/r23/(?P<id>\d+)",
    r24 => r"/r24/(?P<id>\d+)", r25 => r"/r25/(?P<id>\d+)", r26 => r"/r26/(?P<id>\d+)",
    r27 => r"/r27/(?P<id>\d+)", r28 => r"/r28/(?P<id>\d+)", r29 => r"/r29/(?P<id>\d+)",
    r30 => r"/r30/(?P<id>\d+)", r31 => r"/r31/(?P<id>\d+)", r32 => r"/r32/(?P<id>\d+)",
    r33 => r"/r33/(?P<id>\d+)", r34 => r"/r34/(?P<id>\d+)", r35 => r"/r35/(?P<id>\d+)",
    r36 => r"/r36/(?P<id>\d+)", r37 => r"/r37/(?P<id>\d+)", r38 => r"/r38/(?P<id>\d+)",
    r39 => r"/r39/(?P<id>\d+)", r40 => r"/r40/(?P<id>\d+)", r41 => r"/r41/(?P<id>\d+)",
    r42 => r"/r42/(?P<id>\d+)", r43 => r"/r43/(?P<id>\d+)", r44 => r"/r44/(?P<id>\d+)",
    r45 => r"/r45/(?P<id>\d+)", r46 => r"/r46/(?P<id>\d+)", r47 => r"/r47/(?P<id>\d+)",
    r48 => r"/r48/(?P<id>\d+)", r49 => r"/r49/(?P<id>\d+)",
}

#[derive(Default)]
struct Root {
    api: Api,
    many: Many,
}

#[controller]
impl Root {
    #[text]
    fn index(&self) -> &'static str {
        "Hello, world!"
    }

    #[child]
    fn api(&self) -> &Api {
        &self.api
    }

    #[child]
    fn regex(&self) -> &Many {
        &self.many
    }
}

impl Application for Root {}

/// Keeps the status and the byte count, so the work cannot be optimised away.
struct Discard {
    status: StatusCode,
    bytes: usize,
}

impl ResponseSink for &mut Discard {
    fn start(&mut self, status: StatusCode, headers: HeaderMap) {
        self.status = status;
        black_box(headers);
    }

    fn write(&mut self, chunk: &[u8]) -> bool {
        self.bytes += chunk.len();
        true
    }

    fn finish(self, error: Option<HttpStatus>) {
        black_box(error);
    }
}

fn per_request(app: &Root, settings: &Arc<Settings>, path: &str, expected: u16) -> Duration {
    const ITERATIONS: u32 = 20_000;
    let mut sink = Discard {
        status: StatusCode::OK,
        bytes: 0,
    };
    let started = Instant::now();
    for _ in 0..ITERATIONS {
        let request = nanohttp::http::Request::get(path)
            .header("host", "localhost")
            .header("user-agent", "bench")
            .body(Vec::new())
            .expect("a valid request");
        serve(app, settings, black_box(request), &mut sink);
    }
    let elapsed = started.elapsed();
    assert_eq!(sink.status.as_u16(), expected, "{path}");
    elapsed / ITERATIONS
}

fn main() {
    let app = Root::default();
    let settings = Arc::new(Settings::default());
    let cases = [
        ("hello", "/", 200),
        ("REST + JSON, typed argument", "/api/tips/2", 200),
        ("regex, 50th of 50 routes", "/regex/r49/7", 200),
        ("404", "/missing/path", 404),
    ];
    println!("{:<30} {:>12}", "case", "median/req");
    // What every fresh component instance pays before its first request.
    let mut runs: Vec<Duration> = (0..7)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..2_000 {
                let settings = Settings::from_layers([
                    ("application defaults", r#"{"greeting":"hello"}"#),
                    ("NANOHTTP_SETTINGS", r#"{"debug":false}"#),
                ]);
                black_box(settings.expect("valid settings"));
            }
            started.elapsed() / 2_000
        })
        .collect();
    runs.sort();
    println!(
        "{:<30} {:>9.2} µs",
        "settings (per instance)",
        runs[runs.len() / 2].as_secs_f64() * 1e6
    );
    for (name, path, expected) in cases {
        let mut runs: Vec<Duration> = (0..7)
            .map(|_| per_request(&app, &settings, path, expected))
            .collect();
        runs.sort();
        println!(
            "{name:<30} {:>9.2} µs",
            runs[runs.len() / 2].as_secs_f64() * 1e6
        );
    }
}
