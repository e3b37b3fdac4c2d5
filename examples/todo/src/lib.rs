//! A JSON to-do API whose items live in the host's key-value store (bucket `default`), so they
//! survive requests, restarts and, on Redis, are shared by every replica.
//!
//! Build and run it:
//! `cargo build -p nanohttp-todo --target wasm32-wasip2 --release` and
//! `cargo run --release -p nanohttp-host -- target/wasm32-wasip2/release/nanohttp_todo.wasm`.
//!
//! - `GET /todos?after=ID&limit=N`: items in id order, `{"items": [...], "next": ID|null}`
//!   (`limit` 1 to 100, default 20; pass `next` as `after` for the following page).
//! - `POST /todos` `{"title": "...", "done": false}`: `201` with `Location` and `ETag`.
//! - `GET /todos/ID`: the item, with its `ETag` (`If-None-Match` gives `304`).
//! - `PUT /todos/ID` `{"title"?, "done"?}`: updates the fields given; with `If-Match` only if
//!   the item is still that version (else `412`).
//! - `DELETE /todos/ID`: `204`; with `If-Match` as for `PUT`.
//!
//! `wasi:keyvalue@0.2.0-draft` has no compare-and-swap, so versions are counters: an update
//! reads version `v`, increments the item's version counter and writes only if the counter
//! became `v + 1`, that is if no other update came in between (optimistic locking).

use nanohttp::http::header::{ETAG, IF_MATCH, IF_NONE_MATCH, LOCATION};
use nanohttp::kv::{Bucket, KvError};
use nanohttp::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest title, in characters.
const MAX_TITLE: usize = 200;
/// Largest page of the list.
const MAX_LIMIT: u32 = 100;
/// Most ids one list request looks at (deleted items leave gaps).
const MAX_SCAN: u64 = 500;
/// Attempts of an update that lost a race without `If-Match`.
const ATTEMPTS: u32 = 5;

/// A to-do item as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Todo {
    pub id: u64,
    pub title: String,
    pub done: bool,
    pub version: u64,
}

/// The fields a client sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    title: Option<String>,
    done: Option<bool>,
}

fn item_key(id: u64) -> String {
    format!("todo.item.{id}")
}

fn version_key(id: u64) -> String {
    format!("todo.version.{id}")
}

const NEXT_ID: &str = "todo.next-id";

fn etag(todo: &Todo) -> String {
    format!("\"{}\"", todo.version)
}

fn bucket() -> Result<Bucket, HttpStatus> {
    Ok(Bucket::open_default()?)
}

fn fields(ctx: &Context) -> Result<Fields, HttpStatus> {
    let fields: Fields = serde_json::from_slice(ctx.body()?).map_err(|e| {
        HttpStatus::bad_request().with_reason(format!("Invalid to-do: {e}").replace('\n', " "))
    })?;
    if let Some(title) = &fields.title {
        let length = title.trim().chars().count();
        if length == 0 || length > MAX_TITLE {
            return Err(HttpStatus::new(
                422,
                format!("A title has 1 to {MAX_TITLE} characters"),
            ));
        }
    }
    Ok(fields)
}

fn load(bucket: &Bucket, id: u64) -> Result<Todo, HttpStatus> {
    bucket
        .get_json::<Todo>(&item_key(id))?
        .ok_or_else(|| HttpStatus::not_found().with_reason(format!("No to-do {id}")))
}

/// Whether an `If-Match` header allows changing `todo`.
fn matches(ctx: &Context, todo: &Todo) -> bool {
    match ctx.header(IF_MATCH) {
        None => true,
        Some(header) => header
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag == etag(todo)),
    }
}

/// Claims the next version of `todo`: `Ok(None)` if another update claimed it first.
fn claim(bucket: &Bucket, todo: &Todo) -> Result<Option<u64>, KvError> {
    let next = bucket.increment(&version_key(todo.id), 1)?;
    Ok((next == todo.version + 1).then_some(next))
}

fn precondition_failed() -> HttpStatus {
    HttpStatus::precondition_failed().with_reason("The to-do has changed")
}

/// `/todos`.
#[derive(Debug, Default)]
pub struct Todos;

#[rest_controller]
impl Todos {
    /// `GET /todos` lists a page; `GET /todos/ID` shows one.
    #[json]
    fn get(
        &self,
        ctx: &mut Context,
        id: Option<u64>,
        #[query] after: Option<u64>,
        #[query] limit: Option<u32>,
    ) -> Result<Value, HttpStatus> {
        let bucket = bucket()?;
        if let Some(id) = id {
            let todo = load(&bucket, id)?;
            let tag = etag(&todo);
            ctx.set_header(ETAG, &tag)?;
            if ctx.header(IF_NONE_MATCH).is_some_and(|header| {
                header
                    .split(',')
                    .any(|t| t.trim() == tag || t.trim() == "*")
            }) {
                return Err(HttpStatus::not_modified().with_header(ETAG, &tag));
            }
            return Ok(serde_json::to_value(todo).unwrap_or_default());
        }
        let limit = limit.unwrap_or(20);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(HttpStatus::bad_request().with_reason("limit is 1 to 100"));
        }
        let last = bucket.increment(NEXT_ID, 0)?;
        let mut items = Vec::new();
        let mut from = after.unwrap_or(0);
        let end = last.min(from.saturating_add(MAX_SCAN));
        while from < end && items.len() < limit as usize {
            let ids: Vec<u64> = (from + 1..=end.min(from + u64::from(limit))).collect();
            let keys: Vec<String> = ids.iter().map(|id| item_key(*id)).collect();
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            for (id, value) in ids.iter().zip(bucket.get_many(&keys)?) {
                from = *id;
                if let Some(bytes) = value {
                    let todo: Todo = serde_json::from_slice(&bytes).map_err(|e| {
                        HttpStatus::internal_server_error().with_detail(e.to_string())
                    })?;
                    items.push(todo);
                    if items.len() == limit as usize {
                        break;
                    }
                }
            }
        }
        let next = (from < last).then_some(from);
        Ok(serde_json::json!({ "items": items, "next": next }))
    }

    /// `POST /todos` creates one.
    #[json]
    fn post(&self, ctx: &mut Context) -> Result<Value, HttpStatus> {
        let fields = fields(ctx)?;
        let Some(title) = fields.title else {
            return Err(HttpStatus::new(422, "A title is required"));
        };
        let bucket = bucket()?;
        let id = bucket.increment(NEXT_ID, 1)?;
        let todo = Todo {
            id,
            title: title.trim().to_owned(),
            done: fields.done.unwrap_or(false),
            version: bucket.increment(&version_key(id), 1)?,
        };
        bucket.set_json(&item_key(id), &todo)?;
        ctx.set_status(201);
        ctx.set_header(LOCATION, format!("/todos/{id}"))?;
        ctx.set_header(ETAG, etag(&todo))?;
        Ok(serde_json::to_value(todo).unwrap_or_default())
    }

    /// `PUT /todos/ID` updates the fields given.
    #[json]
    fn put(&self, ctx: &mut Context, id: u64) -> Result<Value, HttpStatus> {
        let fields = fields(ctx)?;
        let bucket = bucket()?;
        let conditional = ctx.header(IF_MATCH).is_some();
        for _ in 0..ATTEMPTS {
            let mut todo = load(&bucket, id)?;
            if !matches(ctx, &todo) {
                return Err(precondition_failed());
            }
            let Some(version) = claim(&bucket, &todo)? else {
                if conditional {
                    return Err(precondition_failed());
                }
                continue;
            };
            if let Some(title) = &fields.title {
                todo.title = title.trim().to_owned();
            }
            if let Some(done) = fields.done {
                todo.done = done;
            }
            todo.version = version;
            bucket.set_json(&item_key(id), &todo)?;
            ctx.set_header(ETAG, etag(&todo))?;
            return Ok(serde_json::to_value(todo).unwrap_or_default());
        }
        Err(HttpStatus::conflict().with_reason("The to-do is changing too fast; retry"))
    }

    /// `DELETE /todos/ID` removes one.
    #[action]
    fn delete(&self, ctx: &mut Context, id: u64) -> Result<(), HttpStatus> {
        let bucket = bucket()?;
        let todo = load(&bucket, id)?;
        if !matches(ctx, &todo) {
            return Err(precondition_failed());
        }
        if ctx.header(IF_MATCH).is_some() && claim(&bucket, &todo)?.is_none() {
            return Err(precondition_failed());
        }
        bucket.delete_many(&[&item_key(id), &version_key(id)])?;
        ctx.set_status(204);
        Ok(())
    }
}

/// The application root.
#[derive(Debug, Default)]
pub struct Root {
    todos: Todos,
}

#[controller]
impl Root {
    #[child]
    fn todos(&self) -> &Todos {
        &self.todos
    }
}

impl Application for Root {}

nanohttp::export!(Root);

#[cfg(test)]
mod tests {
    use super::*;
    use nanohttp::testing::TestClient;
    use serde_json::json;

    #[test]
    fn create_read_update_delete() {
        let client = TestClient::new(Root::default());
        let created = client
            .post("/todos")
            .json(&json!({"title": " Milk "}))
            .send();
        assert_eq!(created.status, 201, "{}", created.text());
        assert_eq!(created.header("location"), Some("/todos/1"));
        assert_eq!(created.header("etag"), Some("\"1\""));
        assert_eq!(
            created.json(),
            json!({"id": 1, "title": "Milk", "done": false, "version": 1})
        );

        let read = client.get("/todos/1").send();
        assert_eq!(read.status, 200);
        assert_eq!(read.json()["title"], "Milk");
        let cached = client
            .get("/todos/1")
            .header("if-none-match", "\"1\"")
            .send();
        assert_eq!(cached.status, 304);

        let updated = client
            .put("/todos/1")
            .header("if-match", "\"1\"")
            .json(&json!({"done": true}))
            .send();
        assert_eq!(updated.status, 200, "{}", updated.text());
        assert_eq!(updated.header("etag"), Some("\"2\""));
        assert_eq!(
            updated.json(),
            json!({"id": 1, "title": "Milk", "done": true, "version": 2})
        );
        let stale = client
            .put("/todos/1")
            .header("if-match", "\"1\"")
            .json(&json!({"done": false}))
            .send();
        assert_eq!(stale.status, 412);
        let unconditional = client
            .put("/todos/1")
            .json(&json!({"title": "Oat milk"}))
            .send();
        assert_eq!(unconditional.json()["version"], 3);

        assert_eq!(
            client
                .delete("/todos/1")
                .header("if-match", "\"2\"")
                .send()
                .status,
            412
        );
        assert_eq!(client.delete("/todos/1").send().status, 204);
        assert_eq!(client.get("/todos/1").send().status, 404);
        assert_eq!(client.delete("/todos/1").send().status, 404);
    }

    #[test]
    fn pages() {
        let client = TestClient::new(Root::default());
        for n in 1..=5 {
            let title = format!("Item {n}");
            assert_eq!(
                client
                    .post("/todos")
                    .json(&json!({"title": title}))
                    .send()
                    .status,
                201
            );
        }
        assert_eq!(client.delete("/todos/2").send().status, 204);
        let first = client.get("/todos?limit=2").send().json();
        assert_eq!(first["items"].as_array().unwrap().len(), 2);
        assert_eq!(first["items"][0]["id"], 1);
        assert_eq!(first["items"][1]["id"], 3);
        assert_eq!(first["next"], 3);
        let second = client.get("/todos?limit=2&after=3").send().json();
        assert_eq!(second["items"][0]["id"], 4);
        assert_eq!(second["items"][1]["id"], 5);
        assert_eq!(second["next"], Value::Null);
        assert_eq!(client.get("/todos?limit=0").send().status, 400);
    }

    #[test]
    fn bad_input() {
        let client = TestClient::new(Root::default());
        assert_eq!(client.post("/todos").json(&json!({})).send().status, 422);
        assert_eq!(
            client
                .post("/todos")
                .json(&json!({"title": ""}))
                .send()
                .status,
            422
        );
        assert_eq!(
            client
                .post("/todos")
                .json(&json!({"colour": 1}))
                .send()
                .status,
            400
        );
        assert_eq!(client.post("/todos").body("{").send().status, 400);
        assert_eq!(
            client
                .put("/todos/7")
                .json(&json!({"done": true}))
                .send()
                .status,
            404
        );
    }
}
