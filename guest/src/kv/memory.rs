//! The native store behind [`Bucket`](super::Bucket): real, in memory, with the host's default
//! limits, so handlers that keep state are tested with plain `cargo test`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::{DEFAULT_BUCKET, KeyPage, KvError};

/// The limits a store enforces; the defaults are the `nanohttp` host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest key, in bytes.
    pub max_key_size: usize,
    /// Largest value, in bytes.
    pub max_value_size: usize,
    /// Keys in one page of `list_keys`.
    pub list_page_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_key_size: 1024,
            max_value_size: 1 << 20,
            list_page_size: 100,
        }
    }
}

type Buckets = HashMap<String, BTreeMap<String, Vec<u8>>>;

/// An in-memory key-value store: its buckets (by default only `default`) and their pairs.
/// Clones share the same data.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    buckets: Arc<Mutex<Buckets>>,
    limits: Limits,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_buckets(&[DEFAULT_BUCKET])
    }
}

impl MemoryStore {
    /// A store offering exactly these buckets, empty.
    pub fn with_buckets(names: &[&str]) -> Self {
        let buckets = names
            .iter()
            .map(|name| ((*name).to_owned(), BTreeMap::new()))
            .collect();
        Self {
            buckets: Arc::new(Mutex::new(buckets)),
            limits: Limits::default(),
        }
    }

    /// The same store with other limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Every pair of `bucket`, in key order (for assertions in tests).
    pub fn dump(&self, bucket: &str) -> Vec<(String, Vec<u8>)> {
        self.lock()
            .get(bucket)
            .map(|pairs| pairs.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<MemoryStore>> = const { RefCell::new(None) };
}

/// Makes `store` the one [`Bucket::open`](super::Bucket::open) uses on this thread until the
/// guard drops (a `TestClient` request).
pub(crate) fn enter(store: &MemoryStore) -> impl Drop {
    let previous = CURRENT.with(|current| current.replace(Some(store.clone())));
    Restore(previous)
}

struct Restore(Option<MemoryStore>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

fn current() -> MemoryStore {
    static PROCESS: OnceLock<MemoryStore> = OnceLock::new();
    CURRENT
        .with(|current| current.borrow().clone())
        .unwrap_or_else(|| PROCESS.get_or_init(MemoryStore::default).clone())
}

pub(super) struct Bucket {
    store: MemoryStore,
    name: String,
}

impl Bucket {
    pub(super) fn open(name: &str) -> Result<Self, KvError> {
        let store = current();
        if !store.lock().contains_key(name) {
            return Err(KvError::NoSuchStore(name.to_owned()));
        }
        Ok(Self {
            store,
            name: name.to_owned(),
        })
    }

    fn check_key(&self, key: &str) -> Result<(), KvError> {
        if key.is_empty() {
            return Err(KvError::InvalidKey("the key is empty".into()));
        }
        let limit = self.store.limits.max_key_size;
        if key.len() > limit {
            return Err(KvError::Limit(format!(
                "a key of {} bytes is longer than the limit of {limit}",
                key.len()
            )));
        }
        Ok(())
    }

    fn check_value(&self, value: &[u8]) -> Result<(), KvError> {
        let limit = self.store.limits.max_value_size;
        if value.len() > limit {
            return Err(KvError::Limit(format!(
                "a value of {} bytes is larger than the limit of {limit}",
                value.len()
            )));
        }
        Ok(())
    }

    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, Vec<u8>>) -> T) -> T {
        let mut buckets = self.store.lock();
        f(buckets.entry(self.name.clone()).or_default())
    }

    pub(super) fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.check_key(key)?;
        Ok(self.with(|pairs| pairs.get(key).cloned()))
    }

    pub(super) fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.check_key(key)?;
        self.check_value(value)?;
        self.with(|pairs| pairs.insert(key.to_owned(), value.to_vec()));
        Ok(())
    }

    pub(super) fn delete(&self, key: &str) -> Result<(), KvError> {
        self.check_key(key)?;
        self.with(|pairs| pairs.remove(key));
        Ok(())
    }

    pub(super) fn exists(&self, key: &str) -> Result<bool, KvError> {
        self.check_key(key)?;
        Ok(self.with(|pairs| pairs.contains_key(key)))
    }

    pub(super) fn list_keys(&self, cursor: Option<u64>) -> Result<KeyPage, KvError> {
        let page = self.store.limits.list_page_size;
        let start = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
        Ok(self.with(|pairs| {
            let keys: Vec<String> = pairs.keys().skip(start).take(page).cloned().collect();
            let next = start + keys.len();
            let cursor = (next < pairs.len()).then_some(next as u64);
            KeyPage { keys, cursor }
        }))
    }

    pub(super) fn increment(&self, key: &str, delta: u64) -> Result<u64, KvError> {
        self.check_key(key)?;
        self.with(|pairs| {
            let current = match pairs.get(key) {
                None => 0,
                Some(bytes) => parse_counter(bytes)?,
            };
            let next = current
                .checked_add(delta)
                .ok_or_else(|| KvError::Other(format!("the counter {key:?} would overflow")))?;
            pairs.insert(key.to_owned(), next.to_string().into_bytes());
            Ok(next)
        })
    }

    pub(super) fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        keys.iter().try_for_each(|key| self.check_key(key))?;
        Ok(self.with(|pairs| keys.iter().map(|key| pairs.get(*key).cloned()).collect()))
    }

    pub(super) fn set_many(&self, items: &[(&str, &[u8])]) -> Result<(), KvError> {
        for (key, value) in items {
            self.check_key(key)?;
            self.check_value(value)?;
        }
        self.with(|pairs| {
            for (key, value) in items {
                pairs.insert((*key).to_owned(), value.to_vec());
            }
        });
        Ok(())
    }

    pub(super) fn delete_many(&self, keys: &[&str]) -> Result<(), KvError> {
        keys.iter().try_for_each(|key| self.check_key(key))?;
        self.with(|pairs| {
            for key in keys {
                pairs.remove(*key);
            }
        });
        Ok(())
    }
}

/// A counter is stored as decimal text, as Redis's `INCRBY` keeps it.
fn parse_counter(bytes: &[u8]) -> Result<u64, KvError> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| KvError::Other("the value is not a counter (decimal text)".into()))
}

#[cfg(test)]
mod tests {
    use super::super::Bucket;
    use super::*;

    fn with_store<T>(store: &MemoryStore, f: impl FnOnce() -> T) -> T {
        let _current = enter(store);
        f()
    }

    #[test]
    fn pages_follow_key_order_and_end_with_no_cursor() {
        let store = MemoryStore::default().with_limits(Limits {
            list_page_size: 2,
            ..Limits::default()
        });
        with_store(&store, || {
            let bucket = Bucket::open_default().unwrap();
            for key in ["c", "a", "e", "b", "d"] {
                bucket.set(key, key.as_bytes()).unwrap();
            }
            let pages: Vec<KeyPage> = [None, Some(2), Some(4), Some(9)]
                .into_iter()
                .map(|cursor| bucket.list_keys(cursor).unwrap())
                .collect();
            assert_eq!(pages[0].keys, ["a", "b"]);
            assert_eq!(pages[0].cursor, Some(2));
            assert_eq!(pages[1].keys, ["c", "d"]);
            assert_eq!(pages[2].keys, ["e"]);
            assert_eq!(pages[2].cursor, None);
            assert!(pages[3].keys.is_empty() && pages[3].cursor.is_none());
            assert_eq!(bucket.keys().unwrap(), ["a", "b", "c", "d", "e"]);
        });
    }

    #[test]
    fn limits_and_errors() {
        let store = MemoryStore::with_buckets(&["default", "b"]).with_limits(Limits {
            max_key_size: 3,
            max_value_size: 4,
            list_page_size: 10,
        });
        with_store(&store, || {
            let bucket = Bucket::open("b").unwrap();
            let cases: &[(Result<(), KvError>, &str)] = &[
                (bucket.set("", b"x"), "invalid key"),
                (bucket.set("abcd", b"x"), "a key of 4 bytes"),
                (bucket.set("abc", b"12345"), "a value of 5 bytes"),
                (bucket.set_many(&[("a", b"1"), ("", b"2")]), "invalid key"),
                (bucket.delete_many(&["abcd"]), "a key of 4 bytes"),
            ];
            for (result, expected) in cases {
                let error = result.as_ref().unwrap_err().to_string();
                assert!(
                    error.contains(expected),
                    "{error} should contain {expected}"
                );
            }
            assert_eq!(
                bucket.get("a").unwrap(),
                None,
                "a refused batch wrote nothing"
            );
            bucket.set("w", b"word").unwrap();
            assert!(matches!(bucket.increment("w", 1), Err(KvError::Other(_))));
            assert_eq!(bucket.increment("n", u64::MAX).unwrap(), u64::MAX);
            assert!(bucket.increment("n", 1).is_err(), "overflow is an error");
            assert_eq!(
                Bucket::open("c").unwrap_err(),
                KvError::NoSuchStore("c".into())
            );
            assert_eq!(store.dump("b").len(), 2);
        });
    }

    #[test]
    fn errors_become_statuses() {
        use crate::status::HttpStatus;
        let unavailable = HttpStatus::from(KvError::Unavailable("down".into()));
        assert_eq!(unavailable.code(), 503);
        assert_eq!(unavailable.headers()["retry-after"], "1");
        assert!(unavailable.detail().unwrap().contains("down"));
        for error in [
            KvError::NoSuchStore("x".into()),
            KvError::Limit("big".into()),
            KvError::Json("bad".into()),
            KvError::Other("?".into()),
        ] {
            assert_eq!(HttpStatus::from(error).code(), 500);
        }
    }
}
