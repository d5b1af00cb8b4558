// verifyEdgeRequest: an origin's check that a request came through the edge.
// The edge signs what it asserts (X-Keygate-Signature over method, path and
// the X-Keygate-* identity); the MAC check itself is shared's, in
// WebAssembly. This file only finds the headers, method and path in whatever
// the framework hands over.
import { verifyOriginSignature } from "../dist/keygate_sdk_wasm.js";
import { EdgeSignatureError, fromWasm } from "./errors.js";

const DEFAULT_MAX_AGE_SECONDS = 300;
const encoder = new TextEncoder();

const MESSAGES = {
  missing: "no X-Keygate-Signature: the request did not come through the edge",
  invalid: "X-Keygate-Signature does not match the request and its X-Keygate-* headers",
  stale: "X-Keygate-Signature is older (or further in the future) than maxAgeSeconds",
};

function refuse(code) {
  return new EdgeSignatureError(code, MESSAGES[code]);
}

// The path as forwarded, without query or fragment, from an absolute URL
// (Fetch) or a request target (Node).
function pathOf(url) {
  const target = url.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/, "");
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  return path === "" ? "/" : path;
}

function isFetchRequest(value) {
  return typeof value?.url === "string" && typeof value?.headers?.get === "function" && typeof value.method === "string";
}

// A header reader over Headers or a plain object (Node's lower-cased
// IncomingMessage.headers, or anything a user built). A header given twice
// (an array) is refused: the edge sends each exactly once.
function headerReader(headers) {
  if (typeof headers?.get === "function") {
    return (name) => headers.get(name) ?? undefined;
  }
  if (headers === null || typeof headers !== "object") {
    throw new TypeError("verifyEdgeRequest needs a Request, an IncomingMessage, Headers or a headers object");
  }
  return (name) => {
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() === name) return typeof value === "string" ? value : null;
    }
    return undefined;
  };
}

// { get, method, path } from a Fetch Request (also Hono's c.req via .raw),
// a Node IncomingMessage (Express: originalUrl, since routers rewrite url),
// or bare headers (method and path then come from the options).
function describe(input, options) {
  const request = isFetchRequest(input?.raw) ? input.raw : input;
  if (isFetchRequest(request)) {
    return { get: headerReader(request.headers), method: request.method, path: pathOf(request.url) };
  }
  if (typeof request?.method === "string" && typeof (request.originalUrl ?? request.url) === "string" && request.headers) {
    return { get: headerReader(request.headers), method: request.method, path: pathOf(request.originalUrl ?? request.url) };
  }
  if (typeof options.method !== "string" || typeof options.path !== "string") {
    throw new TypeError("verifyEdgeRequest(headers, …) needs options.method and options.path");
  }
  return { get: headerReader(input), method: options.method, path: options.path };
}

/**
 * Checks the edge's signature on a request and returns the identity the
 * edge asserted, `{ clientId, keyId, env, keyType, auth }`, or throws
 * EdgeSignatureError with `.code` "missing", "invalid" or "stale".
 * @param input a Fetch Request, a Node IncomingMessage, Headers or a plain headers object
 * @param options { secret, maxAgeSeconds = 300, method?, path?, now = Date.now (milliseconds) }
 */
export function verifyEdgeRequest(input, options = {}) {
  const { secret, maxAgeSeconds = DEFAULT_MAX_AGE_SECONDS, now = Date.now } = options ?? {};
  if (typeof secret !== "string" || secret === "") {
    throw new TypeError("options.secret must be the edge's ORIGIN_SIGNING_SECRET (a non-empty string)");
  }
  if (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
    throw new RangeError("maxAgeSeconds must be a whole number >= 0");
  }
  const source = describe(input, options ?? {});
  const method = options.method ?? source.method;
  const path = options.path ?? source.path;
  const signature = source.get("x-keygate-signature");
  if (signature === undefined || signature === "") throw refuse("missing");
  const identity = {
    clientId: source.get("x-keygate-client-id"),
    keyId: source.get("x-keygate-key-id"),
    env: source.get("x-keygate-env"),
    keyType: source.get("x-keygate-key-type"),
    auth: source.get("x-keygate-auth"),
  };
  // The edge always sends all of them; a missing one is not its request.
  if (typeof signature !== "string" || !Object.values(identity).every((v) => typeof v === "string" && v !== "")) {
    throw refuse("invalid");
  }
  let verdict;
  try {
    verdict = verifyOriginSignature(
      encoder.encode(secret),
      signature,
      method,
      path,
      identity.clientId,
      identity.keyId,
      identity.env,
      identity.keyType,
      identity.auth,
      Math.floor(now() / 1000),
      maxAgeSeconds,
    );
  } catch (thrown) {
    throw fromWasm(thrown, EdgeSignatureError);
  }
  if (verdict !== "") throw refuse(verdict);
  return Object.freeze(identity);
}
