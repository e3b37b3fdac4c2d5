//! `redis://HOST:PORT/DB`: buckets in a Redis database that several hosts share. Each pair is
//! a Redis string under `nanohttp:BUCKET:KEY`; counters are `INCRBY`'s decimal text; lists are
//! `SCAN ... MATCH nanohttp:BUCKET:*`. One multiplexed connection (redis's
//! `ConnectionManager`: requests are pipelined on it, so it needs no pool) connects on first
//! use, reconnects after a failure, and every call is bounded by `host.kv.timeout`.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use super::{Fail, KvOptions, Op, Reply};

pub(super) struct Redis {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    timeout: Duration,
}

impl Redis {
    pub(super) fn new(url: &str, options: &KvOptions) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("invalid Redis URL for host.kv.url: {e}"))?;
        Ok(Self {
            client,
            connection: OnceCell::new(),
            timeout: options.timeout,
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, Fail> {
        self.connection
            .get_or_try_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await
            .cloned()
            .map_err(|e| Fail::Unavailable(format!("cannot connect to Redis: {e}")))
    }

    pub(super) async fn run(&self, bucket: &str, op: Op) -> Result<Reply, Fail> {
        match tokio::time::timeout(self.timeout, self.run_now(bucket, op)).await {
            Ok(result) => result,
            Err(_) => Err(Fail::Unavailable(format!(
                "Redis did not answer within {:?}",
                self.timeout
            ))),
        }
    }

    async fn run_now(&self, bucket: &str, op: Op) -> Result<Reply, Fail> {
        let mut conn = self.connection().await?;
        let prefix = format!("nanohttp:{bucket}:");
        let key = |k: &str| format!("{prefix}{k}");
        Ok(match op {
            Op::Get(k) => Reply::Value(query(redis::cmd("GET").arg(key(&k)), &mut conn).await?),
            Op::Set(k, value) => {
                query::<()>(redis::cmd("SET").arg(key(&k)).arg(value), &mut conn).await?;
                Reply::Done
            }
            Op::Delete(k) => {
                query::<()>(redis::cmd("DEL").arg(key(&k)), &mut conn).await?;
                Reply::Done
            }
            Op::Exists(k) => {
                Reply::Bool(query::<u64>(redis::cmd("EXISTS").arg(key(&k)), &mut conn).await? > 0)
            }
            Op::List { cursor, page } => {
                let (next, keys): (u64, Vec<String>) = query(
                    redis::cmd("SCAN")
                        .arg(cursor.unwrap_or(0))
                        .arg("MATCH")
                        .arg(format!("{prefix}*"))
                        .arg("COUNT")
                        .arg(page),
                    &mut conn,
                )
                .await?;
                let keys = keys
                    .into_iter()
                    .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
                    .collect();
                Reply::Keys(keys, (next != 0).then_some(next))
            }
            Op::Increment(k, delta) => {
                let delta = i64::try_from(delta)
                    .map_err(|_| Fail::Other(format!("Redis cannot add {delta} to a counter")))?;
                let value: i64 =
                    query(redis::cmd("INCRBY").arg(key(&k)).arg(delta), &mut conn).await?;
                Reply::Number(
                    u64::try_from(value)
                        .map_err(|_| Fail::Other(format!("the counter is negative ({value})")))?,
                )
            }
            Op::GetMany(keys) if keys.is_empty() => Reply::Values(Vec::new()),
            Op::GetMany(keys) => {
                let mut cmd = redis::cmd("MGET");
                for k in &keys {
                    cmd.arg(key(k));
                }
                Reply::Values(query(&cmd, &mut conn).await?)
            }
            Op::SetMany(items) if items.is_empty() => Reply::Done,
            Op::SetMany(items) => {
                let mut cmd = redis::cmd("MSET");
                for (k, value) in &items {
                    cmd.arg(key(k)).arg(value.as_slice());
                }
                query::<()>(&cmd, &mut conn).await?;
                Reply::Done
            }
            Op::DeleteMany(keys) if keys.is_empty() => Reply::Done,
            Op::DeleteMany(keys) => {
                let mut cmd = redis::cmd("DEL");
                for k in &keys {
                    cmd.arg(key(k));
                }
                query::<()>(&cmd, &mut conn).await?;
                Reply::Done
            }
        })
    }
}

async fn query<T: redis::FromRedisValue>(
    cmd: &redis::Cmd,
    conn: &mut ConnectionManager,
) -> Result<T, Fail> {
    cmd.query_async(conn).await.map_err(|e| {
        if e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
        {
            Fail::Unavailable(format!("Redis: {e}"))
        } else {
            Fail::Other(format!("Redis: {e}"))
        }
    })
}
