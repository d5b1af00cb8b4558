//! The SQLite database holds key hashes and the audit log: its file, WAL and
//! shared-memory file are readable by their owner only, like the admin-key
//! file.

#![cfg(unix)]

mod support;

use std::os::unix::fs::PermissionsExt as _;

use serde_json::json;
use support::{backends, Api};

#[tokio::test]
async fn sqlite_files_are_private() {
    for backend in backends().await {
        if let Some(dir) = backend.sqlite_dir().map(std::path::Path::to_path_buf) {
            // A write, so the WAL and shared-memory files exist.
            let api = Api::new(&backend).await;
            api.create_client(&json!({ "name": "modes" })).await;
            for file in ["keygate.db", "keygate.db-wal", "keygate.db-shm"] {
                let path = dir.join(file);
                let mode = std::fs::metadata(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o077, 0, "{file} has mode {:o}", mode & 0o777);
            }
        }
        backend.finish().await;
    }
}
