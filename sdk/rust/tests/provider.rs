//! The token provider: cached until the refresh margin, renewed after it,
//! shareable across threads and tasks, and every bad key or option refused
//! at construction with a typed error.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::{legacy_key, public_jwk, secret_key, verify, AUDIENCE, CLIENT};
use keygate_client::{Clock, KeyError, ManualClock, SystemClock, TokenProvider};
use shared::key::{AccessKey, KeyType};

const NOW: i64 = 1_767_225_600;

fn provider(clock: &ManualClock) -> TokenProvider {
    TokenProvider::builder(&secret_key(1), AUDIENCE)
        .clock(clock.clone())
        .build()
        .unwrap()
}

#[test]
fn the_key_alone_names_the_client_and_tokens_verify() {
    let key = secret_key(1);
    let provider = TokenProvider::new(&key, AUDIENCE).unwrap();
    assert_eq!(provider.client_id(), CLIENT);
    assert_eq!(provider.key_id(), AccessKey::parse(&key).unwrap().key_id());
    assert_eq!(provider.audience(), AUDIENCE);
    let token = provider.token().unwrap();
    let now = SystemClock.now();
    let verified = verify(&token, &public_jwk(&key), CLIENT, AUDIENCE, now).unwrap();
    let claims = verified.claims();
    assert_eq!(claims.exp - claims.iat, 300, "default lifetime");
    assert_eq!(claims.iss.as_deref(), Some(CLIENT));
    assert_eq!(claims.sub.as_deref(), Some(CLIENT));
    // jti: 16 random bytes, base64url.
    let jti = claims.jti.as_deref().unwrap();
    assert_eq!(shared::b64::decode_url(jti).map(|b| b.len()), Some(16));
    assert_eq!(
        provider.authorization_header().unwrap(),
        format!("Bearer {token}")
    );
}

#[test]
fn cached_until_the_margin_then_renewed() {
    let clock = ManualClock::new(NOW);
    let provider = provider(&clock);
    let first = provider.token().unwrap();
    // Default: 300 s tokens renewed 60 s before expiry, i.e. at 240 s (80%).
    for elapsed in [0, 1, 120, 239] {
        clock.set(NOW + elapsed);
        assert_eq!(provider.token().unwrap(), first, "at +{elapsed} s");
    }
    clock.set(NOW + 240);
    let second = provider.token().unwrap();
    assert_ne!(second, first, "renewed at 80% of the lifetime");
    let jwk = public_jwk(&secret_key(1));
    let claims = verify(&second, &jwk, CLIENT, AUDIENCE, NOW + 240).unwrap();
    assert_eq!(claims.claims().iat, NOW + 240);
    // Clones share the cache.
    let clone = provider.clone();
    assert_eq!(clone.token().unwrap(), second);
    // A clock that jumps back before the token's iat renews too.
    clock.set(NOW);
    assert_ne!(provider.token().unwrap(), second);
}

#[test]
fn lifetime_and_margin_are_configurable() {
    let clock = ManualClock::new(NOW);
    let provider = TokenProvider::builder(&secret_key(1), AUDIENCE)
        .lifetime(Duration::from_secs(60))
        .refresh_margin(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    let first = provider.token().unwrap();
    let claims = verify(&first, &public_jwk(&secret_key(1)), CLIENT, AUDIENCE, NOW).unwrap();
    assert_eq!(claims.claims().exp, NOW + 60);
    clock.set(NOW + 49);
    assert_eq!(provider.token().unwrap(), first);
    clock.set(NOW + 50);
    assert_ne!(provider.token().unwrap(), first);
    // Without a margin: a fifth of the lifetime.
    let clock = ManualClock::new(NOW);
    let provider = TokenProvider::builder(&secret_key(1), AUDIENCE)
        .lifetime(Duration::from_secs(100))
        .clock(clock.clone())
        .build()
        .unwrap();
    let first = provider.token().unwrap();
    clock.set(NOW + 79);
    assert_eq!(provider.token().unwrap(), first);
    clock.set(NOW + 80);
    assert_ne!(provider.token().unwrap(), first);
}

#[test]
fn many_threads_share_one_provider() {
    let clock = ManualClock::new(NOW);
    let provider = provider(&clock);
    let jwk = public_jwk(&secret_key(1));
    let tokens: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let provider = provider.clone();
                let clock = clock.clone();
                scope.spawn(move || {
                    let mut seen = Vec::new();
                    for round in 0..200 {
                        // Some threads move the clock across renewals meanwhile.
                        if i == 0 && round % 50 == 0 {
                            clock.advance(100);
                        }
                        seen.push(provider.token().unwrap());
                    }
                    seen
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let distinct: HashSet<&String> = tokens.iter().collect();
    // Cached: far fewer tokens than calls; and every one of them verifies.
    assert!(distinct.len() < 200, "{} distinct tokens", distinct.len());
    for token in distinct {
        // Each at the time it was minted (the clock moved 400 s meanwhile).
        let iat = common::claim(token, "iat").as_i64().unwrap();
        verify(token, &jwk, CLIENT, AUDIENCE, iat).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_share_one_provider() {
    let provider = Arc::new(TokenProvider::new(&secret_key(2), AUDIENCE).unwrap());
    let jwk = public_jwk(&secret_key(2));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let provider = Arc::clone(&provider);
            tokio::spawn(async move { provider.token() })
        })
        .collect();
    let mut distinct = HashSet::new();
    for task in tasks {
        distinct.insert(task.await.unwrap().unwrap());
    }
    let now = SystemClock.now();
    for token in &distinct {
        verify(token, &jwk, CLIENT, AUDIENCE, now).unwrap();
    }
    assert!(
        distinct.len() <= 4,
        "{} tokens for one window",
        distinct.len()
    );
}

#[test]
fn provider_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<TokenProvider>();
}

#[test]
fn bad_keys_are_typed_errors_at_construction() {
    let good = secret_key(3);
    let truncated = &good[..good.len() - 1];
    assert_eq!(
        TokenProvider::new(truncated, AUDIENCE).unwrap_err(),
        KeyError::Malformed(shared::Error::KeySecret)
    );
    assert_eq!(
        TokenProvider::new("not a key", AUDIENCE).unwrap_err(),
        KeyError::Malformed(shared::Error::KeyPrefix)
    );
    let mut typo = good.clone().into_bytes();
    let i = typo.len() - 10;
    typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
    assert_eq!(
        TokenProvider::new(&String::from_utf8(typo).unwrap(), AUDIENCE).unwrap_err(),
        KeyError::Malformed(shared::Error::KeyChecksum)
    );
    let publishable = AccessKey::from_entropy(
        KeyType::Publishable,
        "live",
        Some(CLIENT),
        [3; 12],
        &[3; 24],
    )
    .unwrap();
    assert_eq!(
        TokenProvider::new(publishable.expose(), AUDIENCE).unwrap_err(),
        KeyError::Publishable
    );
    assert_eq!(
        TokenProvider::new(&good, " ").unwrap_err(),
        KeyError::InvalidOption("the audience is empty")
    );
    for (lifetime, margin) in [(0, None), (100_000, None), (60, Some(60)), (60, Some(61))] {
        let mut builder =
            TokenProvider::builder(&good, AUDIENCE).lifetime(Duration::from_secs(lifetime));
        if let Some(margin) = margin {
            builder = builder.refresh_margin(Duration::from_secs(margin));
        }
        assert!(
            matches!(builder.build(), Err(KeyError::InvalidOption(_))),
            "{lifetime} {margin:?}"
        );
    }
    // Messages say what is wrong, never the key.
    let error = TokenProvider::new(truncated, AUDIENCE).unwrap_err();
    assert!(!error.to_string().contains(&truncated[20..]), "{error}");
}

#[test]
fn legacy_keys_need_their_client_id_and_a_mismatch_is_refused() {
    let legacy = legacy_key(4);
    let error = TokenProvider::new(&legacy, AUDIENCE).unwrap_err();
    assert_eq!(error, KeyError::LegacyKeyNeedsClientId);
    assert!(error.to_string().contains("predates"), "{error}");
    let provider = TokenProvider::builder(&legacy, AUDIENCE)
        .client_id(CLIENT)
        .build()
        .unwrap();
    assert_eq!(provider.client_id(), CLIENT);
    let now = SystemClock.now();
    verify(
        &provider.token().unwrap(),
        &public_jwk(&legacy),
        CLIENT,
        AUDIENCE,
        now,
    )
    .unwrap();
    assert!(matches!(
        TokenProvider::builder(&legacy, AUDIENCE)
            .client_id("nope")
            .build(),
        Err(KeyError::InvalidOption(_))
    ));
    // A current key: the same client id is fine, another one is refused.
    let current = secret_key(4);
    assert!(TokenProvider::builder(&current, AUDIENCE)
        .client_id(CLIENT)
        .build()
        .is_ok());
    assert_eq!(
        TokenProvider::builder(&current, AUDIENCE)
            .client_id("cl_other")
            .build()
            .unwrap_err(),
        KeyError::ClientIdMismatch {
            key: CLIENT.to_owned(),
            configured: "cl_other".to_owned()
        }
    );
}

#[test]
fn debug_never_prints_the_key_or_a_token() {
    let key = secret_key(5);
    let builder = TokenProvider::builder(&key, AUDIENCE);
    assert!(!format!("{builder:?}").contains(&key[30..]));
    let provider = builder.build().unwrap();
    let token = provider.token().unwrap();
    let debug = format!("{provider:?}");
    assert!(
        !debug.contains(&key[30..]) && !debug.contains(&token[..20]),
        "{debug}"
    );
    assert!(debug.contains(provider.key_id()));
}
