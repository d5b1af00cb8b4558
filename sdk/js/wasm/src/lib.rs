//! The WebAssembly core of the `@keygate/sdk` npm package: thin wasm-bindgen
//! wrappers over [`ops`], which wraps `shared` (the same code as the edge,
//! the control plane and the CLI). The JavaScript around it (sdk/js/src)
//! does caching, I/O and argument handling, and no cryptography.
//!
//! Errors cross to JavaScript as a string `"<code>: <message>"`, which the
//! JS side turns into a typed error (`KeyError`, …) with `.code`.

pub mod ops;

use shared::origin::Identity;
use wasm_bindgen::prelude::{wasm_bindgen, JsValue};

use crate::ops::SdkError;

fn js_error(error: SdkError) -> JsValue {
    JsValue::from_str(&error.to_string())
}

/// Parses a key offline; returns JSON `{keyId, clientId, env, keyType}`.
#[wasm_bindgen(js_name = parseKey)]
pub fn parse_key(text: &str) -> Result<String, JsValue> {
    ops::parse_key(text)
        .map(|info| info.to_json())
        .map_err(js_error)
}

/// A secret key's signing pair, held in WebAssembly memory.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Signer(ops::Signer);

#[wasm_bindgen]
impl Signer {
    /// See [`ops::Signer::new`].
    #[wasm_bindgen(constructor)]
    pub fn new(key: &str, client_id: Option<String>) -> Result<Signer, JsValue> {
        ops::Signer::new(key, client_id.as_deref())
            .map(Signer)
            .map_err(js_error)
    }

    /// See [`ops::Signer::mint`]; times are JS numbers of whole seconds.
    pub fn mint(
        &self,
        audience: &str,
        issued_at: f64,
        ttl: f64,
        jti: &str,
    ) -> Result<String, JsValue> {
        let issued_at = ops::whole_seconds(issued_at, "issued_at").map_err(js_error)?;
        let ttl = ops::whole_seconds(ttl, "ttl").map_err(js_error)?;
        self.0.mint(audience, issued_at, ttl, jti).map_err(js_error)
    }

    /// The key id.
    #[wasm_bindgen(getter, js_name = keyId)]
    pub fn key_id(&self) -> String {
        self.0.key_id().to_owned()
    }

    /// The client id the tokens carry.
    #[wasm_bindgen(getter, js_name = clientId)]
    pub fn client_id(&self) -> String {
        self.0.client_id().to_owned()
    }
}

/// Checks the edge's `X-Keygate-Signature`; returns `""` when it holds, else
/// `"invalid"` or `"stale"` (a verdict, not an exception: both are ordinary
/// outcomes for an origin).
#[allow(clippy::too_many_arguments)] // one flat call: no object marshalling in the glue
#[wasm_bindgen(js_name = verifyOriginSignature)]
pub fn verify_origin_signature(
    secret: &[u8],
    header: &str,
    method: &str,
    path: &str,
    client_id: &str,
    key_id: &str,
    env: &str,
    key_type: &str,
    auth: &str,
    now: f64,
    max_age: f64,
) -> Result<String, JsValue> {
    let now = ops::whole_seconds(now, "now").map_err(js_error)?;
    let max_age = ops::whole_seconds(max_age, "maxAgeSeconds").map_err(js_error)?;
    let identity = Identity {
        method,
        path,
        client_id,
        key_id,
        env,
        key_type,
        auth,
    };
    Ok(ops::verify_origin(secret, header, &identity, now, max_age)
        .err()
        .unwrap_or_default()
        .to_owned())
}
