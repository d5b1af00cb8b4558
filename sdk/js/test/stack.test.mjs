// The installed package against the local stack (started by
// tests/tests/sdk_js.rs): tokens accepted at the real edge in workerd, cached
// and renewed, typed key errors, and the edge's origin signature checked on
// what the edge really sent (the demo origin echoes the headers it got).
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { test } from "node:test";
import { EdgeSignatureError, KeyError, TokenProvider, verifyEdgeRequest } from "@keygate/sdk";

function env(name) {
  const value = process.env[name];
  assert.ok(value, `${name} is set`);
  return value;
}
const EDGE = env("KEYGATE_EDGE_URL");
const SECRET = env("KEYGATE_SIGNING_SECRET");
const KEY = env("KEYGATE_ACCESS_KEY");
const CLIENT = env("KEYGATE_CLIENT_ID");

const claims = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url"));

// One call through the edge; the demo origin's echo of what reached it.
async function throughEdge(authorization, path = "/sdk-js/orders") {
  const response = await fetch(`${EDGE}${path}?q=1`, { headers: { authorization } });
  const body = await response.json();
  assert.equal(response.status, 200, `edge answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

// The X-Keygate-* headers the origin received.
const keygateHeaders = (echo) =>
  Object.fromEntries(Object.entries(echo.headers).filter(([name]) => name.startsWith("x-keygate-")));

test("a provider's token is accepted at the edge, as this key's client", async () => {
  const provider = new TokenProvider(KEY, { audience: EDGE });
  assert.equal(provider.clientId, CLIENT);
  const header = await provider.authorizationHeader();
  assert.match(header, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  const echo = await throughEdge(header);
  assert.equal(echo.headers["x-keygate-auth"], "jwt");
  assert.equal(echo.headers["x-keygate-client-id"], CLIENT);
  assert.equal(echo.headers["x-keygate-key-id"], provider.keyId);
  assert.equal(echo.signature, "valid", "the demo origin's own check agrees");
  const { iss, sub, aud, iat, exp, jti } = claims(header.slice(7));
  assert.deepEqual([iss, sub, aud, exp - iat], [CLIENT, CLIENT, EDGE, 300]);
  assert.equal(Buffer.from(jti, "base64url").length, 16);
  // Nothing secret in what a log line would show.
  const shown = `${JSON.stringify(provider)} ${(await import("node:util")).inspect(provider)}`;
  assert.ok(!shown.includes(KEY.slice(-20)) && !shown.includes(header.slice(-20)), shown);
});

test("the token is cached, shared by concurrent callers, and renewed before expiry", async () => {
  // Start 100 s in the past so both tokens are still valid at the real edge.
  let now = Date.now() - 100_000;
  const provider = new TokenProvider(KEY, { audience: EDGE, lifetimeSeconds: 120, refreshMarginSeconds: 30, now: () => now });
  const first = await provider.getToken();
  const together = await Promise.all(Array.from({ length: 20 }, () => provider.getToken()));
  assert.ok(together.every((t) => t === first));
  now += 89_000;
  assert.equal(await provider.getToken(), first, "still cached 31 s before expiry");
  now += 1_000;
  const second = await provider.getToken();
  assert.notEqual(second, first, "renewed 30 s before expiry");
  assert.equal(claims(second).iat, Math.floor(now / 1000));
  assert.notEqual(claims(second).jti, claims(first).jti);
  for (const token of [first, second]) await throughEdge(`Bearer ${token}`);

  // Defaults: 300 s tokens, renewed at 80% (240 s).
  let t = Math.floor(Date.now() / 1000) * 1000; // whole seconds: iat is in seconds
  const defaults = new TokenProvider(KEY, { audience: EDGE, now: () => t });
  const a = await defaults.getToken();
  assert.equal(claims(a).exp - claims(a).iat, 300);
  t += 239_999;
  assert.equal(await defaults.getToken(), a);
  t += 1;
  assert.notEqual(await defaults.getToken(), a);
});

test("malformed and unusable keys are refused at construction with a KeyError", () => {
  const refused = (key, options, code) =>
    assert.throws(
      () => new TokenProvider(key, { audience: EDGE, ...options }),
      (e) => e instanceof KeyError && e.code === code && !e.message.includes(key.slice(12)),
      code,
    );
  refused("kg_sk_live_nope", {}, "malformed_key");
  refused("not a key at all", {}, "malformed_key");
  const typo = KEY.slice(0, 30) + (KEY[30] === "a" ? "b" : "a") + KEY.slice(31);
  refused(typo, {}, "checksum_mismatch");
  refused(env("KEYGATE_PUBLISHABLE_KEY"), {}, "not_signable");
  refused(env("KEYGATE_LEGACY_KEY"), {}, "legacy_key_needs_client_id");
  refused(KEY, { clientId: "cl_someoneelse" }, "client_id_mismatch");
  assert.throws(() => new TokenProvider(KEY, {}), TypeError, "audience is required");
  assert.throws(() => new TokenProvider(KEY, { audience: EDGE, lifetimeSeconds: 60, refreshMarginSeconds: 60 }), RangeError);
});

test("a legacy key works with its client id", async () => {
  const provider = new TokenProvider(env("KEYGATE_LEGACY_KEY"), { audience: EDGE, clientId: env("KEYGATE_LEGACY_CLIENT_ID") });
  const echo = await throughEdge(await provider.authorizationHeader());
  assert.equal(echo.headers["x-keygate-client-id"], env("KEYGATE_LEGACY_CLIENT_ID"));
  assert.equal(echo.headers["x-keygate-auth"], "jwt");
  // The client id matters: naming another (real) client, the token is refused.
  const wrong = new TokenProvider(env("KEYGATE_LEGACY_KEY"), { audience: EDGE, clientId: CLIENT });
  const response = await fetch(`${EDGE}/sdk-js/orders`, { headers: { authorization: await wrong.authorizationHeader() } });
  assert.equal(response.status, 401);
  assert.equal((await response.json()).error.code, "invalid_token");
});

test("origin signatures from the real edge verify, and are refused when tampered with", async () => {
  const provider = new TokenProvider(KEY, { audience: EDGE });
  for (const authorization of [await provider.authorizationHeader(), `Bearer ${KEY}`]) {
    const echo = await throughEdge(authorization);
    const headers = keygateHeaders(echo);
    const options = { secret: SECRET, method: echo.method, path: echo.path };
    const identity = verifyEdgeRequest(headers, options);
    assert.deepEqual(
      { ...identity },
      {
        clientId: CLIENT,
        keyId: provider.keyId,
        env: "live",
        keyType: "secret",
        auth: authorization === `Bearer ${KEY}` ? "static" : "jwt",
      },
    );
    // As a Fetch Request (method and path taken from it; the query is not signed).
    const request = new Request(`http://origin.example${echo.path}?other=query`, { method: echo.method, headers });
    assert.deepEqual(verifyEdgeRequest(request, { secret: SECRET }), identity);

    const refused = (input, opts, code) =>
      assert.throws(() => verifyEdgeRequest(input, opts), (e) => e instanceof EdgeSignatureError && e.code === code, code);
    refused({ ...headers, "x-keygate-client-id": "cl_someoneelse" }, options, "invalid");
    refused({ ...headers, "x-keygate-key-type": "publishable" }, options, "invalid");
    refused(headers, { ...options, path: "/sdk-js/admin" }, "invalid");
    refused(headers, { ...options, secret: `${SECRET}x` }, "invalid");
    refused(headers, { ...options, now: () => Date.now() + 400_000 }, "stale");
    const { "x-keygate-signature": _, ...unsigned } = headers;
    refused(unsigned, options, "missing");
    refused(new Request(`http://origin.example/sdk-js/elsewhere`, { headers }), { secret: SECRET }, "invalid");
  }
});

test("a Node http origin checks the IncomingMessage itself", async () => {
  const seen = [];
  const server = createServer((req, res) => {
    try {
      seen.push({ ok: verifyEdgeRequest(req, { secret: SECRET }) });
    } catch (e) {
      seen.push({ error: e.code });
    }
    res.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const echo = await throughEdge(`Bearer ${KEY}`);
    const origin = `http://127.0.0.1:${server.address().port}`;
    const headers = keygateHeaders(echo);
    await fetch(`${origin}${echo.path}?q=1`, { headers });
    await fetch(`${origin}/sdk-js/other`, { headers });
    await fetch(`${origin}${echo.path}`);
    assert.equal(seen[0].ok?.clientId, CLIENT, JSON.stringify(seen));
    assert.deepEqual(seen.slice(1), [{ error: "invalid" }, { error: "missing" }]);
  } finally {
    server.close();
  }
});
