//! `@keygate/sdk` as a user gets it: `npm pack` in sdk/js (built by `make
//! build-sdk-js`), `npm install <tarball>` into a fresh project, then the
//! package's node tests (sdk/js/test, copied into that project) against the
//! real stack: the edge in workerd with an origin signing secret, the control
//! plane, and a worker of the package's own run in workerd.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use keygate_tests::{eventually, free_port, repo_root, Options, Proc, Stack};
use shared::key::{AccessKey, KeyType};

const SECRET: &str = "origin-signing-secret-for-the-js-sdk";

fn run(command: &mut Command, what: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A fresh project with the packed package installed from its tarball, and
/// the package's tests copied in.
fn install_packed_sdk(name: &str) -> PathBuf {
    let sdk = repo_root().join("sdk/js");
    assert!(
        sdk.join("dist/keygate_sdk_wasm_bg.wasm").exists(),
        "sdk/js/dist is not built: run `make build-sdk-js` (make build and make test do)"
    );
    let project =
        std::env::temp_dir().join(format!("keygate-sdk-js-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&project);
    std::fs::create_dir_all(project.join("test")).expect("create project");
    let packed = run(
        Command::new("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(&project)
            .current_dir(&sdk),
        "npm pack",
    );
    let tarball = packed
        .lines()
        .last()
        .expect("npm pack names the tarball")
        .trim()
        .to_owned();
    assert!(tarball.ends_with(".tgz"), "npm pack printed {packed}");
    std::fs::write(
        project.join("package.json"),
        r#"{ "name": "keygate-sdk-js-test", "private": true, "type": "module" }"#,
    )
    .expect("write package.json");
    // The package has no dependencies: this needs no registry.
    run(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--prefer-offline",
                "--loglevel=error",
            ])
            .arg(format!("./{tarball}"))
            .current_dir(&project),
        "npm install of the tarball",
    );
    for entry in std::fs::read_dir(sdk.join("test")).expect("sdk/js/test") {
        let path = entry.expect("dir entry").path();
        if path
            .extension()
            .is_some_and(|e| e == "mjs" || e == "ts" || e == "json")
        {
            std::fs::copy(
                &path,
                project.join("test").join(path.file_name().expect("name")),
            )
            .expect("copy test file");
        }
    }
    std::fs::create_dir_all(project.join("examples")).expect("create examples dir");
    for name in ["call.mjs", "origin.mjs"] {
        std::fs::copy(
            sdk.join("examples").join(name),
            project.join("examples").join(name),
        )
        .expect("copy example");
    }
    project
}

/// A key issued before keys carried their client id, published straight to
/// KV for a real client (the control plane no longer issues such keys).
async fn legacy_key(stack: &Stack, client_id: &str) -> String {
    let key = AccessKey::from_entropy(KeyType::Secret, "live", None, [42; 12], &[43; 32])
        .expect("legacy key");
    stack.edge_stack.publish_secret_key(&key, client_id).await;
    key.expose().to_owned()
}

fn node_tests(project: &Path, files: &[&str], env: &[(&str, String)]) {
    let mut command = Command::new("node");
    command
        .args(["--test", "--test-reporter=spec", "--test-timeout=60000"])
        .args(files.iter().map(|f| format!("test/{f}")))
        .current_dir(project);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = run(&mut command, "node --test");
    println!("{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_js_installed_tarball_against_the_stack() {
    let project = install_packed_sdk("stack");
    // examples/origin.mjs serves the "test" environment: test keys reach it
    // through the edge; live keys reach the demo origin (an echo).
    let origin_port = free_port();
    let mut origin_cmd = Command::new("node");
    origin_cmd
        .arg("examples/origin.mjs")
        .current_dir(&project)
        .env("PORT", origin_port.to_string())
        .env("ORIGIN_SIGNING_SECRET", SECRET);
    let mut origin = Proc::spawn("sdk-js-origin", origin_cmd, &project);
    origin.wait_ready(Duration::from_secs(30));
    let origin_url = format!("http://127.0.0.1:{origin_port}");
    let stack = Stack::start_with(
        "sdk-js",
        &Options {
            signing_secret: Some(SECRET.to_owned()),
            vars: vec![("ORIGIN_TEST".to_owned(), origin_url.clone())],
            ..Options::default()
        },
    );
    let client = stack.cli_json(&["client", "create", "--name", "sdk-js"]);
    let client_id = client["id"].as_str().expect("client id").to_owned();
    let key = stack.cli_json(&["key", "create", "--client", &client_id])["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let publishable = stack.cli_json(&[
        "key",
        "create",
        "--client",
        &client_id,
        "--type",
        "publishable",
    ])["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let legacy_client = stack.cli_json(&["client", "create", "--name", "sdk-js-legacy"]);
    let legacy_client_id = legacy_client["id"].as_str().expect("client id").to_owned();
    let legacy = legacy_key(&stack, &legacy_client_id).await;

    // Created and revoked before any use: the edge and /v1/verify must both say "revoked".
    let revoked = stack.cli_json(&["key", "create", "--client", &client_id]);
    let revoked_key = revoked["key"].as_str().expect("key").to_owned();
    stack.cli_json(&["key", "revoke", revoked["id"].as_str().expect("key id")]);
    let verify_key = stack.verify_key();

    let http = reqwest::Client::new();
    for credential in [&key, &legacy] {
        eventually("the keys to be published", async || {
            http.get(format!("{}/ready", stack.edge))
                .bearer_auth(credential)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
    }

    eventually("the revocation to be published", async || {
        http.get(format!("{}/ready", stack.edge))
            .bearer_auth(&revoked_key)
            .send()
            .await
            .is_ok_and(|r| r.status() == reqwest::StatusCode::UNAUTHORIZED)
    })
    .await;

    let env = [
        ("KEYGATE_REPO_ROOT", repo_root().display().to_string()),
        (
            "KEYGATE_VECTORS_DIR",
            repo_root()
                .join("shared/tests/vectors")
                .display()
                .to_string(),
        ),
        ("KEYGATE_EDGE_URL", stack.edge.clone()),
        ("KEYGATE_CONTROL_PLANE_URL", stack.control_plane.clone()),
        ("KEYGATE_SIGNING_SECRET", SECRET.to_owned()),
        ("KEYGATE_ACCESS_KEY", key),
        ("KEYGATE_CLIENT_ID", client_id.clone()),
        ("KEYGATE_PUBLISHABLE_KEY", publishable),
        ("KEYGATE_LEGACY_KEY", legacy),
        ("KEYGATE_LEGACY_CLIENT_ID", legacy_client_id),
        ("KEYGATE_REVOKED_KEY", revoked_key),
        ("KEYGATE_VERIFY_KEY", verify_key),
    ];
    node_tests(
        &project,
        &[
            "vectors.test.mjs",
            "stack.test.mjs",
            "workers.test.mjs",
            "verifier-cache.test.mjs",
            "verifier.test.mjs",
        ],
        &env,
    );
    examples(&stack, &project, &client_id, &origin_url).await;
    drop(origin);
    let _ = std::fs::remove_dir_all(&project);
}

/// examples/call.mjs through the edge to examples/origin.mjs: a token from
/// the key, checked at the edge, the edge's signature checked at the origin.
async fn examples(stack: &Stack, project: &Path, client_id: &str, origin_url: &str) {
    let test_key = stack.cli_json(&["key", "create", "--client", client_id, "--env", "test"])
        ["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let http = reqwest::Client::new();
    eventually("the test key to be published", async || {
        http.get(format!("{}/hello", stack.edge))
            .bearer_auth(&test_key)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    let printed = run(
        Command::new("node")
            .args(["examples/call.mjs", &format!("{}/hello", stack.edge)])
            .current_dir(project)
            .env("KEYGATE_ACCESS_KEY", &test_key)
            .env("KEYGATE_AUDIENCE", &stack.edge),
        "node examples/call.mjs",
    );
    let body: serde_json::Value =
        serde_json::from_str(printed.trim()).expect("call.mjs prints JSON");
    assert_eq!(body["hello"], client_id, "{printed}");
    assert_eq!(body["caller"]["auth"], "jwt", "{printed}");
    assert_eq!(body["caller"]["env"], "test", "{printed}");
    // Straight to the origin, around the edge: refused.
    let direct = http
        .get(format!("{origin_url}/hello"))
        .header("x-keygate-client-id", client_id)
        .send()
        .await
        .expect("origin reachable");
    assert_eq!(direct.status(), reqwest::StatusCode::UNAUTHORIZED);
    let refusal: serde_json::Value = direct.json().await.expect("JSON refusal");
    assert_eq!(refusal["error"]["code"], "missing");
}

/// The shipped `index.d.ts`, as a TypeScript user sees it through the
/// installed package: tsc --strict (pinned in sdk/js/package-lock.json) over
/// test/types-check.ts, whose `@ts-expect-error` lines must not compile.
#[test]
fn sdk_js_types_check_in_the_installed_package() {
    let tsc = repo_root().join("sdk/js/node_modules/.bin/tsc");
    assert!(
        tsc.exists(),
        "{} missing: run `make setup` (scripts/setup.sh installs sdk/js's dev dependencies)",
        tsc.display()
    );
    let project = install_packed_sdk("types");
    run(
        Command::new(tsc)
            .args(["-p", "test/tsconfig.json"])
            .current_dir(&project),
        "tsc over test/types-check.ts",
    );
    let _ = std::fs::remove_dir_all(&project);
}
