//! `cargo bench -p keygate-bench`: the hot paths of `shared`, and Ed25519
//! verification in ed25519-compact (what `shared` uses) against ring and
//! ed25519-dalek on the same message, key and signature. Ends with a table
//! of µs/op and the compact/ring and compact/dalek ratios of this run.
//!
//! Settings are short on purpose (the whole run takes a few minutes on two
//! cores); pass criterion flags after `--` for longer runs, e.g.
//! `cargo bench -p keygate-bench -- --measurement-time 10 ed25519`.

use std::{hint::black_box, path::PathBuf, time::Duration};

use criterion::Criterion;
use shared::{
    jwt::{mint, MintClaims, Unverified, VerifyOptions},
    key::{AccessKey, KeyType},
    signing::SigningKeyPair,
};

/// The clock the token is verified at (`shared` reads no clock).
const NOW: i64 = 1_700_000_000;

/// (group, function) of every benchmark, in table order.
const TABLE: [(&str, &str); 8] = [
    ("key", "parse"),
    ("key", "hash"),
    ("jwt", "verify"),
    ("jwt", "mint"),
    ("ed25519_verify", "compact"),
    ("ed25519_verify", "ring"),
    ("ed25519_verify", "dalek"),
    ("ed25519_verify", "dalek_parsed_key"),
];

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    let ran = run(&mut criterion);
    criterion.final_summary();
    // Under `cargo test` criterion runs each routine once and measures
    // nothing, so there is nothing to summarise.
    if std::env::args().any(|arg| arg == "--bench") {
        summary(&ran);
    }
}

/// Runs the benchmarks; returns the ids of those that ran (a filter such as
/// `-- jwt` skips the rest), so the summary never shows a stale estimate.
fn run(c: &mut Criterion) -> Vec<String> {
    let mut ran = Vec::new();
    let mut mark = |id: &str| {
        if !ran.iter().any(|r| r == id) {
            ran.push(id.to_owned());
        }
    };

    let key = AccessKey::from_entropy(KeyType::Secret, "live", None, [1; 12], &[2; 32]).unwrap();
    let key_text = key.expose().to_owned();
    let pair = SigningKeyPair::derive(&key).unwrap();
    let verification_key = pair.public_jwk().verification_key().unwrap();
    let options = VerifyOptions {
        audience: Some("https://edge.keygate.test".to_owned()),
        client_id: Some("cl_bench".to_owned()),
        ..VerifyOptions::default()
    };
    let claims = MintClaims {
        client_id: "cl_bench",
        audience: "https://edge.keygate.test",
        issued_at: NOW - 10,
        ttl: 600,
        jti: "bench-jti",
    };
    let token = mint(&pair, &claims);

    let mut group = c.benchmark_group("key");
    group.bench_function("parse", |b| {
        mark("key/parse");
        b.iter(|| AccessKey::parse(black_box(&key_text)).unwrap());
    });
    group.bench_function("hash", |b| {
        mark("key/hash");
        b.iter(|| black_box(&key).hash());
    });
    group.finish();

    let mut group = c.benchmark_group("jwt");
    group.bench_function("verify", |b| {
        mark("jwt/verify");
        b.iter(|| {
            Unverified::parse(black_box(&token))
                .unwrap()
                .verify(&verification_key, &options, NOW)
                .unwrap()
        });
    });
    group.bench_function("mint", |b| {
        mark("jwt/mint");
        b.iter(|| mint(&pair, black_box(&claims)));
    });
    group.finish();

    // The token's own signature: a realistic message of a few hundred bytes.
    let (message, signature) = token.rsplit_once('.').unwrap();
    let message = message.as_bytes();
    let signature: [u8; 64] = shared::b64::decode_url(signature)
        .unwrap()
        .try_into()
        .unwrap();
    let public_key = pair.public_key();

    // Each starts from the 32 key bytes, as the edge does with a key from KV:
    // compact and ring decode the point inside `verify`, dalek in
    // `from_bytes`. `dalek_parsed_key` shows what caching the decoded key
    // would save.
    let mut group = c.benchmark_group("ed25519_verify");
    group.bench_function("compact", |b| {
        mark("ed25519_verify/compact");
        b.iter(|| {
            let key = ed25519_compact::PublicKey::new(*black_box(&public_key));
            key.verify(message, &ed25519_compact::Signature::new(signature))
                .unwrap();
        });
    });
    group.bench_function("ring", |b| {
        mark("ed25519_verify/ring");
        b.iter(|| {
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ED25519,
                black_box(&public_key),
            )
            .verify(message, &signature)
            .unwrap();
        });
    });
    group.bench_function("dalek", |b| {
        mark("ed25519_verify/dalek");
        b.iter(|| {
            let key = ed25519_dalek::VerifyingKey::from_bytes(black_box(&public_key)).unwrap();
            key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature))
                .unwrap();
        });
    });
    let parsed = ed25519_dalek::VerifyingKey::from_bytes(&public_key).unwrap();
    group.bench_function("dalek_parsed_key", |b| {
        mark("ed25519_verify/dalek_parsed_key");
        b.iter(|| {
            black_box(&parsed)
                .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature))
                .unwrap();
        });
    });
    group.finish();
    ran
}

/// Where criterion wrote its estimates: its own rule ($CRITERION_HOME, else
/// the target directory), with the target directory found from this
/// binary's path (target/<profile>/deps/<bench>) rather than `cargo metadata`.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            exe.ancestors().nth(3).map(PathBuf::from)
        })
        .unwrap_or_else(|| "target".into());
    target.join("criterion")
}

/// Criterion's headline figure in ns: the slope when it has one, else the mean.
fn estimate_ns(id: &str) -> Option<f64> {
    let path = criterion_dir().join(id).join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let typical = if json["slope"].is_null() {
        &json["mean"]
    } else {
        &json["slope"]
    };
    typical["point_estimate"].as_f64()
}

fn summary(ran: &[String]) {
    let measured = |id: &str| {
        ran.iter()
            .any(|r| r == id)
            .then(|| estimate_ns(id))
            .flatten()
    };
    println!("\nkeygate-bench summary (this run)");
    println!("{:<34} {:>10}", "benchmark", "µs/op");
    for (group, function) in TABLE {
        let id = format!("{group}/{function}");
        match measured(&id) {
            Some(ns) => println!("{id:<34} {:>10.3}", ns / 1000.0),
            None => println!("{id:<34} {:>10}", "not run"),
        }
    }
    let compact = measured("ed25519_verify/compact");
    for other in ["ring", "dalek"] {
        let label = format!("ed25519-compact / {other} (time)");
        match (compact, measured(&format!("ed25519_verify/{other}"))) {
            (Some(a), Some(b)) => println!("{label:<34} {:>10.2}", a / b),
            _ => println!("{label:<34} {:>10}", "not run"),
        }
    }
}
