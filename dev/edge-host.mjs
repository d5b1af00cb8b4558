#!/usr/bin/env node
// Local edge host: runs the keygate edge worker in workerd (through the
// Miniflare Node API) and, in the same process, a local stand-in for the
// Cloudflare Workers KV REST API that reads and writes the *same* KV namespace
// the worker reads. The control plane publishes keys through that API exactly
// as it would to Cloudflare (only the base URL differs), so `make dev` and the
// end-to-end tests exercise the real publish path, not a shortcut.
//
// Usage (from any directory: the default --script is found from the repo root;
// an explicit --script or --persist is relative to the current directory):
//   node dev/edge-host.mjs [--script edge/build/index.js] [--port 8787]
//        [--kv-api-port 8789] [--persist DIR] [--var NAME=VALUE]...
//        [--api-token local-dev-token] [--account-id local-account]
//        [--namespace-id local-namespace]
// Port 0 picks a free port. Once both listen, exactly one line goes to stdout:
//   READY edge=http://127.0.0.1:<p> kv_api=http://127.0.0.1:<q>
// Everything else (Miniflare, workerd, worker console output, KV API request
// log) goes to stderr, so stdout stays machine-readable.
//
// KV REST API: base URL http://127.0.0.1:<q>/client/v4, paths under
// /accounts/{account_id}/storage/kv/namespaces/{namespace_id}. Shapes follow
// Cloudflare's API reference (developers.cloudflare.com/api, "Workers KV").
// Implemented:
//   PUT    bulk           JSON array (<= 10,000) of {key, value, expiration?,
//                         expiration_ttl?, metadata?, base64?}; body <= 100 MB;
//                         result {successful_key_count, unsuccessful_keys}
//   POST   bulk/delete    JSON array (<= 10,000) of key names; same result shape
//   DELETE bulk           older form of bulk/delete, same body and result
//   GET    keys           ?prefix=&limit=(10..1000, default 1000)&cursor=;
//                         result [{name, expiration?, metadata?}],
//                         result_info {count, cursor} ("" when complete)
//   GET    values/{key}   raw value bytes, `expiration` header when set;
//                         404 code 10009 "get: 'key not found'"
//   PUT    values/{key}   raw body = value, or multipart/form-data with fields
//                         `value` and `metadata` (JSON); ?expiration= / ?expiration_ttl=
//   DELETE values/{key}
//   GET    metadata/{key} result = the key's metadata (null if none)
//   GET    (namespace)    result {id, title, supports_url_encoding}
// Limits enforced as documented: key 1..512 bytes (not "." or ".."), value
// <= 25 MiB, metadata <= 1024 bytes of JSON, expiration_ttl >= 60 s, absolute
// expiration >= now + 60 s; if both are given expiration_ttl wins. A bulk write
// is validated whole before anything is written, so a bad pair never leaves
// half a batch behind.
// Not implemented: bulk/get, namespace list/create/rename/delete, X-Auth-Email/
// X-Auth-Key auth, rate limits, eventual consistency (writes are visible at
// once; the edge's own isolate cache still applies).
// Errors use Cloudflare's envelope {success:false, errors:[{code,message}],
// messages:[], result:null}. Codes 10000 (auth), 10009 (key not found), 10013
// (namespace not found), 7003 (bad account id) and 7000 (no route) mirror what
// Cloudflare returns; the codes on validation errors are this server's own.
// Status: 401 bad token, 404 unknown account/namespace/route/key, 405 wrong
// method, 400 invalid input, 413 body over the size cap.

import { createServer } from "node:http";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createHash, timingSafeEqual } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Log, LogLevel, Miniflare } from "miniflare";

const HOST = "127.0.0.1";
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

// Documented Workers KV limits.
const MAX_BULK_ITEMS = 10_000;
const MAX_BULK_BODY_BYTES = 100 * 1000 * 1000; // "100 megabytes"
const MAX_KEY_BYTES = 512;
const MAX_VALUE_BYTES = 25 * 1024 * 1024; // 25 MiB
const MAX_METADATA_BYTES = 1024;
const MIN_EXPIRATION_TTL = 60;
const LIST_LIMIT = { min: 10, max: 1000, default: 1000 };

// ---------------------------------------------------------------- options --

const { values: args } = parseArgs({
  options: {
    script: { type: "string" },
    port: { type: "string", default: "8787" },
    "kv-api-port": { type: "string", default: "8789" },
    persist: { type: "string" },
    // Test-only: every KV read of the worker fails (the KV REST API still
    // works), to prove the edge fails closed with 503.
    "kv-fault": { type: "boolean", default: false },
    // Test-only fault injection on the KV REST API: this fraction of requests
    // (0..1) is answered 500 or 429 (with Retry-After: 1) without effect, and
    // every request is delayed by up to this many milliseconds.
    "api-fault-rate": { type: "string", default: "0" },
    // ...and the first N requests always fail, so a test sees faults for sure.
    "api-fault-first": { type: "string", default: "0" },
    "api-latency-ms": { type: "string", default: "0" },
    var: { type: "string", multiple: true, default: [] },
    "api-token": { type: "string", default: "local-dev-token" },
    "account-id": { type: "string", default: "local-account" },
    "namespace-id": { type: "string", default: "local-namespace" },
  },
});

function fail(message) {
  console.error(`edge-host: ${message}`);
  process.exit(2);
}

function parsePort(name) {
  const port = Number(args[name]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`--${name} must be a port number (0 for any free port), got ${args[name]}`);
  }
  return port;
}

// Worker vars (and secrets, which are also plain strings to the worker).
const bindings = {};
for (const pair of args.var) {
  const eq = pair.indexOf("=");
  if (eq <= 0) fail(`--var expects NAME=VALUE, got ${JSON.stringify(pair)}`);
  bindings[pair.slice(0, eq)] = pair.slice(eq + 1);
}

// The default is the repo's build output, wherever we are started from; an
// explicit --script is taken relative to the caller's directory.
const scriptPath = args.script ? resolve(args.script) : resolve(REPO_ROOT, "edge/build/index.js");
if (!existsSync(scriptPath)) {
  fail(`worker script not found: ${scriptPath} (build the edge worker first, or pass --script)`);
}

const config = {
  edgePort: parsePort("port"),
  kvApiPort: parsePort("kv-api-port"),
  token: args["api-token"],
  accountId: args["account-id"],
  namespaceId: args["namespace-id"],
};

// ------------------------------------------------------------------ worker --

// Miniflare logs through console.log (stdout); send it to stderr instead so the
// READY line is the only thing on stdout.
class StderrLog extends Log {
  log(message) {
    process.stderr.write(`${message}\n`);
  }
}

const edgeWorker = {
  name: "edge",
  modules: true,
  scriptPath,
  // Module names are relative to this root; the worker's own directory keeps
  // imports such as "./index_bg.wasm" resolving wherever we were started from.
  modulesRoot: dirname(scriptPath),
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
  compatibilityDate: "2026-04-01",
  kvNamespaces: { KEYS: config.namespaceId },
  bindings,
};
// With --kv-fault the worker's KEYS is a stand-in whose reads always reject
// (workers-rs takes any object with KV's methods); the real namespace lives
// on a helper worker so the KV REST API keeps working.
const faultyKv = {
  name: "faulty-kv",
  modules: true,
  script: `export default function () {
    const fail = async () => { throw new Error("simulated KV outage"); };
    return { get: fail, getWithMetadata: fail, put: fail, list: fail, delete: fail };
  }`,
  kvNamespaces: { KEYS: config.namespaceId },
};
if (args["kv-fault"]) {
  delete edgeWorker.kvNamespaces;
  edgeWorker.wrappedBindings = { KEYS: { scriptName: "faulty-kv" } };
}

const mf = new Miniflare({
  workers: args["kv-fault"] ? [edgeWorker, faultyKv] : [edgeWorker],
  // false = throwaway storage (hermetic tests); a directory keeps published
  // keys across restarts of `make dev`.
  kvPersist: args.persist ? resolve(args.persist) : false,
  host: HOST,
  port: config.edgePort,
  // Offline: never fetch the Request.cf template from the internet.
  cf: false,
  log: new StderrLog(LogLevel.INFO),
  handleRuntimeStdio(stdout, stderr) {
    stdout.pipe(process.stderr);
    stderr.pipe(process.stderr);
  },
  // Outbound fetch() to loopback origins needs no option: Miniflare's
  // "internet" service already allows private (incl. loopback) addresses.
});

// ------------------------------------------------------------- KV REST API --

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const invalid = (message) => new ApiError(400, 10001, message);

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendResult(res, result, extra = {}) {
  sendJson(res, 200, { success: true, errors: [], messages: [], result, ...extra });
}

// Drains the whole body even past the cap, so the client gets our error
// response instead of a connection reset while it is still sending.
async function readBody(req, maxBytes) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes) throw new ApiError(413, 10002, `request body exceeds ${maxBytes} bytes`);
  return Buffer.concat(chunks);
}

async function readJsonArray(req) {
  const body = await readBody(req, MAX_BULK_BODY_BYTES);
  let parsed;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw invalid("request body is not valid JSON");
  }
  if (!Array.isArray(parsed)) throw invalid("request body must be a JSON array");
  if (parsed.length > MAX_BULK_ITEMS) {
    throw invalid(`at most ${MAX_BULK_ITEMS} items per request, got ${parsed.length}`);
  }
  return parsed;
}

function checkKey(key, where = "key") {
  if (typeof key !== "string" || key === "") throw invalid(`${where}: key must be a non-empty string`);
  if (key === "." || key === "..") throw invalid(`${where}: key must not be "." or ".."`);
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw invalid(`${where}: key exceeds ${MAX_KEY_BYTES} bytes`);
  return key;
}

// Turns expiration/expiration_ttl/metadata into Miniflare put() options,
// rejecting what Cloudflare rejects. Values may come from JSON (numbers) or a
// query string (strings), hence the Number() conversion.
function putOptions({ expiration, expiration_ttl: ttl, metadata }, where) {
  const options = {};
  const asInt = (v, name) => {
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (!Number.isInteger(n)) throw invalid(`${where}: ${name} must be an integer`);
    return n;
  };
  if (ttl !== undefined && ttl !== null) {
    options.expirationTtl = asInt(ttl, "expiration_ttl");
    if (options.expirationTtl < MIN_EXPIRATION_TTL) {
      throw invalid(`${where}: expiration_ttl must be at least ${MIN_EXPIRATION_TTL}`);
    }
  } else if (expiration !== undefined && expiration !== null) {
    options.expiration = asInt(expiration, "expiration");
    if (options.expiration < Math.floor(Date.now() / 1000) + MIN_EXPIRATION_TTL) {
      throw invalid(`${where}: expiration must be at least ${MIN_EXPIRATION_TTL} seconds in the future`);
    }
  }
  if (metadata !== undefined && metadata !== null) {
    if (Buffer.byteLength(JSON.stringify(metadata)) > MAX_METADATA_BYTES) {
      throw invalid(`${where}: metadata exceeds ${MAX_METADATA_BYTES} bytes of JSON`);
    }
    options.metadata = metadata;
  }
  return options;
}

function checkValueSize(byteLength, where) {
  if (byteLength > MAX_VALUE_BYTES) throw invalid(`${where}: value exceeds ${MAX_VALUE_BYTES} bytes`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

// Validates one bulk item and returns what to write; throws on the first
// problem so the caller can refuse the whole batch.
function bulkPair(item, index) {
  const where = `item ${index}`;
  if (item === null || typeof item !== "object" || Array.isArray(item)) throw invalid(`${where}: must be an object`);
  const key = checkKey(item.key, where);
  if (typeof item.value !== "string") throw invalid(`${where}: value must be a string`);
  if (item.base64 !== undefined && typeof item.base64 !== "boolean") throw invalid(`${where}: base64 must be a boolean`);
  let value = item.value;
  if (item.base64) {
    if (!BASE64.test(value)) throw invalid(`${where}: value is not valid base64`);
    value = new Uint8Array(Buffer.from(value, "base64"));
    checkValueSize(value.byteLength, where);
  } else {
    checkValueSize(Buffer.byteLength(value), where);
  }
  return { key, value, options: putOptions(item, where) };
}

// Bounded parallelism: one put is a round trip into workerd's KV simulator
// (~3 ms here), so 10,000 in sequence would take minutes; unbounded, they
// would flood it. Failed keys are reported, as Cloudflare does
// with unsuccessful_keys, so the publisher can retry just those.
async function forEachKey(keys, action) {
  const unsuccessful = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++];
      try {
        await action(key);
      } catch (err) {
        console.error(`kv-api: ${key}: ${err.message}`);
        unsuccessful.push(key);
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return { successful_key_count: keys.length - unsuccessful.length, unsuccessful_keys: unsuccessful };
}

async function bulkWrite(kv, req, res) {
  const items = await readJsonArray(req);
  // Later duplicates win, as with sequential writes; deduplicating first keeps
  // that true despite the parallel writes below.
  const pairs = new Map();
  items.forEach((item, i) => {
    const pair = bulkPair(item, i);
    pairs.delete(pair.key);
    pairs.set(pair.key, pair);
  });
  sendResult(res, await forEachKey([...pairs.keys()], (key) => {
    const { value, options } = pairs.get(key);
    return kv.put(key, value, options);
  }));
}

async function bulkDelete(kv, req, res) {
  const keys = (await readJsonArray(req)).map((key, i) => checkKey(key, `item ${i}`));
  sendResult(res, await forEachKey([...new Set(keys)], (key) => kv.delete(key)));
}

async function listKeys(kv, url, res) {
  const params = url.searchParams;
  let limit = LIST_LIMIT.default;
  if (params.has("limit")) {
    limit = Number(params.get("limit"));
    if (!Number.isInteger(limit) || limit < LIST_LIMIT.min || limit > LIST_LIMIT.max) {
      throw invalid(`limit must be an integer from ${LIST_LIMIT.min} to ${LIST_LIMIT.max}`);
    }
  }
  const options = { limit };
  if (params.get("prefix")) options.prefix = params.get("prefix");
  if (params.get("cursor")) options.cursor = params.get("cursor");
  const page = await kv.list(options);
  const result = page.keys.map(({ name, expiration, metadata }) => ({
    name,
    ...(expiration !== undefined && { expiration }),
    ...(metadata !== undefined && metadata !== null && { metadata }),
  }));
  sendResult(res, result, {
    result_info: { count: result.length, cursor: page.list_complete ? "" : page.cursor },
  });
}

const keyNotFound = () => new ApiError(404, 10009, "get: 'key not found'");

async function readValue(kv, key, res) {
  const value = await kv.get(key, "arrayBuffer");
  if (value === null) throw keyNotFound();
  const headers = { "content-type": "application/octet-stream", "content-length": value.byteLength };
  // get() does not report expiry; a one-key list does, because a key sorts
  // first among the keys it is a prefix of.
  const [listed] = (await kv.list({ prefix: key, limit: 1 })).keys;
  if (listed?.name === key && listed.expiration !== undefined) headers.expiration = String(listed.expiration);
  res.writeHead(200, headers);
  res.end(Buffer.from(value));
}

async function writeValue(kv, key, url, req, res) {
  const body = await readBody(req, MAX_VALUE_BYTES + 64 * 1024); // room for multipart framing
  const where = "value";
  const query = Object.fromEntries(url.searchParams);
  let value = new Uint8Array(body);
  let metadata;
  const contentType = req.headers["content-type"] ?? "";
  if (contentType.startsWith("multipart/form-data")) {
    let form;
    try {
      form = await new Response(body, { headers: { "content-type": contentType } }).formData();
    } catch {
      throw invalid("malformed multipart/form-data body");
    }
    const part = form.get("value");
    if (part === null) throw invalid("multipart body needs a `value` field");
    value = typeof part === "string" ? part : new Uint8Array(await part.arrayBuffer());
    const rawMetadata = form.get("metadata");
    if (rawMetadata !== null) {
      try {
        metadata = JSON.parse(typeof rawMetadata === "string" ? rawMetadata : await rawMetadata.text());
      } catch {
        throw invalid("metadata must be JSON");
      }
    }
  }
  checkValueSize(typeof value === "string" ? Buffer.byteLength(value) : value.byteLength, where);
  await kv.put(key, value, putOptions({ ...query, metadata }, where));
  sendResult(res, {});
}

async function readMetadata(kv, key, res) {
  const { value, metadata } = await kv.getWithMetadata(key, "arrayBuffer");
  if (value === null) throw keyNotFound();
  sendResult(res, metadata ?? null);
}

// Compare digests so the check takes the same time whatever the input.
const digest = (s) => createHash("sha256").update(s).digest();
const expectedAuth = digest(`Bearer ${config.token}`);
const authorized = (header) => header !== undefined && timingSafeEqual(digest(header), expectedAuth);

const NAMESPACES = "/client/v4/accounts/";

async function route(kv, req, res, url) {
  const path = url.pathname;
  if (!path.startsWith(NAMESPACES)) throw new ApiError(404, 7000, "No route for that URI");
  if (!authorized(req.headers.authorization)) throw new ApiError(401, 10000, "Authentication error");

  // accounts/{account}/storage/kv/namespaces/{namespace}[/{rest}]
  const [account, storage, kvSegment, namespaces, namespace, ...rest] = path.slice(NAMESPACES.length).split("/");
  if (storage !== "storage" || kvSegment !== "kv" || namespaces !== "namespaces" || !namespace) {
    throw new ApiError(404, 7000, "No route for that URI");
  }
  if (account !== config.accountId) {
    throw new ApiError(404, 7003, `Could not route to ${path}, perhaps your object identifier is invalid?`);
  }
  if (namespace !== config.namespaceId) throw new ApiError(404, 10013, "namespace not found");

  const [resource = "", ...keyParts] = rest;
  const method = req.method;
  const wrongMethod = () => new ApiError(405, 10405, `method ${method} not allowed on ${resource || "namespace"}`);
  // Key names travel percent-encoded; decoding the remainder whole also
  // accepts clients that left a "/" inside a key unencoded.
  const keyName = () => {
    try {
      return checkKey(decodeURIComponent(keyParts.join("/")));
    } catch (err) {
      throw err instanceof ApiError ? err : invalid("key name is not valid percent-encoding");
    }
  };

  switch (keyParts.length === 0 ? resource : `${resource}/`) {
    case "":
      if (method !== "GET") throw wrongMethod();
      return sendResult(res, { id: config.namespaceId, title: "KEYS", supports_url_encoding: true });
    case "bulk":
      if (method === "PUT") return bulkWrite(kv, req, res);
      if (method === "DELETE") return bulkDelete(kv, req, res);
      throw wrongMethod();
    case "bulk/":
      if (keyParts.join("/") !== "delete") break;
      if (method !== "POST") throw wrongMethod();
      return bulkDelete(kv, req, res);
    case "keys":
      if (method !== "GET") throw wrongMethod();
      return listKeys(kv, url, res);
    case "values/":
      if (method === "GET") return readValue(kv, keyName(), res);
      if (method === "PUT") return writeValue(kv, keyName(), url, req, res);
      if (method === "DELETE") {
        await kv.delete(keyName());
        return sendResult(res, {});
      }
      throw wrongMethod();
    case "metadata/":
      if (method !== "GET") throw wrongMethod();
      return readMetadata(kv, keyName(), res);
  }
  throw new ApiError(404, 7000, "No route for that URI");
}

let apiRequests = 0;

function kvApiServer(kv) {
  return createServer(async (req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? "/", `http://${HOST}`);
    try {
      const latency = Number(args["api-latency-ms"]);
      if (latency > 0) await new Promise((done) => setTimeout(done, Math.random() * latency));
      apiRequests += 1;
      if (apiRequests <= Number(args["api-fault-first"]) || Math.random() < Number(args["api-fault-rate"])) {
        req.resume();
        const throttled = Math.random() < 0.5;
        const headers = { "content-type": "application/json", ...(throttled ? { "retry-after": "1" } : {}) };
        res.writeHead(throttled ? 429 : 500, headers);
        res.end(JSON.stringify({ success: false, errors: [{ code: throttled ? 10429 : 10500, message: "injected fault" }], messages: [], result: null }));
        console.error(`kv-api: ${req.method} ${url.pathname} -> injected ${res.statusCode}`);
        return;
      }
      await route(kv, req, res, url);
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 500;
      const code = err instanceof ApiError ? err.code : 10001;
      if (!(err instanceof ApiError)) console.error(`kv-api: internal error: ${err.stack}`);
      req.resume(); // drop any unread body so the connection can be reused
      if (!res.headersSent) {
        sendJson(res, status, { success: false, errors: [{ code, message: err.message }], messages: [], result: null });
      } else {
        res.destroy();
      }
    }
    // Path only: it names keys, which is fine; bodies and values (key records)
    // are never logged.
    console.error(`kv-api: ${req.method} ${url.pathname} -> ${res.statusCode} (${Date.now() - started} ms)`);
  });
}

// ------------------------------------------------------------------- start --

// Miniflare installs SIGINT/SIGTERM handlers that kill workerd and exit with
// 130/143 straight away, before ours could close the KV API or report a clean
// exit. Replace them; its "exit" hook stays as the safety net that still kills
// workerd if this process dies some other way.
process.removeAllListeners("SIGINT");
process.removeAllListeners("SIGTERM");

let kvApi;
let stopping = false;
async function shutdown(exitCode = 0) {
  if (stopping) process.exit(exitCode); // second Ctrl-C: do not wait any longer
  stopping = true;
  kvApi?.close();
  kvApi?.closeAllConnections();
  await mf.dispose().catch(() => {});
  process.exit(exitCode);
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));
// A closed terminal: Node's default would exit without stopping workerd.
process.on("SIGHUP", () => shutdown(0));

try {
  const edgeUrl = await mf.ready;
  const kv = await mf.getKVNamespace("KEYS", args["kv-fault"] ? "faulty-kv" : "edge");
  kvApi = kvApiServer(kv);
  kvApi.listen(config.kvApiPort, HOST);
  await once(kvApi, "listening");
  const edge = `http://${HOST}:${edgeUrl.port}`;
  process.stdout.write(`READY edge=${edge} kv_api=http://${HOST}:${kvApi.address().port}\n`);
} catch (err) {
  console.error(`edge-host: failed to start: ${err.message}`);
  await shutdown(1);
}
