// shared's golden vectors through the installed package: every SDK parses,
// mints and verifies exactly what shared does (KEYGATE_VECTORS_DIR =
// shared/tests/vectors).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { EdgeSignatureError, KeyError, mintToken, parseKey, verifyEdgeRequest } from "@keygate/sdk";

const dir = process.env.KEYGATE_VECTORS_DIR;
assert.ok(dir, "KEYGATE_VECTORS_DIR is set");
const vectors = (name) => JSON.parse(readFileSync(join(dir, name), "utf8")).vectors;

test("keys.json: every key parses to its parts; a typo is refused", () => {
  const keys = vectors("keys.json");
  assert.ok(keys.length >= 10);
  for (const v of keys) {
    assert.deepEqual({ ...parseKey(v.key) }, { keyId: v.key_id, clientId: v.client_id, env: v.env, keyType: v.key_type }, v.name);
    const typo = v.key.slice(0, -1) + (v.key.endsWith("a") ? "b" : "a");
    assert.throws(() => parseKey(typo), (e) => e instanceof KeyError && ["checksum_mismatch", "malformed_key"].includes(e.code));
  }
});

test("tokens.json: tokens reproduced byte for byte from fixed iat and jti", () => {
  const tokens = vectors("tokens.json");
  assert.ok(tokens.length >= 4);
  for (const v of tokens) {
    const token = mintToken(v.key, {
      audience: v.mint.audience,
      issuedAt: v.mint.issued_at,
      lifetimeSeconds: v.mint.ttl,
      jti: v.mint.jti,
      clientId: v.mint.client_id,
    });
    assert.equal(token, v.token, v.key_name);
  }
  // A legacy key needs its client id; the vectors name it.
  const legacy = tokens.find((v) => parseKey(v.key).clientId === null);
  assert.ok(legacy, "a legacy vector exists");
  assert.throws(
    () => mintToken(legacy.key, { audience: "a", issuedAt: 1, lifetimeSeconds: 1, jti: "j" }),
    (e) => e instanceof KeyError && e.code === "legacy_key_needs_client_id",
  );
});

test("origin.json: signatures verify, and refuse when stale or tampered with", () => {
  const all = vectors("origin.json");
  assert.ok(all.length >= 3);
  for (const v of all) {
    const id = v.identity;
    const headers = {
      "x-keygate-signature": v.header,
      "x-keygate-client-id": id.client_id,
      "x-keygate-key-id": id.key_id,
      "x-keygate-env": id.env,
      "x-keygate-key-type": id.key_type,
      "x-keygate-auth": id.auth,
    };
    const at = (seconds) => () => seconds * 1000;
    const options = { secret: v.secret, method: id.method, path: id.path, now: at(v.timestamp + 5) };
    assert.deepEqual(
      { ...verifyEdgeRequest(headers, options) },
      { clientId: id.client_id, keyId: id.key_id, env: id.env, keyType: id.key_type, auth: id.auth },
      v.note,
    );
    // The same through a Headers object (mixed-case names are fine).
    assert.equal(verifyEdgeRequest(new Headers(headers), options).keyId, id.key_id);
    const refused = (input, opts, code) =>
      assert.throws(() => verifyEdgeRequest(input, opts), (e) => e instanceof EdgeSignatureError && e.code === code);
    refused(headers, { ...options, now: at(v.timestamp + 301) }, "stale");
    refused(headers, { ...options, now: at(v.timestamp + 31), maxAgeSeconds: 30 }, "stale");
    refused(headers, { ...options, secret: "another-secret" }, "invalid");
    refused(headers, { ...options, path: `${id.path}x` }, "invalid");
    refused(headers, { ...options, method: id.method === "GET" ? "POST" : "GET" }, "invalid");
    refused({ ...headers, "x-keygate-client-id": "cl_someoneelse" }, options, "invalid");
    refused({ ...headers, "x-keygate-auth": id.auth === "jwt" ? "static" : "jwt" }, options, "invalid");
    refused({ ...headers, "x-keygate-signature": v.header.replace("v1=", "v2=") }, options, "invalid");
    const { "x-keygate-signature": _, ...unsigned } = headers;
    refused(unsigned, options, "missing");
  }
});
