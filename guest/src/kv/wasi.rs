//! The only kv code that names WASI types: [`Bucket`](super::Bucket) over the imported
//! `wasi:keyvalue@0.2.0-draft` interfaces.

use crate::component::bindings::wasi::keyvalue::{atomics, batch, store};

use super::{KeyPage, KvError};

impl From<store::Error> for KvError {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::NoSuchStore => KvError::NoSuchStore(String::new()),
            store::Error::AccessDenied => KvError::AccessDenied,
            store::Error::Other(text) => from_other(text),
        }
    }
}

pub(super) struct Bucket(store::Bucket);

impl Bucket {
    pub(super) fn open(name: &str) -> Result<Self, KvError> {
        store::open(name).map(Self).map_err(|error| match error {
            store::Error::NoSuchStore => KvError::NoSuchStore(name.to_owned()),
            other => other.into(),
        })
    }

    pub(super) fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.0.get(key)?)
    }

    pub(super) fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        Ok(self.0.set(key, value)?)
    }

    pub(super) fn delete(&self, key: &str) -> Result<(), KvError> {
        Ok(self.0.delete(key)?)
    }

    pub(super) fn exists(&self, key: &str) -> Result<bool, KvError> {
        Ok(self.0.exists(key)?)
    }

    pub(super) fn list_keys(&self, cursor: Option<u64>) -> Result<KeyPage, KvError> {
        let response = self.0.list_keys(cursor)?;
        Ok(KeyPage {
            keys: response.keys,
            cursor: response.cursor,
        })
    }

    pub(super) fn increment(&self, key: &str, delta: u64) -> Result<u64, KvError> {
        Ok(atomics::increment(&self.0, key, delta)?)
    }

    pub(super) fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        let owned: Vec<String> = keys.iter().map(|key| (*key).to_owned()).collect();
        let found = batch::get_many(&self.0, &owned)?;
        Ok(found
            .into_iter()
            .map(|pair| pair.map(|(_, value)| value))
            .collect())
    }

    pub(super) fn set_many(&self, pairs: &[(&str, &[u8])]) -> Result<(), KvError> {
        let owned: Vec<(String, Vec<u8>)> = pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.to_vec()))
            .collect();
        Ok(batch::set_many(&self.0, &owned)?)
    }

    pub(super) fn delete_many(&self, keys: &[&str]) -> Result<(), KvError> {
        let owned: Vec<String> = keys.iter().map(|key| (*key).to_owned()).collect();
        Ok(batch::delete_many(&self.0, &owned)?)
    }
}

/// Reads the host's `other(string)` error: the `nanohttp` host prefixes the reason with
/// `unavailable:`, `limit:` or `invalid key:` so that the guest can tell them apart.
fn from_other(text: String) -> KvError {
    for (prefix, make) in [
        (
            "unavailable:",
            KvError::Unavailable as fn(String) -> KvError,
        ),
        ("limit:", KvError::Limit),
        ("invalid key:", KvError::InvalidKey),
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return make(rest.trim_start().to_owned());
        }
    }
    KvError::Other(text)
}
