// mintToken: one token from explicit claims, with nothing cached or random
// (the TokenProvider is what applications want; this is for tools, tests
// and the golden vectors: same inputs, same token, byte for byte).
import { Signer } from "../dist/keygate_sdk_wasm.js";
import { KeyError, fromWasm } from "./errors.js";

/**
 * A signed `at+jwt` for `accessKey` with `iat` = issuedAt, `exp` = issuedAt
 * + lifetimeSeconds and the given `jti`. Throws KeyError (like the provider).
 * @param options { audience, issuedAt (Unix seconds), lifetimeSeconds, jti, clientId? }
 */
export function mintToken(accessKey, options = {}) {
  const { audience, issuedAt, lifetimeSeconds, jti, clientId } = options ?? {};
  if (typeof accessKey !== "string") throw new KeyError("malformed_key", "the access key must be a string");
  if (typeof audience !== "string" || typeof jti !== "string") {
    throw new TypeError("options.audience and options.jti must be strings");
  }
  let signer;
  try {
    signer = new Signer(accessKey, clientId ?? undefined);
    return signer.mint(audience, issuedAt, lifetimeSeconds, jti);
  } catch (thrown) {
    throw fromWasm(thrown, KeyError);
  } finally {
    signer?.free();
  }
}
