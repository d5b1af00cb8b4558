//! The README's "Use from your language" cannot drift: every code block in
//! that section is a file of the repository, byte for byte, and each file
//! runs here against the local stack (control plane, edge in workerd, demo
//! origin). The SDK examples the README shows for TypeScript and Python run
//! in their SDKs' tests, installed as users install them (`sdk_js.rs`,
//! `sdk_python.rs`); this file runs the rest.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use keygate_tests::{eventually, keygate_bin, repo_root, Stack};
use serde_json::Value;

const SECTION: &str = "## Use from your language\n";
const MARKER: &str = "<!-- snippet: ";

/// `(path, block text)` of every code block of the section, in order; a
/// block without a marker naming its file is an error.
fn section_blocks() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme.find(SECTION).expect("the README has the section");
    let rest = &readme[start + SECTION.len()..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut blocks = Vec::new();
    let mut pending: Option<String> = None;
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(path) = line.strip_prefix(MARKER) {
            pending = Some(path.trim_end_matches(" -->").to_owned());
        } else if line.starts_with("```") {
            let path = pending
                .take()
                .unwrap_or_else(|| panic!("a code block without a snippet marker: {line}"));
            let mut text = String::new();
            for body in lines.by_ref() {
                if body.starts_with("```") {
                    break;
                }
                text.push_str(body);
                text.push('\n');
            }
            blocks.push((path, text));
        }
    }
    blocks
}

#[test]
fn the_readme_shows_the_tested_files_exactly() {
    let blocks = section_blocks();
    assert!(blocks.len() >= 7, "{blocks:?}");
    for (path, text) in &blocks {
        let file = std::fs::read_to_string(repo_root().join(path))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(text, &file, "README block for {path} differs from the file");
    }
    for needed in [
        "tests/snippets/curl.sh",
        "tests/snippets/verify.sh",
        "sdk/rust/examples/hello.rs",
        "sdk/js/examples/call.mjs",
        "sdk/python/examples/call.py",
        "tests/snippets/pyjwt.py",
        "tests/snippets/jose.mjs",
    ] {
        assert!(blocks.iter().any(|(p, _)| p == needed), "{needed} missing");
    }
}

/// Runs `program args` in `dir` with the snippet environment; its stdout.
fn run(dir: &Path, env: &[(&str, String)], program: &str, args: &[&str]) -> String {
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    let bin_dir = keygate_bin().parent().unwrap().to_owned();
    path =
        std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&path))).unwrap();
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PATH", path)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Every JSON document the snippet printed (the demo origin's echoes).
fn echoes(stdout: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(stdout)
        .into_iter::<Value>()
        .map(|v| v.unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}")))
        .collect()
}

/// The snippet reached the live origin through the edge, authenticated as
/// `auth`, as the key's client.
fn assert_through_edge(what: &str, echo: &Value, auth: &str, client_id: &str) {
    assert_eq!(echo["origin"], "live", "{what}: {echo}");
    assert_eq!(echo["path"], "/v1/hello", "{what}: {echo}");
    assert_eq!(echo["headers"]["x-keygate-auth"], auth, "{what}: {echo}");
    assert_eq!(
        echo["headers"]["x-keygate-client-id"], client_id,
        "{what}: {echo}"
    );
}

/// A fresh virtual environment with PyJWT (the JOSE snippet's library).
fn venv_with_pyjwt(dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    run(dir, &[], "python3", &["-m", "venv", venv.to_str().unwrap()]);
    let pip = venv.join("bin/pip");
    let lock = repo_root().join("sdk/python/requirements.lock");
    run(
        dir,
        &[],
        pip.to_str().unwrap(),
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            lock.to_str().unwrap(),
            "PyJWT==2.10.1",
            "cryptography",
        ],
    );
    venv.join("bin/python")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_snippets_run_against_the_local_stack() {
    let stack = Stack::start("readme-snippets");
    let client = stack.cli_json(&["client", "create", "--name", "snippets"]);
    let client_id = client["id"].as_str().unwrap().to_owned();
    let key = stack.cli_json(&["key", "create", "--client", &client_id]);
    let key = key["key"].as_str().unwrap().to_owned();
    // Publishing reaches the edge's KV asynchronously.
    eventually("the key is live at the edge", async || {
        reqwest::Client::new()
            .get(format!("{}/v1/hello", stack.edge))
            .bearer_auth(&key)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    let dir = stack.dir.join("snippets");
    std::fs::create_dir_all(&dir).unwrap();
    let snippet = |path: &str| repo_root().join(path).to_str().unwrap().to_owned();
    let url = format!("{}/v1/hello", stack.edge);
    let env = vec![
        ("KEYGATE_ACCESS_KEY", key),
        ("KEYGATE_EDGE", stack.edge.clone()),
        ("KEYGATE_AUDIENCE", stack.edge.clone()),
        ("KEYGATE_URL", stack.control_plane.clone()),
        (
            "DATABASE_URL",
            format!("sqlite://{}", stack.dir.join("keygate.db").display()),
        ),
    ];
    let bash = |path: &str| run(&dir, &env, "bash", &["-euo", "pipefail", &snippet(path)]);

    let curl = echoes(&bash("tests/snippets/curl.sh"));
    assert_eq!(curl.len(), 3, "{curl:?}");
    for (echo, auth) in curl.iter().zip(["static", "static", "jwt"]) {
        assert_through_edge("curl.sh", echo, auth, &client_id);
    }

    // `admin-key create` says where it wrote the key; then curl's answer.
    let printed = bash("tests/snippets/verify.sh");
    assert!(printed.starts_with("verify key "), "{printed}");
    let verdict = echoes(printed.lines().last().unwrap());
    assert_eq!(verdict.len(), 1, "{verdict:?}");
    assert_eq!(verdict[0]["valid"], true, "{verdict:?}");
    assert_eq!(verdict[0]["client_id"], client_id.as_str());
    assert_eq!(verdict[0]["auth"], "static");

    let hello = keygate_bin().parent().unwrap().join("examples/hello");
    assert!(hello.exists(), "make build builds the Rust SDK's examples");
    let out = echoes(&run(&dir, &env, hello.to_str().unwrap(), &[&url]));
    assert_through_edge("hello.rs", &out[0], "jwt", &client_id);

    // The JOSE snippets take the client id from the set-up lines.
    let setup = format!(
        "set -euo pipefail; source {}; echo \"$KEYGATE_CLIENT_ID\"",
        snippet("tests/snippets/jose-setup.sh")
    );
    let printed = run(&dir, &env, "bash", &["-c", &setup]);
    assert_eq!(printed.trim(), client_id);
    assert!(dir.join("private.jwk").exists());
    let mut jose_env = env.clone();
    jose_env.push(("KEYGATE_CLIENT_ID", client_id.clone()));

    let python = venv_with_pyjwt(&dir);
    let out = echoes(&run(
        &dir,
        &jose_env,
        python.to_str().unwrap(),
        &[&snippet("tests/snippets/pyjwt.py"), &url],
    ));
    assert_through_edge("pyjwt.py", &out[0], "jwt", &client_id);

    // jose resolves from the repository's node_modules (package-lock.json).
    let out = echoes(&run(
        &dir,
        &jose_env,
        "node",
        &[&snippet("tests/snippets/jose.mjs"), &url],
    ));
    assert_through_edge("jose.mjs", &out[0], "jwt", &client_id);
}
