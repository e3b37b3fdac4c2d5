//! `memory:`: buckets in the host's memory, shared by its instances, gone when it stops.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use super::{Fail, Op, Reply, add_to_counter};

#[derive(Default)]
pub(super) struct Memory {
    buckets: Mutex<HashMap<String, BTreeMap<String, Vec<u8>>>>,
}

impl Memory {
    pub(super) fn run(&self, bucket: &str, op: Op) -> Result<Reply, Fail> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let pairs = buckets.entry(bucket.to_owned()).or_default();
        Ok(match op {
            Op::Get(key) => Reply::Value(pairs.get(&key).cloned()),
            Op::Set(key, value) => {
                pairs.insert(key, value);
                Reply::Done
            }
            Op::Delete(key) => {
                pairs.remove(&key);
                Reply::Done
            }
            Op::Exists(key) => Reply::Bool(pairs.contains_key(&key)),
            Op::List { cursor, page } => {
                // The cursor is the number of keys already listed, in key order.
                let start = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
                let keys: Vec<String> = pairs
                    .keys()
                    .skip(start)
                    .take(page as usize)
                    .cloned()
                    .collect();
                let next = start.saturating_add(keys.len());
                Reply::Keys(keys, (next < pairs.len()).then_some(next as u64))
            }
            Op::Increment(key, delta) => {
                let value = add_to_counter(pairs.get(&key).map(Vec::as_slice), delta)?;
                pairs.insert(key, value.to_string().into_bytes());
                Reply::Number(value)
            }
            Op::GetMany(keys) => {
                Reply::Values(keys.iter().map(|key| pairs.get(key).cloned()).collect())
            }
            Op::SetMany(items) => {
                pairs.extend(items);
                Reply::Done
            }
            Op::DeleteMany(keys) => {
                for key in keys {
                    pairs.remove(&key);
                }
                Reply::Done
            }
        })
    }
}
