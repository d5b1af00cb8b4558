//! Writes the seed corpus: `cargo run --example seeds` (from fuzz/).
//! Seeds are derived from the fixture, so they stay valid if it changes;
//! rerun this after a change to the key or token formats.

use std::{fs, path::Path};

use keygate_fuzz::{
    fixture, publishable_key, reference_claims_json, secret_key, AUDIENCE, CLIENT_ID,
};

fn main() -> std::io::Result<()> {
    let secret = secret_key().expose().to_owned();
    let publishable = publishable_key().expose().to_owned();
    let token = fixture().token.clone();
    // A valid key with one checksum digit changed: the checksum path.
    let mut typo = secret.clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'0' { b'1' } else { b'0' };
    let typo = String::from_utf8(typo).expect("ASCII");
    // "user:" with an empty password, as `curl -u key:` sends it.
    let basic = shared::b64::encode_standard(format!("{secret}:").as_bytes());

    let seeds: &[(&str, &str, String)] = &[
        ("key_parse", "secret", secret.clone()),
        ("key_parse", "publishable", publishable.clone()),
        ("key_parse", "checksum_typo", typo),
        // Token text for half 1; edits for half 2 (four bytes each).
        ("token_verify", "token", token.clone()),
        // A payload for half 3: the reference claims, signed by the target.
        ("token_verify", "claims", reference_claims_json()),
        // Regression (found by this target): `exp - iat` overflowed in
        // shared::jwt, a panic in debug builds and, wrapped in release, a
        // token that never expires. Kept so the smoke run checks the fix.
        (
            "token_verify",
            "regress_lifetime_overflow",
            format!(
                r#"{{"iss":"{CLIENT_ID}","sub":"{CLIENT_ID}","aud":"{AUDIENCE}","iat":-9000000000000000000,"exp":9000000000000000000}}"#
            ),
        ),
        // Flag '1': header only; '2': query only; '3': both.
        ("credential_extract", "bearer", format!("1Bearer {token}")),
        ("credential_extract", "basic", format!("1Basic {basic}")),
        ("credential_extract", "query", format!("2\n{publishable}")),
        (
            "credential_extract",
            "both_same",
            format!("3Bearer {secret}\n{secret}"),
        ),
        (
            "credential_extract",
            "both_differ",
            format!("3bearer  {secret} \n{publishable}"),
        ),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (target, name, content) in seeds {
        let dir = root.join(target);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(name), content)?;
    }
    println!("wrote {} seeds under {}", seeds.len(), root.display());
    Ok(())
}
