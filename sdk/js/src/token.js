// TokenProvider: an access key becomes short-lived signed tokens, cached and
// renewed before they expire. Derivation and signing happen in shared's code
// (WebAssembly); this file only decides when to mint.
import { Signer } from "../dist/keygate_sdk_wasm.js";
import { KeyError, fromWasm } from "./errors.js";

const DEFAULT_LIFETIME_SECONDS = 300;

function wholeNumber(value, name, min) {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number >= ${min}, got ${value}`);
  }
  return value;
}

// 16 random bytes, base64url (22 characters): unique per token, so the edge
// (or anyone) can tell two tokens of the same second apart.
function randomJti() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export class TokenProvider {
  // Private fields: the signing pair lives in WebAssembly memory, and the
  // cached token (a bearer credential) never shows in console.log.
  #signer;
  #audience;
  #lifetime;
  #margin;
  #now;
  #token = null;
  #renewAt = 0;

  /**
   * @param accessKey a secret access key (kg_sk_…)
   * @param options { audience, lifetimeSeconds = 300, refreshMarginSeconds =
   *   lifetime / 5, clientId (only for keys issued before keys carried it),
   *   now = Date.now (milliseconds, for tests) }
   * Throws KeyError for a malformed, publishable or mismatched key: at
   * construction, never at first use.
   */
  constructor(accessKey, options = {}) {
    const { audience, lifetimeSeconds = DEFAULT_LIFETIME_SECONDS, refreshMarginSeconds, clientId, now = Date.now } =
      options ?? {};
    if (typeof accessKey !== "string") {
      throw new KeyError("malformed_key", "the access key must be a string");
    }
    if (typeof audience !== "string" || audience === "") {
      throw new TypeError("options.audience must be the edge's URL (a non-empty string)");
    }
    if (clientId !== undefined && clientId !== null && typeof clientId !== "string") {
      throw new TypeError("options.clientId must be a string");
    }
    if (typeof now !== "function") throw new TypeError("options.now must be a function returning milliseconds");
    this.#lifetime = wholeNumber(lifetimeSeconds, "lifetimeSeconds", 1);
    // Renewed at 80% of the lifetime by default (60 s before a 300 s token expires).
    this.#margin = wholeNumber(refreshMarginSeconds ?? Math.floor(this.#lifetime / 5), "refreshMarginSeconds", 0);
    if (this.#margin >= this.#lifetime) {
      throw new RangeError("refreshMarginSeconds must be smaller than lifetimeSeconds");
    }
    this.#audience = audience;
    this.#now = now;
    try {
      this.#signer = new Signer(accessKey, clientId ?? undefined);
    } catch (thrown) {
      throw fromWasm(thrown, KeyError);
    }
  }

  /** The key id (the tokens' `kid`). */
  get keyId() {
    return this.#signer.keyId;
  }

  /** The client id the tokens carry as `iss` and `sub`. */
  get clientId() {
    return this.#signer.clientId;
  }

  /**
   * A valid token: the cached one until `refreshMarginSeconds` before it
   * expires, then a new one. Minting is synchronous, so concurrent callers
   * always share one token; the method is async so a future remote source
   * would not change the API.
   */
  async getToken() {
    const now = Math.floor(this.#now() / 1000);
    if (this.#token === null || now >= this.#renewAt) {
      let token;
      try {
        token = this.#signer.mint(this.#audience, now, this.#lifetime, randomJti());
      } catch (thrown) {
        throw fromWasm(thrown, KeyError);
      }
      this.#token = token;
      this.#renewAt = now + this.#lifetime - this.#margin;
    }
    return this.#token;
  }

  /** `Bearer <token>`, for an `Authorization` header. */
  async authorizationHeader() {
    return `Bearer ${await this.getToken()}`;
  }

  toJSON() {
    return { keyId: this.keyId, clientId: this.clientId, audience: this.#audience };
  }

  [Symbol.for("nodejs.util.inspect.custom")]() {
    return `TokenProvider { keyId: '${this.keyId}', clientId: '${this.clientId}', audience: '${this.#audience}' }`;
  }
}
