//! Design (b) of issue 11: workers-rs kept around the same gate as the
//! JavaScript entry (`edge/js/entry.mjs`), with the cheapest shell it allows.
//!
//! - The export is written by hand, as `#[event(fetch)]` expands it (an async
//!   wasm-bindgen `fetch(request, env, ctx)`), but without
//!   `worker::Request::from`: the raw `web_sys::Request` is read for its
//!   method, URL string and `Authorization` header only (no `Url::parse`, no
//!   `cf`).
//! - The gate is `edge::gate::Gate`, asked in a loop exactly as the entry
//!   asks it: KV reads through `worker::Env::kv` (`cache_ttl` 60, text),
//!   signatures checked by WebCrypto through `js_sys` calls.
//! - The outbound request is built in one JavaScript call (inline_js) and
//!   sent with the global `fetch(request)`, no init; the origin's
//!   `web_sys::Response` is returned as it is.
//! - The shim is a plain object module (`shim.mjs`, worker-build's
//!   `CUSTOM_SHIM`): no `WorkerEntrypoint`, no Proxy.
//!
//! A measured variant, not the shipped edge: see bench/edge/RESULTS-designs.md.

use std::cell::RefCell;
use std::collections::HashMap;

use edge::config::EdgeConfig;
use edge::gate::{Gate, Request};
use edge::signature::{CheckedSignature, SignatureCheck};
use edge::verdict::{Forward, Verdict};
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use shared::decision::Rejection;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, ResponseInit};
use worker::Env;

/// KV's own edge cache for reads (`cacheTtl`; 60 s is KV's minimum).
const KV_CACHE_TTL: u64 = 60;
/// Imported WebCrypto keys kept (cleared when full, as the entry does).
const MAX_CRYPTO_KEYS: usize = 1000;
/// The most gate calls a request needs (as in the entry).
const MAX_STEPS: usize = 6;

thread_local! {
    // Workers isolates are single-threaded: a thread-local is isolate-wide.
    static GATE: RefCell<Option<Gate>> = const { RefCell::new(None) };
    static CRYPTO_KEYS: RefCell<HashMap<[u8; 32], JsValue>> = RefCell::new(HashMap::new());
}

#[wasm_bindgen(inline_js = r#"
// The outbound request in one call, as edge/js/entry.mjs builds it: the
// headers copied once by the constructor and edited in place. Called with
// `reserved` null it only shortlists the names the gate must rule on (every
// reserved name contains "keygate"); Rust then calls again with the names
// to drop.
export function outbound_request(incoming, target, reserved, identity, keepCredential) {
  if (reserved == null) {
    let shortlist = "";
    for (const name of incoming.headers.keys()) {
      if (name.includes("keygate")) shortlist += name + "\n";
    }
    if (shortlist) return shortlist;
  }
  const method = incoming.method;
  const body = method === "GET" || method === "HEAD" ? null : incoming.body;
  const outbound = new Request(target, { method, headers: incoming.headers, body, redirect: "manual" });
  const headers = outbound.headers;
  if (reserved) for (const name of reserved.split("\n")) if (name) headers.delete(name);
  headers.delete("host");
  if (!keepCredential) headers.delete("authorization");
  const pairs = identity.split("\n");
  for (let i = 0; i + 1 < pairs.length; i += 2) headers.set(pairs[i], pairs[i + 1]);
  return outbound;
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn outbound_request(
        incoming: &web_sys::Request,
        target: &str,
        reserved: Option<&str>,
        identity: &str,
        keep_credential: bool,
    ) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, called with a request and no init.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &JsValue) -> Promise;
}

/// The worker's fetch handler: what `#[event(fetch)]` exports, less the
/// `worker::Request`/`worker::Response` conversions.
#[wasm_bindgen]
pub async fn fetch(req: web_sys::Request, env: Env, _ctx: JsValue) -> Result<JsValue, JsValue> {
    Ok(handle(req, &env).await.into())
}

fn config(env: &Env) -> Result<EdgeConfig, edge::config::ConfigError> {
    EdgeConfig::parse(|name| {
        env.secret(name)
            .map(|s| s.to_string())
            .or_else(|_| env.var(name).map(|v| v.to_string()))
            .ok()
    })
}

async fn handle(req: web_sys::Request, env: &Env) -> web_sys::Response {
    let method = req.method();
    let url = req.url();
    let headers = req.headers();
    let authorization = headers.get("authorization").ok().flatten();
    let preflight = method == "OPTIONS"
        && headers.has("origin").unwrap_or(false)
        && headers
            .has("access-control-request-method")
            .unwrap_or(false);
    let request = Request {
        method: &method,
        url: &url,
        authorization: authorization.as_deref(),
        preflight,
    };
    // WebCrypto's last answer: the bytes it checked, and what it said.
    let mut checked: Option<(Vec<u8>, Option<bool>)> = None;
    for _ in 0..MAX_STEPS {
        let verdict = GATE.with(|gate| {
            let mut gate = gate.borrow_mut();
            let gate = gate.get_or_insert_with(|| Gate::new(config(env)));
            let answer = checked
                .as_ref()
                .map(|(bytes, answer)| CheckedSignature::new(bytes, *answer));
            gate.decide(&request, js_sys::Date::now(), answer.as_ref())
        });
        match verdict {
            Verdict::Forward(forward) => return send(&req, forward).await,
            Verdict::Refuse { rejection, log } => return refuse(rejection, &log),
            Verdict::FetchRecord(name) => {
                let Ok(kv) = env.kv("KEYS") else {
                    return refuse(Rejection::Misconfigured, "keygate: KV binding KEYS missing");
                };
                let value = match kv.get(&name).cache_ttl(KV_CACHE_TTL).text().await {
                    Ok(value) => value,
                    Err(e) => {
                        return refuse(
                            Rejection::Unavailable,
                            &format!("keygate: KV read failed: {e}"),
                        )
                    }
                };
                GATE.with(|gate| {
                    if let Some(gate) = gate.borrow_mut().as_mut() {
                        gate.supply(&name, value.as_deref(), js_sys::Date::now());
                    }
                });
            }
            Verdict::CheckSignature(check) => {
                let answer = match verify(&check).await {
                    Ok(valid) => Some(valid),
                    Err(e) => {
                        worker::console_log!(
                            "keygate: WebCrypto unavailable ({e:?}); verifying in WASM"
                        );
                        None
                    }
                };
                checked = Some((check.to_bytes(), answer));
            }
        }
    }
    refuse(Rejection::Unavailable, "keygate: the gate did not settle")
}

fn refuse(rejection: Rejection, log: &str) -> web_sys::Response {
    worker::console_log!("{log}");
    let build = || -> Result<web_sys::Response, JsValue> {
        let headers = Headers::new()?;
        headers.set("content-type", "application/json")?;
        headers.set("cache-control", "no-store")?;
        if let Some(challenge) = rejection.www_authenticate() {
            headers.set("www-authenticate", &challenge)?;
        }
        let init = ResponseInit::new();
        init.set_status(rejection.status());
        init.set_headers(&headers);
        web_sys::Response::new_with_opt_str_and_init(Some(&rejection.body()), &init)
    };
    build().unwrap_or_else(|_| {
        web_sys::Response::new_with_opt_str(None).expect("an empty response can be built")
    })
}

async fn send(req: &web_sys::Request, forward: Forward) -> web_sys::Response {
    let mut identity = String::new();
    for (name, value) in &forward.headers {
        identity.push_str(name);
        identity.push('\n');
        identity.push_str(value);
        identity.push('\n');
    }
    let build = |reserved: Option<&str>| {
        outbound_request(
            req,
            &forward.target,
            reserved,
            &identity,
            forward.keep_credential,
        )
    };
    let built = build(None).and_then(|built| match built.as_string() {
        Some(shortlist) => {
            let mut reserved = String::new();
            for name in shortlist
                .split('\n')
                .filter(|n| shared::headers::is_reserved(n))
            {
                reserved.push_str(name);
                reserved.push('\n');
            }
            build(Some(&reserved))
        }
        None => Ok(built),
    });
    let outbound = match built {
        Ok(outbound) => outbound,
        Err(e) => {
            return refuse(
                Rejection::Misconfigured,
                &format!("keygate: refused (cannot build the origin request: {e:?})"),
            )
        }
    };
    match JsFuture::from(global_fetch(&outbound)).await {
        Ok(response) => response.unchecked_into(),
        Err(e) => refuse(
            Rejection::OriginUnreachable,
            &format!("keygate: refused (origin fetch failed: {e:?})"),
        ),
    }
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

/// Whether WebCrypto finds the check's signature valid (the old
/// edge/src/webcrypto.rs's calls; imported keys kept by public key).
async fn verify(check: &SignatureCheck) -> Result<bool, JsValue> {
    let subtle = subtle()?;
    let known = CRYPTO_KEYS.with(|keys| keys.borrow().get(&check.public_key).cloned());
    let key = match known {
        Some(key) => key,
        None => {
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
                Uint8Array::from(&check.public_key[..]).into(),
                algorithm.into(),
                JsValue::FALSE,
                usages.into(),
            ];
            let imported = call(&subtle, "importKey", &args).await?;
            CRYPTO_KEYS.with(|keys| {
                let mut keys = keys.borrow_mut();
                if keys.len() >= MAX_CRYPTO_KEYS {
                    keys.clear();
                }
                keys.insert(check.public_key, imported.clone());
            });
            imported
        }
    };
    let args = [
        JsValue::from_str("Ed25519"),
        key,
        Uint8Array::from(&check.signature[..]).into(),
        Uint8Array::from(check.message.as_bytes()).into(),
    ];
    Ok(call(&subtle, "verify", &args)
        .await?
        .as_bool()
        .unwrap_or(false))
}
