//! The embedded default: every bucket in one redb file (a table per bucket). Each write is
//! one transaction committed with redb's default durability (`Immediate`: the file is synced
//! before the commit returns), so a write the guest saw succeed survives a crash or `kill -9`
//! of the host. The file is opened in redb's `MultiWriter` mode (byte-range locks; Linux,
//! macOS, Windows): several host processes on one machine may share it, one write transaction
//! at a time. The file is opened on first use: a host whose guests keep no state creates none.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::{Fail, Op, Reply, add_to_counter};

pub(super) struct Embedded {
    path: PathBuf,
    /// Opened on first use, so a host whose guests never open a bucket creates no file; an
    /// open that failed is tried again by the next operation.
    db: Mutex<Option<Arc<Database>>>,
}

/// redb refuses to open one file twice, also within one process; hosts in one process (tests,
/// a reload) share the open database instead.
static OPEN: Mutex<Vec<(PathBuf, Weak<Database>)>> = Mutex::new(Vec::new());

impl Embedded {
    pub(super) fn new(path: &Path) -> Self {
        Self {
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
            db: Mutex::new(None),
        }
    }

    /// The database, opening it (and creating its directory) if this is the first use.
    fn database(&self) -> Result<Arc<Database>, Fail> {
        let mut db = self.db.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(db) = &*db {
            return Ok(db.clone());
        }
        let opened = open(&self.path).map_err(|e| {
            tracing::error!(target: "nanohttp::kv", "{e}");
            Fail::Unavailable(e)
        })?;
        *db = Some(opened.clone());
        Ok(opened)
    }

    /// Runs `op` on a blocking thread: redb's calls (and the sync on commit) block.
    pub(super) async fn run(&self, bucket: &str, op: Op) -> Result<Reply, Fail> {
        let db = self.database()?;
        let table = format!("bucket:{bucket}");
        tokio::task::spawn_blocking(move || run(&db, &table, op))
            .await
            .map_err(|e| Fail::Unavailable(format!("the store's thread failed: {e}")))?
    }
}

fn open(path: &Path) -> Result<Arc<Database>, String> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            format!(
                "cannot create the key-value store's directory '{}': {e}",
                dir.display()
            )
        })?;
    }
    let mut open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
    open.retain(|(_, db)| db.strong_count() > 0);
    if let Some(db) = open
        .iter()
        .find(|(p, _)| p == path)
        .and_then(|(_, db)| db.upgrade())
    {
        return Ok(db);
    }
    let db = redb::Builder::new()
        .set_concurrency_mode(redb::ConcurrencyMode::MultiWriter)
        .create(path)
        .map_err(|e| {
            let hint = match e {
                redb::DatabaseError::DatabaseAlreadyOpen
                | redb::DatabaseError::LockProtocolMismatch => {
                    " (another program has it open exclusively)"
                }
                _ => "",
            };
            format!(
                "cannot open the key-value store '{}': {e}{hint}",
                path.display()
            )
        })?;
    let db = Arc::new(db);
    open.push((path.to_owned(), Arc::downgrade(&db)));
    Ok(db)
}

fn io(error: impl std::fmt::Display) -> Fail {
    Fail::Unavailable(format!("the embedded store failed: {error}"))
}

type Table<'a> = TableDefinition<'a, &'static str, &'static [u8]>;

fn run(db: &Database, name: &str, op: Op) -> Result<Reply, Fail> {
    let def: Table<'_> = TableDefinition::new(name);
    match op {
        Op::Get(_) | Op::Exists(_) | Op::List { .. } | Op::GetMany(_) => read(db, def, op),
        _ => write(db, def, op),
    }
}

fn read(db: &Database, def: Table<'_>, op: Op) -> Result<Reply, Fail> {
    let txn = db.begin_read().map_err(io)?;
    let table = match txn.open_table(def) {
        Ok(table) => Some(table),
        Err(redb::TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(io(e)),
    };
    let get = |key: &str| -> Result<Option<Vec<u8>>, Fail> {
        match &table {
            None => Ok(None),
            Some(table) => Ok(table.get(key).map_err(io)?.map(|v| v.value().to_vec())),
        }
    };
    Ok(match op {
        Op::Get(key) => Reply::Value(get(&key)?),
        Op::Exists(key) => Reply::Bool(get(&key)?.is_some()),
        Op::GetMany(keys) => {
            Reply::Values(keys.iter().map(|key| get(key)).collect::<Result<_, _>>()?)
        }
        Op::List { cursor, page } => {
            let Some(table) = &table else {
                return Ok(Reply::Keys(Vec::new(), None));
            };
            // The cursor is the number of keys already listed, in key order.
            let start = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
            let mut keys = Vec::new();
            for entry in table.iter().map_err(io)?.skip(start).take(page as usize) {
                let (key, _) = entry.map_err(io)?;
                keys.push(key.value().to_owned());
            }
            let total = table.len().map_err(io)?;
            let next = (start + keys.len()) as u64;
            Reply::Keys(keys, (next < total).then_some(next))
        }
        _ => unreachable!("writes go to write()"),
    })
}

fn write(db: &Database, def: Table<'_>, op: Op) -> Result<Reply, Fail> {
    let txn = db.begin_write().map_err(io)?;
    let reply = {
        let mut table = txn.open_table(def).map_err(io)?;
        match op {
            Op::Set(key, value) => {
                table.insert(key.as_str(), value.as_slice()).map_err(io)?;
                Reply::Done
            }
            Op::Delete(key) => {
                table.remove(key.as_str()).map_err(io)?;
                Reply::Done
            }
            Op::Increment(key, delta) => {
                let current = table
                    .get(key.as_str())
                    .map_err(io)?
                    .map(|v| v.value().to_vec());
                let value = add_to_counter(current.as_deref(), delta)?;
                table
                    .insert(key.as_str(), value.to_string().as_bytes())
                    .map_err(io)?;
                Reply::Number(value)
            }
            Op::SetMany(items) => {
                for (key, value) in &items {
                    table.insert(key.as_str(), value.as_slice()).map_err(io)?;
                }
                Reply::Done
            }
            Op::DeleteMany(keys) => {
                for key in &keys {
                    table.remove(key.as_str()).map_err(io)?;
                }
                Reply::Done
            }
            _ => unreachable!("reads go to read()"),
        }
    };
    txn.commit().map_err(io)?;
    Ok(reply)
}
