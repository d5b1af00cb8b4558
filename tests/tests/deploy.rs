//! The README's deploy path, offline: `wrangler deploy --dry-run` builds the
//! worker from `wrangler.toml` exactly as a real deploy would and lists the
//! bindings it would upload.

use std::process::Command;

use keygate_tests::repo_root;

#[test]
fn wrangler_deploy_dry_run_builds_and_binds() {
    let out = std::env::temp_dir().join(format!("keygate-deploy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(repo_root().join("node_modules/.bin/wrangler"))
        .current_dir(repo_root())
        .args(["deploy", "--dry-run", "--outdir"])
        .arg(&out)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "1")
        .env_remove("CLOUDFLARE_API_TOKEN")
        .env_remove("CLOUDFLARE_ACCOUNT_ID")
        .output()
        .expect("run wrangler");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "wrangler failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for binding in [
        "env.KEYS",
        "KV Namespace",
        "env.ORIGIN_LIVE",
        "env.AUDIENCE",
        "env.REQUIRE_HTTPS (\"true\")",
    ] {
        assert!(
            stdout.contains(binding),
            "{binding} missing from:\n{stdout}"
        );
    }
    let files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.iter().any(|f| f == "index.js"), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with(".wasm")), "{files:?}");
    let _ = std::fs::remove_dir_all(&out);
}
