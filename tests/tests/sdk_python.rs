//! The Python SDK (`sdk/python`, package `keygate`) as a user gets it: a
//! fresh virtual environment, `pip install 'keygate[requests,httpx]'` from
//! the source tree (dependencies pinned by `sdk/python/requirements.lock`),
//! then its unittest suite against the real stack: tokens accepted at the
//! edge in workerd through `requests` and `httpx`, origin signatures of real
//! edge output checked (and refused when tampered with), the ASGI and WSGI
//! middleware on forwarded requests, a legacy-layout key with `client_id=`,
//! the Verifier against the control plane's `/v1/verify`, and the examples
//! (`examples/call.py` through the edge; `examples/origin.py`, a WSGI app
//! behind `keygate.WSGIMiddleware`, as the edge's origin for `test` keys). The same run
//! checks the golden vectors of `shared/tests/vectors` byte for byte.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::Duration,
};

use keygate_tests::{eventually, free_port, repo_root, Options, Proc, Stack};
use shared::key::{AccessKey, KeyType};

const SECRET: &str = "origin-signing-secret-for-the-python-sdk";

fn run(what: &str, command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Copies the package's source tree (what a user's checkout has, without
/// build leftovers), so pip's in-tree build never writes into the repository
/// and concurrent runs cannot collide.
fn copy_source(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create source copy");
    for entry in std::fs::read_dir(from).expect("read sdk/python") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if matches!(name.as_ref(), "build" | "dist" | "__pycache__") || name.ends_with(".egg-info")
        {
            continue;
        }
        let target = to.join(&*name);
        if entry.file_type().expect("file type").is_dir() {
            copy_source(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// A venv with the package installed from source, as `pip install` does.
fn install_package(dir: &Path) -> PathBuf {
    let source = dir.join("keygate-src");
    copy_source(&repo_root().join("sdk/python"), &source);
    let venv = dir.join("venv");
    run(
        "python3 -m venv",
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
    );
    let python = venv.join("bin/python");
    run(
        "pip install keygate[requests,httpx]",
        Command::new(&python)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .arg("-c")
            .arg(source.join("requirements.lock"))
            .arg(format!("{}[requests,httpx]", source.display())),
    );
    python
}

/// A secret key in the layout from before keys carried their client id,
/// published for `client_id` the way the control plane published such keys
/// (static record and signing-key record), straight into the edge's KV.
async fn publish_legacy_key(stack: &Stack, client_id: &str) -> AccessKey {
    let seed = (std::process::id() % 251) as u8;
    let key = AccessKey::from_entropy(
        KeyType::Secret,
        "live",
        None,
        [seed; 12],
        &[seed ^ 0x5a; 32],
    )
    .expect("legacy key");
    stack.edge_stack.publish_secret_key(&key, client_id).await;
    key
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_installed_with_pip_against_the_stack() {
    let dir = std::env::temp_dir().join(format!("keygate-sdk-python-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    // pip (about ten seconds with a warm cache) runs while the stack starts.
    let installer = {
        let dir = dir.clone();
        std::thread::spawn(move || install_package(&dir))
    };
    // `test` keys go to the SDK's example origin (sdk/python/examples/origin.py),
    // started on this port once the package is installed; `live` keys go to
    // the demo origin, whose echo shows what the edge forwarded.
    let python_origin = format!("http://127.0.0.1:{}", free_port());
    let stack = Stack::start_with(
        "sdk-python",
        &Options {
            signing_secret: Some(SECRET.to_owned()),
            vars: vec![("ORIGIN_TEST".to_owned(), python_origin.clone())],
            ..Options::default()
        },
    );
    let client = stack.cli_json(&["client", "create", "--name", "python-sdk"]);
    let client_id = client["id"].as_str().expect("client id").to_owned();
    let created = stack.cli_json(&["key", "create", "--client", &client_id]);
    let key = created["key"].as_str().expect("key").to_owned();
    let key_id = created["id"].as_str().expect("key id").to_owned();
    let revocable = stack.cli_json(&["key", "create", "--client", &client_id]);
    let test_env = stack.cli_json(&["key", "create", "--client", &client_id, "--env", "test"]);
    let test_env_key = test_env["key"].as_str().expect("key").to_owned();
    let legacy = publish_legacy_key(&stack, &client_id).await;
    let verify_key = stack.verify_key();
    let http = reqwest::Client::new();
    // (The test key's origin is not up yet: it is awaited below.)
    for credential in [key.as_str(), legacy.expose()] {
        eventually("keys published", async || {
            http.get(format!("{}/ready", stack.edge))
                .bearer_auth(credential)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
    }

    let python = installer.join().expect("installer thread");
    let mut origin_cmd = Command::new(&python);
    origin_cmd
        .arg(dir.join("keygate-src/examples/origin.py"))
        .current_dir(&dir)
        .env("KEYGATE_SIGNING_SECRET", SECRET)
        .env("PORT", python_origin.rsplit(':').next().expect("port"));
    let mut origin = Proc::spawn("python-origin", origin_cmd, &dir);
    origin.wait_ready(Duration::from_secs(30));
    eventually("the test key published", async || {
        http.get(format!("{}/ready", stack.edge))
            .bearer_auth(&test_env_key)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    let output = Command::new(&python)
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(dir.join("keygate-src/tests"))
        // Not the source tree: the installed package must be the one imported.
        .current_dir(&dir)
        .env("KEYGATE_REQUIRE_STACK", "1")
        .env(
            "KEYGATE_VECTORS_DIR",
            repo_root().join("shared/tests/vectors"),
        )
        .env("KEYGATE_EDGE_URL", &stack.edge)
        .env("KEYGATE_CONTROL_PLANE_URL", &stack.control_plane)
        .env("KEYGATE_ACCESS_KEY", &key)
        .env("KEYGATE_KEY_ID", &key_id)
        .env("KEYGATE_CLIENT_ID", &client_id)
        .env(
            "KEYGATE_REVOCABLE_KEY",
            revocable["key"].as_str().expect("key"),
        )
        .env(
            "KEYGATE_REVOCABLE_KEY_ID",
            revocable["id"].as_str().expect("key id"),
        )
        .env("KEYGATE_ADMIN_KEY", &stack.admin_key)
        .env("KEYGATE_LEGACY_KEY", legacy.expose())
        .env("KEYGATE_TEST_ENV_KEY", &test_env_key)
        .env("KEYGATE_PYTHON_ORIGIN_URL", &python_origin)
        .env("KEYGATE_SIGNING_SECRET", SECRET)
        .env("KEYGATE_VERIFY_KEY", &verify_key)
        .output()
        .expect("run python -m unittest");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python SDK's tests failed:\n{}\n{report}",
        String::from_utf8_lossy(&output.stdout)
    );
    // Every test ran: none skipped for a missing variable or module.
    assert!(!report.contains("skipped"), "tests were skipped:\n{report}");
    let ran = report
        .lines()
        .find_map(|l| {
            l.strip_prefix("Ran ")?
                .split(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .unwrap_or(0);
    assert!(ran >= 58, "only {ran} tests ran:\n{report}");
    drop(origin);
    let _ = std::fs::remove_dir_all(&dir);
}
