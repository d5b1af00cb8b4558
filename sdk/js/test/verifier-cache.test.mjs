// The Verifier's cache and error handling, with a scripted fetch (the real
// /v1/verify is exercised in verifier.test.mjs): hits, TTL, the LRU bound,
// in-flight sharing, and that errors and transient verdicts are never kept.
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { test } from "node:test";
import { Verifier, VerifyError } from "@keygate/sdk";

const VALID = { valid: true, code: "valid", status: 200, client_id: "cl_a", key_id: "k", env: "live", key_type: "secret", auth: "static", scopes: [], expires_at: null };

// A fetch that answers from `script` (a function of the parsed body) and counts calls.
function scripted(script) {
  const calls = [];
  const fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    calls.push({ url, init, body });
    const answer = await script(body, calls.length);
    if (answer instanceof Error) throw answer;
    const [status, json] = answer;
    return new Response(JSON.stringify(json), { status, headers: { "content-type": "application/json" } });
  };
  return { fetch, calls };
}

test("answers are cached per credential, method and path, for the TTL", async () => {
  let now = 1_000_000;
  const { fetch, calls } = scripted(() => [200, VALID]);
  const verifier = new Verifier({ url: "http://cp.example/", verifyKey: "vk", fetch, now: () => now });
  const first = await verifier.verify("kg_secret_credential", { method: "GET", path: "/a" });
  assert.deepEqual([first.valid, first.clientId, first.keyType], [true, "cl_a", "secret"]);
  assert.equal(calls[0].url, "http://cp.example/v1/verify");
  assert.equal(calls[0].init.headers.authorization, "Bearer vk");
  assert.deepEqual(calls[0].body, { credential: "kg_secret_credential", method: "GET", path: "/a" });
  await verifier.verify("kg_secret_credential", { method: "GET", path: "/a" });
  assert.equal(calls.length, 1, "second answer from the cache");
  await verifier.verify("kg_secret_credential", { method: "POST", path: "/a" });
  await verifier.verify("kg_secret_credential", { method: "GET", path: "/b" });
  await verifier.verify("kg_other_credential", { method: "GET", path: "/a" });
  assert.equal(calls.length, 4, "method, path and credential are all part of the key");
  now += 30_001;
  await verifier.verify("kg_secret_credential", { method: "GET", path: "/a" });
  assert.equal(calls.length, 5, "expired after the default 30 s");
  assert.ok(!inspect(verifier).includes("kg_secret_credential"), "the credential is not kept in the clear");
});

test("the cache is bounded (least recently used first out) and never outlives the credential", async () => {
  let now = 1_000_000;
  const { fetch, calls } = scripted((body) => [200, body.credential === "short" ? { ...VALID, expires_at: 1_005 } : VALID]);
  const verifier = new Verifier({ url: "http://cp.example", verifyKey: "vk", cacheSize: 2, fetch, now: () => now });
  await verifier.verify("a");
  await verifier.verify("b");
  await verifier.verify("a"); // hit: a is now the most recent
  await verifier.verify("c"); // evicts b
  assert.equal(calls.length, 3);
  await verifier.verify("a");
  assert.equal(calls.length, 3, "a survived");
  await verifier.verify("b");
  assert.equal(calls.length, 4, "b was evicted");
  await verifier.verify("short");
  now = 1_005_000;
  await verifier.verify("short");
  assert.equal(calls.length, 6, "not cached past expires_at");
});

test("transport errors, errors of the call and 503 verdicts are never cached", async () => {
  const answers = [
    new TypeError("connection refused"),
    [500, { error: { code: "internal_error", message: "boom" } }],
    [401, { error: { code: "unauthorized", message: "bad verify key" } }],
    [400, { error: { code: "bad_request", message: "no credential" } }],
    [200, { valid: false, code: "unavailable", status: 503, message: "KV unavailable" }],
    [200, { valid: false, code: "revoked", status: 401, message: "revoked" }],
  ];
  const { fetch, calls } = scripted((_, n) => answers[n - 1] ?? [500, {}]);
  const verifier = new Verifier({ url: "http://cp.example", verifyKey: "vk", fetch });
  const fails = async (code, status) =>
    assert.rejects(verifier.verify("k"), (e) => e instanceof VerifyError && e.code === code && e.status === status);
  await fails("transport", null);
  await fails("server_error", 500);
  await fails("unauthorized", 401);
  await fails("bad_request", 400);
  const transient = await verifier.verify("k");
  assert.deepEqual([transient.valid, transient.code, transient.status], [false, "unavailable", 503]);
  const revoked = await verifier.verify("k");
  assert.deepEqual([revoked.valid, revoked.code, revoked.status], [false, "revoked", 401]);
  assert.equal(calls.length, 6, "every one of those asked again");
  await verifier.verify("k");
  assert.equal(calls.length, 6, "a definite refusal is cached");
});

test("concurrent misses share one call; cacheTtlSeconds 0 disables the cache", async () => {
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  const { fetch, calls } = scripted(async () => (await gate, [200, VALID]));
  const verifier = new Verifier({ url: "http://cp.example", verifyKey: "vk", fetch });
  const all = Promise.all(Array.from({ length: 10 }, () => verifier.verify("k")));
  release();
  assert.ok((await all).every((v) => v.valid));
  assert.equal(calls.length, 1);
  const uncached = new Verifier({ url: "http://cp.example", verifyKey: "vk", cacheTtlSeconds: 0, fetch });
  await uncached.verify("k");
  await uncached.verify("k");
  assert.equal(calls.length, 3);
});
