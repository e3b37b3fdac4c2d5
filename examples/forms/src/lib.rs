//! Request payloads: url-encoded, multipart and JSON forms, validation, guards and uploads.
//!
//! Build and run it:
//! `cargo build -p nanohttp-forms --target wasm32-wasip2 --release` and
//! `cargo run --release -p nanohttp-host -- target/wasm32-wasip2/release/nanohttp_forms.wasm`,
//! then e.g. `curl -F title=hi -F doc=@README.md http://127.0.0.1:8080/echo`.

use std::sync::LazyLock;
use std::time::Instant;

use nanohttp::prelude::*;
use nanohttp::validate::Field;
use nanohttp::{FormValue, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The limit of `/upload`: 1 MiB.
const UPLOAD_LIMIT: u64 = 1 << 20;
/// The limit of `/archive`, for large uploads streamed part by part: 256 MiB.
const ARCHIVE_LIMIT: u64 = 256 << 20;

static SIGNUP: LazyLock<[Field; 2]> = LazyLock::new(|| {
    [
        Field::new("name")
            .required()
            .pattern(r"^[A-Za-z]+$")
            .status("422 Bad name")
            .max_length(20),
        Field::new("age")
            .required()
            .integer()
            .minimum(18)
            .status("400 Too young"),
    ]
});

/// `/guards`: the original's form guards.
#[derive(Debug, Default)]
pub struct Guards;

#[controller]
impl Guards {
    /// Only `title` may be sent.
    #[json("POST", form_whitelist = ["title"])]
    fn whitelist(&self, ctx: &Context) -> Result<Value, HttpStatus> {
        Ok(ctx.form()?.to_json())
    }

    /// No form at all.
    #[text(prevent_form)]
    fn no_form(&self) -> &'static str {
        "nothing sent, as required"
    }

    /// A form must be sent; with a status of its own.
    #[json("POST", prevent_empty_form = "422 Say Something")]
    fn need_form(&self, ctx: &Context) -> Result<Value, HttpStatus> {
        Ok(ctx.form()?.to_json())
    }
}

/// The root.
#[derive(Debug, Default)]
pub struct Root {
    guards: Guards,
}

#[controller]
impl Root {
    #[child]
    fn guards(&self) -> &Guards {
        &self.guards
    }

    /// The parsed form as JSON: repeated keys as lists, files as their name, type, size and
    /// SHA-256. `Server-Timing` says how long parsing took inside the component.
    #[json("POST", "PUT")]
    fn echo(&self, ctx: &mut Context) -> Result<Value, HttpStatus> {
        let started = Instant::now();
        let form = ctx.form()?;
        let parse = started.elapsed();
        let mut fields = serde_json::Map::new();
        for name in form.names() {
            let mut values: Vec<Value> = form.values(name).map(describe).collect();
            let value = if values.len() == 1 {
                values.remove(0)
            } else {
                Value::Array(values)
            };
            fields.insert(name.to_owned(), value);
        }
        let body = match form.json() {
            Some(json) if !json.is_object() => json.into_owned(),
            _ => Value::Object(fields),
        };
        ctx.set_header(
            "server-timing",
            format!("parse;dur={:.3}", parse.as_secs_f64() * 1e3),
        )?;
        Ok(body)
    }

    /// Validates `name` and `age`; answers with the converted values.
    #[json("POST")]
    fn signup(&self, ctx: &mut Context) -> Result<Value, HttpStatus> {
        ctx.validate(&*SIGNUP)?;
        let form = ctx.form()?;
        let value = |name| form.value(name).map_or(Value::Null, FormValue::to_json);
        Ok(json!({ "name": value("name"), "age": value("age") }))
    }

    /// Multipart only, at most 1 MiB: each file's size and SHA-256, computed as it streams.
    #[json("POST", max_body_size = UPLOAD_LIMIT)]
    fn upload(&self, ctx: &Context) -> Result<Value, HttpStatus> {
        digest_files(ctx)
    }

    /// As `/upload`, up to 256 MiB: the body is never held in memory, one piece at a time.
    #[json("POST", max_body_size = ARCHIVE_LIMIT)]
    fn archive(&self, ctx: &Context) -> Result<Value, HttpStatus> {
        digest_files(ctx)
    }
}

impl Application for Root {}

nanohttp::export!(Root);

fn describe(value: &FormValue) -> Value {
    match value {
        FormValue::File(file) => json!({
            "filename": file.filename,
            "content_type": file.content_type,
            "size": file.content.len(),
            "sha256": hex(&Sha256::digest(&file.content)),
        }),
        other => other.to_json(),
    }
}

fn digest_files(ctx: &Context) -> Result<Value, HttpStatus> {
    let mut multipart = ctx.multipart()?;
    let mut files = Vec::new();
    while let Some(mut part) = multipart.next_part()? {
        if part.filename().is_some() {
            files.push(digest(&mut part)?);
        }
    }
    Ok(json!({ "files": files }))
}

fn digest(part: &mut Part<'_, '_>) -> Result<Value, HttpStatus> {
    let name = part.name().map(str::to_owned);
    let filename = part.filename().map(str::to_owned);
    let content_type = part.content_type().map(str::to_owned);
    let mut hasher = Sha256::new();
    let mut size = 0usize;
    while let Some(chunk) = part.chunk()? {
        size += chunk.len();
        hasher.update(&chunk);
    }
    Ok(json!({
        "name": name,
        "filename": filename,
        "content_type": content_type,
        "size": size,
        "sha256": hex(&hasher.finalize()),
    }))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nanohttp::testing::TestClient;

    #[test]
    fn signup_converts_and_validates() {
        let client = TestClient::new(Root::default());
        let ok = client
            .post("/signup")
            .form(&[("name", "Ada"), ("age", "36")])
            .send();
        assert_eq!(ok.json(), json!({"name": "Ada", "age": 36}));
        let young = client
            .post("/signup")
            .form(&[("name", "Ada"), ("age", "12")])
            .send();
        assert_eq!(
            (young.status.as_u16(), young.text()),
            (400, "{\"message\":\"Too young\",\"status\":400}")
        );
    }
}
