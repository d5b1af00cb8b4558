// Self-test of the Node side of the local stack, independent of the Rust
// worker: starts demo-origin.mjs and edge-host.mjs (hosting worker.mjs from this
// folder) on ephemeral ports, then drives the local Workers KV REST API and
// checks what the worker sees through its KV binding and outbound fetch.
//
// Run: node --test dev/selftest/selftest.mjs

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const DEV = join(HERE, "..");

// Non-default credentials, so the test also proves the flags are honoured.
const TOKEN = "selftest-token";
const ACCOUNT = "selftest-account";
const NAMESPACE = "selftest-namespace";

const children = [];
let origin; // { live, test }
let edge; // { edge, kv_api }

// Starts a dev script and resolves with the fields of its READY line. The child
// gets its own process group so cleanup can also reach workerd, which
// Miniflare runs as a grandchild.
function startProcess(script, args) {
  const child = spawn(process.execPath, [join(DEV, script), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  children.push(child);
  let stderr = "";
  child.stderr.on("data", (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script}: no READY line within 60 s\n${stderr}`)), 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before READY\n${stderr}`));
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (!line.startsWith("READY ")) return;
      clearTimeout(timer);
      resolve(Object.fromEntries(line.slice(6).split(" ").map((field) => field.split("="))));
    });
  });
}

// Resolves with the child's exit code (null if it had to be killed).
async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, "exit");
  child.kill("SIGTERM"); // lets edge-host dispose Miniflare (and so workerd) cleanly
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(resolve, 10_000, "timeout"); });
  const outcome = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    try { process.kill(-child.pid, "SIGKILL"); } catch { /* already gone */ }
    await exited;
    return null;
  }
  return outcome[0];
}

before(async () => {
  origin = await startProcess("demo-origin.mjs", ["--live-port", "0", "--test-port", "0"]);
  edge = await startProcess("edge-host.mjs", [
    "--script", join(HERE, "worker.mjs"),
    "--port", "0", "--kv-api-port", "0",
    "--var", `LIVE_ORIGIN=${origin.live}`,
    "--api-token", TOKEN, "--account-id", ACCOUNT, "--namespace-id", NAMESPACE,
  ]);
});

after(async () => {
  await Promise.all(children.map(stopProcess));
});

// The children run in their own process groups, so a Ctrl-C on the test run
// does not reach them; pass it on rather than leave servers behind.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    for (const child of children) {
      try { process.kill(-child.pid, "SIGKILL"); } catch { /* already gone */ }
    }
    process.exit(130);
  });
}

// --- helpers ---------------------------------------------------------------

const nsPath = (account = ACCOUNT, namespace = NAMESPACE) =>
  `/client/v4/accounts/${account}/storage/kv/namespaces/${namespace}`;

async function kvApi(method, path, { body, token = TOKEN, base = nsPath(), headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token !== null) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.body = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
    init.headers["content-type"] ??= "application/json";
  }
  const res = await fetch(`${edge.kv_api}${base}${path}`, init);
  const isJson = res.headers.get("content-type")?.startsWith("application/json");
  return { status: res.status, headers: res.headers, body: isJson ? await res.json() : await res.text() };
}

// What the worker reads from its KV binding: [status, text].
async function workerGet(key) {
  const res = await fetch(`${edge.edge}/kv?key=${encodeURIComponent(key)}`);
  return [res.status, await res.text()];
}

function assertCfError(res, status, code) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.success, false);
  assert.deepEqual(res.body.messages, []);
  assert.equal(res.body.result, null);
  assert.equal(res.body.errors.length, 1);
  assert.equal(typeof res.body.errors[0].message, "string");
  if (code !== undefined) assert.equal(res.body.errors[0].code, code);
}

// --- tests -----------------------------------------------------------------

test("bulk write is visible to the worker through its KV binding", async () => {
  const res = await kvApi("PUT", "/bulk", {
    body: [
      { key: "k:alpha", value: '{"client":"c1"}' },
      { key: "k:beta", value: Buffer.from("beta-bytes").toString("base64"), base64: true,
        metadata: { env: "live" }, expiration_ttl: 3600 },
    ],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    success: true, errors: [], messages: [],
    result: { successful_key_count: 2, unsuccessful_keys: [] },
  });
  assert.deepEqual(await workerGet("k:alpha"), [200, '{"client":"c1"}']);
  assert.deepEqual(await workerGet("k:beta"), [200, "beta-bytes"]);
});

test("values/{key} reads raw bytes with expiration, and 404s with code 10009", async () => {
  const value = await kvApi("GET", "/values/k%3Abeta");
  assert.equal(value.status, 200);
  assert.equal(value.body, "beta-bytes");
  const expiration = Number(value.headers.get("expiration"));
  const now = Date.now() / 1000;
  assert.ok(expiration > now + 3000 && expiration <= now + 3601, `expiration header ${expiration}`);

  assertCfError(await kvApi("GET", "/values/no-such-key"), 404, 10009);
  const meta = await kvApi("GET", "/metadata/k%3Abeta");
  assert.deepEqual(meta.body.result, { env: "live" });
});

test("PUT and DELETE values/{key} with expiration_ttl", async () => {
  const put = await kvApi("PUT", "/values/single%2Fkey?expiration_ttl=120", {
    body: "raw value", headers: { "content-type": "application/octet-stream" },
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.success, true);
  assert.deepEqual(await workerGet("single/key"), [200, "raw value"]);
  assertCfError(await kvApi("PUT", "/values/short-ttl?expiration_ttl=59", { body: "x" }), 400);
  assert.equal((await workerGet("short-ttl"))[0], 404);

  assert.equal((await kvApi("DELETE", "/values/single%2Fkey")).status, 200);
  assert.equal((await workerGet("single/key"))[0], 404);
});

test("keys lists with prefix, limit and cursor pagination", async () => {
  const names = Array.from({ length: 23 }, (_, i) => `page:${String(i).padStart(2, "0")}`);
  const write = await kvApi("PUT", "/bulk", { body: names.map((key) => ({ key, value: "v" })) });
  assert.equal(write.body.result.successful_key_count, 23);

  const pages = [];
  let cursor = "";
  do {
    const query = new URLSearchParams({ prefix: "page:", limit: "10", ...(cursor && { cursor }) });
    const res = await kvApi("GET", `/keys?${query}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    assert.equal(res.body.result_info.count, res.body.result.length);
    pages.push(res.body.result.map((k) => k.name));
    cursor = res.body.result_info.cursor;
    assert.ok(pages.length <= 5, "pagination does not terminate");
  } while (cursor);
  assert.deepEqual(pages.map((p) => p.length), [10, 10, 3]);
  assert.deepEqual(pages.flat(), names);

  // Expiration and metadata come back in list entries, omitted when unset.
  const listed = await kvApi("GET", "/keys?prefix=k:");
  assert.deepEqual(listed.body.result.map((k) => k.name), ["k:alpha", "k:beta"]);
  assert.deepEqual(listed.body.result[0], { name: "k:alpha" });
  assert.deepEqual(listed.body.result[1].metadata, { env: "live" });
  assert.equal(typeof listed.body.result[1].expiration, "number");
  assert.equal(listed.body.result_info.cursor, "");

  // Cloudflare documents limit as 10..1000; smaller pages are refused, not clamped.
  assertCfError(await kvApi("GET", "/keys?limit=1"), 400);
});

test("bulk delete (POST bulk/delete and DELETE bulk) removes keys for the worker", async () => {
  const res = await kvApi("POST", "/bulk/delete", { body: ["k:alpha"] });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.result, { successful_key_count: 1, unsuccessful_keys: [] });
  assert.equal((await workerGet("k:alpha"))[0], 404);
  assert.deepEqual(await workerGet("k:beta"), [200, "beta-bytes"]);

  const older = await kvApi("DELETE", "/bulk", { body: ["k:beta", "page:00"] });
  assert.equal(older.status, 200);
  assert.equal(older.body.result.successful_key_count, 2);
  assert.equal((await workerGet("k:beta"))[0], 404);
  assert.equal((await workerGet("page:00"))[0], 404);
});

test("bad credentials and unknown ids are refused with the CF envelope", async () => {
  const body = [{ key: "auth:probe", value: "x" }];
  assertCfError(await kvApi("PUT", "/bulk", { body, token: "wrong-token" }), 401, 10000);
  assertCfError(await kvApi("PUT", "/bulk", { body, token: null }), 401, 10000);
  assertCfError(await kvApi("PUT", "/bulk", { body, base: nsPath(ACCOUNT, "other-namespace") }), 404, 10013);
  assertCfError(await kvApi("PUT", "/bulk", { body, base: nsPath("other-account") }), 404);
  assertCfError(await kvApi("GET", "/no-such-route"), 404, 7000);
  assert.equal((await workerGet("auth:probe"))[0], 404);
});

test("invalid or over-limit bulk bodies are refused whole, nothing written", async () => {
  assertCfError(await kvApi("PUT", "/bulk", { body: "[{not json" }), 400);
  assertCfError(await kvApi("PUT", "/bulk", { body: { key: "x", value: "y" } }), 400);
  // One valid pair before an invalid one: the valid one must not be written.
  const cases = [
    { key: "x".repeat(513), value: "too long a key" },
    { key: "bad:ttl", value: "v", expiration_ttl: 30 },
    { key: "bad:past", value: "v", expiration: 1_000_000_000 },
    { key: "bad:b64", value: "not base64!", base64: true },
    { key: "bad:value", value: 42 },
    { key: "bad:meta", value: "v", metadata: { blob: "m".repeat(1100) } },
  ];
  for (const bad of cases) {
    assertCfError(await kvApi("PUT", "/bulk", { body: [{ key: "half:written", value: "v" }, bad] }), 400);
  }
  const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ key: `many:${i}`, value: "v" }));
  assertCfError(await kvApi("PUT", "/bulk", { body: tooMany }), 400);
  assertCfError(await kvApi("POST", "/bulk/delete", { body: [123] }), 400);

  assert.equal((await workerGet("half:written"))[0], 404);
  assert.equal((await workerGet("many:0"))[0], 404);
  const listed = await kvApi("GET", "/keys?prefix=many:");
  assert.deepEqual(listed.body.result, []);
});

test("worker fetch() reaches the loopback demo origin, which echoes the request", async () => {
  const res = await fetch(`${edge.edge}/hello/world?a=1&a=2&b=x`, { headers: { "x-selftest": "yes" } });
  assert.equal(res.status, 200);
  const echo = await res.json();
  assert.equal(echo.origin, "live");
  assert.equal(echo.method, "GET");
  assert.equal(echo.path, "/hello/world");
  assert.deepEqual(echo.query, { a: ["1", "2"], b: "x" });
  assert.equal(echo.headers["x-selftest"], "yes");
  assert.equal(echo.body_bytes, 0);

  const upload = new Uint8Array(300_000).fill(7);
  const posted = await (await fetch(`${edge.edge}/upload`, { method: "POST", body: upload })).json();
  assert.equal(posted.method, "POST");
  assert.equal(posted.body_bytes, upload.length);

  // The test origin is a separate listener that names itself.
  const direct = await (await fetch(`${origin.test}/t`)).json();
  assert.equal(direct.origin, "test");
});

test("SIGTERM stops both processes cleanly, workerd included", async () => {
  const [originChild, edgeChild] = children;
  assert.equal(await stopProcess(edgeChild), 0);
  assert.equal(await stopProcess(originChild), 0);
  // workerd, not the Node process, serves the edge port: if it were left
  // behind, this would still connect.
  await assert.rejects(fetch(`${edge.edge}/kv?key=x`));
  await assert.rejects(fetch(`${edge.kv_api}${nsPath()}/keys`));
  await assert.rejects(fetch(`${origin.live}/`));
});
