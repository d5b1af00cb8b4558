//! Connecting to SQLite or PostgreSQL and migrating either.
//!
//! One `sqlx::AnyPool` serves both backends, so the queries in `store` are
//! written once. The price is the Any driver's small type set (integers,
//! text): times are stored as Unix seconds and JSON as text, which suits a
//! schema that must mean the same thing on both backends anyway.

use std::{path::Path, str::FromStr, time::Duration};

use anyhow::Context as _;
use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    AnyPool, Executor,
};

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
    let pool = AnyPoolOptions::new()
        .max_connections(match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 16,
        })
        .acquire_timeout(Duration::from_secs(10))
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
    let db = Db { pool, backend };
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
