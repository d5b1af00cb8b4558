//! The offline CLI commands, run as a user runs them: `key inspect`,
//! `key jwk [--private]`, `token mint --client`, `token verify`.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use keygate_tests::keygate_bin;
use shared::key::{AccessKey, KeyType};

fn keygate(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(keygate_bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run keygate");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn secret_key() -> AccessKey {
    AccessKey::from_entropy(KeyType::Secret, "test", None, [8; 12], &[9; 32]).unwrap()
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("keygate-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn inspect_prints_id_type_and_env_never_the_secret() {
    let key = secret_key();
    let out = stdout(&keygate(&["--json", "key", "inspect", key.expose()], None));
    let view: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(view["id"], key.key_id());
    assert_eq!(
        (view["type"].as_str(), view["env"].as_str()),
        (Some("secret"), Some("test"))
    );
    assert!(!out.contains(&key.expose()[40..]));
    // From stdin, too.
    let out = stdout(&keygate(&["key", "inspect", "-"], Some(key.expose())));
    assert!(out.contains(key.key_id()));
    // A typo: exit 1 and the reason on stderr.
    let mut typo = key.expose().to_owned();
    typo.replace_range(30..31, if &typo[30..31] == "a" { "b" } else { "a" });
    let output = keygate(&["key", "inspect", &typo], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("checksum"));
}

#[test]
fn jwk_public_and_private() {
    let key = secret_key();
    let public: serde_json::Value =
        serde_json::from_str(&stdout(&keygate(&["key", "jwk", key.expose()], None))).unwrap();
    assert_eq!(
        (public["kty"].as_str(), public["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    assert_eq!(public["kid"], key.key_id());
    assert!(public.get("d").is_none());
    let private: serde_json::Value = serde_json::from_str(&stdout(&keygate(
        &["key", "jwk", "--private", key.expose()],
        None,
    )))
    .unwrap();
    assert_eq!(private["x"], public["x"]);
    assert_eq!(private["d"].as_str().map(str::len), Some(43));
    // Publishable keys have no key pair.
    let publishable =
        AccessKey::from_entropy(KeyType::Publishable, "test", None, [8; 12], &[9; 24]).unwrap();
    assert_eq!(
        keygate(&["key", "jwk", publishable.expose()], None)
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn token_mint_then_verify_with_jwk_and_jwks() {
    let key = secret_key();
    let jwk = stdout(&keygate(&["key", "jwk", key.expose()], None));
    let jwk_file = temp_file("jwk.json", &jwk);
    let jwks_file = temp_file("jwks.json", &format!(r#"{{"keys":[{jwk}]}}"#));
    let token = stdout(&keygate(
        &[
            "token",
            "mint",
            "--key",
            "-",
            "--aud",
            "https://edge.example",
            "--client",
            "cl_cli",
            "--ttl",
            "120",
        ],
        Some(key.expose()),
    ));
    assert_eq!(token.split('.').count(), 3);

    for file in [&jwk_file, &jwks_file] {
        let out = stdout(&keygate(
            &[
                "token",
                "verify",
                "--jwk",
                file.to_str().unwrap(),
                "--aud",
                "https://edge.example",
                "--iss",
                "cl_cli",
                &token,
            ],
            None,
        ));
        let claims: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(claims["sub"], "cl_cli");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            120
        );
    }

    // Refusals exit 1 with the reason: wrong audience, another client, a
    // private JWK offered as verification key, a JWK of another key.
    let jwk_path = jwk_file.to_str().unwrap();
    for (args, reason) in [
        (vec!["--aud", "https://other.example"], "audience"),
        (vec!["--iss", "cl_other"], "issuer"),
    ] {
        let mut full = vec!["token", "verify", "--jwk", jwk_path];
        full.extend(args);
        full.push(&token);
        let output = keygate(&full, None);
        assert_eq!(output.status.code(), Some(1), "{reason}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(reason),
            "{reason}"
        );
    }
    let private = stdout(&keygate(&["key", "jwk", "--private", key.expose()], None));
    let private_file = temp_file("private.json", &private);
    let output = keygate(
        &[
            "token",
            "verify",
            "--jwk",
            private_file.to_str().unwrap(),
            &token,
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let other = AccessKey::from_entropy(KeyType::Secret, "test", None, [1; 12], &[1; 32]).unwrap();
    let other_jwk = temp_file(
        "other.json",
        &stdout(&keygate(&["key", "jwk", other.expose()], None)),
    );
    let output = keygate(
        &[
            "token",
            "verify",
            "--jwk",
            other_jwk.to_str().unwrap(),
            &token,
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("no key with kid"));
    for file in [jwk_file, jwks_file, private_file, other_jwk] {
        let _ = std::fs::remove_file(file);
    }
}

/// A key that carries its client id signs offline with nothing else: no
/// `--client`, no control plane (the URL points at a closed port). A
/// `--client` that contradicts the key is refused; a legacy key without
/// `--client` needs the control plane, which is not there.
#[test]
fn token_mint_reads_the_client_id_from_the_key() {
    let key = AccessKey::from_entropy(
        KeyType::Secret,
        "test",
        Some("cl_carried"),
        [4; 12],
        &[5; 32],
    )
    .unwrap();
    let closed = format!("http://127.0.0.1:{}", keygate_tests::free_port());
    let mint = |key: &AccessKey, extra: &[&str]| {
        let mut args = vec![
            "token",
            "mint",
            "--key",
            "-",
            "--aud",
            "https://api",
            "--url",
        ];
        args.push(&closed);
        args.extend_from_slice(extra);
        keygate(&args, Some(key.expose()))
    };
    let token = stdout(&mint(&key, &[]));
    let jwk = temp_file(
        "carried.jwk",
        &stdout(&keygate(&["key", "jwk", "-"], Some(key.expose()))),
    );
    let claims = stdout(&keygate(
        &[
            "token",
            "verify",
            "--jwk",
            jwk.to_str().unwrap(),
            "--aud",
            "https://api",
            "--iss",
            "cl_carried",
            &token,
        ],
        None,
    ));
    let claims: serde_json::Value = serde_json::from_str(&claims).unwrap();
    assert_eq!(
        (claims["iss"].as_str(), claims["sub"].as_str()),
        (Some("cl_carried"), Some("cl_carried"))
    );

    let contradicted = mint(&key, &["--client", "cl_other"]);
    assert!(!contradicted.status.success());
    assert!(String::from_utf8_lossy(&contradicted.stderr).contains("not the key's client"));

    let legacy = mint(&secret_key(), &[]);
    assert!(
        !legacy.status.success(),
        "a legacy key needs --client or the control plane"
    );
    let inspected = stdout(&keygate(&["--json", "key", "inspect", key.expose()], None));
    let inspected: serde_json::Value = serde_json::from_str(&inspected).unwrap();
    assert_eq!(inspected["client_id"], "cl_carried");
    let _ = std::fs::remove_file(jwk);
}
