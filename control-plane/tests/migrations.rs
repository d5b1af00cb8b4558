//! Migrations applied to a database that already holds data: 0008 gives
//! every outbox entry an explicit target kind, read from the `cl_` prefix of
//! the entries written before it (the one time the prefix is read).

mod support;

use std::path::Path;

use sqlx::{any::AnyPoolOptions, migrate::Migrator};
use support::empty_databases;

/// Copies the migrations of `backend` numbered below `before` to a folder.
fn migrations_before(backend: &str, before: i64, into: &Path) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::create_dir_all(into).unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let version: i64 = name.split('_').next().unwrap().parse().unwrap();
        if version < before {
            std::fs::copy(&path, into.join(&name)).unwrap();
        }
    }
}

#[tokio::test]
async fn outbox_entries_written_before_0008_get_their_kind() {
    sqlx::any::install_default_drivers();
    for empty in empty_databases().await {
        let ctx = empty.label;
        // The schema as it was before 0008, with an old-style outbox.
        let url = if ctx == "sqlite" {
            let path = empty.url.trim_start_matches("sqlite://");
            std::fs::create_dir_all(Path::new(path).parent().unwrap()).unwrap();
            format!("{}?mode=rwc", empty.url)
        } else {
            empty.url.clone()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        let folder = std::env::temp_dir().join(format!("keygate-mig-{ctx}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        migrations_before(ctx, 8, &folder);
        Migrator::new(folder.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        for name in ["cl_1WmsagKCWzQw5k9vD", "0Xu2IklggBdQxjHwB"] {
            sqlx::query(
                "insert into outbox (key_id, created_at_ms, next_attempt_ms) values ($1, 1, 1)",
            )
            .bind(name)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
        let _ = std::fs::remove_dir_all(&folder);

        // The control plane's own connect applies 0008.
        let backend = empty.migrate().await;
        let kinds: Vec<(String, String)> =
            sqlx::query_as("select key_id, target_kind from outbox order by outbox_id")
                .fetch_all(&backend.db.pool)
                .await
                .unwrap();
        assert_eq!(
            kinds,
            [
                ("cl_1WmsagKCWzQw5k9vD".to_owned(), "client".to_owned()),
                ("0Xu2IklggBdQxjHwB".to_owned(), "key".to_owned()),
            ],
            "[{ctx}]"
        );
        backend.finish().await;
    }
}
