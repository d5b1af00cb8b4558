//! The key format's unit tests: both layouts, every refusal, round trips.

use super::*;
use proptest::prelude::*;

const CLIENT: &str = "cl_0123456789abcdefG";

fn sample(key_type: KeyType, env: &str) -> AccessKey {
    let secret = vec![0xa5; key_type.secret_bytes()];
    AccessKey::from_entropy(key_type, env, Some(CLIENT), [1; 12], &secret).unwrap()
}

fn legacy(key_type: KeyType, env: &str) -> AccessKey {
    let secret = vec![0xa5; key_type.secret_bytes()];
    AccessKey::from_entropy(key_type, env, None, [1; 12], &secret).unwrap()
}

#[test]
fn formats_and_parses_both_types_in_both_layouts() {
    for (key_type, tag, len, client) in [
        (KeyType::Secret, "sk", 96, Some(CLIENT)),
        (KeyType::Publishable, "pk", 86, Some(CLIENT)),
        (KeyType::Secret, "sk", 78, None),
        (KeyType::Publishable, "pk", 68, None),
    ] {
        let key = match client {
            Some(_) => sample(key_type, "live"),
            None => legacy(key_type, "live"),
        };
        let text = key.expose();
        assert!(text.starts_with(&format!("kg_{tag}_live_")), "{text}");
        assert_eq!(text.len(), len);
        assert!(text.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'));
        let parsed = AccessKey::parse(text).unwrap();
        assert_eq!(parsed, key);
        assert_eq!(parsed.key_type(), key_type);
        assert_eq!(parsed.environment(), "live");
        assert_eq!(parsed.key_id(), base62::encode(&[1; 12]));
        assert_eq!(parsed.client_id().as_deref(), client);
        assert_eq!(parsed.is_legacy(), client.is_none());
    }
}

#[cfg(feature = "mint")]
#[test]
fn both_layouts_hold_the_same_secret() {
    for key_type in [KeyType::Secret, KeyType::Publishable] {
        let (current, old) = (sample(key_type, "test"), legacy(key_type, "test"));
        assert_eq!(current.secret_bytes(), old.secret_bytes());
    }
}

#[test]
fn client_ids_a_key_can_carry() {
    assert_eq!(client_segment("cl_admin"), Some("admin"));
    assert_eq!(client_segment(CLIENT), Some(&CLIENT[3..]));
    for bad in [
        "",
        "cl_",
        "admin",
        "cl_a_b",
        "cl_é",
        "cl_aaaaaaaaaaaaaaaaaaaaaaaaa",
        "CL_x",
    ] {
        assert_eq!(client_segment(bad), None, "{bad}");
        assert_eq!(
            AccessKey::from_entropy(KeyType::Secret, "live", Some(bad), [1; 12], &[1; 32]),
            Err(Error::KeyClient),
            "{bad}"
        );
    }
    let admin =
        AccessKey::from_entropy(KeyType::Secret, "live", Some("cl_admin"), [1; 12], &[1; 32])
            .unwrap();
    assert_eq!(
        AccessKey::parse(admin.expose())
            .unwrap()
            .client_id()
            .as_deref(),
        Some("cl_admin")
    );
}

#[test]
fn debug_never_prints_the_secret() {
    let key = sample(KeyType::Secret, "test");
    let debug = format!("{key:?}");
    let secret_part = &key.expose()[key.expose().len() - 49..];
    assert!(!debug.contains(secret_part), "{debug}");
    assert!(debug.contains("<redacted>") && debug.contains(key.key_id()));
}

#[test]
fn precise_errors() {
    let good = sample(KeyType::Secret, "live").expose().to_owned();
    let cases: Vec<(String, Error)> = vec![
        (good.replacen("kg_", "kx_", 1), Error::KeyPrefix),
        (good.replacen("_sk_", "_xk_", 1), Error::KeyType),
        (good.replacen("_live_", "_Live_", 1), Error::KeyEnvironment),
        (good.replacen("_live_", "__", 1), Error::KeyEnvironment),
        (good.replacen("_live_", "_live_0", 1), Error::KeyId),
        (
            good.replacen("_0123456789abcdefG_", "__", 1),
            Error::KeyClient,
        ),
        (
            good.replacen("_0123456789abcdefG_", "_0123-_", 1),
            Error::KeyClient,
        ),
        (
            good.replacen("_0123456789abcdefG_", "_a_b_", 1),
            Error::KeySecret,
        ),
        (good[..good.len() - 1].to_owned(), Error::KeySecret),
        (format!("{good}0"), Error::KeySecret),
        ("a".repeat(MAX_KEY_LEN + 1), Error::KeyTooLong),
        ("kg_sk".to_owned(), Error::KeyEnvironment),
        (String::new(), Error::KeyPrefix),
    ];
    for (text, expected) in cases {
        assert_eq!(AccessKey::parse(&text), Err(expected), "{text}");
    }
    // One changed digit of the secret: the checksum catches it.
    let mut typo = good.into_bytes();
    let i = typo.len() - 10;
    typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    assert_eq!(AccessKey::parse(&typo), Err(Error::KeyChecksum));
}

#[test]
fn every_allowed_size_round_trips_and_others_are_refused() {
    for key_type in [KeyType::Secret, KeyType::Publishable] {
        for &size in key_type.allowed_secret_sizes() {
            let key = AccessKey::from_entropy(
                key_type,
                "zzzzzzzzzzzzzzzz",
                Some("cl_aaaaaaaaaaaaaaaaaaaaaaaa"),
                [2; 12],
                &vec![0xee; size],
            )
            .unwrap();
            assert_eq!(
                AccessKey::parse(key.expose()),
                Ok(key.clone()),
                "{key_type} {size}"
            );
            assert!(key.expose().len() <= MAX_KEY_LEN);
        }
    }
    assert_eq!(
        AccessKey::from_entropy(KeyType::Secret, "live", Some(CLIENT), [0; 12], &[0; 40]),
        Err(Error::KeySecret)
    );
    assert_eq!(
        AccessKey::from_entropy(
            KeyType::Publishable,
            "live",
            Some(CLIENT),
            [0; 12],
            &[0; 64]
        ),
        Err(Error::KeySecret)
    );
    // A publishable-sized secret under the secret tag: refused.
    let publishable = AccessKey::from_entropy(
        KeyType::Publishable,
        "live",
        Some(CLIENT),
        [2; 12],
        &[1; 24],
    )
    .unwrap();
    let retagged = publishable.expose().replacen("kg_pk_", "kg_sk_", 1);
    assert_eq!(AccessKey::parse(&retagged), Err(Error::KeySecret));
}

#[test]
fn refuses_wrong_entropy_and_bad_environment_when_minting() {
    assert_eq!(
        AccessKey::from_entropy(KeyType::Secret, "live", Some(CLIENT), [0; 12], &[0; 24]),
        Err(Error::KeySecret)
    );
    assert_eq!(
        AccessKey::from_entropy(KeyType::Secret, "LIVE", Some(CLIENT), [0; 12], &[0; 32]),
        Err(Error::KeyEnvironment)
    );
}

#[test]
fn hash_is_sha256_hex() {
    // FIPS 180-2 test vector "abc".
    assert_eq!(
        KeyHash::of("abc").as_str(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(KeyHash::from_hex(KeyHash::of("x").as_str()).is_some());
    assert!(KeyHash::from_hex("ABC").is_none());
}

proptest! {
    #[test]
    fn round_trip(
        kid in proptest::array::uniform12(any::<u8>()),
        secret in proptest::array::uniform32(any::<u8>()),
        env in "[a-z][a-z0-9]{0,15}",
        client in proptest::option::of("cl_[A-Za-z0-9]{1,24}"),
    ) {
        let key = AccessKey::from_entropy(KeyType::Secret, &env, client.as_deref(), kid, &secret)
            .unwrap();
        let parsed = AccessKey::parse(key.expose()).unwrap();
        prop_assert_eq!(parsed.environment(), env.as_str());
        prop_assert_eq!(parsed.key_id(), base62::encode(&kid));
        prop_assert_eq!(parsed.client_id(), client);
        #[cfg(feature = "mint")]
        prop_assert_eq!(parsed.secret_bytes(), Some(secret.to_vec()));
    }

    #[test]
    fn every_single_byte_mutation_is_refused(
        position in 0usize..96,
        replacement in any::<u8>(),
    ) {
        let key = sample(KeyType::Secret, "live");
        let mut bytes = key.expose().as_bytes().to_vec();
        prop_assume!(bytes[position] != replacement);
        bytes[position] = replacement;
        let mutated = String::from_utf8_lossy(&bytes).into_owned();
        prop_assert!(AccessKey::parse(&mutated).is_err());
    }
}
