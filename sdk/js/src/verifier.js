// Verifier: checks a keygate credential from a service that is not behind
// the edge, through the control plane's POST /v1/verify (the same decision
// code and error codes as the edge), with a bounded TTL cache of answers.
//
// The cache's TTL is the revocation window it adds: a key revoked now may
// still verify here for up to cacheTtlSeconds (default 30 s). It is keyed on
// SHA-256 of the credential (never the credential itself) with method and
// path, and it never keeps transport errors, errors of the call or answers
// the edge would give as 503.
import { VerifyError } from "./errors.js";

const encoder = new TextEncoder();

async function sha256Hex(text) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The API's snake_case answer as the JS API's camelCase verification.
function verification(body) {
  return Object.freeze({
    valid: body.valid,
    code: body.code,
    status: body.status ?? null,
    message: body.message ?? null,
    clientId: body.client_id ?? null,
    keyId: body.key_id ?? null,
    env: body.env ?? null,
    keyType: body.key_type ?? null,
    auth: body.auth ?? null,
    scopes: Object.freeze([...(body.scopes ?? [])]),
    expiresAt: body.expires_at ?? null,
  });
}

export class Verifier {
  #endpoint;
  #verifyKey;
  #ttlMs;
  #size;
  #fetch;
  #now;
  // Insertion-ordered: the first entry is the least recently used.
  #cache = new Map();
  #inflight = new Map();

  /**
   * @param options { url (the control plane), verifyKey (a key with scope
   *   "verify"), cacheTtlSeconds = 30 (0 disables the cache), cacheSize = 10000,
   *   fetch = globalThis.fetch, now = Date.now (milliseconds) }
   */
  constructor(options = {}) {
    const { url, verifyKey, cacheTtlSeconds = 30, cacheSize = 10_000, fetch = globalThis.fetch, now = Date.now } =
      options ?? {};
    if (typeof url !== "string" || url === "") throw new TypeError("options.url must be the control plane's URL");
    if (typeof verifyKey !== "string" || verifyKey === "") {
      throw new TypeError("options.verifyKey must be a key with scope verify");
    }
    if (!Number.isFinite(cacheTtlSeconds) || cacheTtlSeconds < 0) {
      throw new RangeError("cacheTtlSeconds must be >= 0");
    }
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) throw new RangeError("cacheSize must be a whole number >= 0");
    if (typeof fetch !== "function") throw new TypeError("options.fetch must be a function");
    if (typeof now !== "function") throw new TypeError("options.now must be a function returning milliseconds");
    this.#endpoint = new URL("/v1/verify", url).href;
    this.#verifyKey = verifyKey;
    this.#ttlMs = cacheTtlSeconds * 1000;
    this.#size = cacheSize;
    this.#fetch = fetch;
    this.#now = now;
  }

  /**
   * What the edge would decide for `credential` (a static key or a JWT) on
   * `method` `path`: `{ valid, code, status, clientId, keyId, env, keyType,
   * auth, scopes, expiresAt, message }`. Throws VerifyError when the API
   * cannot answer.
   */
  async verify(credential, { method = "GET", path = "/", audience } = {}) {
    if (typeof credential !== "string") throw new TypeError("credential must be a string");
    const key = `${await sha256Hex(credential)} ${method} ${path} ${audience ?? ""}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#cache.delete(key);
      if (cached.until > this.#now()) {
        this.#cache.set(key, cached);
        return cached.value;
      }
    }
    // Concurrent misses for the same question share one call.
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = this.#ask(credential, method, path, audience).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    const { value, cacheable } = await pending;
    if (cacheable) this.#remember(key, value);
    return value;
  }

  /** Drops every cached answer (e.g. after revoking a key). */
  clear() {
    this.#cache.clear();
  }

  async #ask(credential, method, path, audience) {
    let response;
    try {
      response = await this.#fetch(this.#endpoint, {
        method: "POST",
        headers: { authorization: `Bearer ${this.#verifyKey}`, "content-type": "application/json" },
        body: JSON.stringify({ credential, method, path, ...(audience === undefined ? {} : { audience }) }),
      });
    } catch (cause) {
      throw new VerifyError("transport", `POST /v1/verify failed: ${cause?.message ?? cause}`);
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      // Not JSON: reported below with the status.
    }
    if (response.status !== 200) {
      const code =
        response.status === 401 || response.status === 403
          ? "unauthorized"
          : response.status >= 500
            ? "server_error"
            : "bad_request";
      const detail = body?.error?.message ?? `HTTP ${response.status}`;
      throw new VerifyError(code, `POST /v1/verify answered ${response.status}: ${detail}`, response.status);
    }
    if (typeof body?.valid !== "boolean" || typeof body.code !== "string") {
      throw new VerifyError("bad_response", "POST /v1/verify answered 200 without a verification", 200);
    }
    const value = verification(body);
    // A 503 verdict ("unavailable": KV could not answer) is transient.
    return { value, cacheable: !(value.valid === false && value.status >= 500) };
  }

  #remember(key, value) {
    if (this.#ttlMs === 0 || this.#size === 0) return;
    let until = this.#now() + this.#ttlMs;
    // Never past the credential's own expiry.
    if (value.expiresAt !== null) until = Math.min(until, value.expiresAt * 1000);
    this.#cache.delete(key);
    this.#cache.set(key, { value, until });
    while (this.#cache.size > this.#size) this.#cache.delete(this.#cache.keys().next().value);
  }

  [Symbol.for("nodejs.util.inspect.custom")]() {
    return `Verifier { url: '${this.#endpoint}', cached: ${this.#cache.size} }`;
  }
}
