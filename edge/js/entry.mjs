// keygate's edge worker: the module entry (`export default { fetch }`, a
// plain object) around the gate compiled to WASM (edge/src/gate.rs).
//
// This file does the I/O only: it hands the gate the request's method, URL
// and Authorization header in one synchronous call, and does what the
// answer says: forward, refuse, read a KV record, or check a signature with
// WebCrypto and ask again. Every decision (and every refusal's status, body
// and log line) comes from the gate; the answers' encoding is documented on
// `Verdict::encode` (edge/src/verdict.rs).
//
// scripts/build-edge.sh copies this next to wasm-bindgen's glue (gen/) and
// the WASM (index_bg.wasm) in edge/build and bundles it into index.js;
// workerd compiles the WASM once per isolate (a CompiledWasm module import)
// and this module instantiates it once, at load.
import wasmModule from "./index_bg.wasm";
import {
  initSync,
  __wbg_reset_state as resetInstance,
  configure,
  decide,
  supply,
  signature_input as signatureInput,
  refusal,
  reserved_headers as reservedHeaders,
} from "./gen/edge.js";

initSync({ module: wasmModule });

// KV's own edge cache for reads (`cacheTtl`; 60 s is KV's minimum).
const KV_CACHE_TTL = 60;
// Imported WebCrypto keys, by public key (base64url): an import costs about
// as much as a verify. Only keys the gate found in KV get here.
const MAX_CRYPTO_KEYS = 1000;
const cryptoKeys = new Map();
const NO_CHECK = new Uint8Array(0);
// `refusal` reasons (edge/src/exports.rs).
const NO_KV = 0, KV_FAILED = 1, ORIGIN_FAILED = 2, BAD_REQUEST = 3, TRAPPED = 4;
// The most gate calls a request needs: signing key, signature, client, answer.
const MAX_STEPS = 6;

// Whether this instance of the WASM module has the worker's vars.
let configured = false;

function ensureConfigured(env) {
  if (configured) return;
  const vars = {};
  for (const name in env) {
    if (typeof env[name] === "string") vars[name] = env[name];
  }
  configure(JSON.stringify(vars));
  configured = true;
}

// "R<status>\n<www-authenticate>\n<body>\n<log line>"
function refuse(verdict) {
  const a = verdict.indexOf("\n");
  const b = verdict.indexOf("\n", a + 1);
  const c = verdict.indexOf("\n", b + 1);
  console.log(verdict.slice(c + 1));
  const headers = { "content-type": "application/json", "cache-control": "no-store" };
  if (b > a + 1) headers["www-authenticate"] = verdict.slice(a + 1, b);
  return new Response(verdict.slice(b + 1, c), { status: +verdict.slice(1, a), headers });
}

// Kept once imported, so a known key costs no await.
async function importKey(name, raw) {
  const key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  if (cryptoKeys.size >= MAX_CRYPTO_KEYS) cryptoKeys.clear();
  cryptoKeys.set(name, key);
  return key;
}

// "F<1|0 keep the credential><target>(\n<name>\n<value>)*"
async function forward(request, verdict) {
  let line = verdict.indexOf("\n");
  const target = line < 0 ? verdict.slice(2) : verdict.slice(2, line);
  const method = request.method;
  let outbound;
  try {
    // Streams are handed over as they are: bodies are never buffered. The
    // headers are copied once, by the constructor, and edited in place.
    const body = method === "GET" || method === "HEAD" ? null : request.body;
    outbound = new Request(target, { method, headers: request.headers, body, redirect: "manual" });
  } catch (err) {
    return refuse(refusal(BAD_REQUEST, String(err)));
  }
  const headers = outbound.headers;
  // Which names are reserved is the gate's rule; every name it reserves
  // contains "keygate" (Headers lower-cases names), so only those are asked.
  let shortlist = "";
  for (const name of headers.keys()) {
    if (name.includes("keygate")) shortlist += name + "\n";
  }
  if (shortlist) {
    for (const name of reservedHeaders(shortlist).split("\n")) if (name) headers.delete(name);
  }
  headers.delete("host");
  if (verdict.charCodeAt(1) !== 49 /* "1" */) headers.delete("authorization");
  while (line >= 0) {
    const value = verdict.indexOf("\n", line + 1);
    const next = verdict.indexOf("\n", value + 1);
    headers.set(verdict.slice(line + 1, value), next < 0 ? verdict.slice(value + 1) : verdict.slice(value + 1, next));
    line = next;
  }
  try {
    return await fetch(outbound);
  } catch (err) {
    return refuse(refusal(ORIGIN_FAILED, String(err)));
  }
}

async function handle(request, env) {
  const headers = request.headers;
  const method = request.method;
  const url = request.url;
  const authorization = headers.get("authorization");
  const preflight = method === "OPTIONS" && headers.has("origin") && headers.has("access-control-request-method");
  let checked = NO_CHECK;
  let answer = 0; // WebCrypto's: 1 valid, 0 invalid, 2 no answer
  for (let step = 0; step < MAX_STEPS; step++) {
    ensureConfigured(env);
    const verdict = decide(method, url, authorization, preflight, Date.now(), checked, answer);
    switch (verdict.charCodeAt(0)) {
      case 70 /* F */:
        return forward(request, verdict);
      case 82 /* R */:
        return refuse(verdict);
      case 75 /* K */: {
        const name = verdict.slice(1);
        if (!env.KEYS) return refuse(refusal(NO_KV, ""));
        let value;
        try {
          value = await env.KEYS.get(name, { cacheTtl: KV_CACHE_TTL });
        } catch (err) {
          return refuse(refusal(KV_FAILED, String(err)));
        }
        supply(name, value, Date.now());
        break;
      }
      case 83 /* S */: {
        const input = signatureInput();
        try {
          const name = verdict.slice(1);
          const key = cryptoKeys.get(name) ?? (await importKey(name, input.subarray(0, 32)));
          const valid = await crypto.subtle.verify("Ed25519", key, input.subarray(32, 96), input.subarray(96));
          answer = valid ? 1 : 0;
          checked = input;
        } catch (err) {
          // No answer from WebCrypto: the gate checks with ed25519-compact.
          console.log(`keygate: WebCrypto unavailable (${err}); verifying in WASM`);
          checked = input;
          answer = 2;
        }
        break;
      }
      default:
        return refuse(refusal(TRAPPED, `unknown verdict ${verdict.slice(0, 1)}`));
    }
  }
  return refuse(refusal(TRAPPED, "the gate did not settle"));
}

export default {
  async fetch(request, env) {
    try {
      return await handle(request, env);
    } catch (err) {
      if (!(err instanceof WebAssembly.RuntimeError)) throw err;
      // A trap (a Rust panic aborts) can leave the instance's memory
      // half-updated: never call it again. A new instance starts with empty
      // caches and is configured on its first call.
      console.error(`keygate: the WASM module trapped (${err}); starting a new instance`);
      resetInstance();
      configured = false;
      ensureConfigured(env);
      return refuse(refusal(TRAPPED, String(err)));
    }
  },
};
