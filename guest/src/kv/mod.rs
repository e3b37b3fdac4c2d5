//! State that outlives a request: named buckets of a key-value store, over `wasi:keyvalue`
//! (`store`, `atomics` and `batch`, version `0.2.0-draft`).
//!
//! ```
//! use nanohttp::kv::Bucket;
//!
//! # fn main() -> Result<(), nanohttp::kv::KvError> {
//! let bucket = Bucket::open_default()?;
//! bucket.set("greeting", b"hello")?;
//! assert_eq!(bucket.get("greeting")?.as_deref(), Some(&b"hello"[..]));
//! assert_eq!(bucket.increment("visits", 1)?, 1);
//! bucket.set_json("user.1", &serde_json::json!({ "name": "Ada" }))?;
//! let user: Option<serde_json::Value> = bucket.get_json("user.1")?;
//! assert_eq!(user.unwrap()["name"], "Ada");
//! # Ok(())
//! # }
//! ```
//!
//! In a component the host provides the store (the `nanohttp` host: an embedded file, Redis
//! or memory, see the README). Natively (`cargo test`, [`TestClient`](crate::testing::TestClient))
//! a real in-memory store answers the same calls with the host's default limits: each
//! `TestClient` has its own ([`TestClient::kv`](crate::testing::TestClient::kv)); code that
//! runs outside one shares a store per process.
//!
//! Keys every store takes: ASCII letters, digits and `-`, `_`, `=`, `/`, `.`, not starting or
//! ending with `.` (`todo.item.1`). The `nanohttp` host takes more, but wasmCloud's NATS
//! key-value store refuses any other character (`tip:2` is a `500`: `key-value store:
//! JetStream error: key cannot be empty or start/end with .`), and its bucket names are
//! letters, digits, `-` and `_`.
//!
//! Every error is a [`KvError`], which converts with `?` into an [`HttpStatus`]: `503` with
//! `Retry-After` when the backend is unavailable, `500` otherwise, with the reason as detail.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::status::HttpStatus;

// Compiled for wasm32 too, where `TestClient` still names the store, but unused there.
#[cfg_attr(
    target_arch = "wasm32",
    allow(dead_code, reason = "components use the host's store")
)]
mod memory;
#[cfg(target_arch = "wasm32")]
mod wasi;

pub(crate) use memory::enter;
pub use memory::{Limits, MemoryStore};

#[cfg(not(target_arch = "wasm32"))]
use memory as imp;
#[cfg(target_arch = "wasm32")]
use wasi as imp;

/// The bucket every host offers unless configured otherwise.
pub const DEFAULT_BUCKET: &str = "default";

/// What went wrong with a key-value operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The host offers no bucket of that name (`wasi:keyvalue` `no-such-store`).
    #[error("no such key-value bucket: {0:?}")]
    NoSuchStore(String),
    /// The host refuses this component the bucket.
    #[error("access to the key-value bucket is denied")]
    AccessDenied,
    /// The backend cannot be reached now (the host says `unavailable: ...`); retry later.
    #[error("the key-value store is unavailable: {0}")]
    Unavailable(String),
    /// A limit of the host: key or value size, operations per request (`limit: ...`).
    #[error("key-value limit: {0}")]
    Limit(String),
    /// A key the store refuses (empty, for instance).
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A stored value is not the JSON [`Bucket::get_json`] expected, or a value does not
    /// serialise.
    #[error("key-value JSON: {0}")]
    Json(String),
    /// Anything else the host reports.
    #[error("key-value store: {0}")]
    Other(String),
}

impl KvError {
    /// Whether retrying later may succeed (the backend was unavailable).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, KvError::Unavailable(_))
    }
}

impl From<KvError> for HttpStatus {
    fn from(error: KvError) -> Self {
        let status = if error.is_unavailable() {
            HttpStatus::service_unavailable().with_header(http::header::RETRY_AFTER, "1")
        } else {
            HttpStatus::internal_server_error()
        };
        status.with_detail(error.to_string())
    }
}

/// One page of [`Bucket::list_keys`]: the keys, and the cursor of the next page, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPage {
    pub keys: Vec<String>,
    /// `None`: this was the last page.
    pub cursor: Option<u64>,
}

/// An open bucket: a named collection of key-value pairs that the host keeps between requests.
pub struct Bucket {
    name: String,
    inner: imp::Bucket,
}

impl fmt::Debug for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bucket").field("name", &self.name).finish()
    }
}

impl Bucket {
    /// Opens the bucket `name`; [`KvError::NoSuchStore`] if the host offers none of that name.
    pub fn open(name: &str) -> Result<Self, KvError> {
        Ok(Self {
            name: name.to_owned(),
            inner: imp::Bucket::open(name)?,
        })
    }

    /// Opens the host's default bucket: the one named [`DEFAULT_BUCKET`] (the `nanohttp`
    /// host, Spin), else the one named `""` (`wasmtime serve -Skeyvalue` offers only that).
    pub fn open_default() -> Result<Self, KvError> {
        match Self::open(DEFAULT_BUCKET) {
            Err(KvError::NoSuchStore(_)) => Self::open("").map_err(|error| match error {
                KvError::NoSuchStore(_) => KvError::NoSuchStore(DEFAULT_BUCKET.to_owned()),
                other => other,
            }),
            result => result,
        }
    }

    /// The name it was opened with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value of `key`, `None` if there is none.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.inner.get(key)
    }

    /// The value of `key` as UTF-8 text (replacing invalid sequences).
    pub fn get_string(&self, key: &str) -> Result<Option<String>, KvError> {
        Ok(self
            .get(key)?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Stores `value` under `key`, replacing any value it had.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.inner.set(key, value)
    }

    /// Removes `key`; nothing happens if there is no such key.
    pub fn delete(&self, key: &str) -> Result<(), KvError> {
        self.inner.delete(key)
    }

    /// Whether `key` has a value.
    pub fn exists(&self, key: &str) -> Result<bool, KvError> {
        self.inner.exists(key)
    }

    /// One page of the bucket's keys: start with `None`, then pass the page's `cursor` until
    /// it is `None`. The order is the backend's; keys written meanwhile may or may not appear.
    pub fn list_keys(&self, cursor: Option<u64>) -> Result<KeyPage, KvError> {
        self.inner.list_keys(cursor)
    }

    /// Every key, page after page.
    pub fn keys(&self) -> Result<Vec<String>, KvError> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.list_keys(cursor)?;
            keys.extend(page.keys);
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    /// The value of `key` parsed as JSON into `T`; a value that does not parse is
    /// [`KvError::Json`].
    pub fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, KvError> {
        match self.get(key)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| KvError::Json(format!("the value of {key:?}: {e}"))),
        }
    }

    /// Stores `value` as JSON under `key`.
    pub fn set_json<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), KvError> {
        let bytes = serde_json::to_vec(value).map_err(|e| KvError::Json(e.to_string()))?;
        self.set(key, &bytes)
    }

    /// Adds `delta` to the number stored under `key` (a missing key counts as 0) atomically,
    /// and returns the new number. The `nanohttp` host and the native store keep counters as
    /// decimal text, as Redis does (`get_string` reads `"42"`); other hosts may not, so read a
    /// counter back portably with `increment(key, 0)`.
    pub fn increment(&self, key: &str, delta: u64) -> Result<u64, KvError> {
        self.inner.increment(key, delta)
    }

    /// The values of `keys`, in order: `None` for a key without one.
    pub fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        self.inner.get_many(keys)
    }

    /// Stores every pair.
    pub fn set_many(&self, pairs: &[(&str, &[u8])]) -> Result<(), KvError> {
        self.inner.set_many(pairs)
    }

    /// Removes every key.
    pub fn delete_many(&self, keys: &[&str]) -> Result<(), KvError> {
        self.inner.delete_many(keys)
    }
}
