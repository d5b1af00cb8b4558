//! Connecting to SQLite or PostgreSQL and migrating either.
//!
//! One `sqlx::AnyPool` serves both backends, so the queries in `store` are
//! written once. The price is the Any driver's small type set (integers,
//! text): times are stored as Unix seconds and JSON as text, which suits a
//! schema that must mean the same thing on both backends anyway.
//!
//! On PostgreSQL the one-row reads of a credential check (the verification
//! API's hot path) go through [`Readers`] instead of the pool: see there why.

use std::{
    path::Path,
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context as _;
use sqlx::{
    any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyRow},
    query::Query,
    Any, AnyConnection, AnyPool, Connection as _, Executor,
};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, one process.
    Sqlite,
    /// Shared, any number of control-plane replicas.
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres://")
        }
    }
}

/// A connection pool and the backend it talks to.
#[derive(Debug, Clone)]
pub struct Db {
    /// The pool.
    pub pool: AnyPool,
    /// The backend.
    pub backend: Backend,
    /// Connections for one-row reads on PostgreSQL (none on SQLite).
    readers: Option<Arc<Readers>>,
}

impl Db {
    /// A pool (and on PostgreSQL its readers, connecting with `options`).
    pub fn new(pool: AnyPool, backend: Backend, options: AnyConnectOptions) -> Self {
        let readers = (backend == Backend::Postgres).then(|| Arc::new(Readers::new(options)));
        Self {
            pool,
            backend,
            readers,
        }
    }

    /// Runs the read-only query `query()` builds, which returns at most one
    /// row: on a reader connection on PostgreSQL, on the pool otherwise.
    pub async fn fetch_optional<'q>(
        &self,
        query: impl Fn() -> Query<'q, Any, AnyArguments<'q>>,
    ) -> sqlx::Result<Option<AnyRow>> {
        match &self.readers {
            Some(readers) => readers.fetch_optional(query).await,
            None => query().fetch_optional(&self.pool).await,
        }
    }
}

/// How long a query waits for a connection (the pool's, or a new reader).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The pool's size on PostgreSQL.
pub const POSTGRES_POOL: u32 = 16;

/// How many [`Readers`] connections a process opens at most, on top of the
/// pool's: as many as the pool, so the verification path has as many
/// queries in flight as it had on the pool (8 measured a little slower at
/// concurrency 16). A process may so hold 32 PostgreSQL connections.
pub const READERS: usize = POSTGRES_POOL as usize;

/// Connections for one-row, read-only queries on PostgreSQL, kept apart
/// from the pool because sqlx's pool (0.8) tests every connection that
/// comes back to it with a ping: a round trip to the server after every
/// query, about 40 % of the PostgreSQL work of a verification (measured in
/// bench/verify/README.md). A reader is handed back as soon as its query
/// answered, with no ping; one whose query failed or was abandoned half-way
/// (the request was cancelled) is closed instead, so a connection in an
/// unknown state is never reused. At most [`READERS`] are open; they are
/// opened on first use.
#[derive(Debug)]
pub struct Readers {
    options: AnyConnectOptions,
    permits: Semaphore,
    idle: Mutex<Vec<AnyConnection>>,
}

impl Readers {
    fn new(options: AnyConnectOptions) -> Self {
        Self {
            options,
            permits: Semaphore::new(READERS),
            idle: Mutex::default(),
        }
    }

    /// Runs `query()` on an idle reader (or a new one), and keeps the
    /// reader if it answered. (If this future is dropped half-way, the
    /// reader is dropped with it: closed.) A reader that was idle may have
    /// been closed by the server meanwhile (a restart): the query is
    /// read-only, so when it fails there it is tried once more on a new
    /// connection, whose answer (or error) counts.
    async fn fetch_optional<'q>(
        &self,
        query: impl Fn() -> Query<'q, Any, AnyArguments<'q>>,
    ) -> sqlx::Result<Option<AnyRow>> {
        let _permit: SemaphorePermit<'_> = self
            .permits
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let (conn, row) = match idle {
            Some(mut conn) => match query().fetch_optional(&mut conn).await {
                Ok(row) => (conn, row),
                Err(_) => {
                    let mut conn = self.connect().await?;
                    let row = query().fetch_optional(&mut conn).await?;
                    (conn, row)
                }
            },
            None => {
                let mut conn = self.connect().await?;
                let row = query().fetch_optional(&mut conn).await?;
                (conn, row)
            }
        };
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
        Ok(row)
    }

    /// A new connection, within the pool's acquire timeout.
    async fn connect(&self) -> sqlx::Result<AnyConnection> {
        tokio::time::timeout(ACQUIRE_TIMEOUT, AnyConnection::connect_with(&self.options))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
    }
}

/// Connects (creating a SQLite file and its folder if needed) and runs migrations.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(url)?;
    let url = match backend {
        Backend::Sqlite => sqlite_url(url)?,
        Backend::Postgres => url.to_owned(),
    };
    let options = AnyConnectOptions::from_str(&url).context("invalid DATABASE_URL")?;
    let reader_options = options.clone();
    let pool = AnyPoolOptions::new()
        .max_connections(match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => POSTGRES_POOL,
        })
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // sqlx pings every connection it hands out by default: one more round
        // trip to the database per query (on PostgreSQL a Sync message the
        // server wakes up for), which made `select 1` cost two. A connection
        // that broke while idle fails its query instead (a 503 for that one
        // request) and is dropped from the pool, which opens a fresh one.
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL lets readers proceed during a write; the busy timeout
                    // makes concurrent writers wait instead of failing.
                    conn.execute("pragma journal_mode = wal").await?;
                    conn.execute("pragma synchronous = normal").await?;
                    conn.execute("pragma foreign_keys = on").await?;
                    conn.execute("pragma busy_timeout = 10000").await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("could not connect to the {backend:?} database"))?;
    let db = Db::new(pool, backend, reader_options);
    migrate(&db).await?;
    Ok(db)
}

/// Applies pending migrations of the pool's backend.
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    let migrator = match db.backend {
        Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    migrator
        .run(&db.pool)
        .await
        .context("database migration failed")
}

/// Makes sure the SQLite file's folder exists and the file may be created.
fn sqlite_url(url: &str) -> anyhow::Result<String> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    if path != ":memory:" && !path.is_empty() {
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else {
        format!("mode=rwc&{query}")
    };
    if path != ":memory:" && !path.is_empty() && query.contains("mode=rwc") {
        create_private(Path::new(path))?;
    }
    Ok(format!("sqlite://{path}?{}", query.trim_end_matches('&')))
}

/// Creates the database file readable by its owner only (0600, like the
/// admin-key file) before SQLite opens it: the file holds key hashes and the
/// audit log. SQLite gives the `-wal` and `-shm` files it creates later the
/// database file's permissions, so they are private too. An existing file is
/// left as it is (its owner may have chosen its mode).
fn create_private(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}
