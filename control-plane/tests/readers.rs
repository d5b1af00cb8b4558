//! The credential lookup's reader connections (`db::Readers`, PostgreSQL
//! only): connections the server closed while they were idle (a restart,
//! an operator's `pg_terminate_backend`) cost no request an error.

mod support;

use control_plane::store;
use support::backends;

#[tokio::test]
async fn a_reader_the_server_closed_is_replaced() {
    for backend in backends().await {
        let db = &backend.db;
        let ctx = backend.label;
        // Opens a reader on PostgreSQL (the pool on SQLite) and keeps it.
        let found = store::key_and_client_by_id(db, "k_nobody").await;
        assert!(matches!(found, Ok(None)), "{ctx}: {found:?}");
        if ctx == "postgres" {
            // Every other connection to this database, readers included.
            let killed: i64 = sqlx::query_scalar(
                "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity \
                 where datname = current_database() and pid <> pg_backend_pid()) as t",
            )
            .fetch_one(&db.pool)
            .await
            .unwrap();
            assert!(killed >= 1, "{ctx}: the reader was connected");
        }
        for _ in 0..3 {
            let found = store::key_and_client_by_id(db, "k_nobody").await;
            assert!(matches!(found, Ok(None)), "{ctx}: {found:?}");
        }
        backend.finish().await;
    }
}
