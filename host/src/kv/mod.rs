//! State for guests: the host's implementation of `wasi:keyvalue@0.2.0-draft` (`store`,
//! `atomics`, `batch`). A policy (which buckets, which limits, checked here) in front of one
//! backend shared by every instance: `memory:`, the embedded file store (redb) or Redis.
//!
//! Errors never trap: they reach the guest as the interface's `error`. A backend that cannot
//! be reached is `other("unavailable: ...")` (the guest's `nanohttp::kv` makes it a `503`); a
//! broken limit is `other("limit: ...")`, a refused key `other("invalid key: ...")`.

mod embedded;
mod memory;
mod options;
mod redis;

use std::collections::HashSet;
use std::sync::Arc;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

pub(crate) use options::KvOptions;

use generated::wasi::keyvalue::{atomics, batch, store};

#[allow(missing_docs, unreachable_pub, clippy::all, reason = "generated code")]
mod generated {
    wasmtime::component::bindgen!({
        path: "wit/keyvalue.wit",
        world: "wasi:keyvalue/imports",
        imports: { default: async },
        with: {
            "wasi:keyvalue/store.bucket": super::BucketRep,
        },
    });
}

/// One operation on one bucket, as a backend runs it.
#[derive(Debug)]
pub(crate) enum Op {
    Get(String),
    Set(String, Vec<u8>),
    Delete(String),
    Exists(String),
    List { cursor: Option<u64>, page: u32 },
    Increment(String, u64),
    GetMany(Vec<String>),
    SetMany(Vec<(String, Vec<u8>)>),
    DeleteMany(Vec<String>),
}

impl Op {
    /// Its place in [`crate::metrics::KV_OPS`].
    fn index(&self) -> usize {
        match self {
            Op::Get(_) => 0,
            Op::Set(..) => 1,
            Op::Delete(_) => 2,
            Op::Exists(_) => 3,
            Op::List { .. } => 4,
            Op::Increment(..) => 5,
            Op::GetMany(_) => 6,
            Op::SetMany(_) => 7,
            Op::DeleteMany(_) => 8,
        }
    }
}

/// What an [`Op`] returns.
#[derive(Debug, PartialEq)]
pub(crate) enum Reply {
    Value(Option<Vec<u8>>),
    Done,
    Bool(bool),
    Keys(Vec<String>, Option<u64>),
    Number(u64),
    Values(Vec<Option<Vec<u8>>>),
}

/// Why an [`Op`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fail {
    /// The backend cannot be reached now.
    Unavailable(String),
    /// The backend refused the operation (a value that is not a counter, ...).
    Other(String),
}

enum Backend {
    Memory(memory::Memory),
    Embedded(embedded::Embedded),
    Redis(redis::Redis),
}

/// The key-value store every instance of an app shares.
pub(crate) struct Kv {
    backend: Backend,
    buckets: HashSet<String>,
    options: KvOptions,
}

impl Kv {
    /// Prepares the configured backend. Nothing is opened yet: the embedded file is created or
    /// opened, and Redis connected, on first use (and again after a failure), so a backend
    /// that is unavailable at start-up only fails the requests that use it, with `503`.
    ///
    /// # Errors
    /// The Redis URL is malformed.
    pub(crate) fn open(options: &KvOptions) -> anyhow::Result<Arc<Self>> {
        let backend = match &options.url {
            options::Backend::Memory => Backend::Memory(memory::Memory::default()),
            options::Backend::File(path) => Backend::Embedded(embedded::Embedded::new(path)),
            options::Backend::Redis(url) => Backend::Redis(redis::Redis::new(url, options)?),
        };
        tracing::debug!(
            target: "nanohttp::kv",
            "key-value store {} with buckets {}",
            options.url.describe(),
            options.buckets.join(", ")
        );
        Ok(Arc::new(Self {
            backend,
            buckets: options.buckets.iter().cloned().collect(),
            options: options.clone(),
        }))
    }

    async fn run(&self, bucket: &str, op: Op) -> Result<Reply, Fail> {
        let counted = op.index();
        let result = match &self.backend {
            Backend::Memory(memory) => memory.run(bucket, op),
            Backend::Embedded(embedded) => embedded.run(bucket, op).await,
            Backend::Redis(redis) => redis.run(bucket, op).await,
        };
        if let Err(fail) = &result {
            tracing::warn!(target: "nanohttp::kv", bucket, "key-value operation failed: {fail:?}");
        }
        crate::metrics::kv(counted, result.is_ok());
        result
    }
}

/// A counter is stored as decimal text, as Redis's `INCRBY` keeps it.
fn add_to_counter(current: Option<&[u8]>, delta: u64) -> Result<u64, Fail> {
    let current = match current {
        None => 0,
        Some(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or_else(|| Fail::Other("the value is not a counter (decimal text)".into()))?,
    };
    current
        .checked_add(delta)
        .ok_or_else(|| Fail::Other("the counter would overflow".into()))
}

/// The guest's handle to an open bucket.
#[derive(Debug)]
#[allow(
    unreachable_pub,
    reason = "bindgen! re-exports it from the generated module"
)]
pub struct BucketRep {
    name: Arc<str>,
}

/// One instance's access to the store: the store, and the operations its current request has
/// made so far.
pub(crate) struct KvCtx {
    kv: Arc<Kv>,
    operations: u32,
}

impl KvCtx {
    pub(crate) fn new(kv: Arc<Kv>) -> Self {
        Self { kv, operations: 0 }
    }

    /// A new request starts (with `--reuse`, on the same instance): its own operation budget.
    pub(crate) fn begin_request(&mut self) {
        self.operations = 0;
    }
}

/// What the generated host traits are implemented for: the context and the instance's
/// resource table.
pub(crate) struct KvView<'a> {
    pub(crate) ctx: &'a mut KvCtx,
    pub(crate) table: &'a mut ResourceTable,
}

struct HasKv;

impl HasData for HasKv {
    type Data<'a> = KvView<'a>;
}

/// Adds `wasi:keyvalue/{store,atomics,batch}@0.2.0-draft` to the linker.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> KvView<'_>,
) -> anyhow::Result<()> {
    store::add_to_linker::<_, HasKv>(linker, view)?;
    atomics::add_to_linker::<_, HasKv>(linker, view)?;
    batch::add_to_linker::<_, HasKv>(linker, view)?;
    Ok(())
}

type Error = store::Error;

fn other(text: impl Into<String>) -> Error {
    Error::Other(text.into())
}

impl KvView<'_> {
    fn bucket(&self, bucket: &Resource<BucketRep>) -> Result<Arc<str>, Error> {
        self.table
            .get(bucket)
            .map(|rep| rep.name.clone())
            .map_err(|e| other(e.to_string()))
    }

    /// Counts `count` operations against the request's budget.
    fn spend(&mut self, count: usize) -> Result<(), Error> {
        let limit = self.ctx.kv.options.max_operations;
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        self.ctx.operations = self.ctx.operations.saturating_add(count);
        if self.ctx.operations > limit {
            return Err(other(format!(
                "limit: more than {limit} key-value operations in one request"
            )));
        }
        Ok(())
    }

    fn check_key(&self, key: &str) -> Result<(), Error> {
        if key.is_empty() {
            return Err(other("invalid key: the key is empty"));
        }
        let limit = self.ctx.kv.options.max_key_size;
        if key.len() > limit {
            return Err(other(format!(
                "limit: a key of {} bytes is longer than the limit of {limit}",
                key.len()
            )));
        }
        Ok(())
    }

    fn check_value(&self, value: &[u8]) -> Result<(), Error> {
        let limit = self.ctx.kv.options.max_value_size;
        if value.len() > limit {
            return Err(other(format!(
                "limit: a value of {} bytes is larger than the limit of {limit}",
                value.len()
            )));
        }
        Ok(())
    }

    async fn run(&mut self, bucket: &Resource<BucketRep>, op: Op) -> Result<Reply, Error> {
        let name = self.bucket(bucket)?;
        let kv = self.ctx.kv.clone();
        Kv::run(&kv, &name, op).await.map_err(|fail| match fail {
            Fail::Unavailable(why) => other(format!("unavailable: {why}")),
            Fail::Other(why) => other(why),
        })
    }

    /// An operation on one key: the key checked, one operation spent.
    async fn one(&mut self, bucket: &Resource<BucketRep>, op: Op) -> Result<Reply, Error> {
        if let Op::Get(key)
        | Op::Set(key, _)
        | Op::Delete(key)
        | Op::Exists(key)
        | Op::Increment(key, _) = &op
        {
            self.check_key(key)?;
        }
        self.spend(1)?;
        self.run(bucket, op).await
    }
}

fn unexpected(reply: Reply) -> Error {
    other(format!("the backend answered {reply:?}"))
}

impl store::Host for KvView<'_> {
    async fn open(&mut self, identifier: String) -> Result<Resource<BucketRep>, Error> {
        if !self.ctx.kv.buckets.contains(&identifier) {
            return Err(Error::NoSuchStore);
        }
        self.table
            .push(BucketRep {
                name: identifier.into(),
            })
            .map_err(|e| other(e.to_string()))
    }
}

impl store::HostBucket for KvView<'_> {
    async fn get(
        &mut self,
        bucket: Resource<BucketRep>,
        key: String,
    ) -> Result<Option<Vec<u8>>, Error> {
        match self.one(&bucket, Op::Get(key)).await? {
            Reply::Value(value) => Ok(value),
            reply => Err(unexpected(reply)),
        }
    }

    async fn set(
        &mut self,
        bucket: Resource<BucketRep>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), Error> {
        self.check_value(&value)?;
        match self.one(&bucket, Op::Set(key, value)).await? {
            Reply::Done => Ok(()),
            reply => Err(unexpected(reply)),
        }
    }

    async fn delete(&mut self, bucket: Resource<BucketRep>, key: String) -> Result<(), Error> {
        match self.one(&bucket, Op::Delete(key)).await? {
            Reply::Done => Ok(()),
            reply => Err(unexpected(reply)),
        }
    }

    async fn exists(&mut self, bucket: Resource<BucketRep>, key: String) -> Result<bool, Error> {
        match self.one(&bucket, Op::Exists(key)).await? {
            Reply::Bool(found) => Ok(found),
            reply => Err(unexpected(reply)),
        }
    }

    async fn list_keys(
        &mut self,
        bucket: Resource<BucketRep>,
        cursor: Option<u64>,
    ) -> Result<store::KeyResponse, Error> {
        self.spend(1)?;
        let page = self.ctx.kv.options.list_page_size;
        match self.run(&bucket, Op::List { cursor, page }).await? {
            Reply::Keys(keys, cursor) => Ok(store::KeyResponse { keys, cursor }),
            reply => Err(unexpected(reply)),
        }
    }

    async fn drop(&mut self, bucket: Resource<BucketRep>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for KvView<'_> {
    async fn increment(
        &mut self,
        bucket: Resource<BucketRep>,
        key: String,
        delta: u64,
    ) -> Result<u64, Error> {
        match self.one(&bucket, Op::Increment(key, delta)).await? {
            Reply::Number(value) => Ok(value),
            reply => Err(unexpected(reply)),
        }
    }
}

impl batch::Host for KvView<'_> {
    async fn get_many(
        &mut self,
        bucket: Resource<BucketRep>,
        keys: Vec<String>,
    ) -> Result<Vec<Option<(String, Vec<u8>)>>, Error> {
        keys.iter().try_for_each(|key| self.check_key(key))?;
        self.spend(keys.len())?;
        match self.run(&bucket, Op::GetMany(keys.clone())).await? {
            Reply::Values(values) if values.len() == keys.len() => Ok(keys
                .into_iter()
                .zip(values)
                .map(|(key, value)| value.map(|value| (key, value)))
                .collect()),
            reply => Err(unexpected(reply)),
        }
    }

    async fn set_many(
        &mut self,
        bucket: Resource<BucketRep>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> Result<(), Error> {
        for (key, value) in &key_values {
            self.check_key(key)?;
            self.check_value(value)?;
        }
        self.spend(key_values.len())?;
        match self.run(&bucket, Op::SetMany(key_values)).await? {
            Reply::Done => Ok(()),
            reply => Err(unexpected(reply)),
        }
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<BucketRep>,
        keys: Vec<String>,
    ) -> Result<(), Error> {
        keys.iter().try_for_each(|key| self.check_key(key))?;
        self.spend(keys.len())?;
        match self.run(&bucket, Op::DeleteMany(keys)).await? {
            Reply::Done => Ok(()),
            reply => Err(unexpected(reply)),
        }
    }
}
