// Offline key inspection: what anyone can read off a key without using its
// secret (the parsing is shared's, through WebAssembly).
import { parseKey as wasmParseKey } from "../dist/keygate_sdk_wasm.js";
import { KeyError, fromWasm } from "./errors.js";

/**
 * Checks a key's format and checksum and returns its public parts
 * `{ keyId, clientId, env, keyType }` (`clientId` null for a key issued
 * before keys carried their client id). Throws KeyError.
 */
export function parseKey(accessKey) {
  if (typeof accessKey !== "string") {
    throw new KeyError("malformed_key", "the access key must be a string");
  }
  let json;
  try {
    json = wasmParseKey(accessKey);
  } catch (thrown) {
    throw fromWasm(thrown, KeyError);
  }
  return Object.freeze(JSON.parse(json));
}
