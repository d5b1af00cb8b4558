//! Ed25519 signature checks through the runtime's WebCrypto
//! (`crypto.subtle.verify("Ed25519", …)`), called through `js_sys` without
//! the `web-sys` bindings (smaller bundle).
//!
//! Why: in workerd a WebCrypto verify costs about a fifth of ed25519-compact
//! compiled to WASM (measured: README, Performance), and signature checks are
//! the one expensive step of the JWT path. WebCrypto accepts small-order
//! public keys, so keys reach it only as `shared::jwk::VerificationKey`, which
//! refuses them; the equivalence on every Wycheproof vector is tested through
//! workerd (`tests/tests/webcrypto.rs`). ed25519-compact stays the fallback.
//!
//! The verdict never leaves this module as a bare boolean: [`WebCrypto`] is
//! an [`Ed25519Verifier`], which `shared::jwt::Unverified::verify_with`
//! calls with exactly the token's signing input, signature and key.

use std::cell::RefCell;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use shared::jwk::VerificationKey;
use shared::jwt::Ed25519Verifier;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::console_log;

use crate::cache::TtlCache;

/// Imported keys are reused: an import costs about as much as a verify.
/// (The same bounded cache as KV records: one map implementation in the bundle.)
const KEY_CACHE_SIZE: usize = 1_000;
const KEY_CACHE_MS: f64 = 3_600_000.0;

thread_local! {
    static KEYS: RefCell<TtlCache<JsValue>> = RefCell::new(TtlCache::new(KEY_CACHE_SIZE));
}

fn subtle() -> Result<Object, JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))?;
    Ok(Reflect::get(&crypto, &JsValue::from_str("subtle"))?.unchecked_into())
}

async fn call(subtle: &Object, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let function: Function = Reflect::get(subtle, &JsValue::from_str(method))?.dyn_into()?;
    let list = Array::new();
    for arg in args {
        list.push(arg);
    }
    let promise: Promise = function.apply(subtle, &list)?.dyn_into()?;
    JsFuture::from(promise).await
}

async fn key(
    subtle: &Object,
    public_key: &VerificationKey,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let public_key = public_key.to_bytes();
    let name = shared::b64::encode_url(&public_key);
    if let Some(key) = KEYS.with(|k| k.borrow().get(&name, now_ms)) {
        return Ok(key);
    }
    let algorithm = Object::new();
    Reflect::set(
        &algorithm,
        &JsValue::from_str("name"),
        &JsValue::from_str("Ed25519"),
    )?;
    let usages = Array::new();
    usages.push(&JsValue::from_str("verify"));
    let args = [
        JsValue::from_str("raw"),
        Uint8Array::from(&public_key[..]).into(),
        algorithm.into(),
        JsValue::FALSE,
        usages.into(),
    ];
    let imported = call(subtle, "importKey", &args).await?;
    KEYS.with(|k| {
        k.borrow_mut()
            .insert(name, imported.clone(), now_ms + KEY_CACHE_MS)
    });
    Ok(imported)
}

/// workerd's WebCrypto as the JWT signature verifier; `now_ms` dates the
/// imported-key cache.
#[derive(Debug, Clone, Copy)]
pub struct WebCrypto {
    now_ms: f64,
}

impl WebCrypto {
    /// The verifier for a request handled at `now_ms` (Unix milliseconds).
    pub fn at(now_ms: f64) -> Self {
        Self { now_ms }
    }
}

impl Ed25519Verifier for WebCrypto {
    async fn verify_ed25519(
        &self,
        key: &VerificationKey,
        message: &[u8],
        signature: &[u8; 64],
    ) -> Option<bool> {
        match verify(key, message, signature, self.now_ms).await {
            Ok(valid) => Some(valid),
            Err(e) => {
                console_log!(
                    "keygate: WebCrypto Ed25519 unavailable ({e:?}); using ed25519-compact"
                );
                None
            }
        }
    }
}

/// Whether `signature` is a valid Ed25519 signature of `message` under
/// `public_key`; `Err` if WebCrypto is unavailable or refuses the inputs.
async fn verify(
    public_key: &VerificationKey,
    message: &[u8],
    signature: &[u8; 64],
    now_ms: f64,
) -> Result<bool, JsValue> {
    let subtle = subtle()?;
    let key = key(&subtle, public_key, now_ms).await?;
    let args = [
        JsValue::from_str("Ed25519"),
        key,
        Uint8Array::from(&signature[..]).into(),
        Uint8Array::from(message).into(),
    ];
    Ok(call(&subtle, "verify", &args)
        .await?
        .as_bool()
        .unwrap_or(false))
}
