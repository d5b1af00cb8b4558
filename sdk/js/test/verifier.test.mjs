// The Verifier against the real POST /v1/verify: the same verdicts and codes
// as the real edge for the same credentials, and its errors typed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TokenProvider, Verifier, VerifyError } from "@keygate/sdk";

function env(name) {
  const value = process.env[name];
  assert.ok(value, `${name} is set`);
  return value;
}
const EDGE = env("KEYGATE_EDGE_URL");
const KEY = env("KEYGATE_ACCESS_KEY");
const CLIENT = env("KEYGATE_CLIENT_ID");

// What the edge answers for `credential` on `method` `path`: "valid" or its error code.
async function edgeCode(credential, method, path) {
  const response = await fetch(`${EDGE}${path}`, { method, headers: { authorization: `Bearer ${credential}` } });
  const body = await response.json();
  return response.status === 200 ? "valid" : body.error.code;
}

test("the Verifier's verdicts are the edge's, for keys and tokens", async () => {
  const verifier = new Verifier({ url: env("KEYGATE_CONTROL_PLANE_URL"), verifyKey: env("KEYGATE_VERIFY_KEY") });
  const provider = new TokenProvider(KEY, { audience: EDGE });
  const token = await provider.getToken();

  const key = await verifier.verify(KEY, { method: "GET", path: "/sdk-js/orders" });
  assert.deepEqual(
    [key.valid, key.code, key.clientId, key.keyId, key.env, key.keyType, key.auth],
    [true, "valid", CLIENT, provider.keyId, "live", "secret", "static"],
  );
  const jwt = await verifier.verify(token, { method: "GET", path: "/sdk-js/orders", audience: EDGE });
  assert.deepEqual([jwt.valid, jwt.auth, jwt.clientId], [true, "jwt", CLIENT]);

  const typo = KEY.slice(0, 30) + (KEY[30] === "a" ? "b" : "a") + KEY.slice(31);
  const cases = [
    [KEY, "GET", "/sdk-js/orders"],
    [typo, "GET", "/sdk-js/orders"],
    [env("KEYGATE_REVOKED_KEY"), "GET", "/sdk-js/orders"],
    [env("KEYGATE_PUBLISHABLE_KEY"), "GET", "/sdk-js/orders"],
    [env("KEYGATE_PUBLISHABLE_KEY"), "POST", "/sdk-js/orders"],
    [`${token.slice(0, -2)}AA`, "GET", "/sdk-js/orders"],
    ["not-a-credential", "GET", "/"],
  ];
  const codes = new Set();
  for (const [credential, method, path] of cases) {
    const verdict = await verifier.verify(credential, { method, path, audience: EDGE });
    const edge = await edgeCode(credential, method, path);
    assert.equal(verdict.code, edge, `${method} ${path}`);
    assert.equal(verdict.valid, edge === "valid");
    codes.add(edge);
  }
  assert.ok(codes.size >= 4, `the cases cover several codes: ${[...codes]}`);
});

test("a wrong verify key is a VerifyError, not a verdict", async () => {
  const verifier = new Verifier({ url: env("KEYGATE_CONTROL_PLANE_URL"), verifyKey: KEY });
  await assert.rejects(verifier.verify(KEY), (e) => e instanceof VerifyError && e.code === "unauthorized");
  const down = new Verifier({ url: "http://127.0.0.1:9", verifyKey: env("KEYGATE_VERIFY_KEY") });
  await assert.rejects(down.verify(KEY), (e) => e instanceof VerifyError && e.code === "transport");
});
