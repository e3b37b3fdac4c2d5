//! A gateway in front of another service: handlers that call an upstream JSON API with
//! `nanohttp::client`, reshape its answers, fan out to several calls at once, and pass a large
//! body through as it arrives.
//!
//! The upstream's base URL is the `upstream` setting. The host refuses every outgoing request
//! unless allowed, so name the upstream when serving:
//!
//! ```sh
//! cargo build -p nanohttp-gateway --target wasm32-wasip2 --release
//! cargo run --release -p nanohttp-host -- \
//!     --allow-outbound http://127.0.0.1:9000 -o upstream=http://127.0.0.1:9000 \
//!     target/wasm32-wasip2/release/nanohttp_gateway.wasm
//! ```
//!
//! - `GET /relay`: the upstream's `GET /`, passed on as text (the smallest proxy);
//! - `GET /forecast/<city>`: the upstream's `GET /weather?city=<city>`
//!   (`{"city", "temp_c", "conditions"}`) as `{"city", "celsius", "fahrenheit", "summary"}`;
//! - `GET /dashboard`: `GET /users`, `/orders` and `/status` at once, merged into one object;
//!   it takes as long as the slowest of the three;
//! - `GET /files/<name>`: the upstream's `GET /files/<name>`, streamed to the client in 64 KiB
//!   pieces as they arrive, with its content type.

use std::time::Duration;

use nanohttp::client::{self, Request};
use nanohttp::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

/// What the upstream's `/weather` answers.
#[derive(Debug, Deserialize)]
struct Weather {
    city: String,
    temp_c: f64,
    conditions: String,
}

/// The root.
#[derive(Debug, Default)]
pub struct Root;

#[controller]
impl Root {
    #[text]
    fn index(&self) -> &'static str {
        "GET /relay, GET /forecast/<city>, GET /dashboard, GET /files/<name>\n"
    }

    /// One call, its body passed on.
    #[text]
    fn relay(&self, ctx: &Context) -> Result<String, HttpStatus> {
        let response = Request::get(&upstream(ctx, "/")?).send()?;
        if !response.status().is_success() {
            return Err(HttpStatus::bad_gateway()
                .with_reason(format!("Upstream answered {}", response.status())));
        }
        Ok(response.text()?)
    }

    /// One call, its JSON reshaped. An upstream that fails or times out answers for itself:
    /// `?` makes it a 502 or 504 naming the upstream.
    #[json]
    fn forecast(&self, ctx: &Context, city: String) -> Result<Value, HttpStatus> {
        let weather: Weather = Request::get(&upstream(ctx, "/weather")?)
            .query("city", &city)
            .header("accept", "application/json")
            .first_byte_timeout(Duration::from_secs(5))
            .send()?
            .json()?;
        Ok(json!({
            "city": weather.city,
            "celsius": weather.temp_c,
            "fahrenheit": ((weather.temp_c * 9.0 / 5.0 + 32.0) * 10.0).round() / 10.0,
            "summary": format!("{}, {:.0} °C", weather.conditions, weather.temp_c),
        }))
    }

    /// Three calls in flight at once, merged; one that fails fails the whole answer.
    #[json]
    fn dashboard(&self, ctx: &Context) -> Result<Value, HttpStatus> {
        let parts = ["users", "orders", "status"];
        let mut requests = Vec::new();
        for part in parts {
            requests.push(Request::get(&upstream(ctx, &format!("/{part}"))?));
        }
        let mut merged = serde_json::Map::new();
        for (part, response) in parts.into_iter().zip(client::send_all(requests)) {
            let response = response?;
            if !response.status().is_success() {
                return Err(HttpStatus::bad_gateway()
                    .with_reason(format!("Upstream /{part} answered {}", response.status())));
            }
            merged.insert(part.to_owned(), response.json::<Value>()?);
        }
        Ok(Value::Object(merged))
    }

    /// The upstream's file, streamed through: neither the gateway nor the host holds it whole.
    #[binary]
    fn files(&self, ctx: &mut Context, name: String) -> Result<Body<'static>, HttpStatus> {
        let response = Request::get(&upstream(ctx, &format!("/files/{name}"))?).send()?;
        match response.status().as_u16() {
            200 => {}
            404 => return Err(HttpStatus::not_found()),
            other => {
                return Err(
                    HttpStatus::bad_gateway().with_reason(format!("Upstream answered {other}"))
                );
            }
        }
        if let Some(content_type) = response.header("content-type") {
            ctx.set_content_type(content_type.to_owned());
        }
        let length = response
            .header("content-length")
            .and_then(|length| length.parse().ok());
        let chunks = Box::new(
            response
                .chunks(64 << 10)
                .map(|chunk| chunk.map_err(HttpStatus::from)),
        );
        Ok(match length {
            Some(length) => Body::SizedStream(length, chunks),
            None => Body::Stream(chunks),
        })
    }
}

/// `path` on the upstream named by the `upstream` setting.
fn upstream(ctx: &Context, path: &str) -> Result<String, HttpStatus> {
    let base = ctx
        .settings()
        .get("upstream")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            HttpStatus::internal_server_error().with_detail("the `upstream` setting is not set")
        })?;
    Ok(format!("{}{path}", base.trim_end_matches('/')))
}

impl Application for Root {}

nanohttp::export!(Root);

#[cfg(test)]
mod tests {
    use super::*;
    use nanohttp::testing::TestClient;

    #[test]
    fn without_an_upstream_setting_the_gateway_says_so_in_debug() {
        let client = TestClient::with_settings(Root, r#"{"debug": true}"#).unwrap();
        let response = client.get("/dashboard").send();
        assert_eq!(response.status, 500);
        assert!(
            response.text().contains("`upstream` setting"),
            "{}",
            response.text()
        );
    }

    #[test]
    fn an_upstream_that_is_not_there_is_a_502_naming_it() {
        // A port nothing listens on: bind one, then let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings = format!(r#"{{"upstream": "http://127.0.0.1:{port}"}}"#);
        let client = TestClient::with_settings(Root, &settings).unwrap();
        let response = client.get("/forecast/tehran").send();
        assert_eq!(response.status, 502);
        let reason = format!("Upstream http://127.0.0.1:{port} unreachable");
        assert!(response.text().contains(&reason), "{}", response.text());
    }
}
