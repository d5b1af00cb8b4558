//! The functions `edge/js/entry.mjs` calls: plain strings and numbers in,
//! one string out. The isolate's one [`Gate`] lives here (Workers isolates
//! are single-threaded: a thread-local is isolate-wide).

use std::cell::RefCell;
use std::collections::BTreeMap;

use shared::decision::Rejection;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::config::{ConfigError, EdgeConfig};
use crate::gate::{Gate, Request};
use crate::signature::CheckedSignature;
use crate::verdict::{refuse, Verdict};

thread_local! {
    static GATE: RefCell<Option<Gate>> = const { RefCell::new(None) };
    /// The inputs of the last signature check asked for, until taken.
    static PENDING: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Parses the worker's vars and secrets (a JSON object of the string-valued
/// bindings) once per isolate; an error is logged at every refusal.
#[wasm_bindgen]
pub fn configure(vars: &str) {
    let config = serde_json::from_str::<BTreeMap<String, String>>(vars)
        .map_err(|_| ConfigError("the worker's vars are not strings".to_owned()))
        .and_then(|vars| EdgeConfig::parse(|name| vars.get(name).cloned()));
    GATE.with(|gate| *gate.borrow_mut() = Some(Gate::new(config)));
}

/// The gate's verdict on a request, encoded by `Verdict::encode`.
/// `checked` (empty: none) and `answer` are WebCrypto's answer to this
/// request's last signature check: `checked` the bytes [`signature_input`]
/// gave, `answer` 1 valid, 0 invalid, anything else no answer (WebCrypto
/// failed: ed25519-compact decides).
#[wasm_bindgen]
pub fn decide(
    method: &str,
    url: &str,
    authorization: Option<String>,
    preflight: bool,
    now_ms: f64,
    checked: &[u8],
    answer: u8,
) -> String {
    let request = Request {
        method,
        url,
        authorization: authorization.as_deref(),
        preflight,
    };
    let answer = match answer {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    };
    let checked = (!checked.is_empty()).then(|| CheckedSignature::new(checked, answer));
    let verdict = GATE.with(|gate| {
        let mut gate = gate.borrow_mut();
        // While the gate is borrowed, as a real bug's panic would be: an
        // instance that went on after it would refuse every later call.
        #[cfg(feature = "test-panic")]
        if url.ends_with("/keygate-test-panic") {
            panic!("a panic forced by a test build");
        }
        match gate.as_mut() {
            Some(gate) => gate.decide(&request, now_ms, checked.as_ref()),
            None => refuse(Rejection::Misconfigured, "not configured", None),
        }
    });
    if let Verdict::CheckSignature(check) = &verdict {
        PENDING.with(|pending| *pending.borrow_mut() = check.to_bytes());
    }
    verdict.encode()
}

/// Keeps what KV answered for `name` (`null`: nothing under it).
#[wasm_bindgen]
pub fn supply(name: &str, value: Option<String>, now_ms: f64) {
    GATE.with(|gate| {
        if let Some(gate) = gate.borrow_mut().as_mut() {
            gate.supply(name, value.as_deref(), now_ms);
        }
    });
}

/// The bytes of the signature check [`decide`] just asked for: public key
/// (32), signature (64), signed message.
#[wasm_bindgen]
pub fn signature_input() -> Vec<u8> {
    PENDING.with(|pending| std::mem::take(&mut *pending.borrow_mut()))
}

/// The refusal for a failure the entry met outside the gate, encoded like
/// a verdict: `0` no KV binding, `1` KV read failed, `2` origin fetch
/// failed, `3` the origin request could not be built, else the WASM module
/// trapped. `detail` goes to the log only.
#[wasm_bindgen]
pub fn refusal(reason: u8, detail: &str) -> String {
    let (rejection, context) = match reason {
        0 => (Rejection::Misconfigured, "KV binding KEYS missing"),
        1 => (Rejection::Unavailable, "KV read failed"),
        2 => (Rejection::OriginUnreachable, "origin fetch failed"),
        3 => (Rejection::Misconfigured, "cannot build the origin request"),
        _ => (Rejection::Unavailable, "the WASM module trapped"),
    };
    refuse(rejection, &format!("{context}: {detail}"), None).encode()
}

/// Of `names` (newline-separated, lower case), those a caller may not send:
/// the identity headers and anything else `shared::headers` reserves.
#[wasm_bindgen]
pub fn reserved_headers(names: &str) -> String {
    let mut reserved = String::new();
    for name in names
        .split('\n')
        .filter(|n| shared::headers::is_reserved(n))
    {
        reserved.push_str(name);
        reserved.push('\n');
    }
    reserved
}
